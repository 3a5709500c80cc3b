// server/: one TCP listener bound to one gateway address (contract §4.1). asio, query/ and the
// ServeState only; nothing from lifecycle/ or config/.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "base/error.hpp"
#include "query/handler.hpp"
#include "records/record_store.hpp"
#include "server/serve_state.hpp"

namespace server {

/// Accepts connections; each one is a coroutine reading 2-byte length-prefixed messages and
/// answering them strictly in order (forwarded ones are awaited inline). Each wait for the next
/// message is bounded by Limits::tcp_idle_timeout; EOF, a framing error or the timeout closes
/// the connection, while a message that does not parse as DNS is skipped without a reply.
/// Accept errors are logged and the loop continues (aardvark ends the listener instead).
class TcpListener : public std::enable_shared_from_this<TcpListener> {
public:
    static constexpr int kBacklog = 1024; // tokio's default, which aardvark uses

    /// Opens, sets SO_REUSEADDR (tokio's default), binds and listens. The error is the bare
    /// "<strerror> (os error N)".
    static base::Result<std::shared_ptr<TcpListener>> bind(const asio::any_io_executor& executor,
                                                           const asio::ip::tcp::endpoint& endpoint,
                                                           std::shared_ptr<ServeState> state,
                                                           records::NetworkId network);

    TcpListener(const TcpListener&) = delete;
    TcpListener& operator=(const TcpListener&) = delete;
    ~TcpListener();

    void start();

    /// Closes the listening socket. Connections already accepted live on until they end by
    /// themselves (idle timeout or EOF), as in aardvark, where they are separate tasks.
    void stop() noexcept;

    void set_network(records::NetworkId network) noexcept { network_ = network; }

    records::NetworkId network() const noexcept { return network_; }

    asio::ip::tcp::endpoint local_endpoint() const;

    bool is_open() const noexcept { return acceptor_.is_open(); }

private:
    TcpListener(asio::ip::tcp::acceptor acceptor, std::shared_ptr<ServeState> state,
                records::NetworkId network);

    asio::awaitable<void> accept_loop(std::shared_ptr<TcpListener> self);
    asio::awaitable<void> serve_connection(std::shared_ptr<TcpListener> self,
                                           asio::ip::tcp::socket socket,
                                           asio::ip::tcp::endpoint peer, AdmittedSlot slot);

    /// Runs the policy on one message; fills `reply` (with its length prefix) or leaves it
    /// empty for no reply.
    asio::awaitable<void> answer(std::vector<std::uint8_t>& message, query::Client client,
                                 std::uint16_t client_port, std::vector<std::uint8_t>& reply);

    asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<ServeState> state_;
    records::NetworkId network_;
    // Scratch used only between two suspension points, so all connections can share it.
    std::vector<std::uint8_t> response_;
    query::Verdict verdict_;
};

} // namespace server
