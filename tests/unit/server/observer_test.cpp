#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "records/record_store.hpp"
#include "server/observer.hpp"
#include "server_fixture.hpp"
#include "support/dns_message.hpp"

namespace {

using test_support::make_query;

/// `query` turned into a reply with rcode and the given A/AAAA answers (names compressed).
std::vector<std::uint8_t> reply_to(std::vector<std::uint8_t> wire, std::uint8_t rcode,
                                   const std::vector<std::vector<std::uint8_t>>& answers) {
    wire[2] |= 0x80U;
    wire[3] = rcode;
    wire[7] = static_cast<std::uint8_t>(answers.size());
    for (const auto& data : answers) {
        const std::uint8_t type = data.size() == 4 ? 1 : 28;
        wire.insert(wire.end(), {0xC0, 12, 0, type, 0, 1, 0, 0, 0, 60, 0,
                                 static_cast<std::uint8_t>(data.size())});
        wire.insert(wire.end(), data.begin(), data.end());
    }
    return wire;
}

TEST(Observer, PeeksTheQuestionTypeWithoutAFullParse) {
    EXPECT_EQ(server::peek_question_type(make_query("web.dns.podman", 28, 0x1234)), 28);
    EXPECT_EQ(server::peek_question_type(make_query("a", 15, 0x1234)), 15);
    std::vector<std::uint8_t> truncated = make_query("web", 1, 0x1234);
    truncated.resize(truncated.size() - 3);
    EXPECT_FALSE(server::peek_question_type(truncated));
    EXPECT_FALSE(server::peek_question_type(std::vector<std::uint8_t>(5, 0)));
    std::vector<std::uint8_t> no_question = make_query("web", 1, 0x1234);
    no_question[5] = 0;
    EXPECT_FALSE(server::peek_question_type(no_question));
    // A label length running past the end, and a loop of pointers, are both unreadable.
    std::vector<std::uint8_t> runaway = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 60, 'a'};
    EXPECT_FALSE(server::peek_question_type(runaway));
    std::vector<std::uint8_t> pointer = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
    EXPECT_EQ(server::peek_question_type(pointer), 1); // a pointer ends the name: readable
}

TEST(Observer, CountsTypesIntoBucketsWithOther) {
    server::QueryCounters counters;
    counters.count_type(1);
    counters.count_type(1);
    counters.count_type(28);
    counters.count_type(99);
    counters.count_type(65535);
    EXPECT_EQ(counters.by_type[0], 2U); // A
    EXPECT_EQ(counters.by_type[7], 1U); // AAAA
    EXPECT_EQ(counters.by_type.back(), 2U);
    EXPECT_EQ(server::type_name(28), "AAAA");
    EXPECT_EQ(server::type_name(99), "TYPE99");
    EXPECT_EQ(server::rcode_name(3), "NXDOMAIN");
    EXPECT_EQ(server::rcode_name(15), "RCODE15");
}

TEST(Observer, ReadsAnswerAddressesAndStopsAtMalformedData) {
    const auto query = make_query("web.dns.podman", 1, 0x1234);
    const auto reply =
        reply_to(query, 0, {{10, 89, 0, 5}, {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}});
    const auto addresses = server::answer_addresses(reply, 16);
    ASSERT_EQ(addresses.size(), 2U);
    EXPECT_EQ(addresses[0].to_string(), "10.89.0.5");
    EXPECT_EQ(addresses[1].to_string(), "fd00::5");
    EXPECT_EQ(server::answer_addresses(reply, 1).size(), 1U);
    auto cut = reply;
    cut.resize(cut.size() - 20);
    EXPECT_EQ(server::answer_addresses(cut, 16).size(), 1U);
    EXPECT_TRUE(server::answer_addresses(std::vector<std::uint8_t>(3, 0), 16).empty());
}

TEST(Observer, QuestionNameIsEscapedForTheLog) {
    EXPECT_EQ(server::question_name(make_query("web.dns.podman", 1, 0x1234)), "web.dns.podman.");
    EXPECT_EQ(server::question_name(make_query("a\nb", 1, 0x1234)), "a\\012b.");
    EXPECT_EQ(server::question_name(std::vector<std::uint8_t>(4, 0)), "?");
}

