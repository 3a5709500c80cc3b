// records/: the stale-entry rules (docs/stale-entries.md §1) over one parsed network file.
// Depends on config/ only (no DNS, no sockets); shared by RecordStore::build and `ctrdns check`.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/network_file.hpp"
#include "records/flat_index.hpp"
#include "records/record_store.hpp"

namespace records {

/// How one entry line serves once the rules have run.
struct EntryClass {
    EntryStatus status = EntryStatus::Current;
    std::vector<std::string> shadowed_names; // Shadowed: names a newer line answers instead
};

/// Current and Shadowed lines still serve (a Shadowed one minus its shadowed names);
/// DuplicateId and IpReused lines serve nothing, not even their PTR.
inline bool serves(EntryStatus status) noexcept {
    return status == EntryStatus::Current || status == EntryStatus::Shadowed;
}

struct FileClassification {
    std::vector<EntryClass> entries; // parallel to NetworkFile::entries
    std::vector<Finding> findings;   // one per non-Current line, in line order
};

/// True when `name` is Podman's automatic alias for the container `id`: its first 12 characters
/// (libpod appends `ID[:12]` to every network's aliases, for Docker compatibility). IDs shorter
/// than that have no such alias.
bool is_short_id_alias(std::string_view id, std::string_view name) noexcept;

/// Applies, within `file` only (the same ID in another file is the same container on another
/// network, which is legitimate), in this order:
///  1. the same ID on several lines: only the last serves (DuplicateId);
///  2. an address also held by a newer line with another ID: the older line is dropped
///     whole (IpReused), because IPAM gives a live address a single owner;
///  3. the same first name (container name) as a newer line with another ID: the older line
///     stops answering for the names the newer one(s) also claim (Shadowed), and keeps its
///     other names and its PTR, since a renamed live container may still own it. Such a line
///     is `removable` when it has no name of its own left (its short-ID alias does not count);
///     `check --fix` still removes it only once its container is shown gone.
/// Lines with an empty ID are exempt from rule 1 and lines with no first name from rule 3:
/// neither is an identity. Scaled replicas sharing only an alias are never touched.
FileClassification classify_entries(const config::NetworkFile& file);

/// Writes `finding.reason` from its other fields (the one place its wording lives).
void describe(Finding& finding);

/// The same rules, one line at a time: every rule looks from a line only at newer lines, so
/// walking a file from its newest line to its oldest decides each line as it comes, keeping a
/// few bytes per line (hashes and indexes, not the lines). classify_entries runs on it; the
/// daemon runs it over a file it never holds as parsed entries.
class StreamClassifier {
public:
    /// Re-reads an entry line already classified (or the one being classified), by index in
    /// file order. Called only when a hash matches, i.e. about as often as lines are stale.
    using ReadLine = std::function<const config::ContainerEntry&(std::uint32_t index)>;

    /// `file` gives the network name and path for findings (its entries are not used);
    /// `line_count` is the number of entry lines, indexed 0 (oldest) .. line_count - 1, and
    /// `address_count` the number of addresses on them (IPv4 and IPv6 lists together).
    StreamClassifier(const config::NetworkFile& file, std::uint32_t line_count,
                     std::size_t address_count, ReadLine read_line);

    /// Decides line `index`, which must be the newest not yet classified. `entry` is its content
    /// (it may be a scratch object: it is not kept). A finding is set for non-Current lines.
    EntryClass classify(std::uint32_t index, const config::ContainerEntry& entry,
                        std::optional<Finding>& finding);

    /// After the last classify(): every entangled line, in line order, each once.
    std::vector<EntangledLine> take_entangled_lines();

private:
    struct Newer {
        std::uint32_t index = 0;
        std::string id;
        int line = 0;
    };

    std::optional<Newer> newest_with_id(std::uint32_t index, std::uint64_t key);
    std::optional<Newer> reused_address(std::uint32_t index, const config::ContainerEntry& entry,
                                        std::uint64_t key, std::string& address_text);
    EntryClass shadowed_names(std::uint32_t index, const config::ContainerEntry& entry,
                              std::uint64_t key, std::optional<Finding>& finding);
    void note_clash(const config::ContainerEntry& older, std::uint64_t older_key,
                    std::uint32_t newer_index, int newer_line);

    const config::NetworkFile& file_;
    ReadLine read_line_;
    std::vector<std::uint64_t> keys_;       // container key of each classified line
    std::vector<std::uint32_t> next_older_; // rule 3: next older line with the same first name
    std::vector<std::uint32_t> oldest_of_;  // rule 3: a chain's oldest line, at its newest line
    FlatIndex newest_id_;                   // rule 1: key -> newest line with that ID
    FlatIndex address_owner_;               // rule 2: address -> newest line holding it
    FlatIndex first_name_;                  // rule 3: first name -> newest line carrying it
    std::vector<EntangledLine> entangled_lines_;
};

} // namespace records
