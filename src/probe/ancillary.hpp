// probe/: reads the IPv6 ancillary data (cmsg) that arrives with an ICMPv6 message: the interface
// it came in on and its hop limit. Must not depend on asio, on how the socket was opened or on
// the schedule. The control bytes come from the kernel but are read bounds-checked all the same.
#pragma once

#include <cstddef>
#include <optional>

#include <netinet/in.h>
#include <sys/socket.h>

namespace probe {

/// Room for the two items a probe socket asks for (IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT).
inline constexpr std::size_t kIpv6AncillarySpace =
    CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int));

/// What the ancillary data said; an item that was absent or too short is nullopt.
struct Ipv6Ancillary {
    std::optional<int> interface_index;
    std::optional<int> hop_limit;
};

/// The IPV6_PKTINFO interface and IPV6_HOPLIMIT of a message recvmsg(2) filled in.
Ipv6Ancillary read_ipv6_ancillary(msghdr& message) noexcept;

} // namespace probe
