#include "server/observer.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "base/log.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"

namespace server {
namespace {

constexpr std::array<const char*, kCountedTypes.size()> kTypeNames = {
    "A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "SVCB", "HTTPS", "ANY"};

constexpr std::array<const char*, 11> kRcodeNames = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                     "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                     "NXRRSET", "NOTAUTH", "NOTZONE"};

std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::size_t at) noexcept {
    return static_cast<std::uint16_t>((bytes[at] << 8U) | bytes[at + 1]);
}

/// Skips a possibly compressed name; nullopt when it runs past the end.
std::optional<std::size_t> skip_name(std::span<const std::uint8_t> bytes, std::size_t at) noexcept {
    for (std::size_t labels = 0; labels <= dns::kMaxLabels; ++labels) {
        if (at >= bytes.size()) {
            return std::nullopt;
        }
        const std::uint8_t length = bytes[at];
        if (length == 0) {
            return at + 1;
        }
        if ((length & 0xC0U) == 0xC0U) {
            return at + 2 <= bytes.size() ? std::optional<std::size_t>(at + 2) : std::nullopt;
        }
        if ((length & 0xC0U) != 0) {
            return std::nullopt;
        }
        at += 1U + length;
    }
    return std::nullopt;
}

std::string endpoint_text(const base::IpAddress& address, std::uint16_t port) {
    return address.to_endpoint_string(port);
}

std::uint8_t header_rcode(std::span<const std::uint8_t> reply) noexcept {
    return reply.size() >= dns::kHeaderSize ? static_cast<std::uint8_t>(reply[3] & 0x0FU) : 0;
}

} // namespace

std::string type_name(std::uint16_t type) {
    for (std::size_t i = 0; i < kCountedTypes.size(); ++i) {
        if (kCountedTypes[i] == type) {
            return kTypeNames[i];
        }
    }
    return fmt::format("TYPE{}", type);
}

std::string rcode_name(unsigned rcode) {
    return rcode < kRcodeNames.size() ? std::string(kRcodeNames[rcode])
                                      : fmt::format("RCODE{}", rcode);
}

void QueryCounters::count_type(std::uint16_t type) noexcept {
    const auto found = std::find(kCountedTypes.begin(), kCountedTypes.end(), type);
    ++by_type[static_cast<std::size_t>(found - kCountedTypes.begin())];
}

std::optional<std::uint16_t> peek_question_type(std::span<const std::uint8_t> request) noexcept {
    if (request.size() < dns::kHeaderSize || read_u16(request, 4) == 0) {
        return std::nullopt;
    }
    const std::optional<std::size_t> end = skip_name(request, dns::kHeaderSize);
    if (!end || *end + 4 > request.size()) {
        return std::nullopt;
    }
    return read_u16(request, *end);
}

std::string question_name(std::span<const std::uint8_t> request) {
    dns::Query query;
    if (dns::parse_query(request, query) != dns::ParseStatus::Ok) {
        return "?";
    }
    std::array<char, dns::kMaxNameTextLength> buffer{};
    return std::string(query.question.name.format_text(buffer, false));
}

std::vector<base::IpAddress> answer_addresses(std::span<const std::uint8_t> reply,
                                              std::size_t limit) {
    std::vector<base::IpAddress> addresses;
    if (reply.size() < dns::kHeaderSize) {
        return addresses;
    }
    std::size_t at = dns::kHeaderSize;
    for (unsigned question = read_u16(reply, 4); question > 0; --question) {
        const std::optional<std::size_t> end = skip_name(reply, at);
        if (!end || *end + 4 > reply.size()) {
            return {};
        }
        at = *end + 4;
    }
    for (unsigned answer = read_u16(reply, 6); answer > 0 && addresses.size() < limit; --answer) {
        const std::optional<std::size_t> end = skip_name(reply, at);
        if (!end || *end + 10 > reply.size()) {
            return addresses;
        }
        const std::uint16_t type = read_u16(reply, *end);
        const std::size_t data_size = read_u16(reply, *end + 8);
        const std::size_t data = *end + 10;
        if (data + data_size > reply.size()) {
            return addresses;
        }
        if ((type == 1 && data_size == 4) || (type == 28 && data_size == 16)) {
            if (auto address = base::IpAddress::from_bytes(reply.subspan(data, data_size))) {
                addresses.push_back(*address);
            }
        }
        at = data + data_size;
    }
    return addresses;
}

std::string format_query_line(const QueryTrace& trace, std::string_view outcome,
                              std::chrono::microseconds spent) {
    return fmt::format("query client={} network={} {} name={} type={} {} us={}", trace.client,
                       trace.network, trace.transport, trace.name,
                       trace.typed ? type_name(trace.type) : std::string("?"), outcome,
                       spent.count());
}

std::vector<std::string> QueryLog::set_enabled(bool enabled) {
    std::vector<std::string> lines;
    if (enabled == enabled_) {
        return lines;
    }
    if (!enabled && suppressed_ > 0) {
        lines.push_back(suppressed_text());
        suppressed_ = 0;
    }
    enabled_ = enabled;
    bucket_.refill();
    lines.push_back(enabled ? "query log on" : "query log off");
    return lines;
}

std::string QueryLog::suppressed_text() const {
    return fmt::format("query log: {} line(s) suppressed (over {} lines/s)", suppressed_,
                       kLinesPerSecond);
}

void SelfChecks::add(std::uint16_t id, std::string name) {
    pending_.push_back(Pending{id, std::move(name), std::nullopt});
}

bool SelfChecks::claim(std::span<const std::uint8_t> request, const base::IpAddress& listener) {
    dns::Query query;
    if (dns::parse_query(request, query) != dns::ParseStatus::Ok) {
        return false;
    }
    std::array<char, dns::kMaxNameTextLength> buffer{};
    const std::string_view name = query.question.name.format_text(buffer, true);
    if (!name.ends_with(kSuffix)) {
        return false;
    }
    for (Pending& entry : pending_) {
        if (entry.id == query.header.id && entry.name == name && !entry.seen_on) {
            entry.seen_on = listener;
        }
    }
    return true;
}

bool SelfChecks::seen(const std::string& name) const noexcept {
    return std::any_of(pending_.begin(), pending_.end(), [&](const Pending& entry) {
        return entry.name == name && entry.seen_on.has_value();
    });
}

std::optional<base::IpAddress> SelfChecks::finish(const std::string& name) {
    const auto found = std::find_if(pending_.begin(), pending_.end(),
                                    [&](const Pending& entry) { return entry.name == name; });
    if (found == pending_.end()) {
        return std::nullopt;
    }
    std::optional<base::IpAddress> seen = found->seen_on;
    pending_.erase(found);
    return seen;
}

QueryTrace Observer::begin(std::span<const std::uint8_t> request, const base::IpAddress& client,
                           std::uint16_t client_port, records::NetworkId network,
                           const records::RecordStore& store, bool tcp) {
    QueryTrace trace;
    ++counters.queries;
    if (!log.enabled()) {
        return trace;
    }
    trace.logged = true;
    trace.started = std::chrono::steady_clock::now();
    trace.client = endpoint_text(client, client_port);
    const auto networks = store.networks();
    trace.network = network < networks.size() ? networks[network].name : std::string("?");
    trace.name = question_name(request);
    trace.transport = tcp ? "tcp" : "udp";
    return trace;
}

void Observer::typed(QueryTrace& trace, std::span<const std::uint8_t> request,
                     std::optional<std::uint16_t> parsed_type) {
    const std::optional<std::uint16_t> type =
        parsed_type ? parsed_type : peek_question_type(request);
    if (type) {
        trace.type = *type;
        trace.typed = true;
        counters.count_type(*type);
    }
}

void Observer::replied(const QueryTrace& trace, std::span<const std::uint8_t> reply) {
    ++counters.answered_locally;
    const std::uint8_t rcode = header_rcode(reply);
    ++counters.by_rcode[rcode];
    if (!trace.logged) {
        return;
    }
    std::string outcome = fmt::format("rcode={}", rcode_name(rcode));
    const std::vector<base::IpAddress> addresses = answer_addresses(reply, 16);
    if (!addresses.empty()) {
        outcome += " answers=";
        for (std::size_t i = 0; i < addresses.size(); ++i) {
            outcome += (i == 0 ? "" : ",") + addresses[i].to_string();
        }
    }
    write_line(trace, outcome);
}

void Observer::forwarded(const QueryTrace& trace, std::span<const base::Nameserver> servers,
                         const std::optional<std::vector<std::uint8_t>>& reply) {
    ++counters.forwarded;
    if (reply) {
        ++counters.by_rcode[header_rcode(*reply)];
    } else {
        ++counters.forward_unanswered;
    }
    if (!trace.logged) {
        return;
    }
    std::string upstreams;
    for (const base::Nameserver& server : servers) {
        upstreams += (upstreams.empty() ? "" : ",") + base::to_string(server);
    }
    if (upstreams.empty()) {
        upstreams = "host"; // resolv.conf servers, chosen by the forwarder
    }
    write_line(
        trace,
        reply ? fmt::format("rcode={} upstream={}", rcode_name(header_rcode(*reply)), upstreams)
              : fmt::format("rcode=none upstream={} (no upstream answered)", upstreams));
}

void Observer::dropped(const QueryTrace& trace) {
    ++counters.dropped;
    if (trace.logged) {
        write_line(trace, "rcode=none (dropped)");
    }
}

void Observer::write_line(const QueryTrace& trace, std::string_view outcome) {
    const auto now = std::chrono::steady_clock::now();
    const auto spent = std::chrono::duration_cast<std::chrono::microseconds>(now - trace.started);
    // The log was switched on explicitly: its lines are written whatever RUST_LOG says.
    log.submit(format_query_line(trace, outcome, spent), now,
               [](const std::string& line) { base::log::write(base::log::Level::Info, line); });
}

} // namespace server
