#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "base/ip_address.hpp"
#include "dns/message.hpp"
#include "dns/response.hpp"
#include "dns/wire_reader.hpp"
#include "support/dns_message.hpp"

namespace dns {
namespace {

using test_support::dig_query;
using test_support::DnsMessage;
using test_support::kTypeA;
using test_support::kTypeAaaa;
using test_support::kTypePtr;
using test_support::query_message;

using Bytes = std::vector<std::uint8_t>;

Bytes slice(std::span<const std::uint8_t> bytes, std::size_t offset, std::size_t length) {
    const auto part = bytes.subspan(offset, length);
    return {part.begin(), part.end()};
}

base::IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return base::IpAddress::v4({a, b, c, d});
}

// Parses a request and keeps it alive for the builder, which holds references into both.
struct Exchange {
    explicit Exchange(DnsMessage packet, std::size_t out_size = 65535)
        : request(std::move(packet))
        , out(out_size) {
        status = parse_query(request.span(), query);
    }

    DnsMessage request;
    Query query;
    ParseStatus status = ParseStatus::Drop;
    Bytes out;
};

// A decoded response, read field by field from the built bytes.
struct Record {
    std::string owner;
    std::uint16_t type = 0;
    std::uint16_t klass = 0;
    std::uint32_t ttl = 0;
    Bytes rdata;
    std::size_t rdata_offset = 0;
};

struct Decoded {
    Header header;
    std::string qname;
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    std::size_t question_end = 0;
    std::vector<Record> answers;
    std::vector<Record> additional;
};

std::string read_name_text(WireReader& reader) {
    Name name;
    if (!name.read(reader)) {
        return "<bad>";
    }
    std::array<char, kMaxNameTextLength> buffer{};
    return std::string(name.format_text(buffer, false));
}

Record read_record(WireReader& reader) {
    Record record;
    record.owner = read_name_text(reader);
    record.type = reader.read_u16();
    record.klass = reader.read_u16();
    record.ttl = reader.read_u32();
    const std::uint16_t length = reader.read_u16();
    record.rdata_offset = reader.position();
    const auto rdata = reader.read_bytes(length);
    record.rdata.assign(rdata.begin(), rdata.end());
    return record;
}

Decoded decode(std::span<const std::uint8_t> message) {
    Decoded decoded;
    WireReader reader(message);
    decoded.header = Header::read(reader);
    EXPECT_EQ(decoded.header.qdcount, 1);
    decoded.qname = read_name_text(reader);
    decoded.qtype = reader.read_u16();
    decoded.qclass = reader.read_u16();
    decoded.question_end = reader.position();
    for (unsigned i = 0; i < decoded.header.ancount; ++i) {
        decoded.answers.push_back(read_record(reader));
    }
    EXPECT_EQ(decoded.header.nscount, 0);
    for (unsigned i = 0; i < decoded.header.arcount; ++i) {
        decoded.additional.push_back(read_record(reader));
    }
    EXPECT_TRUE(reader.ok());
    EXPECT_EQ(reader.remaining(), 0u) << "trailing bytes";
    return decoded;
}

std::span<const std::uint8_t> build_with(Exchange& exchange, std::size_t limit,
                                         const std::vector<base::IpAddress>& addresses,
                                         Rcode rcode = Rcode::NoError) {
    EXPECT_EQ(exchange.status, ParseStatus::Ok);
    ResponseBuilder builder(exchange.out, exchange.request.span(), exchange.query, limit);
    builder.set_rcode(rcode);
    for (const auto& address : addresses) {
        builder.add_address(address);
    }
    const std::size_t length = builder.finish();
    return std::span<const std::uint8_t>(exchange.out).first(length);
}

TEST(ResponseBuilder, DigQueryGetsAnEchoAndAnAnswer) {
    Exchange exchange(dig_query("AOne.dns.podman", kTypeA, 0xbeef));
    const auto message =
        build_with(exchange, exchange.query.udp_response_limit(), {v4(10, 89, 0, 2)});
    ASSERT_FALSE(message.empty());

    // Header: ID echoed, QR RD RA AD (dig's "qr rd ra ad"), NOERROR, 1/1/0/1.
    EXPECT_EQ(slice(message, 0, 12), (Bytes{0xbe, 0xef, 0x81, 0xa0, 0, 1, 0, 1, 0, 0, 0, 1}));
    // The question, byte for byte.
    const auto request = exchange.request.span();
    EXPECT_EQ(slice(message, 12, exchange.query.question_end - 12),
              slice(request, 12, exchange.query.question_end - 12));
    // The answer: pointer to offset 12, A, IN, TTL 0, 4 bytes.
    EXPECT_EQ(slice(message, exchange.query.question_end, 16),
              (Bytes{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 89, 0, 2}));

    const Decoded decoded = decode(message);
    EXPECT_EQ(decoded.qname, "AOne.dns.podman.");
    ASSERT_EQ(decoded.answers.size(), 1u);
    EXPECT_EQ(decoded.answers[0].owner, "AOne.dns.podman."); // case as asked
    ASSERT_EQ(decoded.additional.size(), 1u);
    const Record& opt = decoded.additional[0];
    EXPECT_EQ(opt.owner, ".");
    EXPECT_EQ(opt.type, 41);
    EXPECT_EQ(opt.klass, 1232);
    EXPECT_EQ(opt.ttl, 0u);
    // The client cookie comes back unchanged (dig: "COOKIE: ... (echoed)").
    EXPECT_EQ(opt.rdata,
              (Bytes{0x00, 0x0a, 0x00, 0x08, 0x5c, 0x1e, 0x9a, 0x41, 0x7b, 0x02, 0xd3, 0x66}));
}

TEST(ResponseBuilder, NoRecursionDesired) {
    // dig +norec: AD only.
    Exchange exchange(query_message("aone", kTypeA, 0x4242, 0x0020));
    const auto message = build_with(exchange, 512, {});
    ASSERT_GE(message.size(), 12u);
    EXPECT_EQ(message[2], 0x80);
    EXPECT_EQ(message[3], 0x20);
    EXPECT_TRUE(decode(message).additional.empty()); // no OPT when the request had none
}

TEST(ResponseBuilder, FlagsCopiedClearedAndForced) {
    struct Case {
        std::uint16_t request;
        std::uint16_t response;
    };

    // Request bits: opcode STATUS (0x1000), AA, TC, RD, RA, Z, AD, CD, RCODE 5.
    const Case cases[] = {
        {0x0100, 0x8180}, // RD -> RD RA
        {0x0000, 0x8000}, // nothing -> QR only
        {0x0080, 0x8080}, // RA without RD is copied
        {0x0040, 0x8000}, // Z is dropped
        {0x0200, 0x8000}, // TC is never copied
        {0x0405, 0x8400}, // AA copied, request RCODE dropped
        {0x0030, 0x8030}, // AD and CD copied
        {0x1100, 0x9180}, // opcode kept
        {0x7ff5, 0xfdb0}, // everything at once
    };
    for (const auto& c : cases) {
        Exchange exchange(query_message("x", kTypeA, 0x4242, c.request));
        const auto message = build_with(exchange, 512, {});
        ASSERT_GE(message.size(), 12u);
        EXPECT_EQ((message[2] << 8) | message[3], c.response) << std::hex << c.request;
    }
}

TEST(ResponseBuilder, NxDomain) {
    Exchange exchange(dig_query("nope.dns.podman", kTypeA));
    const auto message = build_with(exchange, 1232, {}, Rcode::NxDomain);
    const Decoded decoded = decode(message);
    EXPECT_EQ(decoded.header.rcode(), Rcode::NxDomain);
    EXPECT_TRUE(decoded.answers.empty());
    ASSERT_EQ(decoded.additional.size(), 1u);
    EXPECT_EQ(decoded.additional[0].ttl >> 24, 0u); // extended rcode bits: 3 < 16
}

TEST(ResponseBuilder, AaaaAndMixedFamilies) {
    Exchange exchange(query_message("aone", kTypeAaaa));
    const auto six = base::IpAddress::parse("fd00::1:2");
    ASSERT_TRUE(six.has_value());
    const auto message = build_with(exchange, 512, {*six, v4(10, 0, 0, 1)});
    const Decoded decoded = decode(message);
    ASSERT_EQ(decoded.answers.size(), 2u);
    EXPECT_EQ(decoded.answers[0].type, kTypeAaaa);
    EXPECT_EQ(decoded.answers[0].owner, "aone.");
    EXPECT_EQ(decoded.answers[0].klass, 1);
    EXPECT_EQ(decoded.answers[0].ttl, 0u);
    EXPECT_EQ(decoded.answers[0].rdata, (Bytes{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2}));
    EXPECT_EQ(decoded.answers[1].type, kTypeA);
    EXPECT_EQ(decoded.answers[1].rdata, (Bytes{10, 0, 0, 1}));
}

TEST(ResponseBuilder, PtrTargets) {
    Exchange exchange(query_message("2.0.89.10.in-addr.arpa", kTypePtr));
    ASSERT_EQ(exchange.status, ParseStatus::Ok);
    ResponseBuilder builder(exchange.out, exchange.request.span(), exchange.query, 512);
    builder.add_ptr("atwo.");
    builder.add_ptr("a2");
    builder.add_ptr("");                         // the root
    builder.add_ptr("bad..name");                // skipped
    builder.add_ptr(std::string(64, 'x') + "."); // skipped
    const std::size_t length = builder.finish();
    const auto message = std::span<const std::uint8_t>(exchange.out).first(length);
    const Decoded decoded = decode(message);
    ASSERT_EQ(decoded.answers.size(), 3u);
    EXPECT_EQ(decoded.answers[0].owner, "2.0.89.10.in-addr.arpa.");
    EXPECT_EQ(decoded.answers[0].type, kTypePtr);
    EXPECT_EQ(decoded.answers[0].ttl, 0u);
    EXPECT_EQ(decoded.answers[0].rdata, (Bytes{4, 'a', 't', 'w', 'o', 0}));
    EXPECT_EQ(decoded.answers[1].rdata, (Bytes{2, 'a', '2', 0}));
    EXPECT_EQ(decoded.answers[2].rdata, (Bytes{0}));
    // Exact bytes of the first PTR record.
    EXPECT_EQ(slice(message, decoded.question_end, 18),
              (Bytes{0xc0, 0x0c, 0, 12, 0, 1, 0, 0, 0, 0, 0, 6, 4, 'a', 't', 'w', 'o', 0}));
}

TEST(ResponseBuilder, EdnsPayloadBelow512IsRaised) {
    DnsMessage packet;
    packet.header(3, 0x0100, 1, 0, 0, 1).question("a", kTypeA).opt(100, 0x00008000);
    Exchange exchange(packet);
    const auto message = build_with(exchange, exchange.query.udp_response_limit(), {});
    const Decoded decoded = decode(message);
    ASSERT_EQ(decoded.additional.size(), 1u);
    EXPECT_EQ(decoded.additional[0].klass, 512);
    EXPECT_EQ(decoded.additional[0].ttl, 0x00008000u); // DO kept
    EXPECT_TRUE(decoded.additional[0].rdata.empty());
}

TEST(ResponseBuilder, EdnsVersionFlagsAndOptionsAreCopied) {
    DnsMessage packet;
    packet.header(3, 0x0100, 1, 0, 0, 1).question("a", kTypeA);
    // Request extended-rcode 7 is not echoed (ours follows the response rcode), nor is version
    // 1 (ours is 0, RFC 6891 §6.1.3); flags DO plus an unknown bit; two options (NSID empty, then a
    // padding option).
    packet.opt(4096, 0x07018001, {0, 3, 0, 0, 0, 12, 0, 2, 0, 0});
    Exchange exchange(packet);
    const auto message = build_with(exchange, 4096, {v4(1, 2, 3, 4)});
    const Decoded decoded = decode(message);
    ASSERT_EQ(decoded.additional.size(), 1u);
    EXPECT_EQ(decoded.additional[0].klass, 4096);
    EXPECT_EQ(decoded.additional[0].ttl, 0x00008001u);
    EXPECT_EQ(decoded.additional[0].rdata, (Bytes{0, 3, 0, 0, 0, 12, 0, 2, 0, 0}));
}

std::vector<base::IpAddress> many_addresses(std::size_t count) {
    std::vector<base::IpAddress> addresses;
    for (std::size_t i = 0; i < count; ++i) {
        addresses.push_back(
            v4(10, 0, static_cast<std::uint8_t>(i / 256), static_cast<std::uint8_t>(i % 256)));
    }
    return addresses;
}

TEST(ResponseBuilder, TruncatesAbove512WithoutEdns) {
    // 12 + 7 (question "aone.") + 40 * 16 = 659 > 512.
    Exchange exchange(query_message("aone", kTypeA, 0x0909, 0x0100));
    ASSERT_EQ(exchange.query.udp_response_limit(), 512u);
    const auto message = build_with(exchange, 512, many_addresses(40));
    ASSERT_FALSE(message.empty());
    EXPECT_LE(message.size(), 512u);
    const Decoded decoded = decode(message);
    EXPECT_TRUE(decoded.header.is_truncated());
    EXPECT_EQ(decoded.header.id, 0x0909);
    EXPECT_TRUE(decoded.answers.empty()); // all or nothing
    EXPECT_EQ(decoded.qname, "aone.");
    EXPECT_EQ(message.size(), 12u + 10u);
}

TEST(ResponseBuilder, SameAnswersFitWithEdns4096) {
    DnsMessage packet;
    packet.header(0x0909, 0x0100, 1, 0, 0, 1).question("aone", kTypeA).opt(4096, 0);
    Exchange exchange(packet);
    ASSERT_EQ(exchange.query.udp_response_limit(), 4096u);
    const auto message =
        build_with(exchange, exchange.query.udp_response_limit(), many_addresses(40));
    const Decoded decoded = decode(message);
    EXPECT_FALSE(decoded.header.is_truncated());
    ASSERT_EQ(decoded.answers.size(), 40u);
    EXPECT_EQ(decoded.answers[39].rdata, (Bytes{10, 0, 0, 39}));
    EXPECT_EQ(message.size(), 12u + 10u + 40u * 16u + 11u);
}

TEST(ResponseBuilder, TcpLimitHoldsThousandsOfAnswers) {
    Exchange exchange(query_message("aone", kTypeA));
    const auto message = build_with(exchange, kMaxMessageSize, many_addresses(3000));
    const Decoded decoded = decode(message);
    EXPECT_FALSE(decoded.header.is_truncated());
    EXPECT_EQ(decoded.answers.size(), 3000u);
}

TEST(ResponseBuilder, OptRoomIsReservedBeforeAnswers) {
    // Header 12 + question "aone." 10 = 22. The dig OPT with its cookie is 23 bytes.
    // 30 A records: 22 + 480 = 502 fits without the OPT but 525 > 512 with it.
    const auto build = [](std::size_t count) {
        DnsMessage packet;
        packet.header(1, 0x0100, 1, 0, 0, 1).question("aone", kTypeA);
        packet.opt(512, 0, test_support::kDigCookieOption);
        Exchange exchange(packet);
        const auto message = build_with(exchange, 512, many_addresses(count));
        EXPECT_LE(message.size(), 512u);
        const Decoded decoded = decode(message);
        EXPECT_EQ(decoded.additional.size(), 1u);
        return decoded;
    };
    const Decoded fits = build(29); // 22 + 464 + 23 = 509
    EXPECT_FALSE(fits.header.is_truncated());
    EXPECT_EQ(fits.answers.size(), 29u);
    const Decoded over = build(30);
    EXPECT_TRUE(over.header.is_truncated());
    EXPECT_TRUE(over.answers.empty());
    EXPECT_EQ(over.additional[0].rdata.size(), 12u); // the cookie still comes back
}

TEST(ResponseBuilder, AnswersAfterTruncationAreIgnored) {
    Exchange exchange(query_message("aone", kTypeA));
    ResponseBuilder builder(exchange.out, exchange.request.span(), exchange.query, 512);
    for (const auto& address : many_addresses(40)) {
        builder.add_address(address);
    }
    builder.add_address(v4(1, 1, 1, 1)); // would fit on its own now
    builder.add_ptr("x.");
    const std::size_t length = builder.finish();
    const Decoded decoded = decode(std::span<const std::uint8_t>(exchange.out).first(length));
    EXPECT_TRUE(decoded.header.is_truncated());
    EXPECT_TRUE(decoded.answers.empty());
}

TEST(ResponseBuilder, SizeLimitAboveTheBufferUsesTheBuffer) {
    Exchange exchange(query_message("aone", kTypeA), 100);
    const auto message = build_with(exchange, 4096, many_addresses(10));
    ASSERT_FALSE(message.empty());
    EXPECT_LE(message.size(), 100u);
    EXPECT_TRUE(decode(message).header.is_truncated());
}

TEST(ResponseBuilder, BufferTooSmallForTheQuestionGivesZero) {
    Exchange exchange(query_message("aone.dns.podman", kTypeA), 20);
    ResponseBuilder builder(exchange.out, exchange.request.span(), exchange.query, 512);
    builder.add_address(v4(1, 2, 3, 4));
    EXPECT_EQ(builder.finish(), 0u);
}

TEST(ResponseBuilder, TwoQuestionsAreNeverAnswered) {
    DnsMessage packet;
    packet.header(1, 0x0100, 2, 0, 0, 0).question("first", kTypeA).question("second", kTypeA);
    Exchange exchange(packet);
    EXPECT_EQ(exchange.status, ParseStatus::FormErr); // RFC 9619; the handler replies FORMERR
}

TEST(ResponseBuilder, BadversCarriesItsUpperBitsAndVersionZeroInTheOpt) {
    DnsMessage packet;
    packet.header(3, 0x0100, 1, 0, 0, 1).question("a", kTypeA).opt(1232, 0x00018000);
    Exchange exchange(packet);
    const auto message = build_with(exchange, 1232, {}, Rcode::BadVers);
    const Decoded decoded = decode(message);
    EXPECT_EQ(decoded.header.rcode(), Rcode::NoError); // 16 & 0xf
    ASSERT_EQ(decoded.additional.size(), 1u);
    EXPECT_EQ(decoded.additional[0].ttl, 0x01008000u); // extended rcode 1, version 0, DO
}

TEST(ResponseBuilder, StrayRequestSectionsAreNotEchoed) {
    DnsMessage packet;
    packet.header(1, 0x0100, 1, 1, 0, 1).question("a", kTypeA);
    packet.u16(0xc00c).u16(1).u16(1).u32(60).u16(4).raw({9, 9, 9, 9});
    packet.opt(1232, 0);
    Exchange exchange(packet);
    const auto message = build_with(exchange, 1232, {v4(1, 2, 3, 4)});
    const Decoded decoded = decode(message);
    ASSERT_EQ(decoded.answers.size(), 1u);
    EXPECT_EQ(decoded.answers[0].rdata, (Bytes{1, 2, 3, 4}));
    EXPECT_EQ(decoded.additional.size(), 1u);
}

TEST(ResponseBuilder, CompressedQuestionIsWrittenOutWhole) {
    // The question name is a pointer into the request header (offset 4, a zero byte: the root).
    // Our header differs from the request's, so the pointer must not be copied.
    DnsMessage packet;
    packet.header(0x0101, 0x0100, 1, 0, 0, 0).u16(0xc004).u16(kTypeA).u16(1);
    Exchange exchange(packet);
    const auto message = build_with(exchange, 512, {v4(1, 2, 3, 4)});
    EXPECT_EQ(slice(message, 12, 5), (Bytes{0, 0, 1, 0, 1}));
    const Decoded decoded = decode(message);
    EXPECT_EQ(decoded.qname, ".");
    ASSERT_EQ(decoded.answers.size(), 1u);
    EXPECT_EQ(decoded.answers[0].owner, ".");
}

TEST(HeaderOnlyReply, FormErr) {
    const Bytes request = {0xab, 0xcd, 0x11, 0x70, 0, 0, 0xff, 0xff, 1, 2, 3, 4, 5, 6};
    std::array<std::uint8_t, 512> out{};
    const std::size_t length = build_header_only_reply(request, Rcode::FormErr, out);
    ASSERT_EQ(length, 12u);
    // ID; QR, opcode STATUS, RD, RA; FORMERR; all counts zero.
    EXPECT_EQ(slice(out, 0, 12), (Bytes{0xab, 0xcd, 0x91, 0x81, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(HeaderOnlyReply, NoRecursionDesired) {
    const Bytes request = {0, 1, 0x04, 0x30, 0, 1, 0, 0, 0, 0, 0, 0};
    std::array<std::uint8_t, 12> out{};
    ASSERT_EQ(build_header_only_reply(request, Rcode::ServFail, out), 12u);
    EXPECT_EQ(out[2], 0x80); // AA, AD, CD are not copied here
    EXPECT_EQ(out[3], 0x02);
}

TEST(HeaderOnlyReply, ShortRequestOrBuffer) {
    const Bytes short_request(11, 0);
    std::array<std::uint8_t, 12> out{};
    EXPECT_EQ(build_header_only_reply(short_request, Rcode::FormErr, out), 0u);
    const Bytes request(12, 0);
    std::array<std::uint8_t, 11> small{};
    EXPECT_EQ(build_header_only_reply(request, Rcode::FormErr, small), 0u);
}

} // namespace
} // namespace dns
