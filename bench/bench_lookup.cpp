// bench/: micro-benchmarks of name resolution on a 200-container store: RecordStore::lookup_name
// alone and query::handle end to end (parse, policy, lookup, reply), for a requester on one
// network and one attached to four. Builds the store from netavark-format text through config/.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "base/ip_address.hpp"
#include "config/network_file.hpp"
#include "dns/types.hpp"
#include "query/handler.hpp"
#include "query/lookup_warmer.hpp"
#include "records/record_store.hpp"

namespace {

constexpr std::size_t kContainers = 200;

std::string dec(std::size_t value) {
    return std::to_string(value);
}

/// Lowercase hex, zero-padded to `width`.
std::string hex(std::size_t value, std::size_t width = 1) {
    std::string digits;
    do {
        digits.insert(digits.begin(), "0123456789abcdef"[value % 16]);
        value /= 16;
    } while (value != 0);
    if (digits.size() < width) {
        digits.insert(0, width - digits.size(), '0');
    }
    return digits;
}

/// Container i's name: even ones are asked for by container name, odd ones by alias.
std::string container_name(std::size_t i) {
    return (i % 2 == 0 ? "ctr-" : "web-") + dec(i);
}

/// Container i lives on network i % networks as 10.89.<net>.<i / networks + 2> with names
/// ctr-i and web-i (name + alias, as netavark writes them). The requester, container 0, is also
/// attached to every other network (one line per network with the same ID, as netavark does).
struct Fixture {
    std::shared_ptr<const records::RecordStore> store;
    base::IpAddress requester;
    records::NetworkId listener_network = 0;

    explicit Fixture(std::size_t networks) {
        std::vector<std::string> texts(networks);
        for (std::size_t net = 0; net < networks; ++net) {
            texts[net] = "10.89." + dec(net) + ".1\n";
        }
        for (std::size_t i = 0; i < kContainers; ++i) {
            const std::size_t net = i % networks;
            const std::size_t host = i / networks + 2;
            texts[net] += hex(i + 1, 64) + " 10.89." + dec(net) + "." + dec(host) +
                          " fd10:88:" + hex(net) + "::" + hex(host) + " ctr-" + dec(i) + ",web-" +
                          dec(i) + "\n";
        }
        for (std::size_t net = 1; net < networks; ++net) {
            texts[net] += hex(1, 64) + " 10.89." + dec(net) + ".250 fd10:88:" + hex(net) +
                          "::fa ctr-0,web-0\n";
        }
        std::vector<config::NetworkFile> files;
        for (std::size_t net = 0; net < networks; ++net) {
            const std::string name = "net" + dec(net);
            config::NetworkFileResult parsed =
                config::parse_network_file(name, "/bench/" + name, texts[net]);
            if (parsed.file) {
                files.push_back(std::move(*parsed.file));
            }
        }
        store = records::RecordStore::build(files);
        requester = base::IpAddress::v4({10, 89, 0, 2});
        listener_network = store->find_network("net0").value_or(0);
    }
};

const Fixture& fixture(std::size_t networks) {
    static const Fixture one(1);
    static const Fixture four(4);
    return networks == 1 ? one : four;
}

std::vector<std::string> container_names() {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < kContainers; ++i) {
        names.push_back(container_name(i));
    }
    return names;
}

