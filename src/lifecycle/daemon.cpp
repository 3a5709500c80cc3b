#include "lifecycle/daemon.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "base/log.hpp"
#include "config/config_dir.hpp"
#include "config/resolv_conf.hpp"
#include "lifecycle/detach.hpp"
#include "lifecycle/pid_file.hpp"
#include "lifecycle/ready_pipe.hpp"
#include "lifecycle/reload_engine.hpp"
#include "lifecycle/reload_worker.hpp"
#include "lifecycle/resolv_conf_watch.hpp"
#include "lifecycle/settings.hpp"
#include "lifecycle/status_server.hpp"
#include "liveness/gateway.hpp"
#include "probe/prober.hpp"
#include "query/handler.hpp"
#include "records/record_store.hpp"
#include "server/listener_set.hpp"
#include "server/serve_state.hpp"
#include "upstream/forwarder.hpp"

namespace lifecycle {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

/// Writes one whole line to stderr with a single write(2), so the parent's and the child's
/// lines (both reach netavark's pipe) never interleave mid-line.
void print_error(std::string_view message) {
    std::string line(message);
    line += '\n';
    std::string_view rest = line;
    while (!rest.empty()) {
        const ssize_t written = ::write(STDERR_FILENO, rest.data(), rest.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            return;
        }
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
}

void set_sighup_blocked(bool blocked) noexcept {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    ::sigprocmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &set, nullptr);
}

void write_log(const std::vector<LogLine>& lines) {
    for (const LogLine& line : lines) {
        switch (line.level) {
        case LogLine::Level::Debug:
            base::log::debug("{}", line.text);
            break;
        case LogLine::Level::Info:
            base::log::info("{}", line.text);
            break;
        case LogLine::Level::Warn:
            base::log::warn("{}", line.text);
            break;
        }
    }
}

/// When /etc/resolv.conf is read, an error means different things (contract §5.4).
enum class ResolvConfRead {
    Start,  // ctrdns is lenient where aardvark is fatal: log, serve with no host servers
    Reload, // SIGHUP: log, no host servers until a later successful read
    Change  // inotify: log, keep the previous servers
};

/// Everything the child owns once it serves. Lives until the process exits: the exit paths
/// call std::exit, like aardvark's process::exit, so no coroutine frame ever outlives the
/// objects it points at during teardown.
class Daemon {
public:
    Daemon(const Options& options, pid_t pid)
        : options_(options)
        , pid_(pid)
        , pid_path_(pid_file_path(options.config_dir))
        , forwarder_(io_.get_executor(), upstream::Options{})
        , state_(std::make_shared<server::ServeState>(
              nullptr,
              [this](std::vector<std::uint8_t> query, std::vector<base::Nameserver> servers,
                     dns::Transport transport) {
                  return forwarder_.forward(std::move(query), std::move(servers), transport);
              }))
        , listeners_(io_.get_executor(), state_, options.port)
        , signals_(io_)
        , engine_(options.config_dir) {
        settings_.search_domain = normalise_search_domain(options.search_domain);
        // Read once at start, as aardvark does; any value, even empty, disables forwarding.
        settings_.no_proxy = std::getenv("AARDVARK_NO_PROXY") != nullptr;
        settings_.forwarding_enabled = true;
        apply_settings_file(SettingsRead::Start);
    }

    /// Loads and binds (contract §2.1 steps 4-6). nullopt when ready to serve, else the exit
    /// status. The same ReloadEngine pass as every reload; only what follows a failure differs.
    std::optional<int> start() {
        PassResult first = engine_.run_pass(ReloadClock::now());
        if (!first.directory_ok) {
            print_error("Error starting server " + first.directory_error);
            return 1;
        }
        // Files still being written and nothing to serve yet: wait for them to settle rather
        // than give up on a network that is just being created.
        // Bounded: a file rewritten without pause for seconds is not a network being created.
        const auto give_up = ReloadClock::now() + 10 * engine_.settings().settle;
        while (engine_.current()->networks().empty() && first.recheck_at &&
               ReloadClock::now() < give_up) {
            write_log(first.log);
            std::this_thread::sleep_until(*first.recheck_at);
            first = engine_.run_pass(ReloadClock::now());
        }
        write_log(first.log);
        status_.record_pass(first); // status hook
        // The parse's temporaries are freed: do not start serving with their pages resident.
        ::malloc_trim(0);
        recheck_at_ = first.recheck_at;
        const auto& store = engine_.current();
        if (store->networks().empty()) {
            // Before resolv.conf and before any bind; the parent sees EOF and reports failure.
            base::log::info("No configuration found stopping the sever");
            if (const base::Result<void> removed = remove_pid_file(pid_path_); !removed) {
                base::log::error("failed to remove {}: {}", pid_path_, removed.error());
                return 1;
            }
            return 0;
        }
        update_probe_targets(*store);
        publish(store);
        read_host_servers(ResolvConfRead::Start);
        const std::vector<base::Error> errors = reconcile();
        if (!errors.empty()) {
            print_error(fmt::format("Error starting server {}", fmt::join(errors, "\n")));
            return 1;
        }
        return std::nullopt;
    }

