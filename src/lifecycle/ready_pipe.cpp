#include "lifecycle/ready_pipe.hpp"

#include <array>
#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

namespace lifecycle {

base::Result<ReadyPipe> ReadyPipe::create() {
    std::array<int, 2> fds{-1, -1};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        return base::Error::from_errno("IO error", errno);
    }
    return ReadyPipe(base::UniqueFd(fds[0]), base::UniqueFd(fds[1]));
}

base::Result<ReadyPipe::Outcome> ReadyPipe::wait_for_child() {
    // Our copy of the write end would keep the pipe open and hide the child's death.
    write_end_.reset();
    char byte = 0;
    for (;;) {
        const ssize_t got = ::read(read_end_.get(), &byte, 1);
        if (got == 1) {
            return Outcome::Ready;
        }
        if (got == 0) {
            return Outcome::ChildFailed;
        }
        if (errno != EINTR) {
            return base::Error::from_errno("IO error", errno);
        }
    }
}

void ReadyPipe::become_child() noexcept {
    read_end_.reset();
}

bool ReadyPipe::signal_ready() noexcept {
    const char byte = '1';
    ssize_t written = -1;
    do {
        written = ::write(write_end_.get(), &byte, 1);
    } while (written < 0 && errno == EINTR);
    write_end_.reset();
    return written == 1;
}

} // namespace lifecycle
