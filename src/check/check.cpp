#include "check/check.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "check/file_repair.hpp"
#include "check/repair_plan.hpp"
#include "config/config_dir.hpp"
#include "config/network_file.hpp"
#include "records/record_store.hpp"

namespace check {
namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out +=
                    fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
            } else {
                out += c;
            }
        }
    }
    out += '"';
    return out;
}

std::string short_id(const std::string& id) {
    return id.substr(0, 12);
}

/// What one network serves: each name the file mentions, with the addresses the daemon's own
/// lookup returns for it (empty when every entry claiming it is stale).
struct ServedName {
    std::string name;
    std::vector<base::IpAddress> addresses;
};

std::vector<ServedName> served_names(const records::RecordStore& store,
                                     const config::NetworkFile& file) {
    std::vector<ServedName> served;
    const auto network = store.find_network(file.name);
    if (!network) {
        return served;
    }
    const records::NetworkId nets[] = {*network};
    std::set<std::string> seen;
    std::vector<base::IpAddress> addresses;
    for (const auto& entry : file.entries) {
        for (const auto& name : entry.names) {
            if (!seen.insert(name).second) {
                continue;
            }
            addresses.clear();
            store.lookup_name(nets, name, addresses);
            served.push_back({name, addresses});
        }
    }
    return served;
}

std::vector<const records::Finding*> findings_of(const records::RecordStore& store,
                                                 const config::NetworkFile& file) {
    std::vector<const records::Finding*> found;
    for (const auto& finding : store.findings()) {
        if (finding.network == file.name) {
            found.push_back(&finding);
        }
    }
    return found;
}

std::string join_addresses(const std::vector<base::IpAddress>& addresses) {
    std::string out;
    for (const auto& address : addresses) {
        if (!out.empty()) {
            out += ", ";
        }
        out += address.to_string();
    }
    return out.empty() ? "(nothing)" : out;
}

void print_text(const Options& options, const config::LoadResult& load,
                const records::RecordStore& store) {
    if (!options.config_origin.empty()) {
        std::printf("config directory %s (%s)\n", options.config_dir.c_str(),
                    options.config_origin.c_str());
    }
    std::size_t stale = 0;
    for (const auto& problem : load.problems) {
        std::printf("problem: %s\n", problem.to_string().c_str());
    }
    for (const auto& file : load.networks) {
        std::printf("network %s%s (%s)\n", file.name.c_str(), file.internal ? " [internal]" : "",
                    file.path.c_str());
        for (const auto& served : served_names(store, file)) {
            std::printf("  %-32s %s\n", served.name.c_str(),
                        join_addresses(served.addresses).c_str());
        }
        for (const auto* finding : findings_of(store, file)) {
            ++stale;
            const char* removability = "";
            if (finding->removable) {
                removability = finding->status == records::EntryStatus::Shadowed
                                   ? " [--fix removes it once its container is shown gone]"
                                   : " [removable with --fix]";
            }
            std::printf("  STALE line %d: container %s %s: %s%s\n", finding->line,
                        short_id(finding->container_id).c_str(),
                        records::status_name(finding->status), finding->reason.c_str(),
                        removability);
        }
    }
    std::printf("%zu stale or shadowed %s in %zu network%s\n", stale,
                stale == 1 ? "entry" : "entries", load.networks.size(),
                load.networks.size() == 1 ? "" : "s");
}

void print_json(const Options& options, const config::LoadResult& load,
                const records::RecordStore& store) {
    std::string out = "{\n";
    out += fmt::format("  \"config_dir\": {},\n", json_string(options.config_dir));
    out += fmt::format("  \"config_dir_origin\": {},\n", json_string(options.config_origin));
    out += "  \"problems\": [";
    for (std::size_t i = 0; i < load.problems.size(); ++i) {
        out += i == 0 ? "" : ", ";
        out += json_string(load.problems[i].to_string());
    }
    out += "],\n  \"networks\": [";
    std::size_t stale = 0;
    for (std::size_t n = 0; n < load.networks.size(); ++n) {
        const auto& file = load.networks[n];
        out += n == 0 ? "\n" : ",\n";
        out += fmt::format("    {{\"name\": {}, \"path\": {}, \"internal\": {}, \"serves\": {{",
                           json_string(file.name), json_string(file.path),
                           file.internal ? "true" : "false");
        const auto served = served_names(store, file);
        for (std::size_t i = 0; i < served.size(); ++i) {
            out += fmt::format("{}{}: [", i == 0 ? "" : ", ", json_string(served[i].name));
            for (std::size_t a = 0; a < served[i].addresses.size(); ++a) {
                out += a == 0 ? "" : ", ";
                out += json_string(served[i].addresses[a].to_string());
            }
            out += "]";
        }
        out += "}, \"stale\": [";
        const auto findings = findings_of(store, file);
        for (std::size_t i = 0; i < findings.size(); ++i) {
            const auto& f = *findings[i];
            ++stale;
            out += fmt::format("{}{{\"line\": {}, \"container_id\": {}, \"status\": \"{}\", "
                               "\"newer_id\": {}, \"reason\": {}, \"removable\": {}, "
                               "\"shadowed_names\": [",
                               i == 0 ? "" : ", ", f.line, json_string(f.container_id),
                               records::status_name(f.status), json_string(f.newer_id),
                               json_string(f.reason), f.removable ? "true" : "false");
            for (std::size_t s = 0; s < f.shadowed_names.size(); ++s) {
                out += s == 0 ? "" : ", ";
                out += json_string(f.shadowed_names[s]);
            }
            out += "]}";
        }
        out += "]}";
    }
    out += fmt::format("\n  ],\n  \"stale_count\": {}\n}}\n", stale);
    std::fputs(out.c_str(), stdout);
}

