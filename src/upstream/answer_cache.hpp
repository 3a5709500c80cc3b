// upstream/: a bounded LRU cache of upstream answers that honours their TTLs. Pure C++ over bytes
// (dns/ does the packet inspection): no asio, no sockets; time is passed in by the caller.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/nameserver.hpp"
#include "dns/response_scan.hpp"

namespace upstream {

struct CacheSettings {
    std::size_t max_entries = 10'000;
    std::size_t max_bytes = 8U * 1024U * 1024U; // answers, keys and bookkeeping together
    std::chrono::seconds max_ttl{3600};
};

/// What a query contributes to the cache: the key, and what serving it needs.
struct CacheQuery {
    /// Upstream set, QTYPE, QCLASS, lowercased QNAME, RD/CD/AD and EDNS presence with DO: every
    /// input that can change an upstream's answer bytes, apart from the ID and the qname's case.
    std::string key;
    /// Largest answer this client takes over UDP (dns::udp_payload_limit).
    std::size_t udp_limit = 0;
};

/// Describes a cacheable query (opcode QUERY, exactly one question, no answer records, no EDNS
/// Client Subnet option); nullopt for anything else. Never throws on malformed bytes (may throw
/// bad_alloc).
std::optional<CacheQuery> describe_query(std::span<const base::Nameserver> servers,
                                         std::span<const std::uint8_t> query);

/// The TTL, in seconds, under which a response may be cached, before any cap; nullopt when it
/// must not be. NOERROR with answers: the smallest TTL of all its records. NXDOMAIN, or NOERROR
/// without answers (NODATA): RFC 2308 §5, min(SOA TTL, SOA MINIMUM) of the authority SOA, lowered
/// to the smallest TTL of the other records (a CNAME chain ending in NXDOMAIN), and no caching
/// without an SOA. Never cached: TC, other rcodes (SERVFAIL, REFUSED, ...), other opcodes,
/// not exactly one question, a message that does not fully parse, or a TTL of 0.
std::optional<std::uint32_t> cacheable_ttl(const dns::MessageScan& scan) noexcept;

class AnswerCache {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    struct Stats {
        std::uint64_t hits = 0;
        std::uint64_t misses = 0;
        std::uint64_t insertions = 0;
        std::uint64_t evictions = 0; // dropped to stay within the bounds
        std::uint64_t expirations = 0;
    };

    explicit AnswerCache(CacheSettings settings = {});

    /// Stores `response` (an accepted upstream answer) under `key` when cacheable_ttl allows,
    /// for at most max_ttl; never an answer carrying EDNS Client Subnet. A client's EDNS COOKIE is
    /// removed first: it must not reach another client. Replaces an entry with the same key; evicts
    /// least recently used entries to stay within the bounds. Returns whether it was stored.
    bool insert(const std::string& key, std::span<const std::uint8_t> response, TimePoint now);

    /// The answer for `query` (whose CacheQuery is `described`) if one is cached, fresh, and no
    /// larger than `max_size`: a copy with the query's ID, the query's qname spelling (case) and
    /// every TTL lowered by the whole seconds spent in the cache. Expired entries are removed.
    std::optional<std::vector<std::uint8_t>> lookup(const CacheQuery& described,
                                                    std::span<const std::uint8_t> query,
                                                    std::size_t max_size, TimePoint now);

    void clear() noexcept;

    /// New bounds, applied at once: entries beyond them are evicted (least recently used first);
    /// a new max_ttl applies to answers stored from now on.
    void set_settings(const CacheSettings& settings) noexcept;

    std::size_t size() const noexcept { return entries_.size(); }

    std::size_t bytes() const noexcept { return bytes_; }

    const Stats& stats() const noexcept { return stats_; }

private:
    struct Entry {
        std::string key;
        std::vector<std::uint8_t> response;
        std::vector<std::uint16_t> ttl_offsets;
        std::size_t qname_size = 0; // wire length of the question name at offset 12
        TimePoint stored_at;
        TimePoint expires_at;
        std::size_t cost = 0;
    };

    using List = std::list<Entry>;

    void erase(List::iterator entry) noexcept;
    void shrink_to(std::size_t max_entries, std::size_t max_bytes) noexcept;

    CacheSettings settings_;
    List entries_;                                               // most recently used first
    std::unordered_map<std::string_view, List::iterator> index_; // views of Entry::key
    std::size_t bytes_ = 0;
    Stats stats_;
};

} // namespace upstream
