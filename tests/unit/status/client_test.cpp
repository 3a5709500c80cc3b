#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "status/client.hpp"
#include "support/temp_dir.hpp"

namespace {

using std::chrono::milliseconds;

using test_support::TempDir;

/// A one-shot server: accepts one connection, reads the request line, answers `answer`
/// (or nothing at all when `silent`), and closes.
int listen_at(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(fd, 4), 0);
    return fd;
}

TEST(StatusClient, SocketPathIsBesideTheConfigDirectory) {
    EXPECT_EQ(status::socket_path("/run/containers/networks/aardvark-dns"),
              "/run/containers/networks/aardvark-dns.ctrdns.sock");
    EXPECT_EQ(status::socket_path("/run/containers/networks/aardvark-dns///"),
              "/run/containers/networks/aardvark-dns.ctrdns.sock");
    EXPECT_EQ(status::socket_path("/cfg"), "/cfg.ctrdns.sock");
    EXPECT_EQ(status::socket_path("cfg"), "./cfg.ctrdns.sock");
}

TEST(StatusClient, SaysWhenNoDaemonListens) {
    TempDir dir;
    const auto missing =
        status::send_request(dir.path() + "/none.sock", "status", milliseconds(500));
    EXPECT_FALSE(missing.connected);
    EXPECT_NE(missing.error.find("is the daemon running"), std::string::npos) << missing.error;

    std::ofstream(dir.path() + "/file.sock") << "x";
    const auto file = status::send_request(dir.path() + "/file.sock", "status", milliseconds(500));
    EXPECT_FALSE(file.connected);
    EXPECT_NE(file.error.find("not a socket"), std::string::npos) << file.error;

    // A socket left behind by a dead daemon: connection refused.
    ::close(listen_at(dir.path() + "/stale.sock"));
    const auto stale =
        status::send_request(dir.path() + "/stale.sock", "status", milliseconds(500));
    EXPECT_FALSE(stale.connected);
}

TEST(StatusClient, SendsOneLineAndReadsTheWholeAnswer) {
    TempDir dir;
    const std::string path = dir.path() + "/d.sock";
    const int listener = listen_at(path);
    std::string request;
    std::thread server([&] {
        const int connection = ::accept(listener, nullptr, nullptr);
        char buffer[256];
        const ssize_t got = ::read(connection, buffer, sizeof(buffer));
        request.assign(buffer, got > 0 ? static_cast<std::size_t>(got) : 0);
        const std::string answer = "ok\n" + std::string(200000, 'x');
        EXPECT_EQ(::write(connection, answer.data(), answer.size()),
                  static_cast<ssize_t>(answer.size()));
        ::close(connection);
    });
    const auto response = status::send_request(path, "status json", milliseconds(5000));
    server.join();
    ::close(listener);
    EXPECT_EQ(request, "status json\n");
    EXPECT_TRUE(response.ok) << response.error;
    EXPECT_EQ(response.body.size(), 200000U);
}

TEST(StatusClient, ReportsTheDaemonsErrorAndTimesOutOnSilence) {
    TempDir dir;
    const std::string path = dir.path() + "/d.sock";
    const int listener = listen_at(path);
    std::promise<void> gave_up;
    std::future<void> client_gave_up = gave_up.get_future();
    std::thread server([&] {
        const int connection = ::accept(listener, nullptr, nullptr);
        char buffer[256];
        EXPECT_GT(::read(connection, buffer, sizeof(buffer)), 0);
        const std::string answer = "error unknown request\n";
        EXPECT_GT(::write(connection, answer.data(), answer.size()), 0);
        ::close(connection);
        // Keeps the second connection open until the client has given up by itself (or 5 s).
        const int silent = ::accept(listener, nullptr, nullptr);
        EXPECT_EQ(client_gave_up.wait_for(milliseconds(5000)), std::future_status::ready)
            << "the client did not give up while the connection stayed open";
        ::close(silent);
    });
    const auto refused = status::send_request(path, "nonsense", milliseconds(2000));
    EXPECT_TRUE(refused.connected);
    EXPECT_FALSE(refused.ok);
    EXPECT_EQ(refused.error, "unknown request");
    const auto silent = status::send_request(path, "status", milliseconds(200));
    gave_up.set_value();
    EXPECT_FALSE(silent.ok);
    EXPECT_NE(silent.error.find("timed out"), std::string::npos) << silent.error;
    server.join();
    ::close(listener);
}

} // namespace
