// liveness/neighbor_packets: ARP (RFC 826) and NDP (RFC 4861) bytes built and read exactly, and
// untrusted input of any length read safely.
#include <array>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "liveness/neighbor_packets.hpp"

namespace {

using base::IpAddress;
using namespace liveness;

IpAddress ip(const char* text) {
    return IpAddress::parse(text).value();
}

constexpr MacAddress kMac{0x02, 0x42, 0xac, 0x11, 0x00, 0x01};

TEST(ArpRequest, HasTheRfc826Layout) {
    const auto packet = build_arp_request(kMac, ip("10.250.0.1"), ip("10.250.0.2"));
    const std::array<std::uint8_t, kArpPacketSize> expected{
        0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01,        // Ethernet, IPv4, request
        0x02, 0x42, 0xac, 0x11, 0x00, 0x01, 10,   250,  0, 1,  // sender MAC, sender IP
        0,    0,    0,    0,    0,    0,    10,   250,  0, 2}; // target MAC unknown, IP
    EXPECT_EQ(packet, expected);
}

TEST(ArpReply, ReturnsTheSenderAddress) {
    auto packet = build_arp_request(kMac, ip("10.250.0.2"), ip("10.250.0.1"));
    packet[7] = 2; // reply
    const auto sender = arp_reply_sender(packet);
    ASSERT_TRUE(sender);
    EXPECT_EQ(*sender, ip("10.250.0.2"));
    // Padding after the ARP payload (Ethernet minimum frame) is fine.
    std::vector<std::uint8_t> padded(packet.begin(), packet.end());
    padded.resize(46, 0);
    EXPECT_EQ(arp_reply_sender(padded), ip("10.250.0.2"));
}

TEST(ArpReply, IgnoresRequestsAndOtherTypes) {
    const auto request = build_arp_request(kMac, ip("10.250.0.2"), ip("10.250.0.1"));
    EXPECT_FALSE(arp_reply_sender(request));
    for (std::size_t field : {1U, 2U, 3U, 4U, 5U}) {
        auto reply = request;
        reply[7] = 2;
        reply[field] ^= 0x10;
        EXPECT_FALSE(arp_reply_sender(reply)) << "field " << field;
    }
}

TEST(ArpReply, TruncatedInputOfEveryLengthIsRejected) {
    auto reply = build_arp_request(kMac, ip("10.250.0.2"), ip("10.250.0.1"));
    reply[7] = 2;
    for (std::size_t size = 0; size < reply.size(); ++size) {
        EXPECT_FALSE(arp_reply_sender(std::span(reply.data(), size))) << size;
    }
}

TEST(SolicitedNode, KeepsTheLow24Bits) {
    EXPECT_EQ(solicited_node_address(ip("fd00:250::2")), ip("ff02::1:ff00:2"));
    EXPECT_EQ(solicited_node_address(ip("2001:db8::abcd:1234:5678")), ip("ff02::1:ff34:5678"));
}

TEST(NeighborSolicitation, HasTheRfc4861Layout) {
    const auto packet = build_neighbor_solicitation(ip("fd00:250::2"), kMac);
    const std::array<std::uint8_t, kNeighborSolicitationSize> expected{
        135,  0,    0,    0,    0,    0,    0,    0,     // type, code, checksum (kernel), reserved
        0xfd, 0x00, 0x02, 0x50, 0,    0,    0,    0,     // target address
        0,    0,    0,    0,    0,    0,    0,    0x02,  //
        1,    1,    0x02, 0x42, 0xac, 0x11, 0x00, 0x01}; // source link-layer address option
    EXPECT_EQ(packet, expected);
}

std::vector<std::uint8_t> advertisement(const IpAddress& target) {
    std::vector<std::uint8_t> packet{136, 0, 0x12, 0x34, 0x60, 0, 0, 0};
    packet.insert(packet.end(), target.bytes().begin(), target.bytes().end());
    return packet;
}

TEST(NeighborAdvertisement, ReturnsTheTarget) {
    const auto packet = advertisement(ip("fd00:250::2"));
    EXPECT_EQ(neighbor_advertisement_target(packet), ip("fd00:250::2"));
    auto with_option = packet;
    with_option.insert(with_option.end(), {2, 1, 1, 2, 3, 4, 5, 6});
    EXPECT_EQ(neighbor_advertisement_target(with_option), ip("fd00:250::2"));
}

TEST(NeighborAdvertisement, RejectsOtherMessagesAndShortInput) {
    auto packet = advertisement(ip("fd00:250::2"));
    for (std::size_t size = 0; size < packet.size(); ++size) {
        EXPECT_FALSE(neighbor_advertisement_target(std::span(packet.data(), size))) << size;
    }
    auto solicitation = packet;
    solicitation[0] = 135;
    EXPECT_FALSE(neighbor_advertisement_target(solicitation));
    auto bad_code = packet;
    bad_code[1] = 1;
    EXPECT_FALSE(neighbor_advertisement_target(bad_code));
}

} // namespace
