// Pins the hot-path promise of query::handle: once warmed up, deciding and answering a query
// allocates nothing. Replaces the global operator new of this test binary to count calls.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "config/network_file.hpp"
#include "query/handler.hpp"
#include "support/dns_message.hpp"

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

using test_support::make_query;

config::NetworkFile network_file(std::string_view name, std::string_view text) {
    auto result = config::parse_network_file(name, name, text);
    EXPECT_TRUE(result.problems.empty());
    return result.file.value_or(config::NetworkFile{});
}

TEST(QueryAllocation, SteadyStateQueriesDoNotAllocate) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n1", "10.1.0.1 127.0.0.53\n"
                                       "a 10.1.0.2 fd01::2 one,web\n"
                                       "b 10.1.0.3  two,web 127.0.0.54,127.0.0.55\n"));
    files.push_back(network_file("n2", "10.2.0.1\n"
                                       "a 10.2.0.2  one,web\n"
                                       "c 10.2.0.3  three\n"));
    const auto store = records::RecordStore::build(files);
    const auto n1 = store->find_network("n1").value_or(0);

    constexpr std::uint16_t kA = 1;
    constexpr std::uint16_t kPtr = 12;
    constexpr std::uint16_t kAaaa = 28;
    constexpr std::uint16_t kMx = 15;

    struct Case {
        std::vector<std::uint8_t> request;
        std::string source;
        query::Verdict::Action expected;
    };

    const std::vector<Case> cases{
        {make_query("web.dns.podman", kA), "10.1.0.2", query::Verdict::Action::Reply},
        {make_query("WEB", kAaaa), "10.1.0.3", query::Verdict::Action::Reply},
        {make_query("three.dns.podman", kA), "192.0.2.1", query::Verdict::Action::Reply},
        {make_query("2.0.1.10.in-addr.arpa", kPtr), "10.1.0.3", query::Verdict::Action::Reply},
        {make_query("nobody.dns.podman", kA), "10.1.0.2", query::Verdict::Action::Reply},
        {make_query("example.com", kA), "10.1.0.3", query::Verdict::Action::Forward},
        {make_query("example.com", kMx), "10.1.0.2", query::Verdict::Action::Forward},
        {make_query("example.com", kA), "192.0.2.1", query::Verdict::Action::Forward},
        {make_query("one", kA, 0x1234, 0x1100), "10.1.0.2",
         query::Verdict::Action::Reply},                                               // NOTIMP
        {std::vector<std::uint8_t>(12, 0), "10.1.0.2", query::Verdict::Action::Reply}, // FORMERR
    };

    const query::Settings settings;
    std::vector<std::uint8_t> out(4096);
    query::Verdict verdict;
    std::vector<query::Client> clients;
    for (const auto& c : cases) {
        clients.push_back(
            query::Client{base::IpAddress::parse(c.source).value(), n1, dns::Transport::Udp});
    }
    // Warm-up: the first calls may size the reusable vectors.
    for (std::size_t i = 0; i < cases.size(); ++i) {
        query::handle(cases[i].request, clients[i], *store, settings, out, verdict);
        EXPECT_EQ(verdict.action, cases[i].expected) << i;
    }
    allocations = 0;
    counting = true;
    for (int round = 0; round < 100; ++round) {
        for (std::size_t i = 0; i < cases.size(); ++i) {
            query::handle(cases[i].request, clients[i], *store, settings, out, verdict);
        }
    }
    counting = false;
    EXPECT_EQ(allocations, 0U);
}

} // namespace
