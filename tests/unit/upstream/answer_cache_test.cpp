#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dns/response_scan.hpp"
#include "support/dns_message.hpp"
#include "upstream/answer_cache.hpp"

namespace upstream {
namespace {

using namespace std::chrono_literals;
using test_support::DnsMessage;
using test_support::kFlagAd;
using test_support::kFlagCd;
using test_support::kFlagQr;
using test_support::kFlagRa;
using test_support::kFlagRd;
using test_support::kFlagTc;
using test_support::kTypeA;
using test_support::kTypeAaaa;
using test_support::make_edns_query;
using test_support::make_query;
using test_support::read_u16;
using test_support::read_u32;

constexpr unsigned kAnswerFlags = kFlagQr | kFlagRd | kFlagRa;
const AnswerCache::TimePoint kStart{std::chrono::hours{1000}};

base::Nameserver server(const char* address, std::uint16_t port = 53, std::uint32_t scope = 0) {
    return base::Nameserver{*base::IpAddress::parse(address), scope, port};
}

const std::vector<base::Nameserver> kServers{server("192.0.2.53")};

std::vector<std::uint8_t> a_answer(std::string_view qname, std::uint32_t ttl,
                                   unsigned id = 0x4242) {
    DnsMessage answer;
    answer.header(id, kAnswerFlags, 1, 1, 0, 0).question(qname, kTypeA);
    answer.a_record(ttl, {192, 0, 2, 7});
    return answer.bytes();
}

std::vector<std::uint8_t> negative_answer(std::string_view qname, unsigned rcode,
                                          std::uint32_t soa_ttl, std::uint32_t minimum) {
    DnsMessage answer;
    answer.header(0x4242, kAnswerFlags | rcode, 1, 0, 1, 0).question(qname, kTypeA);
    answer.soa_record(soa_ttl, minimum);
    return answer.bytes();
}

std::optional<std::uint32_t> ttl_of(const std::vector<std::uint8_t>& response) {
    dns::MessageScan scan;
    if (!dns::scan_message(response, scan)) {
        return std::nullopt;
    }
    return cacheable_ttl(scan);
}

std::string key_of(const std::vector<std::uint8_t>& query,
                   const std::vector<base::Nameserver>& servers = kServers) {
    const auto described = describe_query(servers, query);
    return described ? described->key : std::string();
}

class AnswerCacheTest : public ::testing::Test {
protected:
    void insert(const std::vector<std::uint8_t>& query, const std::vector<std::uint8_t>& answer,
                AnswerCache::TimePoint now = kStart) {
        ASSERT_TRUE(cache_.insert(key_of(query), answer, now));
    }

    std::optional<std::vector<std::uint8_t>> lookup(const std::vector<std::uint8_t>& query,
                                                    AnswerCache::TimePoint now,
                                                    std::size_t max_size = 65535) {
        const auto described = describe_query(kServers, query);
        EXPECT_TRUE(described.has_value());
        return cache_.lookup(*described, query, max_size, now);
    }