TEST(Observer, QueryLogSuppressesOverTheRateAndSaysHowMany) {
    server::QueryLog log;
    std::vector<std::string> written;
    auto sink = [&](std::string line) {
        written.push_back(std::move(line));
    };
    const std::chrono::steady_clock::time_point start{};
    EXPECT_FALSE(log.enabled());
    EXPECT_EQ(log.set_enabled(true), std::vector<std::string>{"query log on"});
    for (int i = 0; i < 150; ++i) {
        log.submit("line", start, sink);
    }
    EXPECT_EQ(written.size(), 100U);
    EXPECT_EQ(log.suppressed(), 50U);
    log.submit("after", start + std::chrono::milliseconds(20), sink);
    ASSERT_EQ(written.size(), 102U);
    EXPECT_EQ(written[100], "query log: 50 line(s) suppressed (over 100 lines/s)");
    EXPECT_EQ(written[101], "after");
    // 20 ms refilled two tokens: "after" took one, the first of these the other.
    for (int i = 0; i < 3; ++i) {
        log.submit("lost", start + std::chrono::milliseconds(20), sink);
    }
    const auto lines = log.set_enabled(false);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(lines[0], "query log: 2 line(s) suppressed (over 100 lines/s)");
    EXPECT_EQ(lines[1], "query log off");
    EXPECT_TRUE(log.set_enabled(false).empty());
}

TEST(Observer, FormatsOneLinePerQuery) {
    server::QueryTrace trace;
    trace.type = 1;
    trace.typed = true;
    trace.client = "10.89.0.2:40000";
    trace.network = "podman";
    trace.name = "web.dns.podman.";
    EXPECT_EQ(server::format_query_line(trace, "rcode=NOERROR answers=10.89.0.5",
                                        std::chrono::microseconds(41)),
              "query client=10.89.0.2:40000 network=podman udp name=web.dns.podman. type=A "
              "rcode=NOERROR answers=10.89.0.5 us=41");
}

TEST(Observer, CountsRepliesForwardsAndDrops) {
    const auto store = test_support::make_store({{"podman", "10.89.0.1\nid1 10.89.0.5 web\n"}});
    server::Observer observer;
    const auto address = *base::IpAddress::parse("10.89.0.2");
    const auto query = make_query("web.dns.podman", 1, 0x1234);
    auto trace = observer.begin(query, address, 4000, 0, *store, false);
    EXPECT_FALSE(trace.logged);
    observer.typed(trace, query, std::nullopt); // read from the request: A
    EXPECT_TRUE(trace.typed);
    EXPECT_EQ(trace.type, 1);
    observer.replied(trace, reply_to(query, 0, {{10, 89, 0, 5}}));
    trace = observer.begin(make_query("example.com", 28, 0x1234), address, 4000, 0, *store, true);
    observer.typed(trace, std::vector<std::uint8_t>(5, 0), 28); // as the handler read it
    EXPECT_EQ(trace.type, 28);
    observer.forwarded(trace, {}, std::nullopt);
    observer.forwarded(trace, {}, reply_to(query, 3, {}));
    observer.dropped(trace);
    EXPECT_EQ(observer.counters.queries, 2U);
    EXPECT_EQ(observer.counters.answered_locally, 1U);
    EXPECT_EQ(observer.counters.forwarded, 2U);
    EXPECT_EQ(observer.counters.forward_unanswered, 1U);
    EXPECT_EQ(observer.counters.dropped, 1U);
    EXPECT_EQ(observer.counters.by_rcode[0], 1U);
    EXPECT_EQ(observer.counters.by_rcode[3], 1U);
    EXPECT_EQ(observer.counters.by_type[0], 1U); // A
    EXPECT_EQ(observer.counters.by_type[7], 1U); // AAAA

    (void)observer.log.set_enabled(true);
    trace = observer.begin(query, address, 4000, 0, *store, true);
    EXPECT_TRUE(trace.logged);
    EXPECT_EQ(trace.client, "10.89.0.2:4000");
    EXPECT_EQ(trace.network, "podman");
    EXPECT_EQ(trace.name, "web.dns.podman.");
    EXPECT_STREQ(trace.transport, "tcp");
}

TEST(Observer, SelfChecksAreClaimedOnlyWithTheirIdAndName) {
    server::SelfChecks checks;
    EXPECT_FALSE(checks.pending());
    const std::string name = "00ff.ctrdns-self-check.invalid.";
    checks.add(0x1234, name);
    EXPECT_TRUE(checks.pending());
    const auto listener = *base::IpAddress::parse("10.89.0.1");
    EXPECT_FALSE(checks.claim(make_query("web.dns.podman", 1, 0x1234), listener));
    auto wrong_id = make_query("00FF.ctrdns-self-check.invalid", 1, 0x1234);
    wrong_id[0] = 0x99;
    EXPECT_TRUE(checks.claim(wrong_id, listener)); // still ours: never answered or forwarded
    EXPECT_FALSE(checks.seen(name));
    EXPECT_TRUE(checks.claim(make_query("00FF.ctrdns-self-check.invalid", 1, 0x1234), listener));
    EXPECT_TRUE(checks.seen(name));
    EXPECT_EQ(checks.finish(name), listener);
    EXPECT_FALSE(checks.pending());
    EXPECT_FALSE(checks.finish(name));
}

} // namespace
