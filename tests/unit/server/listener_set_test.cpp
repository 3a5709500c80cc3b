// ListenerSet::reconcile against contract §2.3 step 5, on loopback addresses only.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "base/unique_fd.hpp"
#include "server/listener_set.hpp"
#include "server_fixture.hpp"
#include "support/socket_client.hpp"

namespace {

using namespace std::chrono_literals;
using test_support::kTypeA;
using test_support::make_query;
using test_support::UdpClient;

std::string in_use(std::string_view protocol, const char* ip, std::uint16_t port) {
    return "failed to bind " + std::string(protocol) + " listener on " + ip + ":" +
           std::to_string(port) + ": IO error: Address already in use (os error 98)";
}

/// Holds `ip:port` with a plain socket, the way socat does in aardvark's test 600.
base::UniqueFd hold(int type, const char* ip, std::uint16_t port) {
    base::UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    const sockaddr_in address = test_support::loopback(ip, port);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
    if (type == SOCK_STREAM) {
        EXPECT_EQ(::listen(fd.get(), 1), 0);
    }
    return fd;
}

bool can_bind_udp(const char* ip, std::uint16_t port) {
    base::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const sockaddr_in address = test_support::loopback(ip, port);
    return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
}

class ListenerSetTest : public test_support::ServerFixture {
protected:
    void start_with_port(std::uint16_t listen_port) {
        port = listen_port;
        start(test_support::make_snapshot(test_support::make_store({})), port);
    }

    const server::ListenerSet::Bound* find(const char* network, const char* ip) {
        return on_io([&] {
            return listeners->find(server::ListenerKey{network, *base::IpAddress::parse(ip)});
        });
    }

    std::uint16_t port = 0;
};

TEST(DesiredListeners, OneKeyPerNetworkAndAddressInOrder) {
    const auto store = test_support::make_store(
        {{"beta", "10.0.2.1,fd00::1,10.0.2.1\n"}, {"alpha", "10.0.1.1\n"}});
    const auto desired = server::desired_listeners(*store);
    ASSERT_EQ(desired.size(), 3U);
    for (const auto& want : desired) {
        EXPECT_EQ(store->find_network(want.key.network), want.network_id);
    }
    EXPECT_EQ(desired[0].key.network, store->networks()[0].name);
}

TEST(BindError, MatchesAardvarkWording) {
    const base::Error in_use_error = server::bind_error("udp", *base::IpAddress::parse("10.89.0.1"),
                                                        53, base::Error::from_errno(EADDRINUSE));
    EXPECT_EQ(in_use_error.message(), "failed to bind udp listener on 10.89.0.1:53: IO error: "
                                      "Address already in use (os error 98)");
    EXPECT_EQ(in_use_error.os_error(), EADDRINUSE);
    EXPECT_EQ(server::bind_error("tcp", *base::IpAddress::parse("fd10::1"), 5533,
                                 base::Error::from_errno(EADDRNOTAVAIL))
                  .message(),
              "failed to bind tcp listener on [fd10::1]:5533: IO error: Cannot assign requested "
              "address (os error 99)");
}

TEST_F(ListenerSetTest, UnchangedKeysKeepTheirSocketsAndTakeTheNewNetworkId) {
    start_with_port(0); // ephemeral: every key gets its own ports
    ASSERT_TRUE(reconcile({key("a", "127.0.0.31", 0), key("b", "127.0.0.32", 1)}).empty());
    const auto* a_before = find("a", "127.0.0.31");
    const auto* b_before = find("b", "127.0.0.32");
    ASSERT_NE(a_before, nullptr);
    ASSERT_NE(b_before, nullptr);
    const auto a_udp = a_before->udp;
    const auto a_tcp = a_before->tcp;
    const auto b_udp = b_before->udp;
    const auto a_port = a_udp->local_endpoint().port();

    ASSERT_TRUE(reconcile({key("c", "127.0.0.33", 0), key("a", "127.0.0.31", 1)}).empty());

    const auto* a_after = find("a", "127.0.0.31");
    ASSERT_NE(a_after, nullptr);
    EXPECT_EQ(a_after->udp, a_udp) << "unchanged key must keep its socket";
    EXPECT_EQ(a_after->tcp, a_tcp);
    EXPECT_EQ(a_udp->local_endpoint().port(), a_port);
    EXPECT_EQ(on_io([&] { return a_udp->network(); }), 1U);
    EXPECT_EQ(on_io([&] { return a_tcp->network(); }), 1U);
    EXPECT_EQ(find("b", "127.0.0.32"), nullptr);
    EXPECT_FALSE(on_io([&] { return b_udp->is_open(); })) << "removed key must be closed";
    EXPECT_NE(find("c", "127.0.0.33"), nullptr);
    EXPECT_EQ(on_io([this] { return listeners->size(); }), 2U);
}

TEST_F(ListenerSetTest, SameAddressInTwoNetworksFailsTheSecondBind) {
    start_with_port(test_support::free_port("127.0.0.34"));
    const auto errors = reconcile({key("a", "127.0.0.34", 0), key("b", "127.0.0.34", 1)});
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0], in_use("udp", "127.0.0.34", port));
    EXPECT_NE(find("a", "127.0.0.34"), nullptr);
    EXPECT_EQ(find("b", "127.0.0.34"), nullptr);
}

