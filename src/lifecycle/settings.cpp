#include "lifecycle/settings.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string_view>

#include <fmt/format.h>

namespace lifecycle {
namespace {

std::string on_off(bool value) {
    return value ? "on" : "off";
}

std::string_view level_name(base::log::Level level) {
    switch (level) {
    case base::log::Level::Error:
        return "error";
    case base::log::Level::Warn:
        return "warn";
    case base::log::Level::Info:
        return "info";
    case base::log::Level::Debug:
        return "debug";
    case base::log::Level::Trace:
        return "trace";
    }
    return "info";
}

template <typename Value>
void note(std::vector<std::string>& lines, std::string_view name, const Value& before,
          const Value& after) {
    if (before != after) {
        lines.push_back(fmt::format("{}: {} -> {}", name, before, after));
    }
}

} // namespace

RuntimeOptions resolve_settings(const config::SettingsValues& values) {
    RuntimeOptions options;
    options.probe_liveness = values.probe_liveness.value_or(options.probe_liveness);
    options.query_log_default = values.query_log.value_or(options.query_log_default);
    options.log_level = values.log_level.value_or(options.log_level);

    upstream::Options& forwarder = options.forwarder;
    forwarder.cache_enabled = values.cache.value_or(forwarder.cache_enabled);
    // The parser bounds every number far below size_t's range, so the casts cannot truncate.
    upstream::CacheSettings& cache = forwarder.cache;
    cache.max_entries =
        static_cast<std::size_t>(values.cache_max_entries.value_or(cache.max_entries));
    cache.max_bytes = static_cast<std::size_t>(values.cache_max_bytes.value_or(cache.max_bytes));
    if (values.cache_max_ttl) {
        cache.max_ttl =
            std::chrono::seconds{static_cast<std::chrono::seconds::rep>(*values.cache_max_ttl)};
    }
    upstream::HealthSettings& health = forwarder.health;
    if (values.health_probe_timeout_ms) {
        health.probe_timeout = std::chrono::milliseconds{
            static_cast<std::chrono::milliseconds::rep>(*values.health_probe_timeout_ms)};
    }
    health.max_tracked =
        static_cast<std::size_t>(values.health_max_tracked.value_or(health.max_tracked));
    forwarder.max_in_flight =
        static_cast<std::size_t>(values.max_forwards_in_flight.value_or(forwarder.max_in_flight));

    server::Limits& limits = options.limits;
    limits.max_tcp_connections =
        static_cast<std::size_t>(values.max_tcp_connections.value_or(limits.max_tcp_connections));
    limits.max_udp_forwards =
        static_cast<std::size_t>(values.max_udp_forwards.value_or(limits.max_udp_forwards));
    if (values.tcp_idle_timeout_ms) {
        limits.tcp_idle_timeout = std::chrono::milliseconds{
            static_cast<std::chrono::milliseconds::rep>(*values.tcp_idle_timeout_ms)};
    }
    // Each client's share follows the global limit it is a share of (docs/security.md).
    limits.max_tcp_connections_per_client = server::Limits::fair_share(limits.max_tcp_connections);
    limits.max_forwards_per_client = server::Limits::fair_share(limits.max_udp_forwards);
    return options;
}

LoadedSettings load_settings(const std::vector<std::string>& paths,
                             const config::SettingsValues& command_line,
                             const config::SettingsValues& previous) {
    LoadedSettings loaded;
    std::vector<std::string> rejected;
    for (const std::string& path : paths) {
        config::SettingsFileRead read = config::read_settings_file(path);
        if (read.found) {
            loaded.files_read.push_back(path);
        }
        // A later file that sets a key properly settles it, whatever an earlier one said.
        std::erase_if(rejected, [&read](const std::string& key) {
            config::SettingsValues only_key;
            only_key.copy_key(key, read.result.values);
            return only_key != config::SettingsValues{};
        });
        for (std::string& key : read.result.rejected_keys) {
            if (std::find(rejected.begin(), rejected.end(), key) == rejected.end()) {
                rejected.push_back(std::move(key));
            }
        }
        loaded.file_values.overlay(read.result.values);
        std::move(read.result.problems.begin(), read.result.problems.end(),
                  std::back_inserter(loaded.problems));
    }
    for (const std::string& key : rejected) {
        loaded.file_values.copy_key(key, previous);
    }
    config::SettingsValues effective = loaded.file_values;
    effective.overlay(command_line);
    loaded.options = resolve_settings(effective);
    return loaded;
}

std::vector<std::string> describe_changes(const RuntimeOptions& before,
                                          const RuntimeOptions& after) {
    std::vector<std::string> lines;
    note(lines, "probe_liveness", on_off(before.probe_liveness), on_off(after.probe_liveness));
    note(lines, "cache", on_off(before.forwarder.cache_enabled),
         on_off(after.forwarder.cache_enabled));
    note(lines, "cache_max_entries", before.forwarder.cache.max_entries,
         after.forwarder.cache.max_entries);
    note(lines, "cache_max_bytes", before.forwarder.cache.max_bytes,
         after.forwarder.cache.max_bytes);
    note(lines, "cache_max_ttl", before.forwarder.cache.max_ttl.count(),
         after.forwarder.cache.max_ttl.count());
    note(lines, "max_tcp_connections", before.limits.max_tcp_connections,
         after.limits.max_tcp_connections);
    note(lines, "max_udp_forwards", before.limits.max_udp_forwards, after.limits.max_udp_forwards);
    note(lines, "tcp_idle_timeout_ms", before.limits.tcp_idle_timeout.count(),
         after.limits.tcp_idle_timeout.count());
    note(lines, "max_forwards_in_flight", before.forwarder.max_in_flight,
         after.forwarder.max_in_flight);
    note(lines, "health_probe_timeout_ms", before.forwarder.health.probe_timeout.count(),
         after.forwarder.health.probe_timeout.count());
    note(lines, "health_max_tracked", before.forwarder.health.max_tracked,
         after.forwarder.health.max_tracked);
    note(lines, "query_log", on_off(before.query_log_default), on_off(after.query_log_default));
    note(lines, "log_level", level_name(before.log_level), level_name(after.log_level));
    return lines;
}

} // namespace lifecycle
