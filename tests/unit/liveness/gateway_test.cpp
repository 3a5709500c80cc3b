// liveness::gateway_for: which of a network's bind addresses a probe is sent from.
#include <vector>

#include <gtest/gtest.h>

#include "liveness/gateway.hpp"

namespace {

using base::IpAddress;
using liveness::gateway_for;

IpAddress ip(const char* text) {
    return IpAddress::parse(text).value();
}

TEST(GatewayFor, PicksTheSameFamily) {
    const std::vector<IpAddress> gateways{ip("fd10:88:a::1"), ip("10.89.0.1")};
    EXPECT_EQ(gateway_for(ip("10.89.0.7"), gateways), ip("10.89.0.1"));
    EXPECT_EQ(gateway_for(ip("fd10:88:a::7"), gateways), ip("fd10:88:a::1"));
}

TEST(GatewayFor, PicksTheClosestSubnet) {
    const std::vector<IpAddress> gateways{ip("10.89.0.1"), ip("10.89.1.1"), ip("10.90.0.1")};
    EXPECT_EQ(gateway_for(ip("10.89.1.200"), gateways), ip("10.89.1.1"));
    EXPECT_EQ(gateway_for(ip("10.89.0.3"), gateways), ip("10.89.0.1"));
    EXPECT_EQ(gateway_for(ip("10.90.3.3"), gateways), ip("10.90.0.1"));
    // A tie goes to the first.
    EXPECT_EQ(gateway_for(ip("172.16.0.2"), gateways), ip("10.89.0.1"));
}

TEST(GatewayFor, NoneOfTheFamilyOrTheGatewayItself) {
    const std::vector<IpAddress> gateways{ip("10.89.0.1")};
    EXPECT_FALSE(gateway_for(ip("fd10::2"), gateways));
    EXPECT_FALSE(gateway_for(ip("10.89.0.1"), gateways));
    EXPECT_FALSE(gateway_for(ip("10.89.0.2"), std::vector<IpAddress>{}));
}

} // namespace
