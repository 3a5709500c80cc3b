// daemon/: the `run` command: fork with a readiness pipe, pid file, load, bind, then serve and
// reload on SIGHUP until no network is left (contract §2). The only place with fork/setsid/dup2.
// Uses server/, config/, records/ and upstream/; never CLI11.
//
// The namespace is `lifecycle` because glibc declares a function `daemon()` in <unistd.h>.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings_file.hpp"

namespace lifecycle {

inline constexpr std::uint16_t kDefaultPort = 5533;
inline constexpr const char* kDefaultSearchDomain = ".dns.podman";
inline constexpr const char* kResolvConfPath = "/etc/resolv.conf";

struct Options {
    std::string config_dir = "/dev/stdin"; // aardvark's (useless) default, kept for parity
    std::uint16_t port = kDefaultPort;
    std::string search_domain = kDefaultSearchDomain; // the raw -f value
    bool foreground = false;                          // ctrdns: no fork, no setsid, logs to stderr
    /// ctrdns: settings the command line set (--no-cache: cache, --probe-liveness:
    /// probe_liveness; a valid RUST_LOG: log_level). They win over the settings files.
    config::SettingsValues command_line;
    /// ctrdns: settings files, lowest precedence first (docs/settings.md), read at start and on
    /// SIGHUP. Empty (the default) reads none.
    std::vector<std::string> settings_paths;
    std::string resolv_conf_path = kResolvConfPath; // fixed in the CLI; tests may point elsewhere
};

/// aardvark's -f normalisation (contract §3.4): a '.' is appended unless the value already ends in
/// one; a leading dot is kept as given; "" stays "".
std::string normalise_search_domain(std::string_view filter);

/// Runs the daemon and returns the exit status of whichever process returns:
/// * default: forks. The parent waits for the ready byte and returns 0, or prints
///   `Error from child process` and returns 1. The child writes the pid file, loads, binds,
///   detaches and serves; it returns only on failure or when it must exit.
/// * foreground: the same without fork, setsid and stdio redirection.
/// Startup errors go to stderr (netavark collects them) as `Error starting server <details>`.
int run(const Options& options);

} // namespace lifecycle
