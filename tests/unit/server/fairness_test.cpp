// Fair sharing end to end on loopback: one client (source address) at its share of TCP
// connections or of forwards waiting upstream does not keep a second client from being served.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/listener_set.hpp"
#include "server_fixture.hpp"
#include "support/socket_client.hpp"

namespace {

using namespace std::chrono_literals;
using test_support::Bytes;
using test_support::kTypeA;
using test_support::make_query;
using test_support::TcpClient;
using test_support::UdpClient;

constexpr const char* kIp = "127.0.0.22";
constexpr const char* kGreedy = "127.0.0.31";
constexpr const char* kOther = "127.0.0.32";

class FairnessTest : public test_support::ServerFixture {
protected:
    void start_serving(server::Limits limits) {
        port = test_support::free_port(kIp);
        ASSERT_NE(port, 0);
        start(test_support::make_snapshot(test_support::make_store(
                  {{"net1", std::string(kIp) + "\nabc 10.88.0.2  web\n"}})),
              port, limits);
        ASSERT_TRUE(reconcile({key("net1", kIp, 0)}).empty());
    }

    std::uint64_t shed(std::uint64_t server::ServeState::*counter) {
        return on_io([this, counter] { return (*state).*counter; });
    }

    std::uint16_t port = 0;
};

bool answers(const std::optional<Bytes>& reply, std::uint16_t id) {
    return reply && test_support::id_of(*reply) == id && test_support::rcode_of(*reply) == 0;
}

TEST_F(FairnessTest, TcpConnectionsBeyondTheClientsShareAreClosedOthersStillConnect) {
    server::Limits limits;
    limits.max_tcp_connections = 10;
    limits.max_tcp_connections_per_client = 3;
    start_serving(limits);

    std::vector<std::unique_ptr<TcpClient>> held;
    for (std::uint16_t n = 0; n < 3; ++n) {
        held.push_back(std::make_unique<TcpClient>(kIp, port, kGreedy));
        ASSERT_TRUE(held.back()->connected());
        held.back()->send_framed(make_query("web.dns.podman", kTypeA, n));
        ASSERT_TRUE(answers(held.back()->receive_framed(), n));
    }
    TcpClient over(kIp, port, kGreedy);
    EXPECT_TRUE(over.closed_by_peer(2s));
    EXPECT_EQ(shed(&server::ServeState::shed_tcp_per_client), 1U);

    TcpClient other(kIp, port, kOther);
    ASSERT_TRUE(other.connected());
    other.send_framed(make_query("web.dns.podman", kTypeA, 77));
    EXPECT_TRUE(answers(other.receive_framed(), 77));
    EXPECT_EQ(shed(&server::ServeState::shed_tcp_global), 0U);

    // Closing one gives the share back (once the server has seen the EOF).
    held.pop_back();
    const base::IpAddress greedy = *base::IpAddress::parse(kGreedy);
    auto greedy_connections = [this, &greedy] {
        return on_io([this, &greedy] {
            return state->held_by(greedy, server::ClientResource::TcpConnection);
        });
    };
    for (int attempt = 0; attempt < 100 && greedy_connections() != 2U; ++attempt) {
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(greedy_connections(), 2U);
    TcpClient again(kIp, port, kGreedy);
    ASSERT_TRUE(again.connected());
    again.send_framed(make_query("web.dns.podman", kTypeA, 78));
    EXPECT_TRUE(answers(again.receive_framed(), 78));
}

TEST_F(FairnessTest, UdpForwardsBeyondTheClientsShareGetNoReplyOthersStillForward) {
    forwarder.hold_if_contains = "slow"; // the greedy client's forwards wait until released
    server::Limits limits;
    limits.max_forwards_per_client = 2;
    start_serving(limits);

    UdpClient greedy(kGreedy);
    for (std::uint16_t n = 1; n <= 5; ++n) {
        greedy.send(kIp, port, make_query("slow.example.com", kTypeA, n));
    }
    UdpClient other(kOther);
    // Local names never wait on the forward limit: answered while the greedy forwards are held.
    EXPECT_TRUE(answers(other.exchange(kIp, port, make_query("web.dns.podman", kTypeA, 100)), 100));
    EXPECT_EQ(on_io([this] { return forwarder.finished; }), 0);
    EXPECT_TRUE(
        answers(other.exchange(kIp, port, make_query("other.example.com", kTypeA, 101)), 101));
    on_io([this] { forwarder.release(); });

    int greedy_answers = 0;
    while (greedy.receive(500ms)) {
        ++greedy_answers;
    }
    EXPECT_EQ(greedy_answers, 2);
    EXPECT_EQ(on_io([this] { return forwarder.calls; }), 3);
    EXPECT_EQ(shed(&server::ServeState::shed_forward_per_client), 3U);
    EXPECT_EQ(shed(&server::ServeState::shed_forward_global), 0U);
    EXPECT_EQ(on_io([this] { return state->clients(); }), 0U) << "every slot given back";
}

TEST_F(FairnessTest, TcpForwardsCountAgainstTheSameShare) {
    forwarder.delay = 800ms;
    server::Limits limits;
    limits.max_forwards_per_client = 1;
    start_serving(limits);

    UdpClient greedy_udp(kGreedy);
    greedy_udp.send(kIp, port, make_query("slow.example.com", kTypeA, 1));
    // Wait until the UDP forward holds the client's only forward slot.
    for (int attempt = 0; attempt < 50 && on_io([this] { return forwarder.calls; }) == 0;
         ++attempt) {
        std::this_thread::sleep_for(10ms);
    }
    TcpClient greedy_tcp(kIp, port, kGreedy);
    ASSERT_TRUE(greedy_tcp.connected());
    greedy_tcp.send_framed(make_query("slow.example.com", kTypeA, 2));
    EXPECT_FALSE(greedy_tcp.receive_framed(300ms).has_value());
    EXPECT_EQ(shed(&server::ServeState::shed_forward_per_client), 1U);
    // The connection stays usable for local names.
    greedy_tcp.send_framed(make_query("web.dns.podman", kTypeA, 3));
    EXPECT_TRUE(answers(greedy_tcp.receive_framed(), 3));

    TcpClient other(kIp, port, kOther);
    ASSERT_TRUE(other.connected());
    other.send_framed(make_query("other.example.com", kTypeA, 4));
    EXPECT_TRUE(answers(other.receive_framed(), 4));
    EXPECT_TRUE(answers(greedy_udp.receive(), 1));
}

} // namespace
