#include "liveness/neighbor_packets.hpp"

#include <algorithm>

namespace liveness {
namespace {

// RFC 826 field values for Ethernet carrying IPv4.
constexpr std::uint8_t kHardwareEthernet = 1;
constexpr std::uint8_t kProtocolIpv4High = 0x08;
constexpr std::uint8_t kProtocolIpv4Low = 0x00;
constexpr std::uint8_t kEthernetAddressLength = 6;
constexpr std::uint8_t kIpv4AddressLength = 4;
constexpr std::uint8_t kOperationRequest = 1;
constexpr std::uint8_t kOperationReply = 2;
constexpr std::size_t kSenderIpOffset = 14;

// RFC 4861 §4.3 / §4.4.
constexpr std::uint8_t kNeighborSolicitation = 135;
constexpr std::uint8_t kNeighborAdvertisement = 136;
constexpr std::uint8_t kOptionSourceLinkLayer = 1;
constexpr std::size_t kTargetOffset = 8;
constexpr std::size_t kNeighborAdvertisementMinSize = 24;

} // namespace

std::array<std::uint8_t, kArpPacketSize>
build_arp_request(const MacAddress& sender_mac, const base::IpAddress& sender_ip,
                  const base::IpAddress& target_ip) noexcept {
    std::array<std::uint8_t, kArpPacketSize> packet{};
    packet[1] = kHardwareEthernet;
    packet[2] = kProtocolIpv4High;
    packet[3] = kProtocolIpv4Low;
    packet[4] = kEthernetAddressLength;
    packet[5] = kIpv4AddressLength;
    packet[7] = kOperationRequest;
    std::copy(sender_mac.begin(), sender_mac.end(), packet.begin() + 8);
    const auto sender = sender_ip.bytes().first(kIpv4AddressLength);
    std::copy(sender.begin(), sender.end(), packet.begin() + kSenderIpOffset);
    // Target hardware address (bytes 18-23) stays zero: it is what we ask for.
    const auto target = target_ip.bytes().first(kIpv4AddressLength);
    std::copy(target.begin(), target.end(), packet.begin() + 24);
    return packet;
}

std::optional<base::IpAddress> arp_reply_sender(std::span<const std::uint8_t> packet) noexcept {
    if (packet.size() < kArpPacketSize) {
        return std::nullopt;
    }
    if (packet[0] != 0 || packet[1] != kHardwareEthernet || packet[2] != kProtocolIpv4High ||
        packet[3] != kProtocolIpv4Low || packet[4] != kEthernetAddressLength ||
        packet[5] != kIpv4AddressLength || packet[6] != 0 || packet[7] != kOperationReply) {
        return std::nullopt;
    }
    return base::IpAddress::from_bytes(packet.subspan(kSenderIpOffset, kIpv4AddressLength));
}

base::IpAddress solicited_node_address(const base::IpAddress& target) noexcept {
    std::array<std::uint8_t, 16> bytes{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    const auto source = target.bytes();
    if (source.size() == bytes.size()) {
        std::copy(source.end() - 3, source.end(), bytes.end() - 3);
    }
    return base::IpAddress::v6(bytes);
}

std::array<std::uint8_t, kNeighborSolicitationSize>
build_neighbor_solicitation(const base::IpAddress& target, const MacAddress& source_mac) noexcept {
    std::array<std::uint8_t, kNeighborSolicitationSize> packet{};
    packet[0] = kNeighborSolicitation;
    const auto address = target.bytes();
    if (address.size() == 16) {
        std::copy(address.begin(), address.end(), packet.begin() + kTargetOffset);
    }
    packet[24] = kOptionSourceLinkLayer;
    packet[25] = 1; // option length in units of 8 bytes
    std::copy(source_mac.begin(), source_mac.end(), packet.begin() + 26);
    return packet;
}

std::optional<base::IpAddress>
neighbor_advertisement_target(std::span<const std::uint8_t> icmp) noexcept {
    if (icmp.size() < kNeighborAdvertisementMinSize || icmp[0] != kNeighborAdvertisement ||
        icmp[1] != 0) {
        return std::nullopt;
    }
    return base::IpAddress::from_bytes(icmp.subspan(kTargetOffset, 16));
}

} // namespace liveness
