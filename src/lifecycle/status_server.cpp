#include "lifecycle/status_server.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <optional>
#include <random>
#include <utility>
#include <variant>
#include <vector>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/udp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/log.hpp"
#include "build_info.hpp"
#include "server/deadline.hpp"
#include "status/client.hpp"

namespace lifecycle {
namespace {

using namespace asio::experimental::awaitable_operators;
using Local = asio::local::stream_protocol;

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxConnections = 4;
constexpr std::chrono::milliseconds kReadLimit{2000};
constexpr std::chrono::milliseconds kWriteLimit{10000};
constexpr std::chrono::milliseconds kProbeLimit{500};
constexpr std::chrono::milliseconds kProbePoll{10};
/// Names listed in one report; beyond it only counted (a reply stays a few MiB at most).
constexpr std::size_t kMaxReportedNames = 20'000;

// The socket is removed on every exit of the process: the daemon leaves through std::exit, so
// an atexit handler runs where a destructor would not. Removed only while it is still the inode
// this process bound (a newer daemon may have taken the path over).
std::string g_bound_path;
dev_t g_bound_device = 0;
ino_t g_bound_inode = 0;

void remove_bound_socket() {
    if (g_bound_path.empty()) {
        return;
    }

    struct stat info {};

    if (::lstat(g_bound_path.c_str(), &info) == 0 && info.st_dev == g_bound_device &&
        info.st_ino == g_bound_inode) {
        ::unlink(g_bound_path.c_str());
    }
    g_bound_path.clear();
}

asio::awaitable<std::error_code> read_line(Local::socket& socket, std::string& line) {
    auto [error, size] = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(line, status::kMaxRequestLine), '\n', kUseTuple);
    if (!error) {
        line.resize(size - 1);
    }
    co_return error;
}

asio::awaitable<std::error_code> write_text(Local::socket& socket, const std::string& text) {
    auto [error, size] = co_await asio::async_write(socket, asio::buffer(text), kUseTuple);
    co_return error;
}

/// Root, or the user the daemon runs as (the socket's mode already says so; this also holds
/// when the file system ignores modes on sockets).
bool peer_allowed(Local::socket& socket) {
    ucred credentials{};
    socklen_t size = sizeof(credentials);
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) {
        return false;
    }
    return credentials.uid == 0 || credentials.uid == ::geteuid();
}

std::string utc_text(std::chrono::system_clock::time_point when) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
    std::tm parts{};
    ::gmtime_r(&seconds, &parts);
    std::array<char, 32> text{};
    const std::size_t size = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &parts);
    return std::string(text.data(), size);
}

/// One self-query in flight: a connected UDP socket (so an ICMP "port unreachable" is reported
/// to it) and what came back, if anything.
struct Probe {
    explicit Probe(const asio::any_io_executor& executor)
        : socket(executor) {}

    asio::ip::udp::socket socket;
    std::string name;
    std::array<std::uint8_t, 512> buffer{};
    bool finished = false; // a reply or an error arrived
    bool replied = false;
    std::string error;
};

std::vector<std::uint8_t> self_check_query(std::uint16_t id, std::string_view label) {
    std::vector<std::uint8_t> wire = {static_cast<std::uint8_t>(id >> 8U),
                                      static_cast<std::uint8_t>(id & 0xFFU),
                                      0,
                                      0,
                                      0,
                                      1,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0};
    std::string name = std::string(label) + "." + std::string(server::SelfChecks::kSuffix);
    std::size_t start = 0;
    while (start < name.size()) {
        const std::size_t dot = name.find('.', start);
        wire.push_back(static_cast<std::uint8_t>(dot - start));
        wire.insert(wire.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
                    name.begin() + static_cast<std::ptrdiff_t>(dot));
        start = dot + 1;
    }
    wire.insert(wire.end(), {0, 0, 1, 0, 1}); // root, type A, class IN
    return wire;
}

} // namespace

struct StatusServer::Impl : std::enable_shared_from_this<StatusServer::Impl> {
    Impl(asio::any_io_executor executor_in, StatusSources sources_in)
        : executor(std::move(executor_in))
        , sources(std::move(sources_in))
        , started(std::chrono::steady_clock::now())
        , path(status::socket_path(sources.config_dir))
        , acceptor(executor)
        , usr1(executor)
        , random(std::random_device{}()) {}

    asio::any_io_executor executor;
    StatusSources sources;
    std::chrono::steady_clock::time_point started;
    std::string path;
    Local::acceptor acceptor;
    asio::signal_set usr1;
    std::mt19937_64 random;
    std::size_t connections = 0;
    status::Reload last_reload;

