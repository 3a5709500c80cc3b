// bench/: micro-benchmarks of the dns/ codec on the shapes a container resolver sees most: a
// 43-byte A query with EDNS (what dig and glibc with `edns0` send) and its 1- and 4-answer replies.
// Uses dns/ and base/ only.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

#include "base/ip_address.hpp"
#include "dns/message.hpp"
#include "dns/response.hpp"
#include "dns/types.hpp"

namespace {

// `web.dns.podman. IN A`, RD+AD (dig's default flags), OPT with UDP size 1232 and no options.
constexpr std::array<std::uint8_t, 43> kEdnsQuery = {
    0x12, 0x34, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // header
    3,    'w',  'e',  'b',  3,    'd',  'n',  's',  6,    'p',  'o',  'd',  // qname
    'm',  'a',  'n',  0,    0x00, 0x01, 0x00, 0x01,                         // A IN
    0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};      // OPT

// One A record with a compressed owner: pointer 2 + type 2 + class 2 + TTL 4 + RDLENGTH 2 + 4.
constexpr std::size_t kARecordSize = 16;

std::vector<base::IpAddress> container_addresses(std::size_t count) {
    std::vector<base::IpAddress> out;
    for (std::size_t i = 0; i < count; ++i) {
        out.push_back(base::IpAddress::v4({10, 89, 0, static_cast<std::uint8_t>(2 + i)}));
    }
    return out;
}

void BM_ParseQuery(benchmark::State& state) {
    dns::Query query;
    if (dns::parse_query(kEdnsQuery, query) != dns::ParseStatus::Ok || !query.edns) {
        state.SkipWithError("the 43-byte EDNS query does not parse");
        return;
    }
    for (auto _ : state) {
        dns::ParseStatus status = dns::parse_query(kEdnsQuery, query);
        benchmark::DoNotOptimize(status);
        benchmark::DoNotOptimize(query);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kEdnsQuery.size()));
}

BENCHMARK(BM_ParseQuery);

/// The reply to the parsed query with `state.range(0)` A answers.
void BM_ResponseBuilder(benchmark::State& state) {
    const auto answer_count = static_cast<std::size_t>(state.range(0));
    const std::vector<base::IpAddress> addresses = container_addresses(answer_count);
    dns::Query query;
    if (dns::parse_query(kEdnsQuery, query) != dns::ParseStatus::Ok) {
        state.SkipWithError("the 43-byte EDNS query does not parse");
        return;
    }
    std::array<std::uint8_t, dns::kMaxUdpPayload> out{};
    auto build = [&]() {
        dns::ResponseBuilder builder(out, kEdnsQuery, query, query.udp_response_limit());
        for (const base::IpAddress& address : addresses) {
            builder.add_address(address);
        }
        return builder.finish();
    };
    if (build() != kEdnsQuery.size() + answer_count * kARecordSize) {
        state.SkipWithError("unexpected reply size");
        return;
    }
    for (auto _ : state) {
        std::size_t size = build();
        benchmark::DoNotOptimize(size);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_ResponseBuilder)->Arg(1)->Arg(4);

/// A PTR reply with a container name and one alias (what a reverse lookup of a container gives).
void BM_ResponseBuilderPtr(benchmark::State& state) {
    dns::Query query;
    if (dns::parse_query(kEdnsQuery, query) != dns::ParseStatus::Ok) {
        state.SkipWithError("the 43-byte EDNS query does not parse");
        return;
    }
    std::array<std::uint8_t, dns::kMaxUdpPayload> out{};
    for (auto _ : state) {
        dns::ResponseBuilder builder(out, kEdnsQuery, query, query.udp_response_limit());
        builder.add_ptr("web");
        builder.add_ptr("web-alias");
        std::size_t size = builder.finish();
        benchmark::DoNotOptimize(size);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_ResponseBuilderPtr);

/// Parse plus a 1-answer reply: the codec's whole share of a local answer.
void BM_ParseAndRespond(benchmark::State& state) {
    const base::IpAddress address = base::IpAddress::v4({10, 89, 0, 2});
    std::array<std::uint8_t, dns::kMaxUdpPayload> out{};
    dns::Query query;
    for (auto _ : state) {
        if (dns::parse_query(kEdnsQuery, query) != dns::ParseStatus::Ok) {
            state.SkipWithError("the 43-byte EDNS query does not parse");
            break;
        }
        dns::ResponseBuilder builder(out, kEdnsQuery, query, query.udp_response_limit());
        builder.add_address(address);
        std::size_t size = builder.finish();
        benchmark::DoNotOptimize(size);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_ParseAndRespond);

/// The FORMERR path for garbage with a readable header.
void BM_HeaderOnlyReply(benchmark::State& state) {
    std::array<std::uint8_t, dns::kMaxUdpPayload> out{};
    for (auto _ : state) {
        std::size_t size = dns::build_header_only_reply(kEdnsQuery, dns::Rcode::FormErr, out);
        benchmark::DoNotOptimize(size);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_HeaderOnlyReply);

} // namespace
