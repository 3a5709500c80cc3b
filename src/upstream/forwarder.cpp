#include "upstream/forwarder.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "base/log.hpp"
#include "dns/response_scan.hpp"
#include "dns/types.hpp"
#include "upstream/answer_cache.hpp"
#include "upstream/exchange.hpp"
#include "upstream/health.hpp"

namespace upstream {

namespace {

using Clock = std::chrono::steady_clock;
using Response = std::optional<std::vector<std::uint8_t>>;

// Everything the coroutines share. Held by shared_ptr so a forward or probe still in flight
// when the Forwarder goes away (shutdown) never touches freed memory.
struct Core {
    Core(asio::any_io_executor executor_in, Options options_in)
        : executor(std::move(executor_in))
        , options(std::move(options_in))
        , cache(options.cache)
        , health(options.health) {}

    Clock::time_point now() const { return options.clock ? options.clock() : Clock::now(); }

    asio::any_io_executor executor;
    Options options;
    std::vector<base::Nameserver> host_servers;
    std::vector<base::IpAddress> local_addresses;
    std::vector<base::IpAddress> loop_logged;
    AnswerCache cache;
    HealthTracker health;
    std::size_t in_flight = 0;
    bool busy_logged = false;
    ForwarderStats stats;
};

class InFlight {
public:
    explicit InFlight(Core& core)
        : core_(core) {
        ++core_.in_flight;
    }

