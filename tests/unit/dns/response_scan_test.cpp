#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "dns/response_scan.hpp"
#include "support/dns_message.hpp"

namespace dns {
namespace {

using test_support::DnsMessage;
using test_support::kTypeA;

constexpr unsigned kTypeSoa = 6;
constexpr unsigned kTypeCname = 5;
constexpr unsigned kResponseFlags = 0x8180; // QR RD RA, NOERROR
constexpr unsigned kQueryFlags = 0x0100;    // RD

// A record with an uncompressed owner; returns the offset of its TTL field.
std::size_t add_record(DnsMessage& packet, std::string_view owner, unsigned type, std::uint32_t ttl,
                       std::initializer_list<unsigned> rdata) {
    packet.name(owner).u16(type).u16(1);
    const std::size_t ttl_offset = packet.size();
    packet.u32(ttl).u16(static_cast<unsigned>(rdata.size())).raw(rdata);
    return ttl_offset;
}

// A record whose owner is a pointer to the question name at offset 12.
std::size_t add_compressed_a(DnsMessage& packet, std::uint32_t ttl) {
    packet.u16(0xc00c).u16(kTypeA).u16(1);
    const std::size_t ttl_offset = packet.size();
    packet.u32(ttl).u16(4).raw({192, 0, 2, 1});
    return ttl_offset;
}

// SOA in the authority section: MNAME and RNAME compressed to the qname, then five counters.
void add_soa(DnsMessage& packet, std::uint32_t ttl, std::uint32_t minimum) {
    packet.u16(0xc00c).u16(kTypeSoa).u16(1).u32(ttl).u16(4 + 20);
    packet.u16(0xc00c).u16(0xc00c).u32(2024010101).u32(7200).u32(900).u32(1209600).u32(minimum);
}

std::string name_text(const Name& name) {
    std::array<char, kMaxNameTextLength> buffer{};
    return std::string(name.format_text(buffer, false));
}

DnsMessage query_for(std::string_view qname, unsigned id = 0x1234) {
    DnsMessage packet;
    packet.header(id, kQueryFlags, 1, 0, 0, 0).question(qname, kTypeA);
    return packet;
}

TEST(ScanMessage, PositiveAnswerWithOpt) {
    DnsMessage packet;
    packet.header(0x1234, kResponseFlags, 1, 2, 0, 1).question("Example.COM", kTypeA);
    const std::size_t first = add_compressed_a(packet, 300);
    const std::size_t second = add_record(packet, "example.com", kTypeA, 60, {192, 0, 2, 2});
    packet.opt(1232, 0x00008000, {0x00, 0x0a, 0x00, 0x02, 0xab, 0xcd});

    std::array<std::uint16_t, 8> offsets{};
    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan, offsets));
    EXPECT_TRUE(scan.complete);
    EXPECT_EQ(scan.header.id, 0x1234);
    ASSERT_TRUE(scan.question.has_value());
    EXPECT_EQ(name_text(scan.question->name), "Example.COM.");
    EXPECT_EQ(scan.question->type, kTypeA);
    EXPECT_EQ(scan.question_end, 12u + 13u + 4u);
    EXPECT_EQ(scan.ttl_count, 2u);
    EXPECT_EQ(offsets[0], first);
    EXPECT_EQ(offsets[1], second);
    EXPECT_EQ(scan.min_ttl, 60u);
    EXPECT_FALSE(scan.negative_ttl.has_value());
    ASSERT_TRUE(scan.edns.has_value());
    EXPECT_EQ(scan.edns->udp_payload_size, 1232);
    EXPECT_EQ(scan.edns->flags, kEdnsDoFlag);
    EXPECT_EQ(scan.edns->options_length, 6u);
    EXPECT_EQ(scan.edns->options_offset, packet.size() - 6);
}

