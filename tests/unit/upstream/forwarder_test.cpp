// Forwarder against in-process fake upstreams on 127.0.0.x (and ::1) loopback only, all on the
// test's own io_context thread. Budgets are shortened through Options::total_budget.
#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "support/dns_message.hpp"
#include "upstream/exchange.hpp"
#include "upstream/forwarder.hpp"

// gcc 12 under -fsanitize=address,undefined at -O2 wrongly reports -Wmismatched-new-delete for
// asio's coroutine frame delete in the fakes' serve loops (plain -O2 builds are clean); nothing
// here allocates by hand.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace upstream {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;
using test_support::kFlagQr;
using test_support::kFlagRa;
using test_support::kFlagRd;
using test_support::kFlagTc;
using test_support::make_query;
using test_support::read_u16;

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

base::Nameserver server_at(const asio::ip::address& address, std::uint16_t port) {
    const auto parsed = base::IpAddress::parse(address.to_string());
    return base::Nameserver{*parsed, 0, port};
}

std::size_t question_end(const Bytes& query) {
    std::size_t end = 12;
    while (end < query.size() && query[end] != 0) {
        end += std::size_t{query[end]} + 1;
    }
    return end + 1 + 4;
}

// The fakes' answer: the query's header and question, QR, RD copied, `flags` added, and one A
// record (TTL `ttl`, address 192.0.2.`octet`) unless `with_record` is false.
Bytes answer_for(const Bytes& query, unsigned flags, bool with_record, std::uint32_t ttl,
                 unsigned octet) {
    Bytes out(query.begin(), query.begin() + static_cast<std::ptrdiff_t>(question_end(query)));
    const unsigned all_flags =
        kFlagQr | ((static_cast<unsigned>(query[2]) << 8U) & kFlagRd) | flags;
    out[2] = static_cast<std::uint8_t>(all_flags >> 8);
    out[3] = static_cast<std::uint8_t>(all_flags & 0xff);
    for (std::size_t i = 6; i < 12; ++i) {
        out[i] = 0;
    }
    if (with_record) {
        out[7] = 1;
        const std::array<std::uint8_t, 16> record{0xc0,
                                                  0x0c,
                                                  0,
                                                  1,
                                                  0,
                                                  1,
                                                  static_cast<std::uint8_t>(ttl >> 24),
                                                  static_cast<std::uint8_t>(ttl >> 16),
                                                  static_cast<std::uint8_t>(ttl >> 8),
                                                  static_cast<std::uint8_t>(ttl),
                                                  0,
                                                  4,
                                                  192,
                                                  0,
                                                  2,
                                                  static_cast<std::uint8_t>(octet)};
        out.insert(out.end(), record.begin(), record.end());
    }
    return out;
}

enum class Mode {
    Answer,       // one A record, RA set
    AnswerNoRa,   // one A record, RA clear
    Swallow,      // reads and never answers
    Refuse,       // RCODE REFUSED
    Truncate,     // TC, no records
    AnswerSecond, // ignores the first datagram (exercises the 333 ms re-send)
    SpoofFirst,   // a wrong-ID and a wrong-question answer before the real one
    Oversized,    // 8 KiB over UDP whatever the EDNS size asked: more than we receive whole
    NoQuestion    // QDCOUNT 0: nothing ties the answer to the question
};

class FakeUdp {
public:
    FakeUdp(asio::io_context& io, const char* address, Mode initial_mode, std::uint32_t ttl = 60)
        : mode(initial_mode)
        , socket_(io, asio::ip::udp::endpoint(asio::ip::make_address(address), 0))
        , ttl_(ttl) {
        asio::co_spawn(io, serve(), asio::detached);
    }

    base::Nameserver server() const {
        const auto local = socket_.local_endpoint();
        return server_at(local.address(), local.port());
    }

    std::size_t datagrams() const { return received.size(); }

