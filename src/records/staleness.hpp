// records/: the stale-entry rules (docs/stale-entries.md §1) over one parsed network file.
// Depends on config/ only (no DNS, no sockets); shared by RecordStore::build and `ctrdns check`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/network_file.hpp"
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

} // namespace records
