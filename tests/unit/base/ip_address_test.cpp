#include <gtest/gtest.h>

#include "base/ip_address.hpp"

namespace {

using base::IpAddress;

TEST(IpAddress, ParsesDottedQuad) {
    auto address = IpAddress::parse("10.89.0.2");
    ASSERT_TRUE(address);
    EXPECT_TRUE(address->is_v4());
    EXPECT_EQ(address->to_string(), "10.89.0.2");
    EXPECT_EQ(address->bytes().size(), 4U);
}

TEST(IpAddress, RejectsWhatRustRejects) {
    for (const char* text : {"", "010.0.0.1", "10.0.0", "10.0.0.256", " 10.0.0.1", "10.0.0.1 ",
                             "[::1]", "fe80::1%eth0", "::1%2", "1.2.3.4.5", "abc", "10.0.0.1\r"}) {
        EXPECT_FALSE(IpAddress::parse(text)) << text;
    }
}

TEST(IpAddress, ParsesAndCanonicalisesIpv6) {
    auto address = IpAddress::parse("FD10:0088:000a:0000:0000:0000:0000:0002");
    ASSERT_TRUE(address);
    EXPECT_TRUE(address->is_v6());
    EXPECT_EQ(address->to_string(), "fd10:88:a::2");
    EXPECT_EQ(address->bytes().size(), 16U);
}

TEST(IpAddress, EndpointText) {
    EXPECT_EQ(IpAddress::parse("10.0.0.1")->to_endpoint_string(53), "10.0.0.1:53");
    EXPECT_EQ(IpAddress::parse("fd00::1")->to_endpoint_string(5533), "[fd00::1]:5533");
}

TEST(IpAddress, FamiliesNeverCompareEqual) {
    // ::a00:1 holds the same leading bytes as 10.0.0.1 would; family must separate them.
    auto v4 = IpAddress::parse("10.0.0.1");
    auto v6 = IpAddress::parse("a00:1::");
    ASSERT_TRUE(v4 && v6);
    EXPECT_NE(*v4, *v6);
}

TEST(IpAddress, FromBytes) {
    const std::uint8_t four[] = {127, 0, 0, 1};
    EXPECT_EQ(IpAddress::from_bytes(four)->to_string(), "127.0.0.1");
    const std::uint8_t three[] = {1, 2, 3};
    EXPECT_FALSE(IpAddress::from_bytes(three));
}

TEST(IpAddress, HashSeparatesAddresses) {
    EXPECT_NE(IpAddress::parse("10.0.0.1")->hash(), IpAddress::parse("10.0.0.2")->hash());
    EXPECT_EQ(IpAddress::parse("10.0.0.1")->hash(), IpAddress::parse("10.0.0.1")->hash());
}

} // namespace
