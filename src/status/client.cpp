#include "status/client.hpp"

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace status {
namespace {

using Clock = std::chrono::steady_clock;

/// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd entry{fd, events, 0};
        const int ready = ::poll(&entry, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        return ready > 0;
    }
}

} // namespace

std::string socket_path(std::string_view config_dir) {
    std::string dir(config_dir);
    while (dir.size() > 1 && dir.back() == '/') {
        dir.pop_back();
    }
    const std::size_t slash = dir.rfind('/');
    const std::string parent = slash == std::string::npos ? "." : dir.substr(0, slash);
    const std::string base = slash == std::string::npos ? dir : dir.substr(slash + 1);
    return (parent.empty() ? std::string() : parent) + "/" + base + ".ctrdns.sock";
}

Response send_request(const std::string& path, std::string_view request,
                      std::chrono::milliseconds timeout) {
    Response response;
    const Clock::time_point deadline = Clock::now() + timeout;

    struct stat info {};

    if (::lstat(path.c_str(), &info) != 0) {
        response.error = fmt::format("{}: {} (is the daemon running for this directory?)", path,
                                     base::strerror_text(errno));
        return response;
    }
    if (!S_ISSOCK(info.st_mode)) {
        response.error = fmt::format("{}: not a socket", path);
        return response;
    }
    if (info.st_uid != 0 && info.st_uid != ::geteuid()) {
        response.error = fmt::format("{}: owned by uid {}, neither root nor this user: not "
                                     "trusted",
                                     path, info.st_uid);
        return response;
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof(address.sun_path)) {
        response.error = fmt::format("{}: path too long for a unix socket", path);
        return response;
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
        response.error = fmt::format("socket: {}", base::strerror_text(errno));
        return response;
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        if (errno != EAGAIN && errno != EINPROGRESS) {
            response.error = fmt::format("{}: {} (is the daemon running for this directory?)", path,
                                         base::strerror_text(errno));
            return response;
        }
        if (!wait_for(fd.get(), POLLOUT, deadline)) {
            response.error = fmt::format("{}: connect timed out", path);
            return response;
        }
    }
    response.connected = true;
    std::string line(request);
    line += '\n';
    std::string_view rest = line;
    while (!rest.empty()) {
        const ssize_t sent = ::send(fd.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
        if (sent > 0) {
            rest.remove_prefix(static_cast<std::size_t>(sent));
        } else if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(fd.get(), POLLOUT, deadline)) {
                response.error = "timed out sending the request";
                return response;
            }
        } else {
            response.error = fmt::format("send: {}", base::strerror_text(errno));
            return response;
        }
    }
    std::string received;
    char buffer[65536];
    for (;;) {
        const ssize_t got = ::recv(fd.get(), buffer, sizeof(buffer), 0);
        if (got > 0) {
            received.append(buffer, static_cast<std::size_t>(got));
            if (received.size() > kMaxResponse) {
                response.error = "response too large";
                return response;
            }
        } else if (got == 0) {
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (!wait_for(fd.get(), POLLIN, deadline)) {
                response.error = "timed out waiting for the daemon's answer";
                return response;
            }
        } else {
            response.error = fmt::format("recv: {}", base::strerror_text(errno));
            return response;
        }
    }
    const std::size_t newline = received.find('\n');
    const std::string status_line = received.substr(0, newline);
    response.body = newline == std::string::npos ? std::string() : received.substr(newline + 1);
    if (status_line == "ok") {
        response.ok = true;
    } else if (status_line.starts_with("error ")) {
        response.error = status_line.substr(6);
    } else {
        response.error = "malformed answer from the daemon";
    }
    return response;
}

} // namespace status
