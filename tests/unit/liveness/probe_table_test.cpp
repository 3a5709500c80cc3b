// liveness::ProbeTable and TokenBucket: the probe schedule, miss counting, verdict caching and
// the global rate, with time passed in.
#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "liveness/probe_table.hpp"

namespace {

using namespace std::chrono_literals;
using base::IpAddress;
using liveness::ProbeState;
using liveness::ProbeTable;
using liveness::ProbeTiming;
using liveness::TokenBucket;

IpAddress ip(const char* text) {
    return IpAddress::parse(text).value();
}

const ProbeTiming kTiming{.probe_interval = 1s, .misses_for_dead = 3, .recheck_after = 30s};

struct ProbeTableTest : ::testing::Test {
    ProbeTable table{kTiming};
    ProbeTable::TimePoint t0 = ProbeTable::Clock::now();
    const IpAddress a = ip("10.0.0.2");
    const IpAddress b = ip("10.0.0.3");

    /// Sends the due probe for `address` at `now` (asserting it is due).
    void send(const IpAddress& address, ProbeTable::TimePoint now) {
        const auto due = table.due(now);
        ASSERT_NE(std::find(due.begin(), due.end(), address), due.end());
        table.probe_sent(address, now);
    }
};

TEST_F(ProbeTableTest, NewTargetsAreDueAtOnceAndUnknown) {
    EXPECT_FALSE(table.set_targets(std::vector{a, b}, t0));
    EXPECT_EQ(table.size(), 2U);
    EXPECT_EQ(table.due(t0).size(), 2U);
    EXPECT_EQ(table.state(a), ProbeState::Unknown);
    EXPECT_EQ(table.next_event(), t0);
    EXPECT_EQ(table.state(ip("10.0.0.99")), ProbeState::Unknown);
}

TEST_F(ProbeTableTest, ThreeMissesOneIntervalApartMakeDead) {
    table.set_targets(std::vector{a}, t0);
    send(a, t0);
    EXPECT_TRUE(table.due(t0 + 999ms).empty()); // waiting for the answer
    EXPECT_EQ(table.next_event(), t0 + 1s);
    EXPECT_FALSE(table.expire(t0 + 1s));
    EXPECT_EQ(table.state(a), ProbeState::Unknown);
    send(a, t0 + 1s); // the next probe of the check is due at once
    EXPECT_FALSE(table.expire(t0 + 2s));
    send(a, t0 + 2s);
    EXPECT_FALSE(table.expire(t0 + 2999ms));
    EXPECT_TRUE(table.expire(t0 + 3s));
    EXPECT_EQ(table.state(a), ProbeState::Dead);
    EXPECT_EQ(table.dead(), std::vector{a});
    // Cached: nothing due until the recheck.
    EXPECT_TRUE(table.due(t0 + 32s).empty());
    EXPECT_EQ(table.next_event(), t0 + 33s);
}

TEST_F(ProbeTableTest, AnAnswerMakesAliveAndIsCached) {
    table.set_targets(std::vector{a}, t0);
    send(a, t0);
    EXPECT_FALSE(table.answer_received(a, t0 + 10ms));
    EXPECT_EQ(table.state(a), ProbeState::Alive);
    EXPECT_FALSE(table.expire(t0 + 5s)); // the probe's wait no longer matters
    EXPECT_TRUE(table.due(t0 + 30s).empty());
    EXPECT_EQ(table.due(t0 + 30s + 10ms).size(), 1U);
}

TEST_F(ProbeTableTest, AliveStaysAliveDuringARecheckUntilTheThirdMiss) {
    table.set_targets(std::vector{a}, t0);
    send(a, t0);
    table.answer_received(a, t0);
    auto now = t0 + 30s;
    for (int miss = 1; miss <= 2; ++miss) {
        send(a, now);
        now += 1s;
        EXPECT_FALSE(table.expire(now));
        EXPECT_EQ(table.state(a), ProbeState::Alive) << miss;
    }
    send(a, now);
    EXPECT_TRUE(table.expire(now + 1s));
    EXPECT_EQ(table.state(a), ProbeState::Dead);
}

TEST_F(ProbeTableTest, AMissInTheMiddleDoesNotCarryOverAnAnswer) {
    table.set_targets(std::vector{a}, t0);
    send(a, t0);
    table.expire(t0 + 1s);
    send(a, t0 + 1s);
    table.expire(t0 + 2s);
    table.answer_received(a, t0 + 2100ms); // late answer still counts
    EXPECT_EQ(table.state(a), ProbeState::Alive);
    // The next check starts from zero misses.
    auto now = t0 + 2100ms + 30s;
    send(a, now);
    table.expire(now + 1s);
    send(a, now + 1s);
    EXPECT_FALSE(table.expire(now + 2s));
    EXPECT_EQ(table.state(a), ProbeState::Alive);
}

TEST_F(ProbeTableTest, DeadIsRecheckedWithOneProbe) {
    table.set_targets(std::vector{a}, t0);
    for (int i = 0; i < 3; ++i) {
        send(a, t0 + std::chrono::seconds(i));
        table.expire(t0 + std::chrono::seconds(i + 1));
    }
    ASSERT_EQ(table.state(a), ProbeState::Dead);
    const auto recheck = t0 + 33s;
    send(a, recheck);
    EXPECT_FALSE(table.expire(recheck + 1s)); // still dead: not a change
    EXPECT_EQ(table.state(a), ProbeState::Dead);
    EXPECT_TRUE(table.due(recheck + 30s).empty());
    EXPECT_EQ(table.next_event(), recheck + 31s);
    // Any answer revives it, and says the dead set changed.
    EXPECT_TRUE(table.answer_received(a, recheck + 2s));
    EXPECT_EQ(table.state(a), ProbeState::Alive);
    EXPECT_TRUE(table.dead().empty());
}

TEST_F(ProbeTableTest, FailedProbeFailsOpen) {
    table.set_targets(std::vector{a}, t0);
    for (int i = 0; i < 3; ++i) {
        send(a, t0 + std::chrono::seconds(i));
        table.expire(t0 + std::chrono::seconds(i + 1));
    }
    ASSERT_EQ(table.state(a), ProbeState::Dead);
    EXPECT_TRUE(table.probe_failed(a, t0 + 40s));
    EXPECT_EQ(table.state(a), ProbeState::Unknown);
    EXPECT_TRUE(table.dead().empty());
    EXPECT_TRUE(table.due(t0 + 69s).empty());
    EXPECT_EQ(table.due(t0 + 70s).size(), 1U);
    // A failure while not dead is not a change of the dead set, and never counts as a miss.
    EXPECT_FALSE(table.probe_failed(a, t0 + 70s));
    EXPECT_FALSE(table.probe_failed(ip("10.9.9.9"), t0));
}

TEST_F(ProbeTableTest, SetTargetsKeepsVerdictsOfKeptAddresses) {
    table.set_targets(std::vector{a, b}, t0);
    send(a, t0);
    table.answer_received(a, t0);
    send(b, t0);
    for (int i = 1; i < 3; ++i) {
        table.expire(t0 + std::chrono::seconds(i));
        send(b, t0 + std::chrono::seconds(i));
    }
    ASSERT_TRUE(table.expire(t0 + 3s));
    const IpAddress c = ip("10.0.0.4");
    EXPECT_FALSE(table.set_targets(std::vector{a, b, c}, t0 + 4s));
    EXPECT_EQ(table.state(a), ProbeState::Alive);
    EXPECT_EQ(table.state(b), ProbeState::Dead);
    EXPECT_EQ(table.due(t0 + 4s), std::vector{c});
    // Dropping the dead target changes the dead set.
    EXPECT_TRUE(table.set_targets(std::vector{a, c}, t0 + 5s));
    EXPECT_FALSE(table.is_target(b));
    EXPECT_TRUE(table.dead().empty());
    EXPECT_FALSE(table.set_targets(std::vector<IpAddress>{}, t0 + 6s));
    EXPECT_FALSE(table.next_event());
}

TEST_F(ProbeTableTest, DueListsTheLongestWaitingFirst) {
    table.set_targets(std::vector{a}, t0);
    table.set_targets(std::vector{a, b}, t0 + 1s);
    EXPECT_EQ(table.due(t0 + 2s), (std::vector{a, b}));
    table.probe_sent(a, t0 + 2s);
    table.expire(t0 + 3s); // a is due again at t0+3s, b since t0+1s
    EXPECT_EQ(table.due(t0 + 3s), (std::vector{b, a}));
}

TEST_F(ProbeTableTest, AnswersFromNonTargetsAreIgnored) {
    table.set_targets(std::vector{a}, t0);
    EXPECT_FALSE(table.answer_received(b, t0));
    EXPECT_FALSE(table.is_target(b));
    EXPECT_EQ(table.size(), 1U);
}

TEST(TokenBucket, AllowsABurstThenTheSteadyRate) {
    TokenBucket bucket(50);
    const auto t0 = TokenBucket::Clock::now();
    int taken = 0;
    while (bucket.try_take(t0)) {
        ++taken;
    }
    EXPECT_EQ(taken, 50);
    EXPECT_EQ(bucket.next_available(t0), t0 + 20ms);
    EXPECT_FALSE(bucket.try_take(t0 + 19ms));
    EXPECT_TRUE(bucket.try_take(t0 + 20ms));
    EXPECT_FALSE(bucket.try_take(t0 + 20ms));
    // Once the burst is spent, 50 per second: the one above plus 49 more in [20ms, 1020ms).
    int later = 0;
    for (auto now = t0 + 20ms; now < t0 + 1020ms; now += 1ms) {
        later += bucket.try_take(now) ? 1 : 0;
    }
    EXPECT_EQ(later + 1, 50);
}

TEST(TokenBucket, RefillsWhenIdle) {
    TokenBucket bucket(10);
    const auto t0 = TokenBucket::Clock::now();
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(bucket.try_take(t0));
    }
    EXPECT_FALSE(bucket.try_take(t0));
    EXPECT_EQ(bucket.next_available(t0 + 5s), t0 + 5s);
    int taken = 0;
    while (bucket.try_take(t0 + 5s)) {
        ++taken;
    }
    EXPECT_EQ(taken, 10);
}

TEST(TokenBucket, ZeroMeansOnePerSecond) {
    TokenBucket bucket(0);
    const auto t0 = TokenBucket::Clock::now();
    EXPECT_TRUE(bucket.try_take(t0));
    EXPECT_FALSE(bucket.try_take(t0 + 999ms));
    EXPECT_TRUE(bucket.try_take(t0 + 1s));
}

} // namespace
