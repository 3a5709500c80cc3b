// check/: the offline `ctrdns check` command: report what the daemon would serve and which entries
// are stale, and optionally repair the files. Uses config/ and records/ exactly as the daemon does;
// no sockets, no asio, no DNS packets.
#pragma once

#include <string>

namespace check {

struct Options {
    std::string config_dir;
    bool json = false;
    bool fix = false;
};

enum ExitStatus : int {
    kClean = 0,      // nothing stale (or, with --fix, everything stale was removed)
    kStaleFound = 1, // stale or shadowed entries exist (report only)
    kError = 2       // the directory could not be read, or a repair failed
};

/// Runs the command, printing the report to stdout and errors to stderr. With `fix`, removes the
/// removable stale lines from each file (see file_repair.hpp) and SIGHUPs the server named by
/// `aardvark.pid`.
int run(const Options& options);

} // namespace check
