#include "base/log.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <syslog.h>
#include <unistd.h>

#include "base/ascii.hpp"

namespace base::log {
namespace {

// The level and sink are process-wide by design (every module logs through free functions);
// atomics, so a reload thread may log while the io thread reads them.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<int> g_level{static_cast<int>(Level::Info)};
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<Sink> g_sink{Sink::Stderr};

constexpr std::array<std::string_view, 5> kNames{"error", "warn", "info", "debug", "trace"};

int syslog_priority(Level level) noexcept {
    switch (level) {
    case Level::Error:
        return LOG_ERR;
    case Level::Warn:
        return LOG_WARNING;
    case Level::Info:
        return LOG_INFO;
    case Level::Debug:
    case Level::Trace:
        return LOG_DEBUG;
    }
    return LOG_INFO;
}

} // namespace

std::optional<Level> parse_level(std::string_view text) noexcept {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        const std::string_view name = kNames[i];
        if (text.size() == name.size() &&
            std::equal(text.begin(), text.end(), name.begin(),
                       [](char a, char b) { return base::ascii_lower(a) == b; })) {
            return static_cast<Level>(i);
        }
    }
    return std::nullopt;
}

Level level_from_environment() {
    // Read in main before any thread exists.
    const char* value = std::getenv("RUST_LOG"); // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) {
        return Level::Info;
    }
    if (auto level = parse_level(value)) {
        return *level;
    }
    std::fputs("failed to parse RUST_LOG level: attempted to convert a string that doesn't match "
               "an existing log level\n",
               stderr);
    return Level::Info;
}

void set_level(Level level) noexcept {
    g_level.store(static_cast<int>(level));
}

Level current_level() noexcept {
    return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}

void open_syslog(const char* ident) noexcept {
    openlog(ident, LOG_NDELAY, LOG_USER);
}

void set_sink(Sink sink) noexcept {
    g_sink.store(sink);
}

void write(Level level, std::string_view message) noexcept {
    if (g_sink.load(std::memory_order_relaxed) == Sink::Syslog) {
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): syslog(3) has no other form
        syslog(syslog_priority(level), "%.*s", static_cast<int>(message.size()), message.data());
        return;
    }
    try {
        std::string line =
            fmt::format("[{}] {}\n", kNames.at(static_cast<std::size_t>(level)), message);
        // One write(2) per line so concurrent processes do not interleave mid-line.
        [[maybe_unused]] const auto written = ::write(STDERR_FILENO, line.data(), line.size());
    } catch (...) {
    }
}

} // namespace base::log
