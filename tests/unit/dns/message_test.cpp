#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dns/message.hpp"
#include "support/dns_message.hpp"

namespace dns {
namespace {

using test_support::dig_query;
using test_support::DnsMessage;
using test_support::kTypeA;
using test_support::kTypeAaaa;
using test_support::kTypePtr;
using test_support::query_message;

std::string qname_text(const Query& query) {
    std::array<char, kMaxNameTextLength> buffer{};
    return std::string(query.question.name.format_text(buffer, false));
}

ParseStatus parse(const DnsMessage& packet, Query& query) {
    return parse_query(packet.span(), query);
}

TEST(ParseQuery, DigQueryWithEdnsAndCookie) {
    const DnsMessage packet = dig_query("AOne.dns.podman", kTypeA, 0x1d2c);
    Query query;
    ASSERT_EQ(parse(packet, query), ParseStatus::Ok);
    EXPECT_EQ(query.header.id, 0x1d2c);
    EXPECT_TRUE(query.header.wants_recursion());
    EXPECT_EQ(query.header.opcode(), Opcode::Query);
    EXPECT_EQ(qname_text(query), "AOne.dns.podman.");
    EXPECT_EQ(query.question.type, static_cast<std::uint16_t>(RecordType::A));
    EXPECT_EQ(query.question.klass, static_cast<std::uint16_t>(RecordClass::In));
    EXPECT_EQ(query.question_offset, 12u);
    EXPECT_EQ(query.question_end, 12u + 17u + 4u);

    ASSERT_TRUE(query.edns.has_value());
    EXPECT_EQ(query.edns->udp_payload_size, 1232);
    EXPECT_EQ(query.edns->version, 0);
    EXPECT_EQ(query.edns->extended_rcode, 0);
    EXPECT_EQ(query.edns->flags, 0);
    // The options are the 12 bytes at the very end: COOKIE (10), length 8, client cookie.
    EXPECT_EQ(query.edns->options_length, 12u);
    EXPECT_EQ(query.edns->options_offset, packet.size() - 12);
    EXPECT_EQ(packet.span()[query.edns->options_offset + 1], 0x0a);
    EXPECT_EQ(query.udp_response_limit(), 1232u);
}

TEST(ParseQuery, EdnsTtlFieldsAreSplit) {
    DnsMessage packet;
    packet.header(7, 0, 1, 0, 0, 1).question("x", kTypeAaaa).opt(4096, 0x01028000);
    Query query;
    ASSERT_EQ(parse(packet, query), ParseStatus::Ok);
    ASSERT_TRUE(query.edns.has_value());
    EXPECT_EQ(query.edns->extended_rcode, 1);
    EXPECT_EQ(query.edns->version, 2);
    EXPECT_EQ(query.edns->flags, 0x8000); // DO
    EXPECT_EQ(query.edns->options_length, 0u);
}

TEST(ParseQuery, NoEdns) {
    const DnsMessage packet = query_message("atwo", kTypeAaaa);
    Query query;
    ASSERT_EQ(parse(packet, query), ParseStatus::Ok);
    EXPECT_FALSE(query.edns.has_value());
    EXPECT_EQ(query.udp_response_limit(), 512u);
    EXPECT_EQ(qname_text(query), "atwo.");
    EXPECT_EQ(query.question.type, kTypeAaaa);
    EXPECT_EQ(query.question_end, packet.size());
}

TEST(ParseQuery, UdpResponseLimitIsClamped) {
    const auto limit_for = [](unsigned payload) {
        DnsMessage packet;
        packet.header(1, 0, 1, 0, 0, 1).question("a", kTypeA).opt(payload, 0);
        Query query;
        EXPECT_EQ(parse(packet, query), ParseStatus::Ok);
        return query.udp_response_limit();
    };
    EXPECT_EQ(limit_for(0), 512u);
    EXPECT_EQ(limit_for(100), 512u);
    EXPECT_EQ(limit_for(512), 512u);
    EXPECT_EQ(limit_for(1232), 1232u);
    EXPECT_EQ(limit_for(4096), 4096u);
    EXPECT_EQ(limit_for(65535), 4096u);
}

TEST(ParseQuery, OtherQuestionFieldsAreKept) {
    DnsMessage packet;
    packet.header(9, 0x0000, 1, 0, 0, 0).question("53.117.187.10.in-addr.arpa", kTypePtr, 3);
    Query query;
    ASSERT_EQ(parse(packet, query), ParseStatus::Ok);
    EXPECT_EQ(query.question.type, kTypePtr);
    EXPECT_EQ(query.question.klass, 3); // CH is accepted
    EXPECT_FALSE(query.header.wants_recursion());
}

TEST(ParseQuery, SecondQuestionIsFormErr) {
    DnsMessage packet;
    packet.header(1, 0x0100, 2, 0, 0, 1).question("aone.dns.podman", kTypeA);
    packet
        .raw("\x04"
             "atwo")
        .u16(0xc000 | 17)
        .u16(kTypeA)
        .u16(1); // atwo + "dns.podman" at 17
    packet.opt(1232, 0);
    Query query;
    // RFC 9619: answering the first and ignoring the rest would mislead the client.
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
}

TEST(ParseQuery, FirstQuestionMayPointIntoTheHeader) {
    // A pointer before the question is "prior" data. Offset 4 is QDCOUNT's high byte, zero:
    // the name is the root.
    DnsMessage packet;
    packet.header(0x0101, 0x0000, 1, 0, 0, 0).u16(0xc004).u16(kTypeA).u16(1);
    Query query;
    ASSERT_EQ(parse(packet, query), ParseStatus::Ok);
    EXPECT_EQ(qname_text(query), ".");
    EXPECT_EQ(query.question_end, 18u);
}

TEST(ParseQuery, PointerLoopInQuestionIsFormErr) {
    DnsMessage packet;
    packet.header(0x7777, 0x0100, 1, 0, 0, 0)
        .raw("\x01"
             "a")
        .u16(0xc00c)
        .u16(1)
        .u16(1);
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
    EXPECT_EQ(query.header.id, 0x7777); // the header is still valid for the FORMERR reply
}

TEST(ParseQuery, ForwardPointerInQuestionIsFormErr) {
    DnsMessage packet;
    packet.header(1, 0, 1, 0, 0, 0).u16(0xc000 | 18).u16(1).u16(1).name("later");
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
}

TEST(ParseQuery, OutOfBoundsPointerIsFormErr) {
    DnsMessage packet;
    packet.header(1, 0, 1, 0, 0, 0).u16(0xffff).u16(1).u16(1);
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
}

TEST(ParseQuery, LabelTooLongIsFormErr) {
    DnsMessage packet;
    packet.header(1, 0, 1, 0, 0, 0).u8(64).raw(std::string(64, 'a')).u8(0).u16(1).u16(1);
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
}

TEST(ParseQuery, NameLongerThan255IsFormErr) {
    const std::string label(63, 'q');
    DnsMessage packet;
    packet.header(1, 0, 1, 0, 0, 0).question(label + "." + label + "." + label + "." + label, 1);
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
}

TEST(ParseQuery, ShortOrEmptyPacketIsDropped) {
    Query query;
    EXPECT_EQ(parse_query({}, query), ParseStatus::Drop);
    DnsMessage packet = query_message("a", kTypeA);
    packet.bytes().resize(11);
    EXPECT_EQ(parse(packet, query), ParseStatus::Drop);
}

TEST(ParseQuery, TruncatedQuestionIsFormErr) {
    const DnsMessage full = query_message("aone.dns.podman", kTypeA);
    for (std::size_t size = 12; size < full.size(); ++size) {
        DnsMessage cut = full;
        cut.bytes().resize(size);
        Query query;
        EXPECT_EQ(parse(cut, query), ParseStatus::FormErr) << size;
    }
}

TEST(ParseQuery, ZeroQuestionsIsFormErr) {
    DnsMessage packet;
    packet.header(0x1234, 0x0100, 0, 0, 0, 0);
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
    EXPECT_EQ(query.header.id, 0x1234);
}

TEST(ParseQuery, ResponsesAreDropped) {
    DnsMessage packet;
    packet.header(1, 0x8180, 1, 0, 0, 0).question("aone", kTypeA);
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::Drop);
}

TEST(ParseQuery, TwoOptRecordsAreFormErr) {
    DnsMessage packet;
    packet.header(1, 0, 1, 0, 0, 2).question("a", kTypeA).opt(1232, 0).opt(1232, 0);
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
}

TEST(ParseQuery, OptWithNonRootOwnerIsFormErr) {
    DnsMessage packet;
    packet.header(1, 0, 1, 0, 0, 1).question("a", kTypeA);
    packet.name("x").u16(41).u16(1232).u32(0).u16(0);
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
}

TEST(ParseQuery, OptOwnerCompressedToTheRootIsAccepted) {
    // Pointing at the root byte that ends the question name still names the root.
    DnsMessage packet;
    packet.header(1, 0, 1, 0, 0, 1).question("a", kTypeA);
    packet.u16(0xc000 | 14).u16(41).u16(1400).u32(0).u16(0);
    Query query;
    ASSERT_EQ(parse(packet, query), ParseStatus::Ok);
    ASSERT_TRUE(query.edns.has_value());
    EXPECT_EQ(query.edns->udp_payload_size, 1400);
}

TEST(ParseQuery, MalformedOptOptionsAreFormErr) {
    DnsMessage packet;
    // One option claiming 8 bytes of data where 2 follow.
    packet.header(1, 0, 1, 0, 0, 1).question("a", kTypeA).opt(1232, 0, {0, 10, 0, 8, 1, 2});
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
    DnsMessage half;
    half.header(1, 0, 1, 0, 0, 1).question("a", kTypeA).opt(1232, 0, {0, 10, 0});
    EXPECT_EQ(parse(half, query), ParseStatus::FormErr);
}

TEST(ParseQuery, OptRdataPastTheEndIsFormErr) {
    DnsMessage packet;
    packet.header(1, 0, 1, 0, 0, 1).question("a", kTypeA);
    packet.u8(0).u16(41).u16(1232).u32(0).u16(20).raw({0, 10, 0, 0});
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
}

TEST(ParseQuery, AnswerAndAuthorityRecordsAreSkipped) {
    DnsMessage packet;
    packet.header(0x55aa, 0x0100, 1, 1, 1, 2).question("aone.dns.podman", kTypeA);
    // Answer: owner compressed to the question, A 10.0.0.1.
    packet.u16(0xc00c).u16(1).u16(1).u32(60).u16(4).raw({10, 0, 0, 1});
    // Authority: an uncompressed owner, empty RDATA.
    packet.name("dns.podman").u16(2).u16(1).u32(0).u16(0);
    // Additional: a non-OPT record, then the OPT.
    packet.name("glue").u16(1).u16(1).u32(0).u16(4).raw({1, 2, 3, 4});
    packet.opt(2048, 0x00008000, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});
    Query query;
    ASSERT_EQ(parse(packet, query), ParseStatus::Ok);
    EXPECT_EQ(qname_text(query), "aone.dns.podman.");
    ASSERT_TRUE(query.edns.has_value());
    EXPECT_EQ(query.edns->udp_payload_size, 2048);
    EXPECT_EQ(query.edns->flags, 0x8000);
    EXPECT_EQ(query.edns->options_length, 12u);
    EXPECT_EQ(query.edns->options_offset, packet.size() - 12);
}

