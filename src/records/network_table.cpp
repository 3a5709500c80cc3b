#include "records/network_table.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "base/host_name.hpp"
#include "base/prefetch.hpp"
#include "config/write_progress.hpp"
#include "records/staleness.hpp"

namespace records {

namespace {

constexpr std::uint32_t kNoName = std::numeric_limits<std::uint32_t>::max();

std::size_t hash_name(std::string_view name) noexcept {
    return std::hash<std::string_view>{}(name);
}

template <typename T>
bool contains(std::span<const T> list, const T& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

// Keeps the first of each value, in order. A line of netavark's has a handful of addresses and
// names, searched in place; a hand-made one can hold tens of thousands, and searching each in
// the ones before would cost the reload minutes.
template <typename T, typename Hash = std::hash<T>>
class FirstOfEach {
public:
    explicit FirstOfEach(std::vector<T>& kept)
        : kept_(kept) {
        kept_.clear();
    }

    /// False when `value` was kept before.
    bool keep(const T& value) {
        constexpr std::size_t kSearchedInPlace = 16;
        if (kept_.size() < kSearchedInPlace) {
            if (contains(std::span<const T>(kept_), value)) {
                return false;
            }
        } else {
            if (seen_.empty()) {
                seen_.insert(kept_.begin(), kept_.end());
            }
            if (!seen_.insert(value).second) {
                return false;
            }
        }
        kept_.push_back(value);
        return true;
    }

private:
    std::vector<T>& kept_;
    std::unordered_set<T, Hash> seen_;
};

} // namespace

const char* status_name(EntryStatus status) noexcept {
    switch (status) {
    case EntryStatus::Current:
        return "current";
    case EntryStatus::DuplicateId:
        return "duplicate-id";
    case EntryStatus::IpReused:
        return "ip-reused";
    case EntryStatus::Shadowed:
        return "shadowed";
    }
    return "current";
}

std::uint64_t container_key(std::string_view container_id) noexcept {
    // FNV-1a, then a final mix so similar hex IDs spread over the whole range.
    std::uint64_t hash = config::extend_text_hash(config::kTextHashSeed, container_id);
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    return hash;
}

// Where the builder reads a file's entry lines from: parsed entries (check, tests, appends) or
// a file kept as text and parsed line by line (the daemon's full builds).
class LineSource {
public:
    explicit LineSource(const config::NetworkFile& file)
        : header_(file)
        , parsed_(&file) {}

    explicit LineSource(const config::NetworkFileLines& lines)
        : header_(lines.header())
        , text_(&lines) {}

    const config::NetworkFile& header() const noexcept { return header_; }

    std::uint32_t size() const noexcept {
        return parsed_ != nullptr ? static_cast<std::uint32_t>(parsed_->entries.size())
                                  : text_->size();
    }

    std::size_t address_count() const noexcept {
        if (parsed_ == nullptr) {
            return text_->address_count();
        }
        return config::address_count(*parsed_);
    }

    /// Line `index`; `aside` for a look back at one line during a walk (the stale rules).
    const config::ContainerEntry& read(std::uint32_t index, config::ContainerEntry& scratch,
                                       bool aside = false) const {
        if (parsed_ != nullptr) {
            return parsed_->entries[index];
        }
        text_->parse(index, scratch,
                     aside ? config::NetworkFileLines::Read::Aside
                           : config::NetworkFileLines::Read::InOrder);
        return scratch;
    }

private:
    const config::NetworkFile& header_;
    const config::NetworkFile* parsed_ = nullptr;
    const config::NetworkFileLines* text_ = nullptr;
};

// Fills a NetworkTable in two passes so every list ends up contiguous: first entries, names and
// (name, entry) pairs, then the pairs grouped per name.
class NetworkTableBuilder {
public:
    explicit NetworkTableBuilder(NetworkTable& table)
        : table_(table) {}

    void set_name(std::string name) { table_.network_.name = std::move(name); }

    /// Builds from every file of the network, in order. Two walks over each file's lines,
    /// newest first: the stale-entry rules (a few bytes per line), then the table, sized
    /// exactly from what the first walk counted (no vector grows by doubling, which holds the
    /// old and the new copy at once, and none needs a shrinking copy at the end).
    void add_files(std::span<const LineSource> sources, bool merge_headers) {
        std::vector<Classified> classified;
        classified.reserve(sources.size());
        Counts counts;
        for (const LineSource& source : sources) {
            classified.push_back(classify(source, counts));
        }
        reserve(counts);
        for (std::size_t i = 0; i < sources.size(); ++i) {
            const config::NetworkFile& header = sources[i].header();
            if (merge_headers) {
                auto& network = table_.network_;
                network.internal = network.internal || header.internal;
                network.bind_ips.insert(network.bind_ips.end(), header.bind_ips.begin(),
                                        header.bind_ips.end());
                network.dns_servers.insert(network.dns_servers.end(), header.dns_servers.begin(),
                                           header.dns_servers.end());
            }
            add_serving_lines(sources[i], classified[i]);
        }
    }

