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

// (entry index, finding): sorted into line order at the end. Only non-current lines get one, so
// a file of 100,000 current lines allocates nothing here.
using FindingsByLine = std::vector<std::pair<std::size_t, Finding>>;

// Rule 1. Walking newest to oldest, the first line seen for an ID is the one that serves.
void mark_duplicate_ids(const config::NetworkFile& file, std::vector<EntryClass>& classes,
                        FindingsByLine& findings) {
    const auto& entries = file.entries;
    std::unordered_map<std::string_view, std::size_t> newest_line_of;
    newest_line_of.reserve(entries.size());
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
        findings.emplace_back(i, std::move(finding));
    }
}

// Rule 2. Every line, stale or not, records the addresses it held: if B took A's address and C
// later took B's, A is still older than the line that reused its address.
void mark_reused_addresses(const config::NetworkFile& file, std::vector<EntryClass>& classes,
                           FindingsByLine& findings) {
    const auto& entries = file.entries;
    std::unordered_map<base::IpAddress, std::size_t, base::IpAddressHash> owner_of;
    owner_of.reserve(entries.size() * 2);
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
        findings.emplace_back(i, std::move(finding));
    }
}

// Rule 3. Only names shared with a newer line of the same first name are withheld, so a live
// container renamed under a newcomer keeps its short-ID alias and its other names.
void mark_shadowed_names(const config::NetworkFile& file, std::vector<EntryClass>& classes,
                         FindingsByLine& findings) {
    const auto& entries = file.entries;

    // first name -> the serving lines that carry it, newest first, as a list threaded through
    // `next_older` (one allocation for the file instead of one per container name)
    struct Chain {
        std::size_t newest = 0;
        std::size_t oldest = 0;
    };

    constexpr auto kEnd = static_cast<std::size_t>(-1);
    std::unordered_map<std::string_view, Chain> lines_named;
    lines_named.reserve(entries.size());
    std::vector<std::size_t> next_older(entries.size(), kEnd);
    for (std::size_t i = entries.size(); i-- > 0;) {
        if (classes[i].status != EntryStatus::Current) {
            continue;
        }
        const auto& entry = entries[i];
        if (entry.names.empty() || entry.names.front().empty()) {
            continue;
        }
        const auto [chain, first_of_name] =
            lines_named.try_emplace(entry.names.front(), Chain{i, i});
        std::vector<std::string> shadowed;
        const config::ContainerEntry* shadowing = nullptr;
        for (std::size_t newer = first_of_name ? kEnd : chain->second.newest; newer != kEnd;
             newer = next_older[newer]) {
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
        if (!first_of_name) {
            next_older[chain->second.oldest] = i;
            chain->second.oldest = i;
        }
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
        findings.emplace_back(i, std::move(finding));
    }
}

} // namespace

bool is_short_id_alias(std::string_view id, std::string_view name) noexcept {
    return id.size() >= kShortIdLength && name == id.substr(0, kShortIdLength);
}

FileClassification classify_entries(const config::NetworkFile& file) {
    FileClassification result;
    result.entries.resize(file.entries.size());
    FindingsByLine findings;
    mark_duplicate_ids(file, result.entries, findings);
    mark_reused_addresses(file, result.entries, findings);
    mark_shadowed_names(file, result.entries, findings);
    std::sort(findings.begin(), findings.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    result.findings.reserve(findings.size());
    for (auto& [index, finding] : findings) {
        result.findings.push_back(std::move(finding));
    }
    return result;
}

} // namespace records
