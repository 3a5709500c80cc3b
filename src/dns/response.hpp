// dns/: building responses into a caller-owned buffer. No I/O, no asio, no allocation, no throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/ip_address.hpp"
#include "dns/message.hpp"
#include "dns/types.hpp"
#include "dns/wire_writer.hpp"

namespace dns {

/// Builds the reply to one parsed query the way aardvark-dns shapes it (contract §4.7): same ID and
/// opcode, QR=1, AA/RD/AD/CD copied from the request, RA=1 when RD=1 (else copied), Z cleared;
/// the first question echoed byte for byte; the request's OPT echoed (payload size raised to 512
/// when lower, flags and options kept, version ours: 0) when it had one. An extended RCODE
/// (BADVERS) puts its upper bits in that OPT. Answer owners are a compression
/// pointer to the echoed question name, so they are the qname exactly as asked. TTL is 0.
///
/// `size_limit` is the largest message this transport may carry (Query::udp_response_limit() for
/// UDP, 65535 for TCP). When the answers would not fit, all answers are dropped and TC is set,
/// so the client retries over TCP (RFC 2181 §9).
class ResponseBuilder {
public:
    ResponseBuilder(std::span<std::uint8_t> out, std::span<const std::uint8_t> request,
                    const Query& query, std::size_t size_limit) noexcept;

    void set_rcode(Rcode rcode) noexcept;

    /// An A record for IPv4 and an AAAA record for IPv6.
    void add_address(const base::IpAddress& address) noexcept;

    /// A PTR record whose target is `target` (dot-separated labels, trailing dot optional; ""
    /// is the root). Targets that are not valid names are skipped.
    void add_ptr(std::string_view target) noexcept;

    /// Appends the OPT record, fixes the counts and returns the message length (0 only if `out`
    /// cannot hold even the header and question).
    std::size_t finish() noexcept;

private:
    WireWriter writer_;
    std::span<const std::uint8_t> request_;
    const Query& query_;
    std::size_t size_limit_;
    std::uint16_t answers_ = 0;
    Rcode rcode_ = Rcode::NoError; // all 12 bits; the header holds the low 4
    bool truncated_ = false;
    Header header_;
};

/// A header-only reply (QDCOUNT 0) with `rcode`, for requests whose question could not be parsed
/// (FORMERR) or cases with nothing to echo. Copies ID, opcode and RD from the first 4 bytes of
/// `request` (RA follows RD, as above); returns 0 when `request` or `out` is shorter than a header.
std::size_t build_header_only_reply(std::span<const std::uint8_t> request, Rcode rcode,
                                    std::span<std::uint8_t> out) noexcept;

} // namespace dns
