// dns/: parsing an incoming query. Pure function over untrusted bytes: no I/O, no asio, no throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "dns/header.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"

namespace dns {

struct Question {
    Name name;
    std::uint16_t type = 0;  // compare with static_cast<std::uint16_t>(RecordType::X)
    std::uint16_t klass = 0; // RFC spelling "QCLASS"; any value is accepted
};

/// The OPT pseudo-record of the request (RFC 6891), kept so the response can echo it.
struct Edns {
    std::uint16_t udp_payload_size = 0; // as sent; may be < 512
    std::uint8_t extended_rcode = 0;
    std::uint8_t version = 0;
    std::uint16_t flags = 0;        // DO is 0x8000
    std::size_t options_offset = 0; // RDATA (the options) inside the request bytes
    std::size_t options_length = 0;
};

struct Query {
    Header header;
    Question question;               // the only question
    std::size_t question_offset = 0; // where the first question starts in the request (12)
    std::size_t question_end = 0;    // one past its QCLASS
    std::optional<Edns> edns;

    /// The UDP response size this client accepts: max(512, EDNS size) capped at kMaxUdpPayload.
    std::size_t udp_response_limit() const noexcept;
};

enum class ParseStatus {
    Ok,      // `out` is complete
    FormErr, // header readable, rest malformed: reply FORMERR (out.header is valid)
    Drop     // not worth a reply: shorter than a header, or QR=1 (a response, never answer it)
};

/// Parses the header, the first question and the OPT record of the additional section.
/// QDCOUNT other than 1 is FormErr (RFC 9619: a query holds exactly one question). Answer and
/// authority records are skipped with bounds checks; a second OPT is FormErr. Never throws; never
/// reads outside `packet`.
ParseStatus parse_query(std::span<const std::uint8_t> packet, Query& out) noexcept;

} // namespace dns
