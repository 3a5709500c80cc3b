// records/: the immutable lookup tables one reload serves from. Depends on config/ and base/ only:
// no DNS packets, no sockets.
//
// Design invariant: a RecordStore is immutable after build() returns. A reload builds a new one
// and the daemon swaps a shared_ptr; every query copies that shared_ptr at entry and holds it for
// its whole life (a forwarded query may outlive several reloads), so no lock is ever needed and
// no reader sees a half-built table. Everything a query needs is precomputed here, so the query
// path does no allocation beyond the caller's reusable scratch vectors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "config/network_file.hpp"

namespace records {

using NetworkId = std::uint32_t;

struct Network {
    std::string name;
    bool internal = false;
    std::vector<base::IpAddress> bind_ips;
    std::vector<base::IpAddress> dns_servers; // empty for internal networks
};

/// Why an entry line does not (fully) serve; see docs/stale-entries.md.
enum class EntryStatus {
    Current,
    DuplicateId, // rule 1: the same container ID appears on a later line; only the last counts
    IpReused,    // rule 2: a newer line with another ID holds one of its addresses
    Shadowed     // rule 3: a newer line with another ID has the same container name
};

/// One entry line that the stale-entry rules dropped or shadowed.
struct Finding {
    std::string network; // network name
    std::string path;    // file it came from
    std::string container_id;
    int line = 0;
    EntryStatus status = EntryStatus::Current;
    std::string newer_id;                    // the line that made it stale
    std::string reason;                      // human text, e.g. "ip 10.89.0.5 reused by 9f3c..."
    std::vector<std::string> shadowed_names; // rule 3: names no longer answered from it
    bool removable = false; // `check --fix` may delete the line (rules 1, 2; 3 with no own name)
};

/// An address whose liveness matters: a name answers with it and with another address of the
/// same family, so a probe verdict could change that answer.
struct ProbeCandidate {
    base::IpAddress address;
    NetworkId network = 0;
};

class RecordStore {
public:
    /// Builds the tables from parsed files (in the order given; config sorts them by name),
    /// applying the stale-entry rules per file.
    static std::shared_ptr<const RecordStore> build(const std::vector<config::NetworkFile>& files);

    std::span<const Network> networks() const noexcept;

    std::optional<NetworkId> find_network(std::string_view name) const noexcept;

    /// The networks a known container IP belongs to (all networks of every container holding
    /// that IP, spec §3.4 "requester table"), de-duplicated. Empty for unknown sources.
    std::span<const NetworkId> networks_of(const base::IpAddress& requester) const noexcept;

    /// Looks `name` up (already lowercased, search domain and trailing dot stripped) in `nets`,
    /// appending to `out` (cleared first) every address of both families, newest entry first,
    /// without duplicates. Returns false when no network in `nets` knows the name at all.
    bool lookup_name(std::span<const NetworkId> nets, std::string_view name,
                     std::vector<base::IpAddress>& out) const;

    /// All names of `address` in the first network of `nets` that knows it (spec §4.5):
    /// container name first, then aliases. nullptr when none does.
    const std::vector<std::string>* names_for(std::span<const NetworkId> nets,
                                              const base::IpAddress& address) const noexcept;

    /// True when `requester` is a known container and every one of its networks is internal.
    bool is_internal_only(const base::IpAddress& requester) const noexcept;

    /// The container's own DNS servers (5th field), nullptr when it has none or is only internal.
    const std::vector<base::IpAddress>*
    container_dns_servers(const base::IpAddress& requester) const noexcept;

    /// The network-scoped servers of `nets`, concatenated in order (internal ones contribute
    /// nothing), appended to `out` (cleared first).
    void network_dns_servers(std::span<const NetworkId> nets,
                             std::vector<base::IpAddress>& out) const;

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