TEST(ScanMessage, NegativeTtlIsMinOfSoaTtlAndMinimum) {
    DnsMessage packet;
    packet.header(1, 0x8183, 1, 0, 1, 0).question("nope.example", kTypeA);
    add_soa(packet, 900, 300);
    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan));
    EXPECT_TRUE(scan.complete);
    EXPECT_EQ(scan.negative_ttl, 300u);
    EXPECT_EQ(scan.min_ttl, 900u);

    DnsMessage lower_ttl;
    lower_ttl.header(1, 0x8183, 1, 0, 1, 0).question("nope.example", kTypeA);
    add_soa(lower_ttl, 100, 300);
    ASSERT_TRUE(scan_message(lower_ttl.span(), scan));
    EXPECT_EQ(scan.negative_ttl, 100u);
}

TEST(ScanMessage, SoaOutsideAuthorityIsNotNegativeTtl) {
    DnsMessage packet;
    packet.header(1, kResponseFlags, 1, 1, 0, 0).question("example", kTypeSoa);
    add_soa(packet, 900, 300);
    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan));
    EXPECT_FALSE(scan.negative_ttl.has_value());
    EXPECT_EQ(scan.min_ttl, 900u);
}

TEST(ScanMessage, TopBitTtlCountsAsZero) {
    DnsMessage packet;
    packet.header(1, kResponseFlags, 1, 1, 0, 0).question("a", kTypeA);
    add_compressed_a(packet, 0x80000010U);
    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan));
    EXPECT_EQ(scan.min_ttl, 0u);
}

TEST(ScanMessage, CutRecordLeavesIncomplete) {
    DnsMessage packet;
    packet.header(1, 0x8380, 1, 2, 0, 0).question("a", kTypeA);
    add_compressed_a(packet, 30);
    packet.u16(0xc00c).u16(kTypeA); // second record stops after its TYPE
    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan));
    EXPECT_FALSE(scan.complete);
    EXPECT_EQ(scan.ttl_count, 1u);
}

TEST(ScanMessage, RdataLongerThanMessageIsIncomplete) {
    DnsMessage packet;
    packet.header(1, kResponseFlags, 1, 1, 0, 0).question("a", kTypeA);
    packet.u16(0xc00c).u16(kTypeA).u16(1).u32(30).u16(200).raw({1, 2, 3, 4});
    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan));
    EXPECT_FALSE(scan.complete);
}

TEST(ScanMessage, ShortHeaderOrBadQuestionFails) {
    const std::array<std::uint8_t, 11> short_header{};
    MessageScan scan;
    EXPECT_FALSE(scan_message(short_header, scan));

    DnsMessage bad_question;
    bad_question.header(1, kResponseFlags, 1, 0, 0, 0).raw({5, 'a', 'b'});
    EXPECT_FALSE(scan_message(bad_question.span(), scan));

    DnsMessage pointer_loop;
    pointer_loop.header(1, kResponseFlags, 1, 0, 0, 0).u16(0xc00c).u16(1).u16(1);
    EXPECT_FALSE(scan_message(pointer_loop.span(), scan));
}

TEST(ScanMessage, SecondOptIsMalformed) {
    DnsMessage packet;
    packet.header(1, kResponseFlags, 1, 0, 0, 2).question("a", kTypeA);
    packet.opt(1232, 0).opt(1232, 0);
    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan));
    EXPECT_FALSE(scan.complete);
}

TEST(ScanMessage, OffsetsBeyondSpanAreCountedNotWritten) {
    DnsMessage packet;
    packet.header(1, kResponseFlags, 1, 3, 0, 0).question("a", kTypeA);
    const std::size_t first = add_compressed_a(packet, 10);
    add_compressed_a(packet, 20);
    add_compressed_a(packet, 5);
    std::array<std::uint16_t, 1> offsets{};
    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan, offsets));
    EXPECT_EQ(scan.ttl_count, 3u);
    EXPECT_EQ(offsets[0], first);
    EXPECT_EQ(scan.min_ttl, 5u);
    EXPECT_GE(max_record_count(packet.size()), 3u);
}

