// status/: where the daemon's status socket lives, and the client side of its one-line protocol.
// POSIX sockets only (no asio): the client runs once and waits with poll(2) deadlines. Depends on
// nothing from lifecycle/ or server/.
//
// Protocol: the client sends one line (at most kMaxRequestLine bytes, '\n'-terminated):
//   `status json`, `status text`, `status prometheus`, `log-queries on`, `log-queries off`.
// The daemon answers `ok\n` or `error <text>\n`, then the document, and closes the connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace status {

inline constexpr std::size_t kMaxRequestLine = 256;
/// The largest response the client reads (a status of 100,000 names is a few MiB).
inline constexpr std::size_t kMaxResponse = 64U * 1024U * 1024U;

/// `<parent of config_dir>/<basename>.ctrdns.sock`, e.g. /run/containers/networks/
/// aardvark-dns.ctrdns.sock: beside the directory netavark reads, never inside it (netavark and
/// `check` treat every file there as a network), and one per config directory.
std::string socket_path(std::string_view config_dir);

struct Response {
    bool connected = false; // false: no daemon (or no permission); `error` says why
    bool ok = false;        // the daemon accepted the request
    std::string error;
    std::string body;
};

/// Connects to `path` (refused unless it is a socket owned by root or by this user, so no other
/// user can pose as the daemon), sends `request` and reads the whole answer within `timeout`.
Response send_request(const std::string& path, std::string_view request,
                      std::chrono::milliseconds timeout);

} // namespace status
