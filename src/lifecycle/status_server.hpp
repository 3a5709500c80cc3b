// daemon/: the daemon's side of `ctrdns status`: a unix stream socket beside the config directory
// (status/client.hpp has the path and the protocol), served on the io thread, plus SIGUSR1, which
// toggles the query log. Reads the serving state (server/), the forwarder (upstream/) and the
// reload passes it is given; changes nothing but the query log switch. Never CLI11.
//
// A status client can never slow down answers: each connection is a coroutine bounded by a
// deadline, requests are capped at one short line, only a few connections are served at once,
// and the peer must be root or the daemon's own user.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>

#include "lifecycle/reload_engine.hpp"
#include "server/listener_set.hpp"
#include "server/serve_state.hpp"
#include "status/report.hpp"
#include "upstream/forwarder.hpp"

namespace lifecycle {

/// What the status server reads; all owned by the daemon and outliving it.
struct StatusSources {
    const server::ListenerSet& listeners;
    const upstream::Forwarder& forwarder;
    std::shared_ptr<server::ServeState> state;
    std::string config_dir;
    std::uint16_t port = 0;
};

class StatusServer {
public:
    StatusServer(asio::any_io_executor executor, StatusSources sources);
    ~StatusServer();
    StatusServer(const StatusServer&) = delete;
    StatusServer& operator=(const StatusServer&) = delete;

    /// Binds the socket and installs SIGUSR1. A socket that cannot be bound safely (the path is
    /// held by something that is not our own stale socket, or a live daemon still serves it) is
    /// logged and status stays off: DNS service never depends on it.
    void start();

    /// Remembers one reload pass (start-up included) for the report.
    void record_pass(const PassResult& pass);

    /// Switches the query log and logs the change.
    void set_query_log(bool enabled);

    /// The report without self-queries (they need the io loop to run; see probe_listeners).
    status::Report collect() const;

    const std::string& socket_path() const noexcept;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

} // namespace lifecycle
