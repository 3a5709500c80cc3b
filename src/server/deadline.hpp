// server/: a time limit for one asio operation, for every socket that must not be held open by a
// slow or silent peer (TCP clients, status clients). Asio only; nothing from query/ or lifecycle/.
#pragma once

#include <chrono>
#include <system_error>

#include <asio/awaitable.hpp>

namespace server {

// Defined in deadline.cpp, not inline here: GCC gives each translation unit's copy of an inline
// coroutine its own frame layout under one name, which LTO reports as an ODR violation (GCC bug
// 101118).
asio::awaitable<void> sleep_for(std::chrono::milliseconds duration);

/// Races `operation` against `limit`; the loser is cancelled. True when the operation finished
/// first and without error.
asio::awaitable<bool> within(asio::awaitable<std::error_code> operation,
                             std::chrono::milliseconds limit);

} // namespace server
