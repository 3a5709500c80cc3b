// daemon/: the one-byte readiness handshake between the process netavark started and the
// daemon child it forks (contract §2.1). POSIX pipe calls only; nothing from server/ or config/.
#pragma once

#include <utility>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace lifecycle {

/// Create() before fork(); afterwards the parent calls wait_for_child() and the child calls
/// become_child() and, once it serves, signal_ready(). The parent learns that the child failed
/// from EOF alone: every way the child can end closes its write end.
class ReadyPipe {
public:
    enum class Outcome {
        Ready,      // the child wrote its byte
        ChildFailed // EOF: the child ended (or closed the pipe) without signalling
    };

    /// Creates the pipe (O_CLOEXEC; nothing is exec'd, but nothing should inherit it either).
    /// The error when pipe2(2) fails reads as aardvark prints it: `IO error: <strerror> (os
    /// error N)`.
    static base::Result<ReadyPipe> create();

    /// Parent side: closes the write end, then blocks until one byte or EOF arrives. An error
    /// when read(2) fails, worded as create()'s.
    base::Result<Outcome> wait_for_child();

    /// Child side, right after fork(): closes the read end.
    void become_child() noexcept;

    /// Child side: writes the byte '1' and closes the write end. False when the write failed
    /// (the parent is gone); the daemon carries on regardless.
    bool signal_ready() noexcept;

private:
    ReadyPipe(base::UniqueFd read_end, base::UniqueFd write_end) noexcept
        : read_end_(std::move(read_end))
        , write_end_(std::move(write_end)) {}

    base::UniqueFd read_end_;
    base::UniqueFd write_end_;
};

} // namespace lifecycle
