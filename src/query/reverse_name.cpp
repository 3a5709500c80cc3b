#include "query/reverse_name.hpp"

#include <array>
#include <cstddef>

namespace query {

namespace {

constexpr std::string_view kV4Suffix = ".in-addr.arpa.";
constexpr std::string_view kV6Suffix = ".ip6.arpa.";

// Longer than any address text IpAddress::parse accepts, so a longer result fails either way.
constexpr std::size_t kMaxAddressText = 64;

class TextBuffer {
public:
    bool append(std::string_view text) noexcept {
        if (text.size() > buffer_.size() - size_) {
            overflow_ = true;
            return false;
        }
        text.copy(buffer_.data() + size_, text.size());
        size_ += text.size();
        return true;
    }

    std::optional<base::IpAddress> parse() const noexcept {
        if (overflow_) {
            return std::nullopt;
        }
        return base::IpAddress::parse(std::string_view(buffer_.data(), size_));
    }

private:
    std::array<char, kMaxAddressText> buffer_{};
    std::size_t size_ = 0;
    bool overflow_ = false;
};

// Calls `visit(label, index)` for the '.'-separated labels of `text` from last to first.
template <typename Visit>
void for_each_label_reversed(std::string_view text, Visit visit) noexcept {
    std::size_t index = 0;
    std::size_t end = text.size();
    while (true) {
        const std::size_t dot = text.rfind('.', end == 0 ? 0 : end - 1);
        const bool last = dot == std::string_view::npos || end == 0;
        const std::size_t begin = last ? 0 : dot + 1;
        if (!visit(text.substr(begin, end - begin), index++)) {
            return;
        }
        if (last) {
            return;
        }
        end = dot;
    }
}

} // namespace

std::optional<base::IpAddress> parse_reverse_name(std::string_view text) noexcept {
    TextBuffer address;
    if (text.ends_with(kV4Suffix)) {
        text.remove_suffix(kV4Suffix.size());
        for_each_label_reversed(text, [&](std::string_view label, std::size_t index) {
            return (index == 0 || address.append(".")) && address.append(label);
        });
        return address.parse();
    }
    if (text.ends_with(kV6Suffix)) {
        text.remove_suffix(kV6Suffix.size());
        // aardvark puts a ':' after labels 3, 7, ..., 27 (counted from 0), never after the 32nd.
        for_each_label_reversed(text, [&](std::string_view label, std::size_t index) {
            return address.append(label) && (index % 4 != 3 || index >= 31 || address.append(":"));
        });
        return address.parse();
    }
    return std::nullopt;
}

} // namespace query
