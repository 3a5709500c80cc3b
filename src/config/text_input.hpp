// config/: private helpers for reading untrusted text files (UTF-8 check, capped reads).
// Used by config_dir.cpp and resolv_conf.cpp only; no DNS, no sockets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace config {

/// Bigger inputs are refused: netavark writes a few hundred bytes per container, and a huge
/// file (or one that keeps growing while we read it) must not be able to exhaust our memory.
inline constexpr std::size_t kMebibyte = std::size_t{1024} * 1024;
inline constexpr std::size_t kMaxTextFileSize = 16 * kMebibyte;

/// Strict UTF-8 as Rust's `str::from_utf8` checks it: no overlong forms, no surrogates, nothing
/// above U+10FFFF, no truncated sequences.
bool is_valid_utf8(std::string_view text) noexcept;

struct ReadOutcome {
    bool ok = false;
    bool too_large = false; // more than the cap was available
    std::string text;
    std::string error; // base::os_error_text() when !ok and !too_large
};

/// Reads `fd` to EOF, at most `max_size` bytes (one more byte means too_large). EINTR is
/// retried; EAGAIN (a non-blocking FIFO with no data) is an error, never a wait.
/// `expected_size` (e.g. from fstat) sizes the buffer up front; the file may still differ.
ReadOutcome read_capped(int fd, std::size_t max_size, std::size_t expected_size = 0);

} // namespace config