    void finish() {
        auto& network = table_.network_;
        if (network.internal) {
            network.dns_servers.clear();
        }
        group_hits();
        index_addresses();
        auto& keys = table_.sorted_keys_;
        keys.reserve(table_.entries_.size());
        for (const auto& entry : table_.entries_) {
            keys.push_back(entry.key);
        }
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        keys.shrink_to_fit();
        auto& key_entries = table_.key_entries_;
        key_entries.resize(keys.size());
        for (std::uint32_t index = 0; index < table_.entries_.size(); ++index) {
            const auto at = std::lower_bound(keys.begin(), keys.end(), table_.entries_[index].key);
            key_entries[static_cast<std::size_t>(at - keys.begin())] = index;
        }
        table_.entangled_lines_.shrink_to_fit();
        // Only lists left well below their reserved size are copied smaller.
        shrink_if_slack(table_.entries_);
        shrink_if_slack(table_.addresses_);
        shrink_if_slack(table_.entry_names_);
        shrink_if_slack(table_.dns_pool_);
        shrink_if_slack(table_.dns_ranges_);
        shrink_if_slack(table_.arena_);
    }

private:
    // What the first walk leaves for the second: one byte per line, and the withheld names of
    // the (rare) shadowed lines.
    struct Classified {
        std::vector<std::uint8_t> serving;
        std::unordered_map<std::uint32_t, std::vector<std::string>> shadowed_names;
    };

    struct Counts {
        std::size_t entries = 0;
        std::size_t spilled_addresses = 0; // of lines with more than an entry holds
        std::size_t names = 0;
        std::size_t spilled_names = 0;
        std::size_t name_bytes = 0;
    };

    Classified classify(const LineSource& source, Counts& counts) {
        const std::uint32_t count = source.size();
        Classified result;
        result.serving.assign(count, 0);
        config::ContainerEntry current;
        config::ContainerEntry other;
        StreamClassifier classifier(
            source.header(), count,
            source.address_count(), [&](std::uint32_t index) -> const auto& {
                return source.read(index, other, true);
            });
        std::vector<Finding> findings;
        std::optional<Finding> finding;
        for (std::uint32_t index = count; index-- > 0;) {
            const config::ContainerEntry& entry = source.read(index, current);
            EntryClass entry_class = classifier.classify(index, entry, finding);
            if (finding) {
                findings.push_back(std::move(*finding));
            }
            if (!serves(entry_class.status)) {
                continue;
            }
            result.serving[index] = 1;
            if (!entry_class.shadowed_names.empty()) {
                result.shadowed_names.emplace(index, std::move(entry_class.shadowed_names));
            }
            ++counts.entries;
            const std::size_t addresses = entry.ipv4.size() + entry.ipv6.size();
            counts.spilled_addresses += addresses > NetworkTable::kInlineAddresses ? addresses : 0;
            counts.names += entry.names.size();
            counts.spilled_names +=
                entry.names.size() > NetworkTable::kInlineNames ? entry.names.size() : 0;
            for (const auto& name : entry.names) {
                counts.name_bytes += name.size();
            }
        }
        // In line order.
        std::move(findings.rbegin(), findings.rend(), std::back_inserter(table_.findings_));
        const auto lines = classifier.take_entangled_lines();
        table_.entangled_lines_.insert(table_.entangled_lines_.end(), lines.begin(), lines.end());
        return result;
    }

    void reserve(const Counts& counts) {
        table_.entries_.reserve(counts.entries);
        table_.addresses_.reserve(counts.spilled_addresses);
        table_.entry_names_.reserve(counts.spilled_names);
        table_.arena_.reserve(counts.name_bytes + counts.names * NetworkTable::kNameHeader);
        table_.name_index_.reset(counts.names);
        reserved_names_ = counts.names;
    }

    void add_serving_lines(const LineSource& source, const Classified& classified) {
        static const std::vector<std::string> no_names;
        config::ContainerEntry scratch;
        // Newest line first: that is the answer order (the oldest line is the likeliest dead).
        for (std::uint32_t index = source.size(); index-- > 0;) {
            if (classified.serving[index] == 0) {
                continue;
            }
            const auto shadowed = classified.shadowed_names.find(index);
            add_entry(source.header(), source.read(index, scratch),
                      shadowed == classified.shadowed_names.end() ? no_names : shadowed->second);
            if (!orders_.empty()) {
                table_.orders_.push_back(orders_[index]);
            }
        }
    }

public:
    /// An overlay's lines' places among its base's (see NetworkTable::build_overlay).
    void set_orders(std::span<const std::uint32_t> orders) {
        if (std::any_of(orders.begin(), orders.end(),
                        [](std::uint32_t order) { return order != NetworkTable::kNewest; })) {
            orders_ = orders;
        }
    }

private:
    template <typename List>
    static void shrink_if_slack(List& list) {
        if (list.capacity() - list.size() > list.size() / 8 + 64) {
            list.shrink_to_fit();
        }
    }