    /// Detaches (unless in the foreground), signals readiness and runs the loop until an exit.
    [[noreturn]] void serve(ReadyPipe* ready) {
        // Handlers first: a signal sent the moment `run` returns must find them installed.
        signals_.add(SIGHUP);
        // A caller that ignores SIGTERM/SIGINT (netavark's teardown) keeps them ignored in
        // aardvark; otherwise they end the daemon cleanly instead of killing it outright.
        for (const int signal_number : {SIGTERM, SIGINT}) {
            if (!is_signal_ignored(signal_number)) {
                signals_.add(signal_number);
            }
        }
        // Blocked since before the pid file existed; a SIGHUP sent meanwhile is delivered now
        // and becomes a reload.
        set_sighup_blocked(false);
        asio::co_spawn(io_, handle_signals(), asio::detached);
        status_.start(); // status hook: socket beside the config dir, SIGUSR1 query log switch

        if (ready != nullptr) {
            if (const base::Result<void> detached = detach_from_caller(); !detached) {
                print_error(fmt::format("Error starting server {}", detached.error()));
                std::exit(1);
            }
            if (!ready->signal_ready()) {
                base::log::warn("the starting process is gone; serving anyway");
            }
        }

        resolv_watch_ =
            ResolvConfWatch::create(io_.get_executor(), options_.resolv_conf_path,
                                    [this] { read_host_servers(ResolvConfRead::Change); });
        resolv_watch_->start();

        worker_.emplace(engine_, [this](PassResult result) {
            asio::post(io_,
                       [this, result = std::move(result)]() mutable { apply(std::move(result)); });
        });
        worker_->start(recheck_at_);

        base::log::info("serving {} listener address(es) on port {}", listeners_.size(),
                        options_.port);
        io_.run();
        worker_->stop();
        std::exit(exit_code_);
    }

private:
    /// Probes only addresses that share a name with another of their family (the only answers
    /// a verdict may change), each from its network's gateway (docs/liveness.md).
    void update_probe_targets(const records::RecordStore& store) {
        if (!prober_) {
            return;
        }
        std::vector<probe::Target> targets;
        const auto networks = store.networks();
        for (const auto& candidate : store.probe_candidates()) {
            const auto gateway =
                liveness::gateway_for(candidate.address, networks[candidate.network].bind_ips);
            if (gateway) {
                targets.push_back({candidate.address, *gateway});
            }
        }
        base::log::debug("liveness: {} probe target(s)", targets.size());
        prober_->set_targets(std::move(targets));
    }

    void publish(std::shared_ptr<const records::RecordStore> store) {
        auto snapshot = std::make_shared<server::Snapshot>();
        snapshot->store = std::move(store);
        snapshot->settings = settings_;
        state_->publish(std::move(snapshot));
    }

    std::vector<base::Error> reconcile() {
        std::vector<base::Error> errors =
            listeners_.reconcile(server::desired_listeners(*state_->snapshot()->store));
        forwarder_.set_local_addresses(listeners_.addresses());
        return errors;
    }

    void read_host_servers(ResolvConfRead when) {
        config::ResolvConfResult result = config::read_resolv_conf(options_.resolv_conf_path);
        if (result.error) {
            switch (when) {
            case ResolvConfRead::Start:
            case ResolvConfRead::Reload:
                base::log::error("failed to get upstream nameservers, dns forwarding will not "
                                 "work: {}",
                                 *result.error);
                forwarder_.set_host_servers({});
                break;
            case ResolvConfRead::Change:
                base::log::error("Failed to reload nameservers on change: {}", *result.error);
                return;
            }
        } else {
            base::log::debug("{} upstream nameserver(s) from {}", result.servers.size(),
                             options_.resolv_conf_path);
            if (result.servers == forwarder_.host_servers()) {
                // Every netavark change sends a SIGHUP: keeping the cache when the resolvers are
                // the same spares the upstreams a burst of repeats at each container start.
                // Answers are keyed by upstream set, and container names are never cached.
                return;
            }
            forwarder_.set_host_servers(std::move(result.servers));
        }
        forwarder_.flush_cache();
    }

