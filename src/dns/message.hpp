// dns/: parsing an incoming query. Pure function over untrusted bytes: no I/O, no asio, no throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "dns/edns.hpp"
#include "dns/header.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"

namespace dns {

struct Question {
    Name name;
    std::uint16_t type = 0;  // compare with static_cast<std::uint16_t>(RecordType::X)
    std::uint16_t klass = 0; // RFC spelling "QCLASS"; any value is accepted
};

struct Query {
    Header header;
    Question question;               // the only question
    std::size_t question_offset = 0; // where the first question starts in the request (12)
    std::size_t question_end = 0;    // one past its QCLASS
    std::optional<Edns> edns;        // the request's OPT record, so the response can echo it

    /// The UDP response size this client accepts (dns::udp_payload_limit).
    std::size_t udp_response_limit() const noexcept { return udp_payload_limit(edns); }
};

enum class ParseStatus {
    Ok,      // `out` is complete
    FormErr, // header readable, rest malformed: reply FORMERR (only out.header is meaningful)
    Drop     // not worth a reply: shorter than a header, or QR=1 (a response, never answer it)
};

/// Parses the header, the first question and the OPT record of the additional section.
/// QDCOUNT other than 1 is FormErr (RFC 9619: a query holds exactly one question). Answer and
/// authority records are skipped with bounds checks; a second OPT is FormErr. Never throws; never
/// reads outside `packet`.
ParseStatus parse_query(std::span<const std::uint8_t> packet, Query& out) noexcept;

} // namespace dns
