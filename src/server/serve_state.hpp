// server/: what every listener answers from (the current snapshot, the forwarding hook, limits
// global and per client).
// Depends on query/, records/ and upstream/ types; nothing from lifecycle/ or config/.
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

#include "base/ip_address.hpp"
#include "query/handler.hpp"
#include "records/record_store.hpp"
#include "server/client_table.hpp"
#include "server/observer.hpp"
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
    std::vector<std::uint8_t> query, std::vector<base::Nameserver> servers,
    dns::Transport transport)>;

struct Limits {
    /// The per-client share of a global limit: one client (source address) may hold an eighth
    /// of it, so at least eight clients at their cap fit before the global limit is reached,
    /// but never fewer than 8, so a client keeps a usable share when the global limit is small.
    static constexpr std::size_t fair_share(std::size_t global) noexcept {
        return global / 8 > 8 ? global / 8 : 8;
    }

    /// Each wait for the next TCP message (and each reply write) is bounded by this (contract
    /// §4.1).
    std::chrono::milliseconds tcp_idle_timeout{3000};
    /// Open TCP connections over all listeners; a connection beyond it is closed at once.
    std::size_t max_tcp_connections = 512;
    /// UDP queries waiting for an upstream over all listeners; beyond it new ones get no reply
    /// (the client retries), so a flood cannot exhaust file descriptors.
    std::size_t max_udp_forwards = 512;
    /// Open TCP connections of one source address; a connection beyond it is closed at once.
    std::size_t max_tcp_connections_per_client = fair_share(512);
    /// Queries of one source address waiting for an upstream, UDP and TCP together; beyond it
    /// a query gets no reply, as when every upstream fails (contract §5.3).
    std::size_t max_forwards_per_client = fair_share(512);
};

/// What a listener asks the ServeState for before holding it; each is bounded per client and,
/// except TCP forwards (at most one per connection, so bounded by the connections), globally.
enum class Admission : std::uint8_t {
    TcpConnection,
    UdpForward,
    TcpForward
};

/// Shared by all listeners of one daemon; lives on the io_context thread only (no locks).
class ServeState {
public:
    ServeState(std::shared_ptr<const Snapshot> snapshot, ForwardFunction forward,
               Limits limits = {})
        : snapshot_(std::move(snapshot))
        , forward_(std::move(forward))
        , limits_(limits)
        // Every client present holds a TCP connection or a UDP forward (a TCP forward runs
        // inside its connection), so there are never more clients than these global slots.
        , clients_(limits.max_tcp_connections + limits.max_udp_forwards) {}

    const std::shared_ptr<const Snapshot>& snapshot() const noexcept { return snapshot_; }

    /// Replaces the snapshot; queries in flight keep the one they started with.
    void publish(std::shared_ptr<const Snapshot> snapshot) noexcept {
        snapshot_ = std::move(snapshot);
    }

    const ForwardFunction& forward() const noexcept { return forward_; }

    const Limits& limits() const noexcept { return limits_; }

    /// New limits (settings reload). Listeners read them at each check, so they apply to the next
    /// connection, datagram and wait; nothing already admitted is cut off.
    void set_limits(const Limits& limits) noexcept { limits_ = limits; }

    /// Takes one unit of `kind` for `client` if both its per-client cap and the global limit
    /// allow; otherwise counts the refusal in the matching shed_* counter (the per-client cap
    /// is checked first, so an over-eager client is counted as such even when all is full).
    /// O(1) expected and allocation-free.
    bool try_admit(Admission kind, const base::IpAddress& client) noexcept;

    /// Gives back a unit taken by try_admit.
    void release(Admission kind, const base::IpAddress& client) noexcept;

    /// Units `client` holds now: TCP connections, or forwards (UDP and TCP together).
    std::size_t held_by(const base::IpAddress& client, ClientResource resource) const noexcept {
        return clients_.held(client, resource);
    }

    /// Clients holding a connection or a forward now.
    std::size_t clients() const noexcept { return clients_.clients(); }

    std::size_t tcp_connections = 0;
    std::size_t udp_forwards = 0;

    /// Counters, the query log and self-checks for `ctrdns status` (server/observer.hpp).
    Observer observer;
    // Refusals since start, by reason (for `ctrdns status`). A shed TCP connection is closed
    // at once; a shed forward gets no reply.
    std::uint64_t shed_tcp_per_client = 0;     // source already held its share of connections
    std::uint64_t shed_tcp_global = 0;         // max_tcp_connections reached
    std::uint64_t shed_forward_per_client = 0; // source already had its share waiting upstream
    std::uint64_t shed_forward_global = 0;     // max_udp_forwards reached (UDP only)

private:
    std::shared_ptr<const Snapshot> snapshot_;
    ForwardFunction forward_;
    Limits limits_;
    ClientTable clients_;
};

/// Holds one admitted unit for as long as it lives. Passed by value into a coroutine, it is
/// released when the frame ends, even a frame destroyed before it ever ran.
class AdmittedSlot {
public:
    /// The slot, or nullopt when ServeState::try_admit refused it (and counted why).
    static std::optional<AdmittedSlot> take(std::shared_ptr<ServeState> state, Admission kind,
                                            const base::IpAddress& client) noexcept {
        if (!state->try_admit(kind, client)) {
            return std::nullopt;
        }
        return AdmittedSlot(std::move(state), kind, client);
    }

    AdmittedSlot(AdmittedSlot&& other) noexcept
        : state_(std::move(other.state_))
        , kind_(other.kind_)
        , client_(other.client_) {}

    AdmittedSlot& operator=(AdmittedSlot&&) = delete;
    AdmittedSlot(const AdmittedSlot&) = delete;
    AdmittedSlot& operator=(const AdmittedSlot&) = delete;

    ~AdmittedSlot() {
        if (state_) {
            state_->release(kind_, client_);
        }
    }

private:
    AdmittedSlot(std::shared_ptr<ServeState> state, Admission kind,
                 const base::IpAddress& client) noexcept
        : state_(std::move(state))
        , kind_(kind)
        , client_(client) {}

    std::shared_ptr<ServeState> state_;
    Admission kind_;
    base::IpAddress client_;
};

/// The upstream list of a Forward verdict: explicit servers on port 53, or empty for "the host
/// servers" (the forwarder then uses its resolv.conf list).
std::vector<base::Nameserver> upstream_servers_for(const query::Verdict& verdict);

/// The question type the handler read, for Observer::typed.
inline std::optional<std::uint16_t> parsed_type(const query::Verdict& verdict) noexcept {
    return verdict.parsed ? std::optional<std::uint16_t>(verdict.query.question.type)
                          : std::nullopt;
}

} // namespace server
