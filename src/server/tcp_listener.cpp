#include "server/tcp_listener.hpp"

#include <array>
#include <chrono>
#include <exception>
#include <optional>
#include <utility>
#include <variant>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "base/log.hpp"
#include "dns/types.hpp"
#include "server/asio_address.hpp"
#include "server/deadline.hpp"

namespace server {
namespace {

using namespace asio::experimental::awaitable_operators;

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

/// Reads one length-prefixed message (RFC 1035 §4.2.2) into `message`.
asio::awaitable<std::error_code> read_message(asio::ip::tcp::socket& socket,
                                              std::vector<std::uint8_t>& message) {
    std::array<std::uint8_t, 2> prefix{};
    auto [prefix_error, prefix_size] =
        co_await asio::async_read(socket, asio::buffer(prefix), kUseTuple);
    if (prefix_error) {
        co_return prefix_error;
    }
    message.resize((std::size_t{prefix[0]} << 8U) | prefix[1]);
    auto [body_error, body_size] =
        co_await asio::async_read(socket, asio::buffer(message), kUseTuple);
    co_return body_error;
}

asio::awaitable<std::error_code> write_all(asio::ip::tcp::socket& socket,
                                           const std::vector<std::uint8_t>& bytes) {
    auto [error, size] = co_await asio::async_write(socket, asio::buffer(bytes), kUseTuple);
    co_return error;
}

void append_framed(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> message) {
    out.clear();
    out.reserve(message.size() + 2);
    out.push_back(static_cast<std::uint8_t>(message.size() >> 8U));
    out.push_back(static_cast<std::uint8_t>(message.size() & 0xFFU));
    out.insert(out.end(), message.begin(), message.end());
}

} // namespace

base::Result<std::shared_ptr<TcpListener>>
TcpListener::bind(const asio::any_io_executor& executor, const asio::ip::tcp::endpoint& endpoint,
                  std::shared_ptr<ServeState> state, records::NetworkId network) {
    asio::ip::tcp::acceptor acceptor(executor);
    std::error_code error;
    acceptor.open(endpoint.protocol(), error);
    if (!error) {
        acceptor.set_option(asio::socket_base::reuse_address(true), error);
    }
    if (!error) {
        acceptor.bind(endpoint, error);
    }
    if (!error) {
        acceptor.listen(kBacklog, error);
    }
    if (error) {
        return base::Error::from_errno(error.value());
    }
    return std::shared_ptr<TcpListener>(
        new TcpListener(std::move(acceptor), std::move(state), network));
}

TcpListener::TcpListener(asio::ip::tcp::acceptor acceptor, std::shared_ptr<ServeState> state,
                         records::NetworkId network)
    : acceptor_(std::move(acceptor))
    , state_(std::move(state))
    , network_(network)
    , response_(dns::kMaxMessageSize) {}

TcpListener::~TcpListener() {
    stop();
}

void TcpListener::start() {
    asio::co_spawn(acceptor_.get_executor(), accept_loop(shared_from_this()), asio::detached);
}

void TcpListener::stop() noexcept {
    std::error_code ignored;
    acceptor_.close(ignored);
}

asio::ip::tcp::endpoint TcpListener::local_endpoint() const {
    std::error_code ignored;
    return acceptor_.local_endpoint(ignored);
}

asio::awaitable<void> TcpListener::accept_loop(std::shared_ptr<TcpListener> self) {
    asio::steady_timer retry_delay(acceptor_.get_executor());
    while (acceptor_.is_open()) {
        auto [error, socket] = co_await acceptor_.async_accept(kUseTuple);
        if (error) {
            if (error == asio::error::operation_aborted || !acceptor_.is_open()) {
                break;
            }
            // EMFILE and the like persist until something closes: pause instead of spinning.
            base::log::warn("tcp accept on {}: {}", local_endpoint().address().to_string(),
                            error.message());
            retry_delay.expires_after(kAcceptRetryDelay);
            co_await retry_delay.async_wait(kUseTuple);
            continue;
        }
        std::error_code peer_error;
        const asio::ip::tcp::endpoint peer = socket.remote_endpoint(peer_error);
        std::optional<AdmittedSlot> slot =
            peer_error
                ? std::nullopt
                : AdmittedSlot::take(state_, Admission::TcpConnection, from_asio(peer.address()));
        if (!slot) {
            // Over the client's share or the global limit (counted in ServeState), or already
            // reset by the peer.
            base::log::debug("tcp connection refused: limit reached or peer gone");
            std::error_code ignored;
            socket.close(ignored);
            continue;
        }
        try {
            asio::co_spawn(acceptor_.get_executor(),
                           serve_connection(self, std::move(socket), peer, std::move(*slot)),
                           asio::detached);
        } catch (const std::exception& e) {
            base::log::error("tcp connection not started: {}", e.what());
        }
    }
    base::log::debug("tcp listener on {} stopped", local_endpoint().address().to_string());
}

asio::awaitable<void> TcpListener::serve_connection(std::shared_ptr<TcpListener> self,
                                                    asio::ip::tcp::socket socket,
                                                    asio::ip::tcp::endpoint peer,
                                                    [[maybe_unused]] AdmittedSlot slot) {
    try {
        const base::IpAddress source = from_asio(peer.address());
        const std::chrono::milliseconds idle_limit = state_->limits().tcp_idle_timeout;
        std::vector<std::uint8_t> message;
        std::vector<std::uint8_t> reply;
        // Timeout, EOF, a short frame or a read error all end the connection (contract §4.1).
        while (co_await within(read_message(socket, message), idle_limit)) {
            // Read the network id per message: a reload may have renumbered the networks.
            co_await self->answer(message, query::Client{source, network_, dns::Transport::Tcp},
                                  peer.port(), reply);
            if (!reply.empty() && !co_await within(write_all(socket, reply), idle_limit)) {
                break;
            }
        }
    } catch (const std::exception& e) {
        base::log::error("tcp connection failed: {}", e.what());
    }
    std::error_code ignored;
    socket.shutdown(asio::socket_base::shutdown_both, ignored);
    socket.close(ignored);
}

asio::awaitable<void> TcpListener::answer(std::vector<std::uint8_t>& message, query::Client client,
                                          std::uint16_t client_port,
                                          std::vector<std::uint8_t>& reply) {
    reply.clear();
    const std::shared_ptr<const Snapshot> snapshot = state_->snapshot();
    QueryTrace trace = state_->observer.begin(message, client.source, client_port,
                                              client.listener_network, *snapshot->store, true);
    query::handle(message, client, *snapshot->store, snapshot->settings, response_, verdict_);
    state_->observer.typed(trace, message, parsed_type(verdict_));
    switch (verdict_.action) {
    case query::Verdict::Action::Reply:
        append_framed(reply, std::span<const std::uint8_t>(response_.data(), verdict_.reply_size));
        state_->observer.replied(trace, std::span(response_.data(), verdict_.reply_size));
        break;
    case query::Verdict::Action::Forward: {
        if (!state_->forward()) {
            break;
        }
        // Held until the upstream answers; none left for this client means no reply.
        const std::optional<AdmittedSlot> waiting =
            AdmittedSlot::take(state_, Admission::TcpForward, client.source);
        if (!waiting) {
            break;
        }
        // Awaited inline: answers on one connection go out in request order (contract §4.1).
        std::vector<base::Nameserver> servers = upstream_servers_for(verdict_);
        const std::vector<base::Nameserver> asked = servers;
        const std::optional<std::vector<std::uint8_t>> upstream_reply =
            co_await state_->forward()(std::move(message), std::move(servers), dns::Transport::Tcp);
        state_->observer.forwarded(trace, asked, upstream_reply);
        if (upstream_reply && !upstream_reply->empty() &&
            upstream_reply->size() <= dns::kMaxMessageSize) {
            append_framed(reply, *upstream_reply);
        }
        break;
    }
    case query::Verdict::Action::Drop:
        state_->observer.dropped(trace);
        break;
    }
}

} // namespace server
