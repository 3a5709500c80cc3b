// UDP and TCP listeners end to end on loopback: local answers, the forward path (through a fake
// forwarder), TCP framing, ordering, idle timeout and the connection bound.
#include <chrono>
#include <cstdint>
#include <optional>

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

constexpr const char* kIp = "127.0.0.21";

class ListenerTest : public test_support::ServerFixture {
protected:
    void start_serving(server::Limits limits = {}) {
        port = test_support::free_port(kIp);
        ASSERT_NE(port, 0);
        start(test_support::make_snapshot(test_support::make_store(
                  {{"net1", std::string(kIp) + "\nabc 10.88.0.2  web,www\n"}})),
              port, limits);
        ASSERT_TRUE(reconcile({key("net1", kIp, 0)}).empty());
    }

    std::uint16_t port = 0;
};

void expect_web_answer(const std::optional<Bytes>& reply, std::uint16_t id) {
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(test_support::id_of(*reply), id);
    EXPECT_NE((*reply)[2] & 0x80U, 0U) << "QR must be set";
    EXPECT_EQ(test_support::rcode_of(*reply), 0);
    EXPECT_EQ(test_support::answer_count(*reply), 1);
    EXPECT_EQ(test_support::last_a_record(*reply), "10.88.0.2");
}

TEST_F(ListenerTest, UdpAnswersALocalName) {
    start_serving();
    UdpClient client;
    expect_web_answer(client.exchange(kIp, port, make_query("web.dns.podman", kTypeA, 0x1234)),
                      0x1234);
    expect_web_answer(client.exchange(kIp, port, make_query("WWW.dns.podman", kTypeA, 0x1235)),
                      0x1235);
}

TEST_F(ListenerTest, UdpUnknownNameUnderSearchDomainIsNxDomain) {
    start_serving();
    UdpClient client;
    const auto reply = client.exchange(kIp, port, make_query("nothere.dns.podman", kTypeA, 7));
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(test_support::rcode_of(*reply), 3);
    EXPECT_EQ(on_io([this] { return forwarder.calls; }), 0);
}

TEST_F(ListenerTest, UdpForwardDoesNotBlockLocalAnswers) {
    forwarder.hold_if_contains = "example";
    start_serving();
    UdpClient client;
    client.send(kIp, port, make_query("example.com", kTypeA, 1));
    client.send(kIp, port, make_query("web.dns.podman", kTypeA, 2));

    // The forward is held until released below, so an answer now cannot have waited for it.
    const auto first = client.receive();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(test_support::id_of(*first), 2) << "the local answer must not wait for upstream";
    EXPECT_EQ(on_io([this] { return forwarder.calls - forwarder.finished; }), 1);
    on_io([this] { forwarder.release(); });

    const auto second = client.receive();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(test_support::id_of(*second), 1);
    EXPECT_NE((*second)[2] & 0x80U, 0U);
    EXPECT_EQ(on_io([this] { return forwarder.calls; }), 1);
    EXPECT_TRUE(on_io([this] { return forwarder.last_servers.empty(); })) << "host servers";
    EXPECT_EQ(on_io([this] { return forwarder.last_transport; }), dns::Transport::Udp);
}

TEST_F(ListenerTest, UdpNoReplyWhenEveryUpstreamFails) {
    start_serving();
    UdpClient client;
    EXPECT_FALSE(client.exchange(kIp, port, make_query("fail.example.com", kTypeA, 3), 500ms));
    EXPECT_EQ(on_io([this] { return forwarder.calls; }), 1);
    // The listener is still serving.
    expect_web_answer(client.exchange(kIp, port, make_query("web.dns.podman", kTypeA, 4)), 4);
}

TEST_F(ListenerTest, UdpRefusedWhenForwardingIsDisabled) {
    port = test_support::free_port(kIp);
    start(test_support::make_snapshot(test_support::make_store({{"net1", std::string(kIp) + "\n"}}),
                                      false),
          port);
    ASSERT_TRUE(reconcile({key("net1", kIp, 0)}).empty());
    UdpClient client;
    const auto reply = client.exchange(kIp, port, make_query("example.com", kTypeA, 5));
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(test_support::rcode_of(*reply), 5);
    EXPECT_EQ(on_io([this] { return forwarder.calls; }), 0);
}

TEST_F(ListenerTest, UdpGarbageGetsNoReplyAndTheLoopContinues) {
    start_serving();
    UdpClient client;
    EXPECT_FALSE(client.exchange(kIp, port, Bytes{1, 2, 3}, 300ms));
    expect_web_answer(client.exchange(kIp, port, make_query("web.dns.podman", kTypeA, 6)), 6);
}