    Mode mode;
    std::vector<Bytes> received;
    Bytes last_sent;

private:
    // What this fake sends back for one received query, in order.
    std::vector<Bytes> replies_to(const Bytes& query) const {
        const auto octet = static_cast<unsigned>(received.size());
        switch (mode) {
        case Mode::Swallow:
            return {};
        case Mode::Answer:
            return {answer_for(query, kFlagRa, true, ttl_, octet)};
        case Mode::AnswerNoRa:
            return {answer_for(query, 0, true, ttl_, octet)};
        case Mode::Refuse:
            return {answer_for(query, kFlagRa | test_support::kRcodeRefused, false, 0, 0)};
        case Mode::Truncate:
            return {answer_for(query, kFlagRa | kFlagTc, false, 0, 0)};
        case Mode::AnswerSecond:
            if (received.size() < 2) {
                return {};
            }
            return {answer_for(query, kFlagRa, true, ttl_, octet)};
        case Mode::Oversized: {
            Bytes big = answer_for(query, kFlagRa, true, ttl_, octet);
            const Bytes one(big.end() - 16, big.end());
            constexpr unsigned kRecords = 520; // 520 * 16 bytes > 8 KiB
            for (unsigned i = 1; i < kRecords; ++i) {
                big.insert(big.end(), one.begin(), one.end());
            }
            big[6] = static_cast<std::uint8_t>(kRecords >> 8);
            big[7] = static_cast<std::uint8_t>(kRecords & 0xff);
            return {big};
        }
        case Mode::NoQuestion: {
            Bytes bare = answer_for(query, kFlagRa, false, 0, 0);
            bare.resize(12);
            bare[4] = 0;
            bare[5] = 0;
            return {bare};
        }
        case Mode::SpoofFirst: {
            Bytes wrong_id = answer_for(query, kFlagRa, true, ttl_, 66);
            wrong_id[1] = static_cast<std::uint8_t>(wrong_id[1] ^ 0x5a);
            const Bytes other_question =
                make_query("evil.example", test_support::kTypeA, read_u16(query, 0));
            return {wrong_id, answer_for(other_question, kFlagRa, true, ttl_, 77),
                    answer_for(query, kFlagRa, true, ttl_, octet)};
        }
        }
        return {};
    }

    asio::awaitable<void> serve() {
        std::array<std::uint8_t, 4096> buffer{};
        asio::ip::udp::endpoint peer;
        for (;;) {
            const auto [error, size] =
                co_await socket_.async_receive_from(asio::buffer(buffer), peer, kAsTuple);
            if (error) {
                co_return;
            }
            received.emplace_back(buffer.begin(),
                                  buffer.begin() + static_cast<std::ptrdiff_t>(size));
            for (const Bytes& reply : replies_to(received.back())) {
                last_sent = reply;
                co_await socket_.async_send_to(asio::buffer(reply), peer, kAsTuple);
            }
        }
    }

    asio::ip::udp::socket socket_;
    std::uint32_t ttl_;
};

class FakeTcp {
public:
    FakeTcp(asio::io_context& io, const char* address)
        : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address(address), 0)) {
        asio::co_spawn(io, serve(), asio::detached);
    }

    base::Nameserver server() const {
        const auto local = acceptor_.local_endpoint();
        return server_at(local.address(), local.port());
    }

    std::vector<Bytes> received;
    Bytes last_sent;

