#include "records/record_store.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <unordered_map>
#include <utility>

#include "records/staleness.hpp"

namespace records {

namespace {

// Lets the query path look names up by string_view without building a std::string.
struct TransparentStringHash {
    using is_transparent = void;

    std::size_t operator()(std::string_view text) const noexcept {
        return std::hash<std::string_view>{}(text);
    }
};

using AddressesByName = std::unordered_map<std::string, std::vector<base::IpAddress>,
                                           TransparentStringHash, std::equal_to<>>;
using NamesByAddress =
    std::unordered_map<base::IpAddress, std::vector<std::string>, base::IpAddressHash>;

template <typename T>
void append_unique(std::vector<T>& list, const T& value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) {
        list.push_back(value);
    }
}

} // namespace

struct RecordStore::Tables {
    struct NetworkTables {
        AddressesByName addresses_of; // spec §3.4 `names[N]`, newest entry first, no duplicates
        NamesByAddress names_of;      // spec §3.4 `reverse[N]`
    };

    // One per known container address: the spec §3.4 requester table and what §4.3 and §5.2
    // ask about the source, so a query needs a single hash lookup per question.
    struct Requester {
        std::vector<NetworkId> networks; // sorted by id, i.e. by network name
        bool internal_only = false;
        std::vector<base::IpAddress> dns_servers; // empty: the container has none of its own
    };

    std::vector<Network> networks; // sorted by name; NetworkId indexes it
    std::vector<NetworkTables> by_network;
    std::unordered_map<base::IpAddress, Requester, base::IpAddressHash> requesters;
    std::vector<Finding> findings;

    const Requester* find_requester(const base::IpAddress& address) const noexcept {
        const auto it = requesters.find(address);
        return it == requesters.end() ? nullptr : &it->second;
    }
};

namespace {

using Tables = RecordStore::Tables;

std::vector<Network>::const_iterator find_network_in(const std::vector<Network>& networks,
                                                     std::string_view name) noexcept {
    const auto it = std::lower_bound(
        networks.begin(), networks.end(), name,
        [](const Network& network, std::string_view key) { return network.name < key; });
    return it != networks.end() && it->name == name ? it : networks.end();
}

struct Container {
    std::vector<NetworkId> networks;
    std::vector<base::IpAddress> addresses;
};

// The entry's addresses, IPv4 list then IPv6 list (spec §3.4 `ips(e)`), each once.
void collect_addresses(const config::ContainerEntry& entry, std::vector<base::IpAddress>& out) {
    out.clear();
    for (const auto& address : entry.ipv4) {
        append_unique(out, address);
    }
    for (const auto& address : entry.ipv6) {
        append_unique(out, address);
    }
}

void add_entry(const config::ContainerEntry& entry, const EntryClass& entry_class,
               const std::vector<base::IpAddress>& addresses, Tables::NetworkTables& tables) {
    if (!addresses.empty()) {
        for (const auto& name : entry.names) {
            if (std::find(entry_class.shadowed_names.begin(), entry_class.shadowed_names.end(),
                          name) != entry_class.shadowed_names.end()) {
                continue;
            }
            auto& list = tables.addresses_of[name];
            for (const auto& address : addresses) {
                append_unique(list, address);
            }
        }
    }
    // A shadowed line keeps its whole PTR: it may be a renamed live container.
    for (const auto& address : addresses) {
        auto& names = tables.names_of[address];
        for (const auto& name : entry.names) {
            append_unique(names, name);
        }
    }
}

} // namespace

