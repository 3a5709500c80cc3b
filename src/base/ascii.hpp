// base/: ASCII case folding, the one rule every case-insensitive comparison in ctrdns uses (DNS
// names per RFC 4343, network file IDs and names, log levels). Depends on nothing but std: the
// locale-aware <cctype> functions are avoided on purpose, since a locale must never change how a
// name matches.
#pragma once

#include <cstdint>

namespace base {

/// 'A'-'Z' to 'a'-'z'; every other byte, including non-ASCII ones, unchanged.
constexpr std::uint8_t ascii_lower(std::uint8_t byte) noexcept {
    return (byte >= 'A' && byte <= 'Z') ? static_cast<std::uint8_t>(byte + ('a' - 'A')) : byte;
}

/// The same rule for text.
constexpr char ascii_lower(char c) noexcept {
    return static_cast<char>(ascii_lower(static_cast<std::uint8_t>(c)));
}

} // namespace base
