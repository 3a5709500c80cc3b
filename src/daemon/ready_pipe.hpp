// daemon/: the one-byte readiness handshake between the process netavark started and the
// daemon child it forks (contract §2.1). POSIX pipe calls only; nothing from server/ or config/.
#pragma once

#include <string>

#include "base/unique_fd.hpp"

namespace lifecycle {

/// Create before fork(); afterwards the parent calls wait_for_child() and the child calls
/// become_child() and, once it serves, signal_ready(). The parent learns that the child failed
/// from EOF alone: every way the child can end closes its write end.
class ReadyPipe {
public:
    enum class Outcome {
        Ready,       // the child wrote its byte
        ChildFailed, // EOF: the child ended (or closed the pipe) without signalling
        Error        // read(2) failed; see error()
    };

    /// Creates the pipe (O_CLOEXEC; nothing is exec'd, but nothing should inherit it either).
    /// Throws std::system_error when pipe2(2) fails.
    ReadyPipe();

    /// Parent side: closes the write end, then blocks until one byte or EOF arrives.
    Outcome wait_for_child();

    /// The failure text of Outcome::Error, as aardvark prints it: `IO error: <strerror> (os
    /// error N)`.
    const std::string& error() const noexcept { return error_; }

    /// Child side, right after fork(): closes the read end.
    void become_child() noexcept;

    /// Child side: writes the byte '1' and closes the write end. False when the write failed
    /// (the parent is gone); the daemon carries on regardless.
    bool signal_ready() noexcept;

private:
    base::UniqueFd read_end_;
    base::UniqueFd write_end_;
    std::string error_;
};

} // namespace lifecycle
