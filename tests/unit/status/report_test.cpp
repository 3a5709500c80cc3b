#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "status/report.hpp"

namespace {

status::Report sample_report() {
    status::Report report;
    report.version = "0.1.0";
    report.pid = 42;
    report.uptime_seconds = 75.5;
    report.config_dir = "/run/containers/networks/aardvark-dns";
    report.port = 53;
    report.networks.push_back({"podman", false, {"10.88.0.1"}, 2});
    report.listeners.push_back({"podman", "10.88.0.1", 53, true, "ok", ""});
    report.listeners.push_back(
        {"podman", "fd00::1", 53, false, "other-process", "another process answered"});
    report.names.push_back({"podman", "web", {"10.88.0.5", "fd00::5"}});
    report.stale.push_back({"podman",
                            "/x/podman",
                            3,
                            "abc",
                            "shadowed",
                            "name \"web\" answered by a newer line",
                            {"web"},
                            true});
    report.upstreams.push_back({"127.0.0.53:53", true, 2, 29.5});
    report.counters.queries = 7;
    report.counters.answered_locally = 5;
    report.counters.by_type = {{"A", 6}, {"AAAA", 1}};
    report.counters.by_rcode = {{"NOERROR", 5}};
    report.counters.shed = {{"forwarder_in_flight", 0}};
    report.cache.hits = 1;
    report.cache.lookups = 4;
    report.last_reload.happened = true;
    report.last_reload.finished_at = "2026-01-02T03:04:05Z";
    report.last_reload.finished_at_unix = 1767323045;
    report.last_reload.duration_us = 812;
    report.last_reload.rebuilt_networks = {"podman"};
    report.last_reload.passes = 3;
    return report;
}

TEST(StatusReport, JsonEscapesEveryStringItPrints) {
    EXPECT_EQ(status::json_string("plain"), "\"plain\"");
    EXPECT_EQ(status::json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(status::json_string("line\nbreak\ttab\x01"), "\"line\\nbreak\\ttab\\u0001\"");
    EXPECT_EQ(status::json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\""); // valid UTF-8 kept
    EXPECT_EQ(status::json_string("bad\xff\xc3"), "\"bad\\u00ff\\u00c3\"");
    EXPECT_EQ(status::json_string("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\""); // surrogate
    EXPECT_EQ(status::json_string("\xc0\xaf"), "\"\\u00c0\\u00af\"");            // overlong
}

TEST(StatusReport, JsonHasEveryPart) {
    const std::string json = status::render_json(sample_report());
    for (const char* part :
         {"\"version\": \"0.1.0\"", "\"pid\": 42", "\"port\": 53", "\"query_log\": false",
          "{\"name\": \"podman\", \"internal\": false, \"listen_addresses\": [\"10.88.0.1\"], "
          "\"entries\": 2}",
          "\"address\": \"fd00::1\", \"port\": 53, \"bound\": false, \"self_check\": "
          "\"other-process\"",
          "{\"network\": \"podman\", \"name\": \"web\", \"addresses\": [\"10.88.0.5\", "
          "\"fd00::5\"]}",
          "\"reason\": \"name \\\"web\\\" answered by a newer line\"",
          "{\"server\": \"127.0.0.53:53\", \"down\": true, \"failures\": 2, "
          "\"retry_in_seconds\": 29.5}",
          "\"queries\": 7", "\"by_type\": {\"A\": 6, \"AAAA\": 1}",
          "\"shed\": {\"forwarder_in_flight\": 0}", "\"hit_rate\": 0.2500", "\"duration_us\": 812",
          "\"rebuilt_networks\": [\"podman\"]"}) {
        EXPECT_NE(json.find(part), std::string::npos) << part << "\n" << json;
    }
    EXPECT_EQ(json.back(), '\n');
    status::Report empty;
    const std::string minimal = status::render_json(empty);
    EXPECT_NE(minimal.find("\"networks\": [],"), std::string::npos) << minimal;
    EXPECT_NE(minimal.find("\"last_reload\": null"), std::string::npos) << minimal;
}

// The exposition format's two line shapes, checked by hand: std::regex trips gcc 12's
// -Wmaybe-uninitialized at -O2 (the asan preset builds tests with -Werror).
bool take_metric_name(std::string_view& rest) {
    if (!rest.starts_with("ctrdns_")) {
        return false;
    }
    rest.remove_prefix(7);
    const std::size_t end = rest.find_first_not_of("abcdefghijklmnopqrstuvwxyz_");
    if (end == 0) {
        return false;
    }
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    return true;
}

// `# HELP|TYPE ctrdns_name text`
bool is_prometheus_comment(std::string_view line) {
    if (!line.starts_with("# HELP ") && !line.starts_with("# TYPE ")) {
        return false;
    }
    line.remove_prefix(7);
    return take_metric_name(line) && line.size() > 1 && line.front() == ' ';
}

// `ctrdns_name{label="escaped value"} number` (the label part optional)
bool is_prometheus_sample(std::string_view line) {
    if (!take_metric_name(line)) {
        return false;
    }
    if (line.starts_with("{")) {
        line.remove_prefix(1);
        const std::size_t label_end = line.find_first_not_of("abcdefghijklmnopqrstuvwxyz");
        if (label_end == 0 || label_end == std::string_view::npos ||
            line.substr(label_end, 2) != "=\"") {
            return false;
        }
        line.remove_prefix(label_end + 2);
        for (;;) {
            if (line.empty()) {
                return false;
            }
            const char c = line.front();
            line.remove_prefix(1);
            if (c == '"') {
                break;
            }
            if (c == '\\') {
                if (line.empty() ||
                    (line.front() != '"' && line.front() != '\\' && line.front() != 'n')) {
                    return false;
                }
                line.remove_prefix(1);
            }
        }
        if (!line.starts_with("}")) {
            return false;
        }
        line.remove_prefix(1);
    }
    if (!line.starts_with(" ")) {
        return false;
    }
    line.remove_prefix(1);
    if (line.starts_with("-")) {
        line.remove_prefix(1);
    }
    return !line.empty() && line.find_first_not_of("0123456789.e+") == std::string_view::npos;
}

TEST(StatusReport, PrometheusLineCheckerRejectsMalformedLines) {
    EXPECT_TRUE(is_prometheus_sample(R"(ctrdns_queries_total{type="a\"b"} 12)"));
    EXPECT_FALSE(is_prometheus_sample(R"(ctrdns_queries_total{type="ab} 12)"));
    EXPECT_FALSE(is_prometheus_sample("ctrdns_queries_total 1 2"));
    EXPECT_FALSE(is_prometheus_sample("other_total 1"));
    EXPECT_FALSE(is_prometheus_comment("# HELP ctrdns_x"));
}

TEST(StatusReport, PrometheusLinesFollowTheTextFormat) {
    status::Report report = sample_report();
    report.version = "x\"y\\z\n";
    const std::string text = status::render_prometheus(report);
    std::istringstream lines(text);
    std::string line;
    int samples = 0;
    while (std::getline(lines, line)) {
        if (line.starts_with("#")) {
            EXPECT_TRUE(is_prometheus_comment(line)) << line;
        } else {
            EXPECT_TRUE(is_prometheus_sample(line)) << line;
            ++samples;
        }
    }
    EXPECT_GT(samples, 20);
    EXPECT_NE(text.find("ctrdns_build_info{version=\"x\\\"y\\\\z\\n\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("ctrdns_queries_total 7\n"), std::string::npos);
    EXPECT_NE(text.find("ctrdns_queries_by_type_total{type=\"AAAA\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("ctrdns_listeners_unbound 1\n"), std::string::npos);
    EXPECT_NE(text.find("ctrdns_last_reload_duration_seconds 0.000812\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE ctrdns_queries_total counter\n"), std::string::npos);
}

TEST(StatusReport, TextShowsTablesAndSummaries) {
    const std::string text = status::render_text(sample_report());
    for (const char* part :
         {"ctrdns 0.1.0, pid 42, up 1m15s, port 53", "query log: off",
          "last reload: 2026-01-02T03:04:05Z took 812 us: ok, rebuilt podman",
          "LISTENER      NETWORK  BOUND  SELF-QUERY",
          "[fd00::1]:53  podman   NO     other-process (another process answered)",
          "web   podman   10.88.0.5,fd00::5", "down (2 failure(s), retry in 30 s)",
          "by type: A 6, AAAA 1", "cache: 0 answer(s), 0 bytes, hit rate 25.0% (1 of 4)"}) {
        EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
    }
}

} // namespace
