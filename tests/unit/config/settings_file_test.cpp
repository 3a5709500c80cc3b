// Unit tests for config/settings_file: the ctrdns.conf grammar as a table of cases (text in,
// values and diagnostics out), layering, and where the files are looked for.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/settings_file.hpp"
#include "support/temp_dir.hpp"

namespace {

using config::parse_settings_file;
using config::Problem;
using config::SettingsEnvironment;
using config::SettingsFileResult;
using config::SettingsValues;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::string_view kPath = "/etc/containers/ctrdns.conf";

SettingsValues values(void (*set)(SettingsValues&)) {
    SettingsValues result;
    set(result);
    return result;
}

struct Case {
    const char* name;
    std::string_view text;
    SettingsValues expected;
    /// Each problem as `line:substring`, in order; empty = no problem.
    std::vector<std::string> problems;
    std::vector<std::string> rejected;
};

const std::vector<Case>& cases() {
    static const std::vector<Case> table{
        {"empty", "", {}, {}, {}},
        {"comments_and_blank_lines", "# all defaults\n\n   \n\t# indented comment\n", {}, {}, {}},
        {"every_key",
         "probe_liveness = true\ncache = false\ncache_max_entries = 500\n"
         "cache_max_bytes = 2M\ncache_max_ttl = 600\nmax_tcp_connections = 64\n"
         "max_udp_forwards = 128\ntcp_idle_timeout_ms = 1500\nmax_forwards_in_flight = 256\n"
         "health_probe_timeout_ms = 2000\nhealth_max_tracked = 16\n"
         "query_log = yes\nlog_level = debug\n",
         values([](SettingsValues& v) {
             v.probe_liveness = true;
             v.cache = false;
             v.cache_max_entries = 500;
             v.cache_max_bytes = 2U * 1024U * 1024U;
             v.cache_max_ttl = 600;
             v.max_tcp_connections = 64;
             v.max_udp_forwards = 128;
             v.tcp_idle_timeout_ms = 1500;
             v.max_forwards_in_flight = 256;
             v.health_probe_timeout_ms = 2000;
             v.health_max_tracked = 16;
             v.query_log = true;
             v.log_level = base::log::Level::Debug;
         }),
         {},
         {}},
        {"blanks_crlf_and_trailing_comment",
         "  cache\t=\tfalse   # no cache here\r\n",
         values([](SettingsValues& v) { v.cache = false; }),
         {},
         {}},
        {"no_blanks_around_equals",
         "cache=off\n",
         values([](SettingsValues& v) { v.cache = false; }),
         {},
         {}},
        {"toml_quotes_and_section",
         "[ctrdns]\nlog_level = \"WARN\"\nquery_log = 'on'\n",
         values([](SettingsValues& v) {
             v.log_level = base::log::Level::Warn;
             v.query_log = true;
         }),
         {},
         {}},
        {"boolean_spellings",
         "cache = 0\nprobe_liveness = On\nquery_log = FALSE\n",
         values([](SettingsValues& v) {
             v.cache = false;
             v.probe_liveness = true;
             v.query_log = false;
         }),
         {},
         {}},
        {"byte_suffixes",
         "cache_max_bytes = 64k\n",
         values([](SettingsValues& v) { v.cache_max_bytes = 64U * 1024U; }),
         {},
         {}},
        {"last_line_without_newline",
         "cache = false",
         values([](SettingsValues& v) { v.cache = false; }),
         {},
         {}},
        {"bad_bool_keeps_going",
         "cache = nope\nprobe_liveness = true\n",
         values([](SettingsValues& v) { v.probe_liveness = true; }),
         {"1:cache: expected true or false, got `nope`; ignored"},
         {"cache"}},
        {"unknown_key", "cahce = false\n", {}, {"1:unknown key `cahce`"}, {}},
        {"missing_equals", "\n\ncache false\n", {}, {"3:expected `key = value`"}, {}},
        {"missing_key", "= 3\n", {}, {"1:a key is missing"}, {}},
        {"missing_value",
         "max_tcp_connections =   \n",
         {},
         {"1:no value"},
         {"max_tcp_connections"}},
        {"unbalanced_quotes", "log_level = \"debug\n", {}, {"1:unbalanced quotes"}, {"log_level"}},
        {"bad_level", "log_level = verbose\n", {}, {"1:expected error, warn"}, {"log_level"}},
        {"rust_log_filter_is_not_a_level",
         "log_level = ctrdns=debug\n",
         {},
         {"1:log_level:"},
         {"log_level"}},
        {"not_a_number",
         "max_udp_forwards = 12x\n",
         {},
         {"1:expected a whole number"},
         {"max_udp_forwards"}},
        {"negative",
         "max_udp_forwards = -1\n",
         {},
         {"1:expected a whole number"},
         {"max_udp_forwards"}},
        {"zero_is_below_the_minimum",
         "max_tcp_connections = 0\n",
         {},
         {"1:max_tcp_connections: 0 is outside 1..1000000"},
         {"max_tcp_connections"}},
        {"probe_timeout_below_a_second",
         "health_probe_timeout_ms = 999\n",
         {},
         {"1:health_probe_timeout_ms: 999 is outside 1000..3600000"},
         {"health_probe_timeout_ms"}},
        {"above_the_maximum",
         "tcp_idle_timeout_ms = 99999999\n",
         {},
         {"1:is outside 100..3600000"},
         {"tcp_idle_timeout_ms"}},
        {"overflow",
         "cache_max_entries = 99999999999999999999999\n",
         {},
         {"1:expected a whole number"},
         {"cache_max_entries"}},
        {"suffix_overflow",
         "cache_max_bytes = 18446744073709551615G\n",
         {},
         {"1:expected a whole number (bytes"},
         {"cache_max_bytes"}},
        {"suffix_only_for_bytes",
         "cache_max_entries = 10k\n",
         {},
         {"1:expected a whole number"},
         {"cache_max_entries"}},
        {"repeated_key_later_wins",
         "cache = false\ncache = true\n",
         values([](SettingsValues& v) { v.cache = true; }),
         {"2:cache is already set on line 1; this line wins"},
         {}},
        {"other_section_ignored",
         "[podman]\ncache = false\n[ctrdns]\nquery_log = true\n",
         values([](SettingsValues& v) { v.query_log = true; }),
         {"1:unknown section [podman]", "2:is in section [podman]"},
         {}},
        {"broken_section_header",
         "[ctrdns\ncache = false\n",
         values([](SettingsValues& v) { v.cache = false; }),
         {"1:expected `[ctrdns]`"},
         {}},
        {"control_bytes_are_escaped",
         std::string_view("ke\x01y = 1\n"),
         {},
         {"1:unknown key `ke\\x01y`"},
         {}},
        {"keys_are_case_sensitive", "Cache = false\n", {}, {"1:unknown key `Cache`"}, {}},
    };
    return table;
}

class SettingsFileCase : public ::testing::TestWithParam<Case> {};

TEST_P(SettingsFileCase, ParsesAsExpected) {
    const Case& c = GetParam();
    const SettingsFileResult result = parse_settings_file(kPath, c.text);
    EXPECT_EQ(result.values, c.expected);
    ASSERT_EQ(result.problems.size(), c.problems.size())
        << (result.problems.empty() ? std::string() : result.problems.front().to_string());
    for (std::size_t i = 0; i < c.problems.size(); ++i) {
        const std::string& want = c.problems[i];
        const std::size_t colon = want.find(':');
        EXPECT_EQ(result.problems[i].path, kPath);
        EXPECT_EQ(std::to_string(result.problems[i].line), want.substr(0, colon));
        EXPECT_THAT(result.problems[i].message, HasSubstr(want.substr(colon + 1)));
    }
    EXPECT_EQ(result.rejected_keys, c.rejected);
}

INSTANTIATE_TEST_SUITE_P(Table, SettingsFileCase, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                             return std::string(param_info.param.name);
                         });

