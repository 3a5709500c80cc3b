// probe/: the raw sockets probes travel on: an AF_PACKET socket for ARP and a raw ICMPv6 socket
// for Neighbor Discovery, one probe sent and one answer read per call. Must not depend on asio or
// on the schedule: each call is a system call on a descriptor the caller owns and polls.
#pragma once

#include <optional>

#include "base/error.hpp"
#include "base/ip_address.hpp"
#include "base/unique_fd.hpp"
#include "probe/interfaces.hpp"

namespace probe {

/// RFC 4861 §7.1.2: only an on-link sender can produce hop limit 255.
inline constexpr int kNeighborDiscoveryHopLimit = 255;

/// Worth another try soon; anything else means the socket or its interface is unusable. (On
/// Linux EWOULDBLOCK is EAGAIN.)
bool is_transient(const base::Error& error) noexcept;

/// The socket was refused for want of CAP_NET_RAW.
bool is_permission_error(const base::Error& error) noexcept;

/// An AF_PACKET socket for ARP, bound to the interface.
base::Result<base::UniqueFd> open_arp_socket(const Interface& interface);

/// A raw ICMPv6 socket that sees only Neighbor Advertisements, sends from `gateway` with hop
/// limit 255 out of the interface, and reports the arrival interface and hop limit.
base::Result<base::UniqueFd> open_icmpv6_socket(const Interface& interface,
                                                const base::IpAddress& gateway);

/// Sends the probe for `address` from `gateway` on the socket opened for its family: an ARP
/// request broadcast, or a Neighbor Solicitation to the solicited-node group. An Error (EMSGSIZE
/// for a short send) when the whole probe did not leave.
base::Result<void> send_neighbor_probe(int fd, const Interface& interface,
                                       const base::IpAddress& gateway,
                                       const base::IpAddress& address);

/// One read from a probe socket: the address that answered, nullopt when the datagram was no
/// answer on this interface, or the Error of a failed read (EAGAIN once the socket is drained).
using ReadResult = base::Result<std::optional<base::IpAddress>>;

/// Reads one frame from an ARP socket; our own requests and frames from other interfaces are
/// no answer.
ReadResult read_arp_answer(int fd, int interface_index);

/// Reads one message from an ICMPv6 socket; an advertisement from another interface or with a
/// hop limit other than 255 (not on-link) is no answer.
ReadResult read_neighbor_advertisement(int fd, int interface_index);

} // namespace probe