private:
    asio::awaitable<void> serve() {
        for (;;) {
            auto [error, socket] = co_await acceptor_.async_accept(kAsTuple);
            if (error) {
                co_return;
            }
            asio::co_spawn(acceptor_.get_executor(), session(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> session(asio::ip::tcp::socket socket) {
        std::array<std::uint8_t, 2> prefix{};
        auto [error, count] = co_await asio::async_read(socket, asio::buffer(prefix), kAsTuple);
        if (error) {
            co_return;
        }
        Bytes query((std::size_t{prefix[0]} << 8) | prefix[1]);
        std::tie(error, count) = co_await asio::async_read(socket, asio::buffer(query), kAsTuple);
        if (error) {
            co_return;
        }
        received.push_back(query);
        Bytes answer = answer_for(query, kFlagRa, true, 60, 9);
        last_sent = answer;
        const std::array<std::uint8_t, 2> length{static_cast<std::uint8_t>(answer.size() >> 8),
                                                 static_cast<std::uint8_t>(answer.size())};
        answer.insert(answer.begin(), length.begin(), length.end());
        co_await asio::async_write(socket, asio::buffer(answer), kAsTuple);
    }

    asio::ip::tcp::acceptor acceptor_;
};

// A loopback port where nothing listens (ICMP port unreachable / connection refused).
base::Nameserver closed_udp_port(asio::io_context& io, const char* address) {
    asio::ip::udp::socket probe(io, asio::ip::udp::endpoint(asio::ip::make_address(address), 0));
    const auto local = probe.local_endpoint();
    return server_at(local.address(), local.port());
}

base::Nameserver closed_tcp_port(asio::io_context& io, const char* address) {
    asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address(address), 0));
    const auto local = probe.local_endpoint();
    return server_at(local.address(), local.port());
}

class ForwarderTest : public ::testing::Test {
protected:
    Options options(std::chrono::milliseconds budget = 1000ms) {
        Options result;
        result.total_budget = budget;
        result.clock = [this] {
            return fake_now_;
        };
        return result;
    }

    using Result = std::optional<Bytes>;

    // Runs one forward to completion (or until `limit`), measuring how long it took.
    Result forward(Forwarder& forwarder, Bytes query, std::vector<base::Nameserver> servers,
                   dns::Transport transport = dns::Transport::Udp,
                   std::chrono::milliseconds limit = 5s) {
        // Shared with the completion handler, which may outlive this call if the forward hangs.
        struct Outcome {
            bool finished = false;
            Result result;
            std::exception_ptr failure;
        };

        const auto outcome = std::make_shared<Outcome>();
        const auto started = Clock::now();
        asio::co_spawn(io_, forwarder.forward(std::move(query), std::move(servers), transport),
                       [outcome, this](std::exception_ptr error, Result value) {
                           outcome->failure = error;
                           outcome->result = std::move(value);
                           outcome->finished = true;
                           io_.stop();
                       });
        io_.restart();
        io_.run_for(limit);
        elapsed_ = Clock::now() - started;
        EXPECT_TRUE(outcome->finished) << "forward did not finish";
        if (outcome->failure) {
            std::rethrow_exception(outcome->failure);
        }
        return outcome->result;
    }

    // Lets background work (probes, late datagrams) run for `duration`.
    void run_for(std::chrono::milliseconds duration) {
        io_.restart();
        io_.run_for(duration);
    }

    std::chrono::milliseconds elapsed_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(elapsed_);
    }

    asio::io_context io_;
    Clock::time_point fake_now_{std::chrono::hours{1000}};
    Clock::duration elapsed_{};
};

TEST_F(ForwarderTest, RelaysBytesWithClientIdRestored) {
    FakeUdp good(io_, "127.0.0.11", Mode::Answer);
    Forwarder forwarder(io_.get_executor(), options());
    const Bytes query = make_query("www.example.com", test_support::kTypeA, 0xabcd);

    const auto response = forward(forwarder, query, {good.server()});
    ASSERT_TRUE(response);
    ASSERT_EQ(good.datagrams(), 1u);
    // Same question, random ID on the wire, and the client's ID back in the relayed bytes.
    EXPECT_EQ(Bytes(good.received[0].begin() + 2, good.received[0].end()),
              Bytes(query.begin() + 2, query.end()));
    Bytes expected = good.last_sent;
    expected[0] = 0xab;
    expected[1] = 0xcd;
    EXPECT_EQ(*response, expected);
}

TEST_F(ForwarderTest, RecursionAvailableForcedWhenRdSet) {
    FakeUdp no_ra(io_, "127.0.0.11", Mode::AnswerNoRa);
    Options settings = options();
    settings.cache_enabled = false;
    Forwarder forwarder(io_.get_executor(), settings);

    const auto with_rd = forward(forwarder, make_query("a.example"), {no_ra.server()});
    ASSERT_TRUE(with_rd);
    EXPECT_EQ(read_u16(*with_rd, 2) & kFlagRa, kFlagRa);

    const auto without_rd =
        forward(forwarder, make_query("a.example", test_support::kTypeA, 7, 0), {no_ra.server()});
    ASSERT_TRUE(without_rd);
    EXPECT_EQ(read_u16(*without_rd, 2) & kFlagRa, 0u);
}

TEST_F(ForwarderTest, ClientEdnsSizeIsCappedToWhatWeReceiveWhole) {
    FakeUdp good(io_, "127.0.0.11", Mode::Answer);
    Forwarder forwarder(io_.get_executor(), options());
    test_support::DnsMessage query;
    query.header(0x4242, kFlagRd, 1, 0, 0, 1)
        .question("a.example", test_support::kTypeA)
        .opt(65000, 0);
    ASSERT_TRUE(forward(forwarder, query.bytes(), {good.server()}));
    ASSERT_EQ(good.datagrams(), 1u);
    const Bytes& sent = good.received.front();
    EXPECT_EQ(read_u16(sent, sent.size() - 8), 4096u); // OPT: root, TYPE, CLASS, TTL, RDLENGTH
}