    void add_entry(const config::NetworkFile& file, const config::ContainerEntry& source,
                   const std::vector<std::string>& shadowed) {
        NetworkTable::Entry entry;
        entry.key = container_key(source.id);
        const auto entry_index = static_cast<std::uint32_t>(table_.entries_.size());
        // The entry's addresses, IPv4 list then IPv6 list, each once.
        auto& addresses = scratch_addresses_;
        FirstOfEach<base::IpAddress, base::IpAddressHash> distinct_addresses(addresses);
        for (const auto* list : {&source.ipv4, &source.ipv6}) {
            for (const auto& address : *list) {
                if (addresses.size() < std::numeric_limits<std::uint16_t>::max()) {
                    distinct_addresses.keep(address);
                }
            }
        }
        entry.addr_count = static_cast<std::uint16_t>(addresses.size());
        if (addresses.size() <= NetworkTable::kInlineAddresses) {
            std::copy(addresses.begin(), addresses.end(), entry.inline_addresses.begin());
        } else {
            entry.addr_begin = static_cast<std::uint32_t>(table_.addresses_.size());
            table_.addresses_.insert(table_.addresses_.end(), addresses.begin(), addresses.end());
        }

        auto& name_ids = scratch_names_;
        FirstOfEach<std::uint32_t> distinct_names(name_ids);
        for (const auto& name : source.names) {
            // No DNS message can carry a longer name (253 characters at most), nor a line of
            // a 16 MiB file that many names of its own worth answering.
            if (name.size() > NetworkTable::kMaxNameSize ||
                name_ids.size() == std::numeric_limits<std::uint16_t>::max()) {
                continue;
            }
            const std::uint32_t name_id = intern(name);
            if (!distinct_names.keep(name_id)) {
                continue;
            }
            // Shadowed names still give PTR answers (a renamed live container may own them).
            if (std::find(shadowed.begin(), shadowed.end(), name) != shadowed.end()) {
                withheld_.emplace_back(entry_index, name_id);
            }
        }
        entry.names_count = static_cast<std::uint16_t>(name_ids.size());
        if (name_ids.size() <= NetworkTable::kInlineNames) {
            std::copy(name_ids.begin(), name_ids.end(), entry.inline_names.begin());
        } else {
            entry.inline_names[0] = static_cast<std::uint32_t>(table_.entry_names_.size());
            table_.entry_names_.insert(table_.entry_names_.end(), name_ids.begin(), name_ids.end());
        }

        // Contract §3.3: entries of internal files never set container DNS servers.
        entry.writes_dns = !file.internal;
        if (source.dns_servers) {
            entry.has_dns = true;
            const std::size_t count = std::min<std::size_t>(
                source.dns_servers->size(), std::numeric_limits<std::uint16_t>::max());
            table_.dns_ranges_.resize(entry_index);
            table_.dns_ranges_.push_back({static_cast<std::uint32_t>(table_.dns_pool_.size()),
                                          static_cast<std::uint32_t>(count)});
            table_.dns_pool_.insert(table_.dns_pool_.end(), source.dns_servers->begin(),
                                    source.dns_servers->begin() +
                                        static_cast<std::ptrdiff_t>(count));
        }
        table_.entries_.push_back(entry);
    }

    std::uint32_t intern(std::string_view name) {
        // Sized by reserve(); an overlay or a test may add more names than that.
        if (name_count_ + 1 > reserved_names_) {
            reserved_names_ = std::max<std::size_t>(16, reserved_names_ * 2);
            rehash_names(reserved_names_);
        }
        const std::uint64_t hash = hash_name(name);
        std::uint32_t found = kNoName;
        table_.name_index_.for_each(hash, [&](std::uint32_t name_id) {
            if (table_.name_text(name_id) == name) {
                found = name_id;
                return false;
            }
            return true;
        });
        if (found != kNoName) {
            return found;
        }
        auto& arena = table_.arena_;
        const auto name_id = static_cast<std::uint32_t>(arena.size());
        // The hits word counts the name's hits until group_hits() sets it.
        const std::uint32_t hits = 0;
        const auto size = static_cast<std::uint16_t>(
            name.size() | (base::is_plain_host_name(name) ? NetworkTable::kPlainHostName : 0U));
        arena.resize(arena.size() + NetworkTable::kNameHeader);
        std::memcpy(&arena[name_id], &hits, sizeof(hits));
        std::memcpy(&arena[name_id + sizeof(hits)], &size, sizeof(size));
        arena.append(name);
        table_.name_index_.insert(hash, name_id);
        ++name_count_;
        return name_id;
    }

