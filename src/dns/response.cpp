#include "dns/response.hpp"

#include <algorithm>
#include <array>

#include "dns/name.hpp"

namespace dns {

namespace {

// RFC 1035 §4.1.4: a pointer to offset 12, where the echoed question name always starts.
constexpr std::uint16_t kPointerToQuestion = 0xc000 | kHeaderSize;
constexpr std::uint16_t kClassIn = static_cast<std::uint16_t>(RecordClass::In);
constexpr std::uint16_t kOpcodeMask = 0x7800;
// Owner (root), TYPE, CLASS, TTL, RDLENGTH.
constexpr std::size_t kOptFixedSize = 11;
// Owner pointer, TYPE, CLASS, TTL, RDLENGTH.
constexpr std::size_t kAnswerFixedSize = 12;

std::uint16_t response_flags(std::uint16_t request_flags) noexcept {
    // Contract §4.7: opcode, AA, RD, RA, AD and CD survive; Z, TC and the request's RCODE do not.
    constexpr std::uint16_t kCopied =
        kOpcodeMask | Header::kAa | Header::kRd | Header::kRa | Header::kAd | Header::kCd;
    auto flags = static_cast<std::uint16_t>((request_flags & kCopied) | Header::kQr);
    if ((request_flags & Header::kRd) != 0) {
        // Otherwise dig warns "recursion requested but not available".
        flags |= Header::kRa;
    }
    return flags;
}

std::size_t writer_capacity(std::span<std::uint8_t> out, std::size_t size_limit) noexcept {
    return std::min({out.size(), size_limit, kMaxMessageSize});
}

std::size_t opt_size(const Query& query) noexcept {
    return query.edns ? kOptFixedSize + query.edns->options_length : 0;
}

// Both ways the constructor writes the question produce the uncompressed name plus 4 bytes; a
// default (empty) Name is written as the root byte.
std::size_t answers_offset(const Query& query) noexcept {
    return kHeaderSize + std::max(query.question.name.wire().size(), std::size_t{1}) + 4;
}

// Decides whether one more answer of `record_size` bytes fits; when it does not, every answer
// goes (RFC 2181 §9: a partial RRset would mislead) and the client is sent to TCP with TC.
bool make_room(WireWriter& writer, const Query& query, std::size_t size_limit,
               std::size_t record_size, bool& truncated, std::uint16_t& answers) noexcept {
    if (truncated || writer.size() == 0) {
        return false;
    }
    // The OPT record is written last but must still fit, so its room is reserved now.
    if (writer.size() + record_size + opt_size(query) > size_limit) {
        truncated = true;
        writer.truncate(answers_offset(query));
        answers = 0;
        return false;
    }
    return true;
}

// Three 32-bit writes, not five: every answer record pays them, and each write checks the room
// again. The TTL is 0 since aardvark 1.13 (contract §4.4): its halves are the zeros below.
void write_answer_fixed(WireWriter& writer, RecordType type, std::size_t rdata_size) noexcept {
    writer.write_u32((std::uint32_t{kPointerToQuestion} << 16) | static_cast<std::uint16_t>(type));
    writer.write_u32(std::uint32_t{kClassIn} << 16);
    writer.write_u32(static_cast<std::uint16_t>(rdata_size));
}

} // namespace

ResponseBuilder::ResponseBuilder(std::span<std::uint8_t> out, std::span<const std::uint8_t> request,
                                 const Query& query, std::size_t size_limit) noexcept
    : writer_(out.first(writer_capacity(out, size_limit)))
    , request_(request)
    , query_(query)
    , size_limit_(writer_capacity(out, size_limit)) {
    header_.id = query.header.id;
    header_.flags = response_flags(query.header.flags);
    header_.qdcount = 1;
    header_.write(writer_);

    const auto& question = query.question;
    const std::size_t in_place = question.name.wire().size() + 4;
    if (query.question_end <= request.size() && query.question_offset <= query.question_end &&
        query.question_end - query.question_offset == in_place) {
        writer_.write_bytes(request.subspan(query.question_offset, in_place));
    } else {
        // The request compressed its question name (or the query did not come from `request`):
        // write it out whole, since a pointer into the request header would now read ours.
        question.name.write(writer_);
        writer_.write_u16(question.type);
        writer_.write_u16(question.klass);
    }
    if (!writer_.ok()) {
        // Marks the builder dead: every later call sees an empty message.
        writer_.truncate(0);
    }
}

void ResponseBuilder::set_rcode(Rcode rcode) noexcept {
    rcode_ = rcode;
    header_.set_rcode(rcode);
}

void ResponseBuilder::add_address(const base::IpAddress& address) noexcept {
    const auto rdata = address.bytes();
    if (!make_room(writer_, query_, size_limit_, kAnswerFixedSize + rdata.size(), truncated_,
                   answers_)) {
        return;
    }
    write_answer_fixed(writer_, address.is_v4() ? RecordType::A : RecordType::Aaaa, rdata.size());
    writer_.write_bytes(rdata);
    ++answers_;
}

void ResponseBuilder::add_ptr(std::string_view target) noexcept {
    // Left uninitialised on purpose: encode_text writes every byte of what it returns.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
    std::array<std::uint8_t, kMaxNameWireLength> wire;
    const std::size_t size = encode_text(target, wire);
    if (size == 0) {
        return;
    }
    const auto rdata = std::span<const std::uint8_t>(wire).first(size);
    if (!make_room(writer_, query_, size_limit_, kAnswerFixedSize + rdata.size(), truncated_,
                   answers_)) {
        return;
    }
    write_answer_fixed(writer_, RecordType::Ptr, rdata.size());
    writer_.write_bytes(rdata);
    ++answers_;
}

std::size_t ResponseBuilder::finish() noexcept {
    if (writer_.size() == 0) {
        return 0;
    }
    std::uint16_t additional = 0;
    if (query_.edns) {
        const auto& edns = *query_.edns;
        auto options = edns.options(request_);
        if (writer_.size() + kOptFixedSize + options.size() > size_limit_) {
            // Only when the request's own options outgrow the limit: keep EDNS, flag the loss.
            options = {};
            truncated_ = true;
        }
        const auto extended_rcode = static_cast<std::uint32_t>(rcode_) >> 4;
        writer_.write_u8(0);
        writer_.write_u16(static_cast<std::uint16_t>(RecordType::Opt));
        // RFC 6891 §6.2.5: values below 512 are treated as 512.
        writer_.write_u16(
            std::max(edns.udp_payload_size, static_cast<std::uint16_t>(kMinUdpPayload)));
        // RFC 6891 §6.1.3: the version is the responder's own, whatever the request's.
        writer_.write_u32((extended_rcode << 24) | (std::uint32_t{kEdnsVersion} << 16) |
                          edns.flags);
        writer_.write_u16(static_cast<std::uint16_t>(options.size()));
        writer_.write_bytes(options);
        additional = 1;
    }
    if (!writer_.ok()) {
        return 0;
    }
    header_.set_flag(Header::kTc, truncated_);
    // The constructor wrote the header with zero counts; fill in the final words.
    writer_.patch_u16(2, header_.flags);
    writer_.patch_u16(6, answers_);
    writer_.patch_u16(10, additional);
    return writer_.size();
}

std::size_t build_header_only_reply(std::span<const std::uint8_t> request, Rcode rcode,
                                    std::span<std::uint8_t> out) noexcept {
    if (request.size() < kHeaderSize || out.size() < kHeaderSize) {
        return 0;
    }
    const auto request_flags = static_cast<std::uint16_t>((request[2] << 8) | request[3]);
    Header header;
    header.id = static_cast<std::uint16_t>((request[0] << 8) | request[1]);
    header.flags =
        static_cast<std::uint16_t>(Header::kQr | (request_flags & (kOpcodeMask | Header::kRd)));
    // As in ResponseBuilder: RD answered without RA makes dig warn.
    header.set_flag(Header::kRa, header.wants_recursion());
    header.set_rcode(rcode);
    WireWriter writer(out);
    header.write(writer);
    return writer.size();
}

} // namespace dns