TEST_F(ForwarderTest, ResendsAfter333Milliseconds) {
    FakeUdp second(io_, "127.0.0.16", Mode::AnswerSecond);
    // A 650 ms budget leaves room for a re-send at 333 ms but not for one at 666 ms: only the
    // first re-send can have been answered (the forwarder's own timer decides, not the test's).
    Forwarder forwarder(io_.get_executor(), options(650ms));

    const auto response = forward(forwarder, make_query("a.example"), {second.server()});
    ASSERT_TRUE(response);
    EXPECT_EQ(second.datagrams(), 2u);
    EXPECT_GE(elapsed_ms(), 320ms);
}

TEST_F(ForwarderTest, IgnoresWrongIdAndWrongQuestion) {
    FakeUdp spoof(io_, "127.0.0.17", Mode::SpoofFirst);
    Forwarder forwarder(io_.get_executor(), options());

    const auto response = forward(forwarder, make_query("a.example"), {spoof.server()});
    ASSERT_TRUE(response);
    EXPECT_EQ(response->back(), 1); // the real answer (192.0.2.1), not 66 or 77
    // Taken from the replies to the first send: the forwarder kept reading past the forgeries
    // instead of failing the attempt or waiting for the 333 ms re-send.
    EXPECT_EQ(spoof.datagrams(), 1u);
    EXPECT_EQ(forwarder.stats().upstream_failures, 0u);
    EXPECT_EQ(forwarder.stats().upstream_timeouts, 0u);
}

TEST_F(ForwarderTest, TcpForwarding) {
    FakeTcp tcp(io_, "127.0.0.19");
    Options no_cache = options();
    no_cache.cache_enabled = false;
    Forwarder uncached(io_.get_executor(), no_cache);

    const Bytes first = make_query("tcp.example", test_support::kTypeA, 0x1111);
    const auto response = forward(uncached, first, {tcp.server()}, dns::Transport::Tcp);
    ASSERT_TRUE(response);
    ASSERT_EQ(tcp.received.size(), 1u);
    Bytes expected = tcp.last_sent;
    expected[0] = 0x11;
    expected[1] = 0x11;
    EXPECT_EQ(*response, expected);

    const Bytes second = make_query("tcp.example", test_support::kTypeA, 0x2222);
    ASSERT_TRUE(forward(uncached, second, {tcp.server()}, dns::Transport::Tcp));
    ASSERT_EQ(tcp.received.size(), 2u);
    // The wire IDs are random (both equal to the clients' only with probability 2^-32).
    EXPECT_FALSE(read_u16(tcp.received[0], 0) == 0x1111 && read_u16(tcp.received[1], 0) == 0x2222);
}

TEST_F(ForwarderTest, LoopGuardSkipsLocalAddress) {
    FakeUdp self(io_, "127.0.0.21", Mode::Answer);
    FakeUdp good(io_, "127.0.0.11", Mode::Answer);
    Forwarder forwarder(io_.get_executor(), options());
    forwarder.set_local_addresses({*base::IpAddress::parse("127.0.0.21")});

    ASSERT_TRUE(forward(forwarder, make_query("a.example"), {self.server(), good.server()}));
    ASSERT_TRUE(forward(forwarder, make_query("b.example"), {self.server(), good.server()}));
    EXPECT_EQ(self.datagrams(), 0u);
    EXPECT_EQ(good.datagrams(), 2u);
    EXPECT_EQ(forwarder.stats().loop_skips, 2u);

    EXPECT_FALSE(forward(forwarder, make_query("c.example"), {self.server()}));
    EXPECT_EQ(self.datagrams(), 0u);
}

TEST_F(ForwarderTest, EmptyListMeansHostServers) {
    FakeUdp host(io_, "127.0.0.22", Mode::Answer);
    Forwarder forwarder(io_.get_executor(), options());
    EXPECT_FALSE(forward(forwarder, make_query("a.example"), {}));

    forwarder.set_host_servers({host.server()});
    EXPECT_TRUE(forward(forwarder, make_query("a.example"), {}));
    EXPECT_EQ(host.datagrams(), 1u);
}