    /// SIGHUP (contract §2.3): resolv.conf is re-read here; the network files on the worker, whose
    /// result comes back through apply(). Answers never wait for a reload.
    void reload() {
        base::log::debug("Received SIGHUP");
        apply_settings_file(SettingsRead::Reload);
        read_host_servers(ResolvConfRead::Reload);
        if (resolv_watch_) {
            resolv_watch_->ensure_watch();
        }
        worker_->request();
    }

    /// A worker pass's outcome, on the io thread: the new snapshot replaces the old one, and
    /// listeners are reconciled against it in the same synchronous step so no query ever pairs
    /// a listener's network id with another snapshot. A directory error keeps everything.
    void apply(PassResult result) {
        status_.record_pass(result); // status hook
        write_log(result.log);
        if (!result.directory_ok) {
            base::log::error("unable to parse config: {}", result.directory_error);
            return;
        }
        if (result.store) {
            base::log::debug("reload: {} network(s) rebuilt in {} us",
                             result.rebuilt_networks.size(), result.elapsed.count());
            update_probe_targets(*result.store);
            publish(std::move(result.store));
        }
        // Every pass, changed or not: listeners that failed to bind are retried on each SIGHUP.
        const std::vector<base::Error> errors = reconcile();
        if (!errors.empty()) {
            base::log::error("{}", fmt::join(errors, "\n"));
        }
        if (result.nothing_to_serve) {
            base::log::info("No configuration found stopping the sever");
            if (const base::Result<void> removed = remove_pid_file(pid_path_); !removed) {
                base::log::error("failed to remove {}: {}", pid_path_, removed.error());
                finish(1);
                return;
            }
            finish(0);
        }
    }

    // ---- Settings file hooks (docs/settings.md): read at start and on SIGHUP ----------------

    enum class SettingsRead {
        Start,
        Reload
    };

    /// Reads the settings files, reports their problems (never fatal) and applies the result,
    /// the command line still winning. Everything in it can change at run time.
    void apply_settings_file(SettingsRead when) {
        LoadedSettings loaded =
            load_settings(options_.settings_paths, options_.command_line, settings_file_values_);
        // First, so the problems below are logged at the level the file asks for.
        base::log::set_level(loaded.options.log_level);
        for (const config::Problem& problem : loaded.problems) {
            base::log::warn("settings: {}", problem.to_string());
            // Before detaching, the caller (a shell, netavark) still has our stderr; syslog may
            // go nowhere on a minimal host.
            if (when == SettingsRead::Start && !options_.foreground) {
                print_error(fmt::format("warning: settings: {}", problem.to_string()));
            }
        }
        if (when == SettingsRead::Start) {
            if (!loaded.files_read.empty()) {
                base::log::info("settings from {}", fmt::join(loaded.files_read, ", "));
            }
        } else {
            for (const std::string& change : describe_changes(runtime_, loaded.options)) {
                base::log::info("settings changed: {}", change);
            }
        }
        // The query log follows the file at start and when the file's value changes; a switch
        // made at run time (status socket, SIGUSR1) otherwise stands.
        const bool query_log_changed =
            when == SettingsRead::Start ||
            loaded.options.query_log_default != runtime_.query_log_default;
        settings_file_values_ = std::move(loaded.file_values);
        runtime_ = loaded.options;
        if (query_log_changed && state_->observer.log.enabled() != runtime_.query_log_default) {
            for (const std::string& line :
                 state_->observer.log.set_enabled(runtime_.query_log_default)) {
                base::log::info("{}", line);
            }
        }
        forwarder_.reconfigure(runtime_.forwarder);
        state_->set_limits(runtime_.limits);
        set_probing(runtime_.probe_liveness);
    }

    /// Starts or stops the liveness prober. Verdicts change independently of reloads, so each
    /// change republishes the same store with them; turning probing off forgets every verdict.
    void set_probing(bool enabled) {
        if (enabled == prober_.has_value()) {
            return;
        }
        if (enabled) {
            prober_.emplace(io_.get_executor());
            prober_->on_change([this](const std::shared_ptr<const liveness::DeadSet>& dead) {
                settings_.dead_addresses = dead;
                publish(state_->snapshot()->store);
            });
            settings_.dead_addresses = prober_->dead_addresses();
        } else {
            prober_->on_change({});
            prober_->stop();
            prober_.reset();
            settings_.dead_addresses = nullptr;
        }
        // Not yet at start (no snapshot): start() publishes and sets the targets itself.
        if (const auto& snapshot = state_->snapshot()) {
            update_probe_targets(*snapshot->store);
            publish(snapshot->store);
        }
    }

