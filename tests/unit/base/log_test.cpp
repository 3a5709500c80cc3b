#include <cstdlib>

#include <gtest/gtest.h>

#include "base/log.hpp"

namespace {

TEST(LogLevel, ParsesRustNamesCaseInsensitively) {
    EXPECT_EQ(logging::parse_level("error"), logging::Level::Error);
    EXPECT_EQ(logging::parse_level("WARN"), logging::Level::Warn);
    EXPECT_EQ(logging::parse_level("Info"), logging::Level::Info);
    EXPECT_EQ(logging::parse_level("debug"), logging::Level::Debug);
    EXPECT_EQ(logging::parse_level("TRACE"), logging::Level::Trace);
}

TEST(LogLevel, RejectsEverythingElse) {
    for (const char* text : {"", "off", "OFF", "netavark=debug", "warning", "info "}) {
        EXPECT_FALSE(logging::parse_level(text)) << text;
    }
}

TEST(LogLevel, EnvironmentDefaultsToInfo) {
    ::unsetenv("RUST_LOG");
    EXPECT_EQ(logging::level_from_environment(), logging::Level::Info);
    ::setenv("RUST_LOG", "OFF", 1);
    testing::internal::CaptureStderr();
    EXPECT_EQ(logging::level_from_environment(), logging::Level::Info);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "failed to parse RUST_LOG level: attempted to convert a string that doesn't match "
              "an existing log level\n");
    ::setenv("RUST_LOG", "debug", 1);
    EXPECT_EQ(logging::level_from_environment(), logging::Level::Debug);
    ::unsetenv("RUST_LOG");
}

TEST(LogLevel, EnabledFollowsLevel) {
    logging::set_level(logging::Level::Warn);
    EXPECT_TRUE(logging::enabled(logging::Level::Error));
    EXPECT_TRUE(logging::enabled(logging::Level::Warn));
    EXPECT_FALSE(logging::enabled(logging::Level::Info));
    logging::set_level(logging::Level::Info);
}

} // namespace