TEST(SettingsFile, ProblemTextNamesFileAndLine) {
    const auto result = parse_settings_file(kPath, "cache = false\ncache = maybe\n");
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].to_string(),
              "/etc/containers/ctrdns.conf:2: cache: expected true or false, got `maybe`; ignored");
}

TEST(SettingsFile, LongValuesAreShortenedInMessages) {
    const std::string text = "cache = " + std::string(5000, 'x') + "\n";
    const auto result = parse_settings_file(kPath, text);
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_LT(result.problems[0].message.size(), 200U);
}

TEST(SettingsValues, OverlayReplacesOnlyWhatTheLaterLayerSets) {
    SettingsValues system;
    system.cache = false;
    system.max_tcp_connections = 10;
    SettingsValues user;
    user.max_tcp_connections = 20;
    user.log_level = base::log::Level::Trace;
    system.overlay(user);
    EXPECT_EQ(system.cache, false);
    EXPECT_EQ(system.max_tcp_connections, 20U);
    EXPECT_EQ(system.log_level, base::log::Level::Trace);
    EXPECT_FALSE(system.probe_liveness.has_value());
}

TEST(SettingsValues, CopyKeyCopiesSetAndUnsetValues) {
    SettingsValues previous;
    previous.cache = false;
    SettingsValues next;
    next.cache = true;
    next.query_log = true;
    next.copy_key("cache", previous);
    next.copy_key("query_log", previous);
    next.copy_key("no_such_key", previous);
    EXPECT_EQ(next.cache, false);
    EXPECT_FALSE(next.query_log.has_value());
}

// ---- settings_file_paths ----

