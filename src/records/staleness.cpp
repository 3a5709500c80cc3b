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

bool holds(const config::ContainerEntry& entry, const base::IpAddress& address) {
    return std::find(entry.ipv4.begin(), entry.ipv4.end(), address) != entry.ipv4.end() ||
           std::find(entry.ipv6.begin(), entry.ipv6.end(), address) != entry.ipv6.end();
}

Finding make_finding(const config::NetworkFile& file, const config::ContainerEntry& entry,
                     EntryStatus status, std::string newer_id, int newer_line) {
    Finding finding;
    finding.network = file.name;
    finding.path = file.path;
    finding.container_id = entry.id;
    finding.line = entry.line;
    finding.status = status;
    finding.newer_id = std::move(newer_id);
    finding.newer_line = newer_line;
    return finding;
}

std::uint64_t name_hash(std::string_view name) noexcept {
    return std::hash<std::string_view>{}(name);
}

constexpr std::uint32_t kNone = static_cast<std::uint32_t>(-1);

} // namespace

void describe(Finding& finding) {
    switch (finding.status) {
    case EntryStatus::DuplicateId:
        finding.reason = fmt::format("container {} has a newer line {} in this network",
                                     short_id(finding.container_id), finding.newer_line);
        return;
    case EntryStatus::IpReused:
        finding.reason = fmt::format("ip {} reused by {} (line {})", finding.subject,
                                     short_id(finding.newer_id), finding.newer_line);
        return;
    case EntryStatus::Shadowed:
        finding.reason = fmt::format("name {} taken over by {} (line {}); no longer answers for {}",
                                     finding.subject, short_id(finding.newer_id),
                                     finding.newer_line, fmt::join(finding.shadowed_names, ","));
        return;
    case EntryStatus::Current:
        finding.reason.clear();
        return;
    }
}

bool is_short_id_alias(std::string_view id, std::string_view name) noexcept {
    return id.size() >= kShortIdLength && name == id.substr(0, kShortIdLength);
}

StreamClassifier::StreamClassifier(const config::NetworkFile& file, std::uint32_t line_count,
                                   std::size_t address_count, ReadLine read_line)
    : file_(file)
    , read_line_(std::move(read_line))
    , keys_(line_count, 0)
    , next_older_(line_count, kNone)
    , oldest_of_(line_count, kNone) {
    newest_id_.reset(line_count);
    address_owner_.reset(address_count);
    first_name_.reset(line_count);
}

// Rule 1. Walking newest to oldest, the first line seen for an ID is the one that serves.
std::optional<StreamClassifier::Newer> StreamClassifier::newest_with_id(std::uint32_t index,
                                                                        std::uint64_t key) {
    std::uint32_t newer = kNone;
    newest_id_.for_each(key, [&](std::uint32_t other) {
        if (keys_[other] == key) {
            newer = other;
            return false;
        }
        return true;
    });
    if (newer == kNone) {
        newest_id_.insert(key, index);
        return std::nullopt;
    }
    const config::ContainerEntry& other = read_line_(newer);
    return Newer{newer, other.id, other.line};
}

// Rule 2. Every line past rule 1, stale or not, records the addresses it held: if B took A's
// address and C later took B's, A is still older than the line that reused its address.
std::optional<StreamClassifier::Newer>
StreamClassifier::reused_address(std::uint32_t index, const config::ContainerEntry& entry,
                                 std::uint64_t key, std::string& address_text) {
    std::optional<Newer> reused;
    for (const auto* list : {&entry.ipv4, &entry.ipv6}) {
        for (const auto& address : *list) {
            std::uint32_t owner = kNone;
            address_owner_.for_each(address.hash(), [&](std::uint32_t other) {
                if (holds(other == index ? entry : read_line_(other), address)) {
                    owner = other;
                    return false;
                }
                return true;
            });
            if (owner == kNone) {
                address_owner_.insert(address.hash(), index);
                continue;
            }
            if (owner == index) {
                continue; // the line lists the address twice
            }
            const config::ContainerEntry& other = read_line_(owner);
            note_clash(entry, key, owner, other.line);
            if (!reused && keys_[owner] != key) {
                reused = Newer{owner, other.id, other.line};
                address_text = address.to_string();
            }
        }
    }
    return reused;
}

