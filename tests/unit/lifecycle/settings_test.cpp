// Unit tests for daemon/settings: files layered in order, the command line winning, a bad value
// keeping the previous one on reload, and the change lines a SIGHUP logs.
#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lifecycle/settings.hpp"
#include "support/temp_dir.hpp"

namespace {

using lifecycle::describe_changes;
using lifecycle::load_settings;
using lifecycle::LoadedSettings;
using lifecycle::RuntimeOptions;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class Settings : public ::testing::Test {
protected:
    std::string file(const std::string& name, const std::string& text) {
        dir_.write(name, text);
        return dir_.path() + "/" + name;
    }

    test_support::TempDir dir_;
};

TEST_F(Settings, NoFileMeansTheModulesDefaults) {
    const LoadedSettings loaded = load_settings({dir_.path() + "/absent.conf"}, {}, {});
    EXPECT_THAT(loaded.problems, IsEmpty());
    EXPECT_THAT(loaded.files_read, IsEmpty());
    const RuntimeOptions defaults;
    EXPECT_TRUE(loaded.options.forwarder.cache_enabled);
    EXPECT_FALSE(loaded.options.probe_liveness);
    EXPECT_FALSE(loaded.options.query_log_default);
    EXPECT_EQ(loaded.options.limits.max_tcp_connections, defaults.limits.max_tcp_connections);
    EXPECT_EQ(loaded.options.forwarder.cache.max_entries, defaults.forwarder.cache.max_entries);
    EXPECT_EQ(loaded.options.log_level, base::log::Level::Info);
}

TEST_F(Settings, EveryKeyReachesItsModule) {
    const LoadedSettings loaded = load_settings(
        {file("a.conf", "probe_liveness = true\ncache = false\ncache_max_entries = 7\n"
                        "cache_max_bytes = 1M\ncache_max_ttl = 60\nmax_tcp_connections = 5\n"
                        "max_udp_forwards = 6\ntcp_idle_timeout_ms = 900\n"
                        "max_forwards_in_flight = 8\nquery_log = true\nlog_level = trace\n"
                        "health_probe_timeout_ms = 4000\nhealth_max_tracked = 9\n")},
        {}, {});
    EXPECT_THAT(loaded.problems, IsEmpty());
    const RuntimeOptions& options = loaded.options;
    EXPECT_TRUE(options.probe_liveness);
    EXPECT_FALSE(options.forwarder.cache_enabled);
    EXPECT_EQ(options.forwarder.cache.max_entries, 7U);
    EXPECT_EQ(options.forwarder.cache.max_bytes, 1024U * 1024U);
    EXPECT_EQ(options.forwarder.cache.max_ttl, std::chrono::seconds{60});
    EXPECT_EQ(options.limits.max_tcp_connections, 5U);
    EXPECT_EQ(options.limits.max_udp_forwards, 6U);
    EXPECT_EQ(options.limits.tcp_idle_timeout, std::chrono::milliseconds{900});
    EXPECT_EQ(options.forwarder.max_in_flight, 8U);
    EXPECT_EQ(options.forwarder.health.probe_timeout, std::chrono::milliseconds{4000});
    EXPECT_EQ(options.forwarder.health.max_tracked, 9U);
    EXPECT_TRUE(options.query_log_default);
    EXPECT_EQ(options.log_level, base::log::Level::Trace);
}

TEST_F(Settings, UserFileOverridesSystemFileKeyByKey) {
    const LoadedSettings loaded =
        load_settings({file("system.conf", "cache = false\nmax_tcp_connections = 10\n"),
                       file("user.conf", "max_tcp_connections = 20\n")},
                      {}, {});
    EXPECT_FALSE(loaded.options.forwarder.cache_enabled);
    EXPECT_EQ(loaded.options.limits.max_tcp_connections, 20U);
    EXPECT_EQ(loaded.files_read.size(), 2U);
}

TEST_F(Settings, CommandLineWins) {
    config::SettingsValues command_line;
    command_line.cache = false;
    command_line.probe_liveness = true;
    command_line.log_level = base::log::Level::Error;
    const LoadedSettings loaded =
        load_settings({file("a.conf", "cache = true\nprobe_liveness = false\nlog_level = debug\n")},
                      command_line, {});
    EXPECT_FALSE(loaded.options.forwarder.cache_enabled);
    EXPECT_TRUE(loaded.options.probe_liveness);
    EXPECT_EQ(loaded.options.log_level, base::log::Level::Error);
    // What the files said is kept apart, for the next reload.
    EXPECT_EQ(loaded.file_values.cache, true);
}

TEST_F(Settings, BadValueOnReloadKeepsThePreviousValue) {
    const std::string path = file("a.conf", "cache = false\nmax_udp_forwards = 40\n");
    const LoadedSettings first = load_settings({path}, {}, {});
    ASSERT_FALSE(first.options.forwarder.cache_enabled);

    file("a.conf", "cache = flase\n"); // a typo, and max_udp_forwards removed
    const LoadedSettings second = load_settings({path}, {}, first.file_values);
    ASSERT_EQ(second.problems.size(), 1U);
    EXPECT_EQ(second.problems[0].line, 1);
    EXPECT_FALSE(second.options.forwarder.cache_enabled) << "kept from before";
    EXPECT_EQ(second.options.limits.max_udp_forwards, RuntimeOptions{}.limits.max_udp_forwards)
        << "a removed key goes back to its default";
}

TEST_F(Settings, BadValueAtStartMeansTheDefault) {
    const LoadedSettings loaded = load_settings({file("a.conf", "cache = flase\n")}, {}, {});
    EXPECT_TRUE(loaded.options.forwarder.cache_enabled);
    EXPECT_EQ(loaded.problems.size(), 1U);
}

TEST_F(Settings, LaterFileSettlesAKeyAnEarlierFileGotWrong) {
    config::SettingsValues previous;
    previous.cache = true;
    const LoadedSettings loaded = load_settings(
        {file("system.conf", "cache = maybe\n"), file("user.conf", "cache = false\n")}, {},
        previous);
    EXPECT_FALSE(loaded.options.forwarder.cache_enabled);
}

TEST_F(Settings, UnreadableFileIsReportedAndSkipped) {
    const LoadedSettings loaded =
        load_settings({dir_.path(), file("b.conf", "query_log = on\n")}, {}, {});
    ASSERT_EQ(loaded.problems.size(), 1U);
    EXPECT_EQ(loaded.problems[0].line, 0);
    EXPECT_TRUE(loaded.options.query_log_default);
}

TEST(SettingsChanges, OneLinePerChangedSetting) {
    RuntimeOptions before;
    RuntimeOptions after = before;
    EXPECT_THAT(describe_changes(before, after), IsEmpty());
    after.forwarder.cache_enabled = false;
    after.limits.tcp_idle_timeout = std::chrono::milliseconds{500};
    after.log_level = base::log::Level::Debug;
    EXPECT_THAT(describe_changes(before, after),
                ElementsAre("cache: on -> off", "tcp_idle_timeout_ms: 3000 -> 500",
                            "log_level: info -> debug"));
}

} // namespace
