#include "status/report.hpp"

#include <algorithm>
#include <cstddef>

#include <fmt/format.h>

namespace status {
namespace {

/// Length of the valid UTF-8 sequence starting at `s[at]`, or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t at) noexcept {
    const auto lead = static_cast<unsigned char>(s[at]);
    std::size_t length = 0;
    unsigned min_value = 0;
    unsigned value = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        min_value = 0x80;
        value = lead & 0x1FU;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        min_value = 0x800;
        value = lead & 0x0FU;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        min_value = 0x10000;
        value = lead & 0x07U;
    } else {
        return 0;
    }
    if (at + length > s.size()) {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(s[at + i]);
        if ((next & 0xC0U) != 0x80U) {
            return 0;
        }
        value = (value << 6U) | (next & 0x3FU);
    }
    if (value < min_value || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return 0;
    }
    return length;
}

std::string json_strings(const std::vector<std::string>& values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += (i == 0 ? "" : ", ") + json_string(values[i]);
    }
    return out + "]";
}

std::string json_counts(const NamedCounts& counts) {
    std::string out = "{";
    for (std::size_t i = 0; i < counts.size(); ++i) {
        out += fmt::format("{}{}: {}", i == 0 ? "" : ", ", json_string(counts[i].first),
                           counts[i].second);
    }
    return out + "}";
}

const char* json_bool(bool value) {
    return value ? "true" : "false";
}

double hit_rate(const Cache& cache) {
    return cache.lookups == 0
               ? 0.0
               : static_cast<double>(cache.hits) / static_cast<double>(cache.lookups);
}

std::string duration_text(double seconds) {
    auto total = static_cast<std::int64_t>(seconds);
    const std::int64_t days = total / 86400;
    const std::int64_t hours = total / 3600 % 24;
    const std::int64_t minutes = total / 60 % 60;
    const std::int64_t secs = total % 60;
    if (days > 0) {
        return fmt::format("{}d{}h{}m", days, hours, minutes);
    }
    if (hours > 0) {
        return fmt::format("{}h{}m{}s", hours, minutes, secs);
    }
    if (minutes > 0) {
        return fmt::format("{}m{}s", minutes, secs);
    }
    return fmt::format("{:.1f}s", seconds);
}

/// Left-aligned columns two spaces apart; the header row first.
std::string table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line.append(widths[i] - row[i].size() + 2, ' ');
            }
        }
        out += line + "\n";
    }
    return out;
}

std::string joined(const std::vector<std::string>& values, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += (i == 0 ? std::string() : std::string(separator)) + values[i];
    }
    return out;
}

std::string counts_text(const NamedCounts& counts) {
    if (counts.empty()) {
        return "none";
    }
    std::vector<std::string> parts;
    for (const auto& [name, value] : counts) {
        parts.push_back(fmt::format("{} {}", name, value));
    }
    return joined(parts, ", ");
}

/// Prometheus label values escape backslash, double quote and newline.
std::string label_value(std::string_view value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

class Exposition {
public:
    void metric(std::string_view name, std::string_view type, std::string_view help) {
        out_ += fmt::format("# HELP ctrdns_{} {}\n# TYPE ctrdns_{} {}\n", name, help, name, type);
    }

    void sample(std::string_view name, double value) {
        out_ += fmt::format("ctrdns_{} {}\n", name, value);
    }

    void sample(std::string_view name, std::string_view label, std::string_view label_text,
                double value) {
        out_ +=
            fmt::format("ctrdns_{}{{{}=\"{}\"}} {}\n", name, label, label_value(label_text), value);
    }

    void single(std::string_view name, std::string_view type, std::string_view help, double value) {
        metric(name, type, help);
        sample(name, value);
    }

    void labelled(std::string_view name, std::string_view type, std::string_view help,
                  std::string_view label, const NamedCounts& counts) {
        metric(name, type, help);
        for (const auto& [text, value] : counts) {
            sample(name, label, text, static_cast<double>(value));
        }
    }

    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

} // namespace

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F) {
            out += fmt::format("\\u{:04x}", c);
        } else if (c >= 0x80) {
            const std::size_t length = utf8_sequence(s, i);
            if (length == 0) {
                out += fmt::format("\\u{:04x}", c);
            } else {
                out.append(s.substr(i, length));
                i += length;
                continue;
            }
        } else {
            out += static_cast<char>(c);
        }
        ++i;
    }
    return out + "\"";
}