    AnswerCache cache_;
};

TEST(DescribeQuery, KeyIgnoresIdAndCase) {
    EXPECT_EQ(key_of(make_query("Example.COM", kTypeA, 1)), key_of(make_query("example.com")));
    EXPECT_FALSE(key_of(make_query("example.com")).empty());
}

TEST(DescribeQuery, KeySeparatesEverythingThatChangesTheAnswer) {
    const std::string base = key_of(make_query("example.com"));
    EXPECT_NE(base, key_of(make_query("example.org")));
    EXPECT_NE(base, key_of(make_query("example.com", kTypeAaaa)));
    EXPECT_NE(base, key_of(make_query("example.com", kTypeA, 0x4242, 0)));
    EXPECT_NE(base, key_of(make_query("example.com", kTypeA, 0x4242, kFlagRd | kFlagCd)));
    EXPECT_NE(base, key_of(make_query("example.com", kTypeA, 0x4242, kFlagRd | kFlagAd)));
    EXPECT_NE(base, key_of(make_edns_query("example.com", 0x4242, false, false)));
    EXPECT_NE(key_of(make_edns_query("example.com", 1, false, false)),
              key_of(make_edns_query("example.com", 1, true, false)));
    // The client's cookie is not part of the key: it is stripped from cached answers.
    EXPECT_EQ(key_of(make_edns_query("example.com", 1, false, false)),
              key_of(make_edns_query("example.com", 2, false, true)));

    DnsMessage chaos;
    chaos.header(0x4242, kFlagRd, 1, 0, 0, 0).question("example.com", kTypeA, 3);
    EXPECT_NE(base, key_of(chaos.bytes()));

    const auto query = make_query("example.com");
    EXPECT_NE(base, key_of(query, {server("192.0.2.54")}));
    EXPECT_NE(base, key_of(query, {server("192.0.2.53", 5353)}));
    EXPECT_NE(key_of(query, {server("fe80::1", 53, 2)}), key_of(query, {server("fe80::1", 53, 3)}));
    EXPECT_NE(key_of(query, {server("192.0.2.1"), server("192.0.2.2")}),
              key_of(query, {server("192.0.2.2"), server("192.0.2.1")}));
    EXPECT_NE(key_of(query, {server("192.0.2.1"), server("192.0.2.2")}),
              key_of(query, {server("192.0.2.1")}));
}

TEST(DescribeQuery, OnlyPlainQueries) {
    EXPECT_FALSE(describe_query(kServers, a_answer("example.com", 60)));
    EXPECT_FALSE(describe_query(kServers, make_query("example.com", kTypeA, 1, 0x2800))); // UPDATE
    DnsMessage two_questions;
    two_questions.header(1, kFlagRd, 2, 0, 0, 0).question("a", kTypeA).question("b", kTypeA);
    EXPECT_FALSE(describe_query(kServers, two_questions.bytes()));
    DnsMessage no_question;
    no_question.header(1, kFlagRd, 0, 0, 0, 0);
    EXPECT_FALSE(describe_query(kServers, no_question.bytes()));
    const std::vector<std::uint8_t> garbage{1, 2, 3};
    EXPECT_FALSE(describe_query(kServers, garbage));
}

TEST(DescribeQuery, UdpLimitFollowsEdns) {
    EXPECT_EQ(describe_query(kServers, make_query("a"))->udp_limit, 512u);
    EXPECT_EQ(describe_query(kServers, make_edns_query("a", 1, false, false))->udp_limit, 1232u);
    DnsMessage small;
    small.header(1, kFlagRd, 1, 0, 0, 1).question("a", kTypeA).opt(100, 0);
    EXPECT_EQ(describe_query(kServers, small.bytes())->udp_limit, 512u);
    DnsMessage large;
    large.header(1, kFlagRd, 1, 0, 0, 1).question("a", kTypeA).opt(65000, 0);
    EXPECT_EQ(describe_query(kServers, large.bytes())->udp_limit, 4096u);
}

TEST(CacheableTtl, PositiveIsSmallestRecordTtl) {
    DnsMessage answer;
    answer.header(1, kAnswerFlags, 1, 2, 1, 0).question("a", kTypeA);
    answer.a_record(300, {1, 2, 3, 4}).a_record(120, {1, 2, 3, 5}).soa_record(3000, 600);
    EXPECT_EQ(ttl_of(answer.bytes()), 120u);
}

TEST(CacheableTtl, NegativePerRfc2308) {
    EXPECT_EQ(ttl_of(negative_answer("a", test_support::kRcodeNxDomain, 900, 60)), 60u);
    EXPECT_EQ(ttl_of(negative_answer("a", test_support::kRcodeNxDomain, 30, 600)), 30u);
    EXPECT_EQ(ttl_of(negative_answer("a", 0, 900, 45)), 45u); // NODATA

    DnsMessage no_soa;
    no_soa.header(1, kAnswerFlags | test_support::kRcodeNxDomain, 1, 0, 0, 0).question("a", kTypeA);
    EXPECT_FALSE(ttl_of(no_soa.bytes()));
}

TEST(CacheableTtl, NeverForFailuresTruncationOrZeroTtl) {
    EXPECT_FALSE(ttl_of(negative_answer("a", test_support::kRcodeServFail, 900, 60)));
    EXPECT_FALSE(ttl_of(negative_answer("a", test_support::kRcodeRefused, 900, 60)));
    EXPECT_FALSE(ttl_of(a_answer("a", 0)));

    DnsMessage truncated;
    truncated.header(1, kAnswerFlags | kFlagTc, 1, 1, 0, 0).question("a", kTypeA);
    truncated.a_record(60, {1, 2, 3, 4});
    EXPECT_FALSE(ttl_of(truncated.bytes()));

    DnsMessage cut;
    cut.header(1, kAnswerFlags, 1, 2, 0, 0).question("a", kTypeA).a_record(60, {1, 2, 3, 4});
    EXPECT_FALSE(ttl_of(cut.bytes()));

    DnsMessage badvers; // extended RCODE 16 (BADVERS) with header RCODE 0
    badvers.header(1, kAnswerFlags, 1, 1, 0, 1).question("a", kTypeA).a_record(60, {1, 2, 3, 4});
    badvers.opt(1232, 0x01000000);
    EXPECT_FALSE(ttl_of(badvers.bytes()));
}

TEST_F(AnswerCacheTest, HitRestoresIdCaseAndAgesTtls) {
    insert(make_query("example.com"), a_answer("example.com", 300));
    const auto query = make_query("EXAMPLE.com", kTypeA, 0x0707);
    const auto hit = lookup(query, kStart + 42s + 900ms);
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(read_u16(*hit, 0), 0x0707u);
    EXPECT_EQ(std::vector<std::uint8_t>(hit->begin() + 12, hit->begin() + 25),
              std::vector<std::uint8_t>(query.begin() + 12, query.begin() + 25));
    EXPECT_EQ(read_u32(*hit, hit->size() - 10), 300u - 42u);
    EXPECT_EQ(cache_.stats().hits, 1u);
}

TEST_F(AnswerCacheTest, ExpiresAfterTtl) {
    insert(make_query("example.com"), a_answer("example.com", 30));
    EXPECT_TRUE(lookup(make_query("example.com"), kStart + 29s));
    EXPECT_FALSE(lookup(make_query("example.com"), kStart + 30s));
    EXPECT_EQ(cache_.size(), 0u);
    EXPECT_EQ(cache_.stats().expirations, 1u);
}

TEST_F(AnswerCacheTest, TtlIsCapped) {
    AnswerCache capped(CacheSettings{.max_ttl = 3600s});
    const auto query = make_query("example.com");
    ASSERT_TRUE(capped.insert(key_of(query), a_answer("example.com", 86400), kStart));
    const auto described = describe_query(kServers, query);
    const auto hit = capped.lookup(*described, query, 65535, kStart + 3599s);
    ASSERT_TRUE(hit);
    // The record keeps its own TTL, aged; only how long we keep it is capped.
    EXPECT_EQ(read_u32(*hit, hit->size() - 10), 86400u - 3599u);
    EXPECT_FALSE(capped.lookup(*described, query, 65535, kStart + 3600s));
}

TEST_F(AnswerCacheTest, NegativeAnswersAreCachedForTheSoaTtl) {
    const auto query = make_query("nope.example");
    insert(query, negative_answer("nope.example", test_support::kRcodeNxDomain, 900, 60));
    const auto hit = lookup(query, kStart + 59s);
    ASSERT_TRUE(hit);
    EXPECT_EQ((*hit)[3] & 0x0f, test_support::kRcodeNxDomain);
    EXPECT_FALSE(lookup(query, kStart + 60s));
}

TEST_F(AnswerCacheTest, FailuresAndTruncatedAreNotStored) {
    const auto query = make_query("example.com");
    EXPECT_FALSE(cache_.insert(key_of(query),
                               negative_answer("example.com", test_support::kRcodeServFail, 60, 60),
                               kStart));
    EXPECT_FALSE(cache_.insert(key_of(query),
                               negative_answer("example.com", test_support::kRcodeRefused, 60, 60),
                               kStart));
    DnsMessage truncated;
    truncated.header(0x4242, kAnswerFlags | kFlagTc, 1, 0, 0, 0).question("example.com", kTypeA);
    EXPECT_FALSE(cache_.insert(key_of(query), truncated.bytes(), kStart));
    EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(AnswerCacheTest, KeysAreSeparate) {
    insert(make_query("a.example"), a_answer("a.example", 60));
    EXPECT_FALSE(lookup(make_query("b.example"), kStart));
    EXPECT_FALSE(lookup(make_query("a.example", kTypeAaaa), kStart));
    EXPECT_FALSE(lookup(make_query("a.example", kTypeA, 1, kFlagRd | kFlagCd), kStart));
    EXPECT_FALSE(lookup(make_edns_query("a.example", 1, true, false), kStart));
    EXPECT_TRUE(lookup(make_query("A.Example"), kStart));
    const std::vector<base::Nameserver> elsewhere{server("192.0.2.99")};
    const auto other_servers = describe_query(elsewhere, make_query("a.example"));
    EXPECT_FALSE(cache_.lookup(*other_servers, make_query("a.example"), 65535, kStart));
}

TEST_F(AnswerCacheTest, LeastRecentlyUsedIsEvictedAtEntryBound) {
    AnswerCache small(CacheSettings{.max_entries = 2});
    const auto qa = make_query("a.example");
    const auto qb = make_query("b.example");
    const auto qc = make_query("c.example");
    ASSERT_TRUE(small.insert(key_of(qa), a_answer("a.example", 60), kStart));
    ASSERT_TRUE(small.insert(key_of(qb), a_answer("b.example", 60), kStart));
    ASSERT_TRUE(small.lookup(*describe_query(kServers, qa), qa, 65535, kStart)); // a is fresher
    ASSERT_TRUE(small.insert(key_of(qc), a_answer("c.example", 60), kStart));
    EXPECT_EQ(small.size(), 2u);
    EXPECT_EQ(small.stats().evictions, 1u);
    EXPECT_TRUE(small.lookup(*describe_query(kServers, qa), qa, 65535, kStart));
    EXPECT_FALSE(small.lookup(*describe_query(kServers, qb), qb, 65535, kStart));
    EXPECT_TRUE(small.lookup(*describe_query(kServers, qc), qc, 65535, kStart));
}

TEST_F(AnswerCacheTest, ByteBoundEvicts) {
    AnswerCache small(CacheSettings{.max_bytes = 700});
    for (int i = 0; i < 20; ++i) {
        const std::string name = "host" + std::to_string(i) + ".example";
        small.insert(key_of(make_query(name)), a_answer(name, 60), kStart);
        EXPECT_LE(small.bytes(), 700u);
    }
    EXPECT_GE(small.size(), 1u);
    EXPECT_LT(small.size(), 20u);
    EXPECT_GT(small.stats().evictions, 0u);
    const auto last = make_query("host19.example");
    EXPECT_TRUE(small.lookup(*describe_query(kServers, last), last, 65535, kStart));

    AnswerCache tiny(CacheSettings{.max_bytes = 10});
    EXPECT_FALSE(tiny.insert(key_of(last), a_answer("host19.example", 60), kStart));
}

TEST_F(AnswerCacheTest, FlushDropsEverything) {
    insert(make_query("a.example"), a_answer("a.example", 60));
    insert(make_query("b.example"), a_answer("b.example", 60));
    cache_.clear();
    EXPECT_EQ(cache_.size(), 0u);
    EXPECT_EQ(cache_.bytes(), 0u);
    EXPECT_FALSE(lookup(make_query("a.example"), kStart));
}

TEST_F(AnswerCacheTest, SameKeyReplaces) {
    insert(make_query("a.example"), a_answer("a.example", 60));
    insert(make_query("a.example"), a_answer("a.example", 600), kStart + 10s);
    EXPECT_EQ(cache_.size(), 1u);
    const auto hit = lookup(make_query("a.example"), kStart + 100s);
    ASSERT_TRUE(hit);
    EXPECT_EQ(read_u32(*hit, hit->size() - 10), 510u);
}

TEST_F(AnswerCacheTest, TooLargeForTheClientIsAMissButKept) {
    insert(make_query("a.example"), a_answer("a.example", 60));
    EXPECT_FALSE(lookup(make_query("a.example"), kStart, 20));
    EXPECT_EQ(cache_.size(), 1u);
    EXPECT_TRUE(lookup(make_query("a.example"), kStart, 512));
}

TEST_F(AnswerCacheTest, ClientCookieIsNotServedToOthers) {
    const auto query = make_edns_query("a.example", 0x4242, false, true);
    DnsMessage answer;
    answer.header(0x4242, kAnswerFlags, 1, 1, 0, 1).question("a.example", kTypeA);
    answer.a_record(60, {192, 0, 2, 1});
    answer.opt(1232, 0, {0x00, 0x0a, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9});
    insert(query, answer.bytes());

    const auto hit = lookup(make_edns_query("a.example", 0x0101, false, true), kStart + 1s);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->size(), answer.size() - 20);
    dns::MessageScan scan;
    ASSERT_TRUE(dns::scan_message(*hit, scan));
    EXPECT_TRUE(scan.complete);
    ASSERT_TRUE(scan.edns.has_value());
    EXPECT_EQ(scan.edns->options_length, 0u);
    EXPECT_EQ(scan.min_ttl, 59u);
}

TEST(CacheableTtl, NegativeAnswerExpiresWithItsCnameChain) {
    // a -> CNAME (TTL 20) -> NXDOMAIN with an SOA of TTL 900 and MINIMUM 300: 20 s, not 300.
    DnsMessage answer;
    answer.header(1, kAnswerFlags | test_support::kRcodeNxDomain, 1, 1, 1, 0).question("a", kTypeA);
    answer.u16(0xc00c).u16(5).u16(1).u32(20).u16(2).u16(0xc00c);
    answer.soa_record(900, 300);
    EXPECT_EQ(ttl_of(answer.bytes()), 20u);
}

TEST(DescribeQuery, ClientSubnetQueriesAreNotCached) {
    DnsMessage ecs;
    ecs.header(1, kFlagRd, 1, 0, 0, 1).question("a.example", kTypeA);
    ecs.opt(1232, 0, {0, 8, 0, 7, 0, 1, 24, 0, 10, 1, 2});
    EXPECT_FALSE(describe_query(kServers, ecs.bytes()));
}

TEST_F(AnswerCacheTest, ClientSubnetAnswersAreNotStored) {
    const auto query = make_edns_query("a.example", 0x4242, false, false);
    DnsMessage answer;
    answer.header(0x4242, kAnswerFlags, 1, 1, 0, 1).question("a.example", kTypeA);
    answer.a_record(60, {192, 0, 2, 1});
    answer.opt(1232, 0, {0, 8, 0, 7, 0, 1, 24, 24, 10, 1, 2});
    EXPECT_FALSE(cache_.insert(key_of(query), answer.bytes(), kStart));
    EXPECT_EQ(cache_.size(), 0u);
}

} // namespace
} // namespace upstream
