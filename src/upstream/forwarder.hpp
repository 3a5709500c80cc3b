// upstream/: relaying raw queries to upstream resolvers over UDP/TCP (asio). Depends on dns/ and
// base/ only: nothing from records/, config/ or query/.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "base/ip_address.hpp"
#include "base/nameserver.hpp"
#include "dns/types.hpp"
#include "upstream/answer_cache.hpp"
#include "upstream/health.hpp"

namespace upstream {

struct Options {
    bool cache_enabled = true;
    CacheSettings cache; // bounds; the defaults are the cache's own

    /// Remember upstreams that time out and try them last (docs/forwarding.md).
    bool health_enabled = true;
    HealthSettings health; // back-off, probe timeout, table size; the health memory's defaults

    /// aardvark's budget for one forwarded query, split evenly across its servers (contract §5.3).
    /// Only tests should change it.
    std::chrono::milliseconds total_budget{5000};

    /// Forwards waiting for an upstream at once; beyond it forward() returns nullopt at once.
    std::size_t max_in_flight = 1024;

    /// Time source for the cache and the health memory (tests inject one); empty = steady_clock.
    /// Socket timeouts always use the real clock.
    std::function<std::chrono::steady_clock::time_point()> clock;
};

/// Counters since construction, for logs and tests.
struct ForwarderStats {
    std::uint64_t cache_hits = 0;
    std::uint64_t forwarded = 0;         // queries sent to at least one upstream
    std::uint64_t answered = 0;          // of those, relayed an upstream answer
    std::uint64_t unanswered = 0;        // every upstream failed: no reply
    std::uint64_t rejected_busy = 0;     // max_in_flight reached
    std::uint64_t loop_skips = 0;        // a local listen address skipped as upstream
    std::uint64_t upstream_timeouts = 0; // attempts at one server that timed out
    std::uint64_t upstream_failures = 0; // attempts that failed otherwise
    std::uint64_t probes = 0;            // background probes of servers in back-off
};

/// Forwards queries the way aardvark-dns 2.0 does (contract §5.3) plus health memory and a cache.
/// Lives on one io_context thread; not thread-safe. Coroutines still running when it is
/// destroyed keep its state alive until they finish.
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
    asio::awaitable<std::optional<std::vector<std::uint8_t>>>
    forward(std::vector<std::uint8_t> query, std::vector<base::Nameserver> servers,
            dns::Transport transport);

    /// The resolv.conf servers (first three), replaced on reload and on resolv.conf change.
    void set_host_servers(std::vector<base::Nameserver> servers);

    /// Addresses ctrdns itself listens on: never forwarded to (loop guard, logged once).
    void set_local_addresses(std::vector<base::IpAddress> addresses);

    /// Drops every cached answer (reload, resolv.conf change).
    void flush_cache();

    /// Applies what the settings file may change at run time: cache_enabled (off drops every
    /// cached answer), the cache bounds (smaller ones evict at once), the health memory's
    /// settings (a smaller table forgets at once; servers already down keep their back-off) and
    /// max_in_flight (forwards already running finish). Budget, health_enabled and clock stay as
    /// constructed.
    void reconfigure(const Options& options);

    ForwarderStats stats() const;

    /// Forwards currently waiting for an upstream.
    std::size_t in_flight() const;

    /// Answers currently cached.
    std::size_t cache_size() const;

    /// Bytes the cache holds (answers, keys and bookkeeping).
    std::size_t cache_bytes() const;

    bool cache_enabled() const;

    /// The resolv.conf servers in use.
    std::vector<base::Nameserver> host_servers() const;

    /// Upstreams in back-off (docs/forwarding.md), for `ctrdns status`.
    struct DownUpstream {
        base::Nameserver server;
        unsigned failures = 0;
        std::chrono::steady_clock::duration retry_in{}; // until a probe may test it again
    };

    std::vector<DownUpstream> down_upstreams() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

} // namespace upstream
