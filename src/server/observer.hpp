// server/: what the listeners tell `ctrdns status` about the queries they serve: counters by type
// and rcode, the query log that can be switched on at run time, and the self-check queries that
// prove a listener address reaches this process. Depends on dns/, records/, upstream/ values and
// base/; no asio, no sockets (the listeners call it; lifecycle/ reads it).
//
// Lives on the io thread with the listeners (no locks). Kept apart from ServeState's own limit
// counters so either can change without touching the other.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "base/nameserver.hpp"
#include "base/rate_limiter.hpp"
#include "records/record_store.hpp"

namespace server {

/// The query types counted by name; every other type is counted as "other".
inline constexpr std::array<std::uint16_t, 12> kCountedTypes = {1,  2,  5,  6,  12, 15,
                                                                16, 28, 33, 64, 65, 255};

/// "A", "AAAA", ... for the types ctrdns knows by name, else "TYPE<n>" (RFC 3597 spelling).
std::string type_name(std::uint16_t type);

/// "NOERROR", "NXDOMAIN", ... or "RCODE<n>".
std::string rcode_name(unsigned rcode);

struct QueryCounters {
    std::uint64_t queries = 0;            // datagrams and TCP messages handed to the policy
    std::uint64_t answered_locally = 0;   // replies built by ctrdns itself
    std::uint64_t forwarded = 0;          // forwards finished (answered or not)
    std::uint64_t forward_unanswered = 0; // of those, no upstream answered: no reply sent
    std::uint64_t dropped = 0;            // the policy sent nothing (responses, runt packets)
    std::uint64_t self_checks = 0;        // status self-check queries seen (not in `queries`)
    std::array<std::uint64_t, kCountedTypes.size() + 1> by_type{}; // last slot: other types
    std::array<std::uint64_t, 16> by_rcode{};                      // header RCODE of each reply

    void count_type(std::uint16_t type) noexcept;
};

/// The question type of a query, read without a full parse (a hot-path counter): nullopt when
/// the packet has no complete first question.
std::optional<std::uint16_t> peek_question_type(std::span<const std::uint8_t> request) noexcept;

/// The first question's name in presentation form, escaped as hickory prints it (safe for a log
/// line whatever bytes the client sent); "?" when unreadable.
std::string question_name(std::span<const std::uint8_t> request);

/// A and AAAA data of the answer section, at most `limit` of them; empty for anything malformed.
std::vector<base::IpAddress> answer_addresses(std::span<const std::uint8_t> reply,
                                              std::size_t limit);

/// What one query's log line needs, gathered at its start only while the log is on.
struct QueryTrace {
    std::uint16_t type = 0;
    bool typed = false;  // `type` was readable
    bool logged = false; // the log was on when the query arrived
    std::chrono::steady_clock::time_point started{};
    std::string client;  // "addr:port" or "[v6]:port"
    std::string network; // the listener's network
    std::string name;
    const char* transport = "udp";
};

/// One query log line, e.g.
/// `query client=10.89.0.2:40000 network=podman udp name=web.dns.podman. type=A rcode=NOERROR
/// answers=10.89.0.5 us=41`. `outcome` is the part after the type (rcode and answers/upstream).
std::string format_query_line(const QueryTrace& trace, std::string_view outcome,
                              std::chrono::microseconds spent);

/// The query log: off by default, switched at run time (status socket, SIGUSR1), at most
/// `rate` lines per second with bursts of `rate`; lines over the limit are counted and reported
/// as one "N query log lines suppressed" line before the next line that gets through (or when
/// the log is switched off).
class QueryLog {
public:
    static constexpr double kLinesPerSecond = 100;

    bool enabled() const noexcept { return enabled_; }

    /// Returns the lines to write now (the switch notice, a suppressed summary).
    std::vector<std::string> set_enabled(bool enabled);

    /// Writes `line` through `sink` if the rate allows; the summary of suppressed lines first.
    template <typename Sink>
    void submit(std::string line, std::chrono::steady_clock::time_point now, Sink&& sink) {
        if (!bucket_.try_take(now)) {
            ++suppressed_;
            return;
        }
        if (suppressed_ > 0) {
            sink(suppressed_text());
            suppressed_ = 0;
        }
        sink(std::move(line));
    }

    std::uint64_t suppressed() const noexcept { return suppressed_; }

private:
    std::string suppressed_text() const;

    bool enabled_ = false;
    base::TokenBucket bucket_{kLinesPerSecond, kLinesPerSecond};
    std::uint64_t suppressed_ = 0;
};

/// Queries `ctrdns status` sends to each listener address from inside the daemon. A listener
/// that receives one claims it (it is counted here, never answered or forwarded), so a probe
/// that goes unclaimed shows that the address does not reach this process.
class SelfChecks {
public:
    /// The suffix of every self-check name; random labels go in front.
    static constexpr std::string_view kSuffix = "ctrdns-self-check.invalid.";

    bool pending() const noexcept { return !pending_.empty(); }

    void add(std::uint16_t id, std::string name);

    /// True when `request` is a self-check query (then the listener must drop it): the pending
    /// entry with its ID and name is marked as seen on `listener`.
    bool claim(std::span<const std::uint8_t> request, const base::IpAddress& listener);

    /// True once a listener claimed the entry named `name`.
    bool seen(const std::string& name) const noexcept;

    /// Removes the entry and returns the listener address that saw it, if any.
    std::optional<base::IpAddress> finish(const std::string& name);

private:
    struct Pending {
        std::uint16_t id = 0;
        std::string name; // lowercase, trailing dot
        std::optional<base::IpAddress> seen_on;
    };

    std::vector<Pending> pending_;
};

class Observer {
public:
    QueryCounters counters;
    QueryLog log;
    SelfChecks self_checks;

    /// Counts the query; fills the log facts when the log is on. Its type is counted by typed().
    QueryTrace begin(std::span<const std::uint8_t> request, const base::IpAddress& client,
                     std::uint16_t client_port, records::NetworkId network,
                     const records::RecordStore& store, bool tcp);

    /// Counts the query's type, once per begin(), after the handler ran: `parsed_type` when the
    /// handler read the question (saves reading it again), else whatever of it is readable.
    void typed(QueryTrace& trace, std::span<const std::uint8_t> request,
               std::optional<std::uint16_t> parsed_type);

    /// A reply ctrdns built itself.
    void replied(const QueryTrace& trace, std::span<const std::uint8_t> reply);

    /// A forward that finished; `servers` empty means the host's resolv.conf servers.
    void forwarded(const QueryTrace& trace, std::span<const base::Nameserver> servers,
                   const std::optional<std::vector<std::uint8_t>>& reply);

    /// The policy sent nothing.
    void dropped(const QueryTrace& trace);

private:
    void write_line(const QueryTrace& trace, std::string_view outcome);
};

} // namespace server
