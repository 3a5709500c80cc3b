#include "inspect/live_evidence.hpp"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "probe/interfaces.hpp"
#include "probe/prober.hpp"

#include <net/if.h>

extern char** environ;

namespace inspect {
namespace {

using Clock = std::chrono::steady_clock;

std::string short_id(const std::string& id) {
    return id.substr(0, std::min<std::size_t>(id.size(), 12));
}

/// The interface (the network's bridge) that holds `gateway`, for the messages only: the
/// prober finds it again itself.
std::optional<std::string> interface_holding(const base::IpAddress& gateway) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        return std::nullopt;
    }
    std::optional<std::string> name;
    for (const ifaddrs* item = list; item != nullptr; item = item->ifa_next) {
        if (probe::sockaddr_holds(item->ifa_addr, gateway)) {
            name = item->ifa_name;
            break;
        }
    }
    ::freeifaddrs(list);
    return name;
}

/// `podman` found on PATH as execvp would, or nullopt.
std::optional<std::string> find_on_path(const char* program) {
    const char* path = std::getenv("PATH");
    if (path == nullptr) {
        return std::nullopt;
    }
    std::string_view rest = path;
    while (true) {
        const std::size_t colon = rest.find(':');
        const std::string_view dir = rest.substr(0, colon);
        const std::string candidate =
            (std::filesystem::path(dir.empty() ? "." : std::string(dir)) / program).string();
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        rest.remove_prefix(colon + 1);
    }
}

} // namespace

LiveEvidence::LiveEvidence(LiveEvidenceOptions options)
    : options_(options) {}

std::vector<check::ProbeResult> LiveEvidence::probe(std::span<const check::ProbeRequest> requests) {
    std::vector<probe::Target> targets;
    targets.reserve(requests.size());
    for (const auto& request : requests) {
        targets.push_back({request.address, request.gateway});
    }
    // Declared before the prober: pending handlers are destroyed only after it is gone.
    asio::io_context io;
    probe::Options probing;
    probing.timing.probe_interval = options_.probe_interval;
    probing.timing.misses_for_dead = options_.misses_for_silent;
    // One verdict per address is all check needs.
    probing.timing.recheck_after = std::chrono::hours(1);
    probe::Prober prober(io.get_executor(), probing);
    prober.set_targets(targets);

    // Every verdict is in after misses_for_silent intervals; a little slack for the rate limit.
    const auto deadline = Clock::now() +
                          options_.probe_interval * (options_.misses_for_silent + 2) +
                          std::chrono::seconds(1);
    while (Clock::now() < deadline) {
        io.run_for(std::chrono::milliseconds(50));
        if (prober.stats().permission_denied) {
            break;
        }
        bool pending = false;
        for (const auto& request : requests) {
            pending = pending || prober.state(request.address) == liveness::ProbeState::Unknown;
        }
        if (!pending) {
            break;
        }
    }
    const auto stats = prober.stats();
    std::vector<check::ProbeResult> results;
    results.reserve(requests.size());
    for (const auto& request : requests) {
        const auto bridge = interface_holding(request.gateway);
        const std::string where = bridge ? fmt::format("on {}", *bridge)
                                         : fmt::format("from {}", request.gateway.to_string());
        const char* kind = request.address.is_v4() ? "ARP" : "NDP";
        switch (prober.state(request.address)) {
        case liveness::ProbeState::Alive:
            results.push_back(
                {check::ProbeAnswer::Answered, fmt::format("{} answer {}", kind, where)});
            break;
        case liveness::ProbeState::Dead:
            results.push_back(
                {check::ProbeAnswer::Silent, fmt::format("{} {} probes unanswered {}",
                                                         options_.misses_for_silent, kind, where)});
            break;
        case liveness::ProbeState::Unknown:
            if (stats.permission_denied) {
                results.push_back(
                    {check::ProbeAnswer::Unknown, "probing needs root or CAP_NET_RAW"});
            } else if (!bridge) {
                results.push_back(
                    {check::ProbeAnswer::Unknown, fmt::format("no interface holds the gateway {}",
                                                              request.gateway.to_string())});
            } else {
                results.push_back(
                    {check::ProbeAnswer::Unknown, fmt::format("no {} verdict {}", kind, where)});
            }
            break;
        }
    }
    prober.stop();
    return results;
}

check::RuntimeResult LiveEvidence::runtime_knows(const std::string& container_id) {
    const bool root = ::geteuid() == 0;
    if (options_.mode == check::PodmanMode::Unknown) {
        return {check::RuntimeAnswer::Unavailable,
                "not a default Podman directory, podman not asked"};
    }
    if ((options_.mode == check::PodmanMode::Rootful) != root) {
        return {check::RuntimeAnswer::Unavailable,
                root ? "rootless Podman's files, but running as root: podman not asked"
                     : "rootful Podman's files, but not running as root: podman not asked"};
    }
    const auto podman = find_on_path("podman");
    if (!podman) {
        return {check::RuntimeAnswer::Unavailable, "podman is not on PATH"};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::string arg0 = "podman", arg1 = "container", arg2 = "exists", arg3 = container_id;
    char* argv[] = {arg0.data(), arg1.data(), arg2.data(), arg3.data(), nullptr};
    pid_t child = -1;
    const int spawn_error =
        ::posix_spawn(&child, podman->c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawn_error != 0) {
        return {check::RuntimeAnswer::Unavailable,
                fmt::format("cannot run {}: {}", *podman, base::strerror_text(spawn_error))};
    }
    const auto deadline = Clock::now() + options_.podman_timeout;
    int status = 0;
    while (true) {
        const pid_t done = ::waitpid(child, &status, WNOHANG);
        if (done == child) {
            break;
        }
        if (done < 0 && errno != EINTR) {
            return {check::RuntimeAnswer::Unavailable, "lost the podman process"};
        }
        if (Clock::now() >= deadline) {
            ::kill(child, SIGKILL); // our own child, by its pid
            ::waitpid(child, &status, 0);
            return {check::RuntimeAnswer::Unavailable, "podman did not answer in time"};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // podman container exists: 0 exists, 1 no such container, anything else an error.
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return {check::RuntimeAnswer::Knows,
                fmt::format("podman knows container {}", short_id(container_id))};
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
        return {check::RuntimeAnswer::DoesNotKnow,
                fmt::format("podman has no container {}", short_id(container_id))};
    }
    return {check::RuntimeAnswer::Unavailable,
            fmt::format("podman container exists failed (status {})", status)};
}

} // namespace inspect