std::string render_json(const Report& report) {
    std::string out = "{\n";
    out += fmt::format("  \"version\": {},\n  \"pid\": {},\n  \"uptime_seconds\": {:.3f},\n",
                       json_string(report.version), report.pid, report.uptime_seconds);
    out += fmt::format("  \"config_dir\": {},\n  \"port\": {},\n  \"query_log\": {},\n",
                       json_string(report.config_dir), report.port, json_bool(report.query_log));

    out += "  \"networks\": [";
    for (std::size_t i = 0; i < report.networks.size(); ++i) {
        const Network& network = report.networks[i];
        out +=
            fmt::format("{}\n    {{\"name\": {}, \"internal\": {}, \"listen_addresses\": {}, "
                        "\"entries\": {}}}",
                        i == 0 ? "" : ",", json_string(network.name), json_bool(network.internal),
                        json_strings(network.listen_addresses), network.entries);
    }
    out += report.networks.empty() ? "],\n" : "\n  ],\n";

    out += "  \"listeners\": [";
    for (std::size_t i = 0; i < report.listeners.size(); ++i) {
        const Listener& listener = report.listeners[i];
        out += fmt::format("{}\n    {{\"network\": {}, \"address\": {}, \"port\": {}, \"bound\": "
                           "{}, \"self_check\": {}, \"detail\": {}}}",
                           i == 0 ? "" : ",", json_string(listener.network),
                           json_string(listener.address), listener.port, json_bool(listener.bound),
                           json_string(listener.self_check), json_string(listener.detail));
    }
    out += report.listeners.empty() ? "],\n" : "\n  ],\n";

    out += "  \"names\": [";
    for (std::size_t i = 0; i < report.names.size(); ++i) {
        const Name& name = report.names[i];
        out += fmt::format("{}\n    {{\"network\": {}, \"name\": {}, \"addresses\": {}}}",
                           i == 0 ? "" : ",", json_string(name.network), json_string(name.name),
                           json_strings(name.addresses));
    }
    out += report.names.empty() ? "],\n" : "\n  ],\n";
    out += fmt::format("  \"names_omitted\": {},\n", report.names_omitted);

    out += "  \"stale\": [";
    for (std::size_t i = 0; i < report.stale.size(); ++i) {
        const StaleEntry& entry = report.stale[i];
        out += fmt::format("{}\n    {{\"network\": {}, \"path\": {}, \"line\": {}, "
                           "\"container_id\": {}, \"status\": {}, \"reason\": {}, "
                           "\"shadowed_names\": {}, \"removable\": {}}}",
                           i == 0 ? "" : ",", json_string(entry.network), json_string(entry.path),
                           entry.line, json_string(entry.container_id), json_string(entry.status),
                           json_string(entry.reason), json_strings(entry.shadowed_names),
                           json_bool(entry.removable));
    }
    out += report.stale.empty() ? "],\n" : "\n  ],\n";

    out += "  \"upstreams\": [";
    for (std::size_t i = 0; i < report.upstreams.size(); ++i) {
        const Upstream& upstream = report.upstreams[i];
        out += fmt::format("{}\n    {{\"server\": {}, \"down\": {}, \"failures\": {}, "
                           "\"retry_in_seconds\": {:.1f}}}",
                           i == 0 ? "" : ",", json_string(upstream.server),
                           json_bool(upstream.down), upstream.failures, upstream.retry_in_seconds);
    }
    out += report.upstreams.empty() ? "],\n" : "\n  ],\n";

    const Counters& counters = report.counters;
    out += fmt::format(
        "  \"counters\": {{\n    \"queries\": {},\n    \"answered_locally\": {},\n"
        "    \"forwarded\": {},\n    \"forward_unanswered\": {},\n    \"dropped\": {},\n"
        "    \"self_checks\": {},\n    \"by_type\": {},\n    \"by_rcode\": {},\n"
        "    \"shed\": {},\n    \"tcp_connections\": {},\n    \"udp_forwards_in_flight\": {},\n"
        "    \"query_log_suppressed\": {}\n  }},\n",
        counters.queries, counters.answered_locally, counters.forwarded,
        counters.forward_unanswered, counters.dropped, counters.self_checks,
        json_counts(counters.by_type), json_counts(counters.by_rcode), json_counts(counters.shed),
        counters.tcp_connections, counters.udp_forwards, counters.query_log_suppressed);

    const Cache& cache = report.cache;
    out += fmt::format("  \"cache\": {{\"enabled\": {}, \"entries\": {}, \"bytes\": {}, "
                       "\"hits\": {}, \"lookups\": {}, \"hit_rate\": {:.4f}}},\n",
                       json_bool(cache.enabled), cache.entries, cache.bytes, cache.hits,
                       cache.lookups, hit_rate(cache));

    const Reload& reload = report.last_reload;
    if (!reload.happened) {
        out += "  \"last_reload\": null\n";
    } else {
        out +=
            fmt::format("  \"last_reload\": {{\"finished_at\": {}, \"duration_us\": {}, "
                        "\"ok\": {}, \"error\": {}, \"rebuilt_networks\": {}, "
                        "\"held_back\": {}, \"passes\": {}}}\n",
                        json_string(reload.finished_at), reload.duration_us, json_bool(reload.ok),
                        json_string(reload.error), json_strings(reload.rebuilt_networks),
                        json_bool(reload.held_back), reload.passes);
    }
    out += "}\n";
    return out;
}

