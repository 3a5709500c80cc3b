// config/: private helpers for reading untrusted text files (UTF-8 check, capped reads).
// Used by config_dir.cpp, resolv_conf.cpp and settings_file.cpp only; no DNS, no sockets.
#pragma once

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace config {

/// Bigger inputs are refused: netavark writes a few hundred bytes per container, and a huge
/// file (or one that keeps growing while we read it) must not be able to exhaust our memory.
inline constexpr std::size_t kMebibyte = std::size_t{1024} * 1024;
inline constexpr std::size_t kMaxTextFileSize = 16 * kMebibyte;

/// Strict UTF-8 as Rust's `str::from_utf8` checks it: no overlong forms, no surrogates, nothing
/// above U+10FFFF, no truncated sequences.
bool is_valid_utf8(std::string_view text) noexcept;

/// The errno of read_capped's error when more than `max_size` bytes were available.
inline constexpr int kTooLarge = EFBIG;

/// Reads `fd` to EOF, at most `max_size` bytes (one more byte is an error with errno
/// kTooLarge). EINTR is retried; EAGAIN (a non-blocking FIFO with no data) is an error, never a
/// wait. `expected_size` (e.g. from fstat) sizes the buffer up front; the file may still differ.
base::Result<std::string> read_capped(int fd, std::size_t max_size, std::size_t expected_size = 0);

} // namespace config
