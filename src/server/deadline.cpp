#include "server/deadline.hpp"

#include <utility>
#include <variant>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace server {

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

asio::awaitable<bool> within(asio::awaitable<std::error_code> operation,
                             std::chrono::milliseconds limit) {
    using namespace asio::experimental::awaitable_operators;
    const std::variant<std::error_code, std::monostate> result =
        co_await (std::move(operation) || sleep_for(limit));
    co_return result.index() == 0 && !std::get<0>(result);
}

} // namespace server