void BM_LookupName(benchmark::State& state) {
    const Fixture& f = fixture(static_cast<std::size_t>(state.range(0)));
    const std::span<const records::NetworkId> nets = f.store->networks_of(f.requester);
    const std::vector<std::string> names = container_names();
    std::vector<base::IpAddress> out;
    for (const std::string& name : names) {
        if (!f.store->lookup_name(nets, name, out) || out.size() < 2) {
            state.SkipWithError(("lookup of " + name + " gave no v4 and v6 addresses").c_str());
            return;
        }
    }
    std::size_t next = 0;
    for (auto _ : state) {
        bool found = f.store->lookup_name(nets, names[next], out);
        benchmark::DoNotOptimize(found);
        benchmark::DoNotOptimize(out.data());
        next = next + 1 == names.size() ? 0 : next + 1;
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(std::to_string(nets.size()) + " network(s) searched");
}

BENCHMARK(BM_LookupName)->ArgName("networks")->Arg(1)->Arg(4);

void BM_LookupNameMiss(benchmark::State& state) {
    const Fixture& f = fixture(static_cast<std::size_t>(state.range(0)));
    const std::span<const records::NetworkId> nets = f.store->networks_of(f.requester);
    std::vector<base::IpAddress> out;
    for (auto _ : state) {
        bool found = f.store->lookup_name(nets, "no-such-container", out);
        benchmark::DoNotOptimize(found);
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_LookupNameMiss)->ArgName("networks")->Arg(1)->Arg(4);

/// A query as dig sends it: RD+AD, EDNS with UDP size 1232.
std::vector<std::uint8_t> make_query(const std::string& name, dns::RecordType type) {
    std::vector<std::uint8_t> wire = {0x12, 0x34, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1};
    std::size_t start = 0;
    while (start < name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string::npos) {
            dot = name.size();
        }
        wire.push_back(static_cast<std::uint8_t>(dot - start));
        wire.insert(wire.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
                    name.begin() + static_cast<std::ptrdiff_t>(dot));
        start = dot + 1;
    }
    const auto qtype = static_cast<std::uint16_t>(type);
    wire.insert(wire.end(), {0, static_cast<std::uint8_t>(qtype >> 8),
                             static_cast<std::uint8_t>(qtype & 0xff), 0, 1});
    wire.insert(wire.end(), {0, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});
    return wire;
}

enum class Kind : std::int64_t {
    A,
    Aaaa,
    Ptr,
    NxDomain
};

/// One request per container (cycled), of the kind asked, with the rcode and minimum answer count
/// each must produce.
std::vector<std::vector<std::uint8_t>> make_requests(std::size_t networks, Kind kind) {
    std::vector<std::vector<std::uint8_t>> requests;
    for (std::size_t i = 0; i < kContainers; ++i) {
        const std::string name = container_name(i) + ".dns.podman";
        switch (kind) {
        case Kind::A:
            requests.push_back(make_query(name, dns::RecordType::A));
            break;
        case Kind::Aaaa:
            requests.push_back(make_query(name, dns::RecordType::Aaaa));
            break;
        case Kind::Ptr:
            requests.push_back(
                make_query(dec(i / networks + 2) + "." + dec(i % networks) + ".89.10.in-addr.arpa",
                           dns::RecordType::Ptr));
            break;
        case Kind::NxDomain:
            requests.push_back(make_query("missing-" + dec(i) + ".dns.podman", dns::RecordType::A));
            break;
        }
    }
    return requests;
}

/// query::handle end to end. Args: networks of the requester, query kind, and whether handle()
/// gets what a batch's warm-up worked out (query::KnownLookup, noted before the timed loop) as
/// the UDP listener passes it.
void BM_Handle(benchmark::State& state) {
    const auto networks = static_cast<std::size_t>(state.range(0));
    const auto kind = static_cast<Kind>(state.range(1));
    const bool with_known = state.range(2) != 0;
    const Fixture& f = fixture(networks);
    const std::vector<std::vector<std::uint8_t>> requests = make_requests(networks, kind);
    const query::Settings settings;
    const query::Client client{f.requester, f.listener_network, dns::Transport::Udp};
    std::array<std::uint8_t, dns::kMaxUdpPayload> out{};
    query::Verdict verdict;

    std::vector<query::LookupWarmer> warmers(requests.size());
    std::vector<std::optional<query::KnownLookup>> known(requests.size());
    for (std::size_t i = 0; with_known && i < requests.size(); ++i) {
        warmers[i].note(requests[i], client, *f.store, settings);
        known[i] = warmers[i].known();
    }
    const auto known_of = [&](std::size_t i) {
        return known[i] ? &*known[i] : nullptr;
    };

    const dns::Rcode expected_rcode =
        kind == Kind::NxDomain ? dns::Rcode::NxDomain : dns::Rcode::NoError;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const std::vector<std::uint8_t>& request = requests[i];
        query::handle(request, client, *f.store, settings, out, verdict, known_of(i));
        const bool replied =
            verdict.action == query::Verdict::Action::Reply && verdict.reply_size >= 12;
        const unsigned answers = replied ? (unsigned{out[6]} << 8U) | out[7] : 0;
        const auto rcode = static_cast<dns::Rcode>(replied ? out[3] & 0x0f : 0xff);
        if (!replied || rcode != expected_rcode || (kind != Kind::NxDomain && answers == 0)) {
            state.SkipWithError("handle() did not answer locally as expected");
            return;
        }
    }

    std::size_t next = 0;
    for (auto _ : state) {
        query::handle(requests[next], client, *f.store, settings, out, verdict, known_of(next));
        benchmark::DoNotOptimize(verdict.reply_size);
        benchmark::ClobberMemory();
        next = next + 1 == requests.size() ? 0 : next + 1;
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Handle)
    ->ArgNames({"networks", "kind", "known"}) // kind: 0 A, 1 AAAA, 2 PTR, 3 NXDOMAIN
    ->Args({1, 0, 0})
    ->Args({1, 0, 1})
    ->Args({1, 1, 0})
    ->Args({1, 2, 0})
    ->Args({1, 2, 1})
    ->Args({1, 3, 0})
    ->Args({4, 0, 0})
    ->Args({4, 2, 0});

/// A query from a source that is no container (the host querying a gateway): the listener's
/// network is searched instead of the requester's.
void BM_HandleUnknownSource(benchmark::State& state) {
    const Fixture& f = fixture(1);
    const std::vector<std::vector<std::uint8_t>> requests = make_requests(1, Kind::A);
    const query::Settings settings;
    const query::Client client{base::IpAddress::v4({10, 89, 0, 1}), f.listener_network,
                               dns::Transport::Udp};
    std::array<std::uint8_t, dns::kMaxUdpPayload> out{};
    query::Verdict verdict;
    query::handle(requests[0], client, *f.store, settings, out, verdict);
    if (verdict.action != query::Verdict::Action::Reply || verdict.reply_size < 12 || out[7] == 0) {
        state.SkipWithError("handle() did not answer the host's query locally");
        return;
    }
    std::size_t next = 0;
    for (auto _ : state) {
        query::handle(requests[next], client, *f.store, settings, out, verdict);
        benchmark::DoNotOptimize(verdict.reply_size);
        benchmark::ClobberMemory();
        next = next + 1 == requests.size() ? 0 : next + 1;
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_HandleUnknownSource);

/// Building the tables from parsed files: what every SIGHUP reload pays.
void BM_BuildStore(benchmark::State& state) {
    const auto networks = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        Fixture f(networks);
        benchmark::DoNotOptimize(f.store.get());
    }
    state.SetLabel("parse + build, " + std::to_string(kContainers) + " containers");
}

BENCHMARK(BM_BuildStore)->ArgName("networks")->Arg(1)->Arg(4)->Unit(benchmark::kMicrosecond);

} // namespace
