#include "lifecycle/pid_file.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/unique_fd.hpp"
#include "config/config_dir.hpp"

namespace lifecycle {

std::string pid_file_path(const std::string& config_dir) {
    if (config_dir.empty()) {
        return config::kPidFileName;
    }
    if (config_dir.back() == '/') {
        return config_dir + config::kPidFileName;
    }
    return config_dir + "/" + config::kPidFileName;
}

base::Result<void> write_pid_file(const std::string& path, pid_t pid) {
    constexpr mode_t kMode = 0666;
    const base::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kMode));
    if (!fd.valid()) {
        return base::Error::from_errno("Unable to get process pid", errno);
    }
    const std::string text = std::to_string(pid);
    std::string_view rest = text;
    while (!rest.empty()) {
        const ssize_t written = ::write(fd.get(), rest.data(), rest.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::Error::from_errno("Unable to write pid to file", errno);
        }
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
    return {};
}

std::optional<pid_t> read_pid_file(const std::string& path) {
    const base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return std::nullopt;
    }
    // A pid has at most 10 digits; anything longer is not one.
    std::array<char, 32> buffer{};
    std::size_t size = 0;
    while (size < buffer.size()) {
        const ssize_t got = ::read(fd.get(), buffer.data() + size, buffer.size() - size);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        size += static_cast<std::size_t>(got);
    }
    if (size == 0 || size == buffer.size()) {
        return std::nullopt;
    }
    pid_t pid = 0;
    const char* end = buffer.data() + size;
    const auto [last, error] = std::from_chars(buffer.data(), end, pid);
    if (error != std::errc() || last != end || buffer[0] == '-' || buffer[0] == '+') {
        return std::nullopt;
    }
    return pid;
}

base::Result<void> remove_pid_file(const std::string& path) {
    if (::unlink(path.c_str()) != 0) {
        const int error_number = errno;
        return base::Error(base::strerror_text(error_number), error_number);
    }
    return {};
}

bool remove_pid_file_if_owned(const std::string& path, pid_t pid) {
    if (read_pid_file(path) != pid) {
        return false;
    }
    return remove_pid_file(path).ok();
}

bool runs_this_executable(pid_t pid) {
    if (pid <= 0) {
        return false;
    }

    struct stat self {};

    struct stat other {};

    // A zombie or a dead pid has no readable exe link; another program has another inode.
    const std::string other_exe = fmt::format("/proc/{}/exe", pid);
    return ::stat("/proc/self/exe", &self) == 0 && ::stat(other_exe.c_str(), &other) == 0 &&
           self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

namespace {

// std::exit runs atexit handlers without unwinding the stack, so the guard's frame (serve()'s,
// which never returns while the daemon runs) is still intact when this is called.
PidFileGuard* armed_guard = nullptr;

void clean_up_at_exit() {
    if (armed_guard != nullptr) {
        armed_guard->clean_up();
    }
}

} // namespace

PidFileGuard::PidFileGuard(std::string path, pid_t pid)
    : path_(std::move(path))
    , pid_(pid) {}

PidFileGuard::~PidFileGuard() {
    clean_up();
}

base::Result<void> PidFileGuard::write() {
    previous_ = read_pid_file(path_);
    if (previous_ == pid_) {
        previous_.reset();
    }
    static const bool registered = std::atexit(clean_up_at_exit) == 0;
    (void)registered;
    armed_guard = this;
    armed_ = true;
    base::Result<void> written = write_pid_file(path_, pid_);
    write_failed_ = !written.ok();
    return written;
}

void PidFileGuard::release() noexcept {
    armed_ = false;
    if (armed_guard == this) {
        armed_guard = nullptr;
    }
}

void PidFileGuard::clean_up() noexcept {
    if (!armed_) {
        return;
    }
    release();
    try {
        // After a failed write the file holds a prefix of our pid (or nothing): ours as well.
        const std::optional<pid_t> named = read_pid_file(path_);
        if (named != pid_ && !(write_failed_ && !named)) {
            return; // another daemon wrote it since: it is theirs
        }
        if (previous_ && runs_this_executable(*previous_) && write_pid_file(path_, *previous_)) {
            return;
        }
        static_cast<void>(remove_pid_file(path_)); // nothing left to tell on the way out
    } catch (...) {
        // Allocation failed on the way out: nothing better to do than leave.
    }
}

} // namespace lifecycle
