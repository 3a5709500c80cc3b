// Test support for server/: a ServeState over a small store, a fake forwarder, and an
// io_context running on its own thread so tests can use blocking loopback clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "config/network_file.hpp"
#include "records/record_store.hpp"
#include "server/listener_set.hpp"
#include "server/serve_state.hpp"

namespace test_support {

/// Parses network files written as netavark writes them; a rejected file fails the test.
inline std::shared_ptr<const records::RecordStore>
make_store(const std::vector<std::pair<std::string, std::string>>& files) {
    std::vector<config::NetworkFile> parsed;
    for (const auto& [name, text] : files) {
        auto result = config::parse_network_file(name, "/test/" + name, text);
        EXPECT_TRUE(result.file.has_value()) << name;
        if (result.file) {
            parsed.push_back(std::move(*result.file));
        }
    }
    return records::RecordStore::build(parsed);
}

inline std::shared_ptr<const server::Snapshot>
make_snapshot(std::shared_ptr<const records::RecordStore> store, bool forwarding = true) {
    auto snapshot = std::make_shared<server::Snapshot>();
    snapshot->store = std::move(store);
    snapshot->settings.forwarding_enabled = forwarding;
    return snapshot;
}

/// Stands in for upstream::Forwarder: waits `delay`, then answers with the query itself turned
/// into a response (QR set, RCODE 0), or with nothing when the query bytes contain "fail".
/// Forwards whose query bytes contain `hold_if_contains` (when set) then wait until release(),
/// so a test sees what happens while they are in progress without racing a timer. Everything
/// here is touched on the io thread only.
struct FakeForwarder {
    std::chrono::milliseconds delay{0};
    std::string hold_if_contains;
    int calls = 0;
    int finished = 0; // forwards that have returned
    std::vector<base::Nameserver> last_servers;
    dns::Transport last_transport = dns::Transport::Udp;

    server::ForwardFunction function() {
        return [this](std::vector<std::uint8_t> query, std::vector<base::Nameserver> servers,
                      dns::Transport transport) {
            return answer(std::move(query), std::move(servers), transport);
        };
    }

    asio::awaitable<std::optional<std::vector<std::uint8_t>>>
    answer(std::vector<std::uint8_t> query, std::vector<base::Nameserver> servers,
           dns::Transport transport) {
        ++calls;
        last_servers = std::move(servers);
        last_transport = transport;
        if (delay.count() > 0) {
            asio::steady_timer timer(co_await asio::this_coro::executor, delay);
            co_await timer.async_wait(asio::use_awaitable);
        }
        const std::string_view text(reinterpret_cast<const char*>(query.data()), query.size());
        if (!hold_if_contains.empty() && text.find(hold_if_contains) != std::string_view::npos) {
            if (!gate_) {
                gate_.emplace(co_await asio::this_coro::executor,
                              asio::steady_timer::time_point::max());
            }
            std::error_code released; // cancelling the gate is how release() wakes its waiters
            co_await gate_->async_wait(asio::redirect_error(asio::use_awaitable, released));
        }
        ++finished;
        if (text.find("fail") != std::string_view::npos) {
            co_return std::nullopt;
        }
        query[2] = static_cast<std::uint8_t>(query[2] | 0x80U);
        co_return query;
    }

    /// Lets every held forward (and every later one) go on.
    void release() {
        hold_if_contains.clear();
        if (gate_) {
            gate_->cancel();
        }
    }

private:
    std::optional<asio::steady_timer> gate_;
};

/// The io_context runs on a background thread for the fixture's lifetime; everything that
/// touches server objects goes through on_io().
class ServerFixture : public ::testing::Test {
protected:
    void start(std::shared_ptr<const server::Snapshot> snapshot, std::uint16_t port,
               server::Limits limits = {}) {
        state =
            std::make_shared<server::ServeState>(std::move(snapshot), forwarder.function(), limits);
        listeners = std::make_unique<server::ListenerSet>(io.get_executor(), state, port);
        thread = std::thread([this] { io.run(); });
    }

    void TearDown() override {
        if (thread.joinable()) {
            on_io([this] { listeners.reset(); });
            work.reset();
            io.stop();
            thread.join();
        }
    }

    template <typename Function>
    auto on_io(Function function) -> decltype(function()) {
        std::packaged_task<decltype(function())()> task(std::move(function));
        auto result = task.get_future();
        asio::post(io, std::move(task));
        return result.get();
    }

    /// The bind errors' messages, the text the daemon prints.
    std::vector<std::string> reconcile(const std::vector<server::DesiredListener>& desired) {
        std::vector<std::string> messages;
        for (const base::Error& error : on_io([&] { return listeners->reconcile(desired); })) {
            messages.push_back(error.message());
        }
        return messages;
    }

    static server::DesiredListener key(std::string network, const char* ip, records::NetworkId id) {
        return server::DesiredListener{
            server::ListenerKey{std::move(network), *base::IpAddress::parse(ip)}, id};
    }

    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    FakeForwarder forwarder;
    std::shared_ptr<server::ServeState> state;
    std::unique_ptr<server::ListenerSet> listeners;
    std::thread thread;
};

} // namespace test_support
