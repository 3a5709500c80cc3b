#include "records/staleness.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/ip_address.hpp"

namespace records {

namespace {

// Podman's short ID: enough to find the container in `podman ps` without flooding the text.
constexpr std::size_t kShortIdLength = 12;

std::string_view short_id(std::string_view id) {
    return id.substr(0, std::min(id.size(), kShortIdLength));
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

Finding make_finding(const config::NetworkFile& file, const config::ContainerEntry& entry,
                     EntryStatus status) {
    Finding finding;
    finding.network = file.name;
    finding.path = file.path;
    finding.container_id = entry.id;
    finding.line = entry.line;
    finding.status = status;
    return finding;
}

// Rule 1. Walking newest to oldest, the first line seen for an ID is the one that serves.
void mark_duplicate_ids(const config::NetworkFile& file, std::vector<EntryClass>& classes,
                        std::vector<std::optional<Finding>>& findings) {
    const auto& entries = file.entries;
    std::unordered_map<std::string_view, std::size_t> newest_line_of;
    for (std::size_t i = entries.size(); i-- > 0;) {
        const auto& entry = entries[i];
        if (entry.id.empty()) {
            continue;
        }
        const auto [it, inserted] = newest_line_of.emplace(entry.id, i);
        if (inserted) {
            continue;
        }
        classes[i].status = EntryStatus::DuplicateId;
        Finding finding = make_finding(file, entry, EntryStatus::DuplicateId);
        finding.newer_id = entry.id;
        finding.reason = fmt::format("container {} has a newer line {} in this network",
                                     short_id(entry.id), entries[it->second].line);
        finding.removable = true;
        findings[i] = std::move(finding);
    }
}

// Rule 2. Every line, stale or not, records the addresses it held: if B took A's address and C
// later took B's, A is still older than the line that reused its address.
void mark_reused_addresses(const config::NetworkFile& file, std::vector<EntryClass>& classes,
                           std::vector<std::optional<Finding>>& findings) {
    const auto& entries = file.entries;
    std::unordered_map<base::IpAddress, std::size_t, base::IpAddressHash> owner_of;
    for (std::size_t i = entries.size(); i-- > 0;) {
        if (classes[i].status != EntryStatus::Current) {
            continue;
        }
        const auto& entry = entries[i];
        const base::IpAddress* reused = nullptr;
        std::size_t newer = 0;
        for (const auto* list : {&entry.ipv4, &entry.ipv6}) {
            for (const auto& address : *list) {
                const auto it = owner_of.find(address);
                if (reused == nullptr && it != owner_of.end() &&
                    entries[it->second].id != entry.id) {
                    reused = &address;
                    newer = it->second;
                }
                owner_of.emplace(address, i);
            }
        }
        if (reused == nullptr) {
            continue;
        }
        classes[i].status = EntryStatus::IpReused;
        Finding finding = make_finding(file, entry, EntryStatus::IpReused);
        finding.newer_id = entries[newer].id;
        finding.reason = fmt::format("ip {} reused by {} (line {})", reused->to_string(),
                                     short_id(entries[newer].id), entries[newer].line);
        finding.removable = true;
        findings[i] = std::move(finding);
    }
}

// Rule 3. Only names shared with a newer line of the same first name are withheld, so a live
// container renamed under a newcomer keeps its short-ID alias and its other names.
void mark_shadowed_names(const config::NetworkFile& file, std::vector<EntryClass>& classes,
                         std::vector<std::optional<Finding>>& findings) {
    const auto& entries = file.entries;
    // first name -> the serving lines that carry it, newest first
    std::unordered_map<std::string_view, std::vector<std::size_t>> lines_named;
    for (std::size_t i = entries.size(); i-- > 0;) {
        if (classes[i].status != EntryStatus::Current) {
            continue;
        }
        const auto& entry = entries[i];
        if (entry.names.empty() || entry.names.front().empty()) {
            continue;
        }
        auto& newer_lines = lines_named[entry.names.front()];
        std::vector<std::string> shadowed;
        const config::ContainerEntry* shadowing = nullptr;
        for (const std::size_t newer : newer_lines) {
            const auto& other = entries[newer];
            if (other.id == entry.id) {
                continue;
            }
            if (shadowing == nullptr) {
                shadowing = &other;
            }
            for (const auto& name : entry.names) {
                if (contains(other.names, name) && !contains(shadowed, name)) {
                    shadowed.push_back(name);
                }
            }
        }
        newer_lines.push_back(i);
        if (shadowing == nullptr) {
            continue;
        }
        // Names the line would still answer for once shadowed. Podman's automatic short-ID
        // alias does not count: it is the entry's own ID, not a name anyone gave it, and on a
        // real file every line has one, so counting it would keep every dead line forever.
        bool has_own_name = false;
        for (const auto& name : entry.names) {
            if (!contains(shadowed, name) && !is_short_id_alias(entry.id, name)) {
                has_own_name = true;
                break;
            }
        }
        classes[i].status = EntryStatus::Shadowed;
        Finding finding = make_finding(file, entry, EntryStatus::Shadowed);
        finding.newer_id = shadowing->id;
        finding.reason = fmt::format("name {} taken over by {} (line {}); no longer answers for {}",
                                     entry.names.front(), short_id(shadowing->id), shadowing->line,
                                     fmt::join(shadowed, ","));
        finding.removable = !has_own_name;
        finding.shadowed_names = shadowed;
        classes[i].shadowed_names = std::move(shadowed);
        findings[i] = std::move(finding);
    }
}

} // namespace

bool is_short_id_alias(std::string_view id, std::string_view name) noexcept {
    return id.size() >= kShortIdLength && name == id.substr(0, kShortIdLength);
}

FileClassification classify_entries(const config::NetworkFile& file) {
    FileClassification result;
    result.entries.resize(file.entries.size());
    std::vector<std::optional<Finding>> findings(file.entries.size());
    mark_duplicate_ids(file, result.entries, findings);
    mark_reused_addresses(file, result.entries, findings);
    mark_shadowed_names(file, result.entries, findings);
    for (auto& finding : findings) {
        if (finding) {
            result.findings.push_back(std::move(*finding));
        }
    }
    return result;
}

} // namespace records