TEST_F(ForwarderTest, CacheHitServesWithoutUpstreamAndExpires) {
    FakeUdp good(io_, "127.0.0.11", Mode::Answer, 30);
    Forwarder forwarder(io_.get_executor(), options());

    ASSERT_TRUE(
        forward(forwarder, make_query("cached.example", test_support::kTypeA, 1), {good.server()}));
    EXPECT_EQ(forwarder.cache_size(), 1u);

    fake_now_ += 10s;
    const auto hit =
        forward(forwarder, make_query("CACHED.example", test_support::kTypeA, 2), {good.server()});
    ASSERT_TRUE(hit);
    EXPECT_EQ(good.datagrams(), 1u);
    EXPECT_EQ(read_u16(*hit, 0), 2u);
    EXPECT_EQ(test_support::read_u32(*hit, hit->size() - 10), 20u);
    EXPECT_EQ(hit->at(13), 'C'); // the asker's spelling of the name
    EXPECT_EQ(forwarder.stats().cache_hits, 1u);

    fake_now_ += 20s; // 30 s after caching: expired
    ASSERT_TRUE(
        forward(forwarder, make_query("cached.example", test_support::kTypeA, 3), {good.server()}));
    EXPECT_EQ(good.datagrams(), 2u);

    forwarder.flush_cache();
    EXPECT_EQ(forwarder.cache_size(), 0u);
    ASSERT_TRUE(
        forward(forwarder, make_query("cached.example", test_support::kTypeA, 4), {good.server()}));
    EXPECT_EQ(good.datagrams(), 3u);
}

TEST_F(ForwarderTest, CacheOffAlwaysAsks) {
    FakeUdp good(io_, "127.0.0.11", Mode::Answer, 300);
    Options settings = options();
    settings.cache_enabled = false;
    Forwarder forwarder(io_.get_executor(), settings);
    ASSERT_TRUE(forward(forwarder, make_query("a.example"), {good.server()}));
    ASSERT_TRUE(forward(forwarder, make_query("a.example"), {good.server()}));
    EXPECT_EQ(good.datagrams(), 2u);
    EXPECT_EQ(forwarder.cache_size(), 0u);
}

TEST_F(ForwarderTest, ReconfigureTurnsTheCacheOffAndOnAndShrinksIt) {
    FakeUdp good(io_, "127.0.0.11", Mode::Answer, 300);
    Forwarder forwarder(io_.get_executor(), options());
    ASSERT_TRUE(forward(forwarder, make_query("a.example"), {good.server()}));
    ASSERT_TRUE(forward(forwarder, make_query("b.example"), {good.server()}));
    EXPECT_EQ(forwarder.cache_size(), 2u);

    Options smaller = options();
    smaller.cache.max_entries = 1;
    forwarder.reconfigure(smaller);
    EXPECT_EQ(forwarder.cache_size(), 1u) << "the least recently used answer is evicted";

    Options off = options();
    off.cache_enabled = false;
    forwarder.reconfigure(off);
    EXPECT_EQ(forwarder.cache_size(), 0u) << "turning the cache off drops its answers";
    ASSERT_TRUE(forward(forwarder, make_query("b.example"), {good.server()}));
    ASSERT_TRUE(forward(forwarder, make_query("b.example"), {good.server()}));
    EXPECT_EQ(good.datagrams(), 4u);

    forwarder.reconfigure(options());
    ASSERT_TRUE(forward(forwarder, make_query("b.example"), {good.server()}));
    ASSERT_TRUE(forward(forwarder, make_query("b.example"), {good.server()}));
    EXPECT_EQ(good.datagrams(), 5u) << "cached again once turned back on";
}

TEST_F(ForwarderTest, HealthMemoryMakesNextLookupsFast) {
    FakeUdp dead(io_, "127.0.0.12", Mode::Swallow);
    FakeUdp good(io_, "127.0.0.11", Mode::Answer);
    Options settings = options(1000ms);
    settings.cache_enabled = false;
    Forwarder forwarder(io_.get_executor(), settings);
    const std::vector<base::Nameserver> servers{dead.server(), good.server()};

    ASSERT_TRUE(forward(forwarder, make_query("first.example"), servers));
    EXPECT_GE(elapsed_ms(), 480ms);
    const std::size_t dead_datagrams = dead.datagrams();

    // Fast because the server known dead is not asked (its share is not spent again).
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(forward(forwarder, make_query("next.example"), servers));
        EXPECT_EQ(dead.datagrams(), dead_datagrams) << "lookup " << i;
        EXPECT_EQ(forwarder.stats().upstream_timeouts, 1u) << "lookup " << i;
    }
    EXPECT_EQ(dead.datagrams(), dead_datagrams);
    EXPECT_EQ(good.datagrams(), 6u);
}