std::string render_text(const Report& report) {
    std::string out = fmt::format("ctrdns {}, pid {}, up {}, port {}\nconfig: {}\nquery log: {}\n",
                                  report.version, report.pid, duration_text(report.uptime_seconds),
                                  report.port, report.config_dir, report.query_log ? "on" : "off");
    const Reload& reload = report.last_reload;
    if (reload.happened) {
        out += fmt::format("last reload: {} took {} us: {}{}{}\n", reload.finished_at,
                           reload.duration_us, reload.ok ? "ok" : "failed: " + reload.error,
                           reload.rebuilt_networks.empty()
                               ? std::string(", nothing changed")
                               : ", rebuilt " + joined(reload.rebuilt_networks, ", "),
                           reload.held_back ? " (a file is still being written)" : "");
    }

    std::vector<std::vector<std::string>> rows{{"NETWORK", "INTERNAL", "ENTRIES", "LISTEN"}};
    for (const Network& network : report.networks) {
        rows.push_back({network.name, network.internal ? "yes" : "no",
                        std::to_string(network.entries), joined(network.listen_addresses, ",")});
    }
    out += "\n" + table(rows);

    rows = {{"LISTENER", "NETWORK", "BOUND", "SELF-QUERY"}};
    for (const Listener& listener : report.listeners) {
        std::string address = listener.address.find(':') == std::string::npos
                                  ? listener.address
                                  : "[" + listener.address + "]";
        rows.push_back({fmt::format("{}:{}", address, listener.port), listener.network,
                        listener.bound ? "yes" : "NO",
                        listener.detail.empty()
                            ? listener.self_check
                            : fmt::format("{} ({})", listener.self_check, listener.detail)});
    }
    out += "\n" + table(rows);

    rows = {{"NAME", "NETWORK", "ADDRESSES"}};
    for (const Name& name : report.names) {
        rows.push_back({name.name, name.network, joined(name.addresses, ",")});
    }
    out += "\n" + table(rows);
    if (report.names_omitted > 0) {
        out += fmt::format("... and {} more name(s) (see --json)\n", report.names_omitted);
    }

    if (report.stale.empty()) {
        out += "\nstale entries: none\n";
    } else {
        rows = {{"STALE", "NETWORK", "LINE", "REASON"}};
        for (const StaleEntry& entry : report.stale) {
            // The file name is enough beside the network (the JSON has the full path).
            const std::size_t slash = entry.path.rfind('/');
            const std::string file =
                slash == std::string::npos ? entry.path : entry.path.substr(slash + 1);
            rows.push_back({entry.status, entry.network, fmt::format("{}:{}", file, entry.line),
                            entry.reason});
        }
        out += "\n" + table(rows);
    }

    if (report.upstreams.empty()) {
        out += "\nupstreams: none\n";
    } else {
        rows = {{"UPSTREAM", "STATE"}};
        for (const Upstream& upstream : report.upstreams) {
            rows.push_back(
                {upstream.server, upstream.down
                                      ? fmt::format("down ({} failure(s), retry in {:.0f} s)",
                                                    upstream.failures, upstream.retry_in_seconds)
                                      : std::string("up")});
        }
        out += "\n" + table(rows);
    }

    const Counters& counters = report.counters;
    out += fmt::format("\nqueries: {} (answered locally {}, forwarded {}, of which unanswered "
                       "{}, dropped {})\n",
                       counters.queries, counters.answered_locally, counters.forwarded,
                       counters.forward_unanswered, counters.dropped);
    out += fmt::format("by type: {}\nby rcode: {}\nshed by a limit: {}\n",
                       counts_text(counters.by_type), counts_text(counters.by_rcode),
                       counts_text(counters.shed));
    const Cache& cache = report.cache;
    if (cache.enabled) {
        out += fmt::format("cache: {} answer(s), {} bytes, hit rate {:.1f}% ({} of {})\n",
                           cache.entries, cache.bytes, 100.0 * hit_rate(cache), cache.hits,
                           cache.lookups);
    } else {
        out += "cache: off\n";
    }
    return out;
}

