// probe/: which host interface holds a gateway address, with the index and Ethernet address
// probes leave from (getifaddrs). Must not depend on asio, on the probe sockets or on the
// schedule.
#pragma once

#include <string>

#include "base/error.hpp"
#include "base/ip_address.hpp"
#include "liveness/neighbor_packets.hpp"

struct sockaddr;

namespace probe {

/// True when `address` (from getifaddrs) is `wanted`; false for other families and null.
bool sockaddr_holds(const sockaddr* address, const base::IpAddress& wanted);

/// Where the probes for one gateway leave from.
struct Interface {
    std::string name;
    int index = 0;
    liveness::MacAddress mac{};
};

/// The interface that holds `gateway`, with its index and Ethernet address; an Error when no
/// interface has it or it has no 6-byte hardware address.
base::Result<Interface> find_interface(const base::IpAddress& gateway);

} // namespace probe
