// check/: the offline `ctrdns check` command: report what the daemon would serve and which entries
// are stale, and optionally repair the files. Uses config/ and records/ exactly as the daemon does;
// no sockets, no asio, no DNS packets: what --fix needs from the live system (probes, podman)
// comes through check::Evidence, implemented in inspect/.
#pragma once

#include <string>

#include "check/evidence.hpp"

namespace check {

struct Options {
    std::string config_dir;
    std::string config_origin; // how config_dir was chosen ("--config", "rootful Podman's default")
    bool json = false;
    bool fix = false;
    bool dry_run = false; // with or instead of fix: say what --fix would do, change nothing
};

enum ExitStatus : int {
    kClean = 0,      // nothing stale (or, with --fix, nothing stale is left)
    kStaleFound = 1, // stale or shadowed entries exist (with --fix: some were kept)
    kError = 2       // the directory could not be read, or a repair failed
};

/// Runs the command, printing the report to stdout and errors to stderr. With `fix`, removes the
/// lines repair_plan.hpp decides to remove (rules 1 and 2 always; a shadowed line once
/// `evidence` shows its container gone), prints why for every stale line it removed or kept,
/// and SIGHUPs the server named by `aardvark.pid`. With `dry_run`, prints the same decisions
/// and changes nothing.
int run(const Options& options, Evidence& evidence);

/// run() with NoEvidence: shadowed lines are never shown gone, so never removed.
int run(const Options& options);

} // namespace check