TEST(MaxRecordCount, SmallestRecordIsElevenBytes) {
    EXPECT_EQ(max_record_count(0), 0u);
    EXPECT_EQ(max_record_count(12), 0u);
    EXPECT_EQ(max_record_count(23), 1u);
    EXPECT_EQ(max_record_count(65535), (65535u - 12u) / 11u);
}

TEST(CheckResponse, AcceptsMatchingAnswer) {
    const DnsMessage query = query_for("example.com");
    DnsMessage response;
    response.header(0x1234, kResponseFlags, 1, 1, 0, 0).question("EXAMPLE.com", kTypeA);
    add_compressed_a(response, 60);
    EXPECT_EQ(check_response(query.span(), response.span()), ResponseCheck::Accept);
}

TEST(CheckResponse, IgnoresOtherIdOrQuestion) {
    const DnsMessage query = query_for("example.com");
    DnsMessage other_id;
    other_id.header(0x1235, kResponseFlags, 1, 0, 0, 0).question("example.com", kTypeA);
    EXPECT_EQ(check_response(query.span(), other_id.span()), ResponseCheck::Ignore);

    DnsMessage other_name;
    other_name.header(0x1234, kResponseFlags, 1, 0, 0, 0).question("example.org", kTypeA);
    EXPECT_EQ(check_response(query.span(), other_name.span()), ResponseCheck::Ignore);

    DnsMessage other_type;
    other_type.header(0x1234, kResponseFlags, 1, 0, 0, 0).question("example.com", kTypeCname);
    EXPECT_EQ(check_response(query.span(), other_type.span()), ResponseCheck::Ignore);
}

TEST(CheckResponse, RejectsQueriesShortOrMalformed) {
    const DnsMessage query = query_for("example.com");
    EXPECT_EQ(check_response(query.span(), query.span()), ResponseCheck::Reject); // QR=0

    const std::array<std::uint8_t, 4> tiny{0x12, 0x34, 0x81, 0x80};
    EXPECT_EQ(check_response(query.span(), tiny), ResponseCheck::Reject);

    DnsMessage cut;
    cut.header(0x1234, kResponseFlags, 1, 1, 0, 0).question("example.com", kTypeA).raw({0xc0});
    EXPECT_EQ(check_response(query.span(), cut.span()), ResponseCheck::Reject);
}

TEST(CheckResponse, TruncatedAnswerNeedsOnlyHeaderAndQuestion) {
    const DnsMessage query = query_for("example.com");
    DnsMessage cut;
    cut.header(0x1234, 0x8380, 1, 5, 0, 0).question("example.com", kTypeA);
    add_compressed_a(cut, 60); // four more announced, none present
    EXPECT_EQ(check_response(query.span(), cut.span()), ResponseCheck::Accept);
}

TEST(CheckResponse, EmptyQuestionSectionIsRejected) {
    // Nothing ties it to the question asked: relaying it would answer the client's question
    // with anything (issue 8); the next upstream is tried instead.
    const DnsMessage query = query_for("example.com");
    DnsMessage formerr;
    formerr.header(0x1234, 0x8001, 0, 0, 0, 0);
    EXPECT_EQ(check_response(query.span(), formerr.span()), ResponseCheck::Reject);
    DnsMessage answer;
    answer.header(0x1234, kResponseFlags, 0, 1, 0, 0);
    add_record(answer, "example.com", kTypeA, 60, {1, 2, 3, 4});
    EXPECT_EQ(check_response(query.span(), answer.span()), ResponseCheck::Reject);
}

TEST(EdnsOptions, ClientSubnetIsFound) {
    DnsMessage packet;
    packet.header(1, 0x0100, 1, 0, 0, 1).question("a", kTypeA);
    packet.opt(1232, 0, {0, 10, 0, 0, 0, 8, 0, 7, 0, 1, 24, 0, 10, 1, 2});
    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan));
    EXPECT_TRUE(dns::has_edns_option(packet.span(), scan, dns::kEdnsOptionClientSubnet));
    EXPECT_TRUE(dns::has_edns_option(packet.span(), scan, dns::kEdnsOptionCookie));
    EXPECT_FALSE(dns::has_edns_option(packet.span(), scan, 3));
}

