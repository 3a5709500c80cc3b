#include "probe/prober.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "probe/interfaces.hpp"
#include "probe/neighbor_sockets.hpp"

namespace probe {
namespace {

using liveness::DeadSet;
using liveness::ProbeState;
using liveness::ProbeTable;
using liveness::TokenBucket;
using Clock = ProbeTable::Clock;
using TimePoint = ProbeTable::TimePoint;
using AddressMap = std::unordered_map<base::IpAddress, base::IpAddress, base::IpAddressHash>;

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

/// Datagrams read per wake-up before yielding, so a flood on the bridge cannot starve the loop.
constexpr int kMaxReadsPerWake = 64;

} // namespace

/// Probing state shared with the coroutines, which each hold a shared_ptr to it, so the Prober
/// can be destroyed while they are still queued on the executor.
class Prober::Engine : public std::enable_shared_from_this<Engine> {
public:
    Engine(asio::any_io_executor executor, Options options)
        : executor_(std::move(executor))
        , options_(options)
        , table_(options.timing)
        , bucket_(options.max_probes_per_second)
        , wake_(executor_)
        , dead_(std::make_shared<const DeadSet>()) {}

    void set_targets(std::vector<Target> targets);

    void stop() noexcept;

    std::shared_ptr<const DeadSet> dead() const noexcept { return dead_; }

    void on_change(ChangeCallback callback) { on_change_ = std::move(callback); }

    ProbeState state(const base::IpAddress& address) const { return table_.state(address); }

    ProberStats stats() const {
        ProberStats stats = stats_;
        stats.targets = table_.size();
        stats.dead = dead_->size();
        return stats;
    }

private:
    /// One gateway: its interface and the socket its probes leave from and answers arrive on.
    struct Path {
        explicit Path(const asio::any_io_executor& executor, base::IpAddress address)
            : gateway(address)
            , socket(executor) {}

        base::IpAddress gateway;
        Interface interface;
        asio::posix::stream_descriptor socket;
        TimePoint retry_at{}; ///< after a failure to open, when to try again
        /// Counts openings, so a receive loop of an earlier socket of this path ends.
        std::uint64_t generation = 0;
        bool warned = false; ///< a failure to open was logged at warn already
    };

    asio::awaitable<void> schedule_loop(std::shared_ptr<Engine> self);
    asio::awaitable<void> receive_loop(std::shared_ptr<Engine> self, std::shared_ptr<Path> path,
                                       std::uint64_t generation);

    /// Sends the probe for `address`; returns true when the dead set changed (fail open).
    bool send_probe(const base::IpAddress& address, TimePoint now);
    Path* open_path(const base::IpAddress& gateway, TimePoint now);
    /// Opens the path's socket on `interface` and hands it to asio.
    base::Result<void> open_socket(Path& path, const Interface& interface);
    bool send_on(Path& path, const base::IpAddress& address);
    /// Reads the answers waiting on the path's socket, a bounded number per wake-up.
    void read_answers(Path& path, TimePoint now, bool& changed);
    void accept_answer(const Path& path, const base::IpAddress& from, TimePoint now, bool& changed);
    /// Closes the path's socket and returns its addresses to Unknown.
    bool fail_path(Path& path, TimePoint now);
    void publish();

