// Test support: blocking loopback DNS clients with timeouts (plain POSIX sockets, so the server's
// io_context can run on its own thread) and readers for the header fields of their replies.
// Loopback addresses only. Must not depend on any ctrdns library above base/.
#pragma once

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "support/dns_message.hpp"

namespace test_support {

using namespace std::chrono_literals;

inline std::uint16_t id_of(const Bytes& message) {
    return message.size() < 2 ? 0 : static_cast<std::uint16_t>((message[0] << 8U) | message[1]);
}

inline std::uint16_t answer_count(const Bytes& message) {
    return message.size() < 8 ? 0 : static_cast<std::uint16_t>((message[6] << 8U) | message[7]);
}

inline int rcode_of(const Bytes& message) {
    return message.size() < 4 ? -1 : message[3] & 0x0F;
}

/// The last 4 bytes: the RDATA of a reply whose only (last) record is an A record.
inline std::string last_a_record(const Bytes& message) {
    if (message.size() < 4) {
        return {};
    }
    const std::size_t at = message.size() - 4;
    return std::to_string(message[at]) + "." + std::to_string(message[at + 1]) + "." +
           std::to_string(message[at + 2]) + "." + std::to_string(message[at + 3]);
}

inline sockaddr_in loopback(const char* ip, std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &address.sin_addr);
    return address;
}

inline bool wait_readable(int fd, std::chrono::milliseconds timeout) {
    pollfd entry{fd, POLLIN, 0};
    return ::poll(&entry, 1, static_cast<int>(timeout.count())) == 1;
}

/// Binds `fd` to `source` (port chosen by the kernel), so a test can act as several clients.
inline void bind_source(int fd, const char* source) {
    if (source != nullptr) {
        const sockaddr_in from = loopback(source, 0);
        ::bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof(from));
    }
}

class UdpClient {
public:
    /// `source`: the loopback address to send from; nullptr lets the kernel choose.
    explicit UdpClient(const char* source = nullptr)
        : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        bind_source(fd_.get(), source);
    }

    void send(const char* ip, std::uint16_t port, const Bytes& message) {
        const sockaddr_in to = loopback(ip, port);
        ::sendto(fd_.get(), message.data(), message.size(), 0,
                 reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    }

    std::optional<Bytes> receive(std::chrono::milliseconds timeout = 2000ms) {
        if (!wait_readable(fd_.get(), timeout)) {
            return std::nullopt;
        }
        Bytes buffer(65535);
        const ssize_t got = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
        if (got < 0) {
            return std::nullopt;
        }
        buffer.resize(static_cast<std::size_t>(got));
        return buffer;
    }

    std::optional<Bytes> exchange(const char* ip, std::uint16_t port, const Bytes& message,
                                  std::chrono::milliseconds timeout = 2000ms) {
        send(ip, port, message);
        return receive(timeout);
    }

private:
    base::UniqueFd fd_;
};

class TcpClient {
public:
    /// `source`: the loopback address to connect from; nullptr lets the kernel choose.
    TcpClient(const char* ip, std::uint16_t port, const char* source = nullptr)
        : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        bind_source(fd_.get(), source);
        const sockaddr_in to = loopback(ip, port);
        connected_ = ::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) == 0;
    }

    bool connected() const { return connected_; }

    void send_raw(const Bytes& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const ssize_t n =
                ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            sent += static_cast<std::size_t>(n);
        }
    }

    static Bytes framed(const Bytes& message) {
        Bytes out{static_cast<std::uint8_t>(message.size() >> 8U),
                  static_cast<std::uint8_t>(message.size() & 0xFFU)};
        out.insert(out.end(), message.begin(), message.end());
        return out;
    }

    void send_framed(const Bytes& message) { send_raw(framed(message)); }

    /// One length-prefixed message; nullopt on timeout or EOF.
    std::optional<Bytes> receive_framed(std::chrono::milliseconds timeout = 2000ms) {
        std::array<std::uint8_t, 2> prefix{};
        if (!read_exact(prefix.data(), prefix.size(), timeout)) {
            return std::nullopt;
        }
        Bytes message((std::size_t{prefix[0]} << 8U) | prefix[1]);
        if (!read_exact(message.data(), message.size(), timeout)) {
            return std::nullopt;
        }
        return message;
    }

    /// True when the server closed the connection (EOF or reset) within `timeout`.
    bool closed_by_peer(std::chrono::milliseconds timeout) {
        if (!wait_readable(fd_.get(), timeout)) {
            return false;
        }
        std::uint8_t byte = 0;
        const ssize_t n = ::recv(fd_.get(), &byte, 1, 0);
        return n == 0 || (n < 0 && errno == ECONNRESET);
    }

    void shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }

private:
    bool read_exact(std::uint8_t* data, std::size_t size, std::chrono::milliseconds timeout) {
        std::size_t got = 0;
        while (got < size) {
            if (!wait_readable(fd_.get(), timeout)) {
                return false;
            }
            const ssize_t n = ::recv(fd_.get(), data + got, size - got, 0);
            if (n <= 0) {
                return false;
            }
            got += static_cast<std::size_t>(n);
        }
        return true;
    }

    base::UniqueFd fd_;
    bool connected_ = false;
};

/// A port free for both UDP and TCP on `ip` right now (tiny race; tests use 127.0.0.x).
inline std::uint16_t free_port(const char* ip) {
    for (int attempt = 0; attempt < 50; ++attempt) {
        base::UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_in address = loopback(ip, 0);
        if (::bind(udp.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
            continue;
        }
        socklen_t length = sizeof(address);
        ::getsockname(udp.get(), reinterpret_cast<sockaddr*>(&address), &length);
        base::UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (::bind(tcp.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
            return ntohs(address.sin_port);
        }
    }
    return 0;
}

} // namespace test_support