    void rehash_names(std::size_t keys) {
        table_.name_index_.reset(keys);
        for (std::uint32_t id = 0; id < table_.arena_.size(); id = table_.next_name(id)) {
            table_.name_index_.insert(hash_name(table_.name_text(id)), id);
        }
    }

    void set_hits_word(std::uint32_t name_id, std::uint32_t word) {
        std::memcpy(&table_.arena_[name_id], &word, sizeof(word));
    }

    // Calls visit(entry index, name id) for every name an entry answers for, in entry (answer)
    // order: every name of every entry with an address, but its withheld (shadowed) names.
    template <typename Visit>
    void for_each_hit(Visit&& visit) const {
        const auto& entries = table_.entries_;
        for (std::uint32_t index = 0; index < entries.size(); ++index) {
            const NetworkTable::Entry& entry = entries[index];
            if (entry.addr_count == 0) {
                continue;
            }
            for (const std::uint32_t name_id : table_.name_ids_of(entry)) {
                if (!withheld_.empty() && std::binary_search(withheld_.begin(), withheld_.end(),
                                                             std::pair(index, name_id))) {
                    continue;
                }
                visit(index, name_id);
            }
        }
    }

    // Groups the hits per name in three walks over the entries, without a list of them: count,
    // place, fill (the hits words count first, then point at their entries).
    void group_hits() {
        std::sort(withheld_.begin(), withheld_.end());
        for_each_hit([&](std::uint32_t, std::uint32_t name_id) {
            set_hits_word(name_id, table_.hits_word(name_id) + 1);
        });
        constexpr std::uint32_t kOneHitToFill = NetworkTable::kMultipleHits - 1;
        std::size_t multiple = 0;
        for (std::uint32_t id = 0; id < table_.arena_.size(); id = table_.next_name(id)) {
            const std::uint32_t count = table_.hits_word(id);
            multiple += count > 1 ? count + 1 : 0;
        }
        auto& hits = table_.hits_;
        hits.reserve(multiple);
        for (std::uint32_t id = 0; id < table_.arena_.size(); id = table_.next_name(id)) {
            const std::uint32_t count = table_.hits_word(id);
            if (count == 0) {
                set_hits_word(id, NetworkTable::kNoHits);
            } else if (count == 1) {
                set_hits_word(id, kOneHitToFill);
            } else {
                // The count slot counts the entries placed so far, and ends at `count`.
                set_hits_word(id, NetworkTable::kMultipleHits |
                                      static_cast<std::uint32_t>(hits.size()));
                hits.push_back(0);
                hits.resize(hits.size() + count);
            }
        }
        for_each_hit([&](std::uint32_t entry, std::uint32_t name_id) {
            const std::uint32_t word = table_.hits_word(name_id);
            if (word == kOneHitToFill) {
                set_hits_word(name_id, entry);
            } else {
                const std::uint32_t at = word & ~NetworkTable::kMultipleHits;
                hits[at + 1 + hits[at]++] = entry;
            }
        });
        withheld_.clear();
        withheld_.shrink_to_fit();
        // Many names were duplicates of others: size the index for the names there are.
        if (name_count_ < reserved_names_ / 2) {
            rehash_names(name_count_);
        }
    }

    // The index maps each address to the entry holding it and the address's place in that
    // entry, not to the address's own slot: a PTR lookup then goes index -> entry -> (address to
    // check, names to answer) in parallel, one cache miss shorter than through a slot and its
    // owner.
    void index_addresses() {
        const auto& entries = table_.entries_;
        auto& index = table_.address_index_;
        std::size_t address_count = 0;
        for (const auto& entry : entries) {
            address_count += entry.addr_count;
        }
        index.reset(address_count);
        // A network file holds 16 MiB at most, so far fewer lines than this.
        if (entries.size() >= (std::size_t{1} << (32 - NetworkTable::kOrdinalBits))) {
            std::abort();
        }
        // Inserted in entry order, so a probe meets the holders of one address newest first.
        for (std::uint32_t entry = 0; entry < entries.size(); ++entry) {
            const auto addresses = table_.addresses_of(entries[entry]);
            for (std::uint32_t at = 0; at < addresses.size(); ++at) {
                const base::IpAddress& address = addresses[at];
                const std::uint64_t hash = address.hash();
                if (!table_.shared_addresses_) {
                    index.for_each(hash, [&](std::uint32_t held) {
                        table_.shared_addresses_ = NetworkTable::holder_of(held) != entry &&
                                                   table_.holds_at(held, address);
                        return !table_.shared_addresses_;
                    });
                }
                index.insert(hash, NetworkTable::held_at(entry, at));
            }
        }
    }

