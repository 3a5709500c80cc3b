// base/: the logging facade (level from RUST_LOG, sink syslog or stderr). Depends only on fmt.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace base::log {

enum class Level : int {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
    Trace = 4
};

enum class Sink {
    Stderr,
    Syslog
};

/// Parses one level name, case-insensitively (`error|warn|info|debug|trace`), as Rust's
/// `log::Level::from_str` does. Anything else (empty, `off`, `x=debug`) is nullopt.
std::optional<Level> parse_level(std::string_view text) noexcept;

/// Reads RUST_LOG like aardvark-dns: unset means Info; an invalid value prints aardvark's
/// message to stderr and also means Info.
Level level_from_environment();

void set_level(Level level) noexcept;

Level current_level() noexcept;

inline bool enabled(Level level) noexcept {
    return static_cast<int>(level) <= static_cast<int>(current_level());
}

/// Opens the syslog connection now (LOG_NDELAY), so the fd exists before any fork or chroot.
void open_syslog(const char* ident) noexcept;

void set_sink(Sink sink) noexcept;

void write(Level level, std::string_view message) noexcept;

template <typename... Args>
void log(Level level, fmt::format_string<Args...> format, Args&&... args) noexcept {
    if (!enabled(level)) {
        return;
    }
    try {
        write(level, fmt::format(format, std::forward<Args>(args)...));
    } catch (...) {
        // Logging must never take the daemon down (bad_alloc while formatting).
    }
}

template <typename... Args>
void error(fmt::format_string<Args...> format, Args&&... args) noexcept {
    log(Level::Error, format, std::forward<Args>(args)...);
}

template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) noexcept {
    log(Level::Warn, format, std::forward<Args>(args)...);
}

template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) noexcept {
    log(Level::Info, format, std::forward<Args>(args)...);
}

template <typename... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) noexcept {
    log(Level::Debug, format, std::forward<Args>(args)...);
}

template <typename... Args>
void trace(fmt::format_string<Args...> format, Args&&... args) noexcept {
    log(Level::Trace, format, std::forward<Args>(args)...);
}

} // namespace base::log
