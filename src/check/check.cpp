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
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "check/file_repair.hpp"
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

const char* status_name(records::EntryStatus status) {
    switch (status) {
    case records::EntryStatus::DuplicateId:
        return "duplicate-id";
    case records::EntryStatus::IpReused:
        return "ip-reused";
    case records::EntryStatus::Shadowed:
        return "shadowed";
    case records::EntryStatus::Current:
        break;
    }
    return "current";
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

void print_text(const config::LoadResult& load, const records::RecordStore& store) {
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
            std::printf("  STALE line %d: container %s %s: %s%s\n", finding->line,
                        short_id(finding->container_id).c_str(), status_name(finding->status),
                        finding->reason.c_str(),
                        finding->removable ? " [removable with --fix]" : "");
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
    out += "  \"problems\": [";
    for (std::size_t i = 0; i < load.problems.size(); ++i) {
        out += (i == 0 ? "" : ", ") + json_string(load.problems[i].to_string());
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
                out += (a == 0 ? "" : ", ") + json_string(served[i].addresses[a].to_string());
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
                               status_name(f.status), json_string(f.newer_id),
                               json_string(f.reason), f.removable ? "true" : "false");
            for (std::size_t s = 0; s < f.shadowed_names.size(); ++s) {
                out += (s == 0 ? "" : ", ") + json_string(f.shadowed_names[s]);
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

/// Repairs one file under the lock. Returns the number of lines removed, or nullopt on error.
/// The file is parsed from the very bytes that get rewritten, so line numbers cannot drift;
/// file_repair.hpp re-runs the repair when a teardown rewrote the file behind it.
std::optional<std::size_t> repair_file(const config::NetworkFile& loaded) {
    const std::string file_name = std::filesystem::path(loaded.path).filename().string();
    std::vector<std::string> removed; // the report of the repair that was last applied
    const RewriteOutcome outcome =
        rewrite_file_safely(loaded.path, [&](std::string_view text) -> std::optional<std::string> {
            removed.clear();
            auto parsed = config::parse_network_file(file_name, loaded.path, text);
            if (!parsed.file) {
                return std::nullopt;
            }
            const auto store = records::RecordStore::build({*parsed.file});
            std::set<int> lines;
            for (const auto& finding : store->findings()) {
                if (finding.removable) {
                    lines.insert(finding.line);
                    removed.push_back(fmt::format("removed {} line {}: container {} ({})",
                                                  loaded.path, finding.line,
                                                  short_id(finding.container_id), finding.reason));
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
    if (outcome.status == RewriteOutcome::Status::Unchanged) {
        return std::size_t{0};
    }
    for (const auto& line : removed) {
        std::printf("%s\n", line.c_str());
    }
    return removed.size();
}

int fix(const Options& options) {
    const NetavarkLock lock(options.config_dir);
    if (!lock.held()) {
        std::fprintf(stderr, "ctrdns check: cannot take netavark's lock: %s\n",
                     lock.error().c_str());
        return kError;
    }
    const auto load = config::load_directory(options.config_dir);
    if (!load.directory_ok) {
        std::fprintf(stderr, "ctrdns check: %s\n", load.directory_error.c_str());
        return kError;
    }
    std::size_t removed = 0;
    bool failed = false;
    for (const auto& file : load.networks) {
        if (const auto count = repair_file(file)) {
            removed += *count;
        } else {
            failed = true;
        }
    }
    std::printf("removed %zu stale line%s\n", removed, removed == 1 ? "" : "s");
    if (removed > 0) {
        signal_server(options.config_dir);
    }
    return failed ? kError : kClean;
}

} // namespace

int run(const Options& options) {
    if (options.fix) {
        return fix(options);
    }
    const auto load = config::load_directory(options.config_dir);
    if (!load.directory_ok) {
        std::fprintf(stderr, "ctrdns check: %s\n", load.directory_error.c_str());
        return kError;
    }
    const auto store = records::RecordStore::build(load.networks);
    if (options.json) {
        print_json(options, load, *store);
    } else {
        print_text(load, *store);
    }
    return store->findings().empty() ? kClean : kStaleFound;
}

} // namespace check
