#include "config/config_dir.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "config/text_input.hpp"

namespace config {

namespace {

// `ctrdns check --fix` writes `.<network>.ctrdns-tmp<suffix>` next to the file and renames it
// over the original; a reload racing with it must not load the half-written copy.
constexpr std::string_view kTempMarker = ".ctrdns-tmp";

bool is_our_temp_file(std::string_view name) noexcept {
    if (name.size() < 2 || name.front() != '.') {
        return false;
    }
    // The marker must follow a non-empty network name.
    return name.find(kTempMarker, 2) != std::string_view::npos;
}

const char* file_type_name(mode_t mode) noexcept {
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    if (S_ISCHR(mode)) {
        return "a character device";
    }
    if (S_ISBLK(mode)) {
        return "a block device";
    }
    return "not a regular file";
}

struct DirCloser {
    void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};

using DirHandle = std::unique_ptr<DIR, DirCloser>;

std::string join_path(const std::string& directory, std::string_view name) {
    if (!directory.empty() && directory.back() == '/') {
        return fmt::format("{}{}", directory, name);
    }
    return fmt::format("{}/{}", directory, name);
}

std::string too_large_message() {
    return fmt::format("larger than {} MiB; file skipped", kMaxTextFileSize / kMebibyte);
}

FileIdentity identity_of(const struct stat& info) noexcept {
    FileIdentity identity;
    identity.device = static_cast<std::uint64_t>(info.st_dev);
    identity.inode = static_cast<std::uint64_t>(info.st_ino);
    identity.size = static_cast<std::int64_t>(info.st_size);
    identity.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
                        static_cast<std::int64_t>(info.st_mtim.tv_nsec);
    identity.ctime_ns = static_cast<std::int64_t>(info.st_ctim.tv_sec) * 1'000'000'000 +
                        static_cast<std::int64_t>(info.st_ctim.tv_nsec);
    return identity;
}

Problem whole_file_problem(std::string path, std::string message) {
    return Problem{std::move(path), 0, std::move(message)};
}

// The checks made before the contents are touched: the file name is the network name, which
// ends up in logs and in the DNS answers' tables.
DirectoryEntry stat_candidate(int dir_fd, const std::string& directory, std::string_view name) {
    DirectoryEntry entry;
    entry.name = std::string(name);
    entry.path = join_path(directory, name);
    if (!is_valid_utf8(name)) {
        entry.problem =
            whole_file_problem(entry.path, "file name is not valid UTF-8; file skipped");
        return entry;
    }

    struct stat info {};

    // stat, not lstat: a symlink to a regular file is read, as aardvark reads it.
    if (::fstatat(dir_fd, entry.name.c_str(), &info, 0) != 0) {
        entry.problem = whole_file_problem(
            entry.path, fmt::format("cannot access: {}; file skipped", base::os_error_text(errno)));
        return entry;
    }
    if (!S_ISREG(info.st_mode)) {
        entry.problem =
            whole_file_problem(entry.path, fmt::format("{}, not a network file; skipped",
                                                       file_type_name(info.st_mode)));
        return entry;
    }
    if (static_cast<std::uint64_t>(info.st_size) > kMaxTextFileSize) {
        entry.problem = whole_file_problem(entry.path, too_large_message());
        return entry;
    }
    entry.identity = identity_of(info);
    return entry;
}

// Opens a candidate for reading and checks it is (still) a regular file. On failure the
// returned descriptor is invalid and `problem` says why.
base::UniqueFd open_regular(int dir_fd, const std::string& path, const std::string& name,
                            FileIdentity& identity, std::optional<Problem>& problem) {
    // O_NONBLOCK: should the entry be swapped for a FIFO after the stat, open and read
    // return at once instead of stalling the reload.
    base::UniqueFd fd(
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): POSIX open has no other form
        ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd.valid()) {
        problem = whole_file_problem(
            path, fmt::format("cannot open: {}; file skipped", base::os_error_text(errno)));
        return fd;
    }

    struct stat info {};

    if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        problem =
            whole_file_problem(path, "changed into something other than a regular file; skipped");
        return {};
    }
    identity = identity_of(info);
    return fd;
}

// The rest of `fd` from its current position, at most `max_size` bytes, as UTF-8 text.
std::optional<std::string> read_rest(int fd, const std::string& path, std::size_t max_size,
                                     std::size_t expected_size, std::optional<Problem>& problem) {
    base::Result<std::string> read = read_capped(fd, max_size, expected_size);
    if (!read) {
        problem = whole_file_problem(
            path, read.error().os_error() == kTooLarge
                      ? too_large_message()
                      : fmt::format("cannot read: {}; file skipped", read.error()));
        return std::nullopt;
    }
    if (!is_valid_utf8(*read)) {
        problem = whole_file_problem(path, "contents are not valid UTF-8; file skipped");
        return std::nullopt;
    }
    return std::move(*read);
}

