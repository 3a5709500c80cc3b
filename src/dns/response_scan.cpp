#include "dns/response_scan.hpp"

#include <algorithm>
#include <array>

#include "base/ascii.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"
#include "dns/wire_reader.hpp"

namespace dns {

namespace {

constexpr std::size_t kMinRecordSize = 11; // root owner, TYPE, CLASS, TTL, RDLENGTH
constexpr std::size_t kMaxQuestionsCompared = 32;
constexpr std::uint16_t kTypeTsig = 250;
constexpr std::uint32_t kTtlTopBit = 0x80000000U;

enum class Section {
    Answer,
    Authority,
    Additional
};

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
    Name skipped;
    if (!skipped.read(reader) || !skipped.read(reader)) {
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

bool read_question(WireReader& reader, Question& question) noexcept {
    if (!question.name.read(reader)) {
        return false;
    }
    question.type = reader.read_u16();
    question.klass = reader.read_u16();
    return reader.ok();
}

// Parses one record at the reader and folds it into `out`. False on any malformation.
bool scan_record(std::span<const std::uint8_t> message, WireReader& reader, Section section,
                 MessageScan& out, std::span<std::uint16_t> ttl_offsets) noexcept {
    Name owner;
    if (!owner.read(reader)) {
        return false;
    }
    const std::uint16_t type = reader.read_u16();
    const std::uint16_t klass = reader.read_u16();
    const std::size_t ttl_offset = reader.position();
    const std::uint32_t ttl = reader.read_u32();
    const std::uint16_t rdlength = reader.read_u16();
    const std::size_t rdata_offset = reader.position();
    reader.skip(rdlength);
    if (!reader.ok()) {
        return false;
    }
    const std::size_t rdata_end = reader.position();

    if (type == static_cast<std::uint16_t>(RecordType::Opt)) {
        if (section != Section::Additional) {
            return true; // meaningless there; relayed untouched, never aged
        }
        if (out.has_opt) {
            return false; // RFC 6891 §6.1.1: more than one OPT is malformed
        }
        out.has_opt = true;
        out.opt_udp_size = klass;
        out.opt_extended_rcode = static_cast<std::uint8_t>(ttl >> 24);
        out.opt_version = static_cast<std::uint8_t>((ttl >> 16) & 0xff);
        out.opt_flags = static_cast<std::uint16_t>(ttl & 0xffff);
        out.opt_rdata_offset = rdata_offset;
        out.opt_rdata_length = rdlength;
        return true;
    }
    if (type == kTypeTsig) {
        return true;
    }

    if (out.ttl_count < ttl_offsets.size()) {
        ttl_offsets[out.ttl_count] = static_cast<std::uint16_t>(ttl_offset);
    }
    ++out.ttl_count;
    lower_min(out.min_ttl, effective_ttl(ttl));

    if (section == Section::Authority && type == static_cast<std::uint16_t>(RecordType::Soa) &&
        !out.negative_ttl) {
        if (const auto minimum = soa_minimum(message, rdata_offset, rdata_end)) {
            out.negative_ttl = std::min(effective_ttl(ttl), *minimum);
        }
    }
    return true;
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
    WireReader reader(message);
    out.header = Header::read(reader);
    if (!reader.ok()) {
        return false;
    }
    for (std::uint32_t i = 0; i < out.header.qdcount; ++i) {
        Question question;
        if (!read_question(reader, question)) {
            return false;
        }
        if (i == 0) {
            out.question = question;
        }
    }
    out.question_end = reader.position();

    const std::uint32_t answers = out.header.ancount;
    const std::uint32_t authority_end = answers + out.header.nscount;
    const std::uint32_t total = authority_end + out.header.arcount;
    for (std::uint32_t i = 0; i < total; ++i) {
        const Section section = i < answers         ? Section::Answer
                                : i < authority_end ? Section::Authority
                                                    : Section::Additional;
        if (!scan_record(message, reader, section, out, ttl_offsets)) {
            return true; // header and questions are usable; `complete` stays false
        }
    }
    out.complete = true;
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
    {
        WireReader reader(query);
        const Header header = Header::read(reader);
        const std::size_t count = std::min<std::size_t>(header.qdcount, kMaxQuestionsCompared);
        while (reader.ok() && asked_count < count && read_question(reader, asked[asked_count])) {
            ++asked_count;
        }
    }

    WireReader reader(response, kHeaderSize);
    for (std::uint32_t i = 0; i < scan.header.qdcount; ++i) {
        Question answered;
        if (!read_question(reader, answered)) {
            return ResponseCheck::Reject; // unreachable: scan_message read the same bytes
        }
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
    const std::size_t rdata_begin = scan.opt_rdata_offset;
    const std::size_t rdata_end = rdata_begin + scan.opt_rdata_length;
    if (!scan.has_opt || rdata_begin < 2 || rdata_end > message.size() ||
        out.size() < message.size()) {
        return 0;
    }
    std::copy(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(rdata_begin),
              out.begin());
    std::size_t written = rdata_begin;

    WireReader options(message.first(rdata_end), rdata_begin);
    while (options.remaining() > 0) {
        const std::size_t option_begin = options.position();
        const std::uint16_t code = options.read_u16();
        const std::uint16_t length = options.read_u16();
        options.skip(length);
        if (!options.ok()) {
            return 0;
        }
        if (code == option_code) {
            continue;
        }
        const std::size_t option_size = options.position() - option_begin;
        std::copy_n(message.begin() + static_cast<std::ptrdiff_t>(option_begin), option_size,
                    out.begin() + static_cast<std::ptrdiff_t>(written));
        written += option_size;
    }
    store_u16(out, rdata_begin - 2, static_cast<std::uint16_t>(written - rdata_begin));

    const std::size_t tail = message.size() - rdata_end;
    std::copy_n(message.begin() + static_cast<std::ptrdiff_t>(rdata_end), tail,
                out.begin() + static_cast<std::ptrdiff_t>(written));
    return written + tail;
}

bool has_edns_option(std::span<const std::uint8_t> message, const MessageScan& scan,
                     std::uint16_t option_code) noexcept {
    if (!scan.has_opt || scan.opt_rdata_offset > message.size() ||
        scan.opt_rdata_length > message.size() - scan.opt_rdata_offset) {
        return false;
    }
    WireReader options(message.first(scan.opt_rdata_offset + scan.opt_rdata_length),
                       scan.opt_rdata_offset);
    while (options.ok() && options.remaining() > 0) {
        const std::uint16_t code = options.read_u16();
        options.skip(options.read_u16());
        if (options.ok() && code == option_code) {
            return true;
        }
    }
    return false;
}

bool cap_edns_udp_size(std::span<std::uint8_t> message, std::uint16_t max_size) noexcept {
    MessageScan scan;
    // The OPT's CLASS sits 8 bytes before its RDATA: CLASS, TTL (4), RDLENGTH (2).
    constexpr std::size_t kClassBeforeRdata = 8;
    if (!scan_message(message, scan) || !scan.complete || !scan.has_opt ||
        scan.opt_udp_size <= max_size || scan.opt_rdata_offset < kClassBeforeRdata) {
        return false;
    }
    store_u16(message, scan.opt_rdata_offset - kClassBeforeRdata, max_size);
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
