// config/: reading netavark's aardvark-dns directory. Knows nothing of DNS packets or sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"
#include "config/network_file.hpp"

namespace config {

inline constexpr const char* kPidFileName = "aardvark.pid";

struct LoadResult {
    bool directory_ok = true;          // false: missing, not a directory, unlistable
    std::string directory_error;       // why, when !directory_ok
    std::vector<NetworkFile> networks; // sorted by network name, for deterministic answers
    std::vector<Problem> problems;     // per-file and per-line diagnostics (skipped content)
};

/// What identifies one version of a file without reading it. A rewrite in place keeps the inode
/// but changes the size or the times; a replacement changes the inode.
struct FileIdentity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;

    bool operator==(const FileIdentity&) const noexcept = default;
};

/// One entry of the directory as a network file candidate (after the pid and temp files are
/// left out): its name, and its identity when it is a regular file.
struct DirectoryEntry {
    std::string name;                     // file name, may end in `%int`
    std::string path;                     // directory + name, for diagnostics
    std::optional<FileIdentity> identity; // nullopt: not a regular file or not stat-able
    std::optional<Problem> problem;       // why it is skipped, when it is
};

struct DirectoryListing {
    bool ok = true;
    std::string error; // when !ok
    std::vector<DirectoryEntry> entries;
    std::vector<Problem> problems; // listing errors
};

/// Lists `directory` and stats every candidate (a symlink to a regular file counts, as aardvark
/// reads it), without reading contents.
DirectoryListing list_directory(const std::string& directory);

/// The text of one network file, checked (regular file, size cap, UTF-8), with the identity of
/// the version read. nullopt text: skipped, and `problem` says why.
struct FileText {
    std::optional<std::string> text;
    FileIdentity identity;
    std::optional<Problem> problem;
};

/// Two pieces of one network file, read through one descriptor: its first `head_size` bytes and
/// everything from `offset` on. For an append at 100,000 containers: the caller checks the head
/// and the start of the tail against what it applied, and never reads the megabytes in between.
/// `offset` must be a line start (the tail is checked as UTF-8 on its own). tail is nullopt with
/// no problem when the file is now shorter than `offset` (not an append).
struct FilePieces {
    std::string head;
    std::optional<std::string> tail;
    FileIdentity identity;
    std::optional<Problem> problem;
};

FilePieces read_network_file_pieces(const std::string& directory, std::string_view name,
                                    std::size_t head_size, std::size_t offset);

/// One network file walked once, front to back, in pieces of 64 KiB, never held whole: `visit`
/// gets each line without its '\n' (`terminated` is false for a last line that has none) and
/// may stop the walk by returning false. The same checks as load_directory (regular file, size
/// cap, UTF-8, checked line by line, which is the same as the whole text since '\n' is never part
/// of a multi-byte sequence). For a teardown's rewrite at 100,000 containers the caller keeps
/// hashes and a few lines, not the megabytes. When `problem` is set the file is unusable and what
/// was visited must be dropped.
struct FileScan {
    FileIdentity identity;          // of the version opened
    FileIdentity identity_after;    // once walked to the end: unchanged when nothing wrote
    std::size_t size = 0;           // bytes walked
    bool stopped = false;           // visit returned false
    bool ends_with_newline = false; // the last byte walked was '\n'
    std::optional<Problem> problem;
};

using LineVisitor = std::function<bool(std::string_view line, bool terminated)>;

/// `keep_open` (if given) receives the descriptor the file was read through, when the walk
/// ended without a problem (for reading lines back later, see NetworkFileIndexer).
FileScan scan_network_file(const std::string& directory, std::string_view name,
                           const LineVisitor& visit, base::UniqueFd* keep_open = nullptr);

/// The network name a file name stands for (`x%int` -> `x`).
std::string_view network_name_of(std::string_view file_name) noexcept;

/// Reads every entry of `directory` except `aardvark.pid` (contract §3.1): regular files only (a
/// FIFO or sub-directory is skipped with a problem, never blocks), non-UTF-8 content or unreadable
/// files are skipped with a problem. Never throws on file content.
LoadResult load_directory(const std::string& directory);

} // namespace config
