// probe::Prober against real neighbours. Each test forks a child that moves into a network
// namespace of its own (unshare(CLONE_NEWNET)), builds a bridge there with a veth whose other
// end lives in a second private namespace (the "container", 10.250.0.2 and fd00:250::2), and
// runs a Prober on it. No packet can leave these namespaces. Needs root (CI runs as root); the
// child reports through a pipe and its exit status.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "base/unique_fd.hpp"
#include "liveness/filter.hpp"
#include "probe/prober.hpp"

namespace {

using namespace std::chrono_literals;
using base::IpAddress;
using liveness::DeadSet;
using liveness::ProbeState;
using probe::Options;
using probe::Prober;
using probe::Target;
using Clock = std::chrono::steady_clock;

IpAddress ip(const char* text) {
    return IpAddress::parse(text).value();
}

const IpAddress kGateway4 = ip("10.250.0.1");
const IpAddress kGateway6 = ip("fd00:250::1");
const IpAddress kPeer4 = ip("10.250.0.2");
const IpAddress kPeer6 = ip("fd00:250::2");
const IpAddress kNobody4 = ip("10.250.0.3");
const IpAddress kNobody6 = ip("fd00:250::3");

/// Collects failed expectations inside the child, where GoogleTest's own cannot report.
class Report {
public:
    void expect(bool condition, const std::string& what) {
        if (!condition) {
            text_ << what << '\n';
        }
    }

    std::string text() const { return text_.str(); }

private:
    std::ostringstream text_;
};

bool run_command(Report& report, const std::string& command) {
    const int status = std::system(command.c_str());
    const bool ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    report.expect(ok, "command failed: " + command);
    return ok;
}

/// Runs `body` in a forked child inside a new network namespace and returns what it reported
/// (empty: every check passed). The child is killed after `limit`.
std::string run_in_private_netns(const std::function<void(Report&)>& body,
                                 std::chrono::seconds limit) {
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return "pipe failed";
    }
    base::UniqueFd read_end(fds[0]);
    base::UniqueFd write_end(fds[1]);
    const pid_t child = ::fork();
    if (child < 0) {
        return "fork failed";
    }
    if (child == 0) {
        read_end.reset();
        Report report;
        if (::unshare(CLONE_NEWNET) != 0) {
            report.expect(false, std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
        } else {
            try {
                body(report);
            } catch (const std::exception& e) {
                report.expect(false, std::string("exception: ") + e.what());
            }
        }
        const std::string text = report.text();
        [[maybe_unused]] auto written = ::write(write_end.get(), text.data(), text.size());
        ::_exit(text.empty() ? 0 : 1);
    }
    write_end.reset();
    std::string text;
    const auto deadline = Clock::now() + limit;
    bool timed_out = false;
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left <= 0ms) {
            timed_out = true;
            break;
        }
        pollfd poll_fd{.fd = read_end.get(), .events = POLLIN, .revents = 0};
        if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        char buffer[512];
        const ssize_t got = ::read(read_end.get(), buffer, sizeof(buffer));
        if (got <= 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(got));
    }
    if (timed_out) {
        ::kill(child, SIGKILL);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    if (timed_out) {
        return text + "child timed out\n";
    }
    if (!WIFEXITED(status)) {
        return text + "child died from signal " + std::to_string(WTERMSIG(status)) + "\n";
    }
    if (WEXITSTATUS(status) != 0 && text.empty()) {
        return "child exited " + std::to_string(WEXITSTATUS(status)) + "\n";
    }
    return text;
}

/// The "container": a process sitting in a network namespace of its own, holding the far end
/// of a veth whose near end is a port of bridge br0 (10.250.0.1/24, fd00:250::1/64).
class Container {
public:
    explicit Container(Report& report)
        : report_(report) {
        int fds[2] = {-1, -1};
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            report.expect(false, "pipe failed");
            return;
        }
        base::UniqueFd ready_read(fds[0]);
        base::UniqueFd ready_write(fds[1]);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const char ok = ::unshare(CLONE_NEWNET) == 0 ? '1' : '0';
            [[maybe_unused]] auto written = ::write(ready_write.get(), &ok, 1);
            while (true) {
                ::pause();
            }
        }
        ready_write.reset();
        char ok = '0';
        report.expect(pid_ > 0 && ::read(ready_read.get(), &ok, 1) == 1 && ok == '1',
                      "container namespace not created");
        if (ok != '1') {
            return;
        }
        const std::string in_container = "nsenter -t " + std::to_string(pid_) + " -n ";
        in_container_ = in_container;
        ready_ = run_command(report, "ip link add br0 type bridge") &&
                 run_command(report, "ip link add veth0 type veth peer name veth1") &&
                 run_command(report, "ip link set veth0 master br0") &&
                 run_command(report, "ip link set veth1 netns " + std::to_string(pid_)) &&
                 run_command(report, "ip addr add 10.250.0.1/24 dev br0") &&
                 run_command(report, "ip -6 addr add fd00:250::1/64 dev br0 nodad") &&
                 run_command(report, "ip link set veth0 up") &&
                 run_command(report, "ip link set br0 up") &&
                 run_command(report, in_container + "ip link set lo up") && add_addresses() &&
                 run_command(report, in_container + "ip link set veth1 up");
    }

    Container(const Container&) = delete;
    Container& operator=(const Container&) = delete;

    ~Container() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }

    bool ready() const { return ready_; }

    bool add_addresses() {
        return run_command(report_, in_container_ + "ip addr add 10.250.0.2/24 dev veth1") &&
               run_command(report_,
                           in_container_ + "ip -6 addr add fd00:250::2/64 dev veth1 nodad");
    }

    bool remove_addresses() {
        return run_command(report_, in_container_ + "ip addr del 10.250.0.2/24 dev veth1") &&
               run_command(report_, in_container_ + "ip -6 addr del fd00:250::2/64 dev veth1");
    }

