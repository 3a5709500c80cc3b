// records/: one network's immutable lookup tables in a compact layout. Depends on config/ and
// base/ only: no DNS packets, no sockets.
//
// Why a table per network: a reload rebuilds only the networks whose files changed and reuses
// the others as they are (shared_ptr), so a change on one network costs nothing on the rest.
// Why compact: at 100,000 containers, per-entry heap strings and node-based hash maps cost several
// times the size of the file. Here every name is stored once in one arena, entries are fixed-size
// records with 32-bit indices, and both indexes are open-addressing arrays of 5-byte slots.
// Why overlays: a setup or a teardown changes a line or two; a small table over the last full
// build (build_overlay) serves the change without holding a second full table.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
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
    std::string newer_id; // the line that made it stale
    int newer_line = 0;   // that line's number
    std::string subject;  // what it took: the address (rule 2) or the first name (rule 3)
    std::string reason;   // human text, e.g. "ip 10.89.0.5 reused by 9f3c...", see describe()
    std::vector<std::string> shadowed_names; // rule 3: names no longer answered from it
    bool removable = false; // `check --fix` may delete the line (rules 1, 2; 3 with no own name)
};

/// A line that shares its ID, an address or its first name with another line of its file: its
/// verdict, or another line's, depends on it, so an overlay judges it again at every change
/// (see NetworkTable::build_overlay).
struct EntangledLine {
    std::uint64_t key = 0; // container_key of its ID
    int line = 0;
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

/// Which of an address's names a reverse lookup wants.
enum class NameFilter {
    All,
    PlainHostNames // PTR targets (contract §4.5)
};

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

    /// An overlay over a full build: `base` (a full build of one file, see can_carry_overlay)
    /// minus the containers in `hidden_keys`, plus `lines`, parsed on their own with their real
    /// line numbers and the file's header (whose bind addresses and DNS servers the overlay
    /// serves: `podman network update` rewrites only that, and no entry depends on it).
    ///
    /// `lines` holds, in file order, every line the rules must judge again: lines of `base`
    /// (restated: every entangled line still in the file, and those clashing_keys names) and
    /// the lines beyond `base`'s (setups). `hidden_keys` holds the containers of `base` whose
    /// lines are gone (teardowns) or restated. `orders` (parallel to `lines.entries`, or empty
    /// when all lie beyond `base`) places each line among `base`'s: 1 + the position (see
    /// key_at) of the nearest line of `base` before it that is left as it is (0 when none),
    /// kNewest past them all. A name shared across the levels answers from it in file order,
    /// newest first.
    ///
    /// Why that is what a full build gives: the rules only ever look from a line at the newer
    /// lines it shares an ID, an address or a first name with, so a line whose keys nothing in
    /// the change shares keeps its verdict, and the lines that do are all judged again,
    /// together and in file order. Returns null when that does not hold: a hidden key `base`
    /// does not hold once, a serving entangled container left unhidden, or a line of `lines`
    /// that clashes with a line of `base` left as it is (clashing_keys is not empty; `clashing`,
    /// if given, then receives those containers, whose lines are to be judged too). Costs the
    /// lines and the hidden keys, not the size of `base`. The findings are the overlay's own:
    /// every finding of `base` is about an entangled line.
    static std::shared_ptr<const NetworkTable>
    build_overlay(std::shared_ptr<const NetworkTable> base, const config::NetworkFile& lines,
                  std::vector<std::uint64_t> hidden_keys,
                  std::span<const std::uint32_t> orders = {},
                  std::vector<std::uint64_t>* clashing = nullptr);

    static constexpr std::uint32_t kNewest = 0xffffffffU;

    /// The longest name a table keeps (longer ones are left out): no DNS message can carry a
    /// name over 253 characters.
    static constexpr std::size_t kMaxNameSize = 0x7fff;

    /// A full build of one file: its serving lines in file order, 0 the oldest. The container
    /// key of the line at `position`, and the position of a key's line (none: not a serving
    /// container here). build_overlay's `orders` are positions + 1.
    std::size_t serving_lines() const noexcept { return entries_.size(); }

