#include <chrono>

#include <gtest/gtest.h>

#include "base/rate_limiter.hpp"

namespace {

using Clock = base::TokenBucket::Clock;
using std::chrono::milliseconds;

TEST(TokenBucket, AllowsABurstThenTheRate) {
    base::TokenBucket bucket(100, 100);
    const Clock::time_point start{};
    int allowed = 0;
    for (int i = 0; i < 1000; ++i) {
        allowed += bucket.try_take(start) ? 1 : 0;
    }
    EXPECT_EQ(allowed, 100); // the burst, then nothing at the same instant
    EXPECT_FALSE(bucket.try_take(start + milliseconds(5)));
    EXPECT_TRUE(bucket.try_take(start + milliseconds(10))); // one token per 10 ms
    EXPECT_FALSE(bucket.try_take(start + milliseconds(10)));
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
    base::TokenBucket bucket(100, 5);
    const Clock::time_point start{};
    EXPECT_TRUE(bucket.try_take(start));
    int allowed = 0;
    for (int i = 0; i < 50; ++i) {
        allowed += bucket.try_take(start + std::chrono::hours(1)) ? 1 : 0;
    }
    EXPECT_EQ(allowed, 5);
}

TEST(TokenBucket, TimeGoingBackwardsAddsNothing) {
    base::TokenBucket bucket(1, 1);
    const Clock::time_point start = Clock::time_point{} + std::chrono::seconds(10);
    EXPECT_TRUE(bucket.try_take(start));
    EXPECT_FALSE(bucket.try_take(start - std::chrono::seconds(5)));
    EXPECT_FALSE(bucket.try_take(start + milliseconds(500)));
    EXPECT_TRUE(bucket.try_take(start + milliseconds(1000)));
}

TEST(TokenBucket, RefillStartsAFullBurst) {
    base::TokenBucket bucket(1, 3);
    const Clock::time_point start{};
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(bucket.try_take(start));
    }
    EXPECT_FALSE(bucket.try_take(start));
    bucket.refill();
    EXPECT_TRUE(bucket.try_take(start));
}

} // namespace
