// check/: removing stale lines from netavark's network files without ever losing a live line.
// Plain POSIX file I/O; no DNS, no asio.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace check {

/// Returns `text` without the 1-based lines in `lines` (split on '\n' exactly as the config
/// parser numbers them); every other byte is kept as it was.
std::string remove_lines(std::string_view text, const std::set<int>& lines);

/// Holds netavark's lock: `flock(LOCK_EX)` on `<config_dir>/../aardvark.lock`, the file netavark
/// takes while appending entries, so no append can interleave with a repair.
class NetavarkLock {
public:
    explicit NetavarkLock(const std::string& config_dir);
    ~NetavarkLock();
    NetavarkLock(const NetavarkLock&) = delete;
    NetavarkLock& operator=(const NetavarkLock&) = delete;

    bool held() const noexcept { return fd_ >= 0; }

    const std::string& error() const noexcept { return error_; }

private:
    int fd_ = -1;
    std::string error_;
};

/// Replaces `path` atomically with `text`: writes `.<name>.ctrdns-tmp.<pid>` in the same
/// directory (a name the config loader skips), fsyncs it, keeps the original mode, renames it
/// over `path`. Returns an error message, empty on success.
std::string replace_file_atomically(const std::string& path, std::string_view text);

} // namespace check