private:
    Report& report_;
    pid_t pid_ = -1;
    std::string in_container_;
    bool ready_ = false;
};

/// Runs the loop until `done` holds or `limit` passes; returns whether `done` held.
bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (io.stopped()) {
            io.restart();
        }
        io.run_for(20ms);
        if (done()) {
            return true;
        }
    }
    return done();
}

std::string describe(const DeadSet& dead) {
    std::string text = "{";
    for (const auto& address : dead.addresses()) {
        text += " " + address.to_string();
    }
    return text + " }";
}

std::string state_of(const Prober& prober, const IpAddress& address) {
    return address.to_string() + " is " + liveness::to_string(prober.state(address));
}

Options fast_options() {
    return Options{
        .timing = {.probe_interval = 200ms, .misses_for_dead = 3, .recheck_after = 1000ms},
        .max_probes_per_second = 50};
}

void require_root() {
    if (::geteuid() != 0) {
        FAIL() << "the liveness prober tests must run as root (they create network namespaces, "
                  "a bridge and veths, and send raw ARP/NDP inside them); CI runs as root";
    }
}

TEST(Prober, TellsLiveNeighboursFromAbsentOnesOverArpAndNdp) {
    require_root();
    const std::string failures = run_in_private_netns(
        [](Report& report) {
            Container container(report);
            if (!container.ready()) {
                return;
            }
            asio::io_context io;
            auto prober = std::make_unique<Prober>(io.get_executor(), fast_options());
            std::vector<std::shared_ptr<const DeadSet>> published;
            std::optional<Clock::duration> first_dead_after;
            const auto start = Clock::now();
            prober->on_change([&](const std::shared_ptr<const DeadSet>& dead) {
                published.push_back(dead);
                if (!first_dead_after && !dead->empty()) {
                    first_dead_after = Clock::now() - start;
                }
            });
            // 10.251.0.0/24 is on no interface: its target can never be probed.
            const IpAddress unreachable_gateway = ip("10.251.0.1");
            const IpAddress unprobeable = ip("10.251.0.3");
            prober->set_targets({{kPeer4, kGateway4},
                                 {kNobody4, kGateway4},
                                 {kPeer6, kGateway6},
                                 {kNobody6, kGateway6},
                                 {unprobeable, unreachable_gateway},
                                 {kGateway4, kGateway4}});
            const auto settled = [&] {
                return prober->state(kPeer4) == ProbeState::Alive &&
                       prober->state(kPeer6) == ProbeState::Alive &&
                       prober->state(kNobody4) == ProbeState::Dead &&
                       prober->state(kNobody6) == ProbeState::Dead;
            };
            const bool settled_in_time = run_until(io, settled, 5s);
            report.expect(settled_in_time,
                          "verdicts not reached in 5 s: " + state_of(*prober, kPeer4) + ", " +
                              state_of(*prober, kPeer6) + ", " + state_of(*prober, kNobody4) +
                              ", " + state_of(*prober, kNobody6));
            const auto dead = prober->dead_addresses();
            report.expect(*dead == DeadSet({kNobody4, kNobody6}), "dead set is " + describe(*dead));
            report.expect(prober->state(unprobeable) == ProbeState::Unknown,
                          "a target whose gateway is on no interface must stay unknown, " +
                              state_of(*prober, unprobeable));
            report.expect(prober->state(kGateway4) == ProbeState::Unknown,
                          "the gateway itself is not a target");
            // Three misses 200 ms apart: nothing can be dead before 600 ms.
            report.expect(first_dead_after.has_value() && *first_dead_after >= 590ms,
                          "marked dead before three probes went unanswered");
            report.expect(!published.empty() && published.back() == dead,
                          "change callback did not get the published set");
            const auto stats = prober->stats();
            report.expect(!stats.permission_denied, "permission denied as root");
            report.expect(stats.targets == 5, "targets: " + std::to_string(stats.targets));
            report.expect(stats.answers >= 2, "answers: " + std::to_string(stats.answers));
            // 1 probe each for the live ones, 3 each for the absent ones.
            report.expect(stats.probes_sent >= 8, "probes: " + std::to_string(stats.probes_sent));

            // What the query path does with it.
            std::vector<IpAddress> answer{kNobody4, kPeer4};
            liveness::drop_dead(answer, dead.get());
            report.expect(answer == std::vector<IpAddress>{kPeer4}, "drop_dead kept a dead one");
            std::vector<IpAddress> only_dead{kNobody6};
            liveness::drop_dead(only_dead, dead.get());
            report.expect(only_dead.size() == 1, "drop_dead emptied an answer");

            // Removing targets removes them from the dead set.
            prober->set_targets({{kPeer4, kGateway4}, {kNobody6, kGateway6}});
            report.expect(*prober->dead_addresses() == DeadSet({kNobody6}),
                          "after set_targets the dead set is " +
                              describe(*prober->dead_addresses()));
            report.expect(prober->state(kPeer4) == ProbeState::Alive, "kept verdict lost");

            // The loop may outlive the prober.
            prober.reset();
            io.restart();
            io.run_for(300ms);
        },
        15s);
    EXPECT_EQ(failures, "");
}

