#include "check/repair_plan.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "liveness/gateway.hpp"
#include "records/staleness.hpp"

namespace check {
namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::string join_addresses(std::span<const base::IpAddress> addresses) {
    std::vector<std::string> texts;
    texts.reserve(addresses.size());
    for (const auto& address : addresses) {
        texts.push_back(address.to_string());
    }
    return fmt::format("{}", fmt::join(texts, ", "));
}

const config::ContainerEntry* entry_at_line(const config::NetworkFile& file, int line) {
    for (const auto& entry : file.entries) {
        if (entry.line == line) {
            return &entry;
        }
    }
    return nullptr;
}

} // namespace

std::vector<base::IpAddress> addresses_of(const config::ContainerEntry& entry) {
    std::vector<base::IpAddress> addresses(entry.ipv4.begin(), entry.ipv4.end());
    addresses.insert(addresses.end(), entry.ipv6.begin(), entry.ipv6.end());
    return addresses;
}

std::vector<std::string> own_names(const records::Finding& finding,
                                   const config::ContainerEntry& entry) {
    std::vector<std::string> names;
    for (const auto& name : entry.names) {
        if (!contains(finding.shadowed_names, name) &&
            !records::is_short_id_alias(entry.id, name) && !contains(names, name)) {
            names.push_back(name);
        }
    }
    return names;
}

LineDecision decide_shadowed(const records::Finding& finding, const config::ContainerEntry& entry,
                             std::span<const ProbeResult> probes,
                             const std::function<RuntimeResult()>& ask_runtime) {
    if (const auto own = own_names(finding, entry); !own.empty()) {
        return {false,
                fmt::format("still the only line for {}, a name of its own", fmt::join(own, ","))};
    }
    const auto addresses = addresses_of(entry);
    std::vector<std::string> unknown;
    for (std::size_t i = 0; i < probes.size() && i < addresses.size(); ++i) {
        if (probes[i].answer == ProbeAnswer::Answered) {
            return {false, fmt::format("{} answers on the bridge ({}): its container is alive "
                                       "(renamed?)",
                                       addresses[i].to_string(), probes[i].detail)};
        }
        if (probes[i].answer == ProbeAnswer::Unknown) {
            unknown.push_back(fmt::format("{}: {}", addresses[i].to_string(), probes[i].detail));
        }
    }
    if (!addresses.empty() && probes.size() == addresses.size() && unknown.empty()) {
        std::vector<std::string> details;
        for (const auto& probe : probes) {
            if (!contains(details, probe.detail)) {
                details.push_back(probe.detail);
            }
        }
        return {true, fmt::format("container gone: no ARP/NDP answer from {} ({})",
                                  join_addresses(addresses), fmt::join(details, "; "))};
    }
    const RuntimeResult runtime = ask_runtime();
    switch (runtime.answer) {
    case RuntimeAnswer::DoesNotKnow:
        return {true, fmt::format("container gone: {}", runtime.detail)};
    case RuntimeAnswer::Knows:
        return {false, fmt::format("container still exists: {}", runtime.detail)};
    case RuntimeAnswer::Unavailable:
        break;
    }
    return {false, fmt::format("cannot show its container is gone (probe: {}; runtime: {})",
                               unknown.empty() ? std::string("no address")
                                               : fmt::format("{}", fmt::join(unknown, "; ")),
                               runtime.detail)};
}

std::vector<PlannedLine> plan_repairs(const std::vector<config::NetworkFile>& files,
                                      Evidence& evidence) {
    std::vector<PlannedLine> plan;
    // Per planned shadowed line: where its probe requests start in `requests`.
    std::vector<std::optional<std::size_t>> first_request;
    std::vector<const config::NetworkFile*> file_of;
    std::vector<ProbeRequest> requests;
    std::vector<bool> request_valid;

    for (const auto& file : files) {
        const auto store = records::RecordStore::build({file});
        for (const auto& finding : store->findings()) {
            const auto* entry = entry_at_line(file, finding.line);
            PlannedLine line{
                finding, entry ? addresses_of(*entry) : std::vector<base::IpAddress>{}, {}};
            std::optional<std::size_t> first;
            if (finding.status != records::EntryStatus::Shadowed) {
                line.decision = {finding.removable, finding.reason};
            } else if (entry != nullptr && own_names(finding, *entry).empty()) {
                first = requests.size();
                for (const auto& address : line.addresses) {
                    const auto gateway = liveness::gateway_for(address, file.bind_ips);
                    requests.push_back({address, gateway.value_or(address)});
                    request_valid.push_back(gateway.has_value());
                }
            }
            plan.push_back(std::move(line));
            first_request.push_back(first);
            file_of.push_back(&file);
        }
    }

    // Only requests with a gateway are sent; the others have no bridge to probe from.
    std::vector<ProbeRequest> to_send;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        if (request_valid[i]) {
            to_send.push_back(requests[i]);
        }
    }
    std::vector<ProbeResult> sent_results;
    if (!to_send.empty()) {
        sent_results = evidence.probe(to_send);
        sent_results.resize(to_send.size());
    }
    std::vector<ProbeResult> results(requests.size());
    for (std::size_t i = 0, sent = 0; i < requests.size(); ++i) {
        results[i] = request_valid[i]
                         ? sent_results[sent++]
                         : ProbeResult{ProbeAnswer::Unknown, "no gateway of this family"};
    }

    for (std::size_t p = 0; p < plan.size(); ++p) {
        auto& line = plan[p];
        if (line.finding.status != records::EntryStatus::Shadowed) {
            continue;
        }
        const auto* entry = entry_at_line(*file_of[p], line.finding.line);
        if (entry == nullptr) {
            line.decision = {false, "line not found"};
            continue;
        }
        std::span<const ProbeResult> probes;
        if (first_request[p]) {
            probes = std::span<const ProbeResult>(results).subspan(*first_request[p],
                                                                   line.addresses.size());
        }
        const std::string id = entry->id;
        line.decision = decide_shadowed(line.finding, *entry, probes,
                                        [&evidence, &id] { return evidence.runtime_knows(id); });
        // "name X taken over by Y (line N)", then the evidence.
        const std::string& reason = line.finding.reason;
        line.decision.why =
            fmt::format("{}; {}", reason.substr(0, reason.find(';')), line.decision.why);
    }
    return plan;
}

bool plan_removes(std::span<const PlannedLine> plan, const records::Finding& finding,
                  std::span<const base::IpAddress> addresses) {
    for (const auto& line : plan) {
        if (line.finding.path == finding.path &&
            line.finding.container_id == finding.container_id &&
            line.finding.status == finding.status &&
            std::equal(line.addresses.begin(), line.addresses.end(), addresses.begin(),
                       addresses.end())) {
            return line.decision.remove;
        }
    }
    return false;
}

} // namespace check
