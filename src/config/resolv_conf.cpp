#include "config/resolv_conf.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "config/text_input.hpp"

#include <net/if.h>

namespace config {

namespace {

constexpr std::size_t kMaxServers = 3;
constexpr std::string_view kNameserver = "nameserver";

// Decodes the code point starting at text[i] (text is valid UTF-8) and its length in bytes.
std::pair<char32_t, std::size_t> decode_at(std::string_view text, std::size_t i) noexcept {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 1;
    char32_t value = lead;
    if (lead >= 0xF0) {
        length = 4;
        value = lead & 0x07U;
    } else if (lead >= 0xE0) {
        length = 3;
        value = lead & 0x0FU;
    } else if (lead >= 0xC0) {
        length = 2;
        value = lead & 0x1FU;
    }
    if (length > text.size() - i) {
        return {lead, 1}; // cannot happen on validated text; stay in bounds regardless
    }
    for (std::size_t k = 1; k < length; ++k) {
        value = (value << 6U) | (static_cast<unsigned char>(text[i + k]) & 0x3FU);
    }
    return {value, length};
}

// Rust's char::is_whitespace (the Unicode White_Space property), which split_whitespace uses.
bool is_unicode_whitespace(char32_t c) noexcept {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

// The first two whitespace-separated tokens of `line`; the second may be empty (absent).
std::pair<std::string_view, std::string_view> first_two_tokens(std::string_view line) noexcept {
    std::array<std::string_view, 2> tokens{};
    std::size_t found = 0;
    std::size_t i = 0;
    std::size_t token_start = std::string_view::npos;
    while (i < line.size() && found < 2) {
        const auto [code_point, length] = decode_at(line, i);
        if (is_unicode_whitespace(code_point)) {
            if (token_start != std::string_view::npos) {
                tokens.at(found++) = line.substr(token_start, i - token_start);
                token_start = std::string_view::npos;
            }
        } else if (token_start == std::string_view::npos) {
            token_start = i;
        }
        i += length;
    }
    if (found < 2 && token_start != std::string_view::npos) {
        tokens.at(found++) = line.substr(token_start);
    }
    return {tokens[0], tokens[1]};
}

// Rust's u32::from_str: an optional '+', then one or more ASCII digits, no overflow.
std::optional<std::uint32_t> parse_u32(std::string_view text) noexcept {
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
    }
    if (text.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
        if (value > UINT32_MAX) {
            return std::nullopt;
        }
    }
    return static_cast<std::uint32_t>(value);
}

// One `nameserver` token; on failure the message that fails the whole read.
std::optional<base::Nameserver>
parse_server(std::string_view token, const InterfaceIndexLookup& lookup, std::string& error) {
    std::string_view address_text = token;
    std::uint32_t scope_id = 0;
    bool has_zone = false;
    if (const std::size_t percent = token.find('%'); percent != std::string_view::npos) {
        has_zone = true;
        address_text = token.substr(0, percent);
        const std::string_view zone = token.substr(percent + 1);
        if (const auto numeric = parse_u32(zone)) {
            scope_id = *numeric;
        } else {
            const auto index = lookup ? lookup(zone) : std::nullopt;
            if (!index) {
                error = "resolve scope id: IO error: No such device (os error 19)";
                return std::nullopt;
            }
            scope_id = *index;
        }
    }
    const auto address = base::IpAddress::parse(address_text);
    if (!address) {
        error = fmt::format("{}: parse address: invalid IP address syntax", token);
        return std::nullopt;
    }
    if (address->is_v4() && has_zone) {
        error = "scope id not supported for ipv4 address";
        return std::nullopt;
    }
    return base::Nameserver{*address, scope_id};
}

ResolvConfResult failure(std::string message) {
    ResolvConfResult result;
    result.error = std::move(message);
    return result;
}

} // namespace

std::optional<std::uint32_t> system_interface_index(std::string_view name) {
    // if_nametoindex needs a C string; a name with a NUL or longer than IFNAMSIZ cannot exist.
    if (name.empty() || name.size() >= IF_NAMESIZE || name.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    const std::string name_z(name);
    const unsigned int index = ::if_nametoindex(name_z.c_str());
    if (index == 0) {
        return std::nullopt;
    }
    return index;
}

ResolvConfResult parse_resolv_conf(std::string_view text, const InterfaceIndexLookup& lookup) {
    if (!is_valid_utf8(text)) {
        return failure("stream did not contain valid UTF-8");
    }
    ResolvConfResult result;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t newline = text.find('\n', start);
        const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        if (const std::size_t comment = line.find_first_of("#;");
            comment != std::string_view::npos) {
            line = line.substr(0, comment);
        }
        const auto [keyword, server] = first_two_tokens(line);
        if (keyword != kNameserver || server.empty()) {
            continue;
        }
        std::string error;
        const auto parsed = parse_server(server, lookup, error);
        if (!parsed) {
            return failure(std::move(error));
        }
        // Every line is still parsed after the third server: a bad one anywhere fails the read.
        if (result.servers.size() < kMaxServers) {
            result.servers.push_back(*parsed);
        }
    }
    return result;
}

ResolvConfResult read_resolv_conf(const std::string& path, const InterfaceIndexLookup& lookup) {
    // O_NONBLOCK: a FIFO put in place of the file must not hang the daemon's reload.
    const base::UniqueFd fd(
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): POSIX open has no other form
        ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd.valid()) {
        return failure(fmt::format("open {}: {}", path, base::os_error_text(errno)));
    }

    struct stat info {};

    if (::fstat(fd.get(), &info) != 0) {
        return failure(fmt::format("stat {}: {}", path, base::os_error_text(errno)));
    }
    if (S_ISDIR(info.st_mode) || S_ISFIFO(info.st_mode) || S_ISSOCK(info.st_mode)) {
        return failure(fmt::format("read {}: not a regular file", path));
    }
    const base::Result<std::string> text = read_capped(fd.get(), kMaxTextFileSize);
    if (!text && text.error().os_error() == kTooLarge) {
        return failure(
            fmt::format("read {}: larger than {} MiB", path, kMaxTextFileSize / kMebibyte));
    }
    if (!text) {
        return failure(fmt::format("read {}: {}", path, text.error()));
    }
    return parse_resolv_conf(*text, lookup);
}

} // namespace config