    NetworkTable& table_;
    std::span<const std::uint32_t> orders_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> withheld_; // (entry, name): shadowed
    std::size_t name_count_ = 0;
    std::size_t reserved_names_ = 0;                 // what name_index_ is sized for
    std::vector<base::IpAddress> scratch_addresses_; // add_entry's, kept for their capacity
    std::vector<std::uint32_t> scratch_names_;
};

namespace {

// A network from its files, whichever form they are in.
template <typename File>
std::shared_ptr<const NetworkTable> build_network(std::span<const File* const> files,
                                                  std::shared_ptr<NetworkTable> table) {
    std::vector<LineSource> sources;
    for (const File* file : files) {
        sources.emplace_back(*file);
    }
    NetworkTableBuilder builder(*table);
    builder.set_name(sources.empty() ? std::string() : sources.front().header().name);
    builder.add_files(sources, true);
    builder.finish();
    return table;
}

} // namespace

std::shared_ptr<const NetworkTable>
NetworkTable::build(std::span<const config::NetworkFile* const> files) {
    std::shared_ptr<NetworkTable> table(new NetworkTable());
    return build_network(files, std::move(table));
}

std::shared_ptr<const NetworkTable>
NetworkTable::build(std::span<const config::NetworkFileLines* const> files) {
    std::shared_ptr<NetworkTable> table(new NetworkTable());
    return build_network(files, std::move(table));
}

bool NetworkTable::can_carry_overlay() const noexcept {
    const std::uint64_t no_id = container_key("");
    return !base_ && entries_.size() == sorted_keys_.size() &&
           std::none_of(entangled_lines_.begin(), entangled_lines_.end(),
                        [&](const EntangledLine& line) { return line.key == no_id; });
}

std::vector<std::uint64_t>
NetworkTable::clashing_keys(const config::NetworkFile& lines,
                            std::span<const std::uint64_t> hidden) const {
    std::vector<std::uint64_t> keys;
    const auto add_holders = [&](std::string_view name) {
        const std::uint32_t name_id = find_name(name);
        if (name_id == kNoName) {
            return;
        }
        const std::uint32_t word = hits_word(name_id);
        for (std::uint32_t hit = 0; hit < hits_count(name_id); ++hit) {
            const std::uint64_t holder = entries_[hit_entry(word, hit)].key;
            if (!is_hidden(hidden, holder)) {
                keys.push_back(holder);
            }
        }
    };
    for (const auto& entry : lines.entries) {
        const std::uint64_t key = container_key(entry.id);
        if (std::binary_search(sorted_keys_.begin(), sorted_keys_.end(), key) &&
            !is_hidden(hidden, key)) {
            keys.push_back(key);
        }
        for (const auto* list : {&entry.ipv4, &entry.ipv6}) {
            for (const auto& address : *list) {
                own_holds(address, &keys, hidden);
            }
        }
        if (!entry.names.empty()) {
            // The stale rules compare first names; holders by any name are more, never less.
            add_holders(entry.names.front());
        }
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
}

std::shared_ptr<const NetworkTable> NetworkTable::build_overlay(
    std::shared_ptr<const NetworkTable> base, const config::NetworkFile& lines,
    std::vector<std::uint64_t> hidden_keys, std::span<const std::uint32_t> orders,
    std::vector<std::uint64_t>* clashing) {
    if (!base || !base->can_carry_overlay()) {
        return nullptr;
    }
    std::sort(hidden_keys.begin(), hidden_keys.end());
    if (std::adjacent_find(hidden_keys.begin(), hidden_keys.end()) != hidden_keys.end()) {
        return nullptr;
    }
    const auto& base_keys = base->sorted_keys_;
    for (const std::uint64_t key : hidden_keys) {
        if (!std::binary_search(base_keys.begin(), base_keys.end(), key)) {
            return nullptr;
        }
    }
    const std::span<const std::uint64_t> hidden = hidden_keys;
    for (const EntangledLine& line : base->entangled_lines_) {
        if (std::binary_search(base_keys.begin(), base_keys.end(), line.key) &&
            !is_hidden(hidden, line.key)) {
            return nullptr;
        }
    }
    for (const auto& entry : lines.entries) {
        if (!entry.names.empty()) {
            const std::uint32_t name_id = base->find_name(entry.names.front());
            // A name held only by entries without addresses has no hit to find its lines by.
            if (name_id != kNoName && base->hits_count(name_id) == 0) {
                return nullptr;
            }
        }
    }
    if (!orders.empty() && orders.size() != lines.entries.size()) {
        return nullptr;
    }
    std::vector<std::uint64_t> clashes = base->clashing_keys(lines, hidden);
    if (!clashes.empty()) {
        if (clashing != nullptr) {
            *clashing = std::move(clashes);
        }
        return nullptr;
    }
    std::shared_ptr<NetworkTable> table(new NetworkTable());
    // The header is the file's as it is now (`podman network update` rewrites it).
    table->network_ = base->network_;
    table->network_.bind_ips = lines.bind_ips;
    table->network_.dns_servers = lines.dns_servers;
    NetworkTableBuilder builder(*table);
    builder.set_orders(orders);
    const std::array sources{LineSource(lines)};
    builder.add_files(sources, false);
    builder.finish();
    table->base_ = std::move(base);
    table->hidden_keys_ = std::move(hidden_keys);
    table->hidden_keys_.shrink_to_fit();
    return table;
}

std::string_view NetworkTable::name_text(std::uint32_t name_id) const noexcept {
    const auto size = static_cast<std::uint16_t>(size_word(name_id) & kMaxNameSize);
    return std::string_view(arena_).substr(name_id + kNameHeader, size);
}

bool NetworkTable::name_serves(std::uint32_t name_id,
                               std::span<const std::uint64_t> hidden) const noexcept {
    const std::uint32_t word = hits_word(name_id);
    const std::uint32_t count = hits_count(name_id);
    for (std::uint32_t hit = 0; hit < count; ++hit) {
        if (!is_hidden(hidden, entries_[hit_entry(word, hit)].key)) {
            return true;
        }
    }
    return false;
}

std::uint32_t NetworkTable::find_name(std::string_view name) const noexcept {
    std::uint32_t found = kNoName;
    name_index_.for_each(hash_name(name), [&](std::uint32_t name_id) {
        if (name_text(name_id) == name) {
            found = name_id;
            return false;
        }
        return true;
    });
    return found;
}

bool NetworkTable::holds_at(std::uint32_t held, const base::IpAddress& address) const noexcept {
    const auto addresses = addresses_of(entries_[holder_of(held)]);
    const std::uint32_t at = held & kLastOrdinal;
    if (at < kLastOrdinal) {
        return at < addresses.size() && addresses[at] == address;
    }
    const auto rest = addresses.subspan(std::min<std::size_t>(at, addresses.size()));
    return std::find(rest.begin(), rest.end(), address) != rest.end();
}

template <typename Visit>
void NetworkTable::for_each_entry_holding(const base::IpAddress& address, Visit&& visit) const {
    address_index_.for_each(address.hash(), [&](std::uint32_t held) {
        return !holds_at(held, address) || visit(holder_of(held));
    });
}

void NetworkTable::append_addresses(std::string_view name, std::size_t keep,
                                    std::vector<base::IpAddress>& out) const {
    if (!orders_.empty()) {
        append_merged_addresses(name, keep, out);
        return;
    }
    // Newer lines first; build_overlay guarantees the levels share no serving address.
    append_own_addresses(name, keep, out, {});
    if (base_) {
        base_->append_own_addresses(name, keep, out, hidden_keys_);
    }
}

// An overlay with restated lines: they may be older than lines of the base that hold the same
// name, so both levels' hits (each newest first) are merged by their places in the file.
void NetworkTable::append_merged_addresses(std::string_view name, std::size_t keep,
                                           std::vector<base::IpAddress>& out) const {
    const NetworkTable& base = *base_;
    const std::uint32_t own_id = find_name(name);
    const std::uint32_t base_id = base.find_name(name);
    const std::uint32_t own_count = own_id == kNoName ? 0 : hits_count(own_id);
    const std::uint32_t base_count = base_id == kNoName ? 0 : base.hits_count(base_id);
    const std::uint32_t own_word = own_id == kNoName ? 0 : hits_word(own_id);
    const std::uint32_t base_word = base_id == kNoName ? 0 : base.hits_word(base_id);
    const auto base_entries = static_cast<std::uint32_t>(base.entries_.size());
    const std::size_t first_here = out.size();
    // Levels share no serving address (build_overlay), so only lines without an ID may repeat.
    const bool may_repeat = shared_addresses_ || base.shared_addresses_;
    std::uint32_t own = 0;
    std::uint32_t other = 0;
    while (own < own_count || other < base_count) {
        const std::uint32_t base_entry = other < base_count ? base.hit_entry(base_word, other) : 0;
        if (other < base_count && is_hidden(hidden_keys_, base.entries_[base_entry].key)) {
            ++other;
            continue;
        }
        const bool take_own =
            other == base_count ||
            (own < own_count && orders_[hit_entry(own_word, own)] >= base_entries - base_entry);
        if (take_own) {
            append_entry_addresses(entries_[hit_entry(own_word, own)], keep, first_here, may_repeat,
                                   out);
            ++own;
        } else {
            base.append_entry_addresses(base.entries_[base_entry], keep, first_here, may_repeat,
                                        out);
            ++other;
        }
    }
}

void NetworkTable::append_entry_addresses(const Entry& entry, std::size_t keep,
                                          std::size_t first_here, bool after_first,
                                          std::vector<base::IpAddress>& out) const {
    for (const base::IpAddress& address : addresses_of(entry)) {
        const auto begin = out.begin();
        if (keep > 0 && std::find(begin, begin + static_cast<std::ptrdiff_t>(keep), address) !=
                            begin + static_cast<std::ptrdiff_t>(keep)) {
            continue;
        }
        if (after_first && std::find(begin + static_cast<std::ptrdiff_t>(first_here), out.end(),
                                     address) != out.end()) {
            continue;
        }
        out.push_back(address);
    }
}

void NetworkTable::append_own_addresses(std::string_view name, std::size_t keep,
                                        std::vector<base::IpAddress>& out,
                                        std::span<const std::uint64_t> hidden) const {
    const std::uint32_t name_id = find_name(name);
    if (name_id == kNoName) {
        return;
    }
    const std::uint32_t word = hits_word(name_id);
    const std::uint32_t count = hits_count(name_id);
    // The stale-entry rules leave each address one serving entry (lines without an ID aside),
    // so only then, or when earlier networks answered (out[0, keep)), is a search needed:
    // a name shared by 1,000 replicas stays linear.
    const std::size_t first_here = out.size();
    for (std::uint32_t hit = 0; hit < count; ++hit) {
        const Entry& entry = entries_[hit_entry(word, hit)];
        if (!is_hidden(hidden, entry.key)) {
            append_entry_addresses(entry, keep, first_here, shared_addresses_ && hit > 0, out);
        }
    }
}

bool NetworkTable::append_names(const base::IpAddress& address, std::vector<std::string_view>& out,
                                NameFilter which) const {
    return append_own_names(address, out, which, {}) ||
           (base_ && base_->append_own_names(address, out, which, hidden_keys_));
}

bool NetworkTable::append_own_names(const base::IpAddress& address,
                                    std::vector<std::string_view>& out, NameFilter which,
                                    std::span<const std::uint64_t> hidden) const {
    bool found = false;
    for_each_entry_holding(address, [&](std::uint32_t entry_index) {
        const Entry& entry = entries_[entry_index];
        if (is_hidden(hidden, entry.key)) {
            return true;
        }
        found = true;
        // An entry's own names are distinct: only another entry's can repeat them.
        const auto others = static_cast<std::ptrdiff_t>(out.size());
        for (const std::uint32_t name_id : name_ids_of(entry)) {
            if (which == NameFilter::PlainHostNames && (size_word(name_id) & kPlainHostName) == 0) {
                continue;
            }
            const std::string_view name = name_text(name_id);
            if (std::find(out.begin(), out.begin() + others, name) == out.begin() + others) {
                out.push_back(name);
            }
        }
        return true;
    });
    return found;
}

std::uint64_t NetworkTable::name_hash(std::string_view name) noexcept {
    return hash_name(name);
}

void NetworkTable::warm_name(std::string_view name, std::uint64_t hash,
                             unsigned step) const noexcept {
    for (const NetworkTable* level = this; level != nullptr; level = level->base_.get()) {
        level->warm_own_name(name, hash, step);
    }
}

void NetworkTable::warm_address(std::uint64_t hash, unsigned step) const noexcept {
    for (const NetworkTable* level = this; level != nullptr; level = level->base_.get()) {
        level->warm_own_address(hash, step);
    }
}

// The path of append_own_addresses: index slot, name record, entries (which hold the addresses
// of nearly every line). Only the first few hits are warmed: a name of 1,000 replicas is rare and
// long either way.
void NetworkTable::warm_own_name(std::string_view name, std::uint64_t hash,
                                 unsigned step) const noexcept {
    constexpr std::uint32_t kWarmHits = 4;
    if (step == 0) {
        name_index_.prefetch(hash);
        return;
    }
    name_index_.for_each(hash, [&](std::uint32_t name_id) {
        if (step == 1) {
            base::prefetch(&arena_[name_id]);
            return true;
        }
        if (name_text(name_id) != name) {
            return true;
        }
        const std::uint32_t word = hits_word(name_id);
        const std::uint32_t count = std::min(hits_count(name_id), kWarmHits);
        for (std::uint32_t hit = 0; hit < count; ++hit) {
            base::prefetch(&entries_[hit_entry(word, hit)]);
        }
        return false;
    });
}

// The path of append_own_names: index slot, entry (its addresses and name ids), the names.
// Every entry whose tag matches is warmed (the address is checked only by the lookup itself).
void NetworkTable::warm_own_address(std::uint64_t hash, unsigned step) const noexcept {
    constexpr std::size_t kWarmNames = 4;
    if (step == 0) {
        address_index_.prefetch(hash);
        return;
    }
    address_index_.for_each(hash, [&](std::uint32_t held) {
        const Entry& entry = entries_[holder_of(held)];
        if (step == 1) {
            base::prefetch(&entry);
            return true;
        }
        const auto name_ids = name_ids_of(entry);
        for (std::size_t n = 0; n < std::min(name_ids.size(), kWarmNames); ++n) {
            base::prefetch(&arena_[name_ids[n]]);
        }
        return true;
    });
}

bool NetworkTable::holds(const base::IpAddress& address, std::vector<std::uint64_t>* keys) const {
    return own_holds(address, keys, {}) || (base_ && base_->own_holds(address, keys, hidden_keys_));
}

bool NetworkTable::own_holds(const base::IpAddress& address, std::vector<std::uint64_t>* keys,
                             std::span<const std::uint64_t> hidden) const {
    bool found = false;
    for_each_entry_holding(address, [&](std::uint32_t entry_index) {
        const std::uint64_t key = entries_[entry_index].key;
        if (is_hidden(hidden, key)) {
            return true;
        }
        found = true;
        if (keys == nullptr) {
            return false;
        }
        keys->push_back(key);
        return true;
    });
    return found;
}

void NetworkTable::append_container_keys(std::vector<std::uint64_t>& out) const {
    out.insert(out.end(), sorted_keys_.begin(), sorted_keys_.end());
    if (base_) {
        std::set_difference(base_->sorted_keys_.begin(), base_->sorted_keys_.end(),
                            hidden_keys_.begin(), hidden_keys_.end(), std::back_inserter(out));
    }
}

bool NetworkTable::has_container(std::uint64_t key) const noexcept {
    return std::binary_search(sorted_keys_.begin(), sorted_keys_.end(), key) ||
           (base_ && !is_hidden(hidden_keys_, key) &&
            std::binary_search(base_->sorted_keys_.begin(), base_->sorted_keys_.end(), key));
}

NetworkTable::DnsServersOf
NetworkTable::dns_servers_of(const base::IpAddress& address) const noexcept {
    DnsServersOf result = own_dns_servers_of(address, {});
    if (!result.found && base_) {
        return base_->own_dns_servers_of(address, hidden_keys_);
    }
    return result;
}

NetworkTable::DnsServersOf
NetworkTable::own_dns_servers_of(const base::IpAddress& address,
                                 std::span<const std::uint64_t> hidden) const noexcept {
    DnsServersOf result;
    // Contract §3.4: the last writer in file order wins, i.e. the newest line: the first holder a
    // probe meets among the non-internal file's entries.
    for_each_entry_holding(address, [&](std::uint32_t entry_index) {
        const Entry& entry = entries_[entry_index];
        if (!entry.writes_dns || is_hidden(hidden, entry.key)) {
            return true;
        }
        result.found = true;
        if (entry.has_dns) {
            const DnsRange range = dns_ranges_[entry_index];
            result.servers =
                std::span<const base::IpAddress>(dns_pool_).subspan(range.begin, range.count);
        }
        return false;
    });
    return result;
}

void NetworkTable::append_probe_candidates(NetworkId id, std::vector<ProbeCandidate>& out) const {
    std::vector<base::IpAddress> chosen;
    std::vector<base::IpAddress> addresses;
    std::vector<std::string_view> names;
    for_each_name([&](std::string_view name) { names.push_back(name); });
    for (const std::string_view name : names) {
        addresses.clear();
        append_addresses(name, 0, addresses);
        const auto v4 = std::count_if(addresses.begin(), addresses.end(),
                                      [](const base::IpAddress& a) { return a.is_v4(); });
        const auto v6 = static_cast<std::ptrdiff_t>(addresses.size()) - v4;
        for (const auto& address : addresses) {
            // A probe can only change an answer with another address of the same family.
            if ((address.is_v4() ? v4 : v6) >= 2) {
                chosen.push_back(address);
            }
        }
    }
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    for (const auto& address : chosen) {
        out.push_back({address, id});
    }
}

std::size_t NetworkTable::memory_bytes() const noexcept {
    return sizeof(*this) + entries_.capacity() * sizeof(Entry) +
           addresses_.capacity() * sizeof(base::IpAddress) +
           entry_names_.capacity() * sizeof(std::uint32_t) +
           dns_pool_.capacity() * sizeof(base::IpAddress) +
           dns_ranges_.capacity() * sizeof(DnsRange) + arena_.capacity() +
           hits_.capacity() * sizeof(std::uint32_t) + name_index_.memory_bytes() +
           address_index_.memory_bytes() +
           (sorted_keys_.capacity() + hidden_keys_.capacity()) * sizeof(std::uint64_t) +
           (key_entries_.capacity() + orders_.capacity()) * sizeof(std::uint32_t) +
           entangled_lines_.capacity() * sizeof(EntangledLine) +
           (base_ ? base_->memory_bytes() : 0);
}

} // namespace records
