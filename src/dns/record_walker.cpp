#include "dns/record_walker.hpp"

#include "dns/name.hpp"
#include "dns/types.hpp"

namespace dns {

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
    record = RecordView{};
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
    record.type = reader_.read_u16();
    record.klass = reader_.read_u16();
    if (record.section != Section::Question) {
        record.ttl_offset = reader_.position();
        record.ttl = reader_.read_u32();
        const std::uint16_t rdata_length = reader_.read_u16();
        record.rdata_offset = reader_.position();
        record.rdata = reader_.read_bytes(rdata_length);
    }
    if (!reader_.ok()) {
        return fail();
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