TEST(SettingsFilePaths, RootfulReadsTheSystemFileOnly) {
    SettingsEnvironment environment;
    environment.home = "/root";
    EXPECT_THAT(config::settings_file_paths(0, environment),
                ElementsAre("/etc/containers/ctrdns.conf"));
}

TEST(SettingsFilePaths, RootlessAddsTheUserFileFromHome) {
    SettingsEnvironment environment;
    environment.home = "/home/alice";
    EXPECT_THAT(
        config::settings_file_paths(1000, environment),
        ElementsAre("/etc/containers/ctrdns.conf", "/home/alice/.config/containers/ctrdns.conf"));
}

TEST(SettingsFilePaths, XdgConfigHomeWinsOverHome) {
    SettingsEnvironment environment;
    environment.home = "/home/alice";
    environment.xdg_config_home = "/home/alice/cfg";
    EXPECT_THAT(
        config::settings_file_paths(1000, environment),
        ElementsAre("/etc/containers/ctrdns.conf", "/home/alice/cfg/containers/ctrdns.conf"));
}

TEST(SettingsFilePaths, RootlessPodmansUserNamespaceCountsAsRootless) {
    // netavark runs as uid 0 inside rootless Podman's user namespace.
    SettingsEnvironment environment;
    environment.home = "/home/alice";
    environment.containers_userns = "done";
    EXPECT_THAT(
        config::settings_file_paths(0, environment),
        ElementsAre("/etc/containers/ctrdns.conf", "/home/alice/.config/containers/ctrdns.conf"));
}

TEST(SettingsFilePaths, RootlessWithoutHomeReadsTheSystemFileOnly) {
    EXPECT_THAT(config::settings_file_paths(1000, SettingsEnvironment{}),
                ElementsAre("/etc/containers/ctrdns.conf"));
}

TEST(SettingsFilePaths, CtrdnsConfReplacesTheList) {
    SettingsEnvironment environment;
    environment.home = "/home/alice";
    environment.ctrdns_conf = "/tmp/test.conf";
    EXPECT_THAT(config::settings_file_paths(1000, environment), ElementsAre("/tmp/test.conf"));
    environment.ctrdns_conf = "";
    EXPECT_EQ(config::settings_file_paths(0, environment).size(), 1U);
}

// ---- read_settings_file ----

class SettingsFileRead : public ::testing::Test {
protected:
    std::string write(std::string_view name, std::string_view text) {
        dir_.write(name, text);
        return dir_.file(name);
    }

    test_support::TempDir dir_;
};

TEST_F(SettingsFileRead, MissingFileIsNotAProblem) {
    const auto read = config::read_settings_file(dir_.file("absent.conf"));
    EXPECT_FALSE(read.found);
    EXPECT_THAT(read.result.problems, IsEmpty());
}

TEST_F(SettingsFileRead, ReadsAndParses) {
    const auto read = config::read_settings_file(write("a.conf", "cache = false\nx = 1\n"));
    EXPECT_TRUE(read.found);
    EXPECT_EQ(read.result.values.cache, false);
    ASSERT_EQ(read.result.problems.size(), 1U);
    EXPECT_EQ(read.result.problems[0].line, 2);
}

TEST_F(SettingsFileRead, DirectoryIsAProblemOnLineZero) {
    const auto read = config::read_settings_file(dir_.path());
    EXPECT_TRUE(read.found);
    ASSERT_EQ(read.result.problems.size(), 1U);
    EXPECT_EQ(read.result.problems[0].line, 0);
    EXPECT_THAT(read.result.problems[0].message, HasSubstr("not a regular file"));
}

TEST_F(SettingsFileRead, TooLargeIsRefused) {
    const auto read =
        config::read_settings_file(write("big.conf", std::string(70 * 1024, '#') + "\n"));
    ASSERT_EQ(read.result.problems.size(), 1U);
    EXPECT_THAT(read.result.problems[0].message, HasSubstr("larger than 64 KiB"));
}

TEST_F(SettingsFileRead, InvalidUtf8IsRefused) {
    const auto read = config::read_settings_file(write("bin.conf", "cache = \xff\n"));
    ASSERT_EQ(read.result.problems.size(), 1U);
    EXPECT_THAT(read.result.problems[0].message, HasSubstr("UTF-8"));
    EXPECT_FALSE(read.result.values.cache.has_value());
}

TEST_F(SettingsFileRead, DevNullIsAnEmptyFile) {
    const auto read = config::read_settings_file("/dev/null");
    EXPECT_TRUE(read.found);
    EXPECT_THAT(read.result.problems, IsEmpty());
    EXPECT_EQ(read.result.values, SettingsValues{});
}

TEST_F(SettingsFileRead, FifoDoesNotBlock) {
    const std::string path = dir_.file("fifo.conf");
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    const auto read = config::read_settings_file(path);
    ASSERT_EQ(read.result.problems.size(), 1U);
    EXPECT_THAT(read.result.problems[0].message, HasSubstr("not a regular file"));
}

} // namespace
