// The batched UDP path: a burst queued while the loop is busy (more than several recvmmsg
// batches, from two clients, mixing local, unknown, forwarded and garbage datagrams) is answered
// completely, each reply to its own sender and with its own answer.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "server/batched_socket.hpp"
#include "server/listener_set.hpp"
#include "server_fixture.hpp"
#include "support/socket_client.hpp"

namespace {

using namespace std::chrono_literals;
using test_support::Bytes;
using test_support::kTypeA;
using test_support::make_query;
using test_support::UdpClient;

constexpr const char* kIp = "127.0.0.22";

class BatchedUdpTest : public test_support::ServerFixture {
protected:
    void start_serving() {
        port = test_support::free_port(kIp);
        ASSERT_NE(port, 0);
        start(test_support::make_snapshot(test_support::make_store(
                  {{"net1", std::string(kIp) + "\nabc 10.88.0.2  web,www\n"}})),
              port);
        ASSERT_TRUE(reconcile({key("net1", kIp, 0)}).empty());
    }

    std::uint16_t port = 0;
};

// Receives until `expected` replies arrived or nothing more comes; keyed by DNS id.
std::map<std::uint16_t, Bytes> collect(UdpClient& client, std::size_t expected) {
    std::map<std::uint16_t, Bytes> replies;
    while (replies.size() < expected) {
        const std::optional<Bytes> reply = client.receive(2000ms);
        if (!reply) {
            break;
        }
        replies.emplace(test_support::id_of(*reply), *reply);
    }
    return replies;
}

TEST_F(BatchedUdpTest, BurstLargerThanSeveralBatchesIsAnsweredCompletely) {
    start_serving();
    constexpr std::uint16_t kPerClient =
        static_cast<std::uint16_t>(3 * server::DatagramBatch::kSlots + 5);
    UdpClient first;
    UdpClient second;
    // Sent from the io thread, so every datagram is queued before the listener reads any.
    on_io([&] {
        for (std::uint16_t id = 1; id <= kPerClient; ++id) {
            first.send(
                kIp, port,
                make_query(id % 3 == 0 ? "nothere.dns.podman" : "web.dns.podman", kTypeA, id));
            second.send(kIp, port, make_query("www.dns.podman", kTypeA, 1000 + id));
            if (id == 40) {
                first.send(kIp, port, Bytes{1, 2, 3}); // garbage in the middle of a batch
                first.send(kIp, port, make_query("example.com", kTypeA, 500)); // forwarded
            }
        }
    });

    const auto from_first = collect(first, kPerClient + 1);
    const auto from_second = collect(second, kPerClient);
    ASSERT_EQ(from_first.size(), kPerClient + 1U);
    ASSERT_EQ(from_second.size(), std::size_t{kPerClient});
    for (std::uint16_t id = 1; id <= kPerClient; ++id) {
        const Bytes& reply = from_first.at(id);
        EXPECT_NE(reply[2] & 0x80U, 0U);
        if (id % 3 == 0) {
            EXPECT_EQ(test_support::rcode_of(reply), 3) << id;
        } else {
            EXPECT_EQ(test_support::rcode_of(reply), 0) << id;
            EXPECT_EQ(test_support::last_a_record(reply), "10.88.0.2") << id;
        }
        const Bytes& other = from_second.at(static_cast<std::uint16_t>(1000 + id));
        EXPECT_EQ(test_support::last_a_record(other), "10.88.0.2") << id;
    }
    EXPECT_TRUE(from_first.contains(500)) << "the forwarded query is answered too";
    EXPECT_EQ(on_io([this] { return forwarder.calls; }), 1);
}

// Between queries the loop sleeps with its socket in a private epoll set and leaves the set on
// waking (UdpListener::receive_loop): every later query, after a pause or straight after the
// last reply, wakes it again. Stopping the listener while it sleeps ends the loop, which then
// lets go of the listener.
TEST_F(BatchedUdpTest, SleepingLoopWakesForEachQueryAndEndsWhenStopped) {
    start_serving();
    UdpClient client;
    for (std::uint16_t id = 1; id <= 24; ++id) {
        const std::optional<Bytes> reply =
            client.exchange(kIp, port, make_query("web.dns.podman", kTypeA, id));
        ASSERT_TRUE(reply) << id;
        EXPECT_EQ(test_support::id_of(*reply), id);
        EXPECT_EQ(test_support::last_a_record(*reply), "10.88.0.2") << id;
        if (id % 4 == 0) {
            std::this_thread::sleep_for(20ms); // long enough for the loop to be asleep
        }
    }
    const std::weak_ptr<server::UdpListener> udp = on_io([this] {
        return std::weak_ptr<server::UdpListener>(
            listeners->find(server::ListenerKey{"net1", *base::IpAddress::parse(kIp)})->udp);
    });
    ASSERT_FALSE(udp.expired());
    EXPECT_TRUE(reconcile({}).empty());
    for (int round = 0; round < 100 && !udp.expired(); ++round) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(udp.expired()) << "the stopped loop still holds the listener";
    EXPECT_FALSE(client.exchange(kIp, port, make_query("web.dns.podman", kTypeA, 99), 200ms));
}

// A query larger than the packed head of a slot (EDNS padding) is read whole.
TEST_F(BatchedUdpTest, DatagramLargerThanTheSlotHeadIsReadWhole) {
    start_serving();
    Bytes large = make_query("web.dns.podman", kTypeA, 77);
    large[11] = 1; // ARCOUNT: one OPT record
    const std::size_t padding = 3 * server::DatagramBatch::kHeadSize;
    const Bytes opt{0, 0, 41, 0x10, 0, 0, 0, 0, 0};
    large.insert(large.end(), opt.begin(), opt.end());
    large.push_back(static_cast<std::uint8_t>((padding + 4) >> 8U));
    large.push_back(static_cast<std::uint8_t>((padding + 4) & 0xFFU));
    large.insert(large.end(), {0, 12, static_cast<std::uint8_t>(padding >> 8U),
                               static_cast<std::uint8_t>(padding & 0xFFU)});
    large.resize(large.size() + padding, 0);
    ASSERT_GT(large.size(), server::DatagramBatch::kHeadSize);

    UdpClient client;
    on_io([&] {
        client.send(kIp, port, make_query("web.dns.podman", kTypeA, 76));
        client.send(kIp, port, large);
        client.send(kIp, port, make_query("www.dns.podman", kTypeA, 78));
    });
    const auto replies = collect(client, 3);
    ASSERT_EQ(replies.size(), 3U);
    EXPECT_EQ(test_support::last_a_record(replies.at(76)), "10.88.0.2");
    EXPECT_EQ(test_support::last_a_record(replies.at(78)), "10.88.0.2");
    const Bytes& reply = replies.at(77);
    EXPECT_EQ(test_support::rcode_of(reply), 0);
    EXPECT_EQ(test_support::answer_count(reply), 1);
    const Bytes address{10, 88, 0, 2};
    EXPECT_NE(std::search(reply.begin(), reply.end(), address.begin(), address.end()), reply.end());
}

// Slots are made ready again only where the last receive wrote them: a longer batch after a
// short one still reads every datagram and every sender whole.
TEST(DatagramBatchTest, LongerBatchAfterAShortOneReadsEverySender) {
    const auto bound = [](std::uint16_t port) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        ::inet_pton(AF_INET, kIp, &address.sin_addr);
        EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
        return fd;
    };
    const std::uint16_t port = test_support::free_port(kIp);
    ASSERT_NE(port, 0);
    const int server = bound(port);
    const int first = bound(0);
    const int second = bound(0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, kIp, &to.sin_addr);
    const auto send_from = [&](int fd, std::uint8_t mark, int count) {
        for (int i = 0; i < count; ++i) {
            const std::array<std::uint8_t, 2> datagram{mark, static_cast<std::uint8_t>(i)};
            ASSERT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0,
                               reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
                      2);
        }
    };
    const auto port_of = [](int fd) {
        sockaddr_in local{};
        socklen_t size = sizeof(local);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size);
        return ntohs(local.sin_port);
    };

    server::DatagramBatch batch;
    std::error_code error;
    send_from(first, 1, 3);
    ASSERT_EQ(batch.receive(server, error), 3U);
    send_from(second, 2, 5);
    ASSERT_EQ(batch.receive(server, error), 5U);
    for (std::size_t slot = 0; slot < 5; ++slot) {
        EXPECT_EQ(batch.sender(slot).port(), port_of(second)) << slot;
        const auto request = batch.request(slot);
        ASSERT_EQ(request.size(), 2U) << slot;
        EXPECT_EQ(request[0], 2);
        EXPECT_EQ(request[1], slot);
    }
    EXPECT_EQ(batch.receive(server, error), 0U);
    EXPECT_EQ(error, asio::error::would_block);
    for (const int fd : {server, first, second}) {
        ::close(fd);
    }
}

} // namespace
