// records/: the immutable lookup tables one reload serves from. Depends on config/ and base/ only:
// no DNS packets, no sockets.
//
// Design invariant: a RecordStore is immutable after compose() returns. A reload builds a new one
// (on a worker thread) and the daemon swaps a shared_ptr; every query copies that shared_ptr at
// entry and holds it for its whole life (a forwarded query may outlive several reloads), so no
// lock is ever needed and no reader sees a half-built table. A store is a sorted list of
// per-network tables (records/network_table.hpp): a reload reuses the tables of unchanged
// networks. The query path does no allocation beyond reusable per-thread scratch vectors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "base/nameserver.hpp"
#include "config/network_file.hpp"
#include "records/network_table.hpp"

namespace records {

class RecordStore {
public:
    /// Builds the tables from parsed files (in the order given; config sorts them by name),
    /// applying the stale-entry rules per file. Files `x` and `x%int` form one network.
    static std::shared_ptr<const RecordStore> build(const std::vector<config::NetworkFile>& files);

    /// Puts already built network tables together (any order; sorted by name here). Cost is
    /// independent of the tables' sizes when there is one network, and linear in the number of
    /// containers otherwise (the cross-network container index).
    static std::shared_ptr<const RecordStore>
    compose(std::vector<std::shared_ptr<const NetworkTable>> tables);

    /// The per-network tables, NetworkId-indexed.
    std::span<const std::shared_ptr<const NetworkTable>> tables() const noexcept;

    std::span<const Network> networks() const noexcept;

    std::optional<NetworkId> find_network(std::string_view name) const noexcept;

    /// The networks a known container IP belongs to (all networks of every container holding
    /// that IP, contract §3.4 "requester table"), sorted, de-duplicated. Empty for unknown sources.
    /// The span lives in per-thread scratch: valid until the next networks_of on this thread.
    std::span<const NetworkId> networks_of(const base::IpAddress& requester) const;

    /// Looks `name` up (already lowercased, search domain and trailing dot stripped) in `nets`,
    /// appending to `out` (cleared first) every address of both families, newest entry first,
    /// without duplicates. Returns false when no network in `nets` knows the name at all.
    bool lookup_name(std::span<const NetworkId> nets, std::string_view name,
                     std::vector<base::IpAddress>& out) const;

    /// All names of `address` in the first network of `nets` that knows it (contract §4.5):
    /// container name first, then aliases, into `out` (cleared first; views into this store),
    /// only the plain host names with `which` = PlainHostNames. False when no network knows it.
    bool names_for(std::span<const NetworkId> nets, const base::IpAddress& address,
                   std::vector<std::string_view>& out, NameFilter which = NameFilter::All) const;

    /// True when the tables are too large to stay in a CPU cache between queries (over
    /// kWarmThresholdBytes together): only then do batches warm their lookups first, which
    /// costs more than it saves on a small store.
    static constexpr std::size_t kWarmThresholdBytes = std::size_t{256} * 1024;
    bool worth_warming() const noexcept;

    /// One step of warming lookup_name or names_for in `nets` (NetworkTable::warm_name).
    void warm_name(std::span<const NetworkId> nets, std::string_view name, std::uint64_t hash,
                   unsigned step) const noexcept;
    void warm_address(std::span<const NetworkId> nets, std::uint64_t hash,
                      unsigned step) const noexcept;

    /// True when `requester` is a known container and every one of its networks is internal.
    bool is_internal_only(const base::IpAddress& requester) const;

    /// The container's own DNS servers (5th field), empty when it has none or is only internal.
    std::span<const base::IpAddress> container_dns_servers(const base::IpAddress& requester) const;

    /// The network-scoped servers of `nets` on the DNS port, concatenated in order (internal ones
    /// contribute nothing), appended to `out` (cleared first).
    void network_dns_servers(std::span<const NetworkId> nets,
                             std::vector<base::Nameserver>& out) const;

    /// The addresses worth probing with --probe-liveness, de-duplicated per network.
    std::vector<ProbeCandidate> probe_candidates() const;

    /// Every entry the stale-entry rules dropped or shadowed, in network then line order.
    std::span<const Finding> findings() const noexcept;

    ~RecordStore();
    RecordStore(const RecordStore&) = delete;
    RecordStore& operator=(const RecordStore&) = delete;

    struct Tables;

private:
    explicit RecordStore(std::unique_ptr<Tables> tables);

    std::unique_ptr<Tables> tables_;
};

} // namespace records