    std::uint64_t key_at(std::size_t position) const noexcept {
        return entries_[entries_.size() - 1 - position].key;
    }

    std::optional<std::size_t> position_of(std::uint64_t key) const noexcept {
        const auto at = std::lower_bound(sorted_keys_.begin(), sorted_keys_.end(), key);
        if (at == sorted_keys_.end() || *at != key) {
            return std::nullopt;
        }
        return entries_.size() - 1 -
               key_entries_[static_cast<std::size_t>(at - sorted_keys_.begin())];
    }

    /// The containers of this full build, not hidden, that share a container key, an address or
    /// a first name with a line of `lines` (sorted, each once): build_overlay needs their lines
    /// among its own.
    std::vector<std::uint64_t> clashing_keys(const config::NetworkFile& lines,
                                             std::span<const std::uint64_t> hidden) const;

    /// True when build_overlay accepts this table as its base: a full build of one file
    /// whose serving entries have distinct container keys, and where no line without an ID
    /// is entangled (its key tells it from no other).
    bool can_carry_overlay() const noexcept;

    /// The lines of this full build an overlay judges again (see build_overlay), in line order.
    std::span<const EntangledLine> entangled_lines() const noexcept { return entangled_lines_; }

    /// The container keys of this level's serving entries, sorted, each once.
    std::span<const std::uint64_t> own_container_keys() const noexcept { return sorted_keys_; }

    /// The containers of base() this overlay does not serve from it (sorted): their lines are
    /// gone, or judged again here.
    std::span<const std::uint64_t> hidden_keys() const noexcept { return hidden_keys_; }

    /// The full build an overlay lies over (null for a full build).
    const std::shared_ptr<const NetworkTable>& base() const noexcept { return base_; }

    const Network& network() const noexcept { return network_; }

    /// Entries the stale-entry rules dropped or shadowed, in file then line order.
    std::span<const Finding> findings() const noexcept { return findings_; }

    /// Appends every address `name` answers here (newest entry first, v4 then v6 per entry)
    /// that is not already among out[0, keep).
    void append_addresses(std::string_view name, std::size_t keep,
                          std::vector<base::IpAddress>& out) const;

    /// Appends the names of every entry holding `address` (newest first, each once); with
    /// `which` = PlainHostNames only those base::is_plain_host_name accepts, as decided when the
    /// table was built. Returns false when no entry holds it.
    bool append_names(const base::IpAddress& address, std::vector<std::string_view>& out,
                      NameFilter which = NameFilter::All) const;