TEST(EdnsOptions, UdpSizeIsCappedOnlyDownwards) {
    DnsMessage packet;
    packet.header(1, 0x0100, 1, 0, 0, 1).question("a", kTypeA).opt(65000, 0);
    std::vector<std::uint8_t> bytes(packet.span().begin(), packet.span().end());
    EXPECT_TRUE(dns::cap_edns_udp_size(bytes, 4096));
    MessageScan scan;
    ASSERT_TRUE(scan_message(bytes, scan));
    ASSERT_TRUE(scan.edns.has_value());
    EXPECT_EQ(scan.edns->udp_payload_size, 4096);
    EXPECT_FALSE(dns::cap_edns_udp_size(bytes, 8192));
    EXPECT_FALSE(dns::cap_edns_udp_size(std::span(bytes).first(12), 512)); // no OPT parsed
}

TEST(TruncatedReply, KeepsHeaderAndQuestionAndSetsTc) {
    const DnsMessage query = query_for("example.com");
    DnsMessage big;
    big.header(0x1234, kResponseFlags, 1, 300, 0, 0).question("example.com", kTypeA);
    for (int i = 0; i < 300; ++i) {
        add_compressed_a(big, 60);
    }
    const auto cut = big.span().first(4096);
    std::vector<std::uint8_t> out(4096);
    const std::size_t size = dns::truncated_reply(cut, out);
    ASSERT_EQ(size, 12u + 13u + 4u);
    out.resize(size);
    MessageScan scan;
    ASSERT_TRUE(scan_message(out, scan));
    EXPECT_TRUE(scan.complete);
    EXPECT_TRUE(scan.header.is_truncated());
    EXPECT_EQ(scan.header.ancount, 0);
    EXPECT_EQ(check_response(query.span(), out), ResponseCheck::Accept);
    EXPECT_EQ(dns::truncated_reply(big.span().first(20), out), 0u); // question cut
}

TEST(AgeTtls, LowersAndStopsAtZero) {
    DnsMessage packet;
    packet.header(1, kResponseFlags, 1, 3, 0, 0).question("a", kTypeA);
    const std::size_t a = add_compressed_a(packet, 100);
    const std::size_t b = add_compressed_a(packet, 5);
    const std::size_t c = add_compressed_a(packet, 0x80000000U);
    std::vector<std::uint8_t>& bytes = packet.bytes();
    const std::array<std::uint16_t, 4> offsets{static_cast<std::uint16_t>(a),
                                               static_cast<std::uint16_t>(b),
                                               static_cast<std::uint16_t>(c), 0xfff0};
    age_ttls(bytes, offsets, 10);

    std::array<std::uint16_t, 3> rescanned{};
    MessageScan scan;
    ASSERT_TRUE(scan_message(bytes, scan, rescanned));
    EXPECT_EQ(scan.min_ttl, 0u);
    const auto ttl_at = [&bytes](std::size_t offset) {
        return (std::uint32_t{bytes[offset]} << 24) | (std::uint32_t{bytes[offset + 1]} << 16) |
               (std::uint32_t{bytes[offset + 2]} << 8) | bytes[offset + 3];
    };
    EXPECT_EQ(ttl_at(a), 90u);
    EXPECT_EQ(ttl_at(b), 0u);
    EXPECT_EQ(ttl_at(c), 0u);
}

TEST(HeaderPatches, IdAndRecursionAvailable) {
    DnsMessage packet;
    packet.header(0x1111, 0x8100, 1, 0, 0, 0).question("a", kTypeA);
    std::vector<std::uint8_t>& bytes = packet.bytes();
    set_message_id(bytes, 0xbeef);
    EXPECT_EQ(message_id(bytes), 0xbeef);
    set_recursion_available(bytes);
    EXPECT_EQ(bytes[2], 0x81);
    EXPECT_EQ(bytes[3], 0x80);

    DnsMessage no_rd;
    no_rd.header(0x1111, 0x8000, 1, 0, 0, 0).question("a", kTypeA);
    set_recursion_available(no_rd.bytes());
    EXPECT_EQ(no_rd.bytes()[3], 0x00);

    std::array<std::uint8_t, 1> tiny{0x42};
    set_message_id(tiny, 1);
    set_recursion_available(tiny);
    EXPECT_EQ(tiny[0], 0x42);
    EXPECT_EQ(message_id(tiny), 0);
}

