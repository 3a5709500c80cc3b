// server/: what every listener answers from (the current snapshot, the forwarding hook, limits).
// Depends on query/, records/ and upstream/ types; nothing from daemon/ or config/.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>

#include "query/handler.hpp"
#include "records/record_store.hpp"
#include "upstream/forwarder.hpp"

namespace server {

/// One reload's worth of data. Immutable once published: a query copies the shared_ptr at entry
/// and keeps it until its reply is sent, so a reload never changes data under a running query.
struct Snapshot {
    std::shared_ptr<const records::RecordStore> store;
    query::Settings settings;
};

/// Relays a raw query; the signature of upstream::Forwarder::forward. Injected so the server can
/// be tested without upstreams, and so that server/ never owns the forwarder.
using ForwardFunction = std::function<asio::awaitable<std::optional<std::vector<std::uint8_t>>>(
    std::vector<std::uint8_t> query, std::vector<upstream::Server> servers,
    upstream::Transport transport)>;

struct Limits {
    /// Each wait for the next TCP message (and each reply write) is bounded by this (contract
    /// §4.1).
    std::chrono::milliseconds tcp_idle_timeout{3000};
    /// Open TCP connections over all listeners; a connection beyond it is closed at once.
    std::size_t max_tcp_connections = 512;
    /// UDP queries waiting for an upstream over all listeners; beyond it new ones get no reply
    /// (the client retries), so a flood cannot exhaust file descriptors.
    std::size_t max_udp_forwards = 512;
};

/// Shared by all listeners of one daemon; lives on the io_context thread only (no locks).
class ServeState {
public:
    ServeState(std::shared_ptr<const Snapshot> snapshot, ForwardFunction forward,
               Limits limits = {})
        : snapshot_(std::move(snapshot))
        , forward_(std::move(forward))
        , limits_(limits) {}

    const std::shared_ptr<const Snapshot>& snapshot() const noexcept { return snapshot_; }

    /// Replaces the snapshot; queries in flight keep the one they started with.
    void publish(std::shared_ptr<const Snapshot> snapshot) noexcept {
        snapshot_ = std::move(snapshot);
    }

    const ForwardFunction& forward() const noexcept { return forward_; }

    const Limits& limits() const noexcept { return limits_; }

    std::size_t tcp_connections = 0;
    std::size_t udp_forwards = 0;

private:
    std::shared_ptr<const Snapshot> snapshot_;
    ForwardFunction forward_;
    Limits limits_;
};

/// Holds one unit of a ServeState counter for as long as it lives. Passed by value into a
/// coroutine, it is released when the frame ends, even a frame destroyed before it ever ran.
class CountedSlot {
public:
    using Counter = std::size_t ServeState::*;

    CountedSlot(std::shared_ptr<ServeState> state, Counter counter) noexcept
        : state_(std::move(state))
        , counter_(counter) {
        ++((*state_).*counter_);
    }

    CountedSlot(CountedSlot&& other) noexcept
        : state_(std::move(other.state_))
        , counter_(other.counter_) {}

    CountedSlot& operator=(CountedSlot&&) = delete;
    CountedSlot(const CountedSlot&) = delete;
    CountedSlot& operator=(const CountedSlot&) = delete;

    ~CountedSlot() {
        if (state_) {
            --((*state_).*counter_);
        }
    }

private:
    std::shared_ptr<ServeState> state_;
    Counter counter_;
};

/// The upstream list of a Forward verdict: explicit servers on port 53, or empty for "the host
/// servers" (the forwarder then uses its resolv.conf list).
std::vector<upstream::Server> upstream_servers_for(const query::Verdict& verdict);

} // namespace server
