#include "check/file_repair.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/unique_fd.hpp"

namespace check {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Network files are a few KiB; anything near this is not one, and reading it whole is refused.
constexpr off_t kMaxFileSize = 64L * 1024 * 1024;
constexpr milliseconds kWriterPoll{20};
// A name the config loader skips (config_dir.cpp: `.<name>.ctrdns-tmp<anything>`).
constexpr std::string_view kTempMarker = ".ctrdns-tmp.";
constexpr int kTempNameAttempts = 8;

struct SplitPath {
    std::string directory;
    std::string name;
};

SplitPath split_path(const std::string& path) {
    const std::filesystem::path target(path);
    // Built in one expression: gcc 12's -Wrestrict misfires (at -O2) on assigning a literal
    // to a string that was just moved from a path.
    const std::string parent = target.parent_path().string();
    return {parent.empty() ? std::string(".") : parent, target.filename().string()};
}

// Files are swapped in a directory by whoever may write to it. Its owner can only hurt itself
// (every write stays inside the directory), but a group or world-writable directory without the
// sticky bit lets a third party replace the file between our checks and the rename.
base::Result<void> directory_refusal(int directory_fd, const std::string& directory) {
    struct stat info {};

    if (::fstat(directory_fd, &info) != 0) {
        return base::Error::from_strerror(fmt::format("stat {}", directory), errno);
    }
    if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (info.st_mode & S_ISVTX) == 0) {
        return base::Error(
            fmt::format("{} is writable by {} without the sticky bit (mode {:04o}): its files "
                        "could be swapped during a repair; not repaired",
                        directory, (info.st_mode & S_IWOTH) != 0 ? "others" : "its group",
                        info.st_mode & 07777));
    }
    return {};
}

base::Result<void> read_all(int fd, const std::string& path, std::string& out) {
    struct stat info {};

    if (::fstat(fd, &info) != 0) {
        return base::Error::from_strerror(fmt::format("stat {}", path), errno);
    }
    if (info.st_size > kMaxFileSize) {
        return base::Error(
            fmt::format("{} is larger than {} bytes; not a network file", path, kMaxFileSize));
    }
    out.clear();
    std::array<char, 16384> buffer{};
    off_t offset = 0;
    for (;;) {
        const ssize_t got = ::pread(fd, buffer.data(), buffer.size(), offset);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return base::Error::from_strerror(fmt::format("read {}", path), errno);
        }
        if (got == 0) {
            return {};
        }
        out.append(buffer.data(), static_cast<std::size_t>(got));
        offset += got;
        if (offset > kMaxFileSize) {
            return base::Error(
                fmt::format("{} grew past {} bytes while being read", path, kMaxFileSize));
        }
    }
}

enum class WriterState {
    None,   // the kernel says nobody has the inode open for writing
    Busy,   // still open for writing when the wait ran out
    Unknown // leases unavailable (filesystem, permissions): the caller settles instead
};

// A read lease is granted only while no open file description of the inode is writable, which
// is exactly "no teardown is still in the middle of rewriting it". The lease is dropped at once;
// its break signal goes to SIGURG, ignored by default, so an opener racing the probe cannot
// kill us (SIGIO, the default, would).
WriterState wait_for_no_writers(int fd, milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    ::fcntl(fd, F_SETSIG, SIGURG);
    for (;;) {
        if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
            ::fcntl(fd, F_SETLEASE, F_UNLCK);
            return WriterState::None;
        }
        if (errno != EAGAIN && errno != EBUSY) {
            return WriterState::Unknown;
        }
        if (Clock::now() >= deadline) {
            return WriterState::Busy;
        }
        std::this_thread::sleep_for(kWriterPoll);
    }
}

