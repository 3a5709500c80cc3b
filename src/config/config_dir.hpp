// config/: reading netavark's aardvark-dns directory. Knows nothing of DNS packets or sockets.
#pragma once

#include <string>
#include <vector>

#include "config/network_file.hpp"

namespace config {

inline constexpr const char* kPidFileName = "aardvark.pid";

struct LoadResult {
    bool directory_ok = true;          // false: missing, not a directory, unlistable
    std::string directory_error;       // why, when !directory_ok
    std::vector<NetworkFile> networks; // sorted by network name, for deterministic answers
    std::vector<Problem> problems;     // per-file and per-line diagnostics (skipped content)
};

/// Reads every entry of `directory` except `aardvark.pid` (spec §3.1): regular files only (a FIFO
/// or sub-directory is skipped with a problem, never blocks), non-UTF-8 content or unreadable files
/// are skipped with a problem. Never throws on file content.
LoadResult load_directory(const std::string& directory);

} // namespace config
