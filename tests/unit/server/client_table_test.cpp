// The per-client accounting behind fair sharing: ClientTable against a simple model, its
// allocation-free promise, and ServeState's admission order and shed counters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <new>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "server/client_table.hpp"
#include "server/serve_state.hpp"

namespace {

thread_local bool counting = false;
thread_local std::size_t allocations = 0;

void* counted_allocate(std::size_t size) {
    if (counting) {
        ++allocations;
    }
    if (void* memory = std::malloc(size == 0 ? 1 : size)) {
        return memory;
    }
    throw std::bad_alloc();
}

} // namespace

// Counts allocations in this test binary while `counting` is set (see the allocation test).
void* operator new(std::size_t size) {
    return counted_allocate(size);
}

void* operator new[](std::size_t size) {
    return counted_allocate(size);
}

void operator delete(void* memory) noexcept {
    std::free(memory);
}

void operator delete[](void* memory) noexcept {
    std::free(memory);
}

void operator delete(void* memory, std::size_t) noexcept {
    std::free(memory);
}

void operator delete[](void* memory, std::size_t) noexcept {
    std::free(memory);
}

namespace {

using base::IpAddress;
using server::Admission;
using server::ClientResource;
using server::ClientTable;

IpAddress v4(std::uint32_t n) {
    return IpAddress::v4({static_cast<std::uint8_t>(n >> 24U), static_cast<std::uint8_t>(n >> 16U),
                          static_cast<std::uint8_t>(n >> 8U), static_cast<std::uint8_t>(n)});
}

IpAddress v6(std::uint32_t n) {
    std::array<std::uint8_t, 16> bytes{0xfd, 0x00};
    bytes[12] = static_cast<std::uint8_t>(n >> 24U);
    bytes[13] = static_cast<std::uint8_t>(n >> 16U);
    bytes[14] = static_cast<std::uint8_t>(n >> 8U);
    bytes[15] = static_cast<std::uint8_t>(n);
    return IpAddress::v6(bytes);
}

TEST(FairShare, AnEighthButAtLeastEight) {
    EXPECT_EQ(server::Limits::fair_share(512), 64U);
    EXPECT_EQ(server::Limits::fair_share(1024), 128U);
    EXPECT_EQ(server::Limits::fair_share(40), 8U);
    EXPECT_EQ(server::Limits::fair_share(1), 8U);
    const server::Limits defaults;
    EXPECT_EQ(defaults.max_tcp_connections_per_client, 64U);
    EXPECT_EQ(defaults.max_forwards_per_client, 64U);
}

TEST(ClientTable, CountsEachResourceUpToItsLimitPerClient) {
    ClientTable table(16);
    const IpAddress a = v4(0x0a580002);
    const IpAddress b = v4(0x0a580003);
    EXPECT_TRUE(table.try_acquire(a, ClientResource::TcpConnection, 2));
    EXPECT_TRUE(table.try_acquire(a, ClientResource::TcpConnection, 2));
    EXPECT_FALSE(table.try_acquire(a, ClientResource::TcpConnection, 2));
    EXPECT_TRUE(table.try_acquire(a, ClientResource::Forward, 2)) << "resources are separate";
    EXPECT_TRUE(table.try_acquire(b, ClientResource::TcpConnection, 2)) << "clients are separate";
    EXPECT_EQ(table.held(a, ClientResource::TcpConnection), 2U);
    EXPECT_EQ(table.held(a, ClientResource::Forward), 1U);
    EXPECT_EQ(table.clients(), 2U);

    table.release(a, ClientResource::TcpConnection);
    EXPECT_TRUE(table.try_acquire(a, ClientResource::TcpConnection, 2));
    table.release(a, ClientResource::TcpConnection);
    table.release(a, ClientResource::TcpConnection);
    EXPECT_EQ(table.clients(), 2U) << "a still holds a forward";
    table.release(a, ClientResource::Forward);
    EXPECT_EQ(table.clients(), 1U);
    EXPECT_EQ(table.held(a, ClientResource::Forward), 0U);
}

TEST(ClientTable, SameBytesInTwoFamiliesAreTwoClients) {
    ClientTable table(4);
    const IpAddress four = IpAddress::v4({1, 2, 3, 4});
    std::array<std::uint8_t, 16> bytes{1, 2, 3, 4};
    const IpAddress six = IpAddress::v6(bytes);
    EXPECT_TRUE(table.try_acquire(four, ClientResource::Forward, 1));
    EXPECT_TRUE(table.try_acquire(six, ClientResource::Forward, 1));
    EXPECT_EQ(table.clients(), 2U);
}

TEST(ClientTable, NeverHoldsMoreClientsThanSized) {
    ClientTable table(3);
    EXPECT_TRUE(table.try_acquire(v4(1), ClientResource::Forward, 8));
    EXPECT_TRUE(table.try_acquire(v4(2), ClientResource::Forward, 8));
    EXPECT_TRUE(table.try_acquire(v4(3), ClientResource::Forward, 8));
    EXPECT_FALSE(table.try_acquire(v4(4), ClientResource::Forward, 8));
    EXPECT_TRUE(table.try_acquire(v4(3), ClientResource::Forward, 8)) << "a known client still";
    table.release(v4(2), ClientResource::Forward);
    EXPECT_TRUE(table.try_acquire(v4(4), ClientResource::Forward, 8));
}

TEST(ClientTable, ReleaseOfAnUnknownClientChangesNothing) {
    ClientTable table(4);
    table.release(v4(9), ClientResource::TcpConnection);
    EXPECT_EQ(table.clients(), 0U);
    EXPECT_TRUE(table.try_acquire(v4(9), ClientResource::TcpConnection, 1));
}

// Random acquire/release over many clients, IPv4 and IPv6, checked against a std::map: the
// backward-shift deletion must keep every client reachable.
TEST(ClientTable, AgreesWithAModelUnderChurn) {
    constexpr std::size_t kMaxClients = 64;
    constexpr std::size_t kLimit = 3;
    ClientTable table(kMaxClients);
    std::map<std::pair<IpAddress, int>, std::size_t> model;
    auto clients_in_model = [&model] {
        std::map<IpAddress, bool> present;
        for (const auto& [key, held] : model) {
            if (held > 0) {
                present[key.first] = true;
            }
        }
        return present.size();
    };
    std::mt19937 random(12345);
    for (int step = 0; step < 200'000; ++step) {
        const auto n = static_cast<std::uint32_t>(random() % 100);
        const IpAddress client = (n % 2 == 0) ? v4(0x0a000000 + n) : v6(n);
        const int resource_index = static_cast<int>(random() % 2);
        const auto resource = static_cast<ClientResource>(resource_index);
        std::size_t& held = model[{client, resource_index}];
        if (random() % 2 == 0) {
            const bool room = held > 0 || table.held(client, ClientResource::TcpConnection) > 0 ||
                              table.held(client, ClientResource::Forward) > 0 ||
                              clients_in_model() < kMaxClients;
            const bool expected = held < kLimit && room;
            ASSERT_EQ(table.try_acquire(client, resource, kLimit), expected) << "step " << step;
            if (expected) {
                ++held;
            }
        } else if (held > 0) {
            table.release(client, resource);
            --held;
        }
        ASSERT_EQ(table.held(client, resource), held) << "step " << step;
        if (step % 1000 == 0) {
            for (const auto& [key, count] : model) {
                ASSERT_EQ(table.held(key.first, static_cast<ClientResource>(key.second)), count);
            }
            ASSERT_EQ(table.clients(), clients_in_model());
        }
    }
}

TEST(ClientTable, AcquireAndReleaseNeverAllocate) {
    ClientTable table(1024);
    allocations = 0;
    counting = true;
    for (std::uint32_t round = 0; round < 10; ++round) {
        for (std::uint32_t n = 0; n < 1024; ++n) {
            table.try_acquire(v6(n * 7919U + round), ClientResource::Forward, 64);
        }
        for (std::uint32_t n = 0; n < 1024; ++n) {
            table.release(v6(n * 7919U + round), ClientResource::Forward);
        }
    }
    counting = false;
    EXPECT_EQ(allocations, 0U);
    EXPECT_EQ(table.clients(), 0U);
}

server::ServeState make_state(server::Limits limits) {
    return server::ServeState(nullptr, nullptr, limits);
}

TEST(ServeStateAdmission, TcpConnectionsArePerClientThenGlobal) {
    server::Limits limits;
    limits.max_tcp_connections = 3;
    limits.max_tcp_connections_per_client = 2;
    server::ServeState state = make_state(limits);
    EXPECT_TRUE(state.try_admit(Admission::TcpConnection, v4(1)));
    EXPECT_TRUE(state.try_admit(Admission::TcpConnection, v4(1)));
    EXPECT_FALSE(state.try_admit(Admission::TcpConnection, v4(1)));
    EXPECT_EQ(state.shed_tcp_per_client, 1U);
    EXPECT_TRUE(state.try_admit(Admission::TcpConnection, v4(2)));
    EXPECT_FALSE(state.try_admit(Admission::TcpConnection, v4(3)));
    EXPECT_EQ(state.shed_tcp_global, 1U);
    EXPECT_FALSE(state.try_admit(Admission::TcpConnection, v4(1)))
        << "a client at its share is counted as such even when all is full";
    EXPECT_EQ(state.shed_tcp_per_client, 2U);
    EXPECT_EQ(state.tcp_connections, 3U);

    state.release(Admission::TcpConnection, v4(1));
    EXPECT_EQ(state.tcp_connections, 2U);
    EXPECT_TRUE(state.try_admit(Admission::TcpConnection, v4(3)));
    EXPECT_EQ(state.shed_forward_per_client + state.shed_forward_global, 0U);
}

TEST(ServeStateAdmission, UdpAndTcpForwardsShareTheClientsShare) {
    server::Limits limits;
    limits.max_udp_forwards = 3;
    limits.max_forwards_per_client = 2;
    server::ServeState state = make_state(limits);
    EXPECT_TRUE(state.try_admit(Admission::UdpForward, v4(1)));
    EXPECT_TRUE(state.try_admit(Admission::TcpForward, v4(1)));
    EXPECT_FALSE(state.try_admit(Admission::UdpForward, v4(1)));
    EXPECT_FALSE(state.try_admit(Admission::TcpForward, v4(1)));
    EXPECT_EQ(state.shed_forward_per_client, 2U);
    EXPECT_EQ(state.udp_forwards, 1U) << "TCP forwards do not use the UDP global slots";

    EXPECT_TRUE(state.try_admit(Admission::UdpForward, v4(2)));
    EXPECT_TRUE(state.try_admit(Admission::UdpForward, v4(3)));
    EXPECT_FALSE(state.try_admit(Admission::UdpForward, v4(4)));
    EXPECT_EQ(state.shed_forward_global, 1U);
    EXPECT_TRUE(state.try_admit(Admission::TcpForward, v4(4)))
        << "TCP forwards are bounded by connections, not by max_udp_forwards";

    state.release(Admission::TcpForward, v4(1));
    EXPECT_EQ(state.held_by(v4(1), ClientResource::Forward), 1U);
    state.release(Admission::UdpForward, v4(1));
    EXPECT_EQ(state.held_by(v4(1), ClientResource::Forward), 0U);
    EXPECT_EQ(state.udp_forwards, 2U);
}

TEST(ServeStateAdmission, SlotsReleaseWhenDestroyed) {
    server::Limits limits;
    limits.max_tcp_connections_per_client = 1;
    auto state = std::make_shared<server::ServeState>(nullptr, nullptr, limits);
    {
        auto slot = server::AdmittedSlot::take(state, Admission::TcpConnection, v4(1));
        ASSERT_TRUE(slot.has_value());
        EXPECT_FALSE(server::AdmittedSlot::take(state, Admission::TcpConnection, v4(1)));
        auto moved = std::move(*slot);
        EXPECT_EQ(state->tcp_connections, 1U);
    }
    EXPECT_EQ(state->tcp_connections, 0U);
    EXPECT_EQ(state->clients(), 0U);
    EXPECT_TRUE(server::AdmittedSlot::take(state, Admission::TcpConnection, v4(1)));
}

} // namespace
