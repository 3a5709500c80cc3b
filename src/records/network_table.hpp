// records/: one network's immutable lookup tables in a compact layout. Depends on config/ and
// base/ only: no DNS packets, no sockets.
//
// Why a table per network: a reload rebuilds only the networks whose files changed and reuses
// the others as they are (shared_ptr), so a change on one network costs nothing on the rest.
// Why compact: at 100,000 containers, per-entry heap strings and node-based hash maps cost several
// times the size of the file. Here every name is stored once in one arena, entries are fixed-size
// records with 32-bit indices, and both indexes are open-addressing arrays of 32-bit slots.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "config/network_file.hpp"
#include "records/flat_index.hpp"

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

/// The status as `ctrdns check` and `ctrdns status` print it: current, duplicate-id,
/// ip-reused, shadowed.
const char* status_name(EntryStatus status) noexcept;

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

/// The stable 64-bit identity of a container ID: containers are matched across networks by
/// it, and only the hash is kept (the ID text lives in the file and in findings).
std::uint64_t container_key(std::string_view container_id) noexcept;

class NetworkTable {
public:
    /// Builds one network from its files (`x` and/or `x%int`, in that order; all with the same
    /// name), applying the stale-entry rules per file. `files` must not be empty.
    static std::shared_ptr<const NetworkTable>
    build(std::span<const config::NetworkFile* const> files);

    /// The same from files kept as text (the daemon's full builds): never holds more than two
    /// parsed lines at once, so the peak is the text, a few bytes per line and the table.
    static std::shared_ptr<const NetworkTable>
    build(std::span<const config::NetworkFileLines* const> files);

    /// An append: `base` (a table with no findings, i.e. every line serving and unshadowed) plus
    /// the lines appended to its file since, parsed on their own (`appended` has the same header;
    /// entries carry their real line numbers). Returns null when the appended lines touch a line
    /// of `base` (same container key, address, or first name as any name of `base`): the stale
    /// rules could then change old lines, and only a full build() gets that right. Costs the
    /// size of the appended lines, not of `base`.
    static std::shared_ptr<const NetworkTable>
    build_appended(std::shared_ptr<const NetworkTable> base, const config::NetworkFile& appended);

    /// The table an appended table extends (null for a full build).
    const std::shared_ptr<const NetworkTable>& base() const noexcept { return base_; }

    const Network& network() const noexcept { return network_; }

    /// Entries the stale-entry rules dropped or shadowed, in file then line order.
    std::span<const Finding> findings() const noexcept { return findings_; }

    /// Appends every address `name` answers here (newest entry first, v4 then v6 per entry)
    /// that is not already among out[0, keep).
    void append_addresses(std::string_view name, std::size_t keep,
                          std::vector<base::IpAddress>& out) const;

    /// Appends the names of every entry holding `address` (newest first, each once). Returns
    /// false when no entry holds it.
    bool append_names(const base::IpAddress& address, std::vector<std::string_view>& out) const;

    /// True when a serving entry holds `address`; `keys` (if given) receives their container keys.
    bool holds(const base::IpAddress& address, std::vector<std::uint64_t>* keys = nullptr) const;

    /// True when a serving entry has this container key.
    bool has_container(std::uint64_t key) const noexcept;

    /// Appends the container keys of all serving entries (each once per level).
    void append_container_keys(std::vector<std::uint64_t>& out) const;

    /// The newest entry of a non-internal file holding `address` (the container's own DNS
    /// servers, 5th field). found=false when there is none; servers empty when it has none.
    struct DnsServersOf {
        bool found = false;
        std::span<const base::IpAddress> servers;
    };

    DnsServersOf dns_servers_of(const base::IpAddress& address) const noexcept;

    /// Appends the addresses worth probing with --probe-liveness (sorted, each once).
    void append_probe_candidates(NetworkId id, std::vector<ProbeCandidate>& out) const;

    /// Every name a serving entry answers for, each once, sorted (for `ctrdns status`); an
    /// appended table's names and its base's together.
    template <typename Visit>
    void for_each_name(Visit&& visit) const {
        std::vector<std::string_view> names;
        for (const NetworkTable* level = this; level != nullptr; level = level->base_.get()) {
            for (std::uint32_t id = 0; id < level->names_.size(); ++id) {
                if (level->names_[id].hits_count > 0) {
                    names.push_back(level->name_text(id));
                }
            }
        }
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        for (const std::string_view name : names) {
            visit(name);
        }
    }

    /// Bytes held by the tables (capacity), for status and benchmarks.
    std::size_t memory_bytes() const noexcept;

    std::size_t entry_count() const noexcept {
        return entries_.size() + (base_ ? base_->entry_count() : 0);
    }

private:
    NetworkTable() = default;

    struct Entry {
        std::uint64_t key = 0;         // container_key(id)
        std::uint32_t addr_begin = 0;  // into addresses_
        std::uint32_t names_begin = 0; // into entry_names_
        std::uint32_t dns_begin = 0;   // into dns_pool_
        std::uint16_t addr_count = 0;
        std::uint16_t dns_count = 0;
        std::uint32_t names_count = 0;
        bool writes_dns = false; // from a non-internal file
        bool has_dns = false;    // the line has a 5th field
    };

    struct NameRecord {
        std::uint32_t text_begin = 0; // into arena_
        std::uint32_t text_size = 0;
        // Entries answering for the name: hits_[hits_begin, +hits_count), except that the one
        // entry of a name with a single hit (nearly every name) is hits_begin itself.
        std::uint32_t hits_begin = 0;
        std::uint32_t hits_count = 0;
    };

    friend class NetworkTableBuilder;

    std::string_view name_text(std::uint32_t name_id) const noexcept;
    void append_own_addresses(std::string_view name, std::size_t keep,
                              std::vector<base::IpAddress>& out) const;
    std::uint32_t find_name(std::string_view name) const noexcept;

    std::uint32_t hit_entry(const NameRecord& record, std::uint32_t hit) const noexcept {
        return record.hits_count == 1 ? record.hits_begin : hits_[record.hits_begin + hit];
    }

    template <typename Visit>
    void for_each_slot_holding(const base::IpAddress& address, Visit&& visit) const;

    Network network_;
    std::vector<Finding> findings_;
    std::vector<Entry> entries_; // serving entries only, newest first per file
    std::vector<base::IpAddress> addresses_;
    std::vector<std::uint32_t> address_owner_; // parallel to addresses_: entry index
    std::vector<std::uint32_t> entry_names_;   // name ids, all names of each entry
    std::vector<base::IpAddress> dns_pool_;
    std::string arena_;
    std::vector<NameRecord> names_;
    std::vector<std::uint32_t> hits_;
    FlatIndex name_index_;    // name hash -> name id
    FlatIndex address_index_; // address hash -> address index, in entry order
    std::vector<std::uint64_t> sorted_keys_;
    bool shared_addresses_ = false; // two serving entries hold one address (lines without ID)
    std::shared_ptr<const NetworkTable> base_; // older lines, consulted after this level's own
};

} // namespace records