TEST_F(ListenerTest, TcpAnswersSeveralQueriesInOrderOnOneConnection) {
    forwarder.delay = 300ms;
    start_serving();
    TcpClient client(kIp, port);
    ASSERT_TRUE(client.connected());
    // All three in one segment; the forwarded middle one must not be overtaken.
    Bytes burst = TcpClient::framed(make_query("web.dns.podman", kTypeA, 10));
    const Bytes forwarded = TcpClient::framed(make_query("example.org", kTypeA, 11));
    const Bytes last = TcpClient::framed(make_query("www.dns.podman", kTypeA, 12));
    burst.insert(burst.end(), forwarded.begin(), forwarded.end());
    burst.insert(burst.end(), last.begin(), last.end());
    client.send_raw(burst);

    expect_web_answer(client.receive_framed(), 10);
    const auto middle = client.receive_framed();
    ASSERT_TRUE(middle.has_value());
    EXPECT_EQ(test_support::id_of(*middle), 11);
    expect_web_answer(client.receive_framed(), 12);
    EXPECT_EQ(on_io([this] { return forwarder.last_transport; }), dns::Transport::Tcp);
}

TEST_F(ListenerTest, TcpNoReplyWhenForwardFailsButConnectionStaysOpen) {
    start_serving();
    TcpClient client(kIp, port);
    ASSERT_TRUE(client.connected());
    client.send_framed(make_query("fail.example.org", kTypeA, 20));
    client.send_framed(make_query("web.dns.podman", kTypeA, 21));
    expect_web_answer(client.receive_framed(), 21);
}

TEST_F(ListenerTest, TcpMalformedMessageGetsNoReplyAndConnectionStaysOpen) {
    start_serving();
    TcpClient client(kIp, port);
    ASSERT_TRUE(client.connected());
    client.send_framed(Bytes{0xde, 0xad, 0xbe, 0xef, 0x00});
    EXPECT_FALSE(client.receive_framed(300ms).has_value());
    client.send_framed(make_query("web.dns.podman", kTypeA, 30));
    expect_web_answer(client.receive_framed(), 30);
}

TEST_F(ListenerTest, TcpIdleConnectionIsClosed) {
    server::Limits limits;
    limits.tcp_idle_timeout = 300ms;
    start_serving(limits);
    TcpClient client(kIp, port);
    ASSERT_TRUE(client.connected());
    client.send_framed(make_query("web.dns.podman", kTypeA, 40));
    expect_web_answer(client.receive_framed(), 40);
    const auto idle_since = std::chrono::steady_clock::now();
    EXPECT_TRUE(client.closed_by_peer(3s));
    const auto waited = std::chrono::steady_clock::now() - idle_since;
    EXPECT_GE(waited, 250ms);
    // Closed by the configured 300 ms, not by the default idle timeout: the bound is that
    // default, far above the configured value.
    EXPECT_LT(waited, server::Limits{}.tcp_idle_timeout);
}

TEST_F(ListenerTest, TcpIncompleteFrameThenEofClosesConnection) {
    start_serving();
    TcpClient client(kIp, port);
    ASSERT_TRUE(client.connected());
    client.send_raw(Bytes{0, 60, 1, 2, 3});
    client.shutdown_write();
    EXPECT_TRUE(client.closed_by_peer(2s));
}

TEST_F(ListenerTest, TcpConnectionsBeyondTheLimitAreClosed) {
    server::Limits limits;
    limits.max_tcp_connections = 1;
    start_serving(limits);
    TcpClient first(kIp, port);
    ASSERT_TRUE(first.connected());
    first.send_framed(make_query("web.dns.podman", kTypeA, 50));
    expect_web_answer(first.receive_framed(), 50);

    TcpClient second(kIp, port);
    EXPECT_TRUE(second.closed_by_peer(2s));

    first.send_framed(make_query("web.dns.podman", kTypeA, 51));
    expect_web_answer(first.receive_framed(), 51);
}

TEST_F(ListenerTest, StoppedListenerNoLongerAnswers) {
    start_serving();
    UdpClient client;
    expect_web_answer(client.exchange(kIp, port, make_query("web.dns.podman", kTypeA, 60)), 60);
    EXPECT_TRUE(reconcile({}).empty());
    EXPECT_FALSE(client.exchange(kIp, port, make_query("web.dns.podman", kTypeA, 61), 300ms));
    TcpClient tcp(kIp, port);
    EXPECT_FALSE(tcp.connected());
}

} // namespace
