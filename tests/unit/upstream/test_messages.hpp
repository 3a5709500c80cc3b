// Test helper for tests/unit/upstream: DNS queries and upstream answers assembled byte by byte,
// independently of the code under test, so the tests state the exact wire bytes they mean.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace upstream::test {

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeSoa = 6;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint16_t kFlagQr = 0x8000;
inline constexpr std::uint16_t kFlagTc = 0x0200;
inline constexpr std::uint16_t kFlagRd = 0x0100;
inline constexpr std::uint16_t kFlagRa = 0x0080;
inline constexpr std::uint16_t kFlagAd = 0x0020;
inline constexpr std::uint16_t kFlagCd = 0x0010;
inline constexpr std::uint16_t kRcodeNxDomain = 3;
inline constexpr std::uint16_t kRcodeServFail = 2;
inline constexpr std::uint16_t kRcodeRefused = 5;

class Message {
public:
    Message& u8(unsigned value) {
        bytes_.push_back(static_cast<std::uint8_t>(value));
        return *this;
    }

    Message& u16(unsigned value) { return u8((value >> 8) & 0xff).u8(value & 0xff); }

    Message& u32(std::uint32_t value) { return u16(value >> 16).u16(value & 0xffff); }

    Message& raw(std::initializer_list<unsigned> values) {
        for (const unsigned value : values) {
            u8(value);
        }
        return *this;
    }

    Message& header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                    unsigned ar) {
        return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
    }

    Message& name(std::string_view text) {
        while (!text.empty() && text != ".") {
            const auto dot = text.find('.');
            const auto label = text.substr(0, dot);
            u8(static_cast<unsigned>(label.size()));
            for (const char c : label) {
                u8(static_cast<unsigned char>(c));
            }
            text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
        }
        return u8(0);
    }

    Message& question(std::string_view qname, unsigned type, unsigned klass = 1) {
        return name(qname).u16(type).u16(klass);
    }

    /// An A record whose owner points at the question name (offset 12).
    Message& a_record(std::uint32_t ttl, std::initializer_list<unsigned> address) {
        u16(0xc00c).u16(kTypeA).u16(1).u32(ttl).u16(4);
        return raw(address);
    }

    /// An SOA for the authority section: MNAME/RNAME point at the qname.
    Message& soa_record(std::uint32_t ttl, std::uint32_t minimum) {
        u16(0xc00c).u16(kTypeSoa).u16(1).u32(ttl).u16(24);
        return u16(0xc00c).u16(0xc00c).u32(1).u32(7200).u32(900).u32(1209600).u32(minimum);
    }

    Message& opt(unsigned payload, std::uint32_t ttl,
                 std::initializer_list<unsigned> options = {}) {
        u8(0).u16(41).u16(payload).u32(ttl).u16(static_cast<unsigned>(options.size()));
        return raw(options);
    }

    std::size_t size() const { return bytes_.size(); }

    const std::vector<std::uint8_t>& bytes() const { return bytes_; }

    std::span<const std::uint8_t> span() const { return bytes_; }

private:
    std::vector<std::uint8_t> bytes_;
};

inline std::vector<std::uint8_t> make_query(std::string_view qname, unsigned type = kTypeA,
                                            unsigned id = 0x4242, unsigned flags = kFlagRd) {
    Message query;
    query.header(id, flags, 1, 0, 0, 0).question(qname, type);
    return query.bytes();
}

inline constexpr std::initializer_list<unsigned> kClientCookie = {0x00, 0x0a, 0x00, 0x08, 1, 2,
                                                                  3,    4,    5,    6,    7, 8};

/// A query with EDNS (payload 1232); `do_bit` sets DO, `cookie` adds a client COOKIE.
inline std::vector<std::uint8_t> make_edns_query(std::string_view qname, unsigned id, bool do_bit,
                                                 bool cookie) {
    Message query;
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

} // namespace upstream::test