TEST_F(ListenerSetTest, AddressMovedToAnotherNetworkIsRebound) {
    start_with_port(test_support::free_port("127.0.0.35"));
    ASSERT_TRUE(reconcile({key("a", "127.0.0.35", 0)}).empty());
    // Closing "a" comes before binding "b", so the port is free again.
    EXPECT_TRUE(reconcile({key("b", "127.0.0.35", 0)}).empty());
    EXPECT_EQ(find("a", "127.0.0.35"), nullptr);
    EXPECT_NE(find("b", "127.0.0.35"), nullptr);
}

TEST_F(ListenerSetTest, TcpBindFailureClosesUdpAndIsRetriedNextTime) {
    start_with_port(test_support::free_port("127.0.0.36"));
    auto blocker = hold(SOCK_STREAM, "127.0.0.36", port);
    const auto errors = reconcile({key("a", "127.0.0.36", 0), key("b", "127.0.0.37", 1)});
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0], in_use("tcp", "127.0.0.36", port));
    EXPECT_EQ(find("a", "127.0.0.36"), nullptr);
    EXPECT_NE(find("b", "127.0.0.37"), nullptr) << "other keys are still bound";
    EXPECT_TRUE(can_bind_udp("127.0.0.36", port)) << "the UDP socket must be closed again";

    blocker.reset();
    EXPECT_TRUE(reconcile({key("a", "127.0.0.36", 0), key("b", "127.0.0.37", 1)}).empty());
    EXPECT_NE(find("a", "127.0.0.36"), nullptr);
}

TEST_F(ListenerSetTest, UdpBindFailsWhenTheWildcardAddressHoldsThePort) {
    start_with_port(test_support::free_port("127.0.0.38"));
    auto blocker = hold(SOCK_DGRAM, "0.0.0.0", port);
    const auto errors = reconcile({key("a", "127.0.0.38", 0)});
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0], in_use("udp", "127.0.0.38", port));
}

TEST_F(ListenerSetTest, Ipv4KeysAreBoundBeforeIpv6Keys) {
    start_with_port(test_support::free_port("127.0.0.39"));
    {
        base::UniqueFd probe(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        address.sin6_addr = in6addr_loopback;
        if (::bind(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
            0) {
            GTEST_SKIP() << "no ::1 on this machine";
        }
    }
    // Both keys fail (each address is listed twice under two networks); the v4 error comes
    // first although the v6 keys are listed first.
    const auto errors = reconcile({key("a", "::1", 0), key("b", "::1", 1),
                                   key("a", "127.0.0.39", 0), key("b", "127.0.0.39", 1)});
    ASSERT_EQ(errors.size(), 2U);
    EXPECT_EQ(errors[0], in_use("udp", "127.0.0.39", port));
    EXPECT_EQ(errors[1], "failed to bind udp listener on [::1]:" + std::to_string(port) +
                             ": IO error: Address already in use (os error 98)");
}

TEST_F(ListenerSetTest, PublishedSnapshotIsUsedByTheNextQuery) {
    const char* ip = "127.0.0.40";
    port = test_support::free_port(ip);
    start(test_support::make_snapshot(
              test_support::make_store({{"net1", std::string(ip) + "\nabc 10.88.0.2  old\n"}})),
          port);
    ASSERT_TRUE(reconcile({key("net1", ip, 0)}).empty());
    UdpClient client;
    auto reply = client.exchange(ip, port, make_query("new.dns.podman", kTypeA, 1));
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(test_support::rcode_of(*reply), 3);

    // A reload: a new network sorts first, so net1's id changes from 0 to 1.
    const auto store = test_support::make_store(
        {{"aaa", "127.0.0.41\n"}, {"net1", std::string(ip) + "\ndef 10.88.0.9  new\n"}});
    ASSERT_EQ(store->find_network("net1"), 1U);
    on_io([&] { state->publish(test_support::make_snapshot(store)); });
    EXPECT_TRUE(reconcile(server::desired_listeners(*store)).empty());

    reply = client.exchange(ip, port, make_query("new.dns.podman", kTypeA, 2));
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(test_support::rcode_of(*reply), 0);
    EXPECT_EQ(test_support::last_a_record(*reply), "10.88.0.9");
}

} // namespace
