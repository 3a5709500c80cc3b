// upstream/: relaying raw queries to upstream resolvers over UDP/TCP (asio). Depends on dns/ and
// base/ only: nothing from records/, config/ or query/.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "base/ip_address.hpp"

namespace upstream {

struct Server {
    base::IpAddress address;
    std::uint32_t scope_id = 0; // IPv6 link-local zone (interface index); 0 = none
    std::uint16_t port = 53;

    bool operator==(const Server&) const = default;
};

enum class Transport {
    Udp,
    Tcp
};

struct Options {
    bool cache_enabled = true;
};

/// Forwards queries the way aardvark-dns 2.0 does (spec §5.3) plus health memory and a cache.
/// Lives on one io_context thread; not thread-safe.
class Forwarder {
public:
    Forwarder(asio::any_io_executor executor, Options options);
    ~Forwarder();
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;

    /// Relays `query` (the client's raw bytes) to `servers` in order with a total 5 s budget
    /// split across them, over `transport`. Returns the upstream's response with the client's
    /// ID restored, or nullopt when every server failed (the caller then sends nothing).
    /// An empty `servers` means "the host servers" (set_host_servers).
    asio::awaitable<std::optional<std::vector<std::uint8_t>>> forward(
        std::vector<std::uint8_t> query, std::vector<Server> servers, Transport transport);

    /// The resolv.conf servers (first three), replaced on reload and on resolv.conf change.
    void set_host_servers(std::vector<Server> servers);

    /// Addresses ctrdns itself listens on: never forwarded to (loop guard, logged once).
    void set_local_addresses(std::vector<base::IpAddress> addresses);

    /// Drops every cached answer (reload, resolv.conf change).
    void flush_cache();

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace upstream
