// Fuzz target: request bytes -> query::handle against a small fixed store, from a container, an
// internal-only container and the host, over UDP and TCP. Besides "no crash", it checks what
// every client relies on: a reply fits the transport's limit, echoes the ID and has QR set. The
// batch warm-up (query::LookupWarmer) runs first on the same bytes: what it notes must be what
// the handler looks up, and the handler given it (KnownLookup) must reply byte for byte as
// without it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/network_file.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"
#include "dns/wire_reader.hpp"
#include "query/handler.hpp"
#include "query/lookup_key.hpp"
#include "query/lookup_warmer.hpp"
#include "query/reverse_name.hpp"

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

config::NetworkFile network_file(std::string_view name, std::string_view text) {
    auto result = config::parse_network_file(name, name, text);
    require(result.file.has_value() && result.problems.empty());
    return std::move(*result.file);
}

std::shared_ptr<const records::RecordStore> make_store() {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("podman1", "10.88.0.1,fd00:88::1 127.0.0.53\n"
                                            "a1 10.88.0.2 fd00:88::2 aone,a1alias,crowd\n"
                                            "a2 10.88.0.3  atwo,a2,crowd 127.0.0.54\n"
                                            "a0 10.88.0.4  stale\n"
                                            "a3 10.88.0.4  athree,odd.name,bad!name,,crowd\n"
                                            "a4 10.88.0.5  athree,crowd\n"));
    files.push_back(network_file("podman2", "10.89.0.1\n"
                                            "b1 10.89.0.2  bone\n"
                                            "a1 10.89.0.3  aone,multi,crowd\n"));
    files.push_back(network_file("secret%int", "10.90.0.1\n"
                                               "c1 10.90.0.2  cone\n"));
    // Enough addresses behind one name to overflow a 512-byte UDP reply.
    std::string big = "10.91.0.1\n";
    for (int i = 2; i < 60; ++i) {
        big += "big" + std::to_string(i) + " 10.91.0." + std::to_string(i) +
               " fd00:91::" + std::to_string(i) + " big-" + std::to_string(i) + ",crowd\n";
    }
    files.push_back(network_file("big", big));
    return records::RecordStore::build(files);
}

struct Source {
    const char* address;
    const char* listener;
};

constexpr std::array kSources{
    Source{"10.88.0.2", "podman1"},  // on two networks
    Source{"10.88.0.3", "podman1"},  // with its own servers
    Source{"10.90.0.2", "secret"},   // internal only
    Source{"10.89.0.1", "podman2"},  // the host, at a gateway
    Source{"fd00:88::2", "podman1"}, // IPv6 source
    Source{"10.91.0.7", "big"},      // sees many addresses for one name
};

void check(std::span<const std::uint8_t> request, const query::Client& client,
           const query::Verdict& verdict, std::span<const std::uint8_t> out) {
    dns::Query parsed;
    const auto status = dns::parse_query(request, parsed);
    switch (verdict.action) {
    case query::Verdict::Action::Drop:
        require(status == dns::ParseStatus::Drop);
        return;
    case query::Verdict::Action::Forward:
        require(status == dns::ParseStatus::Ok);
        require((verdict.source == query::UpstreamSource::Host) == verdict.servers.empty());
        return;
    case query::Verdict::Action::Reply:
        break;
    }
    require(status != dns::ParseStatus::Drop);
    std::size_t limit = dns::kMaxMessageSize;
    if (client.transport == dns::Transport::Udp) {
        limit = status == dns::ParseStatus::Ok ? parsed.udp_response_limit() : dns::kMinUdpPayload;
    }
    require(verdict.reply_size >= dns::kHeaderSize);
    require(verdict.reply_size <= limit);
    require(verdict.reply_size <= out.size());
    require(out[0] == request[0] && out[1] == request[1]);
    require((out[2] & 0x80) != 0);
}

// handle() given what the warm-up worked out must decide exactly as without it.
void check_known_lookup(std::span<const std::uint8_t> request, const query::Client& client,
                        const records::RecordStore& store, const query::Settings& settings,
                        const query::KnownLookup& known) {
    static std::vector<std::uint8_t> cold_out(dns::kMaxMessageSize);
    static std::vector<std::uint8_t> known_out(dns::kMaxMessageSize);
    static query::Verdict cold;
    static query::Verdict with_known;
    query::handle(request, client, store, settings, cold_out, cold);
    query::handle(request, client, store, settings, known_out, with_known, &known);
    require(cold.action == with_known.action);
    require(cold.reply_size == with_known.reply_size);
    require(std::equal(cold_out.begin(),
                       cold_out.begin() + static_cast<std::ptrdiff_t>(cold.reply_size),
                       known_out.begin()));
    require(cold.source == with_known.source && cold.servers == with_known.servers);
}

// The warm-up reads the question by its own quicker path; whatever it notes must be the key or
// the address the handler's parse gives, and handing it to handle() must not change a reply.
void check_warmer(std::span<const std::uint8_t> request, const query::Client& client,
                  const records::RecordStore& store, const query::Settings& settings) {
    query::LookupWarmer warmer;
    warmer.note(request, client, store, settings);
    for (unsigned step = 1; step < query::LookupWarmer::kSteps; ++step) {
        warmer.warm(store, step);
    }
    if (const auto known = warmer.known()) {
        check_known_lookup(request, client, store, settings, *known);
    }
    const auto name_key = warmer.noted_name();
    const auto address = warmer.noted_address();
    if (!name_key && !address) {
        return;
    }
    require(!(name_key && address));
    dns::WireReader reader(request, dns::kHeaderSize);
    dns::Name name;
    require(name.read(reader));
    if (address) {
        require(query::reverse_address(name) == *address);
        return;
    }
    std::array<char, dns::kMaxNameTextLength> text{};
    require(query::lookup_key(name.format_text(text, true), settings.search_domain) == *name_key);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto store = make_store();
    static const query::Settings settings;
    static std::vector<std::uint8_t> out(dns::kMaxMessageSize);
    static query::Verdict verdict;

    const std::span<const std::uint8_t> request(data, size);
    for (const auto& source : kSources) {
        for (const auto transport : {dns::Transport::Udp, dns::Transport::Tcp}) {
            const query::Client client{*base::IpAddress::parse(source.address),
                                       store->find_network(source.listener).value_or(0), transport};
            check_warmer(request, client, *store, settings);
            query::handle(request, client, *store, settings, out, verdict);
            check(request, client, verdict, out);
        }
    }
    return 0;
}
