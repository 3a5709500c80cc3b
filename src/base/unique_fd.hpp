// base/: RAII owner of a POSIX file descriptor. Depends on nothing but std and unistd.
#pragma once

#include <utility>

#include <unistd.h>

namespace base {

class UniqueFd {
public:
    UniqueFd() = default;

    explicit UniqueFd(int fd) noexcept
        : fd_(fd) {}

    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    UniqueFd(UniqueFd&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)) {}

    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }

    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }

    bool valid() const noexcept { return fd_ >= 0; }

    int release() noexcept { return std::exchange(fd_, -1); }

    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

} // namespace base
