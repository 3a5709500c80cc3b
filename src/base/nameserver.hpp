// base/: one upstream DNS server, the value type that resolv.conf parsing (config/), the query
// policy's forward verdict (query/) and the forwarder with its health memory and cache
// (upstream/) all pass along. It lives in base/ because those layers share nothing higher up.
// Depends on base/ip_address only: no asio, so the pure layers stay pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/ip_address.hpp"

namespace base {

/// The DNS port (RFC 1035 §4.2). Upstream servers are always asked on it (resolv.conf and the
/// network files name addresses only), and netavark's default `dns_bind_port` is this too.
inline constexpr std::uint16_t kDnsPort = 53;

struct Nameserver {
    IpAddress address;
    std::uint32_t scope_id = 0; // IPv6 link-local zone (interface index); 0 = none
    std::uint16_t port = kDnsPort;

    bool operator==(const Nameserver&) const = default;
};

struct NameserverHash {
    std::size_t operator()(const Nameserver& server) const noexcept {
        std::size_t seed = server.address.hash();
        seed ^= (std::size_t{server.scope_id} << 16) + server.port + 0x9e3779b9U + (seed << 6) +
                (seed >> 2);
        return seed;
    }
};

/// `ip:port`, `[v6]:port` or `[v6%scope]:port`, for logs.
inline std::string to_string(const Nameserver& server) {
    if (server.scope_id == 0) {
        return server.address.to_endpoint_string(server.port);
    }
    return "[" + server.address.to_string() + "%" + std::to_string(server.scope_id) +
           "]:" + std::to_string(server.port);
}

} // namespace base