    ~InFlight() { --core_.in_flight; }

    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

private:
    Core& core_;
};

// The ID on the wire is random whatever the client chose (hickory does this for TCP; we do it
// for UDP too): cached answers are shared between clients, so guessing must stay hard.
std::uint16_t random_id() {
    return static_cast<std::uint16_t>(::arc4random() & 0xffffU);
}

// The loop guard: ctrdns must never be its own upstream (e.g. resolv.conf naming a gateway).
void drop_local_servers(Core& core, std::vector<base::Nameserver>& servers) {
    if (core.local_addresses.empty()) {
        return;
    }
    std::erase_if(servers, [&core](const base::Nameserver& server) {
        const auto& local = core.local_addresses;
        if (std::find(local.begin(), local.end(), server.address) == local.end()) {
            return false;
        }
        ++core.stats.loop_skips;
        auto& logged = core.loop_logged;
        if (std::find(logged.begin(), logged.end(), server.address) == logged.end()) {
            logged.push_back(server.address);
            base::log::warn("not forwarding to {}: ctrdns itself listens on that address",
                            to_string(server));
        }
        return true;
    });
}

asio::awaitable<ExchangeResult> exchange_once(const base::Nameserver& server,
                                              std::span<const std::uint8_t> wire,
                                              dns::Transport transport,
                                              std::chrono::milliseconds budget) {
    try {
        if (transport == dns::Transport::Tcp) {
            co_return co_await tcp_exchange(server, wire, budget);
        }
        co_return co_await udp_exchange(server, wire, budget);
    } catch (const std::exception& error) {
        co_return ExchangeResult{ExchangeResult::Status::Failed, {}, error.what()};
    }
}

void note_failure(Core& core, const base::Nameserver& server) {
    if (core.options.health_enabled && core.health.record_failure(server, core.now())) {
        base::log::warn(
            "upstream {} did not answer; trying it after the others for {} s", to_string(server),
            std::chrono::duration_cast<std::chrono::seconds>(core.options.health.first_backoff)
                .count());
    }
}

void note_success(Core& core, const base::Nameserver& server) {
    if (core.options.health_enabled && core.health.record_success(server)) {
        base::log::info("upstream {} answers again", to_string(server));
    }
}

// A server in back-off is tested with a copy of a real query, so an upstream that serves only
// some zones is judged on what clients actually ask; the client never waits for it.
asio::awaitable<void> probe(std::shared_ptr<Core> core, base::Nameserver server,
                            std::vector<std::uint8_t> wire, dns::Transport transport,
                            std::chrono::milliseconds budget) {
    const ExchangeResult result = co_await exchange_once(server, wire, transport, budget);
    const bool answered = result.status == ExchangeResult::Status::Answered;
    base::log::debug("probe of upstream {}: {}", to_string(server),
                     answered ? std::string("answered") : result.error);
    if (core->health.probe_finished(server, answered, core->now())) {
        base::log::info("upstream {} answers again", to_string(server));
    }
}

void start_due_probes(const std::shared_ptr<Core>& core,
                      const std::vector<base::Nameserver>& servers,
                      std::span<const std::uint8_t> query, dns::Transport transport,
                      std::chrono::milliseconds budget) {
    for (const base::Nameserver& server : servers) {
        if (!core->health.start_probe(server, core->now())) {
            continue;
        }
        ++core->stats.probes;
        std::vector<std::uint8_t> wire(query.begin(), query.end());
        dns::set_message_id(wire, random_id());
        asio::co_spawn(core->executor, probe(core, server, std::move(wire), transport, budget),
                       asio::detached);
    }
}

asio::awaitable<Response> forward_query(std::shared_ptr<Core> core, std::vector<std::uint8_t> query,
                                        std::vector<base::Nameserver> servers,
                                        dns::Transport transport) {
    if (query.size() < dns::kHeaderSize) {
        co_return std::nullopt;
    }
    const std::uint16_t client_id = dns::message_id(query);
    if (servers.empty()) {
        servers = core->host_servers;
    }
    drop_local_servers(*core, servers);
    if (servers.empty()) {
        base::log::debug("{} no upstream server to forward to", client_id);
        co_return std::nullopt;
    }

    std::optional<CacheQuery> cache_query;
    if (core->options.cache_enabled) {
        cache_query = describe_query(servers, query);
        if (cache_query) {
            const std::size_t max_size =
                transport == dns::Transport::Udp ? cache_query->udp_limit : dns::kMaxMessageSize;
            if (auto cached = core->cache.lookup(*cache_query, query, max_size, core->now())) {
                ++core->stats.cache_hits;
                co_return cached;
            }
        }
    }

    if (core->in_flight >= core->options.max_in_flight) {
        ++core->stats.rejected_busy;
        if (!core->busy_logged) {
            core->busy_logged = true;
            base::log::warn("{} forwards in flight: dropping new queries until some finish",
                            core->in_flight);
        }
        co_return std::nullopt;
    }
    core->busy_logged = false;
    const InFlight in_flight(*core);
    ++core->stats.forwarded;

    std::vector<std::uint8_t> wire = query;
    dns::set_message_id(wire, random_id());
    if (transport == dns::Transport::Udp) {
        // An answer larger than our receive buffer would arrive cut; a client asking for more
        // than that gets at most this much, or TC and a TCP retry (docs/forwarding.md).
        dns::cap_edns_udp_size(wire, static_cast<std::uint16_t>(kUdpReceiveSize));
    }

    const auto budget = std::chrono::milliseconds{core->options.total_budget.count() /
                                                  static_cast<std::int64_t>(servers.size())};
    std::vector<std::size_t> order;
    if (core->options.health_enabled) {
        core->health.order(servers, order);
        start_due_probes(core, servers, query, transport, budget);
    } else {
        order.resize(servers.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
    }

    for (const std::size_t index : order) {
        const base::Nameserver& server = servers[index];
        ExchangeResult result = co_await exchange_once(server, wire, transport, budget);
        switch (result.status) {
        case ExchangeResult::Status::Answered: {
            note_success(*core, server);
            std::vector<std::uint8_t> response = std::move(result.response);
            dns::set_message_id(response, client_id);
            dns::set_recursion_available(response);
            if (cache_query) {
                core->cache.insert(cache_query->key, response, core->now());
            }
            ++core->stats.answered;
            co_return response;
        }
        case ExchangeResult::Status::TimedOut:
            ++core->stats.upstream_timeouts;
            base::log::debug("{} dns request got empty response ({})", client_id,
                             to_string(server));
            note_failure(*core, server);
            break;
        case ExchangeResult::Status::Failed:
            ++core->stats.upstream_failures;
            base::log::debug("{} dns request failed: {} ({})", client_id, result.error,
                             to_string(server));
            note_failure(*core, server);
            break;
        }
    }
    ++core->stats.unanswered;
    co_return std::nullopt;
}

} // namespace

struct Forwarder::State : Core {
    using Core::Core;
};

Forwarder::Forwarder(asio::any_io_executor executor, Options options)
    : state_(std::make_shared<State>(std::move(executor), std::move(options))) {}

Forwarder::~Forwarder() = default;

asio::awaitable<std::optional<std::vector<std::uint8_t>>>
Forwarder::forward(std::vector<std::uint8_t> query, std::vector<base::Nameserver> servers,
                   dns::Transport transport) {
    std::shared_ptr<Core> core = state_;
    co_return co_await forward_query(std::move(core), std::move(query), std::move(servers),
                                     transport);
}

void Forwarder::set_host_servers(std::vector<base::Nameserver> servers) {
    state_->host_servers = std::move(servers);
}

void Forwarder::set_local_addresses(std::vector<base::IpAddress> addresses) {
    state_->local_addresses = std::move(addresses);
}

void Forwarder::flush_cache() {
    state_->cache.clear();
}

void Forwarder::reconfigure(const Options& options) {
    Options& current = state_->options;
    if (!options.cache_enabled) {
        state_->cache.clear(); // nothing stale is left behind to reappear if it is turned on again
    }
    current.cache_enabled = options.cache_enabled;
    current.cache = options.cache;
    state_->cache.set_settings(options.cache);
    current.health = options.health;
    state_->health.set_settings(options.health);
    current.max_in_flight = options.max_in_flight;
}

ForwarderStats Forwarder::stats() const {
    return state_->stats;
}

std::size_t Forwarder::in_flight() const {
    return state_->in_flight;
}

std::size_t Forwarder::cache_size() const {
    return state_->cache.size();
}

std::size_t Forwarder::cache_bytes() const {
    return state_->cache.bytes();
}

bool Forwarder::cache_enabled() const {
    return state_->options.cache_enabled;
}

std::vector<base::Nameserver> Forwarder::host_servers() const {
    return state_->host_servers;
}

std::vector<Forwarder::DownUpstream> Forwarder::down_upstreams() const {
    std::vector<DownUpstream> result;
    const Clock::time_point now = state_->now();
    for (const HealthTracker::DownServer& down : state_->health.down_servers()) {
        result.push_back(
            DownUpstream{down.server, down.failures,
                         down.retry_at > now ? down.retry_at - now : Clock::duration::zero()});
    }
    return result;
}

} // namespace upstream
