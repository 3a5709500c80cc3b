#include "dns/message.hpp"

#include "dns/record_walker.hpp"

namespace dns {

ParseStatus parse_query(std::span<const std::uint8_t> packet, Query& out) noexcept {
    out.header = Header{};
    out.question = Question{};
    out.question_offset = 0;
    out.question_end = 0;
    out.edns.reset();

    if (packet.size() < kHeaderSize) {
        return ParseStatus::Drop;
    }
    RecordWalker walker(packet);
    out.header = walker.header();
    if (out.header.is_response()) {
        return ParseStatus::Drop;
    }
    // RFC 9619: no server answers several questions in one query consistently; refuse them
    // rather than answer the first and ignore the rest.
    if (out.header.qdcount != 1) {
        return ParseStatus::FormErr;
    }

    // Known before the question is read, and kept when it turns out malformed.
    out.question_offset = kHeaderSize;
    RecordView record;
    if (walker.next(record, &out.question.name) != WalkStep::Record) {
        return ParseStatus::FormErr;
    }
    out.question.type = record.type;
    out.question.klass = record.klass;
    out.question_end = record.end;

    // Answer and authority records are only checked; the additional section's OPT (one at most,
    // or the walk fails) must also be owned by the root (RFC 6891 §6.1.1) and hold whole options,
    // since the response copies them.
    for (;;) {
        const WalkStep step = walker.next(record);
        if (step == WalkStep::End) {
            break;
        }
        if (step == WalkStep::Malformed) {
            return ParseStatus::FormErr;
        }
        if (record.section == Section::Additional &&
            record.type == static_cast<std::uint16_t>(RecordType::Opt) &&
            (record.owner_label_count != 0 || !walker.edns()->options_well_formed(packet))) {
            return ParseStatus::FormErr;
        }
    }
    out.edns = walker.edns();
    return ParseStatus::Ok;
}

} // namespace dns
