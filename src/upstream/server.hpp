// upstream/: the address of one upstream resolver, a plain value type shared by the forwarder,
// its health memory and its cache. Depends on base/ only (no asio), so those stay pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/ip_address.hpp"

namespace upstream {

struct Server {
    base::IpAddress address;
    std::uint32_t scope_id = 0; // IPv6 link-local zone (interface index); 0 = none
    std::uint16_t port = 53;

    bool operator==(const Server&) const = default;
};

struct ServerHash {
    std::size_t operator()(const Server& server) const noexcept {
        std::size_t seed = server.address.hash();
        seed ^= (std::size_t{server.scope_id} << 16) + server.port + 0x9e3779b9U + (seed << 6) +
                (seed >> 2);
        return seed;
    }
};

/// `ip:port`, `[v6]:port` or `[v6%scope]:port`, for logs.
inline std::string to_string(const Server& server) {
    if (server.scope_id == 0) {
        return server.address.to_endpoint_string(server.port);
    }
    return "[" + server.address.to_string() + "%" + std::to_string(server.scope_id) +
           "]:" + std::to_string(server.port);
}

} // namespace upstream
