#include "probe/neighbor_sockets.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "liveness/neighbor_packets.hpp"
#include "probe/ancillary.hpp"

#include <net/ethernet.h>

namespace probe {
namespace {

/// Room for any frame a bridge delivers at the default MTU.
using ReadBuffer = std::array<std::uint8_t, 1500>;

struct IntOption {
    int level;
    int name;
    int value;
};

base::Result<void> sent_whole(ssize_t sent, std::size_t expected) {
    if (sent == static_cast<ssize_t>(expected)) {
        return {};
    }
    return base::Error::from_errno("sendto", sent < 0 ? errno : EMSGSIZE);
}

} // namespace

bool is_transient(const base::Error& error) noexcept {
    const int number = error.os_error().value_or(0);
    return number == EAGAIN || number == EINTR || number == ENOBUFS;
}

bool is_permission_error(const base::Error& error) noexcept {
    const int number = error.os_error().value_or(0);
    return number == EPERM || number == EACCES;
}

base::Result<base::UniqueFd> open_arp_socket(const Interface& interface) {
    base::UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                               static_cast<int>(htons(ETH_P_ARP))));
    if (!fd.valid()) {
        return base::Error::from_errno("socket(AF_PACKET)", errno);
    }
    sockaddr_ll bound{};
    bound.sll_family = AF_PACKET;
    bound.sll_protocol = htons(ETH_P_ARP);
    bound.sll_ifindex = interface.index;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&bound), sizeof(bound)) != 0) {
        return base::Error::from_errno("bind(AF_PACKET)", errno);
    }
    return fd;
}

base::Result<base::UniqueFd> open_icmpv6_socket(const Interface& interface,
                                                const base::IpAddress& gateway) {
    base::UniqueFd fd(::socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6));
    if (!fd.valid()) {
        return base::Error::from_errno("socket(ICMPv6)", errno);
    }
    icmp6_filter filter{};
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &filter);
    if (::setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) != 0) {
        return base::Error::from_errno("setsockopt(ICMP6_FILTER)", errno);
    }
    const std::array<IntOption, 6> options{{
        {IPPROTO_IPV6, IPV6_RECVPKTINFO, 1},
        {IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1},
        {IPPROTO_IPV6, IPV6_MULTICAST_HOPS, kNeighborDiscoveryHopLimit},
        {IPPROTO_IPV6, IPV6_UNICAST_HOPS, kNeighborDiscoveryHopLimit},
        {IPPROTO_IPV6, IPV6_MULTICAST_IF, interface.index},
        {IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0},
    }};
    for (const IntOption& option : options) {
        if (::setsockopt(fd.get(), option.level, option.name, &option.value,
                         sizeof(option.value)) != 0) {
            return base::Error::from_errno("setsockopt", errno);
        }
    }
    sockaddr_in6 bound{};
    bound.sin6_family = AF_INET6;
    std::memcpy(&bound.sin6_addr, gateway.bytes().data(), 16);
    if (IN6_IS_ADDR_LINKLOCAL(&bound.sin6_addr)) {
        bound.sin6_scope_id = static_cast<std::uint32_t>(interface.index);
    }
    // Binding sets the NS source address (and so where solicited advertisements come back).
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&bound), sizeof(bound)) != 0) {
        return base::Error::from_errno("bind(ICMPv6)", errno);
    }
    return fd;
}

base::Result<void> send_neighbor_probe(int fd, const Interface& interface,
                                       const base::IpAddress& gateway,
                                       const base::IpAddress& address) {
    if (address.is_v4()) {
        const auto packet = liveness::build_arp_request(interface.mac, gateway, address);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_protocol = htons(ETH_P_ARP);
        to.sll_ifindex = interface.index;
        to.sll_halen = 6;
        std::fill_n(to.sll_addr, 6, std::uint8_t{0xff});
        return sent_whole(::sendto(fd, packet.data(), packet.size(), 0,
                                   reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
                          packet.size());
    }
    const auto packet = liveness::build_neighbor_solicitation(address, interface.mac);
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    std::memcpy(&to.sin6_addr, liveness::solicited_node_address(address).bytes().data(), 16);
    to.sin6_scope_id = static_cast<std::uint32_t>(interface.index);
    return sent_whole(::sendto(fd, packet.data(), packet.size(), 0,
                               reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
                      packet.size());
}

ReadResult read_arp_answer(int fd, int interface_index) {
    ReadBuffer buffer{};
    sockaddr_ll from{};
    socklen_t from_size = sizeof(from);
    const ssize_t got = ::recvfrom(fd, buffer.data(), buffer.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &from_size);
    if (got < 0) {
        return base::Error::from_errno("recvfrom", errno);
    }
    // Our own requests come back as PACKET_OUTGOING; a frame from another interface can arrive
    // before bind() took effect.
    if (from.sll_pkttype == PACKET_OUTGOING || from.sll_ifindex != interface_index) {
        return std::optional<base::IpAddress>();
    }
    return liveness::arp_reply_sender(std::span(buffer.data(), static_cast<std::size_t>(got)));
}

ReadResult read_neighbor_advertisement(int fd, int interface_index) {
    ReadBuffer buffer{};
    alignas(cmsghdr) std::array<std::uint8_t, kIpv6AncillarySpace> control{};
    iovec io{.iov_base = buffer.data(), .iov_len = buffer.size()};
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    const ssize_t got = ::recvmsg(fd, &message, 0);
    if (got < 0) {
        return base::Error::from_errno("recvmsg", errno);
    }
    const Ipv6Ancillary ancillary = read_ipv6_ancillary(message);
    if ((ancillary.interface_index && *ancillary.interface_index != interface_index) ||
        (ancillary.hop_limit && *ancillary.hop_limit != kNeighborDiscoveryHopLimit)) {
        return std::optional<base::IpAddress>();
    }
    return liveness::neighbor_advertisement_target(
        std::span(buffer.data(), static_cast<std::size_t>(got)));
}

} // namespace probe