TEST_F(ForwarderTest, BackgroundProbeBringsServerBack) {
    FakeUdp flaky(io_, "127.0.0.12", Mode::Swallow);
    FakeUdp good(io_, "127.0.0.11", Mode::Answer);
    Options settings = options(1000ms);
    settings.cache_enabled = false;
    Forwarder forwarder(io_.get_executor(), settings);
    const std::vector<base::Nameserver> servers{flaky.server(), good.server()};

    ASSERT_TRUE(forward(forwarder, make_query("a.example"), servers)); // flaky marked down
    const std::size_t before = flaky.datagrams();

    // Within the back-off nothing probes it.
    fake_now_ += 29s;
    ASSERT_TRUE(forward(forwarder, make_query("b.example"), servers));
    EXPECT_EQ(forwarder.stats().probes, 0u);

    // After the back-off the next query starts a background probe; the client does not wait.
    flaky.mode = Mode::Answer;
    fake_now_ += 2s;
    ASSERT_TRUE(forward(forwarder, make_query("c.example"), servers));
    EXPECT_EQ(good.datagrams(), 3u) << "the client was answered by the healthy server";
    EXPECT_EQ(forwarder.stats().probes, 1u);
    run_for(100ms);
    EXPECT_EQ(flaky.datagrams(), before + 1);

    // Healthy again: it is first in line once more.
    ASSERT_TRUE(forward(forwarder, make_query("d.example"), servers));
    EXPECT_EQ(flaky.datagrams(), before + 2);
    EXPECT_EQ(good.datagrams(), 3u);
}

TEST_F(ForwarderTest, ManyInFlightWithoutHeadOfLineBlocking) {
    FakeUdp dead(io_, "127.0.0.12", Mode::Swallow);
    FakeUdp good(io_, "127.0.0.11", Mode::Answer);
    Options settings = options(1000ms);
    settings.cache_enabled = false;
    Forwarder forwarder(io_.get_executor(), settings);

    int slow_done = 0;
    for (int i = 0; i < 20; ++i) {
        asio::co_spawn(
            io_,
            forwarder.forward(make_query("slow.example"), {dead.server()}, dns::Transport::Udp),
            [&slow_done](std::exception_ptr, std::optional<Bytes>) { ++slow_done; });
    }
    const auto fast = forward(forwarder, make_query("fast.example"), {good.server()});
    ASSERT_TRUE(fast);
    // Answered while all 20 slow forwards still wait out their 1000 ms share.
    EXPECT_EQ(slow_done, 0);
    EXPECT_EQ(forwarder.in_flight(), 20u);
    run_for(1500ms);
    EXPECT_EQ(slow_done, 20);
    EXPECT_EQ(forwarder.in_flight(), 0u);
}

TEST_F(ForwarderTest, InFlightBoundRejectsAtOnce) {
    FakeUdp dead(io_, "127.0.0.12", Mode::Swallow);
    Options settings = options(300ms);
    settings.max_in_flight = 2;
    Forwarder forwarder(io_.get_executor(), settings);

    int done = 0;
    for (int i = 0; i < 2; ++i) {
        asio::co_spawn(
            io_,
            forwarder.forward(make_query("slow.example"), {dead.server()}, dns::Transport::Udp),
            [&done](std::exception_ptr, std::optional<Bytes>) { ++done; });
    }
    run_for(20ms);
    EXPECT_EQ(forwarder.in_flight(), 2u);
    EXPECT_FALSE(forward(forwarder, make_query("third.example"), {dead.server()}));
    EXPECT_EQ(forwarder.stats().rejected_busy, 1u);
    // Rejected before anything was sent: only the two slow queries were forwarded, and a 300 ms
    // share leaves them no room for a re-send.
    EXPECT_EQ(forwarder.stats().forwarded, 2u);
    run_for(500ms);
    EXPECT_EQ(done, 2);
    EXPECT_EQ(forwarder.in_flight(), 0u);
    EXPECT_EQ(dead.datagrams(), 2u) << "the rejected query never reached the upstream";
}

TEST_F(ForwarderTest, RejectsRunts) {
    FakeUdp good(io_, "127.0.0.11", Mode::Answer);
    Forwarder forwarder(io_.get_executor(), options());
    EXPECT_FALSE(forward(forwarder, Bytes{1, 2, 3}, {good.server()}));
    EXPECT_EQ(good.datagrams(), 0u);
}