    /// The error is the whole warning to log (`ctrdns status` is then off).
    base::Result<void> bind_socket();
    asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self);
    asio::awaitable<void> serve_connection(std::shared_ptr<Impl> self, Local::socket socket);
    asio::awaitable<std::string> respond(std::string_view request);
    asio::awaitable<void> probe_listeners(status::Report& report);
    asio::awaitable<void> handle_usr1(std::shared_ptr<Impl> self);
    status::Report collect() const;
    void set_query_log(bool enabled);
};

base::Result<void> StatusServer::Impl::bind_socket() {
    sockaddr_un address{};
    if (path.size() >= sizeof(address.sun_path)) {
        return base::Error(
            fmt::format("status socket path too long ({} bytes), `ctrdns status` is off: {}",
                        path.size(), path));
    }

    struct stat info {};

    if (::lstat(path.c_str(), &info) == 0) {
        // Only a socket of our own is ever removed: never a file, a link or another user's socket.
        if (!S_ISSOCK(info.st_mode) || info.st_uid != ::geteuid()) {
            return base::Error(fmt::format(
                "{} exists and is not a socket of this user; `ctrdns status` is off", path));
        }
        // Still served: another daemon for the same directory owns it (it will fail to bind
        // its DNS ports, or we will); do not take its status away.
        const status::Response probe =
            status::send_request(path, "status-ping", std::chrono::milliseconds(200));
        if (probe.connected) {
            return base::Error(
                fmt::format("{} is served by another process; `ctrdns status` is off", path));
        }
        ::unlink(path.c_str());
    }
    std::error_code error;
    acceptor.open(Local(), error);
    if (!error) {
        // Created 0600 from the start: no window in which another user could connect.
        const mode_t previous = ::umask(0177);
        acceptor.bind(Local::endpoint(path), error);
        ::umask(previous);
    }
    if (!error) {
        acceptor.listen(16, error);
    }
    if (error) {
        std::error_code ignored;
        acceptor.close(ignored);
        return base::Error(
            fmt::format("status socket {}: {}; `ctrdns status` is off", path, error.message()),
            error.value());
    }
    if (::lstat(path.c_str(), &info) == 0) {
        g_bound_path = path;
        g_bound_device = info.st_dev;
        g_bound_inode = info.st_ino;
        static const bool registered = [] {
            return std::atexit(remove_bound_socket) == 0;
        }();
        (void)registered;
    }
    return {};
}

