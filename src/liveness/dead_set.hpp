// liveness/: the immutable set of addresses that failed their neighbour probes. Pure C++ over
// base::IpAddress; no asio, no sockets, so the query path can use it without pulling either in.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "base/ip_address.hpp"

namespace liveness {

/// A sorted, de-duplicated list of addresses. Immutable once built: the prober publishes a new
/// one (through a shared_ptr<const DeadSet>) whenever a verdict changes, and a reader keeps the
/// one it took for as long as it needs it.
class DeadSet {
public:
    DeadSet() = default;

    explicit DeadSet(std::vector<base::IpAddress> addresses);

    bool contains(const base::IpAddress& address) const noexcept;

    bool empty() const noexcept { return addresses_.empty(); }

    std::size_t size() const noexcept { return addresses_.size(); }

    /// Sorted ascending (IPv4 before IPv6).
    std::span<const base::IpAddress> addresses() const noexcept { return addresses_; }

    bool operator==(const DeadSet&) const noexcept = default;

private:
    std::vector<base::IpAddress> addresses_;
};

} // namespace liveness
