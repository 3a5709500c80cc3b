// dns/: RFC 1035 wire-format constants. Pure values; no I/O, no asio, nothing from other modules.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dns {

enum class RecordType : std::uint16_t {
    A = 1,
    Ns = 2,
    Cname = 5,
    Soa = 6,
    Ptr = 12,
    Mx = 15,
    Txt = 16,
    Aaaa = 28,
    Srv = 33,
    Opt = 41,
    Any = 255
};

enum class Rcode : std::uint8_t {
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NxDomain = 3,
    NotImp = 4,
    Refused = 5,
    BadVers = 16 // RFC 6891 §9: 12-bit; the upper 8 bits travel in the OPT record
};

/// The EDNS version ctrdns implements (RFC 6891): replies carry it; a higher one gets BADVERS.
inline constexpr std::uint8_t kEdnsVersion = 0;

enum class Opcode : std::uint8_t {
    Query = 0,
    IQuery = 1,
    Status = 2,
    Notify = 4,
    Update = 5
};

enum class RecordClass : std::uint16_t {
    In = 1,
    Ch = 3,
    Any = 255
};

/// How a DNS message travels (RFC 1035 §4.2): the client's choice, which the reply size limit and
/// the upstream relay follow.
enum class Transport {
    Udp,
    Tcp
};

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kMaxNameWireLength = 255; // RFC 1035 §2.3.4
inline constexpr std::size_t kMaxLabelLength = 63;
inline constexpr std::size_t kMaxLabels = 128;
inline constexpr std::size_t kMinUdpPayload = 512;    // RFC 1035 §4.2.1
inline constexpr std::size_t kMaxUdpPayload = 4096;   // our receive buffer and EDNS ceiling
inline constexpr std::size_t kMaxMessageSize = 65535; // TCP length prefix limit

} // namespace dns
