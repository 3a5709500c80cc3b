#include "records/record_store.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <unordered_map>
#include <utility>

namespace records {

struct RecordStore::Tables {
    std::vector<std::shared_ptr<const NetworkTable>> tables; // sorted by name; NetworkId indexes
    std::vector<Network> networks;                           // copies of the tables' headers
    std::vector<Finding> findings;
    // Containers present in two or more networks: their networks, sorted. Contract §3.4: every
    // address of a container maps to all networks of that container.
    std::unordered_map<std::uint64_t, std::vector<NetworkId>> shared_containers;
    bool worth_warming = false;

    // Into `out` (cleared first), sorted and unique: the requester table of contract §3.4.
    void networks_of(const base::IpAddress& requester, std::vector<NetworkId>& out) const {
        out.clear();
        thread_local std::vector<std::uint64_t> keys;
        for (NetworkId id = 0; id < tables.size(); ++id) {
            keys.clear();
            if (!tables[id]->holds(requester, shared_containers.empty() ? nullptr : &keys)) {
                continue;
            }
            out.push_back(id);
            for (const std::uint64_t key : keys) {
                const auto it = shared_containers.find(key);
                if (it != shared_containers.end()) {
                    out.insert(out.end(), it->second.begin(), it->second.end());
                }
            }
        }
        if (!shared_containers.empty()) {
            std::sort(out.begin(), out.end());
            out.erase(std::unique(out.begin(), out.end()), out.end());
        }
    }
};

std::shared_ptr<const RecordStore>
RecordStore::build(const std::vector<config::NetworkFile>& files) {
    // Files named `x` and `x%int` would share one network name; merge them rather than guess.
    std::vector<const config::NetworkFile*> ordered;
    ordered.reserve(files.size());
    for (const auto& file : files) {
        ordered.push_back(&file);
    }
    // By name, keeping the given order within a name (pointers into one vector compare as
    // indices). Not stable_sort: its temporary buffer uses the nothrow operator new.
    std::sort(ordered.begin(), ordered.end(),
              [](const config::NetworkFile* a, const config::NetworkFile* b) {
                  return a->name != b->name ? a->name < b->name : a < b;
              });
    std::vector<std::shared_ptr<const NetworkTable>> tables;
    for (std::size_t begin = 0; begin < ordered.size();) {
        std::size_t end = begin + 1;
        while (end < ordered.size() && ordered[end]->name == ordered[begin]->name) {
            ++end;
        }
        // The order given within a name is kept (config sorts `x` before `x%int`).
        tables.push_back(NetworkTable::build(
            std::span<const config::NetworkFile* const>(ordered).subspan(begin, end - begin)));
        begin = end;
    }
    return compose(std::move(tables));
}

std::shared_ptr<const RecordStore>
RecordStore::compose(std::vector<std::shared_ptr<const NetworkTable>> tables) {
    auto result = std::make_unique<Tables>();
    std::sort(tables.begin(), tables.end(),
              [](const auto& a, const auto& b) { return a->network().name < b->network().name; });
    result->tables = std::move(tables);
    const auto count = static_cast<NetworkId>(result->tables.size());
    for (NetworkId id = 0; id < count; ++id) {
        const NetworkTable& table = *result->tables[id];
        result->networks.push_back(table.network());
        std::copy(table.findings().begin(), table.findings().end(),
                  std::back_inserter(result->findings));
    }
    std::size_t table_bytes = 0;
    for (const auto& table : result->tables) {
        table_bytes += table->memory_bytes();
    }
    result->worth_warming = table_bytes > kWarmThresholdBytes;
    if (count > 1) {
        // Every container key with the networks it appears in; only the shared ones are kept.
        std::unordered_map<std::uint64_t, std::vector<NetworkId>> seen;
        std::vector<std::uint64_t> keys;
        for (NetworkId id = 0; id < count; ++id) {
            keys.clear();
            result->tables[id]->append_container_keys(keys);
            std::sort(keys.begin(), keys.end());
            keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
            for (const std::uint64_t key : keys) {
                seen[key].push_back(id);
            }
        }
        for (auto& [key, networks] : seen) {
            if (networks.size() > 1) {
                result->shared_containers.emplace(key, std::move(networks));
            }
        }
    }
    return std::shared_ptr<const RecordStore>(new RecordStore(std::move(result)));
}

RecordStore::RecordStore(std::unique_ptr<Tables> tables)
    : tables_(std::move(tables)) {}

RecordStore::~RecordStore() = default;

std::span<const std::shared_ptr<const NetworkTable>> RecordStore::tables() const noexcept {
    return tables_->tables;
}

std::span<const Network> RecordStore::networks() const noexcept {
    return tables_->networks;
}

std::optional<NetworkId> RecordStore::find_network(std::string_view name) const noexcept {
    const auto& networks = tables_->networks;
    const auto it = std::lower_bound(
        networks.begin(), networks.end(), name,
        [](const Network& network, std::string_view key) { return network.name < key; });
    if (it == networks.end() || it->name != name) {
        return std::nullopt;
    }
    return static_cast<NetworkId>(it - networks.begin());
}

std::span<const NetworkId> RecordStore::networks_of(const base::IpAddress& requester) const {
    thread_local std::vector<NetworkId> scratch;
    tables_->networks_of(requester, scratch);
    return scratch;
}

bool RecordStore::lookup_name(std::span<const NetworkId> nets, std::string_view name,
                              std::vector<base::IpAddress>& out) const {
    out.clear();
    for (const NetworkId id : nets) {
        if (id < tables_->tables.size()) {
            tables_->tables[id]->append_addresses(name, out.size(), out);
        }
    }
    return !out.empty();
}

bool RecordStore::names_for(std::span<const NetworkId> nets, const base::IpAddress& address,
                            std::vector<std::string_view>& out, NameFilter which) const {
    out.clear();
    for (const NetworkId id : nets) {
        if (id < tables_->tables.size() && tables_->tables[id]->append_names(address, out, which)) {
            return true;
        }
    }
    return false;
}

bool RecordStore::worth_warming() const noexcept {
    return tables_->worth_warming;
}

void RecordStore::warm_name(std::span<const NetworkId> nets, std::string_view name,
                            std::uint64_t hash, unsigned step) const noexcept {
    for (const NetworkId id : nets) {
        if (id < tables_->tables.size()) {
            tables_->tables[id]->warm_name(name, hash, step);
        }
    }
}

void RecordStore::warm_address(std::span<const NetworkId> nets, std::uint64_t hash,
                               unsigned step) const noexcept {
    for (const NetworkId id : nets) {
        if (id < tables_->tables.size()) {
            tables_->tables[id]->warm_address(hash, step);
        }
    }
}

bool RecordStore::is_internal_only(const base::IpAddress& requester) const {
    thread_local std::vector<NetworkId> scratch;
    tables_->networks_of(requester, scratch);
    return !scratch.empty() && std::all_of(scratch.begin(), scratch.end(), [&](NetworkId id) {
        return tables_->networks[id].internal;
    });
}

std::span<const base::IpAddress>
RecordStore::container_dns_servers(const base::IpAddress& requester) const {
    if (is_internal_only(requester)) {
        return {};
    }
    // Contract §3.4: the last writer wins, in network order, including a line with no servers.
    std::span<const base::IpAddress> servers;
    for (const auto& table : tables_->tables) {
        const auto of = table->dns_servers_of(requester);
        if (of.found) {
            servers = of.servers;
        }
    }
    return servers;
}

void RecordStore::network_dns_servers(std::span<const NetworkId> nets,
                                      std::vector<base::Nameserver>& out) const {
    out.clear();
    for (const NetworkId id : nets) {
        if (id >= tables_->networks.size()) {
            continue;
        }
        for (const base::IpAddress& address : tables_->networks[id].dns_servers) {
            out.push_back(base::Nameserver{address});
        }
    }
}

std::vector<ProbeCandidate> RecordStore::probe_candidates() const {
    std::vector<ProbeCandidate> candidates;
    for (NetworkId id = 0; id < tables_->tables.size(); ++id) {
        tables_->tables[id]->append_probe_candidates(id, candidates);
    }
    return candidates;
}

std::span<const Finding> RecordStore::findings() const noexcept {
    return tables_->findings;
}

} // namespace records
