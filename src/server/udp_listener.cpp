#include "server/udp_listener.hpp"

#include <cerrno>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include <sys/epoll.h>
#include <sys/socket.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "base/log.hpp"
#include "server/asio_address.hpp"

namespace server {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kPollInterval{1};

} // namespace

base::Result<std::shared_ptr<UdpListener>>
UdpListener::bind(const asio::any_io_executor& executor, const asio::ip::udp::endpoint& endpoint,
                  std::shared_ptr<ServeState> state, records::NetworkId network) {
    // Non-blocking: replies are sent inline from the receive loop; a full send buffer must drop
    // the reply (the client retries) rather than stall every other client of this listener.
    base::UniqueFd socket(
        ::socket(endpoint.protocol().family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket.valid()) {
        return base::Error::from_errno(errno);
    }
    if (::bind(socket.get(), endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
        return base::Error::from_errno(errno);
    }
    asio::ip::udp::endpoint local;
    auto local_size = static_cast<socklen_t>(local.capacity());
    if (::getsockname(socket.get(), local.data(), &local_size) != 0) {
        return base::Error::from_errno(errno);
    }
    local.resize(local_size);
    base::UniqueFd wake_set(::epoll_create1(EPOLL_CLOEXEC));
    if (!wake_set.valid()) {
        return base::Error::from_errno(errno);
    }
    asio::posix::stream_descriptor wake_descriptor(executor);
    std::error_code error;
    wake_descriptor.assign(wake_set.get(), error);
    if (error) {
        return base::Error::from_errno(error.value());
    }
    wake_set.release(); // the descriptor owns it now
    return std::shared_ptr<UdpListener>(new UdpListener(
        std::move(socket), local, std::move(wake_descriptor), std::move(state), network));
}

UdpListener::UdpListener(base::UniqueFd socket, asio::ip::udp::endpoint local,
                         asio::posix::stream_descriptor wake_set, std::shared_ptr<ServeState> state,
                         records::NetworkId network)
    : socket_(std::move(socket))
    , local_(std::move(local))
    , wake_set_(std::move(wake_set))
    , state_(std::move(state))
    , network_(network)
    , batch_(std::make_unique<DatagramBatch>())
    , warmers_(std::make_unique<std::array<query::LookupWarmer, DatagramBatch::kSlots>>()) {}

UdpListener::~UdpListener() {
    stop();
}

void UdpListener::start() {
    asio::co_spawn(wake_set_.get_executor(), receive_loop(shared_from_this()), asio::detached);
}

void UdpListener::stop() noexcept {
    std::error_code ignored;
    wake_set_.close(ignored); // ends a pending wait with operation_aborted
    socket_.reset();
}

asio::ip::udp::endpoint UdpListener::local_endpoint() const {
    return local_;
}

bool UdpListener::watch_socket() noexcept {
    epoll_event event{};
    event.events = EPOLLIN;
    return ::epoll_ctl(wake_set_.native_handle(), EPOLL_CTL_ADD, socket_.get(), &event) == 0 ||
           errno == EEXIST;
}

void UdpListener::unwatch_socket() noexcept {
    ::epoll_ctl(wake_set_.native_handle(), EPOLL_CTL_DEL, socket_.get(), nullptr);
}

asio::awaitable<void>
UdpListener::receive_loop([[maybe_unused]] std::shared_ptr<UdpListener> self) {
    // Shaped like a blocking recvmmsg loop, the cheapest there is: receive again as soon as a
    // batch is answered, and sleep only when a receive finds nothing. Under load, the next
    // queries have arrived while this batch was answered, so most batches never sleep.
    //
    // While the socket is in an epoll set, every datagram that arrives and every reply the kernel
    // frees calls into that set, even while this loop is busy: a few percent of the answers per
    // second under load. So the socket joins its private set only to sleep, and leaves it on
    // waking. The set is level-triggered: a datagram that arrived between the empty receive and
    // the join makes it ready at once.
    std::size_t since_yield = 0;
    while (socket_.valid()) {
        std::error_code error;
        const std::size_t count = batch_->receive(socket_.get(), error);
        if (error == asio::error::would_block) {
            since_yield = 0;
            if (!co_await sleep_until_readable()) {
                break;
            }
            continue;
        }
        if (error) {
            // Transient (e.g. a queued ICMP error, consumed by this call); the socket is still
            // good.
            base::log::debug("udp receive on {}: {}", local_.address().to_string(),
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
        batch_->flush(socket_.get());
        since_yield += count;
        if (since_yield >= DatagramBatch::kSlots) {
            // Let TCP, timers and the other listeners run between batches of a long burst.
            since_yield = 0;
            co_await asio::post(wake_set_.get_executor(), asio::use_awaitable);
        }
    }
    base::log::debug("udp listener on {} stopped", local_.address().to_string());
}

asio::awaitable<bool> UdpListener::sleep_until_readable() {
    if (!watch_socket()) {
        // Out of kernel memory for epoll (ENOMEM, max_user_watches): poll instead of going deaf,
        // and try to sleep properly again next time round.
        const std::error_code cause(errno, std::system_category());
        if (!polling_) {
            base::log::warn("udp listener on {}: cannot wait for the socket ({}); polling",
                            local_.address().to_string(), cause.message());
            polling_ = true;
        }
        asio::steady_timer pause(wake_set_.get_executor(), kPollInterval);
        co_await pause.async_wait(kUseTuple);
        co_return socket_.valid();
    }
    polling_ = false;
    auto [error] =
        co_await wake_set_.async_wait(asio::posix::descriptor_base::wait_read, kUseTuple);
    if (error == asio::error::operation_aborted || !socket_.valid()) {
        co_return false;
    }
    unwatch_socket();
    co_return true;
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
    // Not a copy: the snapshot is swapped only by a handler on this thread, and nothing here
    // yields; a forward goes on with its own copy of what it needs.
    const Snapshot* const snapshot = state_->snapshot().get();
    const asio::ip::udp::endpoint& sender = batch_->sender(slot);
    const query::Client client{from_asio(sender.address()), network_, dns::Transport::Udp};
    const std::span<const std::uint8_t> request = batch_->request(slot);
    Observer& observer = state_->observer;
    if (observer.self_checks.pending() &&
        observer.self_checks.claim(request, from_asio(local_.address()))) {
        ++observer.counters.self_checks;
        return;
    }
    QueryTrace trace =
        observer.begin(request, client.source, sender.port(), network_, *snapshot->store, false);
    // What the warm-up worked out for this query is handle()'s to reuse (same bytes, same
    // snapshot: nothing runs between the warm-up and the batch's answers).
    std::optional<query::KnownLookup> known;
    if (warmed_snapshot_ == snapshot) {
        known = (*warmers_)[slot].known();
    }
    query::handle(request, client, *snapshot->store, snapshot->settings, batch_->reply_space(),
                  verdict_, known ? &*known : nullptr);
    observer.typed(trace, request, parsed_type(verdict_));

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
        asio::co_spawn(wake_set_.get_executor(),
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
    if (reply.empty() || !socket_.valid()) {
        return;
    }
    if (::sendto(socket_.get(), reply.data(), reply.size(), 0, client.data(),
                 static_cast<socklen_t>(client.size())) < 0) {
        const std::error_code cause(errno, std::system_category());
        base::log::debug("udp reply to {}: {}", client.address().to_string(), cause.message());
    }
}

} // namespace server
