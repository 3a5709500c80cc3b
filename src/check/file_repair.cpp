#include "check/file_repair.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace check {

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

NetavarkLock::NetavarkLock(const std::string& config_dir) {
    const std::string path = (std::filesystem::path(config_dir) / ".." / "aardvark.lock").string();
    // netavark creates the lock file with create(true) too, so creating it here is harmless.
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        error_ = fmt::format("open {}: {}", path, std::strerror(errno));
        return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno != EINTR) {
            error_ = fmt::format("flock {}: {}", path, std::strerror(errno));
            ::close(fd_);
            fd_ = -1;
            return;
        }
    }
}

NetavarkLock::~NetavarkLock() {
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

std::string replace_file_atomically(const std::string& path, std::string_view text) {
    const std::filesystem::path target(path);
    const std::string temp =
        (target.parent_path() /
         fmt::format(".{}.ctrdns-tmp.{}", target.filename().string(), ::getpid()))
            .string();

    struct stat original {};

    const mode_t mode = ::stat(path.c_str(), &original) == 0 ? (original.st_mode & 07777) : 0644;
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        return fmt::format("create {}: {}", temp, std::strerror(errno));
    }
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const std::string message = fmt::format("write {}: {}", temp, std::strerror(errno));
            ::close(fd);
            ::unlink(temp.c_str());
            return message;
        }
        done += static_cast<std::size_t>(n);
    }
    // fchmod because umask may have narrowed the mode given to open().
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0 || ::close(fd) != 0) {
        const std::string message = fmt::format("finish {}: {}", temp, std::strerror(errno));
        ::unlink(temp.c_str());
        return message;
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string message = fmt::format("rename {}: {}", temp, std::strerror(errno));
        ::unlink(temp.c_str());
        return message;
    }
    return {};
}

} // namespace check
