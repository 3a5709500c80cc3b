// check/: which stale lines `check --fix` removes, and why (docs/stale-entries.md §2.1).
// Pure rules over parsed files, findings and the evidence gathered through check::Evidence;
// must not depend on asio, sockets, or inspect/.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "check/evidence.hpp"
#include "config/network_file.hpp"
#include "records/record_store.hpp"

namespace check {

struct LineDecision {
    bool remove = false;
    std::string why; // one line of human text, shown for every line
};

/// One stale or shadowed line and what --fix does with it.
struct PlannedLine {
    records::Finding finding;
    std::vector<base::IpAddress> addresses; // the line's addresses, v4 then v6
    LineDecision decision;
};

/// The names of `entry` that no newer line claims, Podman's short-ID alias left out: the names
/// that make a shadowed line more than a leftover.
std::vector<std::string> own_names(const records::Finding& finding,
                                   const config::ContainerEntry& entry);

/// Decides one Shadowed line. `probes` holds one result per address of `entry` (v4 then v6).
/// In order:
///  1. a name of its own (own_names) keeps it: the daemon still serves that name from it;
///  2. any address that answered ARP/NDP keeps it: a live container owns the line (a renamed
///     container under a newcomer with its old name);
///  3. every address silent: its container is gone, remove;
///  4. otherwise (no verdict) the runtime decides: a container ID it no longer knows is
///     removed, one it knows is kept, and with no answer the line is kept: never removed on
///     a guess.
/// `ask_runtime` is only called in step 4.
LineDecision decide_shadowed(const records::Finding& finding, const config::ContainerEntry& entry,
                             std::span<const ProbeResult> probes,
                             const std::function<RuntimeResult()>& ask_runtime);

/// Every finding of `files` (rules 1 and 2 are removed without evidence, they are proofs in
/// themselves; rule 3 goes through decide_shadowed), in file then line order. Probes for every
/// shadowed candidate go out in one round, each from the network gateway of its subnet.
std::vector<PlannedLine> plan_repairs(const std::vector<config::NetworkFile>& files,
                                      Evidence& evidence);

/// True when `plan` removes the line of `finding` (same file, container ID, status and
/// addresses as planned). A line that appeared or changed after the plan was made is kept.
bool plan_removes(std::span<const PlannedLine> plan, const records::Finding& finding,
                  std::span<const base::IpAddress> addresses);

/// The addresses of an entry, v4 then v6.
std::vector<base::IpAddress> addresses_of(const config::ContainerEntry& entry);

} // namespace check