FileText read_text(int dir_fd, const std::string& path, const std::string& name) {
    FileText result;
    try {
        const base::UniqueFd fd = open_regular(dir_fd, path, name, result.identity, result.problem);
        if (fd.valid()) {
            result.text = read_rest(fd.get(), path, kMaxTextFileSize,
                                    static_cast<std::size_t>(result.identity.size), result.problem);
        }
    } catch (const std::bad_alloc&) {
        // One absurd file must not take the others down with it.
        result.text.reset();
        result.problem = whole_file_problem(path, "out of memory while reading; file skipped");
    }
    return result;
}

FilePieces read_pieces(int dir_fd, const std::string& path, const std::string& name,
                       std::size_t head_size, std::size_t offset) {
    FilePieces result;
    try {
        const base::UniqueFd fd = open_regular(dir_fd, path, name, result.identity, result.problem);
        if (!fd.valid()) {
            return result;
        }
        const auto size = static_cast<std::size_t>(result.identity.size);
        if (size < offset || size < head_size || offset > kMaxTextFileSize) {
            return result;
        }
        result.head.resize(head_size);
        std::size_t done = 0;
        while (done < head_size) {
            const ssize_t got =
                ::pread(fd.get(), &result.head[done], head_size - done, static_cast<off_t>(done));
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                return result; // shrank meanwhile: not an append
            }
            done += static_cast<std::size_t>(got);
        }
        if (::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
            result.problem = whole_file_problem(
                path, fmt::format("cannot read: {}; file skipped", base::os_error_text(errno)));
            return result;
        }
        result.tail =
            read_rest(fd.get(), path, kMaxTextFileSize - offset, size - offset, result.problem);
    } catch (const std::bad_alloc&) {
        result.tail.reset();
        result.problem = whole_file_problem(path, "out of memory while reading; file skipped");
    }
    return result;
}

constexpr std::size_t kScanPiece = std::size_t{64} * 1024;

FileScan scan_lines(int dir_fd, const std::string& path, const std::string& name,
                    const LineVisitor& visit, base::UniqueFd* keep_open) {
    FileScan result;
    try {
        base::UniqueFd fd = open_regular(dir_fd, path, name, result.identity, result.problem);
        if (!fd.valid()) {
            return result;
        }
        std::string piece(kScanPiece, '\0');
        std::string carry; // a line that runs over a piece boundary
        // Returns false when the walk ends here (stopped, or a problem).
        const auto deliver = [&](std::string_view line, bool terminated) {
            if (!is_valid_utf8(line)) {
                result.problem =
                    whole_file_problem(path, "contents are not valid UTF-8; file skipped");
                return false;
            }
            if (!visit(line, terminated)) {
                result.stopped = true;
                return false;
            }
            return true;
        };
        for (;;) {
            const ssize_t got = ::read(fd.get(), piece.data(), piece.size());
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got < 0) {
                result.problem = whole_file_problem(
                    path, fmt::format("cannot read: {}; file skipped", base::os_error_text(errno)));
                return result;
            }
            if (got == 0) {
                break;
            }
            result.size += static_cast<std::size_t>(got);
            if (result.size > kMaxTextFileSize) {
                result.problem = whole_file_problem(path, too_large_message());
                return result;
            }
            const std::string_view bytes(piece.data(), static_cast<std::size_t>(got));
            result.ends_with_newline = bytes.back() == '\n';
            std::size_t start = 0;
            for (std::size_t newline = bytes.find('\n'); newline != std::string_view::npos;
                 newline = bytes.find('\n', start)) {
                std::string_view line = bytes.substr(start, newline - start);
                if (!carry.empty()) {
                    carry.append(line);
                    line = carry;
                }
                if (!deliver(line, true)) {
                    return result;
                }
                carry.clear();
                start = newline + 1;
            }
            carry.append(bytes.substr(start));
        }
        if (!carry.empty() && !deliver(carry, false)) {
            return result;
        }

        struct stat info {};

        if (::fstat(fd.get(), &info) == 0) {
            result.identity_after = identity_of(info);
        }
        if (keep_open != nullptr) {
            *keep_open = std::move(fd);
        }
    } catch (const std::bad_alloc&) {
        result.problem = whole_file_problem(path, "out of memory while reading; file skipped");
    }
    return result;
}

base::UniqueFd open_directory(const std::string& directory, std::string& error) {
    base::UniqueFd dir_fd(
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): POSIX open has no other form
        ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK));
    if (!dir_fd.valid()) {
        const int code = errno;
        error = code == ENOTDIR ? fmt::format("{}: not a directory", directory)
                                : fmt::format("{}: cannot open directory: {}", directory,
                                              base::os_error_text(code));
    }
    return dir_fd;
}

