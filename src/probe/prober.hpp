// probe/: the liveness prober: background ARP/NDP probes from the bridge that tell which container
// addresses no longer answer (the optional `--probe-liveness`, docs/liveness.md). It schedules
// probes on an asio executor and ties together liveness/'s schedule and codec, the interface
// lookup and the raw sockets; must not depend on records/, query/ or config/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "base/ip_address.hpp"
#include "liveness/dead_set.hpp"
#include "liveness/probe_table.hpp"

namespace probe {

/// An address to watch and the host's own address in its subnet (the network's gateway on the
/// bridge), which is the ARP sender / NS source and selects the interface probes leave from.
struct Target {
    base::IpAddress address;
    base::IpAddress gateway;
};

struct Options {
    /// The schedule of each address: probe interval, misses for dead, how long a verdict lasts.
    liveness::ProbeTiming timing;
    /// Global cap on probes sent, all interfaces together.
    unsigned max_probes_per_second = 50;
};

struct ProberStats {
    std::uint64_t probes_sent = 0;
    std::uint64_t answers = 0;       ///< answers from a target, on the target's interface
    std::uint64_t probes_failed = 0; ///< probes that could not be sent (fail open)
    std::size_t targets = 0;
    std::size_t dead = 0;
    bool permission_denied = false; ///< a raw socket was refused (no CAP_NET_RAW)
};

/// Probes targets in the background on the executor's (single) thread: an ARP request
/// broadcast on the gateway's interface for IPv4, a Neighbor Solicitation to the solicited-node
/// group for IPv6, and it listens for the answers. Nothing here ever runs on the query path:
/// readers only copy the published DeadSet pointer.
///
/// Fails open: when a socket cannot be opened (EPERM without CAP_NET_RAW, the gateway is not on
/// any interface, the interface went away), a probe cannot be sent, or a socket fails, the
/// affected addresses go back to Unknown; a probe that never left is never counted as a miss.
///
/// Destroying the Prober (or stop()) closes its sockets; coroutines still queued on the
/// executor end on their own, so the executor may outlive the Prober.
class Prober {
public:
    /// Called on the executor's thread after the dead set changed, with the new set.
    using ChangeCallback = std::function<void(const std::shared_ptr<const liveness::DeadSet>&)>;

    Prober(asio::any_io_executor executor, Options options = {});
    ~Prober();

    Prober(const Prober&) = delete;
    Prober& operator=(const Prober&) = delete;
    Prober(Prober&&) = delete;
    Prober& operator=(Prober&&) = delete;

    /// Replaces the watched addresses (call after each reload). Addresses kept keep their
    /// verdict; new ones are probed soon. A target whose address equals its gateway, whose
    /// families differ, or whose address already appeared, is ignored. An empty list stops all
    /// probing and closes the sockets.
    void set_targets(std::vector<Target> targets);

    /// The current dead set; never null. Cheap (one shared_ptr copy), safe to call per query.
    std::shared_ptr<const liveness::DeadSet> dead_addresses() const noexcept;

    /// Replaces the change callback (an empty function removes it).
    void on_change(ChangeCallback callback);

    /// Unknown for addresses that are not targets.
    liveness::ProbeState state(const base::IpAddress& address) const;

    ProberStats stats() const;

    /// Closes every socket and forgets all verdicts (the dead set becomes empty). Final.
    void stop() noexcept;

private:
    class Engine;
    std::shared_ptr<Engine> engine_;
};

} // namespace probe