// Rule 3. Only names shared with a newer line of the same first name are withheld, so a live
// container renamed under a newcomer keeps its short-ID alias and its other names.
EntryClass StreamClassifier::shadowed_names(std::uint32_t index,
                                            const config::ContainerEntry& entry, std::uint64_t key,
                                            std::optional<Finding>& finding) {
    EntryClass result;
    if (entry.names.empty() || entry.names.front().empty()) {
        return result;
    }
    const std::string_view first = entry.names.front();
    std::uint32_t newest = kNone;
    first_name_.for_each(name_hash(first), [&](std::uint32_t other) {
        const config::ContainerEntry& line = read_line_(other);
        if (!line.names.empty() && line.names.front() == first) {
            newest = other;
            return false;
        }
        return true;
    });
    if (newest == kNone) {
        first_name_.insert(name_hash(first), index);
        oldest_of_[index] = index;
        return result;
    }
    note_clash(entry, key, newest, read_line_(newest).line);
    std::vector<std::string> shadowed;
    std::optional<Newer> shadowing;
    for (std::uint32_t newer = newest; newer != kNone; newer = next_older_[newer]) {
        if (keys_[newer] == key) {
            continue;
        }
        const config::ContainerEntry& other = read_line_(newer);
        if (!shadowing) {
            shadowing = Newer{newer, other.id, other.line};
        }
        for (const auto& name : entry.names) {
            if (contains(other.names, name) && !contains(shadowed, name)) {
                shadowed.push_back(name);
            }
        }
    }
    next_older_[oldest_of_[newest]] = index;
    oldest_of_[newest] = index;
    if (!shadowing) {
        return result;
    }
    // Names the line would still answer for once shadowed. Podman's automatic short-ID alias
    // does not count: it is the entry's own ID, not a name anyone gave it, and on a real file
    // every line has one, so counting it would keep every dead line forever.
    bool has_own_name = false;
    for (const auto& name : entry.names) {
        if (!contains(shadowed, name) && !is_short_id_alias(entry.id, name)) {
            has_own_name = true;
            break;
        }
    }
    result.status = EntryStatus::Shadowed;
    finding = make_finding(file_, entry, EntryStatus::Shadowed, shadowing->id, shadowing->line);
    finding->subject = first;
    finding->removable = !has_own_name;
    finding->shadowed_names = shadowed;
    describe(*finding);
    result.shadowed_names = std::move(shadowed);
    return result;
}

EntryClass StreamClassifier::classify(std::uint32_t index, const config::ContainerEntry& entry,
                                      std::optional<Finding>& finding) {
    finding.reset();
    const std::uint64_t key = container_key(entry.id);
    keys_[index] = key;
    EntryClass result;
    // Lines without an ID are exempt from rule 1: an empty ID is not an identity.
    if (!entry.id.empty()) {
        if (const auto newer = newest_with_id(index, key)) {
            note_clash(entry, key, newer->index, newer->line);
            result.status = EntryStatus::DuplicateId;
            finding = make_finding(file_, entry, EntryStatus::DuplicateId, entry.id, newer->line);
            finding->removable = true;
            describe(*finding);
            return result;
        }
    }
    std::string address_text;
    if (const auto newer = reused_address(index, entry, key, address_text)) {
        result.status = EntryStatus::IpReused;
        finding = make_finding(file_, entry, EntryStatus::IpReused, newer->id, newer->line);
        finding->subject = std::move(address_text);
        finding->removable = true;
        describe(*finding);
        return result;
    }
    return shadowed_names(index, entry, key, finding);
}

// Both lines of a clash are entangled: removing either, or adding a line next to them, may
// change a verdict.
void StreamClassifier::note_clash(const config::ContainerEntry& older, std::uint64_t older_key,
                                  std::uint32_t newer_index, int newer_line) {
    entangled_lines_.push_back({older_key, older.line});
    entangled_lines_.push_back({keys_[newer_index], newer_line});
}

std::vector<EntangledLine> StreamClassifier::take_entangled_lines() {
    auto lines = std::move(entangled_lines_);
    std::sort(lines.begin(), lines.end(),
              [](const EntangledLine& a, const EntangledLine& b) { return a.line < b.line; });
    lines.erase(std::unique(lines.begin(), lines.end(),
                            [](const EntangledLine& a, const EntangledLine& b) {
                                return a.line == b.line;
                            }),
                lines.end());
    return lines;
}

FileClassification classify_entries(const config::NetworkFile& file) {
    FileClassification result;
    const auto count = static_cast<std::uint32_t>(file.entries.size());
    result.entries.resize(count);
    std::size_t addresses = 0;
    for (const auto& entry : file.entries) {
        addresses += entry.ipv4.size() + entry.ipv6.size();
    }
    StreamClassifier classifier(
        file, count,
        addresses, [&](std::uint32_t index) -> const auto& { return file.entries[index]; });
    std::vector<std::pair<std::uint32_t, Finding>> findings;
    std::optional<Finding> finding;
    for (std::uint32_t index = count; index-- > 0;) {
        result.entries[index] = classifier.classify(index, file.entries[index], finding);
        if (finding) {
            findings.emplace_back(index, std::move(*finding));
        }
    }
    // Into line order.
    std::reverse(findings.begin(), findings.end());
    result.findings.reserve(findings.size());
    for (auto& [index, entry_finding] : findings) {
        result.findings.push_back(std::move(entry_finding));
    }
    return result;
}

} // namespace records
