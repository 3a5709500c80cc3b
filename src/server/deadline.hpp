// server/: a time limit for one asio operation, for every socket that must not be held open by a
// slow or silent peer (TCP clients, status clients). Asio only; nothing from query/ or lifecycle/.
#pragma once

#include <chrono>
#include <system_error>
#include <utility>
#include <variant>

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace server {

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

/// Races `operation` against `limit`; the loser is cancelled. True when the operation finished
/// first and without error.
inline asio::awaitable<bool> within(asio::awaitable<std::error_code> operation,
                                    std::chrono::milliseconds limit) {
    using namespace asio::experimental::awaitable_operators;
    const std::variant<std::error_code, std::monostate> result =
        co_await (std::move(operation) || sleep_for(limit));
    co_return result.index() == 0 && !std::get<0>(result);
}

} // namespace server