    // ------------------------------------------------------------------------------------------

    asio::awaitable<void> handle_signals() {
        for (;;) {
            auto [error, signal_number] = co_await signals_.async_wait(kUseTuple);
            if (error) {
                co_return;
            }
            try {
                if (signal_number == SIGHUP) {
                    reload();
                    continue;
                }
                base::log::info("received signal {}, exiting", signal_number);
                // Only our own pid file: a daemon started after us may have replaced it.
                remove_pid_file_if_owned(pid_path_, pid_);
                finish(0);
                co_return;
            } catch (const std::exception& e) {
                base::log::error("reload failed: {}", e.what());
            }
        }
    }

    void finish(int exit_code) {
        exit_code_ = exit_code;
        listeners_.stop_all();
        if (resolv_watch_) {
            resolv_watch_->stop();
        }
        io_.stop();
    }

    const Options& options_;
    pid_t pid_;
    std::string pid_path_;
    query::Settings settings_;
    asio::io_context io_{1};
    upstream::Forwarder forwarder_;
    std::shared_ptr<server::ServeState> state_;
    server::ListenerSet listeners_;
    asio::signal_set signals_;
    std::shared_ptr<ResolvConfWatch> resolv_watch_;
    std::optional<probe::Prober> prober_; // while probe_liveness is on
    ReloadEngine engine_;
    std::optional<ReloadClock::time_point> recheck_at_; // from the start-up pass
    std::optional<ReloadWorker> worker_;                // reloads off the io thread
    int exit_code_ = 0;
    config::SettingsValues settings_file_values_; // last applied, for keys a reload finds bad
    RuntimeOptions runtime_;                      // the settings in effect
    // status hook: `ctrdns status` (daemon/status_server.hpp); last, so all it reads exists.
    StatusServer status_{io_.get_executor(), StatusSources{listeners_, forwarder_, state_,
                                                           options_.config_dir, options_.port}};
};

/// The daemon proper (the forked child, or the process itself in the foreground).
int serve(const Options& options, ReadyPipe* ready) {
    // SIGHUP's default action kills: netavark may send one as soon as the pid file exists.
    set_sighup_blocked(true);
    const pid_t pid = ::getpid();
    // Armed for the daemon's whole life: no exit leaves a pid file naming this process.
    PidFileGuard pid_file(pid_file_path(options.config_dir), pid);
    if (const base::Result<void> written = pid_file.write(); !written) {
        print_error(fmt::format("Error creating aardvark pid {}", written.error()));
        return 1;
    }
    std::optional<Daemon> daemon;
    try {
        daemon.emplace(options, pid);
        if (const std::optional<int> exit_code = daemon->start()) {
            return *exit_code;
        }
    } catch (const std::exception& e) {
        print_error(fmt::format("Error starting server {}", e.what()));
        return 1;
    }
    daemon->serve(ready);
}

} // namespace

std::string normalise_search_domain(std::string_view filter) {
    std::string domain(filter);
    if (!domain.empty() && domain.back() != '.') {
        domain += '.';
    }
    return domain;
}

int run(const Options& options) {
    ignore_sigpipe();
    raise_fd_limit();
    // Reloads allocate a file-sized buffer and then free it. A fixed mmap threshold keeps such
    // buffers out of the heap (returned to the system when freed; glibc's adaptive threshold
    // would otherwise move them into the heap and RSS would creep up reload after reload), and
    // two arenas (io thread, reload worker) are enough.
    ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    ::mallopt(M_ARENA_MAX, 2);
    if (options.foreground) {
        base::log::set_sink(base::log::Sink::Stderr);
        return serve(options, nullptr);
    }
    base::log::set_sink(base::log::Sink::Syslog);

    base::Result<ReadyPipe> ready = ReadyPipe::create();
    if (!ready) {
        print_error(ready.error().message());
        return 1;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        print_error(fmt::format("fork failed with error: {}", base::strerror_text(errno)));
        return 1;
    }
    if (child > 0) {
        const base::Result<ReadyPipe::Outcome> outcome = ready->wait_for_child();
        if (!outcome) {
            print_error(outcome.error().message());
            return 1;
        }
        if (*outcome == ReadyPipe::Outcome::ChildFailed) {
            print_error("Error from child process");
            return 1;
        }
        return 0;
    }
    ready->become_child();
    return serve(options, &*ready);
}

} // namespace lifecycle