TEST(CopyWithoutEdnsOption, RemovesCookieKeepsOthersAndTail) {
    DnsMessage packet;
    packet.header(1, kResponseFlags, 1, 1, 0, 2).question("a", kTypeA);
    add_compressed_a(packet, 60);
    // COOKIE (10, 16 bytes) then EDE (15, 2 bytes); then a record after the OPT.
    packet.opt(1232, 0, {0x00, 0x0a, 0x00, 0x10, 1,  2,  3,  4,    5,    6,    7,    8,    9,
                         10,   11,   12,   13,   14, 15, 16, 0x00, 0x0f, 0x00, 0x02, 0x00, 0x12});
    add_record(packet, "b", kTypeA, 77, {10, 0, 0, 1});

    MessageScan scan;
    ASSERT_TRUE(scan_message(packet.span(), scan));
    ASSERT_TRUE(scan.complete);
    std::vector<std::uint8_t> out(packet.size());
    const std::size_t size = copy_without_edns_option(packet.span(), scan, kEdnsOptionCookie, out);
    ASSERT_EQ(size, packet.size() - 20);
    out.resize(size);

    std::array<std::uint16_t, 4> offsets{};
    MessageScan stripped;
    ASSERT_TRUE(scan_message(out, stripped, offsets));
    EXPECT_TRUE(stripped.complete);
    ASSERT_TRUE(stripped.edns.has_value());
    EXPECT_EQ(stripped.edns->options_length, 6u);
    EXPECT_EQ(out[stripped.edns->options_offset + 1], 0x0f);
    EXPECT_EQ(stripped.ttl_count, 2u);
    EXPECT_EQ(stripped.min_ttl, 60u);
    EXPECT_EQ(out.back(), 1); // the trailing record's last RDATA byte survived
}

TEST(CopyWithoutEdnsOption, FailsWithoutOptOrOnBadOptions) {
    const DnsMessage plain = query_for("a");
    MessageScan scan;
    ASSERT_TRUE(scan_message(plain.span(), scan));
    std::vector<std::uint8_t> out(plain.size());
    EXPECT_EQ(copy_without_edns_option(plain.span(), scan, kEdnsOptionCookie, out), 0u);

    DnsMessage bad;
    bad.header(1, kResponseFlags, 1, 0, 0, 1).question("a", kTypeA).opt(512, 0, {0, 10, 0, 9, 1});
    ASSERT_TRUE(scan_message(bad.span(), scan));
    out.resize(bad.size());
    EXPECT_EQ(copy_without_edns_option(bad.span(), scan, kEdnsOptionCookie, out), 0u);

    std::vector<std::uint8_t> small(3);
    DnsMessage good;
    good.header(1, kResponseFlags, 1, 0, 0, 1).question("a", kTypeA).opt(512, 0);
    ASSERT_TRUE(scan_message(good.span(), scan));
    EXPECT_EQ(copy_without_edns_option(good.span(), scan, kEdnsOptionCookie, small), 0u);
}

TEST(NamesEqualIgnoreCase, FoldsAsciiOnly) {
    Name upper;
    Name lower;
    Name other;
    ASSERT_TRUE(upper.assign_text("WWW.Example.COM"));
    ASSERT_TRUE(lower.assign_text("www.example.com."));
    ASSERT_TRUE(other.assign_text("www.example.co"));
    EXPECT_TRUE(names_equal_ignore_case(upper, lower));
    EXPECT_FALSE(names_equal_ignore_case(upper, other));
}

} // namespace
} // namespace dns
