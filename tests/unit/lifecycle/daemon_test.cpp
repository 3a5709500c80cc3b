// lifecycle::run end to end on loopback (contract §2.1-2.4): the starting process forks, the daemon
// child writes the pid file, binds, detaches and signals; SIGHUP reloads; an empty directory
// ends it. This test process is made a child subreaper so it can reap the detached daemon.
// resolv.conf is a test file naming 127.0.0.9 (nothing listens there; nothing is forwarded).
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/log.hpp"
#include "lifecycle/daemon.hpp"
#include "lifecycle/pid_file.hpp"
#include "support/socket_client.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using test_support::kTypeA;
using test_support::make_query;
using ::testing::HasSubstr;

struct Started {
    int exit_code = -1;
    std::string stderr_text;
};

/// Waits up to `timeout` for `pid` (our child or an orphan reparented to us) to exit.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
        }
        if (done < 0) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
}

/// Reaps whatever children are left (a daemon that exited on its own), briefly.
void reap_children() {
    const auto deadline = std::chrono::steady_clock::now() + 1s;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        const pid_t done = ::waitpid(-1, &status, WNOHANG);
        if (done < 0) {
            return; // ECHILD: none left
        }
        if (done == 0) {
            std::this_thread::sleep_for(10ms);
        }
    }
}

/// Kills a daemon a failed test left behind.
struct DaemonGuard {
    pid_t pid = -1;

    ~DaemonGuard() {
        if (pid > 0 && ::kill(pid, 0) == 0) {
            ::kill(pid, SIGKILL);
            wait_exit(pid, 2s);
        }
    }
};

/// What netavark does: run the binary, collect stderr until EOF, take the exit status.
Started start(const lifecycle::Options& options) {
    std::array<int, 2> err{};
    EXPECT_EQ(::pipe2(err.data(), O_CLOEXEC), 0);
    const pid_t starter = ::fork();
    if (starter == 0) {
        ::dup2(err[1], STDERR_FILENO);
        ::close(err[0]);
        ::close(err[1]);
        ::_exit(lifecycle::run(options));
    }
    ::close(err[1]);
    Started started;
    const auto deadline = std::chrono::steady_clock::now() + 4s;
    std::array<char, 512> buffer{};
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd entry{err[0], POLLIN, 0};
        if (::poll(&entry, 1, 100) != 1) {
            continue;
        }
        const ssize_t got = ::read(err[0], buffer.data(), buffer.size());
        if (got <= 0) {
            break; // EOF: every holder of netavark's stderr is gone or detached
        }
        started.stderr_text.append(buffer.data(), static_cast<std::size_t>(got));
    }
    ::close(err[0]);
    started.exit_code = wait_exit(starter, 2s).value_or(-1);
    return started;
}

class DaemonTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        base::log::set_level(base::log::Level::Error); // keep the machine's syslog quiet
    }

    void SetUp() override {
        resolv.write("resolv.conf", "nameserver 127.0.0.9\n");
        options.config_dir = config.path();
        options.resolv_conf_path = resolv.file("resolv.conf");
    }

    void TearDown() override { reap_children(); }

    std::string pid_file() const { return config.file("aardvark.pid"); }

    /// Polls until `name` resolves to `address` over UDP (a reload is asynchronous).
    bool resolves(const char* ip, std::uint16_t port, const std::string& name,
                  const std::string& address) {
        test_support::UdpClient client;
        for (int attempt = 0; attempt < 40; ++attempt) {
            const auto reply = client.exchange(ip, port, make_query(name, kTypeA, 99), 100ms);
            if (reply && test_support::answer_count(*reply) == 1 &&
                test_support::last_a_record(*reply) == address) {
                return true;
            }
            std::this_thread::sleep_for(50ms);
        }
        return false;
    }

    test_support::TempDir config;
    test_support::TempDir resolv;
    lifecycle::Options options;
};

TEST(SearchDomain, NormalisedLikeAardvark) {
    EXPECT_EQ(lifecycle::normalise_search_domain(".dns.podman"), ".dns.podman.");
    EXPECT_EQ(lifecycle::normalise_search_domain("dns.podman"), "dns.podman.");
    EXPECT_EQ(lifecycle::normalise_search_domain(".dns.podman."), ".dns.podman.");
    EXPECT_EQ(lifecycle::normalise_search_domain(""), "");
}

