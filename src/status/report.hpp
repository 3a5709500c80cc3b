// status/: what `ctrdns status` shows, as plain values, and its three renderings (human table,
// JSON, Prometheus text exposition). Pure: no sockets, no clocks, nothing from lifecycle/ or
// server/ (lifecycle/ fills a Report; the client only prints what the daemon rendered).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace status {

struct Listener {
    std::string network;
    std::string address;
    std::uint16_t port = 0;
    bool bound = false;
    /// "ok" (a self-query reached this process on this address), "other-process" (something
    /// else answered it), "no-answer", or "not-run" (prometheus requests skip the probe).
    std::string self_check = "not-run";
    std::string detail; // e.g. the address that saw it or answered
};

struct Network {
    std::string name;
    bool internal = false;
    std::vector<std::string> listen_addresses;
    std::size_t entries = 0; // serving entry lines
};

struct Name {
    std::string network;
    std::string name;
    std::vector<std::string> addresses; // newest entry first, as answered
};

struct StaleEntry {
    std::string network;
    std::string path;
    int line = 0;
    std::string container_id;
    std::string status; // "duplicate-id", "ip-reused", "shadowed"
    std::string reason;
    std::vector<std::string> shadowed_names;
    bool removable = false;
};

struct Upstream {
    std::string server; // ip:port
    bool down = false;
    unsigned failures = 0;       // consecutive, while down
    double retry_in_seconds = 0; // while down
};

using NamedCounts = std::vector<std::pair<std::string, std::uint64_t>>;

struct Counters {
    std::uint64_t queries = 0;
    std::uint64_t answered_locally = 0;
    std::uint64_t forwarded = 0;
    std::uint64_t forward_unanswered = 0;
    std::uint64_t dropped = 0;
    std::uint64_t self_checks = 0;
    NamedCounts by_type;               // only types seen, plus "other"
    NamedCounts by_rcode;              // only rcodes seen
    NamedCounts shed;                  // queries refused by a limit, by limit name
    std::uint64_t tcp_connections = 0; // open now
    std::uint64_t udp_forwards = 0;    // in flight now
    std::uint64_t query_log_suppressed = 0;
};

struct Cache {
    bool enabled = true;
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
    std::uint64_t hits = 0;
    std::uint64_t lookups = 0; // hits + forwards that went upstream
};

struct Reload {
    bool happened = false;
    std::string finished_at; // UTC, RFC 3339
    std::int64_t finished_at_unix = 0;
    std::int64_t duration_us = 0;
    bool ok = true;
    std::string error;
    std::vector<std::string> rebuilt_networks;
    bool held_back = false; // a file is still being written; a recheck is scheduled
    std::uint64_t passes = 0;
};

struct Report {
    std::string version;
    std::int64_t pid = 0;
    double uptime_seconds = 0;
    std::string config_dir;
    std::uint16_t port = 0;
    bool query_log = false;
    std::vector<Network> networks;
    std::vector<Listener> listeners;
    std::vector<Name> names;
    std::size_t names_omitted = 0; // beyond the report's cap
    std::vector<StaleEntry> stale;
    std::vector<Upstream> upstreams;
    Counters counters;
    Cache cache;
    Reload last_reload;
};

/// JSON text with a trailing newline; every string escaped (names come from files and clients).
std::string render_json(const Report& report);

/// The human table `ctrdns status` prints by default.
std::string render_text(const Report& report);

/// Prometheus text exposition format 0.0.4 (for node_exporter's textfile collector): counters
/// and gauges only, prefixed `ctrdns_`.
std::string render_prometheus(const Report& report);

/// `s` as a JSON string literal, quotes included. Bytes that are not valid UTF-8 are written
/// as \u00XX of their value, so the output is always valid JSON.
std::string json_string(std::string_view s);

} // namespace status