std::shared_ptr<const RecordStore>
RecordStore::build(const std::vector<config::NetworkFile>& files) {
    auto tables = std::make_unique<Tables>();

    // Files named `x` and `x%int` would share one network name; merge them rather than guess.
    std::vector<std::string> names;
    names.reserve(files.size());
    for (const auto& file : files) {
        names.push_back(file.name);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    tables->networks.resize(names.size());
    tables->by_network.resize(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        tables->networks[i].name = std::move(names[i]);
    }

    std::vector<std::vector<Finding>> findings_by_network(tables->networks.size());
    std::unordered_map<std::string, Container> containers;
    std::unordered_map<base::IpAddress, const config::ContainerEntry*, base::IpAddressHash>
        dns_writer;
    std::vector<base::IpAddress> addresses;

    for (const auto& file : files) {
        const auto network_id = static_cast<NetworkId>(
            find_network_in(tables->networks, file.name) - tables->networks.cbegin());
        Network& network = tables->networks[network_id];
        network.internal = network.internal || file.internal;
        network.bind_ips.insert(network.bind_ips.end(), file.bind_ips.begin(), file.bind_ips.end());
        network.dns_servers.insert(network.dns_servers.end(), file.dns_servers.begin(),
                                   file.dns_servers.end());

        FileClassification classification = classify_entries(file);
        auto& findings = findings_by_network[network_id];
        std::move(classification.findings.begin(), classification.findings.end(),
                  std::back_inserter(findings));

        auto& network_tables = tables->by_network[network_id];
        network_tables.addresses_of.reserve(network_tables.addresses_of.size() +
                                            file.entries.size() * 2);
        // Newest line first: that is the answer order (the oldest line is the likeliest dead).
        for (std::size_t i = file.entries.size(); i-- > 0;) {
            const auto& entry = file.entries[i];
            const auto& entry_class = classification.entries[i];
            if (!serves(entry_class.status)) {
                continue;
            }
            collect_addresses(entry, addresses);
            add_entry(entry, entry_class, addresses, network_tables);
            Container& container = containers[entry.id];
            append_unique(container.networks, network_id);
            container.addresses.insert(container.addresses.end(), addresses.begin(),
                                       addresses.end());
        }
        // Spec §3.3: entries of internal files never set container DNS servers.
        if (!file.internal) {
            // Spec §3.4: the last writer wins, including a line with no servers.
            for (std::size_t i = 0; i < file.entries.size(); ++i) {
                if (!serves(classification.entries[i].status)) {
                    continue;
                }
                const auto& entry = file.entries[i];
                collect_addresses(entry, addresses);
                for (const auto& address : addresses) {
                    dns_writer[address] = &entry;
                }
            }
        }
    }

    for (auto& network : tables->networks) {
        if (network.internal) {
            network.dns_servers.clear();
        }
    }

    // Spec §3.4: every address of a container maps to all networks of that container.
    for (const auto& [id, container] : containers) {
        for (const auto& address : container.addresses) {
            auto& networks = tables->requesters[address].networks;
            networks.insert(networks.end(), container.networks.begin(), container.networks.end());
        }
    }
    for (auto& [address, requester] : tables->requesters) {
        auto& networks = requester.networks;
        std::sort(networks.begin(), networks.end());
        networks.erase(std::unique(networks.begin(), networks.end()), networks.end());
        requester.internal_only = std::all_of(networks.begin(), networks.end(), [&](NetworkId id) {
            return tables->networks[id].internal;
        });
    }
    for (const auto& [address, entry] : dns_writer) {
        const auto it = tables->requesters.find(address);
        if (it != tables->requesters.end() && entry->dns_servers) {
            it->second.dns_servers = *entry->dns_servers;
        }
    }

    for (auto& findings : findings_by_network) {
        std::move(findings.begin(), findings.end(), std::back_inserter(tables->findings));
    }
    return std::shared_ptr<const RecordStore>(new RecordStore(std::move(tables)));
}

RecordStore::RecordStore(std::unique_ptr<Tables> tables)
    : tables_(std::move(tables)) {}

RecordStore::~RecordStore() = default;

std::span<const Network> RecordStore::networks() const noexcept {
    return tables_->networks;
}

std::optional<NetworkId> RecordStore::find_network(std::string_view name) const noexcept {
    const auto& networks = tables_->networks;
    const auto it = find_network_in(networks, name);
    if (it == networks.end()) {
        return std::nullopt;
    }
    return static_cast<NetworkId>(it - networks.begin());
}

std::span<const NetworkId>
RecordStore::networks_of(const base::IpAddress& requester) const noexcept {
    const auto* found = tables_->find_requester(requester);
    if (found == nullptr) {
        return {};
    }
    return found->networks;
}

bool RecordStore::lookup_name(std::span<const NetworkId> nets, std::string_view name,
                              std::vector<base::IpAddress>& out) const {
    out.clear();
    for (const NetworkId id : nets) {
        if (id >= tables_->by_network.size()) {
            continue;
        }
        const auto& addresses_of = tables_->by_network[id].addresses_of;
        const auto it = addresses_of.find(name);
        if (it == addresses_of.end()) {
            continue;
        }
        // Each network's list is already unique; only what earlier networks gave can repeat
        // (a container that shares two networks with the requester).
        const auto earlier = static_cast<std::ptrdiff_t>(out.size());
        for (const auto& address : it->second) {
            if (std::find(out.begin(), out.begin() + earlier, address) == out.begin() + earlier) {
                out.push_back(address);
            }
        }
    }
    return !out.empty();
}

const std::vector<std::string>*
RecordStore::names_for(std::span<const NetworkId> nets,
                       const base::IpAddress& address) const noexcept {
    for (const NetworkId id : nets) {
        if (id >= tables_->by_network.size()) {
            continue;
        }
        const auto& names_of = tables_->by_network[id].names_of;
        const auto it = names_of.find(address);
        if (it != names_of.end()) {
            return &it->second;
        }
    }
    return nullptr;
}

bool RecordStore::is_internal_only(const base::IpAddress& requester) const noexcept {
    const auto* found = tables_->find_requester(requester);
    return found != nullptr && found->internal_only;
}

const std::vector<base::IpAddress>*
RecordStore::container_dns_servers(const base::IpAddress& requester) const noexcept {
    const auto* found = tables_->find_requester(requester);
    if (found == nullptr || found->internal_only || found->dns_servers.empty()) {
        return nullptr;
    }
    return &found->dns_servers;
}

void RecordStore::network_dns_servers(std::span<const NetworkId> nets,
                                      std::vector<base::IpAddress>& out) const {
    out.clear();
    for (const NetworkId id : nets) {
        if (id >= tables_->networks.size()) {
            continue;
        }
        const auto& servers = tables_->networks[id].dns_servers;
        out.insert(out.end(), servers.begin(), servers.end());
    }
}

std::vector<ProbeCandidate> RecordStore::probe_candidates() const {
    std::vector<ProbeCandidate> candidates;
    for (NetworkId id = 0; id < tables_->by_network.size(); ++id) {
        std::vector<base::IpAddress> chosen;
        for (const auto& [name, addresses] : tables_->by_network[id].addresses_of) {
            const auto v4 = std::count_if(addresses.begin(), addresses.end(),
                                          [](const base::IpAddress& a) { return a.is_v4(); });
            const auto v6 = static_cast<std::ptrdiff_t>(addresses.size()) - v4;
            for (const auto& address : addresses) {
                // A probe can only change an answer with another address of the same family.
                if ((address.is_v4() ? v4 : v6) >= 2) {
                    append_unique(chosen, address);
                }
            }
        }
        std::sort(chosen.begin(), chosen.end());
        for (const auto& address : chosen) {
            candidates.push_back({address, id});
        }
    }
    return candidates;
}

std::span<const Finding> RecordStore::findings() const noexcept {
    return tables_->findings;
}

} // namespace records