// Contents that no writer is changing any more: quiet per the lease probe, or, without leases,
// two reads `settle` apart that agree.
base::Result<void> read_final(int fd, const std::string& path, const RewriteTiming& timing,
                              std::string& out) {
    switch (wait_for_no_writers(fd, timing.writer_wait)) {
    case WriterState::None:
        return read_all(fd, path, out);
    case WriterState::Busy:
        return base::Error(
            fmt::format("{} is still open for writing by another process after {} ms (a "
                        "netavark teardown?); not repaired",
                        path, timing.writer_wait.count()));
    case WriterState::Unknown:
        break;
    }
    const auto deadline = Clock::now() + timing.writer_wait;
    std::string again;
    if (base::Result<void> read = read_all(fd, path, out); !read) {
        return read;
    }
    for (;;) {
        std::this_thread::sleep_for(timing.settle);
        if (base::Result<void> read = read_all(fd, path, again); !read) {
            return read;
        }
        if (again == out) {
            return {};
        }
        out.swap(again);
        if (Clock::now() >= deadline) {
            return base::Error(fmt::format("{} kept changing for {} ms; not repaired", path,
                                           timing.writer_wait.count()));
        }
    }
}

// 128 random bits: a name nobody can plant in advance. An error when the kernel gives none.
base::Result<std::string> random_suffix() {
    std::array<unsigned char, 16> bytes{};
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const ssize_t got = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return base::Error::from_strerror("getrandom", errno);
        }
        filled += static_cast<std::size_t>(got);
    }
    std::string hex;
    for (const unsigned char byte : bytes) {
        hex += fmt::format("{:02x}", byte);
    }
    return hex;
}

bool write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t written = ::write(fd, text.data(), text.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            return false;
        }
        text.remove_prefix(static_cast<std::size_t>(written));
    }
    return true;
}

struct Replacement {
    RewriteOutcome::Status status = RewriteOutcome::Status::Rewritten;
    std::string error;
};

// Writes `text` to a fresh temporary file in the directory and renames it over `name`.
// `expected` (when given) is the inode the name must still refer to just before the rename.
Replacement replace_name(int directory_fd, const std::string& directory, const std::string& name,
                         std::string_view text, const struct stat& original,
                         const struct stat* expected) {
    const auto failed = [](std::string error) {
        return Replacement{RewriteOutcome::Status::Failed, std::move(error)};
    };
    std::string temp;
    base::UniqueFd temp_fd;
    for (int attempt = 0; attempt < kTempNameAttempts && !temp_fd.valid(); ++attempt) {
        const base::Result<std::string> suffix = random_suffix();
        if (!suffix) {
            return {RewriteOutcome::Status::Refused,
                    fmt::format("{}; no unpredictable temporary name", suffix.error())};
        }
        temp = fmt::format(".{}{}{}", name, kTempMarker, *suffix);
        temp_fd.reset(::openat(directory_fd, temp.c_str(),
                               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!temp_fd.valid() && errno != EEXIST) {
            return failed(
                fmt::format("create {}/{}: {}", directory, temp, base::strerror_text(errno)));
        }
    }
    if (!temp_fd.valid()) {
        return {RewriteOutcome::Status::Refused,
                fmt::format("every temporary name tried in {} already exists; not repaired",
                            directory)};
    }
    const auto discard = [&](std::string error) {
        ::unlinkat(directory_fd, temp.c_str(), 0);
        return failed(std::move(error));
    };
    if (!write_all(temp_fd.get(), text)) {
        return discard(fmt::format("write {}/{}: {}", directory, temp, base::strerror_text(errno)));
    }
    // Owner first: chown clears set-id bits, and the mode must end up exactly the original's.
    if (::fchown(temp_fd.get(), original.st_uid, original.st_gid) != 0) {
        const int error = errno;
        ::unlinkat(directory_fd, temp.c_str(), 0);
        return {RewriteOutcome::Status::Refused,
                fmt::format("cannot give the repaired {}/{} its owner {}:{}: {}; not repaired",
                            directory, name, original.st_uid, original.st_gid,
                            base::strerror_text(error))};
    }
    if (::fchmod(temp_fd.get(), original.st_mode & 07777) != 0 || ::fsync(temp_fd.get()) != 0) {
        return discard(
            fmt::format("finish {}/{}: {}", directory, temp, base::strerror_text(errno)));
    }
    if (::close(temp_fd.release()) != 0) {
        return discard(fmt::format("close {}/{}: {}", directory, temp, base::strerror_text(errno)));
    }
    if (expected != nullptr) {
        struct stat now {};

        if (::fstatat(directory_fd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 ||
            now.st_dev != expected->st_dev || now.st_ino != expected->st_ino) {
            ::unlinkat(directory_fd, temp.c_str(), 0);
            return {RewriteOutcome::Status::Unchanged, "replaced meanwhile"};
        }
    }
    if (::renameat(directory_fd, temp.c_str(), directory_fd, name.c_str()) != 0) {
        return discard(
            fmt::format("rename {}/{}: {}", directory, temp, base::strerror_text(errno)));
    }
    return {};
}

RewriteOutcome refused(std::string error) {
    return {RewriteOutcome::Status::Refused, std::move(error)};
}

RewriteOutcome failed(std::string error) {
    return {RewriteOutcome::Status::Failed, std::move(error)};
}

// Opens the target without following a symlink and checks it is a lone regular file. nullopt
// with `missing` set when it does not exist.
base::Result<void> open_target(int directory_fd, const std::string& path, const std::string& name,
                               base::UniqueFd& fd, struct stat& info, bool& missing) {
    missing = false;
    // O_NONBLOCK: opening a planted FIFO must not hang; it is refused just below.
    fd.reset(::openat(directory_fd, name.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) {
            missing = true;
            return {};
        }
        if (errno == ELOOP) {
            return base::Error(fmt::format("{} is a symbolic link; not repaired", path));
        }
        return base::Error::from_strerror(fmt::format("open {}", path), errno);
    }
    if (::fstat(fd.get(), &info) != 0) {
        return base::Error::from_strerror(fmt::format("stat {}", path), errno);
    }
    if (!S_ISREG(info.st_mode)) {
        return base::Error(fmt::format("{} is not a regular file; not repaired", path));
    }
    if (info.st_nlink != 1) {
        return base::Error(fmt::format("{} has {} hard links; not repaired", path, info.st_nlink));
    }
    return {};
}

} // namespace

std::string remove_lines(std::string_view text, const std::set<int>& lines) {
    std::string out;
    out.reserve(text.size());
    int line = 1;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = text.find('\n', start);
        const bool last = end == std::string_view::npos;
        const std::size_t stop = last ? text.size() : end + 1; // keep the '\n' with its line
        if (!lines.contains(line)) {
            out.append(text.substr(start, stop - start));
        }
        if (last) {
            break;
        }
        start = stop;
        ++line;
    }
    return out;
}