// Runs `read(dir_fd, path)` on `name` inside `directory`; a directory that cannot be opened
// is the file's problem.
template <typename Result, typename Read>
Result in_directory(const std::string& directory, std::string_view name, Read&& read) {
    std::string error;
    const base::UniqueFd dir_fd = open_directory(directory, error);
    const std::string path = join_path(directory, name);
    if (!dir_fd.valid()) {
        Result result;
        result.problem = whole_file_problem(path, error);
        return result;
    }
    return read(dir_fd.get(), path);
}

} // namespace

DirectoryListing list_directory(const std::string& directory) {
    DirectoryListing listing;
    const base::UniqueFd dir_fd = open_directory(directory, listing.error);
    if (!dir_fd.valid()) {
        listing.ok = false;
        return listing;
    }
    // fdopendir takes ownership of its descriptor; keep ours for the *at() calls.
    const int list_fd = ::fcntl(dir_fd.get(), F_DUPFD_CLOEXEC, 0);
    DirHandle dir(list_fd >= 0 ? ::fdopendir(list_fd) : nullptr);
    if (!dir) {
        const int error = errno;
        if (list_fd >= 0) {
            ::close(list_fd);
        }
        listing.ok = false;
        listing.error =
            fmt::format("{}: cannot list directory: {}", directory, base::os_error_text(error));
        return listing;
    }
    for (;;) {
        errno = 0;
        // readdir is only unsafe on a DIR shared between threads; this one is ours alone.
        const dirent* entry = ::readdir(dir.get()); // NOLINT(concurrency-mt-unsafe)
        if (entry == nullptr) {
            if (errno != 0) {
                // aardvark logs a failed iteration step and carries on with what it has.
                listing.problems.push_back(whole_file_problem(
                    directory, fmt::format("error while listing the directory: {}",
                                           base::os_error_text(errno))));
            }
            break;
        }
        const std::string_view name(static_cast<const char*>(entry->d_name));
        if (name == "." || name == ".." || name == kPidFileName) {
            continue;
        }
        if (is_our_temp_file(name)) {
            base::log::debug("skipping temporary file {}", join_path(directory, name));
            continue;
        }
        listing.entries.push_back(stat_candidate(dir_fd.get(), directory, name));
    }
    std::sort(listing.entries.begin(), listing.entries.end(),
              [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.name < b.name; });
    return listing;
}

FilePieces read_network_file_pieces(const std::string& directory, std::string_view name,
                                    std::size_t head_size, std::size_t offset) {
    return in_directory<FilePieces>(directory, name, [&](int dir_fd, const std::string& path) {
        return read_pieces(dir_fd, path, std::string(name), head_size, offset);
    });
}

FileScan scan_network_file(const std::string& directory, std::string_view name,
                           const LineVisitor& visit, base::UniqueFd* keep_open) {
    return in_directory<FileScan>(directory, name, [&](int dir_fd, const std::string& path) {
        return scan_lines(dir_fd, path, std::string(name), visit, keep_open);
    });
}

std::string_view network_name_of(std::string_view file_name) noexcept {
    constexpr std::string_view kInternalSuffix = "%int";
    return file_name.ends_with(kInternalSuffix)
               ? file_name.substr(0, file_name.size() - kInternalSuffix.size())
               : file_name;
}

LoadResult load_directory(const std::string& directory) {
    LoadResult result;
    DirectoryListing listing = list_directory(directory);
    if (!listing.ok) {
        result.directory_ok = false;
        result.directory_error = std::move(listing.error);
        return result;
    }
    result.problems = std::move(listing.problems);
    std::string error;
    const base::UniqueFd dir_fd = open_directory(directory, error);
    for (const DirectoryEntry& entry : listing.entries) {
        if (entry.problem) {
            result.problems.push_back(*entry.problem);
            continue;
        }
        FileText read = dir_fd.valid()
                            ? read_text(dir_fd.get(), entry.path, entry.name)
                            : FileText{std::nullopt, {}, whole_file_problem(entry.path, error)};
        if (!read.text) {
            if (read.problem) {
                result.problems.push_back(std::move(*read.problem));
            }
            continue;
        }
        try {
            NetworkFileResult parsed = parse_network_file(entry.name, entry.path, *read.text);
            for (Problem& problem : parsed.problems) {
                result.problems.push_back(std::move(problem));
            }
            if (parsed.file) {
                result.networks.push_back(std::move(*parsed.file));
            }
        } catch (const std::bad_alloc&) {
            result.problems.push_back(
                whole_file_problem(entry.path, "out of memory while reading; file skipped"));
        }
    }

    std::sort(result.networks.begin(), result.networks.end(),
              [](const NetworkFile& a, const NetworkFile& b) {
                  if (a.name != b.name) {
                      return a.name < b.name;
                  }
                  return !a.internal && b.internal;
              });
    return result;
}

} // namespace config