TEST_F(ForwarderTest, Ipv6Loopback) {
    std::unique_ptr<FakeUdp> good;
    try {
        good = std::make_unique<FakeUdp>(io_, "::1", Mode::Answer);
    } catch (const std::exception& error) {
        GTEST_SKIP() << "no IPv6 loopback here: " << error.what();
    }
    Forwarder forwarder(io_.get_executor(), options());
    const auto response = forward(forwarder, make_query("v6.example"), {good->server()});
    ASSERT_TRUE(response);
    EXPECT_EQ(good->datagrams(), 1u);
}

// Names each case of a table after its `name` field.
template <typename Case>
std::string case_name(const ::testing::TestParamInfo<Case>& test) {
    return test.param.name;
}

// A server that stays silent costs its share of the budget (1000 ms over two servers: 500 ms
// each, re-sent once at 333 ms; 600 ms over two: 300 ms each, no room for the re-send), then
// the next one is asked; when every server is silent the client gets no reply. The elapsed time
// is only bounded below (the shares were waited out); that a server got its share and not the
// whole budget shows in its datagrams, which the forwarder's own timers decide: one re-send at
// 333 ms and none at 666 ms within a 500 ms share, none within a 300 ms share.
struct BudgetCase {
    const char* name;
    std::chrono::milliseconds budget;
    Mode second_mode;
    std::chrono::milliseconds at_least;
    std::size_t first_datagrams;
    std::uint64_t timeouts;
    bool answered;
};

class ForwarderBudgetTest : public ForwarderTest,
                            public ::testing::WithParamInterface<BudgetCase> {};

TEST_P(ForwarderBudgetTest, SilentServerCostsItsShareOfTheBudget) {
    const BudgetCase& c = GetParam();
    FakeUdp dead(io_, "127.0.0.12", Mode::Swallow);
    FakeUdp second(io_, "127.0.0.13", c.second_mode);
    Forwarder forwarder(io_.get_executor(), options(c.budget));

    const auto response =
        forward(forwarder, make_query("a.example"), {dead.server(), second.server()});
    EXPECT_EQ(response.has_value(), c.answered);
    EXPECT_GE(elapsed_ms(), c.at_least);
    EXPECT_EQ(dead.datagrams(), c.first_datagrams);
    EXPECT_EQ(second.datagrams(), 1u);
    EXPECT_EQ(forwarder.stats().upstream_timeouts, c.timeouts);
    EXPECT_EQ(forwarder.stats().unanswered, c.answered ? 0u : 1u);
}

const BudgetCase kBudgetCases[] = {
    {"FailsOverAfterPerServerBudget", 1000ms, Mode::Answer, 480ms, 2, 1, true},
    {"NoReplyWhenEveryServerFails", 600ms, Mode::Swallow, 580ms, 1, 2, false},
};

INSTANTIATE_TEST_SUITE_P(Cases, ForwarderBudgetTest, ::testing::ValuesIn(kBudgetCases),
                         case_name<BudgetCase>);

// Answers that are not failures are relayed from the first server as they are (the next server
// is not asked) and never cached: REFUSED, TC, and a UDP answer too big to receive whole, which
// becomes TC with the question only.
struct RelayCase {
    const char* name;
    Mode mode;
    unsigned header_mask; // the header bits (flags and RCODE) that must come through
    unsigned header_bits;
    std::size_t sent_more_than; // how big the fake's answer was
};

class ForwarderRelayTest : public ForwarderTest, public ::testing::WithParamInterface<RelayCase> {};

TEST_P(ForwarderRelayTest, RelayedFromTheFirstServerAndNotCached) {
    const RelayCase& c = GetParam();
    FakeUdp first(io_, "127.0.0.14", c.mode);
    FakeUdp good(io_, "127.0.0.11", Mode::Answer);
    Forwarder forwarder(io_.get_executor(), options());

    const auto response =
        forward(forwarder, make_query("big.example"), {first.server(), good.server()});
    ASSERT_TRUE(response);
    EXPECT_GT(first.last_sent.size(), c.sent_more_than);
    EXPECT_EQ(read_u16(*response, 2) & c.header_mask, c.header_bits);
    EXPECT_EQ(read_u16(*response, 4), 1u); // the question
    EXPECT_EQ(read_u16(*response, 6), 0u); // no (partial) answer section
    EXPECT_EQ(good.datagrams(), 0u);
    EXPECT_EQ(forwarder.stats().upstream_failures, 0u);
    EXPECT_EQ(forwarder.stats().answered, 1u);

    // Not cached: the next query asks again.
    forward(forwarder, make_query("big.example"), {first.server(), good.server()});
    EXPECT_EQ(first.datagrams(), 2u);
}

