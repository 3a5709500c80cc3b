// check/: removing stale lines from netavark's network files without ever losing a live line,
// and without letting whoever owns the directory turn a root `--fix` into a write elsewhere.
// Plain POSIX file I/O; no DNS, no asio, nothing from config/ or records/.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace check {

/// Returns `text` without the 1-based lines in `lines` (split on '\n' exactly as the config
/// parser numbers them); every other byte is kept as it was.
std::string remove_lines(std::string_view text, const std::set<int>& lines);

/// Holds netavark's lock: `flock(LOCK_EX)` on `<config_dir>/../aardvark.lock`, the file netavark
/// takes while appending entries, so no append can interleave with a repair. The lock file is
/// never followed when it is a symbolic link and must be a regular file; when missing it is
/// created owned by the directory's owner (rootless netavark must still be able to open it).
class NetavarkLock {
public:
    /// Blocks until the lock is held; the error says why it cannot be.
    static base::Result<NetavarkLock> acquire(const std::string& config_dir);

    NetavarkLock(NetavarkLock&&) noexcept = default;
    NetavarkLock& operator=(NetavarkLock&&) noexcept = default;
    ~NetavarkLock(); // unlocks

private:
    explicit NetavarkLock(base::UniqueFd fd) noexcept
        : fd_(std::move(fd)) {}

    base::UniqueFd fd_;
};

/// Given a file's current bytes, the bytes it should hold; nullopt leaves the file as it is.
/// May be called several times (each call sees newer contents); only the last call's result
/// is what the file ends up holding.
using RepairFunction = std::function<std::optional<std::string>(std::string_view current)>;

struct RewriteOutcome {
    enum class Status {
        Unchanged, // the repair asked for nothing (or the file no longer exists)
        Rewritten, // the file now holds the last repair's result
        Refused,   // safety could not be assured; nothing was changed
        Failed     // an I/O error; the file holds its old or its repaired contents, never less
    };

    Status status = Status::Unchanged;
    std::string error; // for Refused and Failed

    bool ok() const noexcept { return status == Status::Unchanged || status == Status::Rewritten; }
};

struct RewriteTiming {
    /// How long to wait for another process to close the file it is writing (a netavark
    /// teardown writes line by line without the lock) before giving up.
    std::chrono::milliseconds writer_wait{5000};
    /// Where no kernel lease can tell whether a writer has the file open: the pause between
    /// two reads that must agree before the contents count as final.
    std::chrono::milliseconds settle{100};
    /// Rewrites after a writer changed the old file behind the rename.
    int max_redos = 5;
};

/// Rewrites `path` with `repair(contents)` (docs/security.md):
/// - refuses a directory writable by group or others without the sticky bit, a target that is
///   a symbolic link, not a regular file, or hard-linked elsewhere;
/// - reads through a descriptor opened with O_NOFOLLOW, only once no other process holds the
///   file open for writing (a read lease probe; a settle re-read where leases are unavailable);
/// - writes `.<name>.ctrdns-tmp.<32 random hex digits>` with openat(O_CREAT|O_EXCL|O_NOFOLLOW)
///   on the directory's descriptor, gives it the original's owner, group and mode, fsyncs it and
///   renames it over the name, which must still be the inode that was read;
/// - then re-reads the old inode: if a writer that had it open changed it, repairs its final
///   contents again (`repair` result, or the contents as they are when it asks for nothing).
RewriteOutcome rewrite_file_safely(const std::string& path, const RepairFunction& repair,
                                   const RewriteTiming& timing = {});

/// Replaces the existing regular file `path` with `text` under the same rules.
base::Result<void> replace_file_atomically(const std::string& path, std::string_view text);

} // namespace check
