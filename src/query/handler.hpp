// query/: the policy, a pure function from request bytes to a verdict. Depends on dns/ and
// records/; no sockets, no asio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "base/nameserver.hpp"
#include "dns/message.hpp"
#include "dns/types.hpp"
#include "liveness/dead_set.hpp"
#include "records/record_store.hpp"

namespace query {

struct Settings {
    /// Search domain with leading and trailing dot, as aardvark normalises `-f` (default
    /// ".dns.podman."). Compared case-sensitively for the NXDOMAIN decision (contract §4.3) and
    /// stripped case-insensitively for lookups (contract §4.4).
    std::string search_domain = ".dns.podman.";
    bool no_proxy = false;          // AARDVARK_NO_PROXY was set: never forward
    bool forwarding_enabled = true; // false: what would be forwarded gets REFUSED
    /// Addresses that failed liveness probes (--probe-liveness); null when probing is off. An
    /// answer loses them only while another address of the asked family remains.
    std::shared_ptr<const liveness::DeadSet> dead_addresses;
};

struct Client {
    base::IpAddress source;
    records::NetworkId listener_network = 0; // network of the listener the query arrived on
    dns::Transport transport = dns::Transport::Udp;
};

/// Where forwarded queries go (contract §5.2).
enum class UpstreamSource {
    Container, // the container's own servers
    Network,   // its networks' servers
    Host       // the host resolv.conf servers (chosen by the forwarder, not listed here)
};

struct Verdict {
    enum class Action {
        Reply,   // send out[0, reply_size)
        Forward, // relay the request upstream (query and upstreams below)
        Drop     // send nothing
    };

    Action action = Action::Drop;
    std::size_t reply_size = 0;
    dns::Query query;    // valid for Reply (when parsed) and Forward
    bool parsed = false; // `query` holds the request's header and question
    UpstreamSource source = UpstreamSource::Host;
    std::vector<base::Nameserver> servers; // Container/Network servers, in order
};

/// What a batch's warm-up already worked out for one request (LookupWarmer::known()), so that
/// handle() does not work it out again: the requester's networks as handle() uses them, and the
/// asked name's lookup key or the reverse name's address. Valid only for the request and the
/// store it was noted with.
struct KnownLookup {
    std::span<const records::NetworkId> networks;
    std::optional<std::string_view> name_key; // a question of any type but PTR
    std::optional<base::IpAddress> reverse;   // a PTR question with a canonical reverse name
};

/// Decides what to do with one request (contract §4.3-4.7) and, for local answers, writes the
/// response into `out` (at least kMaxUdpPayload bytes for UDP, 65535 for TCP). `verdict` is
/// reused between calls so its vectors keep their capacity. `known`, when given, must be what
/// a LookupWarmer noted for this request and store; the answer is the same without it. Never
/// throws on any input.
void handle(std::span<const std::uint8_t> request, const Client& client,
            const records::RecordStore& store, const Settings& settings,
            std::span<std::uint8_t> out, Verdict& verdict,
            const KnownLookup* known = nullptr) noexcept;

} // namespace query
