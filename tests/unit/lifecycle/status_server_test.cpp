#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "lifecycle/status_server.hpp"
#include "records/record_store.hpp"
#include "server/listener_set.hpp"
#include "server/serve_state.hpp"
#include "status/client.hpp"
#include "support/temp_dir.hpp"
#include "upstream/forwarder.hpp"

namespace {

using std::chrono::milliseconds;

/// A daemon's worth of serving objects with no network, its io_context on a thread.
class StatusFixture {
public:
    explicit StatusFixture(const std::string& config_dir) {
        auto snapshot = std::make_shared<server::Snapshot>();
        snapshot->store = records::RecordStore::build({});
        state_ = std::make_shared<server::ServeState>(std::move(snapshot), nullptr);
        listeners_ = std::make_unique<server::ListenerSet>(io_.get_executor(), state_, 5399);
        forwarder_ = std::make_unique<upstream::Forwarder>(io_.get_executor(), upstream::Options{});
        server_ = std::make_unique<lifecycle::StatusServer>(
            io_.get_executor(),
            lifecycle::StatusSources{*listeners_, *forwarder_, state_, config_dir, 5399});
    }

    ~StatusFixture() {
        io_.stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    void run() {
        thread_ = std::thread([this] { io_.run(); });
    }

    lifecycle::StatusServer& server() { return *server_; }

    server::ServeState& state() { return *state_; }

private:
    asio::io_context io_{1};
    asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
    std::shared_ptr<server::ServeState> state_;
    std::unique_ptr<server::ListenerSet> listeners_;
    std::unique_ptr<upstream::Forwarder> forwarder_;
    std::unique_ptr<lifecycle::StatusServer> server_;
    std::thread thread_;
};

bool is_socket(const std::string& path) {
    struct stat info {};

    return ::lstat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
}

TEST(StatusServer, SocketIsOwnerOnlyBesideTheConfigDirectory) {
    test_support::TempDir dir;
    const std::string config = dir.file("aardvark-dns");
    StatusFixture fixture(config);
    EXPECT_EQ(fixture.server().socket_path(), config + ".ctrdns.sock");
    fixture.server().start();

    struct stat info {};

    ASSERT_EQ(::lstat(fixture.server().socket_path().c_str(), &info), 0);
    EXPECT_TRUE(S_ISSOCK(info.st_mode));
    EXPECT_EQ(info.st_mode & 07777, 0600U);
    EXPECT_EQ(info.st_uid, ::geteuid());
}

TEST(StatusServer, AnswersStatusAndSwitchesTheQueryLog) {
    test_support::TempDir dir;
    StatusFixture fixture(dir.file("cfg"));
    fixture.server().start();
    fixture.run();
    const std::string path = fixture.server().socket_path();
    const auto json = status::send_request(path, "status json", milliseconds(5000));
    ASSERT_TRUE(json.ok) << json.error;
    EXPECT_NE(json.body.find("\"config_dir\": \"" + dir.file("cfg") + "\""), std::string::npos)
        << json.body;
    EXPECT_NE(json.body.find("\"port\": 5399"), std::string::npos);
    EXPECT_NE(json.body.find("\"query_log\": false"), std::string::npos);

    const auto on = status::send_request(path, "log-queries on", milliseconds(5000));
    ASSERT_TRUE(on.ok) << on.error;
    EXPECT_EQ(on.body, "query log on\n");
    const auto prometheus = status::send_request(path, "status prometheus", milliseconds(5000));
    ASSERT_TRUE(prometheus.ok) << prometheus.error;
    EXPECT_NE(prometheus.body.find("ctrdns_query_log_enabled 1\n"), std::string::npos);

    const auto unknown = status::send_request(path, "rm -rf /", milliseconds(5000));
    EXPECT_FALSE(unknown.ok);
    EXPECT_EQ(unknown.error, "unknown request");
}

TEST(StatusServer, AnOverlongOrSilentClientIsCutOffWithoutBlockingOthers) {
    test_support::TempDir dir;
    StatusFixture fixture(dir.file("cfg"));
    fixture.server().start();
    fixture.run();
    const std::string path = fixture.server().socket_path();
    // A client that connects and never sends: the next one is still served at once.
    const int silent = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    ASSERT_EQ(::connect(silent, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    const auto served = status::send_request(path, "status prometheus", milliseconds(5000));
    EXPECT_TRUE(served.ok) << served.error;
    // Served while the silent client is still connected (the server cuts it off only after its
    // 2 s read limit), so the server did not wait for it.
    char byte = 0;
    const ssize_t peeked = ::recv(silent, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    const int peek_error = errno;
    EXPECT_EQ(peeked, -1) << "the silent client was cut off before the other one was served";
    EXPECT_EQ(peek_error, EAGAIN);
    ::close(silent);
    // A line longer than the cap gets no answer, only a closed connection.
    const auto overlong = status::send_request(path, std::string(4 * status::kMaxRequestLine, 'x'),
                                               milliseconds(3000));
    EXPECT_FALSE(overlong.ok);
}

TEST(StatusServer, ReplacesOnlyItsOwnStaleSocket) {
    test_support::TempDir dir;
    const std::string config = dir.file("cfg");
    const std::string path = config + ".ctrdns.sock";
    {
        // A regular file at the path is never removed: status stays off.
        dir.write("cfg.ctrdns.sock", "keep me");
        StatusFixture fixture(config);
        fixture.server().start();
        EXPECT_FALSE(is_socket(path));
        ::unlink(path.c_str());
    }
    {
        // A socket nobody serves (a daemon that was killed) is replaced.
        const int stale = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        path.copy(address.sun_path, sizeof(address.sun_path) - 1);
        ASSERT_EQ(::bind(stale, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
        ::close(stale);
        StatusFixture fixture(config);
        fixture.server().start();
        fixture.run();
        EXPECT_TRUE(status::send_request(path, "status-ping", milliseconds(2000)).ok);
        // A second daemon for the same directory leaves the live socket alone.
        StatusFixture second(config);
        second.server().start();
        EXPECT_TRUE(status::send_request(path, "status-ping", milliseconds(2000)).ok);
    }
}

} // namespace