std::string render_prometheus(const Report& report) {
    Exposition out;
    out.metric("build_info", "gauge", "Version of the running ctrdns.");
    out.sample("build_info", "version", report.version, 1);
    out.single("uptime_seconds", "gauge", "Seconds since the daemon started.",
               report.uptime_seconds);
    const Counters& counters = report.counters;
    out.single("queries_total", "counter", "DNS queries received (UDP datagrams, TCP messages).",
               static_cast<double>(counters.queries));
    out.labelled("queries_by_type_total", "counter", "DNS queries by question type.", "type",
                 counters.by_type);
    out.labelled("responses_by_rcode_total", "counter", "Replies sent, by response code.", "rcode",
                 counters.by_rcode);
    out.single("answered_locally_total", "counter", "Replies built by ctrdns itself.",
               static_cast<double>(counters.answered_locally));
    out.single("forwarded_total", "counter", "Forwarded queries that finished.",
               static_cast<double>(counters.forwarded));
    out.single("forward_unanswered_total", "counter",
               "Forwarded queries no upstream answered (no reply sent).",
               static_cast<double>(counters.forward_unanswered));
    out.single("dropped_total", "counter", "Queries that got no reply by policy.",
               static_cast<double>(counters.dropped));
    out.labelled("shed_total", "counter", "Queries refused by a limit, by limit.", "limit",
                 counters.shed);
    out.single("tcp_connections", "gauge", "Open TCP client connections.",
               static_cast<double>(counters.tcp_connections));
    out.single("udp_forwards_in_flight", "gauge", "UDP queries waiting for an upstream.",
               static_cast<double>(counters.udp_forwards));
    const Cache& cache = report.cache;
    out.single("cache_entries", "gauge", "Upstream answers cached.",
               static_cast<double>(cache.entries));
    out.single("cache_bytes", "gauge", "Bytes held by the answer cache.",
               static_cast<double>(cache.bytes));
    out.single("cache_hits_total", "counter", "Forwarded queries answered from the cache.",
               static_cast<double>(cache.hits));
    out.single("cache_lookups_total", "counter",
               "Forwarded queries (cache hits plus queries sent upstream).",
               static_cast<double>(cache.lookups));
    std::size_t down = 0;
    for (const Upstream& upstream : report.upstreams) {
        down += upstream.down ? 1 : 0;
    }
    out.single("upstreams_down", "gauge", "Upstream servers in back-off.",
               static_cast<double>(down));
    out.single("names", "gauge", "Names served.",
               static_cast<double>(report.names.size() + report.names_omitted));
    out.single("stale_entries", "gauge", "Entry lines the stale-entry rules dropped or shadowed.",
               static_cast<double>(report.stale.size()));
    std::size_t unbound = 0;
    for (const Listener& listener : report.listeners) {
        unbound += listener.bound ? 0 : 1;
    }
    out.single("listeners_unbound", "gauge", "Listen addresses that failed to bind.",
               static_cast<double>(unbound));
    out.single("query_log_enabled", "gauge", "1 while the query log is on.",
               report.query_log ? 1 : 0);
    const Reload& reload = report.last_reload;
    if (reload.happened) {
        out.single("last_reload_timestamp_seconds", "gauge",
                   "When the last reload pass finished (Unix time).",
                   static_cast<double>(reload.finished_at_unix));
        out.single("last_reload_duration_seconds", "gauge", "How long the last reload pass took.",
                   static_cast<double>(reload.duration_us) / 1e6);
        out.single("last_reload_success", "gauge",
                   "1 when the last reload pass read the directory.", reload.ok ? 1 : 0);
        out.single("reload_passes_total", "counter", "Reload passes run since start.",
                   static_cast<double>(reload.passes));
    }
    return out.take();
}

} // namespace status