TEST_F(DaemonTest, StartsServesReloadsAndExitsWhenTheLastNetworkGoes) {
    const char* ip = "127.0.0.51";
    options.port = test_support::free_port(ip);
    config.write("net1", std::string(ip) + "\nabc 10.88.0.2  web\n");

    const Started started = start(options);
    EXPECT_EQ(started.exit_code, 0);
    EXPECT_EQ(started.stderr_text, "");
    const auto pid = lifecycle::read_pid_file(pid_file());
    ASSERT_TRUE(pid.has_value()) << "pid file: '" << config.read("aardvark.pid") << "'";
    DaemonGuard guard{*pid};
    EXPECT_NE(*pid, ::getpid());
    EXPECT_EQ(::kill(*pid, 0), 0);
    EXPECT_EQ(::getsid(*pid), *pid) << "the daemon runs in its own session";

    // Bound before the ready byte: the first query is answered.
    test_support::UdpClient udp;
    const auto reply = udp.exchange(ip, options.port, make_query("web.dns.podman", kTypeA, 1));
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(test_support::last_a_record(*reply), "10.88.0.2");
    test_support::TcpClient tcp(ip, options.port);
    ASSERT_TRUE(tcp.connected());
    tcp.send_framed(make_query("web.dns.podman", kTypeA, 2));
    const auto tcp_reply = tcp.receive_framed();
    ASSERT_TRUE(tcp_reply.has_value());
    EXPECT_EQ(test_support::last_a_record(*tcp_reply), "10.88.0.2");

    // netavark appends an entry and sends SIGHUP.
    config.write("net1", std::string(ip) + "\nabc 10.88.0.2  web\ndef 10.88.0.3  db\n");
    ASSERT_EQ(::kill(*pid, SIGHUP), 0);
    EXPECT_TRUE(resolves(ip, options.port, "db.dns.podman", "10.88.0.3"));
    EXPECT_EQ(lifecycle::read_pid_file(pid_file()), *pid) << "same daemon after reload";

    // The last network file goes away: the daemon removes its pid file and exits 0.
    ASSERT_EQ(std::remove(config.file("net1").c_str()), 0);
    ASSERT_EQ(::kill(*pid, SIGHUP), 0);
    EXPECT_EQ(wait_exit(*pid, 3s), 0);
    EXPECT_FALSE(config.exists("aardvark.pid"));
}

TEST_F(DaemonTest, EmptyDirectoryFailsTheStartWithoutAnError) {
    const Started started = start(options);
    EXPECT_EQ(started.exit_code, 1);
    EXPECT_EQ(started.stderr_text, "Error from child process\n");
    reap_children();
    EXPECT_FALSE(config.exists("aardvark.pid")) << "the child removes it before exiting";
}

TEST_F(DaemonTest, BindFailureIsReportedByBothProcesses) {
    const char* ip = "127.0.0.52";
    options.port = test_support::free_port(ip);
    config.write("net1", std::string(ip) + "\n");
    // Something else holds the address (aardvark's test 600 uses socat).
    base::UniqueFd held(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const sockaddr_in address = test_support::loopback(ip, options.port);
    ASSERT_EQ(::bind(held.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);

    const Started started = start(options);
    EXPECT_EQ(started.exit_code, 1);
    EXPECT_THAT(started.stderr_text, HasSubstr("Error from child process\n"));
    EXPECT_THAT(started.stderr_text,
                HasSubstr("Error starting server failed to bind udp listener on " +
                          std::string(ip) + ":" + std::to_string(options.port) +
                          ": IO error: Address already in use (os error 98)\n"));
    // Unlike aardvark, no pid file stays behind naming the dead child (PidFileGuard).
    EXPECT_FALSE(config.exists("aardvark.pid"));
}

TEST_F(DaemonTest, UnwritablePidFileFailsTheStart) {
    options.config_dir = config.file("missing");
    const Started started = start(options);
    EXPECT_EQ(started.exit_code, 1);
    EXPECT_THAT(started.stderr_text,
                HasSubstr("Error creating aardvark pid Unable to get process pid: No such file "
                          "or directory (os error 2)\n"));
    EXPECT_THAT(started.stderr_text, HasSubstr("Error from child process\n"));
}

TEST_F(DaemonTest, SigtermRemovesOnlyItsOwnPidFile) {
    const char* ip = "127.0.0.53";
    options.port = test_support::free_port(ip);
    config.write("net1", std::string(ip) + "\n");
    ASSERT_EQ(start(options).exit_code, 0);
    const auto pid = lifecycle::read_pid_file(pid_file());
    ASSERT_TRUE(pid.has_value());
    DaemonGuard guard{*pid};
    ASSERT_EQ(::kill(*pid, SIGTERM), 0);
    EXPECT_EQ(wait_exit(*pid, 3s), 0);
    EXPECT_FALSE(config.exists("aardvark.pid"));

    // A second daemon whose pid file was taken over by another process leaves it alone.
    ASSERT_EQ(start(options).exit_code, 0);
    const auto second = lifecycle::read_pid_file(pid_file());
    ASSERT_TRUE(second.has_value());
    DaemonGuard second_guard{*second};
    config.write("aardvark.pid", "1");
    ASSERT_EQ(::kill(*second, SIGTERM), 0);
    EXPECT_EQ(wait_exit(*second, 3s), 0);
    EXPECT_EQ(config.read("aardvark.pid"), "1");
}

TEST_F(DaemonTest, ForegroundServesWithoutForking) {
    const char* ip = "127.0.0.54";
    options.port = test_support::free_port(ip);
    options.foreground = true;
    config.write("net1", std::string(ip) + "\nabc 10.88.0.7  fg\n");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::_exit(lifecycle::run(options));
    }
    DaemonGuard guard{child};
    EXPECT_TRUE(resolves(ip, options.port, "fg.dns.podman", "10.88.0.7"));
    EXPECT_EQ(lifecycle::read_pid_file(pid_file()), child) << "no fork: the pid is its own";
    EXPECT_NE(::getsid(child), child) << "no setsid in the foreground";

    ASSERT_EQ(std::remove(config.file("net1").c_str()), 0);
    ASSERT_EQ(::kill(child, SIGHUP), 0);
    EXPECT_EQ(wait_exit(child, 3s), 0);
    EXPECT_FALSE(config.exists("aardvark.pid"));
}

} // namespace
