// liveness/: picks the host address a probe for a container address is sent from. Pure C++ over
// base::IpAddress (no asio), so the code that builds the target list can use it anywhere.
#pragma once

#include <optional>
#include <span>

#include "base/ip_address.hpp"

namespace liveness {

/// The address in `gateways` (a network's bind addresses, as in the network file's header)
/// that shares the longest leading bit run with `address`, among those of its family; on a tie
/// the first. The files carry no prefix lengths, so this picks the subnet's own gateway when a
/// network has several subnets of one family. nullopt when none has the family or `address` is
/// itself one of them (the host is not probed).
std::optional<base::IpAddress> gateway_for(const base::IpAddress& address,
                                           std::span<const base::IpAddress> gateways) noexcept;

} // namespace liveness