/// Tells the running server to reload, as netavark does after a change.
void signal_server(const std::string& config_dir) {
    const auto text =
        read_file((std::filesystem::path(config_dir) / config::kPidFileName).string());
    if (!text) {
        std::printf("no %s: no server to reload\n", config::kPidFileName);
        return;
    }
    char* end = nullptr;
    errno = 0;
    const long pid = std::strtol(text->c_str(), &end, 10);
    if (errno != 0 || end == text->c_str() || *end != '\0' || pid <= 0) {
        std::fprintf(stderr, "ctrdns check: %s holds no pid\n", config::kPidFileName);
        return;
    }
    if (::kill(static_cast<pid_t>(pid), SIGHUP) == 0) {
        std::printf("sent SIGHUP to the server (pid %ld)\n", pid);
    } else {
        std::printf("server pid %ld not signalled: %s\n", pid, std::strerror(errno));
    }
}

/// A directory check picked by itself is named as such, so a user on a system where Podman
/// keeps it elsewhere knows to pass --config.
void report_directory_error(const Options& options, const std::string& error) {
    if (options.config_origin.empty() || options.config_origin == "--config") {
        std::fprintf(stderr, "ctrdns check: %s\n", error.c_str());
    } else {
        std::fprintf(stderr, "ctrdns check: %s (%s; pass --config DIR for another)\n",
                     error.c_str(), options.config_origin.c_str());
    }
}

const PlannedLine* planned_line(std::span<const PlannedLine> plan,
                                const records::Finding& finding) {
    for (const auto& line : plan) {
        if (line.finding.path == finding.path &&
            line.finding.container_id == finding.container_id &&
            line.finding.status == finding.status) {
            return &line;
        }
    }
    return nullptr;
}

/// Why a line was removed or kept: the plan's reason when it covered the line, else the rule's.
std::string why_of(std::span<const PlannedLine> plan, const records::Finding& finding) {
    const auto* line = planned_line(plan, finding);
    return line != nullptr ? line->decision.why : finding.reason;
}

std::string describe(const records::Finding& finding) {
    return fmt::format("{} line {}: container {} {}", finding.path, finding.line,
                       short_id(finding.container_id), records::status_name(finding.status));
}

const config::ContainerEntry* entry_at_line(const config::NetworkFile& file, int line) {
    for (const auto& entry : file.entries) {
        if (entry.line == line) {
            return &entry;
        }
    }
    return nullptr;
}

struct FileRepair {
    std::vector<records::Finding> removed;
    std::vector<records::Finding> kept; // stale lines left in the file as written
};

/// Repairs one file under the lock. Returns the findings whose lines were removed and those
/// kept, both judged from the bytes written, or nullopt on error. The file is parsed from the very
/// bytes that get rewritten, so line numbers cannot drift; rules 1 and 2 are re-derived from those
/// bytes, a shadowed line goes only when the plan (made before the lock, from the probes) removes
/// exactly that line. file_repair.hpp re-runs the repair when a teardown rewrote the file behind
/// it.
std::optional<FileRepair> repair_file(const config::NetworkFile& loaded,
                                      std::span<const PlannedLine> plan) {
    const std::string file_name = std::filesystem::path(loaded.path).filename().string();
    FileRepair repair; // the report of the repair that was last applied
    const RewriteOutcome outcome =
        rewrite_file_safely(loaded.path, [&](std::string_view text) -> std::optional<std::string> {
            repair = FileRepair{};
            auto parsed = config::parse_network_file(file_name, loaded.path, text);
            if (!parsed.file) {
                return std::nullopt;
            }
            const auto store = records::RecordStore::build({*parsed.file});
            std::set<int> lines;
            for (const auto& finding : store->findings()) {
                bool remove = finding.removable;
                if (finding.status == records::EntryStatus::Shadowed) {
                    const auto* entry = entry_at_line(*parsed.file, finding.line);
                    remove = remove && entry != nullptr &&
                             plan_removes(plan, finding, addresses_of(*entry));
                }
                if (remove) {
                    lines.insert(finding.line);
                    repair.removed.push_back(finding);
                } else {
                    repair.kept.push_back(finding);
                }
            }
            if (lines.empty()) {
                return std::nullopt;
            }
            return remove_lines(text, lines);
        });
    if (!outcome.ok()) {
        std::fprintf(stderr, "ctrdns check: %s\n", outcome.error.c_str());
        return std::nullopt;
    }
    return repair;
}

