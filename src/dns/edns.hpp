// dns/: the OPT pseudo-record (RFC 6891) as one value type, and the one UDP payload size rule.
// Pure values over untrusted bytes: no I/O, no asio, no allocation, no throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace dns {

inline constexpr std::uint16_t kEdnsDoFlag = 0x8000;
inline constexpr std::uint16_t kEdnsOptionCookie = 10;      // RFC 7873
inline constexpr std::uint16_t kEdnsOptionClientSubnet = 8; // RFC 7871

/// The OPT record of a message's additional section (RFC 6891 §6.1.2), both for a query we answer
/// (its options are echoed) and for an upstream's answer we relay or cache. The options are kept
/// as offsets into the message so the value outlives no pointer.
struct Edns {
    std::uint16_t udp_payload_size = 0; // its CLASS field as sent; may be < 512
    std::uint8_t extended_rcode = 0;    // upper 8 bits of the 12-bit RCODE (RFC 6891 §6.1.3)
    std::uint8_t version = 0;
    std::uint16_t flags = 0;        // low 16 bits of its TTL field; DO is kEdnsDoFlag
    std::size_t options_offset = 0; // where its RDATA (the options) starts in the message
    std::size_t options_length = 0;

    /// The fields of an OPT record whose CLASS, TTL and RDATA position are given.
    static Edns from_record(std::uint16_t klass, std::uint32_t ttl, std::size_t rdata_offset,
                            std::size_t rdata_length) noexcept;

    bool dnssec_ok() const noexcept { return (flags & kEdnsDoFlag) != 0; }

    /// The options inside `message` (the message this record was read from); empty when they
    /// do not fit in it.
    std::span<const std::uint8_t> options(std::span<const std::uint8_t> message) const noexcept {
        if (options_offset > message.size() || options_length > message.size() - options_offset) {
            return {};
        }
        return message.subspan(options_offset, options_length);
    }

    /// RFC 6891 §6.1.2: whether the options split into whole {CODE, LENGTH, data} runs. A reply
    /// that copies them needs that.
    bool options_well_formed(std::span<const std::uint8_t> message) const noexcept;
};

/// CODE and LENGTH, the fixed part in front of each option's data (RFC 6891 §6.1.2).
inline constexpr std::size_t kEdnsOptionHeaderSize = 4;

/// One option of an OPT record's RDATA.
struct EdnsOption {
    std::uint16_t code = 0;
    std::span<const std::uint8_t> data; // its LENGTH bytes, inside the options span
    std::size_t offset = 0;             // where its CODE field starts, from the first option

    /// The option's bytes on the wire, header included.
    std::size_t wire_size() const noexcept { return kEdnsOptionHeaderSize + data.size(); }
};

enum class OptionStep : std::uint8_t {
    Option,   // `option` holds the next one
    End,      // every byte of the options was read as whole options
    Malformed // a CODE/LENGTH header or its data runs past the end; every later call says so too
};

/// The one walk over an OPT record's options (from `Edns::options`), in wire order, duplicates
/// included. Every user of the options (the query's well-formedness check, the cache's option
/// lookup and COOKIE strip) reads them through it, so an option rule is written once. Never reads
/// outside the span, never allocates.
class EdnsOptionReader {
public:
    explicit EdnsOptionReader(std::span<const std::uint8_t> options) noexcept
        : options_(options) {}

    OptionStep next(EdnsOption& option) noexcept;

private:
    std::span<const std::uint8_t> options_;
    std::size_t position_ = 0;
    bool malformed_ = false;
};

/// The largest UDP message the sender of `edns` takes: 512 without EDNS (RFC 1035 §4.2.1), else
/// its size raised to 512 (RFC 6891 §6.2.5) and capped at kMaxUdpPayload, our own buffer. The
/// only copy of this rule: the answer to a query and a cached answer's limit both use it.
std::size_t udp_payload_limit(const std::optional<Edns>& edns) noexcept;

} // namespace dns