    /// Warming for a batch of lookups: step `step` (0 to kWarmSteps - 1) of append_addresses(name)
    /// or append_names(address) asks the CPU to load the memory the next step reads, having read
    /// what the steps before loaded. Running each step over the whole batch before the next lets
    /// the batch's cache misses overlap. Changes nothing and answers nothing.
    /// `hash` is name_hash(name) or address.hash(), computed once for all steps.
    static constexpr unsigned kWarmSteps = 3;
    static std::uint64_t name_hash(std::string_view name) noexcept;
    void warm_name(std::string_view name, std::uint64_t hash, unsigned step) const noexcept;
    void warm_address(std::uint64_t hash, unsigned step) const noexcept;

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
    /// overlay's names and its base's still served, together.
    template <typename Visit>
    void for_each_name(Visit&& visit) const {
        std::vector<std::string_view> names;
        std::span<const std::uint64_t> hidden;
        for (const NetworkTable* level = this; level != nullptr; level = level->base_.get()) {
            for (std::uint32_t id = 0; id < level->arena_.size(); id = level->next_name(id)) {
                if (level->name_serves(id, hidden)) {
                    names.push_back(level->name_text(id));
                }
            }
            hidden = level->hidden_keys_;
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
        // build_overlay checked that each hidden key is one entry of the base.
        return entries_.size() + (base_ ? base_->entry_count() - hidden_keys_.size() : 0);
    }

private:
    NetworkTable() = default;

    // One cache line per entry, holding what a lookup reads after the index: the key, the
    // addresses of a line with at most two (IPv4 and IPv6, as netavark writes them) and the name
    // ids of one with at most three (a name, an alias and the short-ID alias). At 100,000
    // containers the tables are far larger than the CPU's caches, and an A or PTR answer costs
    // a cache miss per line it touches: with addresses and names in lists of their own, an A
    // answer touched one line more and a PTR answer two. Longer lines keep theirs in addresses_
    // and entry_names_. A line answers for its first 65,535 names at most (netavark writes a
    // name, the aliases and the short ID).
    static constexpr std::uint16_t kInlineAddresses = 2;
    static constexpr std::uint16_t kInlineNames = 3;

    struct alignas(64) Entry {
        std::uint64_t key = 0;        // container_key(id)
        std::uint32_t addr_begin = 0; // into addresses_, when addr_count > kInlineAddresses
        std::uint16_t addr_count = 0;
        std::uint16_t names_count = 0;
        std::array<base::IpAddress, kInlineAddresses> inline_addresses{};
        bool writes_dns = false; // from a non-internal file
        bool has_dns = false;    // the line has a 5th field; its servers are dns_ranges_[entry]
        // The name ids, or when names_count > kInlineNames, [0] is where they begin in
        // entry_names_.
        std::array<std::uint32_t, kInlineNames> inline_names{};
    };

    static_assert(sizeof(Entry) == 64);

    // Only entries with a 5th field have DNS servers: their places in dns_pool_ are kept apart
    // from the entries, which a lookup reads.
    struct DnsRange {
        std::uint32_t begin = 0;
        std::uint32_t count = 0;
    };

    std::span<const base::IpAddress> addresses_of(const Entry& entry) const noexcept {
        if (entry.addr_count <= kInlineAddresses) {
            return {entry.inline_addresses.data(), entry.addr_count};
        }
        return std::span<const base::IpAddress>(addresses_)
            .subspan(entry.addr_begin, entry.addr_count);
    }

    std::span<const std::uint32_t> name_ids_of(const Entry& entry) const noexcept {
        if (entry.names_count <= kInlineNames) {
            return {entry.inline_names.data(), entry.names_count};
        }
        return std::span<const std::uint32_t>(entry_names_)
            .subspan(entry.inline_names[0], entry.names_count);
    }

    // A name lives in arena_ as one record, [hits: u32][size: u16][text], and its id is the
    // record's offset: the index leads to the text and the answer in one cache line. `hits` is
    // the entry of a name with one hit (nearly every name), kNoHits, or kMultipleHits | i where
    // hits_[i] is the count and hits_[i + 1 ...] the entries, newest first. The size word's top
    // bit says whether the name is a plain host name: every PTR answer asks, and the text is
    // walked for it once, at the build, rather than at each answer.
    static constexpr std::uint32_t kNoHits = 0xffffffffU;
    static constexpr std::uint32_t kMultipleHits = 0x80000000U;
    static constexpr std::uint32_t kNameHeader = 6;
    static constexpr std::uint16_t kPlainHostName = 0x8000U;
    static_assert(kMaxNameSize < kPlainHostName);

    std::uint16_t size_word(std::uint32_t name_id) const noexcept {
        std::uint16_t word = 0;
        std::memcpy(&word, &arena_[name_id + sizeof(std::uint32_t)], sizeof(word));
        return word;
    }

    std::uint32_t hits_word(std::uint32_t name_id) const noexcept {
        std::uint32_t word = 0;
        std::memcpy(&word, &arena_[name_id], sizeof(word));
        return word;
    }

    std::uint32_t hits_count(std::uint32_t name_id) const noexcept {
        const std::uint32_t word = hits_word(name_id);
        if (word == kNoHits) {
            return 0;
        }
        return (word & kMultipleHits) != 0 ? hits_[word & ~kMultipleHits] : 1;
    }

    // Entry `hit` (< hits_count) of a name whose hits word is `word`.
    std::uint32_t hit_entry(std::uint32_t word, std::uint32_t hit) const noexcept {
        return (word & kMultipleHits) == 0 ? word : hits_[(word & ~kMultipleHits) + 1 + hit];
    }

    std::uint32_t next_name(std::uint32_t name_id) const noexcept {
        return name_id + kNameHeader + static_cast<std::uint32_t>(name_text(name_id).size());
    }

    friend class NetworkTableBuilder;

    // `hidden` (sorted container keys) is the overlay's hidden_keys() when this level is its
    // base, empty otherwise: those entries are skipped as if their lines were gone.
    static bool is_hidden(std::span<const std::uint64_t> hidden, std::uint64_t key) noexcept {
        return !hidden.empty() && std::binary_search(hidden.begin(), hidden.end(), key);
    }

    std::string_view name_text(std::uint32_t name_id) const noexcept;
    bool name_serves(std::uint32_t name_id, std::span<const std::uint64_t> hidden) const noexcept;
    void append_own_addresses(std::string_view name, std::size_t keep,
                              std::vector<base::IpAddress>& out,
                              std::span<const std::uint64_t> hidden) const;
    void append_entry_addresses(const Entry& entry, std::size_t keep, std::size_t first_here,
                                bool after_first, std::vector<base::IpAddress>& out) const;
    void append_merged_addresses(std::string_view name, std::size_t keep,
                                 std::vector<base::IpAddress>& out) const;
    bool append_own_names(const base::IpAddress& address, std::vector<std::string_view>& out,
                          NameFilter which, std::span<const std::uint64_t> hidden) const;
    bool own_holds(const base::IpAddress& address, std::vector<std::uint64_t>* keys,
                   std::span<const std::uint64_t> hidden) const;
    DnsServersOf own_dns_servers_of(const base::IpAddress& address,
                                    std::span<const std::uint64_t> hidden) const noexcept;
    std::uint32_t find_name(std::string_view name) const noexcept;
    void warm_own_name(std::string_view name, std::uint64_t hash, unsigned step) const noexcept;
    void warm_own_address(std::uint64_t hash, unsigned step) const noexcept;

    // address_index_ values: an entry's index and the place of the address among its addresses
    // (kLastOrdinal for that place and all after it: only a hand-written line has that many).
    static constexpr std::uint32_t kOrdinalBits = 8;
    static constexpr std::uint32_t kLastOrdinal = (1U << kOrdinalBits) - 1;

    static std::uint32_t held_at(std::uint32_t entry, std::uint32_t at) noexcept {
        return (entry << kOrdinalBits) | std::min(at, kLastOrdinal);
    }

    static std::uint32_t holder_of(std::uint32_t held) noexcept { return held >> kOrdinalBits; }

    // True when the address_index_ value `held` stands for `address`.
    bool holds_at(std::uint32_t held, const base::IpAddress& address) const noexcept;
    // Calls visit(entry index) for each entry holding `address`, newest first, until it
    // returns false. An entry holding more than kLastOrdinal addresses may be met once per
    // address of it from kLastOrdinal on that shares the probe: every caller takes a repeat.
    template <typename Visit>
    void for_each_entry_holding(const base::IpAddress& address, Visit&& visit) const;

    Network network_;
    std::vector<Finding> findings_;
    std::vector<Entry> entries_;             // serving entries only, newest first per file
    std::vector<base::IpAddress> addresses_; // of entries with more than kInlineAddresses
    std::vector<std::uint32_t> entry_names_; // name ids of entries with more than kInlineNames
    std::vector<base::IpAddress> dns_pool_;
    std::vector<DnsRange> dns_ranges_; // per entry, up to the last entry that has a 5th field
    std::string arena_;                // name records, see kNameHeader
    std::vector<std::uint32_t> hits_;  // names with several hits: count, then entries
    FlatIndex name_index_;             // name hash -> name id (arena offset)
    FlatIndex address_index_;          // address hash -> held_at(entry, place), in entry order
    std::vector<std::uint64_t> sorted_keys_;
    std::vector<std::uint32_t> key_entries_; // full builds: the entry of each of sorted_keys_
    std::vector<std::uint32_t> orders_;      // overlays: each entry's place, see build_overlay
    bool shared_addresses_ = false; // two serving entries hold one address (lines without ID)
    std::shared_ptr<const NetworkTable> base_;   // older lines, consulted after this level's own
    std::vector<std::uint64_t> hidden_keys_;     // containers of base_ not served from it
    std::vector<EntangledLine> entangled_lines_; // full builds: see build_overlay
};

} // namespace records
