#include "lifecycle/detach.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace lifecycle {
namespace {

void close_fds_listed_in_proc() noexcept {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        return;
    }
    // Collect first: closing while reading the directory would race its own fd.
    std::vector<int> fds;
    try {
        const int own = ::dirfd(dir);
        while (const dirent* entry = ::readdir(dir)) {
            char* end = nullptr;
            const long fd = std::strtol(entry->d_name, &end, 10);
            if (end != entry->d_name && *end == '\0' && fd > 2 && fd != own) {
                fds.push_back(static_cast<int>(fd));
            }
        }
    } catch (...) {
    }
    ::closedir(dir);
    for (const int fd : fds) {
        ::close(fd);
    }
}

} // namespace

void close_inherited_fds() noexcept {
    if (::close_range(3, ~0U, 0) == 0) {
        return;
    }
    if (errno == ENOSYS) {
        close_fds_listed_in_proc();
    }
}

base::Result<void> detach_from_caller() {
    ::setsid();
    // Not O_CLOEXEC: if every std fd was closed, open() returns one of them and it must stay.
    base::UniqueFd null_fd(::open("/dev/null", O_RDWR)); // NOLINT(android-cloexec-open)
    if (!null_fd.valid()) {
        return base::Error::from_strerror("open /dev/null", errno);
    }
    for (const int target : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
        if (null_fd.get() != target && ::dup2(null_fd.get(), target) < 0) {
            return base::Error::from_strerror("dup2 /dev/null", errno);
        }
    }
    if (null_fd.get() <= STDERR_FILENO) {
        static_cast<void>(null_fd.release());
    }
    return {};
}

void ignore_sigpipe() noexcept {
    std::signal(SIGPIPE, SIG_IGN);
}

bool is_signal_ignored(int signal_number) noexcept {
    struct sigaction current {};

    if (::sigaction(signal_number, nullptr, &current) != 0) {
        return false;
    }
    return current.sa_handler == SIG_IGN;
}

void raise_fd_limit() noexcept {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) {
        return;
    }
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

} // namespace lifecycle
