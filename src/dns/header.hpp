// dns/: the 12-byte DNS header as a value type with named flag accessors (no bitfields).
#pragma once

#include <cstdint>

#include "dns/types.hpp"

namespace dns {

class WireReader;
class WireWriter;

/// RFC 1035 §4.1.1 header. `flags` holds the 16-bit word QR|Opcode|AA|TC|RD|RA|Z|AD|CD|RCODE.
struct Header {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::uint16_t qdcount = 0;
    std::uint16_t ancount = 0;
    std::uint16_t nscount = 0;
    std::uint16_t arcount = 0;

    static constexpr std::uint16_t kQr = 0x8000;
    static constexpr std::uint16_t kAa = 0x0400;
    static constexpr std::uint16_t kTc = 0x0200;
    static constexpr std::uint16_t kRd = 0x0100;
    static constexpr std::uint16_t kRa = 0x0080;
    static constexpr std::uint16_t kZ = 0x0040;
    static constexpr std::uint16_t kAd = 0x0020;
    static constexpr std::uint16_t kCd = 0x0010;

    bool is_response() const noexcept { return (flags & kQr) != 0; }

    bool is_truncated() const noexcept { return (flags & kTc) != 0; }

    bool wants_recursion() const noexcept { return (flags & kRd) != 0; }

    Opcode opcode() const noexcept { return static_cast<Opcode>((flags >> 11) & 0x0f); }

    Rcode rcode() const noexcept { return static_cast<Rcode>(flags & 0x0f); }

    void set_flag(std::uint16_t mask, bool on) noexcept {
        flags = static_cast<std::uint16_t>(on ? (flags | mask) : (flags & ~mask));
    }

    void set_rcode(Rcode rcode) noexcept {
        flags = static_cast<std::uint16_t>((flags & 0xfff0) |
                                           (static_cast<std::uint16_t>(rcode) & 0x0f));
    }

    /// Reads 12 bytes; on a short buffer the reader fails and the header is meaningless.
    static Header read(WireReader& reader) noexcept;

    void write(WireWriter& writer) const noexcept;
};

} // namespace dns
