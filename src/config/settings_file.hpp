// config/: ctrdns's own settings file (ctrdns.conf), text -> values, and where Podman's start path
// finds it. Pure apart from read_settings_file (one capped read): no DNS, no sockets, no asio, and
// no defaults of the modules that consume the values (lifecycle/ applies them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "base/log.hpp"
#include "config/network_file.hpp" // Problem

namespace config {

/// The settings a file (or the command line) sets. nullopt = not set here: the next layer down
/// (a file read earlier, then the built-in default) decides. Numbers are range-checked already.
struct SettingsValues {
    std::optional<bool> probe_liveness;
    std::optional<bool> cache;
    std::optional<std::uint64_t> cache_max_entries;
    std::optional<std::uint64_t> cache_max_bytes;
    std::optional<std::uint64_t> cache_max_ttl; // seconds
    std::optional<std::uint64_t> max_tcp_connections;
    std::optional<std::uint64_t> max_udp_forwards;
    std::optional<std::uint64_t> tcp_idle_timeout_ms;
    std::optional<std::uint64_t> max_forwards_in_flight;
    std::optional<std::uint64_t> health_probe_timeout_ms;
    std::optional<std::uint64_t> health_max_tracked;
    std::optional<bool> query_log;
    std::optional<base::log::Level> log_level;

    /// Every value `later` sets replaces this one's; the others stay.
    void overlay(const SettingsValues& later);

    /// Copies `key`'s value (set or not) from `from`; an unknown key changes nothing.
    void copy_key(std::string_view key, const SettingsValues& from);

    bool operator==(const SettingsValues&) const = default;
};

struct SettingsFileResult {
    SettingsValues values;
    /// Known keys whose value was refused. The caller keeps what it had for them (the previous
    /// value on a reload) rather than silently falling back to the default.
    std::vector<std::string> rejected_keys;
    std::vector<Problem> problems; // each bad line, with its number; never fatal
};

/// Parses `key = value` lines. `#` starts a comment (anywhere on a line); blank lines are
/// skipped; leading/trailing blanks and a trailing `\r` are ignored; a value may be wrapped in
/// double or single quotes (so a TOML writer's output is accepted); an optional `[ctrdns]` line
/// may precede the keys (another section's keys are reported and ignored). Booleans:
/// true/false/yes/no/on/off/1/0; sizes in bytes may end in K, M or G (powers of 1024). A bad
/// line is reported and skipped; a key set twice keeps the later value, with a note.
SettingsFileResult parse_settings_file(std::string_view path, std::string_view text);

struct SettingsFileRead {
    bool found = false; // false: the file does not exist (not a problem)
    SettingsFileResult result;
};

/// Reads and parses one file (at most 64 KiB, UTF-8). A missing file is `found = false` with no
/// problem; an unreadable one (permissions, a directory, a FIFO, too large) is a line-0 problem.
/// /dev/null reads as an empty file.
SettingsFileRead read_settings_file(const std::string& path);

/// What settings_file_paths looks at (the process environment in production).
struct SettingsEnvironment {
    const char* ctrdns_conf = nullptr;     // CTRDNS_CONF: this one file, nothing else
    const char* xdg_config_home = nullptr; // XDG_CONFIG_HOME
    const char* home = nullptr;            // HOME
    /// _CONTAINERS_USERNS_CONFIGURED: rootless Podman sets it in its user namespace, where
    /// netavark (and so ctrdns) runs with euid 0.
    const char* containers_userns = nullptr;
};

inline constexpr const char* kSystemSettingsPath = "/etc/containers/ctrdns.conf";

/// The files to read, lowest precedence first, mirroring where Podman reads containers.conf:
/// `/etc/containers/ctrdns.conf`; for rootless Podman (euid != 0, or its user namespace) also
/// `$XDG_CONFIG_HOME/containers/ctrdns.conf` (default `$HOME/.config/containers/ctrdns.conf`),
/// whose keys override the system file's. A non-empty CTRDNS_CONF replaces the list with itself.
std::vector<std::string> settings_file_paths(uid_t euid, const SettingsEnvironment& environment);

} // namespace config
