// dns/: the one bounds-checked walk over a message's questions and resource records, shared by the
// query parse and the upstream answer scan. Pure function of untrusted bytes: no I/O, no asio, no
// allocation, no throw; nothing from outside dns/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "dns/edns.hpp"
#include "dns/header.hpp"
#include "dns/wire_reader.hpp"

namespace dns {

class Name;

enum class Section : std::uint8_t {
    Question,
    Answer,
    Authority,
    Additional
};

/// One question or resource record as it sits in the message. A question has no TTL or RDATA:
/// those fields stay 0 / empty.
struct RecordView {
    Section section = Section::Question;
    std::size_t offset = 0; // where the owner name starts
    /// The owner's in-place bytes: its labels up to the zero byte or the first compression pointer.
    std::span<const std::uint8_t> owner;
    std::size_t owner_label_count = 0; // after decompression; 0 is the root
    std::uint16_t type = 0;
    std::uint16_t klass = 0;
    std::uint32_t ttl = 0;
    std::size_t ttl_offset = 0;
    std::size_t rdata_offset = 0;
    std::span<const std::uint8_t> rdata;
    std::size_t end = 0; // one past the record
};

enum class WalkStep : std::uint8_t {
    Record,   // `record` holds the next entry
    End,      // every counted entry was read
    Malformed // the header or an entry does not parse; every later call says so too
};

/// Reads the header, then yields the QDCOUNT questions and the ANCOUNT + NSCOUNT + ARCOUNT
/// records in order. Owner names are checked with the rules of `Name::read` (compression
/// included) and copied only when the caller asks. The OPT record of the additional section is
/// kept as `edns()`; a second one there is Malformed (RFC 6891 §6.1.1). An OPT in another section
/// is yielded like any record and not kept. Never reads outside the message.
class RecordWalker {
public:
    explicit RecordWalker(std::span<const std::uint8_t> message) noexcept;

    /// False for a message shorter than a header; `header()` is then meaningless.
    bool header_ok() const noexcept { return header_ok_; }

    const Header& header() const noexcept { return header_; }

    /// Advances to the next entry. With `owner_out`, its owner is also decoded there (one pass).
    WalkStep next(RecordView& record, Name* owner_out = nullptr) noexcept;

    /// One past the question section, once the walk has passed it (nullopt before, and when a
    /// question or the header is malformed).
    std::optional<std::size_t> question_end() const noexcept { return question_end_; }

    /// The additional section's OPT record, once the walk has passed it.
    const std::optional<Edns>& edns() const noexcept { return edns_; }

private:
    Section section_of(std::uint32_t index) const noexcept;
    WalkStep fail() noexcept;

    WireReader reader_;
    Header header_;
    bool header_ok_ = false;
    bool failed_ = false;
    std::uint32_t index_ = 0; // entries yielded so far
    std::uint32_t answers_begin_ = 0;
    std::uint32_t authority_begin_ = 0;
    std::uint32_t additional_begin_ = 0;
    std::uint32_t total_ = 0;
    std::optional<std::size_t> question_end_;
    std::optional<Edns> edns_;
};

} // namespace dns
