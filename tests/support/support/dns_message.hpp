// Test support: DNS messages assembled byte by byte, independently of dns/'s reader and writer,
// so a test states the exact wire bytes it means. The one query builder of every unit test.
// Must not depend on any ctrdns library: it is the independent side of each comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace test_support {

using Bytes = std::vector<std::uint8_t>;

inline constexpr unsigned kTypeA = 1;
inline constexpr unsigned kTypeSoa = 6;
inline constexpr unsigned kTypePtr = 12;
inline constexpr unsigned kTypeAaaa = 28;
inline constexpr unsigned kFlagQr = 0x8000;
inline constexpr unsigned kFlagTc = 0x0200;
inline constexpr unsigned kFlagRd = 0x0100;
inline constexpr unsigned kFlagRa = 0x0080;
inline constexpr unsigned kFlagAd = 0x0020;
inline constexpr unsigned kFlagCd = 0x0010;
inline constexpr unsigned kRcodeServFail = 2;
inline constexpr unsigned kRcodeNxDomain = 3;
inline constexpr unsigned kRcodeRefused = 5;

class DnsMessage {
public:
    DnsMessage& u8(unsigned value) {
        bytes_.push_back(static_cast<std::uint8_t>(value));
        return *this;
    }

    DnsMessage& u16(unsigned value) { return u8((value >> 8) & 0xff).u8(value & 0xff); }

    DnsMessage& u32(std::uint32_t value) { return u16(value >> 16).u16(value & 0xffff); }

    DnsMessage& raw(std::initializer_list<unsigned> values) {
        for (const unsigned value : values) {
            u8(value);
        }
        return *this;
    }

    DnsMessage& raw(std::string_view text) {
        for (const char c : text) {
            u8(static_cast<unsigned char>(c));
        }
        return *this;
    }

    DnsMessage& header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                       unsigned ar) {
        return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
    }

    /// Uncompressed name from dotted text ("" or "." is the root, a trailing dot is optional);
    /// no escapes.
    DnsMessage& name(std::string_view text) {
        while (!text.empty() && text != ".") {
            const auto dot = text.find('.');
            const auto label = text.substr(0, dot);
            u8(static_cast<unsigned>(label.size())).raw(label);
            text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
        }
        return u8(0);
    }

    DnsMessage& question(std::string_view qname, unsigned type, unsigned klass = 1) {
        return name(qname).u16(type).u16(klass);
    }

    /// An A record whose owner points at the question name (offset 12).
    DnsMessage& a_record(std::uint32_t ttl, std::initializer_list<unsigned> address) {
        u16(0xc00c).u16(kTypeA).u16(1).u32(ttl).u16(4);
        return raw(address);
    }

    /// An SOA for the authority section: MNAME/RNAME point at the qname.
    DnsMessage& soa_record(std::uint32_t ttl, std::uint32_t minimum) {
        u16(0xc00c).u16(kTypeSoa).u16(1).u32(ttl).u16(24);
        return u16(0xc00c).u16(0xc00c).u32(1).u32(7200).u32(900).u32(1209600).u32(minimum);
    }

    /// OPT record with a root owner; `options` is the raw RDATA.
    DnsMessage& opt(unsigned payload, std::uint32_t ttl,
                    std::initializer_list<unsigned> options = {}) {
        u8(0).u16(41).u16(payload).u32(ttl).u16(static_cast<unsigned>(options.size()));
        return raw(options);
    }

    std::size_t size() const { return bytes_.size(); }

    std::span<const std::uint8_t> span() const { return bytes_; }

    const Bytes& bytes() const { return bytes_; }

    Bytes& bytes() { return bytes_; }

private:
    Bytes bytes_;
};

/// A query with one question of class IN and no other record; RD set unless `flags` says
/// otherwise. Callers append records (and raise ARCOUNT themselves) when they need them.
inline DnsMessage query_message(std::string_view qname, unsigned type = kTypeA,
                                unsigned id = 0x4242, unsigned flags = kFlagRd) {
    DnsMessage query;
    query.header(id, flags, 1, 0, 0, 0).question(qname, type);
    return query;
}

/// query_message's bytes, for the tests that only send them.
inline Bytes make_query(std::string_view qname, unsigned type = kTypeA, unsigned id = 0x4242,
                        unsigned flags = kFlagRd) {
    return query_message(qname, type, id, flags).bytes();
}

// What dig 9.18 sends by default: RD+AD, EDNS 1232 with an 8-byte client COOKIE.
inline constexpr unsigned kDigFlags = kFlagRd | kFlagAd;
inline constexpr std::initializer_list<unsigned> kDigCookieOption = {
    0x00, 0x0a, 0x00, 0x08, 0x5c, 0x1e, 0x9a, 0x41, 0x7b, 0x02, 0xd3, 0x66};

inline DnsMessage dig_query(std::string_view qname, unsigned type, unsigned id = 0x1d2c) {
    DnsMessage packet;
    packet.header(id, kDigFlags, 1, 0, 0, 1).question(qname, type).opt(1232, 0, kDigCookieOption);
    return packet;
}

inline constexpr std::initializer_list<unsigned> kClientCookie = {0x00, 0x0a, 0x00, 0x08, 1, 2,
                                                                  3,    4,    5,    6,    7, 8};

/// An A query with EDNS (payload 1232); `do_bit` sets DO, `cookie` adds a client COOKIE.
inline Bytes make_edns_query(std::string_view qname, unsigned id, bool do_bit, bool cookie) {
    DnsMessage query;
    query.header(id, kFlagRd, 1, 0, 0, 1).question(qname, kTypeA);
    query.opt(1232, do_bit ? 0x8000 : 0,
              cookie ? kClientCookie : std::initializer_list<unsigned>{});
    return query.bytes();
}

/// The 16-bit value at `offset`.
inline unsigned read_u16(std::span<const std::uint8_t> bytes, std::size_t offset) {
    return (unsigned{bytes[offset]} << 8) | bytes[offset + 1];
}

inline std::uint32_t read_u32(std::span<const std::uint8_t> bytes, std::size_t offset) {
    return (std::uint32_t{read_u16(bytes, offset)} << 16) | read_u16(bytes, offset + 2);
}

} // namespace test_support
