// Test helper for tests/unit/dns: assembles DNS messages byte by byte, independently of the
// WireWriter under test, so the tests state the exact wire bytes they mean.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace dns::test {

class Packet {
public:
    Packet& u8(unsigned value) {
        bytes_.push_back(static_cast<std::uint8_t>(value));
        return *this;
    }

    Packet& u16(unsigned value) {
        u8((value >> 8) & 0xff);
        return u8(value & 0xff);
    }

    Packet& u32(std::uint32_t value) {
        u16(value >> 16);
        return u16(value & 0xffff);
    }

    Packet& raw(std::initializer_list<unsigned> values) {
        for (const unsigned value : values) {
            u8(value);
        }
        return *this;
    }

    Packet& raw(std::string_view text) {
        for (const char c : text) {
            u8(static_cast<unsigned char>(c));
        }
        return *this;
    }

    Packet& header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                   unsigned ar) {
        return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
    }

    /// Uncompressed name from dotted text ("" or "." is the root); no escapes.
    Packet& name(std::string_view text) {
        while (!text.empty() && text != ".") {
            const auto dot = text.find('.');
            const auto label = text.substr(0, dot);
            u8(static_cast<unsigned>(label.size())).raw(label);
            text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
        }
        return u8(0);
    }

    Packet& question(std::string_view qname, unsigned type, unsigned klass = 1) {
        return name(qname).u16(type).u16(klass);
    }

    /// OPT record with a root owner; `options` is the raw RDATA.
    Packet& opt(unsigned payload, std::uint32_t ttl, std::initializer_list<unsigned> options = {}) {
        u8(0).u16(41).u16(payload).u32(ttl).u16(static_cast<unsigned>(options.size()));
        return raw(options);
    }

    std::size_t size() const { return bytes_.size(); }

    std::span<const std::uint8_t> span() const { return bytes_; }

    std::vector<std::uint8_t>& bytes() { return bytes_; }

private:
    std::vector<std::uint8_t> bytes_;
};

inline constexpr unsigned kTypeA = 1;
inline constexpr unsigned kTypePtr = 12;
inline constexpr unsigned kTypeAaaa = 28;

// What dig 9.18 sends by default: RD+AD, EDNS 1232 with an 8-byte client COOKIE.
inline constexpr unsigned kDigFlags = 0x0120;
inline constexpr std::initializer_list<unsigned> kDigCookieOption = {
    0x00, 0x0a, 0x00, 0x08, 0x5c, 0x1e, 0x9a, 0x41, 0x7b, 0x02, 0xd3, 0x66};

inline Packet dig_query(std::string_view qname, unsigned type, unsigned id = 0x1d2c) {
    Packet packet;
    packet.header(id, kDigFlags, 1, 0, 0, 1).question(qname, type).opt(1232, 0, kDigCookieOption);
    return packet;
}

inline Packet plain_query(std::string_view qname, unsigned type, unsigned flags = 0x0100,
                          unsigned id = 0x4242) {
    Packet packet;
    packet.header(id, flags, 1, 0, 0, 0).question(qname, type);
    return packet;
}

} // namespace dns::test
