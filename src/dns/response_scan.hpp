// dns/: inspecting and patching whole messages that are relayed as bytes (upstream answers, cached
// answers). Pure functions over untrusted bytes: no I/O, no asio, no allocation, no throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "dns/edns.hpp"
#include "dns/header.hpp"
#include "dns/message.hpp"

namespace dns {

/// Facts gathered by one bounds-checked walk over a message.
struct MessageScan {
    Header header;
    std::optional<Question> question; // the first question, case preserved
    std::size_t question_end = 0;     // one past the last question's QCLASS

    /// Every record of the answer, authority and additional sections parsed within bounds.
    /// False for a message cut short (a sloppy TC answer) or with malformed records.
    bool complete = false;

    /// Records carrying a real TTL (OPT and TSIG excluded) found in all three sections; their
    /// TTL field offsets are written to the caller's span as far as it reaches.
    std::size_t ttl_count = 0;

    /// Smallest TTL over those records (RFC 2181 §8: a TTL with the top bit set counts as 0).
    std::optional<std::uint32_t> min_ttl;

    /// RFC 2308 §5: min(SOA TTL, SOA MINIMUM) of the first SOA in the authority section.
    std::optional<std::uint32_t> negative_ttl;

    /// The additional section's OPT record (RFC 6891), when the walk reached it.
    std::optional<Edns> edns;
};

/// Upper bound of the records a message of `message_size` bytes can hold (the smallest record is
/// 11 bytes), so a caller can size the TTL offset span before scanning.
std::size_t max_record_count(std::size_t message_size) noexcept;

/// Walks the header, every question and every record of `message`. Writes the offset of each
/// TTL field (OPT/TSIG excluded) into `ttl_offsets` in message order while it has room;
/// `out.ttl_count` tells how many there were. Returns false when the header or the question
/// section is malformed (then `out` is meaningless); a malformed record section only leaves
/// `out.complete` false. Compressed names are followed with the limits of `Name::read`.
bool scan_message(std::span<const std::uint8_t> message, MessageScan& out,
                  std::span<std::uint16_t> ttl_offsets = {}) noexcept;

/// What to do with a datagram received while waiting for the answer to `query`.
enum class ResponseCheck {
    Accept, // the answer: relay it
    Ignore, // not ours (other ID, other question): keep waiting
    Reject  // from the server but unusable (QR=0, malformed): this attempt failed
};

/// Judges `response` against the `query` that was sent (contract §5.3): a message shorter
/// than a header, with QR=0, with no question (QDCOUNT 0: nothing ties it to the query), or
/// whose sections do not parse fails; another ID or a question
/// section that is not a subset of the query's (names compared case-insensitively, at most 32
/// questions per side) is ignored. A TC response only needs its header and questions to parse.
ResponseCheck check_response(std::span<const std::uint8_t> query,
                             std::span<const std::uint8_t> response) noexcept;

/// ASCII case-insensitive equality of two names (label length bytes are below 'A').
bool names_equal_ignore_case(const Name& left, const Name& right) noexcept;

/// Whether the message's OPT record (per `scan`, from scan_message on `message`) carries an
/// option with `option_code`. False without OPT; the walk stops at a malformed option, so only
/// the whole options before it are looked at.
bool has_edns_option(std::span<const std::uint8_t> message, const MessageScan& scan,
                     std::uint16_t option_code) noexcept;

/// Lowers the OPT record's UDP payload size of a query to `max_size` when it is larger, so an
/// upstream keeps its UDP answer within what we receive whole. Returns whether it changed.
bool cap_edns_udp_size(std::span<std::uint8_t> message, std::uint16_t max_size) noexcept;

/// Writes into `out` the TC=1 reply that stands for a datagram too large to receive whole
/// (`prefix` is its first bytes): its header and question section, every other count 0, so
/// the client retries over TCP. Returns its length, 0 when the header or the question section
/// of `prefix` do not parse or `out` is too small.
std::size_t truncated_reply(std::span<const std::uint8_t> prefix,
                            std::span<std::uint8_t> out) noexcept;

/// Overwrites the message ID (no-op on a message shorter than 2 bytes).
void set_message_id(std::span<std::uint8_t> message, std::uint16_t id) noexcept;

/// The ID of a message, 0 when shorter than 2 bytes.
std::uint16_t message_id(std::span<const std::uint8_t> message) noexcept;

/// Contract §4.7: a forwarded response gets RA=1 when its RD is 1. No-op on a short message.
void set_recursion_available(std::span<std::uint8_t> message) noexcept;

/// Lowers each TTL at `ttl_offsets` by `elapsed_seconds`, stopping at 0 (RFC 1035 §7.3 for a
/// cache serving an aged answer). Offsets that do not fit in `message` are skipped.
void age_ttls(std::span<std::uint8_t> message, std::span<const std::uint16_t> ttl_offsets,
              std::uint32_t elapsed_seconds) noexcept;

/// Copies `message` into `out` without the OPT options whose code is `option_code` (e.g. a
/// COOKIE that belongs to one client), fixing the OPT RDLENGTH. Returns the new length, or 0
/// when the message has no well-formed OPT record, its options are malformed, or `out` is too
/// small. `scan` must come from scan_message on this `message`.
std::size_t copy_without_edns_option(std::span<const std::uint8_t> message, const MessageScan& scan,
                                     std::uint16_t option_code,
                                     std::span<std::uint8_t> out) noexcept;

} // namespace dns
