#include "server/udp_listener.hpp"

#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "base/log.hpp"
#include "server/asio_address.hpp"

namespace server {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

} // namespace

base::Result<std::shared_ptr<UdpListener>>
UdpListener::bind(const asio::any_io_executor& executor, const asio::ip::udp::endpoint& endpoint,
                  std::shared_ptr<ServeState> state, records::NetworkId network) {
    asio::ip::udp::socket socket(executor);
    std::error_code error;
    socket.open(endpoint.protocol(), error);
    if (error) {
        return base::Error::from_errno(error.value());
    }
    socket.bind(endpoint, error);
    if (error) {
        return base::Error::from_errno(error.value());
    }
    // Replies are sent inline from the receive loop; a full send buffer must drop the reply
    // (the client retries) rather than stall every other client of this listener.
    socket.non_blocking(true, error);
    if (error) {
        return base::Error::from_errno(error.value());
    }
    return std::shared_ptr<UdpListener>(
        new UdpListener(std::move(socket), std::move(state), network));
}

UdpListener::UdpListener(asio::ip::udp::socket socket, std::shared_ptr<ServeState> state,
                         records::NetworkId network)
    : socket_(std::move(socket))
    , state_(std::move(state))
    , network_(network)
    , batch_(std::make_unique<DatagramBatch>())
    , warmers_(std::make_unique<std::array<query::LookupWarmer, DatagramBatch::kSlots>>()) {}

UdpListener::~UdpListener() {
    stop();
}

void UdpListener::start() {
    asio::co_spawn(socket_.get_executor(), receive_loop(shared_from_this()), asio::detached);
}

void UdpListener::stop() noexcept {
    std::error_code ignored;
    socket_.close(ignored);
}

asio::ip::udp::endpoint UdpListener::local_endpoint() const {
    std::error_code ignored;
    return socket_.local_endpoint(ignored);
}

asio::awaitable<void>
UdpListener::receive_loop([[maybe_unused]] std::shared_ptr<UdpListener> self) {
    // asio's epoll registration is edge-triggered, so a wait completes only for datagrams that
    // arrive after the queue was last seen empty: drain first (datagrams may have arrived before
    // start()), and wait only once a receive came back short.
    while (socket_.is_open()) {
        std::error_code error;
        const std::size_t count = batch_->receive(socket_.native_handle(), error);
        if (error && error != asio::error::would_block) {
            // Transient (e.g. a queued ICMP error, consumed by this call); the socket is still
            // good.
            base::log::debug("udp receive on {}: {}", local_endpoint().address().to_string(),
                             error.message());
            continue;
        }
        warm_batch(count);
        for (std::size_t slot = 0; slot < count; ++slot) {
            try {
                serve_datagram(slot);
            } catch (const std::exception& e) {
                base::log::error("udp query failed: {}", e.what());
            }
        }
        batch_->flush(socket_.native_handle());
        if (count == DatagramBatch::kSlots) {
            // More may be queued: keep draining, but let TCP and the other listeners run first.
            co_await asio::post(socket_.get_executor(), asio::use_awaitable);
            continue;
        }
        // The queue was empty when recvmmsg returned short: anything newer raises a new edge.
        auto [wait_error] = co_await socket_.async_wait(asio::socket_base::wait_read, kUseTuple);
        if (wait_error == asio::error::operation_aborted || !socket_.is_open()) {
            break;
        }
    }
    base::log::debug("udp listener on {} stopped", local_endpoint().address().to_string());
}

// Each lookup of a large store is a chain of cache misses (index, record, entry, data), each
// waiting for the one before. Walking every query's chain one step at a time, the whole batch
// before the next step, lets the batch's misses overlap.
void UdpListener::warm_batch(std::size_t count) {
    const std::shared_ptr<const Snapshot>& snapshot = state_->snapshot();
    const records::RecordStore& store = *snapshot->store;
    warmed_snapshot_ = nullptr;
    if (count < 2 || !store.worth_warming()) {
        return; // nothing to overlap with, or nothing that misses the cache
    }
    warmed_snapshot_ = snapshot.get();
    auto& warmers = *warmers_;
    for (std::size_t slot = 0; slot < count; ++slot) {
        const query::Client client{from_asio(batch_->sender(slot).address()), network_,
                                   dns::Transport::Udp};
        warmers[slot].note(batch_->request(slot), client, store, snapshot->settings);
    }
    for (unsigned step = 1; step < query::LookupWarmer::kSteps; ++step) {
        for (std::size_t slot = 0; slot < count; ++slot) {
            warmers[slot].warm(store, step);
        }
    }
}

