// daemon/: the `aardvark.pid` file netavark reads to find the daemon (contract §2.5, §2.6). POSIX
// file calls only; nothing from server/ or config/.
#pragma once

#include <optional>
#include <string>

#include <sys/types.h>

#include "base/error.hpp"

namespace lifecycle {

/// `<config_dir>/aardvark.pid` (no doubled slash when `config_dir` ends in '/').
std::string pid_file_path(const std::string& config_dir);

/// Writes `pid` in decimal with no newline: netavark parses the whole file as an integer without
/// trimming. Created with mode 0666 & ~umask, truncated if present. On failure returns aardvark's
/// wording after "Error creating aardvark pid ": `Unable to get process pid: <io error>` when the
/// file cannot be created, `Unable to write pid to file: <io error>` when writing fails.
base::Result<void> write_pid_file(const std::string& path, pid_t pid);

/// Reads the pid back exactly as netavark does: the whole content must be a decimal number
/// (no sign, no whitespace). nullopt when missing, unreadable or malformed.
std::optional<pid_t> read_pid_file(const std::string& path);

/// unlink(2); the error (strerror text only, as the daemon logs it) when it fails.
base::Result<void> remove_pid_file(const std::string& path);

/// Removes the file only if it still names `pid`; a daemon started later may have replaced it
/// and must not lose it. True when it was removed.
bool remove_pid_file_if_owned(const std::string& path, pid_t pid);

/// The pid file of a daemon that is starting: written by write(), and on every exit that leaves
/// the file naming this process (a failed start returning through the guard's scope, or any
/// std::exit while it is armed) put back as it was: the previous pid when that process is still
/// a running copy of this executable (two daemons raced for one directory and the other won),
/// else removed. A stale pid file would make netavark and `check --fix` SIGHUP whatever process
/// reuses the pid, and SIGHUP's default action kills. One guard per process.
class PidFileGuard {
public:
    PidFileGuard(std::string path, pid_t pid);
    ~PidFileGuard();
    PidFileGuard(const PidFileGuard&) = delete;
    PidFileGuard& operator=(const PidFileGuard&) = delete;

    /// write_pid_file(path, pid), remembering what the file named before.
    base::Result<void> write();

    /// Keeps the file as it is from now on (e.g. ownership handed to another process).
    void release() noexcept;

    /// Restores or removes the file now if it names this process (idempotent).
    void clean_up() noexcept;

private:
    std::string path_;
    pid_t pid_;
    std::optional<pid_t> previous_;
    bool armed_ = false;
    bool write_failed_ = false;
};

/// Whether `pid` is a live (not zombie) process running the same executable file as this one.
bool runs_this_executable(pid_t pid);

} // namespace lifecycle
