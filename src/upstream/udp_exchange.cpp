#include <algorithm>
#include <array>
#include <system_error>
#include <variant>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "dns/response_scan.hpp"
#include "dns/types.hpp"
#include "upstream/exchange.hpp"

namespace upstream {

namespace {

using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

// Unrelated datagrams (stale IDs, other questions) tolerated per attempt before giving up, so a
// chatty or hostile peer cannot keep an attempt busy past its purpose.
constexpr int kMaxIgnoredDatagrams = 16;

ExchangeResult failed(std::string error) {
    return ExchangeResult{ExchangeResult::Status::Failed, {}, std::move(error)};
}

} // namespace

asio::awaitable<ExchangeResult> udp_exchange(const base::Nameserver& server,
                                             std::span<const std::uint8_t> query,
                                             std::chrono::milliseconds budget) {
    const auto executor = co_await asio::this_coro::executor;
    const auto started = Clock::now();
    const auto deadline = started + budget;
    const auto endpoint = udp_endpoint(server);

    asio::ip::udp::socket socket(executor);
    std::error_code error;
    socket.open(endpoint.protocol(), error);
    if (!error) {
        socket.bind(asio::ip::udp::endpoint(endpoint.protocol(), 0), error);
    }
    if (!error) {
        // Connecting filters datagrams to the server's address and port, and lets the kernel
        // report ICMP errors (port unreachable) on this socket.
        socket.connect(endpoint, error);
    }
    if (error) {
        co_return failed("udp socket: " + error.message());
    }

    std::vector<std::uint8_t> buffer(kUdpReceiveSize);
    asio::steady_timer timer(executor);
    std::size_t resends_done = 0;
    int ignored = 0;

    auto [send_error, sent] =
        co_await socket.async_send(asio::buffer(query.data(), query.size()), kAsTuple);
    (void)sent;
    if (send_error) {
        co_return failed("send: " + send_error.message());
    }

    for (;;) {
        auto wake = deadline;
        if (resends_done < std::size(kUdpResendTimes) &&
            started + kUdpResendTimes[resends_done] < deadline) {
            wake = started + kUdpResendTimes[resends_done];
        }
        timer.expires_at(wake);
        // MSG_TRUNC makes the kernel report a datagram's real length even when it was cut to
        // the buffer, so an oversized answer is told apart from a malformed one.
        auto outcome = co_await (socket.async_receive(asio::buffer(buffer), MSG_TRUNC, kAsTuple) ||
                                 timer.async_wait(kAsTuple));

        if (outcome.index() == 1) {
            if (Clock::now() >= deadline || wake == deadline) {
                co_return ExchangeResult{ExchangeResult::Status::TimedOut, {}, "timed out"};
            }
            ++resends_done;
            auto [resend_error, resent] =
                co_await socket.async_send(asio::buffer(query.data(), query.size()), kAsTuple);
            (void)resent;
            if (resend_error) {
                co_return failed("send: " + resend_error.message());
            }
            continue;
        }

        const auto [receive_error, received] = std::get<0>(outcome);
        if (receive_error) {
            co_return failed("receive: " + receive_error.message());
        }
        std::span<const std::uint8_t> datagram(buffer.data(), std::min(received, buffer.size()));
        std::vector<std::uint8_t> stand_in;
        if (received > buffer.size()) {
            // Larger than any size we let the query advertise (forwarder.cpp caps it): relay
            // what a conforming server would have sent, TC=1, so the client asks over TCP.
            stand_in.resize(buffer.size());
            stand_in.resize(dns::truncated_reply(datagram, stand_in));
            datagram = stand_in;
            if (datagram.empty()) {
                // Nothing usable in its first bytes: judged like any datagram that does not
                // parse, unless another ID says it is not ours.
                datagram = std::span<const std::uint8_t>(buffer.data(), dns::kHeaderSize);
            }
        }
        switch (dns::check_response(query, datagram)) {
        case dns::ResponseCheck::Accept:
            if (stand_in.empty()) {
                buffer.resize(received);
                stand_in = std::move(buffer);
            }
            co_return ExchangeResult{ExchangeResult::Status::Answered, std::move(stand_in), {}};
        case dns::ResponseCheck::Reject:
            co_return failed("unusable response");
        case dns::ResponseCheck::Ignore:
            if (++ignored > kMaxIgnoredDatagrams) {
                co_return failed("too many unrelated datagrams");
            }
            break;
        }
    }
}

} // namespace upstream
