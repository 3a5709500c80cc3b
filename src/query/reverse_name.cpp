#include "query/reverse_name.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

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

constexpr std::size_t kV4Labels = 4;
constexpr std::size_t kV6Labels = 32;

// The wire bytes after the address labels, root included: the suffixes aardvark matches (in
// lowercase only).
constexpr std::array<std::uint8_t, 14> kV4Tail = {7,   'i', 'n', '-', 'a', 'd', 'd',
                                                  'r', 4,   'a', 'r', 'p', 'a', 0};
constexpr std::array<std::uint8_t, 10> kV6Tail = {3, 'i', 'p', '6', 4, 'a', 'r', 'p', 'a', 0};

template <std::size_t N>
bool has_tail(std::span<const std::uint8_t> wire, std::size_t at,
              const std::array<std::uint8_t, N>& tail) noexcept {
    return wire.size() >= at + N &&
           std::equal(tail.begin(), tail.end(), wire.begin() + static_cast<std::ptrdiff_t>(at));
}

constexpr std::uint8_t kNotHex = 0xff;

// Each byte's hex digit value, kNotHex for any other byte: a reverse IPv6 name has 32 digits to
// read, and a lookup is one load where the comparisons were up to six branches.
constexpr std::array<std::uint8_t, 256> kHexValue = [] {
    std::array<std::uint8_t, 256> table{};
    table.fill(kNotHex);
    for (std::uint8_t digit = 0; digit < 10; ++digit) {
        table.at('0' + digit) = digit;
    }
    for (std::uint8_t letter = 0; letter < 6; ++letter) {
        table.at('a' + letter) = static_cast<std::uint8_t>(10 + letter);
        table.at('A' + letter) = static_cast<std::uint8_t>(10 + letter);
    }
    return table;
}();

// 32 one-byte labels, least significant nibble first, then ip6.arpa.
std::optional<base::IpAddress> canonical_v6(std::span<const std::uint8_t> wire) noexcept {
    if (!has_tail(wire, 2 * kV6Labels, kV6Tail)) {
        return std::nullopt;
    }
    std::array<std::uint8_t, 16> bytes{};
    // Labels 2j and 2j + 1 are the low and the high nibble of byte 15 - j.
    for (std::size_t j = 0; j < bytes.size(); ++j) {
        const auto labels = wire.subspan(4 * j, 4);
        const std::uint8_t low = kHexValue.at(labels[1]);
        const std::uint8_t high = kHexValue.at(labels[3]);
        if (labels[0] != 1 || labels[2] != 1 || low == kNotHex || high == kNotHex) {
            return std::nullopt;
        }
        bytes.at(bytes.size() - 1 - j) = static_cast<std::uint8_t>((high << 4) | low);
    }
    return base::IpAddress::v6(bytes);
}

// Four decimal octets as inet_pton reads them (1-3 digits, no leading zero, at most 255), last
// first, then in-addr.arpa.
std::optional<base::IpAddress> canonical_v4(std::span<const std::uint8_t> wire) noexcept {
    std::array<std::uint8_t, 4> bytes{};
    std::size_t at = 0;
    for (std::size_t i = 0; i < kV4Labels; ++i) {
        const std::size_t length = at < wire.size() ? wire[at] : 0;
        if (length == 0 || length > 3 || at + 1 + length > wire.size() ||
            (length > 1 && wire[at + 1] == '0')) {
            return std::nullopt;
        }
        unsigned value = 0;
        for (std::size_t k = at + 1; k <= at + length; ++k) {
            if (wire[k] < '0' || wire[k] > '9') {
                return std::nullopt;
            }
            value = value * 10 + (wire[k] - '0');
        }
        if (value > 255) {
            return std::nullopt;
        }
        bytes.at(kV4Labels - 1 - i) = static_cast<std::uint8_t>(value);
        at += 1 + length;
    }
    if (!has_tail(wire, at, kV4Tail)) {
        return std::nullopt;
    }
    return base::IpAddress::v4(bytes);
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

std::optional<base::IpAddress>
canonical_reverse_address(std::span<const std::uint8_t> wire) noexcept {
    if (!wire.empty() && wire.front() == 1) {
        if (auto address = canonical_v6(wire)) {
            return address;
        }
    }
    return canonical_v4(wire);
}

std::optional<base::IpAddress> reverse_address(const dns::Name& name) noexcept {
    if (auto address = canonical_reverse_address(name.wire())) {
        return address;
    }
    // Left uninitialised on purpose, as in the handler: format_text writes before any read.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
    std::array<char, dns::kMaxNameTextLength> text;
    return parse_reverse_name(name.format_text(text, false));
}

} // namespace query