void UdpListener::serve_datagram(std::size_t slot) {
    const std::shared_ptr<const Snapshot> snapshot = state_->snapshot();
    const asio::ip::udp::endpoint& sender = batch_->sender(slot);
    const query::Client client{from_asio(sender.address()), network_, dns::Transport::Udp};
    const std::span<const std::uint8_t> request = batch_->request(slot);
    Observer& observer = state_->observer;
    if (observer.self_checks.pending() &&
        observer.self_checks.claim(request, from_asio(local_endpoint().address()))) {
        ++observer.counters.self_checks;
        return;
    }
    const QueryTrace trace =
        observer.begin(request, client.source, sender.port(), network_, *snapshot->store, false);
    // What the warm-up worked out for this query is handle()'s to reuse (same bytes, same
    // snapshot: nothing runs between the warm-up and the batch's answers).
    std::optional<query::KnownLookup> known;
    if (warmed_snapshot_ == snapshot.get()) {
        known = (*warmers_)[slot].known();
    }
    query::handle(request, client, *snapshot->store, snapshot->settings, batch_->reply_space(),
                  verdict_, known ? &*known : nullptr);

    switch (verdict_.action) {
    case query::Verdict::Action::Reply:
        // Before queue_reply, which moves reply_space() on to the next reply.
        observer.replied(trace, batch_->reply_space().first(verdict_.reply_size));
        batch_->queue_reply(slot, verdict_.reply_size);
        break;
    case query::Verdict::Action::Forward: {
        if (!state_->forward()) {
            break;
        }
        std::optional<AdmittedSlot> waiting =
            AdmittedSlot::take(state_, Admission::UdpForward, client.source);
        if (!waiting) {
            // Over the client's share or the global limit (counted in ServeState).
            base::log::debug("too many forwarded udp queries in flight, dropping one");
            break;
        }
        asio::co_spawn(socket_.get_executor(),
                       forward(shared_from_this(), std::move(*waiting),
                               std::vector<std::uint8_t>(request.begin(), request.end()),
                               upstream_servers_for(verdict_), sender, trace),
                       asio::detached);
        break;
    }
    case query::Verdict::Action::Drop:
        observer.dropped(trace);
        break;
    }
}

asio::awaitable<void> UdpListener::forward([[maybe_unused]] std::shared_ptr<UdpListener> self,
                                           [[maybe_unused]] AdmittedSlot slot,
                                           std::vector<std::uint8_t> request,
                                           std::vector<base::Nameserver> servers,
                                           asio::ip::udp::endpoint client, QueryTrace trace) {
    try {
        const std::vector<base::Nameserver> asked = servers;
        const std::optional<std::vector<std::uint8_t>> reply =
            co_await state_->forward()(std::move(request), std::move(servers), dns::Transport::Udp);
        state_->observer.forwarded(trace, asked, reply);
        // No reply at all when every upstream failed (contract §5.3): the client times out.
        if (reply) {
            send_reply(*reply, client);
        }
    } catch (const std::exception& e) {
        base::log::error("forwarded udp query failed: {}", e.what());
    }
}

void UdpListener::send_reply(std::span<const std::uint8_t> reply,
                             const asio::ip::udp::endpoint& client) {
    if (reply.empty() || !socket_.is_open()) {
        return;
    }
    std::error_code error;
    socket_.send_to(asio::buffer(reply.data(), reply.size()), client, 0, error);
    if (error) {
        base::log::debug("udp reply to {}: {}", client.address().to_string(), error.message());
    }
}

} // namespace server
