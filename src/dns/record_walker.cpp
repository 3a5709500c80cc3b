#include "dns/record_walker.hpp"

#include "dns/name.hpp"
#include "dns/types.hpp"

namespace dns {

namespace {

constexpr std::size_t kQuestionFixedSize = 4; // TYPE, CLASS
constexpr std::size_t kRecordFixedSize = 10;  // TYPE, CLASS, TTL, RDLENGTH

std::uint16_t load_u16(std::span<const std::uint8_t> bytes, std::size_t offset) noexcept {
    return static_cast<std::uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

} // namespace

RecordWalker::RecordWalker(std::span<const std::uint8_t> message) noexcept
    : reader_(message)
    , header_(Header::read(reader_))
    , header_ok_(reader_.ok())
    , failed_(!header_ok_) {
    if (failed_) {
        return;
    }
    answers_begin_ = header_.qdcount;
    authority_begin_ = answers_begin_ + header_.ancount;
    additional_begin_ = authority_begin_ + header_.nscount;
    total_ = additional_begin_ + header_.arcount;
}

Section RecordWalker::section_of(std::uint32_t index) const noexcept {
    if (index < answers_begin_) {
        return Section::Question;
    }
    if (index < authority_begin_) {
        return Section::Answer;
    }
    return index < additional_begin_ ? Section::Authority : Section::Additional;
}

WalkStep RecordWalker::fail() noexcept {
    failed_ = true;
    reader_.fail();
    return WalkStep::Malformed;
}

WalkStep RecordWalker::next(RecordView& record, Name* owner_out) noexcept {
    if (failed_) {
        return WalkStep::Malformed;
    }
    if (index_ == answers_begin_) {
        question_end_ = reader_.position();
    }
    if (index_ >= total_) {
        return WalkStep::End;
    }
    // Every field is assigned below (no reset of the whole view: this is the per-query path).
    record.section = section_of(index_);
    record.offset = reader_.position();
    if (owner_out != nullptr) {
        if (!owner_out->read(reader_)) {
            return fail();
        }
        record.owner_label_count = owner_out->label_count();
    } else {
        const auto label_count = skip_name(reader_);
        if (!label_count) {
            return fail();
        }
        record.owner_label_count = *label_count;
    }
    record.owner = reader_.whole().subspan(record.offset, reader_.position() - record.offset);
    // The fixed part is taken in one bounds check: TYPE, CLASS, and for a record TTL, RDLENGTH.
    const bool is_question = record.section == Section::Question;
    const std::size_t fixed_offset = reader_.position();
    const auto fixed = reader_.read_bytes(is_question ? kQuestionFixedSize : kRecordFixedSize);
    if (!reader_.ok()) {
        return fail();
    }
    record.type = load_u16(fixed, 0);
    record.klass = load_u16(fixed, 2);
    if (is_question) {
        record.ttl = 0;
        record.ttl_offset = 0;
        record.rdata_offset = 0;
        record.rdata = {};
    } else {
        record.ttl_offset = fixed_offset + 4;
        record.ttl = (std::uint32_t{load_u16(fixed, 4)} << 16) | load_u16(fixed, 6);
        record.rdata_offset = reader_.position();
        record.rdata = reader_.read_bytes(load_u16(fixed, 8));
        if (!reader_.ok()) {
            return fail();
        }
    }
    record.end = reader_.position();

    if (record.section == Section::Additional &&
        record.type == static_cast<std::uint16_t>(RecordType::Opt)) {
        if (edns_) {
            return fail();
        }
        edns_ =
            Edns::from_record(record.klass, record.ttl, record.rdata_offset, record.rdata.size());
    }
    ++index_;
    return WalkStep::Record;
}

} // namespace dns
