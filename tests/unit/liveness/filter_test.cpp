// liveness::drop_dead and DeadSet: probe verdicts shorten an answer but never empty it
// (docs/stale-entries.md §1.2).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "liveness/dead_set.hpp"
#include "liveness/filter.hpp"

namespace {

using base::IpAddress;
using liveness::DeadSet;
using liveness::drop_dead;

IpAddress ip(const char* text) {
    return IpAddress::parse(text).value();
}

std::vector<IpAddress> ips(std::initializer_list<const char*> texts) {
    std::vector<IpAddress> out;
    for (const char* text : texts) {
        out.push_back(ip(text));
    }
    return out;
}

TEST(DeadSet, SortsDeduplicatesAndFinds) {
    const DeadSet dead(ips({"fd00::3", "10.0.0.9", "10.0.0.3", "10.0.0.9"}));
    EXPECT_EQ(dead.size(), 3U);
    EXPECT_TRUE(dead.contains(ip("10.0.0.3")));
    EXPECT_TRUE(dead.contains(ip("10.0.0.9")));
    EXPECT_TRUE(dead.contains(ip("fd00::3")));
    EXPECT_FALSE(dead.contains(ip("10.0.0.4")));
    EXPECT_FALSE(dead.contains(ip("fd00::4")));
    // ::ffff:10.0.0.3 is an IPv6 address, not the IPv4 one.
    EXPECT_FALSE(dead.contains(ip("::ffff:10.0.0.3")));
    ASSERT_EQ(dead.addresses().size(), 3U);
    EXPECT_EQ(dead.addresses()[0], ip("10.0.0.3"));
    EXPECT_EQ(dead.addresses()[1], ip("10.0.0.9"));
    EXPECT_EQ(dead.addresses()[2], ip("fd00::3"));
}

TEST(DeadSet, DefaultIsEmpty) {
    const DeadSet dead;
    EXPECT_TRUE(dead.empty());
    EXPECT_FALSE(dead.contains(ip("10.0.0.1")));
}

TEST(DropDead, RemovesDeadAddressesWhenOneRemains) {
    const DeadSet dead(ips({"10.0.0.3", "10.0.0.5"}));
    auto answer = ips({"10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"});
    EXPECT_EQ(drop_dead(answer, &dead), 2U);
    EXPECT_EQ(answer, ips({"10.0.0.4", "10.0.0.6"})); // order of the others kept
}

TEST(DropDead, KeepsTheAnswerWhenEveryAddressIsDead) {
    const DeadSet dead(ips({"10.0.0.3", "10.0.0.5"}));
    auto answer = ips({"10.0.0.5", "10.0.0.3"});
    EXPECT_EQ(drop_dead(answer, &dead), 0U);
    EXPECT_EQ(answer, ips({"10.0.0.5", "10.0.0.3"}));
}

TEST(DropDead, KeepsASingleDeadAddress) {
    const DeadSet dead(ips({"fd00::3"}));
    auto answer = ips({"fd00::3"});
    EXPECT_EQ(drop_dead(answer, &dead), 0U);
    EXPECT_EQ(answer, ips({"fd00::3"}));
}

TEST(DropDead, RemovesEveryCopyOfADeadAddress) {
    const DeadSet dead(ips({"10.0.0.3"}));
    auto answer = ips({"10.0.0.3", "10.0.0.4", "10.0.0.3"});
    EXPECT_EQ(drop_dead(answer, &dead), 2U);
    EXPECT_EQ(answer, ips({"10.0.0.4"}));
}

TEST(DropDead, NullOrEmptySetChangesNothing) {
    auto answer = ips({"10.0.0.3", "10.0.0.4"});
    EXPECT_EQ(drop_dead(answer, nullptr), 0U);
    const DeadSet empty;
    EXPECT_EQ(drop_dead(answer, &empty), 0U);
    EXPECT_EQ(answer, ips({"10.0.0.3", "10.0.0.4"}));
}

TEST(DropDead, EmptyAnswerStaysEmpty) {
    const DeadSet dead(ips({"10.0.0.3"}));
    std::vector<IpAddress> answer;
    EXPECT_EQ(drop_dead(answer, &dead), 0U);
    EXPECT_TRUE(answer.empty());
}

TEST(DropDead, NoDeadAddressInTheAnswer) {
    const DeadSet dead(ips({"10.0.0.9"}));
    auto answer = ips({"10.0.0.3", "10.0.0.4"});
    EXPECT_EQ(drop_dead(answer, &dead), 0U);
    EXPECT_EQ(answer, ips({"10.0.0.3", "10.0.0.4"}));
}

TEST(DropDead, MixedFamiliesCountAsOneAnswer) {
    // The caller decides what one answer is (normally one family); within it, any live address
    // is enough to drop the dead ones.
    const DeadSet dead(ips({"10.0.0.3"}));
    auto answer = ips({"10.0.0.3", "fd00::4"});
    EXPECT_EQ(drop_dead(answer, &dead), 1U);
    EXPECT_EQ(answer, ips({"fd00::4"}));
}

} // namespace
