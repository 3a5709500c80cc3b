// liveness/: applies probe verdicts to one answer without ever emptying it. Pure C++ (no asio),
// meant for the query path; depends on base/ only.
#pragma once

#include <cstddef>
#include <vector>

#include "base/ip_address.hpp"
#include "liveness/dead_set.hpp"

namespace liveness {

/// Removes the addresses of `answer` that are in `dead`, keeping the order of the others, but
/// only when at least one address of `answer` is not dead: a heuristic must never turn a known
/// name into an empty answer (docs/stale-entries.md §1.2). When every address is dead, or
/// `dead` is null or empty, `answer` is left untouched. Returns how many addresses were removed
/// (0 when untouched), for the "demoted by probe" counter.
std::size_t drop_dead(std::vector<base::IpAddress>& answer, const DeadSet* dead);

} // namespace liveness