    asio::any_io_executor executor_;
    Options options_;
    ProbeTable table_;
    TokenBucket bucket_;
    asio::steady_timer wake_;
    AddressMap gateway_of_; ///< target address -> gateway
    std::unordered_map<base::IpAddress, std::shared_ptr<Path>, base::IpAddressHash> paths_;
    std::shared_ptr<const DeadSet> dead_;
    ChangeCallback on_change_;
    ProberStats stats_;
    bool running_ = false;
    bool stopped_ = false;
};

void Prober::Engine::set_targets(std::vector<Target> targets) {
    if (stopped_) {
        return;
    }
    AddressMap gateway_of;
    std::vector<base::IpAddress> addresses;
    addresses.reserve(targets.size());
    for (const auto& target : targets) {
        if (target.address == target.gateway ||
            target.address.family() != target.gateway.family()) {
            continue;
        }
        if (gateway_of.emplace(target.address, target.gateway).second) {
            addresses.push_back(target.address);
        }
    }
    const TimePoint now = Clock::now();
    // An address whose gateway changed must not keep an answer owed to the old path.
    for (const auto& [address, gateway] : gateway_of) {
        auto old = gateway_of_.find(address);
        if (old != gateway_of_.end() && old->second != gateway) {
            table_.probe_failed(address, now);
        }
    }
    table_.set_targets(addresses, now);
    gateway_of_ = std::move(gateway_of);

    std::unordered_set<base::IpAddress, base::IpAddressHash> gateways;
    for (const auto& item : gateway_of_) {
        gateways.insert(item.second);
    }
    for (auto it = paths_.begin(); it != paths_.end();) {
        if (!gateways.contains(it->first)) {
            std::error_code ignored;
            it->second->socket.close(ignored);
            it = paths_.erase(it);
        } else {
            ++it;
        }
    }
    publish();
    if (!running_) {
        running_ = true;
        asio::co_spawn(executor_, schedule_loop(shared_from_this()), asio::detached);
    } else {
        wake_.cancel();
    }
}

void Prober::Engine::stop() noexcept {
    stopped_ = true;
    wake_.cancel();
    for (auto& item : paths_) {
        std::error_code ignored;
        item.second->socket.close(ignored);
    }
    paths_.clear();
    try {
        table_.set_targets({}, Clock::now());
        gateway_of_.clear();
        dead_ = std::make_shared<const DeadSet>();
    } catch (...) {
        // Only allocation can fail here; the loops end on stopped_ regardless.
    }
}

asio::awaitable<void> Prober::Engine::schedule_loop([[maybe_unused]] std::shared_ptr<Engine> self) {
    while (!stopped_) {
        try {
            TimePoint now = Clock::now();
            bool changed = table_.expire(now);
            for (const auto& address : table_.due(now)) {
                if (!bucket_.try_take(now)) {
                    break;
                }
                changed = send_probe(address, now) || changed;
            }
            if (changed) {
                publish();
            }
            now = Clock::now();
            TimePoint wake_at = table_.next_event().value_or(TimePoint::max());
            if (wake_at <= now) {
                // Something is due but the probe budget is spent.
                wake_at = bucket_.next_available(now);
            }
            wake_at = std::max(wake_at, now + std::chrono::milliseconds{1});
            wake_.expires_at(wake_at);
        } catch (const std::exception& e) {
            base::log::error("liveness: probe scheduling failed: {}", e.what());
            wake_.expires_after(options_.timing.recheck_after);
        }
        co_await wake_.async_wait(kUseTuple);
    }
}

bool Prober::Engine::send_probe(const base::IpAddress& address, TimePoint now) {
    auto gateway = gateway_of_.find(address);
    Path* path = gateway == gateway_of_.end() ? nullptr : open_path(gateway->second, now);
    if (path == nullptr || !send_on(*path, address)) {
        ++stats_.probes_failed;
        return table_.probe_failed(address, now);
    }
    ++stats_.probes_sent;
    table_.probe_sent(address, now);
    return false;
}

Prober::Engine::Path* Prober::Engine::open_path(const base::IpAddress& gateway, TimePoint now) {
    auto& slot = paths_[gateway];
    if (!slot) {
        slot = std::make_shared<Path>(executor_, gateway);
    }
    Path& path = *slot;
    if (path.socket.is_open()) {
        return &path;
    }
    if (now < path.retry_at) {
        return nullptr;
    }
    path.retry_at = now + options_.timing.recheck_after;
    auto interface = find_interface(gateway);
    if (!interface) {
        base::log::debug("liveness: not probing via {}: {}", gateway.to_string(),
                         interface.error());
        return nullptr;
    }
    const auto opened = open_socket(path, *interface);
    if (!opened) {
        if (is_permission_error(opened.error())) {
            if (!stats_.permission_denied) {
                base::log::warn("liveness: probing disabled, {} (--probe-liveness needs "
                                "CAP_NET_RAW); no address will be left out of answers",
                                opened.error());
            }
            stats_.permission_denied = true;
        } else {
            // Retried every recheck_after (e.g. an IPv6 gateway still tentative): warn once.
            base::log::log(path.warned ? base::log::Level::Debug : base::log::Level::Warn,
                           "liveness: not probing on {} via {}: {}", interface->name,
                           gateway.to_string(), opened.error());
            path.warned = true;
        }
        return nullptr;
    }
    path.interface = *interface;
    ++path.generation;
    base::log::debug("liveness: probing on {} from {}", interface->name, gateway.to_string());
    asio::co_spawn(executor_, receive_loop(shared_from_this(), slot, path.generation),
                   asio::detached);
    return &path;
}

base::Result<void> Prober::Engine::open_socket(Path& path, const Interface& interface) {
    auto fd = path.gateway.is_v4() ? open_arp_socket(interface)
                                   : open_icmpv6_socket(interface, path.gateway);
    if (!fd) {
        return std::move(fd).error();
    }
    std::error_code error;
    path.socket.assign(fd->get(), error);
    if (error) {
        return base::Error(error.message(), error.value()).wrap("registering the socket");
    }
    fd->release(); // the stream_descriptor closes it from now on
    return {};
}

bool Prober::Engine::send_on(Path& path, const base::IpAddress& address) {
    const auto sent =
        send_neighbor_probe(path.socket.native_handle(), path.interface, path.gateway, address);
    if (sent) {
        return true;
    }
    base::log::debug("liveness: probe for {} on {} not sent: {}", address.to_string(),
                     path.interface.name, sent.error());
    if (!is_transient(sent.error())) {
        // The interface went away, went down or lost the address: reopen later, fail open now.
        fail_path(path, Clock::now());
        publish();
    }
    return false;
}

asio::awaitable<void> Prober::Engine::receive_loop([[maybe_unused]] std::shared_ptr<Engine> self,
                                                   std::shared_ptr<Path> path,
                                                   std::uint64_t generation) {
    const auto current = [&] {
        return !stopped_ && path->socket.is_open() && path->generation == generation;
    };
    while (current()) {
        auto [error] =
            co_await path->socket.async_wait(asio::posix::descriptor_base::wait_read, kUseTuple);
        if (!current()) {
            break;
        }
        bool changed = false;
        try {
            if (error) {
                base::log::warn("liveness: listening on {} failed: {}", path->interface.name,
                                error.message());
                changed = fail_path(*path, Clock::now());
            } else {
                read_answers(*path, Clock::now(), changed);
            }
            if (changed) {
                publish();
            }
        } catch (const std::exception& e) {
            base::log::error("liveness: reading answers on {} failed: {}", path->interface.name,
                             e.what());
        }
    }
}

void Prober::Engine::read_answers(Path& path, TimePoint now, bool& changed) {
    const bool arp = path.gateway.is_v4();
    for (int read = 0; read < kMaxReadsPerWake && path.socket.is_open(); ++read) {
        const ReadResult answer =
            arp ? read_arp_answer(path.socket.native_handle(), path.interface.index)
                : read_neighbor_advertisement(path.socket.native_handle(), path.interface.index);
        if (!answer) {
            if (!is_transient(answer.error())) {
                base::log::warn("liveness: reading {} on {} failed: {}", arp ? "ARP" : "ICMPv6",
                                path.interface.name, answer.error());
                changed = fail_path(path, now) || changed;
            }
            return;
        }
        if (*answer) {
            accept_answer(path, **answer, now, changed);
        }
    }
}

void Prober::Engine::accept_answer(const Path& path, const base::IpAddress& from, TimePoint now,
                                   bool& changed) {
    auto gateway = gateway_of_.find(from);
    if (gateway == gateway_of_.end() || gateway->second != path.gateway) {
        return;
    }
    ++stats_.answers;
    if (table_.answer_received(from, now)) {
        base::log::info("liveness: {} answers again", from.to_string());
        changed = true;
    }
}

bool Prober::Engine::fail_path(Path& path, TimePoint now) {
    std::error_code ignored;
    path.socket.close(ignored);
    path.retry_at = now + options_.timing.recheck_after;
    bool changed = false;
    for (const auto& [address, gateway] : gateway_of_) {
        if (gateway == path.gateway) {
            changed = table_.probe_failed(address, now) || changed;
        }
    }
    return changed;
}

void Prober::Engine::publish() {
    auto dead = std::make_shared<const DeadSet>(table_.dead());
    if (*dead == *dead_) {
        return;
    }
    for (const auto& address : dead->addresses()) {
        if (!dead_->contains(address)) {
            base::log::info("liveness: {} did not answer {} neighbour probes; left out of answers "
                            "that have another address",
                            address.to_string(), options_.timing.misses_for_dead);
        }
    }
    dead_ = std::move(dead);
    if (on_change_) {
        try {
            on_change_(dead_);
        } catch (const std::exception& e) {
            base::log::error("liveness: change callback failed: {}", e.what());
        }
    }
}

Prober::Prober(asio::any_io_executor executor, Options options)
    : engine_(std::make_shared<Engine>(std::move(executor), options)) {}

Prober::~Prober() {
    engine_->stop();
}

void Prober::set_targets(std::vector<Target> targets) {
    engine_->set_targets(std::move(targets));
}

std::shared_ptr<const DeadSet> Prober::dead_addresses() const noexcept {
    return engine_->dead();
}

void Prober::on_change(ChangeCallback callback) {
    engine_->on_change(std::move(callback));
}

liveness::ProbeState Prober::state(const base::IpAddress& address) const {
    return engine_->state(address);
}

ProberStats Prober::stats() const {
    return engine_->stats();
}

void Prober::stop() noexcept {
    engine_->stop();
}

} // namespace probe
