// liveness/: builds and reads the ARP (RFC 826) and Neighbor Discovery (RFC 4861) messages the
// prober sends and listens for. Pure functions over bytes (no sockets, no asio); received bytes
// are untrusted, so every read is bounds-checked and nothing throws.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/ip_address.hpp"

namespace liveness {

using MacAddress = std::array<std::uint8_t, 6>;

/// The ARP payload for Ethernet/IPv4 (an AF_PACKET SOCK_DGRAM socket adds the Ethernet header).
inline constexpr std::size_t kArpPacketSize = 28;

/// ICMPv6 Neighbor Solicitation with one Source Link-Layer Address option (the IPv6 header and
/// the ICMPv6 checksum are filled in by the kernel for a raw ICMPv6 socket).
inline constexpr std::size_t kNeighborSolicitationSize = 32;

/// "Who has `target_ip`? Tell `sender_ip` at `sender_mac`." Both addresses must be IPv4.
std::array<std::uint8_t, kArpPacketSize>
build_arp_request(const MacAddress& sender_mac, const base::IpAddress& sender_ip,
                  const base::IpAddress& target_ip) noexcept;

/// The sender protocol address of an Ethernet/IPv4 ARP reply (operation 2), i.e. the address
/// whose owner answered. nullopt for requests, other hardware or protocol types, short input.
std::optional<base::IpAddress> arp_reply_sender(std::span<const std::uint8_t> packet) noexcept;

/// RFC 4291 §2.7.1: ff02::1:ff00:0/104 plus the low 24 bits of `target` (an IPv6 address).
base::IpAddress solicited_node_address(const base::IpAddress& target) noexcept;

/// An NS for `target` (IPv6) carrying `source_mac`, which RFC 4861 §4.3 requires in a multicast
/// solicitation sent from a specified source address. The checksum field is left zero.
std::array<std::uint8_t, kNeighborSolicitationSize>
build_neighbor_solicitation(const base::IpAddress& target, const MacAddress& source_mac) noexcept;

/// The target address of an ICMPv6 Neighbor Advertisement (type 136, code 0, at least 24
/// bytes), as a raw ICMPv6 socket delivers it (no IPv6 header). nullopt for anything else.
std::optional<base::IpAddress>
neighbor_advertisement_target(std::span<const std::uint8_t> icmp) noexcept;

} // namespace liveness