const RelayCase kRelayCases[] = {
    {"Refused", Mode::Refuse, 0x0f, test_support::kRcodeRefused, 0},
    {"Truncated", Mode::Truncate, kFlagTc, kFlagTc, 0},
    {"OversizedUdpAnswer", Mode::Oversized, kFlagTc, kFlagTc, 8192},
};

INSTANTIATE_TEST_SUITE_P(Cases, ForwarderRelayTest, ::testing::ValuesIn(kRelayCases),
                         case_name<RelayCase>);

// A first server that fails outright (ICMP port unreachable, a refused TCP connection, an answer
// that carries no question) is given up at once and the next one answers. "At once" is what
// the stats tell: the attempt ended as a failure, not as a timeout of its 10 s share, so the
// elapsed time only needs to stay below that share.
enum class Failure {
    UdpPortUnreachable,
    TcpConnectionRefused,
    AnswerWithoutQuestion
};

struct FailoverCase {
    const char* name;
    Failure failure;
    dns::Transport transport;
};

class ForwarderFailoverTest : public ForwarderTest,
                              public ::testing::WithParamInterface<FailoverCase> {};

TEST_P(ForwarderFailoverTest, FailsOverAtOnce) {
    const FailoverCase& c = GetParam();
    FakeUdp bare(io_, "127.0.0.22", Mode::NoQuestion);
    FakeUdp good_udp(io_, "127.0.0.11", Mode::Answer);
    FakeTcp good_tcp(io_, "127.0.0.19");
    base::Nameserver failing;
    switch (c.failure) {
    case Failure::UdpPortUnreachable:
        failing = closed_udp_port(io_, "127.0.0.18");
        break;
    case Failure::TcpConnectionRefused:
        failing = closed_tcp_port(io_, "127.0.0.20");
        break;
    case Failure::AnswerWithoutQuestion:
        failing = bare.server();
        break;
    }
    const base::Nameserver good =
        c.transport == dns::Transport::Tcp ? good_tcp.server() : good_udp.server();
    constexpr auto kShare = 10s;
    Options settings = options(2 * kShare);
    settings.health_enabled = false;
    Forwarder forwarder(io_.get_executor(), settings);

    const auto response =
        forward(forwarder, make_query("a.example"), {failing, good}, c.transport, kShare + 5s);
    ASSERT_TRUE(response);
    EXPECT_LT(elapsed_ms(), kShare);
    EXPECT_EQ(read_u16(*response, 4), 1u);
    EXPECT_EQ(good_udp.datagrams() + good_tcp.received.size(), 1u);
    EXPECT_EQ(forwarder.stats().upstream_failures, 1u);
    EXPECT_EQ(forwarder.stats().upstream_timeouts, 0u);
}

const FailoverCase kFailoverCases[] = {
    {"UdpPortUnreachable", Failure::UdpPortUnreachable, dns::Transport::Udp},
    {"TcpConnectionRefused", Failure::TcpConnectionRefused, dns::Transport::Tcp},
    {"AnswerWithoutQuestion", Failure::AnswerWithoutQuestion, dns::Transport::Udp},
};

INSTANTIATE_TEST_SUITE_P(Cases, ForwarderFailoverTest, ::testing::ValuesIn(kFailoverCases),
                         case_name<FailoverCase>);

TEST(Endpoints, LinkLocalKeepsScopeId) {
    const base::Nameserver link_local{*base::IpAddress::parse("fe80::1"), 3, 53};
    const auto udp = udp_endpoint(link_local);
    EXPECT_TRUE(udp.address().is_v6());
    EXPECT_EQ(udp.address().to_v6().scope_id(), 3u);
    EXPECT_EQ(udp.port(), 53);
    const auto tcp = tcp_endpoint(link_local);
    EXPECT_EQ(tcp.address().to_v6().scope_id(), 3u);

    const base::Nameserver v4{*base::IpAddress::parse("192.0.2.1"), 0, 5353};
    EXPECT_EQ(udp_endpoint(v4).address().to_string(), "192.0.2.1");
    EXPECT_EQ(udp_endpoint(v4).port(), 5353);
}

} // namespace
} // namespace upstream