base::Result<NetavarkLock> NetavarkLock::acquire(const std::string& config_dir) {
    constexpr const char* kLockName = "aardvark.lock";
    const std::string directory = (std::filesystem::path(config_dir) / "..").string();
    const std::string path = (std::filesystem::path(directory) / kLockName).string();
    const base::UniqueFd directory_fd(
        ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!directory_fd.valid()) {
        return base::Error::from_strerror(fmt::format("open {}", directory), errno);
    }
    if (base::Result<void> safe = directory_refusal(directory_fd.get(), directory); !safe) {
        return std::move(safe).error();
    }

    struct stat directory_info {};

    if (::fstat(directory_fd.get(), &directory_info) != 0) {
        return base::Error::from_strerror(fmt::format("stat {}", directory), errno);
    }
    base::UniqueFd fd;
    // Open, else create; a racing creator (netavark) makes the exclusive create fail: open again.
    for (int attempt = 0; attempt < 3 && !fd.valid(); ++attempt) {
        fd.reset(::openat(directory_fd.get(), kLockName,
                          O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (fd.valid() || errno != ENOENT) {
            break;
        }
        fd.reset(::openat(directory_fd.get(), kLockName,
                          O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (fd.valid()) {
            // netavark running as the directory's owner (rootless) must be able to open it.
            if (::fchown(fd.get(), directory_info.st_uid, directory_info.st_gid) != 0) {
                base::Error error = base::Error::from_strerror(
                    fmt::format("cannot give {} the directory's owner {}:{}", path,
                                directory_info.st_uid, directory_info.st_gid),
                    errno);
                ::unlinkat(directory_fd.get(), kLockName, 0);
                return error;
            }
            ::fchmod(fd.get(), 0644); // the umask may have narrowed it
        } else if (errno != EEXIST) {
            break;
        }
    }
    if (!fd.valid()) {
        if (errno == ELOOP) {
            return base::Error(fmt::format("{} is a symbolic link; not used", path));
        }
        return base::Error::from_strerror(fmt::format("open {}", path), errno);
    }

    struct stat info {};

    if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return base::Error(fmt::format("{} is not a regular file; not used", path));
    }
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            return base::Error::from_strerror(fmt::format("flock {}", path), errno);
        }
    }
    return NetavarkLock(std::move(fd));
}

NetavarkLock::~NetavarkLock() {
    if (fd_.valid()) {
        ::flock(fd_.get(), LOCK_UN);
    }
}

RewriteOutcome rewrite_file_safely(const std::string& path, const RepairFunction& repair,
                                   const RewriteTiming& timing) {
    const auto [directory, name] = split_path(path);
    if (name.empty() || name == "." || name == "..") {
        return refused(fmt::format("{} names no file", path));
    }
    const base::UniqueFd directory_fd(
        ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!directory_fd.valid()) {
        return failed(fmt::format("open {}: {}", directory, base::strerror_text(errno)));
    }
    if (const base::Result<void> safe = directory_refusal(directory_fd.get(), directory); !safe) {
        return refused(safe.error().message());
    }

    // Each pass: read a quiet file, repair, rename over the same inode. A pass restarts when the
    // name was replaced meanwhile (another writer renamed a file in).
    constexpr int kPasses = 5;
    for (int pass = 0; pass < kPasses; ++pass) {
        base::UniqueFd original_fd;

        struct stat original {};

        bool missing = false;
        if (const base::Result<void> opened =
                open_target(directory_fd.get(), path, name, original_fd, original, missing);
            !opened) {
            return refused(opened.error().message());
        }
        if (missing) {
            return {}; // a teardown removed it: nothing left to repair
        }
        std::string text;
        if (const base::Result<void> read = read_final(original_fd.get(), path, timing, text);
            !read) {
            return failed(read.error().message());
        }
        std::optional<std::string> wanted = repair(text);
        if (!wanted) {
            return {};
        }
        Replacement replaced =
            replace_name(directory_fd.get(), directory, name, *wanted, original, &original);
        if (replaced.status == RewriteOutcome::Status::Unchanged) {
            continue;
        }
        if (replaced.status != RewriteOutcome::Status::Rewritten) {
            return {replaced.status, std::move(replaced.error)};
        }

        // A writer that opened the old inode before the rename (netavark's teardown truncates,
        // then writes line by line) is still writing there: its final contents are the truth.
        for (int redo = 0;; ++redo) {
            std::string final_text;
            if (const base::Result<void> read =
                    read_final(original_fd.get(), path, timing, final_text);
                !read) {
                return failed(read.error().wrap("after the rename").message());
            }
            if (final_text == text) {
                return {RewriteOutcome::Status::Rewritten, {}};
            }
            if (redo >= timing.max_redos) {
                return failed(fmt::format("{} kept being rewritten behind the repair", path));
            }
            text = std::move(final_text);
            wanted = repair(text);
            replaced = replace_name(directory_fd.get(), directory, name, wanted ? *wanted : text,
                                    original, nullptr);
            if (replaced.status != RewriteOutcome::Status::Rewritten) {
                return {replaced.status, std::move(replaced.error)};
            }
        }
    }
    return failed(fmt::format("{} keeps being replaced; not repaired", path));
}

base::Result<void> replace_file_atomically(const std::string& path, std::string_view text) {
    RewriteOutcome outcome = rewrite_file_safely(
        path, [text](std::string_view) { return std::optional<std::string>(text); });
    switch (outcome.status) {
    case RewriteOutcome::Status::Unchanged:
        return base::Error(fmt::format("{} does not exist", path));
    case RewriteOutcome::Status::Rewritten:
        return {};
    case RewriteOutcome::Status::Refused:
    case RewriteOutcome::Status::Failed:
        break;
    }
    return base::Error(std::move(outcome.error));
}

} // namespace check
