#include <array>
#include <system_error>
#include <variant>

#include <asio/buffer.hpp>
#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "dns/response_scan.hpp"
#include "dns/types.hpp"
#include "upstream/exchange.hpp"

namespace upstream {

namespace {

using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

ExchangeResult failed(std::string error) {
    return ExchangeResult{ExchangeResult::Status::Failed, {}, std::move(error)};
}

ExchangeResult timed_out() {
    return ExchangeResult{ExchangeResult::Status::TimedOut, {}, "timed out"};
}

} // namespace

asio::awaitable<ExchangeResult> tcp_exchange(const base::Nameserver& server,
                                             std::span<const std::uint8_t> query,
                                             std::chrono::milliseconds budget) {
    if (query.size() > dns::kMaxMessageSize) {
        co_return failed("query too large for TCP");
    }
    const auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::socket socket(executor);
    asio::steady_timer timer(executor);

    timer.expires_after(budget);
    auto connected = co_await (socket.async_connect(tcp_endpoint(server), kAsTuple) ||
                               timer.async_wait(kAsTuple));
    if (connected.index() == 1) {
        co_return timed_out();
    }
    if (const auto [error] = std::get<0>(connected); error) {
        co_return failed("connect: " + error.message());
    }

    // The answer gets the budget again once connected (hickory's separate connect timeout).
    timer.expires_after(budget);
    const std::array<std::uint8_t, 2> prefix{static_cast<std::uint8_t>(query.size() >> 8),
                                             static_cast<std::uint8_t>(query.size() & 0xff)};
    const std::array<asio::const_buffer, 2> request{asio::buffer(prefix),
                                                    asio::buffer(query.data(), query.size())};
    auto written =
        co_await (asio::async_write(socket, request, kAsTuple) || timer.async_wait(kAsTuple));
    if (written.index() == 1) {
        co_return timed_out();
    }
    if (const auto [error, count] = std::get<0>(written); error) {
        co_return failed("write: " + error.message());
    }

    std::array<std::uint8_t, 2> length_bytes{};
    auto length_read = co_await (asio::async_read(socket, asio::buffer(length_bytes), kAsTuple) ||
                                 timer.async_wait(kAsTuple));
    if (length_read.index() == 1) {
        co_return timed_out();
    }
    if (const auto [error, count] = std::get<0>(length_read); error) {
        co_return failed("read: " + error.message());
    }
    const std::size_t length = (std::size_t{length_bytes[0]} << 8) | length_bytes[1];

    std::vector<std::uint8_t> response(length);
    auto body_read = co_await (asio::async_read(socket, asio::buffer(response), kAsTuple) ||
                               timer.async_wait(kAsTuple));
    if (body_read.index() == 1) {
        co_return timed_out();
    }
    if (const auto [error, count] = std::get<0>(body_read); error) {
        co_return failed("read: " + error.message());
    }

    if (dns::check_response(query, response) != dns::ResponseCheck::Accept) {
        co_return failed("unusable response");
    }
    co_return ExchangeResult{ExchangeResult::Status::Answered, std::move(response), {}};
}

} // namespace upstream
