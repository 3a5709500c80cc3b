#include "dns/response_scan.hpp"

#include <algorithm>
#include <array>

#include "base/ascii.hpp"
#include "dns/name.hpp"
#include "dns/record_walker.hpp"
#include "dns/types.hpp"
#include "dns/wire_reader.hpp"

namespace dns {

namespace {

constexpr std::size_t kMinRecordSize = 11; // root owner, TYPE, CLASS, TTL, RDLENGTH
constexpr std::size_t kMaxQuestionsCompared = 32;
constexpr std::uint16_t kTypeTsig = 250;
constexpr std::uint32_t kTtlTopBit = 0x80000000U;

// RFC 2181 §8: a TTL with the most significant bit set is treated as zero.
std::uint32_t effective_ttl(std::uint32_t ttl) noexcept {
    return (ttl & kTtlTopBit) != 0 ? 0 : ttl;
}

void lower_min(std::optional<std::uint32_t>& current, std::uint32_t value) noexcept {
    if (!current || value < *current) {
        current = value;
    }
}

// SOA RDATA (RFC 1035 §3.3.13): MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM.
std::optional<std::uint32_t> soa_minimum(std::span<const std::uint8_t> message,
                                         std::size_t rdata_offset, std::size_t rdata_end) noexcept {
    WireReader reader(message, rdata_offset);
    if (!skip_name(reader) || !skip_name(reader)) {
        return std::nullopt;
    }
    reader.skip(16);
    const std::uint32_t minimum = reader.read_u32();
    if (!reader.ok() || reader.position() > rdata_end) {
        return std::nullopt;
    }
    return effective_ttl(minimum);
}

std::uint32_t load_u32(std::span<const std::uint8_t> bytes, std::size_t offset) noexcept {
    return (static_cast<std::uint32_t>(bytes[offset]) << 24) |
           (static_cast<std::uint32_t>(bytes[offset + 1]) << 16) |
           (static_cast<std::uint32_t>(bytes[offset + 2]) << 8) |
           static_cast<std::uint32_t>(bytes[offset + 3]);
}

void store_u16(std::span<std::uint8_t> bytes, std::size_t offset, std::uint16_t value) noexcept {
    bytes[offset] = static_cast<std::uint8_t>(value >> 8);
    bytes[offset + 1] = static_cast<std::uint8_t>(value & 0xff);
}

void store_u32(std::span<std::uint8_t> bytes, std::size_t offset, std::uint32_t value) noexcept {
    bytes[offset] = static_cast<std::uint8_t>(value >> 24);
    bytes[offset + 1] = static_cast<std::uint8_t>((value >> 16) & 0xff);
    bytes[offset + 2] = static_cast<std::uint8_t>((value >> 8) & 0xff);
    bytes[offset + 3] = static_cast<std::uint8_t>(value & 0xff);
}

// Folds one answer, authority or additional record into `out`.
void scan_record(std::span<const std::uint8_t> message, const RecordView& record, MessageScan& out,
                 std::span<std::uint16_t> ttl_offsets) noexcept {
    // OPT is no data: kept by the walker in the additional section, relayed untouched (never
    // aged) elsewhere. TSIG's TTL is not one either.
    if (record.type == static_cast<std::uint16_t>(RecordType::Opt) || record.type == kTypeTsig) {
        return;
    }
    if (out.ttl_count < ttl_offsets.size()) {
        ttl_offsets[out.ttl_count] = static_cast<std::uint16_t>(record.ttl_offset);
    }
    ++out.ttl_count;
    lower_min(out.min_ttl, effective_ttl(record.ttl));

    if (record.section == Section::Authority &&
        record.type == static_cast<std::uint16_t>(RecordType::Soa) && !out.negative_ttl) {
        if (const auto minimum = soa_minimum(message, record.rdata_offset, record.end)) {
            out.negative_ttl = std::min(effective_ttl(record.ttl), *minimum);
        }
    }
}

} // namespace

std::size_t max_record_count(std::size_t message_size) noexcept {
    return message_size <= kHeaderSize ? 0 : (message_size - kHeaderSize) / kMinRecordSize;
}

bool scan_message(std::span<const std::uint8_t> message, MessageScan& out,
                  std::span<std::uint16_t> ttl_offsets) noexcept {
    out = MessageScan{};
    // TTL offsets are 16-bit: nothing larger than a TCP message is ever scanned.
    if (message.size() > kMaxMessageSize) {
        return false;
    }
    RecordWalker walker(message);
    if (!walker.header_ok()) {
        return false;
    }
    out.header = walker.header();
    RecordView record;
    Question first_question;
    for (;;) {
        const bool wants_first_question = out.header.qdcount > 0 && !out.question;
        const WalkStep step =
            walker.next(record, wants_first_question ? &first_question.name : nullptr);
        if (step == WalkStep::End) {
            out.complete = true;
            break;
        }
        if (step == WalkStep::Malformed) {
            if (!walker.question_end()) {
                return false;
            }
            break; // header and questions are usable; `complete` stays false
        }
        if (record.section == Section::Question) {
            if (wants_first_question) {
                first_question.type = record.type;
                first_question.klass = record.klass;
                out.question = first_question;
            }
            continue;
        }
        scan_record(message, record, out, ttl_offsets);
    }
    out.question_end = *walker.question_end();
    out.edns = walker.edns();
    return true;
}

bool names_equal_ignore_case(const Name& left, const Name& right) noexcept {
    const auto a = left.wire();
    const auto b = right.wire();
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (base::ascii_lower(a[i]) != base::ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

ResponseCheck check_response(std::span<const std::uint8_t> query,
                             std::span<const std::uint8_t> response) noexcept {
    if (response.size() < kHeaderSize) {
        return ResponseCheck::Reject;
    }
    if (message_id(response) != message_id(query)) {
        return ResponseCheck::Ignore;
    }
    MessageScan scan;
    if (!scan_message(response, scan)) {
        return ResponseCheck::Reject;
    }
    if (!scan.header.is_response() || scan.header.qdcount == 0) {
        return ResponseCheck::Reject;
    }
    if (!scan.complete && !scan.header.is_truncated()) {
        return ResponseCheck::Reject;
    }
    if (scan.header.qdcount > kMaxQuestionsCompared) {
        return ResponseCheck::Ignore;
    }

    std::array<Question, kMaxQuestionsCompared> asked{};
    std::size_t asked_count = 0;
    RecordView record;
    {
        RecordWalker query_walker(query);
        const std::size_t count =
            std::min<std::size_t>(query_walker.header().qdcount, kMaxQuestionsCompared);
        while (asked_count < count &&
               query_walker.next(record, &asked[asked_count].name) == WalkStep::Record) {
            asked[asked_count].type = record.type;
            asked[asked_count].klass = record.klass;
            ++asked_count;
        }
    }

    RecordWalker response_walker(response);
    for (std::uint32_t i = 0; i < scan.header.qdcount; ++i) {
        Question answered;
        if (response_walker.next(record, &answered.name) != WalkStep::Record) {
            return ResponseCheck::Reject; // unreachable: scan_message read the same bytes
        }
        answered.type = record.type;
        answered.klass = record.klass;
        const auto* const match =
            std::find_if(asked.begin(), asked.begin() + static_cast<std::ptrdiff_t>(asked_count),
                         [&answered](const Question& candidate) {
                             return candidate.type == answered.type &&
                                    candidate.klass == answered.klass &&
                                    names_equal_ignore_case(candidate.name, answered.name);
                         });
        if (match == asked.begin() + static_cast<std::ptrdiff_t>(asked_count)) {
            return ResponseCheck::Ignore;
        }
    }
    return ResponseCheck::Accept;
}

void set_message_id(std::span<std::uint8_t> message, std::uint16_t id) noexcept {
    if (message.size() >= 2) {
        store_u16(message, 0, id);
    }
}

std::uint16_t message_id(std::span<const std::uint8_t> message) noexcept {
    if (message.size() < 2) {
        return 0;
    }
    return static_cast<std::uint16_t>((message[0] << 8) | message[1]);
}

void set_recursion_available(std::span<std::uint8_t> message) noexcept {
    if (message.size() < 4) {
        return;
    }
    // Byte 2 holds QR|Opcode|AA|TC|RD, byte 3 RA|Z|AD|CD|RCODE.
    const bool recursion_desired = (message[2] & (Header::kRd >> 8)) != 0;
    if (recursion_desired) {
        message[3] = static_cast<std::uint8_t>(message[3] | Header::kRa);
    }
}

void age_ttls(std::span<std::uint8_t> message, std::span<const std::uint16_t> ttl_offsets,
              std::uint32_t elapsed_seconds) noexcept {
    for (const std::uint16_t offset : ttl_offsets) {
        if (std::size_t{offset} + 4 > message.size()) {
            continue;
        }
        const std::uint32_t ttl = effective_ttl(load_u32(message, offset));
        store_u32(message, offset, ttl > elapsed_seconds ? ttl - elapsed_seconds : 0);
    }
}

std::size_t copy_without_edns_option(std::span<const std::uint8_t> message, const MessageScan& scan,
                                     std::uint16_t option_code,
                                     std::span<std::uint8_t> out) noexcept {
    if (!scan.edns) {
        return 0;
    }
    const std::size_t rdata_begin = scan.edns->options_offset;
    const std::size_t rdata_end = rdata_begin + scan.edns->options_length;
    if (rdata_begin < 2 || rdata_end > message.size() || out.size() < message.size()) {
        return 0;
    }
    std::copy(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(rdata_begin),
              out.begin());
    std::size_t written = rdata_begin;

    const auto options = message.subspan(rdata_begin, rdata_end - rdata_begin);
    EdnsOptionReader reader(options);
    EdnsOption option;
    for (;;) {
        const OptionStep step = reader.next(option);
        if (step == OptionStep::End) {
            break;
        }
        if (step == OptionStep::Malformed) {
            return 0;
        }
        if (option.code == option_code) {
            continue;
        }
        std::copy_n(options.begin() + static_cast<std::ptrdiff_t>(option.offset),
                    option.wire_size(), out.begin() + static_cast<std::ptrdiff_t>(written));
        written += option.wire_size();
    }
    store_u16(out, rdata_begin - 2, static_cast<std::uint16_t>(written - rdata_begin));

    const std::size_t tail = message.size() - rdata_end;
    std::copy_n(message.begin() + static_cast<std::ptrdiff_t>(rdata_end), tail,
                out.begin() + static_cast<std::ptrdiff_t>(written));
    return written + tail;
}

bool has_edns_option(std::span<const std::uint8_t> message, const MessageScan& scan,
                     std::uint16_t option_code) noexcept {
    if (!scan.edns) {
        return false;
    }
    const auto bytes = scan.edns->options(message);
    if (bytes.size() != scan.edns->options_length) {
        return false; // not from this message
    }
    EdnsOptionReader reader(bytes);
    EdnsOption option;
    while (reader.next(option) == OptionStep::Option) {
        if (option.code == option_code) {
            return true;
        }
    }
    return false;
}

bool cap_edns_udp_size(std::span<std::uint8_t> message, std::uint16_t max_size) noexcept {
    MessageScan scan;
    // The OPT's CLASS sits 8 bytes before its RDATA: CLASS, TTL (4), RDLENGTH (2).
    constexpr std::size_t kClassBeforeRdata = 8;
    if (!scan_message(message, scan) || !scan.complete || !scan.edns ||
        scan.edns->udp_payload_size <= max_size || scan.edns->options_offset < kClassBeforeRdata) {
        return false;
    }
    store_u16(message, scan.edns->options_offset - kClassBeforeRdata, max_size);
    return true;
}

std::size_t truncated_reply(std::span<const std::uint8_t> prefix,
                            std::span<std::uint8_t> out) noexcept {
    MessageScan scan;
    if (!scan_message(prefix, scan) || scan.question_end > out.size()) {
        return 0;
    }
    std::copy_n(prefix.begin(), scan.question_end, out.begin());
    out[2] = static_cast<std::uint8_t>(out[2] | (Header::kTc >> 8));
    store_u16(out, 6, 0);  // ANCOUNT
    store_u16(out, 8, 0);  // NSCOUNT
    store_u16(out, 10, 0); // ARCOUNT
    return scan.question_end;
}

} // namespace dns
