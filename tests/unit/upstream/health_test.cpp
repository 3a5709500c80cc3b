#include <chrono>
#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "upstream/health.hpp"

namespace upstream {
namespace {

using namespace std::chrono_literals;
using TimePoint = HealthTracker::TimePoint;

const TimePoint kStart{std::chrono::hours{1000}};

base::Nameserver server(const char* address) {
    return base::Nameserver{*base::IpAddress::parse(address), 0, 53};
}

const base::Nameserver kFirst = server("192.0.2.1");
const base::Nameserver kSecond = server("192.0.2.2");
const base::Nameserver kThird = server("192.0.2.3");
const std::vector<base::Nameserver> kServers{kFirst, kSecond, kThird};

std::vector<std::size_t> order_of(const HealthTracker& health,
                                  const std::vector<base::Nameserver>& servers = kServers) {
    std::vector<std::size_t> indexes;
    health.order(servers, indexes);
    return indexes;
}

HealthTracker make_tracker() {
    return HealthTracker(HealthSettings{.first_backoff = 30s, .max_backoff = 300s});
}

TEST(Health, HealthyServersKeepTheirOrder) {
    const HealthTracker health = make_tracker();
    EXPECT_EQ(order_of(health), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Health, FailedServerIsTriedLast) {
    HealthTracker health = make_tracker();
    EXPECT_TRUE(health.record_failure(kFirst, kStart));
    EXPECT_TRUE(health.is_down(kFirst));
    EXPECT_EQ(order_of(health), (std::vector<std::size_t>{1, 2, 0}));

    EXPECT_TRUE(health.record_failure(kSecond, kStart));
    EXPECT_EQ(order_of(health), (std::vector<std::size_t>{2, 0, 1}));
}

TEST(Health, AllDownKeepsTheGivenOrder) {
    HealthTracker health = make_tracker();
    health.record_failure(kThird, kStart);
    health.record_failure(kFirst, kStart);
    health.record_failure(kSecond, kStart);
    EXPECT_EQ(order_of(health), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Health, ConcurrentFailuresCountOnce) {
    HealthTracker health = make_tracker();
    EXPECT_TRUE(health.record_failure(kFirst, kStart));
    for (int i = 0; i < 50; ++i) {
        EXPECT_FALSE(health.record_failure(kFirst, kStart + 1s));
    }
    EXPECT_EQ(health.retry_time(kFirst), kStart + 30s);
}

TEST(Health, BackoffDoublesUpToTheMaximum) {
    HealthTracker health = make_tracker();
    TimePoint now = kStart;
    health.record_failure(kFirst, now);
    std::vector<std::chrono::seconds> waits;
    for (int i = 0; i < 6; ++i) {
        now = *health.retry_time(kFirst);
        ASSERT_TRUE(health.start_probe(kFirst, now));
        EXPECT_FALSE(health.probe_finished(kFirst, false, now));
        waits.push_back(
            std::chrono::duration_cast<std::chrono::seconds>(*health.retry_time(kFirst) - now));
    }
    EXPECT_EQ(waits, (std::vector<std::chrono::seconds>{60s, 120s, 240s, 300s, 300s, 300s}));
    EXPECT_TRUE(health.is_down(kFirst));
}

TEST(Health, ProbeOnlyAfterBackoffAndOneAtATime) {
    HealthTracker health = make_tracker();
    EXPECT_FALSE(health.start_probe(kFirst, kStart)); // up: nothing to probe
    health.record_failure(kFirst, kStart);
    EXPECT_FALSE(health.start_probe(kFirst, kStart + 29s));
    EXPECT_TRUE(health.start_probe(kFirst, kStart + 30s));
    EXPECT_FALSE(health.start_probe(kFirst, kStart + 31s));
    // A probe that never reports is presumed lost after probe_timeout (30 s by default).
    EXPECT_TRUE(health.start_probe(kFirst, kStart + 61s));
}

TEST(Health, AnsweredProbeRecovers) {
    HealthTracker health = make_tracker();
    health.record_failure(kFirst, kStart);
    ASSERT_TRUE(health.start_probe(kFirst, kStart + 30s));
    EXPECT_TRUE(health.probe_finished(kFirst, true, kStart + 30s));
    EXPECT_FALSE(health.is_down(kFirst));
    EXPECT_EQ(order_of(health), (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(health.down_count(), 0u);
}

TEST(Health, RealAnswerRecoversAndRestartsBackoff) {
    HealthTracker health = make_tracker();
    health.record_failure(kFirst, kStart);
    health.start_probe(kFirst, kStart + 30s);
    health.probe_finished(kFirst, false, kStart + 30s); // back-off now 60 s
    EXPECT_TRUE(health.record_success(kFirst));
    EXPECT_FALSE(health.record_success(kFirst));
    EXPECT_FALSE(health.is_down(kFirst));
    // A late probe verdict for a server already back changes nothing.
    EXPECT_FALSE(health.probe_finished(kFirst, false, kStart + 31s));
    EXPECT_FALSE(health.is_down(kFirst));
    // Failing again starts over at the first back-off.
    EXPECT_TRUE(health.record_failure(kFirst, kStart + 100s));
    EXPECT_EQ(health.retry_time(kFirst), kStart + 130s);
}

TEST(Health, ServersDifferByPortAndScope) {
    HealthTracker health = make_tracker();
    const base::Nameserver other_port{kFirst.address, 0, 5353};
    const base::Nameserver link_local_a{*base::IpAddress::parse("fe80::1"), 2, 53};
    const base::Nameserver link_local_b{*base::IpAddress::parse("fe80::1"), 3, 53};
    health.record_failure(kFirst, kStart);
    health.record_failure(link_local_a, kStart);
    EXPECT_FALSE(health.is_down(other_port));
    EXPECT_FALSE(health.is_down(link_local_b));
    EXPECT_TRUE(health.is_down(link_local_a));
}

TEST(Health, TrackedServersAreBounded) {
    HealthTracker health(HealthSettings{.max_tracked = 2});
    health.record_failure(kFirst, kStart);
    health.record_failure(kSecond, kStart + 1s);
    health.record_failure(kThird, kStart + 2s);
    EXPECT_EQ(health.down_count(), 2u);
    // The one closest to its retry was forgotten.
    EXPECT_FALSE(health.is_down(kFirst));
    EXPECT_TRUE(health.is_down(kThird));
}

TEST(Health, NewSettingsShrinkTheTableAndTimeProbesOut) {
    HealthTracker health(HealthSettings{.first_backoff = 1s, .max_backoff = 1s});
    health.record_failure(kFirst, kStart);
    health.record_failure(kSecond, kStart + 1s);
    health.record_failure(kThird, kStart + 2s);
    health.set_settings(HealthSettings{
        .first_backoff = 1s, .max_backoff = 1s, .probe_timeout = 5s, .max_tracked = 1});
    EXPECT_EQ(health.down_count(), 1u);
    EXPECT_TRUE(health.is_down(kThird)) << "the one furthest from its retry stays";
    // A probe that never reports is presumed lost after the new probe_timeout, not the default.
    ASSERT_TRUE(health.start_probe(kThird, kStart + 10s));
    EXPECT_FALSE(health.start_probe(kThird, kStart + 14s));
    EXPECT_TRUE(health.start_probe(kThird, kStart + 15s));
}

} // namespace
} // namespace upstream