const char* plural(std::size_t count) {
    return count == 1 ? "" : "s";
}

int dry_run(const std::vector<PlannedLine>& plan) {
    std::size_t removing = 0;
    for (const auto& line : plan) {
        removing += line.decision.remove ? 1 : 0;
        std::printf("%s %s: %s\n", line.decision.remove ? "would remove" : "would keep",
                    describe(line.finding).c_str(), line.decision.why.c_str());
    }
    const std::size_t keeping = plan.size() - removing;
    std::printf("dry run: would remove %zu stale line%s, keep %zu; nothing changed\n", removing,
                plural(removing), keeping);
    return keeping == 0 ? kClean : kStaleFound;
}

int fix(const Options& options, Evidence& evidence) {
    if (!options.config_origin.empty()) {
        std::printf("config directory %s (%s)\n", options.config_dir.c_str(),
                    options.config_origin.c_str());
    }
    const auto before = config::load_directory(options.config_dir);
    if (!before.directory_ok) {
        report_directory_error(options, before.directory_error);
        return kError;
    }
    // The evidence (seconds of probing) is gathered before taking netavark's lock, so no
    // `netavark setup` waits on it.
    const auto plan = plan_repairs(before.networks, evidence);
    if (options.dry_run) {
        return dry_run(plan);
    }
    std::size_t removed = 0;
    std::vector<records::Finding> kept;
    bool failed = false;
    {
        const base::Result<NetavarkLock> lock = NetavarkLock::acquire(options.config_dir);
        if (!lock) {
            std::fprintf(stderr, "ctrdns check: cannot take netavark's lock: %s\n",
                         lock.error().message().c_str());
            return kError;
        }
        const auto load = config::load_directory(options.config_dir);
        if (!load.directory_ok) {
            std::fprintf(stderr, "ctrdns check: %s\n", load.directory_error.c_str());
            return kError;
        }
        for (const auto& file : load.networks) {
            auto repaired = repair_file(file, plan);
            if (!repaired) {
                failed = true;
                continue;
            }
            for (const auto& finding : repaired->removed) {
                ++removed;
                std::printf("removed %s: %s\n", describe(finding).c_str(),
                            why_of(plan, finding).c_str());
            }
            kept.insert(kept.end(), repaired->kept.begin(), repaired->kept.end());
        }
    }
    // What is left is judged under the lock, from the bytes written: a line netavark appends
    // after the lock is released is the next run's business.
    for (const auto& finding : kept) {
        const auto* planned = planned_line(plan, finding);
        const std::string why = planned != nullptr && planned->decision.remove
                                    ? "the line changed while it was probed; run --fix again"
                                    : why_of(plan, finding);
        std::printf("kept %s: %s\n", describe(finding).c_str(), why.c_str());
    }
    const std::size_t kept_count = kept.size();
    std::printf("removed %zu stale line%s", removed, plural(removed));
    if (kept_count > 0) {
        std::printf("; kept %zu stale line%s (see above)", kept_count, plural(kept_count));
    }
    std::printf("\n");
    if (removed > 0) {
        signal_server(options.config_dir);
    }
    if (failed) {
        return kError;
    }
    return kept_count == 0 ? kClean : kStaleFound;
}

} // namespace

int run(const Options& options) {
    NoEvidence none;
    return run(options, none);
}

int run(const Options& options, Evidence& evidence) {
    if (options.fix || options.dry_run) {
        return fix(options, evidence);
    }
    const auto load = config::load_directory(options.config_dir);
    if (!load.directory_ok) {
        report_directory_error(options, load.directory_error);
        return kError;
    }
    const auto store = records::RecordStore::build(load.networks);
    if (options.json) {
        print_json(options, load, *store);
    } else {
        print_text(options, load, *store);
    }
    return store->findings().empty() ? kClean : kStaleFound;
}

} // namespace check
