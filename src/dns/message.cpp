#include "dns/message.hpp"

#include <algorithm>

#include "dns/wire_reader.hpp"

namespace dns {

namespace {

constexpr std::uint16_t kOptType = static_cast<std::uint16_t>(RecordType::Opt);

// A resource record's fixed part after the owner: TYPE, CLASS, TTL, RDLENGTH.
struct RecordFields {
    std::uint16_t type = 0;
    std::uint16_t klass = 0;
    std::uint32_t ttl = 0;
    std::size_t rdata_offset = 0;
    std::size_t rdata_length = 0;
};

bool read_record(WireReader& reader, Name& owner, RecordFields& fields) noexcept {
    if (!owner.read(reader)) {
        return false;
    }
    fields.type = reader.read_u16();
    fields.klass = reader.read_u16();
    fields.ttl = reader.read_u32();
    fields.rdata_length = reader.read_u16();
    fields.rdata_offset = reader.position();
    reader.skip(fields.rdata_length);
    return reader.ok();
}

// RFC 6891 §6.1.2: RDATA is a sequence of {OPTION-CODE, OPTION-LENGTH, data}. The response
// copies these bytes, so they must split into whole options.
bool options_well_formed(std::span<const std::uint8_t> packet, std::size_t offset,
                         std::size_t length) noexcept {
    WireReader reader(packet.subspan(offset, length));
    while (reader.ok() && reader.remaining() > 0) {
        reader.read_u16();
        reader.skip(reader.read_u16());
    }
    return reader.ok();
}

} // namespace

std::size_t Query::udp_response_limit() const noexcept {
    if (!edns) {
        return kMinUdpPayload;
    }
    return std::min(std::max(kMinUdpPayload, std::size_t{edns->udp_payload_size}), kMaxUdpPayload);
}

ParseStatus parse_query(std::span<const std::uint8_t> packet, Query& out) noexcept {
    out.header = Header{};
    out.question = Question{};
    out.question_offset = 0;
    out.question_end = 0;
    out.edns.reset();

    if (packet.size() < kHeaderSize) {
        return ParseStatus::Drop;
    }
    WireReader reader(packet);
    out.header = Header::read(reader);
    if (out.header.is_response()) {
        return ParseStatus::Drop;
    }
    // RFC 9619: no server answers several questions in one query consistently; refuse them
    // rather than answer the first and ignore the rest.
    if (out.header.qdcount != 1) {
        return ParseStatus::FormErr;
    }

    out.question_offset = reader.position();
    if (!out.question.name.read(reader)) {
        return ParseStatus::FormErr;
    }
    out.question.type = reader.read_u16();
    out.question.klass = reader.read_u16();
    if (!reader.ok()) {
        return ParseStatus::FormErr;
    }
    out.question_end = reader.position();

    Name scratch;
    RecordFields fields;
    const std::size_t skipped = std::size_t{out.header.ancount} + out.header.nscount;
    for (std::size_t i = 0; i < skipped; ++i) {
        if (!read_record(reader, scratch, fields)) {
            return ParseStatus::FormErr;
        }
    }

    for (std::uint16_t i = 0; i < out.header.arcount; ++i) {
        if (!read_record(reader, scratch, fields)) {
            return ParseStatus::FormErr;
        }
        if (fields.type != kOptType) {
            continue;
        }
        // RFC 6891 §6.1.1: one OPT at most, owned by the root.
        if (out.edns || scratch.label_count() != 0 ||
            !options_well_formed(packet, fields.rdata_offset, fields.rdata_length)) {
            return ParseStatus::FormErr;
        }
        Edns edns;
        edns.udp_payload_size = fields.klass;
        edns.extended_rcode = static_cast<std::uint8_t>(fields.ttl >> 24);
        edns.version = static_cast<std::uint8_t>(fields.ttl >> 16);
        edns.flags = static_cast<std::uint16_t>(fields.ttl);
        edns.options_offset = fields.rdata_offset;
        edns.options_length = fields.rdata_length;
        out.edns = edns;
    }
    return ParseStatus::Ok;
}

} // namespace dns
