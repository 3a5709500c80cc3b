// server/: one UDP socket bound to one gateway address (contract §4.1). asio, query/ and the
// ServeState only; nothing from lifecycle/ or config/.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/udp.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "dns/types.hpp"
#include "query/handler.hpp"
#include "query/lookup_warmer.hpp"
#include "records/record_store.hpp"
#include "server/batched_socket.hpp"
#include "server/serve_state.hpp"

namespace server {

/// Waits for readability, then drains the socket in batches (recvmmsg) and answers local names
/// inline with one sendmmsg per batch; a query that must be forwarded becomes its own coroutine
/// so the loop never waits on an upstream. The socket is watched only while the loop sleeps
/// (see receive_loop). Owned through shared_ptr: the running loop holds a reference, so stop()
/// may be called and the owner may let go at any time.
class UdpListener : public std::enable_shared_from_this<UdpListener> {
public:
    /// Opens and binds `endpoint` without SO_REUSEADDR, so a socket already holding the port
    /// (even the wildcard address) makes the bind fail as aardvark's does. The error is the
    /// bare "<strerror> (os error N)".
    static base::Result<std::shared_ptr<UdpListener>> bind(const asio::any_io_executor& executor,
                                                           const asio::ip::udp::endpoint& endpoint,
                                                           std::shared_ptr<ServeState> state,
                                                           records::NetworkId network);

    UdpListener(const UdpListener&) = delete;
    UdpListener& operator=(const UdpListener&) = delete;
    ~UdpListener();

    /// Starts the receive loop on the socket's executor.
    void start();

    /// Closes the socket: the loop ends, forwarded queries still in flight send no reply.
    void stop() noexcept;

    /// The network of this listener in the current snapshot (ids change across reloads).
    void set_network(records::NetworkId network) noexcept { network_ = network; }

    records::NetworkId network() const noexcept { return network_; }

    asio::ip::udp::endpoint local_endpoint() const;

    bool is_open() const noexcept { return socket_.valid(); }

private:
    UdpListener(base::UniqueFd socket, asio::ip::udp::endpoint local,
                asio::posix::stream_descriptor wake_set, std::shared_ptr<ServeState> state,
                records::NetworkId network);

    asio::awaitable<void> receive_loop(std::shared_ptr<UdpListener> self);
    void warm_batch(std::size_t count);
    void serve_datagram(std::size_t slot);
    asio::awaitable<void> forward(std::shared_ptr<UdpListener> self, AdmittedSlot slot,
                                  std::vector<std::uint8_t> request,
                                  std::vector<base::Nameserver> servers,
                                  asio::ip::udp::endpoint client, QueryTrace trace);
    void send_reply(std::span<const std::uint8_t> reply, const asio::ip::udp::endpoint& client);
    /// False once the listener was stopped.
    asio::awaitable<bool> sleep_until_readable();
    bool watch_socket() noexcept;
    void unwatch_socket() noexcept;

    // Not an asio socket: asio would keep it in its epoll set for good, and every datagram in and
    // every reply freed would then call into epoll, busy or not (docs/architecture.md).
    base::UniqueFd socket_;
    asio::ip::udp::endpoint local_;
    // A private epoll set that holds socket_ only while the loop sleeps; asio waits on this set.
    asio::posix::stream_descriptor wake_set_;
    bool polling_ = false; // the set could not take the socket: warned once, polling
    std::shared_ptr<ServeState> state_;
    records::NetworkId network_;
    std::unique_ptr<DatagramBatch> batch_;
    std::unique_ptr<std::array<query::LookupWarmer, DatagramBatch::kSlots>> warmers_;
    // The snapshot the warmers noted this batch's queries in; nullptr when they did not (their
    // notes are then a past batch's and must not reach handle()).
    const Snapshot* warmed_snapshot_ = nullptr;
    query::Verdict verdict_;
};

} // namespace server