TEST(ParseQuery, AnswerRdataPastTheEndIsFormErr) {
    DnsMessage packet;
    packet.header(1, 0, 1, 1, 0, 0).question("a", kTypeA);
    packet.u16(0xc00c).u16(1).u16(1).u32(0).u16(100).raw({10, 0, 0, 1});
    Query query;
    EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
}

TEST(ParseQuery, CountsLargerThanThePacketAreFormErr) {
    for (const auto& counts :
         {std::array<unsigned, 3>{0xffff, 0, 0}, std::array<unsigned, 3>{0, 0xffff, 0},
          std::array<unsigned, 3>{0, 0, 0xffff}}) {
        DnsMessage packet;
        packet.header(1, 0, 1, counts[0], counts[1], counts[2]).question("a", kTypeA);
        Query query;
        EXPECT_EQ(parse(packet, query), ParseStatus::FormErr);
    }
    DnsMessage questions;
    questions.header(1, 0, 0xffff, 0, 0, 0).question("a", kTypeA);
    Query query;
    EXPECT_EQ(parse(questions, query), ParseStatus::FormErr);
}

TEST(ParseQuery, ReusedQueryIsReset) {
    Query query;
    ASSERT_EQ(parse(dig_query("first.example", kTypeA), query), ParseStatus::Ok);
    ASSERT_TRUE(query.edns.has_value());
    ASSERT_EQ(parse(query_message("b", kTypeAaaa), query), ParseStatus::Ok);
    EXPECT_FALSE(query.edns.has_value());
    EXPECT_EQ(qname_text(query), "b.");
    EXPECT_EQ(query.question.type, kTypeAaaa);
}

} // namespace
} // namespace dns
