// daemon/: process-level setup around the fork (inherited fds, stdio, signal dispositions).
// POSIX calls only; nothing from server/ or config/.
#pragma once

#include "base/error.hpp"

namespace lifecycle {

/// Closes every fd above 2 that the caller left open (close_range(3, ~0U, 0), as aardvark does
/// first thing), falling back to /proc/self/fd on kernels without close_range. Never fails:
/// errors are ignored, as upstream ignores them.
void close_inherited_fds() noexcept;

/// Makes the daemon independent of its caller: setsid() (errors ignored), then /dev/null onto
/// stdin, stdout and stderr, so netavark's stderr pipe reaches EOF when the parent exits.
/// An error (`open /dev/null: <strerror>`, or `dup2 /dev/null: ...`) when /dev/null cannot be
/// opened or duplicated.
base::Result<void> detach_from_caller();

/// Ignores SIGPIPE: TCP clients and the ready pipe's reader may vanish at any time.
void ignore_sigpipe() noexcept;

/// True when `signal_number` was set to SIG_IGN by whoever started us (netavark's teardown
/// does that for SIGTERM and SIGINT); such signals are left ignored.
bool is_signal_ignored(int signal_number) noexcept;

/// Raises the soft RLIMIT_NOFILE to the hard limit: every TCP client and every forwarded query
/// costs a descriptor, and the event loop (epoll) has no FD_SETSIZE limit. Errors are ignored.
void raise_fd_limit() noexcept;

} // namespace lifecycle
