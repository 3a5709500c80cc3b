#include <cstdlib>

#include <gtest/gtest.h>

#include "base/log.hpp"

namespace {

TEST(LogLevel, ParsesRustNamesCaseInsensitively) {
    EXPECT_EQ(base::log::parse_level("error"), base::log::Level::Error);
    EXPECT_EQ(base::log::parse_level("WARN"), base::log::Level::Warn);
    EXPECT_EQ(base::log::parse_level("Info"), base::log::Level::Info);
    EXPECT_EQ(base::log::parse_level("debug"), base::log::Level::Debug);
    EXPECT_EQ(base::log::parse_level("TRACE"), base::log::Level::Trace);
}

TEST(LogLevel, RejectsEverythingElse) {
    for (const char* text : {"", "off", "OFF", "netavark=debug", "warning", "info "}) {
        EXPECT_FALSE(base::log::parse_level(text)) << text;
    }
}

TEST(LogLevel, EnvironmentDefaultsToInfo) {
    ::unsetenv("RUST_LOG");
    EXPECT_EQ(base::log::level_from_environment(), base::log::Level::Info);
    ::setenv("RUST_LOG", "OFF", 1);
    testing::internal::CaptureStderr();
    EXPECT_EQ(base::log::level_from_environment(), base::log::Level::Info);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "failed to parse RUST_LOG level: attempted to convert a string that doesn't match "
              "an existing log level\n");
    ::setenv("RUST_LOG", "debug", 1);
    EXPECT_EQ(base::log::level_from_environment(), base::log::Level::Debug);
    ::unsetenv("RUST_LOG");
}

TEST(LogLevel, EnabledFollowsLevel) {
    base::log::set_level(base::log::Level::Warn);
    EXPECT_TRUE(base::log::enabled(base::log::Level::Error));
    EXPECT_TRUE(base::log::enabled(base::log::Level::Warn));
    EXPECT_FALSE(base::log::enabled(base::log::Level::Info));
    base::log::set_level(base::log::Level::Info);
}

} // namespace
