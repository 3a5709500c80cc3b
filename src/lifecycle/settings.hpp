// daemon/: the settings files (config/settings_file) layered under the command line and turned
// into what upstream/, server/ and the daemon take. No sockets and no signals here: the daemon
// calls load_settings at start and on SIGHUP and applies the result itself.
#pragma once

#include <string>
#include <vector>

#include "base/log.hpp"
#include "config/settings_file.hpp"
#include "server/serve_state.hpp"
#include "upstream/forwarder.hpp"

namespace lifecycle {

/// Every setting with its effective value. Defaults are the modules' own (upstream::Options,
/// server::Limits); docs/settings.md lists them.
struct RuntimeOptions {
    bool probe_liveness = false;
    /// Whether the query log starts enabled. Nothing consumes it yet: the runtime query log
    /// (another branch) reads it at start and on SIGHUP.
    bool query_log_default = false;
    base::log::Level log_level = base::log::Level::Info;
    upstream::Options forwarder;
    server::Limits limits;
};

/// Built-in defaults with `values` laid over them.
RuntimeOptions resolve_settings(const config::SettingsValues& values);

struct LoadedSettings {
    /// The files' values merged, before the command line. Passed back as `previous` next time,
    /// so a key whose new value is bad keeps what it had.
    config::SettingsValues file_values;
    RuntimeOptions options;
    std::vector<config::Problem> problems;
    std::vector<std::string> files_read; // the paths that existed
};

/// Reads `paths` in order (later files win key by key), keeps `previous` for each key a file set
/// to a bad value (unless a later file set it properly), then lays `command_line` over the result.
/// Never fails: problems are reported and the affected keys keep their earlier value.
LoadedSettings load_settings(const std::vector<std::string>& paths,
                             const config::SettingsValues& command_line,
                             const config::SettingsValues& previous);

/// One human line per setting whose value differs, e.g. "cache: on -> off".
std::vector<std::string> describe_changes(const RuntimeOptions& before,
                                          const RuntimeOptions& after);

} // namespace lifecycle
