#include "config/config_dir.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

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

class DirectoryLoader {
public:
    explicit DirectoryLoader(LoadResult& result)
        : result_(result) {}

    void load_entry(int dir_fd, const std::string& directory, std::string_view name) {
        const std::string path = join_path(directory, name);
        try {
            load_file(dir_fd, path, name);
        } catch (const std::bad_alloc&) {
            // One absurd file must not take the others down with it.
            add_problem(path, "out of memory while reading; file skipped");
        }
    }

    void add_problem(std::string path, std::string message) {
        result_.problems.push_back(Problem{std::move(path), 0, std::move(message)});
    }

private:
    void load_file(int dir_fd, const std::string& path, std::string_view name) {
        // The name is checked before the contents are touched: the file name is the network
        // name, which ends up in logs and in the DNS answers' tables.
        if (!is_valid_utf8(name)) {
            add_problem(path, "file name is not valid UTF-8; file skipped");
            return;
        }
        const std::string name_z(name);

        struct stat info {};

        // stat, not lstat: a symlink to a regular file is read, as aardvark reads it.
        if (::fstatat(dir_fd, name_z.c_str(), &info, 0) != 0) {
            add_problem(path, fmt::format("cannot access: {}; file skipped", errno_text(errno)));
            return;
        }
        if (!S_ISREG(info.st_mode)) {
            add_problem(
                path, fmt::format("{}, not a network file; skipped", file_type_name(info.st_mode)));
            return;
        }
        if (static_cast<std::uint64_t>(info.st_size) > kMaxTextFileSize) {
            add_problem(path, too_large_message());
            return;
        }
        // O_NONBLOCK: should the entry be swapped for a FIFO after the stat, open and read
        // return at once instead of stalling the reload.
        const base::UniqueFd fd(
            // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): POSIX open has no other form
            ::openat(dir_fd, name_z.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
        if (!fd.valid()) {
            add_problem(path, fmt::format("cannot open: {}; file skipped", errno_text(errno)));
            return;
        }
        if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
            add_problem(path, "changed into something other than a regular file; skipped");
            return;
        }
        ReadOutcome read = read_capped(fd.get(), kMaxTextFileSize);
        if (read.too_large) {
            add_problem(path, too_large_message());
            return;
        }
        if (!read.ok) {
            add_problem(path, fmt::format("cannot read: {}; file skipped", read.error));
            return;
        }
        if (!is_valid_utf8(read.text)) {
            add_problem(path, "contents are not valid UTF-8; file skipped");
            return;
        }
        NetworkFileResult parsed = parse_network_file(name, path, read.text);
        for (Problem& problem : parsed.problems) {
            result_.problems.push_back(std::move(problem));
        }
        if (parsed.file) {
            result_.networks.push_back(std::move(*parsed.file));
        }
    }

    static std::string too_large_message() {
        return fmt::format("larger than {} MiB; file skipped", kMaxTextFileSize / kMebibyte);
    }

    LoadResult& result_;
};

} // namespace

LoadResult load_directory(const std::string& directory) {
    LoadResult result;
    const base::UniqueFd dir_fd(
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): POSIX open has no other form
        ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK));
    if (!dir_fd.valid()) {
        const int error = errno;
        result.directory_ok = false;
        result.directory_error = error == ENOTDIR ? fmt::format("{}: not a directory", directory)
                                                  : fmt::format("{}: cannot open directory: {}",
                                                                directory, errno_text(error));
        return result;
    }
    // fdopendir takes ownership of its descriptor; keep ours for the *at() calls.
    const int list_fd = ::fcntl(dir_fd.get(), F_DUPFD_CLOEXEC, 0);
    DirHandle dir(list_fd >= 0 ? ::fdopendir(list_fd) : nullptr);
    if (!dir) {
        const int error = errno;
        if (list_fd >= 0) {
            ::close(list_fd);
        }
        result.directory_ok = false;
        result.directory_error =
            fmt::format("{}: cannot list directory: {}", directory, errno_text(error));
        return result;
    }

    DirectoryLoader loader(result);
    for (;;) {
        errno = 0;
        // readdir is only unsafe on a DIR shared between threads; this one is ours alone.
        const dirent* entry = ::readdir(dir.get()); // NOLINT(concurrency-mt-unsafe)
        if (entry == nullptr) {
            if (errno != 0) {
                // aardvark logs a failed iteration step and carries on with what it has.
                loader.add_problem(directory, fmt::format("error while listing the directory: {}",
                                                          errno_text(errno)));
            }
            break;
        }
        const std::string_view name(static_cast<const char*>(entry->d_name));
        if (name == "." || name == ".." || name == kPidFileName) {
            continue;
        }
        if (is_our_temp_file(name)) {
            logging::debug("skipping temporary file {}", join_path(directory, name));
            continue;
        }
        loader.load_entry(dir_fd.get(), directory, name);
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