TEST(Prober, AddressesThatGoAwayAndComeBackAreSeenAtTheNextCheck) {
    require_root();
    const std::string failures = run_in_private_netns(
        [](Report& report) {
            Container container(report);
            if (!container.ready()) {
                return;
            }
            asio::io_context io;
            Prober prober(io.get_executor(), fast_options());
            int changes = 0;
            prober.on_change([&](const std::shared_ptr<const DeadSet>&) { ++changes; });
            prober.set_targets({{kPeer4, kGateway4}, {kPeer6, kGateway6}});
            const auto both = [&](ProbeState state) {
                return [&prober, state] {
                    return prober.state(kPeer4) == state && prober.state(kPeer6) == state;
                };
            };
            const bool alive_first = run_until(io, both(ProbeState::Alive), 3s);
            report.expect(alive_first, "not alive: " + state_of(prober, kPeer4) + ", " +
                                           state_of(prober, kPeer6));
            report.expect(changes == 0, "alive targets changed the dead set");
            if (!container.remove_addresses()) {
                return;
            }
            // The next check (1 s) then three misses (200 ms apart).
            const bool dead_after_removal = run_until(io, both(ProbeState::Dead), 4s);
            report.expect(dead_after_removal,
                          "not dead after the addresses went away: " + state_of(prober, kPeer4) +
                              ", " + state_of(prober, kPeer6));
            report.expect(prober.dead_addresses()->size() == 2, "dead set size");
            if (!container.add_addresses()) {
                return;
            }
            const bool alive_again = run_until(io, both(ProbeState::Alive), 4s);
            report.expect(alive_again, "not alive again: " + state_of(prober, kPeer4) + ", " +
                                           state_of(prober, kPeer6));
            report.expect(prober.dead_addresses()->empty(), "dead set not emptied");
            report.expect(changes >= 2, "changes: " + std::to_string(changes));
        },
        15s);
    EXPECT_EQ(failures, "");
}

/// Drops CAP_NET_RAW from this process's effective set (commands run through system() get
/// root's full set back at exec, so the network can still be built).
bool drop_net_raw() {
    __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) {
        return false;
    }
    data[0].effective &= ~(1U << CAP_NET_RAW);
    return ::syscall(SYS_capset, &header, data) == 0;
}

TEST(Prober, WithoutCapNetRawNothingIsEverDead) {
    require_root();
    const std::string failures = run_in_private_netns(
        [](Report& report) {
            Container container(report);
            if (!container.ready()) {
                return;
            }
            if (!drop_net_raw()) {
                report.expect(false, "could not drop CAP_NET_RAW");
                return;
            }
            asio::io_context io;
            Prober prober(io.get_executor(), fast_options());
            prober.set_targets({{kPeer4, kGateway4},
                                {kNobody4, kGateway4},
                                {kPeer6, kGateway6},
                                {kNobody6, kGateway6}});
            // Long enough for three misses had the probes gone out.
            run_until(
                io, [] { return false; }, 1500ms);
            const auto stats = prober.stats();
            report.expect(stats.permission_denied, "permission_denied not reported");
            report.expect(stats.probes_sent == 0, "probes sent without CAP_NET_RAW");
            report.expect(prober.dead_addresses()->empty(),
                          "dead without probing: " + describe(*prober.dead_addresses()));
            for (const auto& address : {kPeer4, kNobody4, kPeer6, kNobody6}) {
                report.expect(prober.state(address) == ProbeState::Unknown,
                              state_of(prober, address));
            }
        },
        15s);
    EXPECT_EQ(failures, "");
}

} // namespace