asio::awaitable<void> StatusServer::Impl::accept_loop(std::shared_ptr<Impl> self) {
    while (acceptor.is_open()) {
        auto [error, socket] = co_await acceptor.async_accept(kUseTuple);
        if (error) {
            if (error == asio::error::operation_aborted || !acceptor.is_open()) {
                break;
            }
            co_await server::sleep_for(std::chrono::milliseconds(100)); // EMFILE: do not spin
            continue;
        }
        if (connections >= kMaxConnections || !peer_allowed(socket)) {
            std::error_code ignored;
            socket.close(ignored);
            continue;
        }
        asio::co_spawn(executor, serve_connection(self, std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> StatusServer::Impl::serve_connection(std::shared_ptr<Impl> self,
                                                           Local::socket socket) {
    ++connections;
    try {
        std::string line;
        if (co_await server::within(read_line(socket, line), kReadLimit)) {
            const std::string answer = co_await self->respond(line);
            co_await server::within(write_text(socket, answer), kWriteLimit);
        }
    } catch (const std::exception& e) {
        base::log::debug("status request failed: {}", e.what());
    }
    std::error_code ignored;
    socket.close(ignored);
    --connections;
}

asio::awaitable<std::string> StatusServer::Impl::respond(std::string_view request) {
    if (request == "status json" || request == "status text" || request == "status") {
        status::Report report = collect();
        co_await probe_listeners(report);
        co_return "ok\n" +
            (request == "status text" ? status::render_text(report) : status::render_json(report));
    }
    if (request == "status prometheus") {
        co_return "ok\n" + status::render_prometheus(collect());
    }
    if (request == "log-queries on" || request == "log-queries off") {
        set_query_log(request == "log-queries on");
        co_return fmt::format("ok\nquery log {}\n", request == "log-queries on" ? "on" : "off");
    }
    if (request == "status-ping") {
        co_return "ok\n";
    }
    co_return "error unknown request\n";
}

asio::awaitable<void> StatusServer::Impl::probe_listeners(status::Report& report) {
    server::SelfChecks& checks = sources.state->observer.self_checks;
    std::vector<std::shared_ptr<Probe>> probes;
    for (const status::Listener& listener : report.listeners) {
        auto probe = std::make_shared<Probe>(executor);
        probes.push_back(probe);
        std::error_code error;
        const asio::ip::address address = asio::ip::make_address(listener.address, error);
        const asio::ip::udp::endpoint target(address, listener.port);
        if (!error) {
            probe->socket.open(target.protocol(), error);
        }
        if (!error) {
            probe->socket.connect(target, error);
        }
        const std::uint16_t id = static_cast<std::uint16_t>(random());
        const std::string label = fmt::format("{:016x}", random());
        probe->name = label + "." + std::string(server::SelfChecks::kSuffix);
        checks.add(id, probe->name);
        if (!error) {
            probe->socket.send(asio::buffer(self_check_query(id, label)), 0, error);
        }
        if (error) {
            probe->finished = true;
            probe->error = error.message();
            continue;
        }
        probe->socket.async_receive(asio::buffer(probe->buffer),
                                    [probe](const std::error_code& receive_error, std::size_t) {
                                        if (receive_error == asio::error::operation_aborted) {
                                            return;
                                        }
                                        probe->finished = true;
                                        probe->replied = !receive_error;
                                        probe->error = receive_error ? receive_error.message() : "";
                                    });
    }
    // Our listeners never answer a self-check, so only a seen mark, a reply from elsewhere or
    // an error ends a probe early; otherwise the limit does.
    const auto deadline = std::chrono::steady_clock::now() + kProbeLimit;
    while (std::chrono::steady_clock::now() < deadline) {
        co_await server::sleep_for(kProbePoll);
        bool all_done = true;
        for (const auto& probe : probes) {
            all_done = all_done && (probe->finished || checks.seen(probe->name));
        }
        if (all_done) {
            break;
        }
    }
    for (std::size_t i = 0; i < probes.size(); ++i) {
        Probe& probe = *probes[i];
        status::Listener& listener = report.listeners[i];
        std::error_code ignored;
        probe.socket.close(ignored);
        const std::optional<base::IpAddress> seen_on = checks.finish(probe.name);
        if (seen_on) {
            listener.self_check = "ok";
            if (seen_on->to_string() != listener.address) {
                listener.detail = "reached this process on " + seen_on->to_string();
            }
        } else if (probe.replied) {
            listener.self_check = "other-process";
            listener.detail = "another process answered";
        } else {
            listener.self_check = "no-answer";
            listener.detail = probe.error.empty() ? "no reply within 500 ms" : probe.error;
        }
    }
}

asio::awaitable<void> StatusServer::Impl::handle_usr1(std::shared_ptr<Impl> self) {
    for (;;) {
        auto [error, signal_number] = co_await usr1.async_wait(kUseTuple);
        if (error) {
            co_return;
        }
        self->set_query_log(!sources.state->observer.log.enabled());
    }
}

void StatusServer::Impl::set_query_log(bool enabled) {
    for (const std::string& line : sources.state->observer.log.set_enabled(enabled)) {
        base::log::write(base::log::Level::Info, line);
    }
}

status::Report StatusServer::Impl::collect() const {
    status::Report report;
    const server::ServeState& state = *sources.state;
    const records::RecordStore& store = *state.snapshot()->store;
    report.version = build_info::kVersion;
    report.pid = ::getpid();
    report.uptime_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.config_dir = sources.config_dir;
    report.port = sources.port;
    report.query_log = state.observer.log.enabled();

    for (const auto& table : store.tables()) {
        const records::Network& network = table->network();
        status::Network entry{network.name, network.internal, {}, table->entry_count()};
        for (const base::IpAddress& address : network.bind_ips) {
            entry.listen_addresses.push_back(address.to_string());
        }
        report.networks.push_back(std::move(entry));
    }
    for (const server::DesiredListener& desired : server::desired_listeners(store)) {
        report.listeners.push_back(
            status::Listener{desired.key.network, desired.key.address.to_string(), sources.port,
                             sources.listeners.find(desired.key) != nullptr, "not-run", ""});
    }
    std::vector<base::IpAddress> addresses;
    for (const auto& table : store.tables()) {
        table->for_each_name([&](std::string_view name) {
            if (report.names.size() >= kMaxReportedNames) {
                ++report.names_omitted;
                return;
            }
            addresses.clear();
            table->append_addresses(name, 0, addresses);
            status::Name entry{table->network().name, std::string(name), {}};
            for (const base::IpAddress& address : addresses) {
                entry.addresses.push_back(address.to_string());
            }
            report.names.push_back(std::move(entry));
        });
    }
    std::stable_sort(report.names.begin(), report.names.end(),
                     [](const status::Name& left, const status::Name& right) {
                         return left.network == right.network ? left.name < right.name
                                                              : left.network < right.network;
                     });
    for (const records::Finding& finding : store.findings()) {
        report.stale.push_back(
            status::StaleEntry{finding.network, finding.path, finding.line, finding.container_id,
                               records::status_name(finding.status), finding.reason,
                               finding.shadowed_names, finding.removable});
    }

    const upstream::Forwarder& forwarder = sources.forwarder;
    const std::vector<upstream::Forwarder::DownUpstream> down = forwarder.down_upstreams();
    auto down_entry = [&](const base::Nameserver& server) {
        for (const auto& entry : down) {
            if (entry.server == server) {
                return &entry;
            }
        }
        return static_cast<const upstream::Forwarder::DownUpstream*>(nullptr);
    };
    for (const base::Nameserver& server : forwarder.host_servers()) {
        const auto* entry = down_entry(server);
        report.upstreams.push_back(status::Upstream{
            base::to_string(server), entry != nullptr, entry ? entry->failures : 0U,
            entry ? std::chrono::duration<double>(entry->retry_in).count() : 0.0});
    }
    for (const auto& entry : down) { // container or network servers in back-off
        const std::vector<base::Nameserver> host = forwarder.host_servers();
        if (std::find(host.begin(), host.end(), entry.server) == host.end()) {
            report.upstreams.push_back(
                status::Upstream{base::to_string(entry.server), true, entry.failures,
                                 std::chrono::duration<double>(entry.retry_in).count()});
        }
    }

    const server::QueryCounters& counters = state.observer.counters;
    status::Counters& out = report.counters;
    out.queries = counters.queries;
    out.answered_locally = counters.answered_locally;
    out.forwarded = counters.forwarded;
    out.forward_unanswered = counters.forward_unanswered;
    out.dropped = counters.dropped;
    out.self_checks = counters.self_checks;
    for (std::size_t i = 0; i < counters.by_type.size(); ++i) {
        if (counters.by_type[i] > 0) {
            out.by_type.emplace_back(i < server::kCountedTypes.size()
                                         ? server::type_name(server::kCountedTypes[i])
                                         : std::string("other"),
                                     counters.by_type[i]);
        }
    }
    for (std::size_t i = 0; i < counters.by_rcode.size(); ++i) {
        if (counters.by_rcode[i] > 0) {
            out.by_rcode.emplace_back(server::rcode_name(static_cast<unsigned>(i)),
                                      counters.by_rcode[i]);
        }
    }
    const upstream::ForwarderStats stats = forwarder.stats();
    // Limits that refuse work (docs/security.md).
    out.shed.emplace_back("tcp_per_client", state.shed_tcp_per_client);
    out.shed.emplace_back("tcp_global", state.shed_tcp_global);
    out.shed.emplace_back("forward_per_client", state.shed_forward_per_client);
    out.shed.emplace_back("forward_global", state.shed_forward_global);
    out.shed.emplace_back("forwarder_in_flight", stats.rejected_busy);
    out.tcp_connections = state.tcp_connections;
    out.udp_forwards = state.udp_forwards;
    out.query_log_suppressed = state.observer.log.suppressed();

    report.cache.enabled = forwarder.cache_enabled();
    report.cache.entries = forwarder.cache_size();
    report.cache.bytes = forwarder.cache_bytes();
    report.cache.hits = stats.cache_hits;
    report.cache.lookups = stats.cache_hits + stats.forwarded;
    report.last_reload = last_reload;
    return report;
}

StatusServer::StatusServer(asio::any_io_executor executor, StatusSources sources)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(sources))) {}

StatusServer::~StatusServer() {
    std::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->usr1.cancel(ignored);
}

void StatusServer::start() {
    // SIGUSR1 first: its default action kills, and it works even when the socket is off.
    std::error_code error;
    impl_->usr1.add(SIGUSR1, error);
    if (error) {
        base::log::warn("SIGUSR1 (query log switch) not installed: {}", error.message());
    } else {
        asio::co_spawn(impl_->executor, impl_->handle_usr1(impl_), asio::detached);
    }
    if (const base::Result<void> bound = impl_->bind_socket(); !bound) {
        base::log::warn("{}", bound.error());
    } else {
        asio::co_spawn(impl_->executor, impl_->accept_loop(impl_), asio::detached);
        base::log::debug("status socket {}", impl_->path);
    }
}

void StatusServer::record_pass(const PassResult& pass) {
    status::Reload& reload = impl_->last_reload;
    const auto now = std::chrono::system_clock::now();
    reload.happened = true;
    reload.finished_at = utc_text(now);
    reload.finished_at_unix =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    reload.duration_us = pass.elapsed.count();
    reload.ok = pass.directory_ok;
    reload.error = pass.directory_error;
    reload.rebuilt_networks = pass.rebuilt_networks;
    reload.held_back = pass.recheck_at.has_value();
    ++reload.passes;
}

void StatusServer::set_query_log(bool enabled) {
    impl_->set_query_log(enabled);
}

status::Report StatusServer::collect() const {
    return impl_->collect();
}

const std::string& StatusServer::socket_path() const noexcept {
    return impl_->path;
}

} // namespace lifecycle
