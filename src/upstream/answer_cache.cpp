#include "upstream/answer_cache.hpp"

#include <algorithm>
#include <limits>

#include "base/ascii.hpp"
#include "dns/header.hpp"
#include "dns/types.hpp"

namespace upstream {

namespace {

// List node, map node and vector headers of one entry, roughly; keeps the byte bound honest
// for caches of many tiny answers.
constexpr std::size_t kEntryOverhead = 160;

constexpr std::uint16_t kKeyFlags = dns::Header::kRd | dns::Header::kCd | dns::Header::kAd;

void append_u16(std::string& out, std::uint16_t value) {
    out.push_back(static_cast<char>(value >> 8));
    out.push_back(static_cast<char>(value & 0xff));
}

void append_u32(std::string& out, std::uint32_t value) {
    append_u16(out, static_cast<std::uint16_t>(value >> 16));
    append_u16(out, static_cast<std::uint16_t>(value & 0xffff));
}

// Wire length of the first question's name when it is stored uncompressed at offset 12, which is
// what lets a cached answer take another client's spelling of the name byte for byte.
std::size_t inline_qname_size(const dns::MessageScan& scan) noexcept {
    if (!scan.question || scan.header.qdcount != 1) {
        return 0;
    }
    const std::size_t wire_size = scan.question->name.wire().size();
    return scan.question_end == dns::kHeaderSize + wire_size + 4 ? wire_size : 0;
}

} // namespace

std::optional<CacheQuery> describe_query(std::span<const base::Nameserver> servers,
                                         std::span<const std::uint8_t> query) {
    dns::MessageScan scan;
    if (!dns::scan_message(query, scan) || !scan.complete || !scan.question) {
        return std::nullopt;
    }
    const dns::Header& header = scan.header;
    if (header.is_response() || header.opcode() != dns::Opcode::Query || header.qdcount != 1 ||
        header.ancount != 0 || header.nscount != 0) {
        return std::nullopt;
    }
    // EDNS Client Subnet asks for an answer tailored to one client's network: it must not be
    // served to others, and is passed through uncached (docs/forwarding.md).
    if (dns::has_edns_option(query, scan, dns::kEdnsOptionClientSubnet)) {
        return std::nullopt;
    }

    CacheQuery described;
    std::string& key = described.key;
    const auto name = scan.question->name.wire();
    key.reserve(2 + servers.size() * 23 + 10 + name.size());
    append_u16(key, static_cast<std::uint16_t>(std::min<std::size_t>(servers.size(), 0xffff)));
    for (const base::Nameserver& server : servers) {
        const auto address = server.address.bytes();
        key.push_back(static_cast<char>(address.size()));
        key.append(address.begin(), address.end());
        append_u32(key, server.scope_id);
        append_u16(key, server.port);
    }
    append_u16(key, static_cast<std::uint16_t>(header.flags & kKeyFlags));
    if (scan.edns) {
        key.push_back(static_cast<char>(scan.edns->dnssec_ok() ? 2 : 1));
        key.push_back(static_cast<char>(scan.edns->version));
    } else {
        key.push_back(0);
        key.push_back(0);
    }
    append_u16(key, scan.question->type);
    append_u16(key, scan.question->klass);
    for (const std::uint8_t byte : name) {
        key.push_back(static_cast<char>(base::ascii_lower(byte)));
    }

    described.udp_limit = dns::udp_payload_limit(scan.edns);
    return described;
}

std::optional<std::uint32_t> cacheable_ttl(const dns::MessageScan& scan) noexcept {
    const dns::Header& header = scan.header;
    if (!scan.complete || !header.is_response() || header.is_truncated() ||
        header.opcode() != dns::Opcode::Query || header.qdcount != 1 || !scan.question ||
        (scan.edns && scan.edns->extended_rcode != 0)) {
        return std::nullopt;
    }
    std::optional<std::uint32_t> ttl;
    if (header.rcode() == dns::Rcode::NoError && header.ancount > 0) {
        ttl = scan.min_ttl;
    } else if (header.rcode() == dns::Rcode::NxDomain ||
               (header.rcode() == dns::Rcode::NoError && header.ancount == 0)) {
        ttl = scan.negative_ttl;
        // A CNAME chain ending in NXDOMAIN: the chain's own records expire no later.
        if (ttl && scan.min_ttl && *scan.min_ttl < *ttl) {
            ttl = scan.min_ttl;
        }
    }
    if (!ttl || *ttl == 0) {
        return std::nullopt;
    }
    return ttl;
}

AnswerCache::AnswerCache(CacheSettings settings)
    : settings_(settings) {}

bool AnswerCache::insert(const std::string& key, std::span<const std::uint8_t> response,
                         TimePoint now) {
    std::vector<std::uint16_t> offsets(dns::max_record_count(response.size()));
    dns::MessageScan scan;
    if (!dns::scan_message(response, scan, offsets)) {
        return false;
    }
    const auto ttl = cacheable_ttl(scan);
    if (!ttl) {
        return false;
    }
    // Scoped to the network of whoever asked (RFC 7871 §7.3.1): not for every client.
    if (dns::has_edns_option(response, scan, dns::kEdnsOptionClientSubnet)) {
        return false;
    }

    std::vector<std::uint8_t> stored(response.begin(), response.end());
    if (scan.edns) {
        // The COOKIE echoes the asking client's cookie (RFC 7873): another client would see a
        // mismatch, so the cached copy carries none, as from a server without cookie support.
        std::vector<std::uint8_t> stripped(response.size());
        const std::size_t size =
            dns::copy_without_edns_option(response, scan, dns::kEdnsOptionCookie, stripped);
        if (size == 0) {
            return false;
        }
        if (size != response.size()) {
            stripped.resize(size);
            stored = std::move(stripped);
            if (!dns::scan_message(stored, scan, offsets) || !scan.complete) {
                return false;
            }
        }
    }
    if (scan.ttl_count > offsets.size()) {
        return false; // unreachable: offsets is sized for the most records the bytes can hold
    }
    offsets.resize(scan.ttl_count);
    offsets.shrink_to_fit();

    const std::size_t cost =
        stored.size() + offsets.size() * sizeof(std::uint16_t) + key.size() * 2 + kEntryOverhead;
    if (cost > settings_.max_bytes || settings_.max_entries == 0) {
        return false;
    }
    if (const auto existing = index_.find(key); existing != index_.end()) {
        erase(existing->second);
    }

    const auto lifetime =
        std::min<std::chrono::seconds>(std::chrono::seconds{*ttl}, settings_.max_ttl);
    entries_.push_front(Entry{.key = key,
                              .response = std::move(stored),
                              .ttl_offsets = std::move(offsets),
                              .qname_size = inline_qname_size(scan),
                              .stored_at = now,
                              .expires_at = now + lifetime,
                              .cost = cost});
    index_.emplace(entries_.front().key, entries_.begin());
    bytes_ += cost;
    ++stats_.insertions;
    shrink_to(settings_.max_entries, settings_.max_bytes);
    return true;
}

std::optional<std::vector<std::uint8_t>> AnswerCache::lookup(const CacheQuery& described,
                                                             std::span<const std::uint8_t> query,
                                                             std::size_t max_size, TimePoint now) {
    const auto found = index_.find(described.key);
    if (found == index_.end()) {
        ++stats_.misses;
        return std::nullopt;
    }
    const auto entry = found->second;
    if (now >= entry->expires_at) {
        erase(entry);
        ++stats_.expirations;
        ++stats_.misses;
        return std::nullopt;
    }
    if (entry->response.size() > max_size) {
        ++stats_.misses;
        return std::nullopt;
    }
    entries_.splice(entries_.begin(), entries_, entry);

    std::vector<std::uint8_t> answer = entry->response;
    dns::set_message_id(answer, dns::message_id(query));
    const std::size_t qname_end = dns::kHeaderSize + entry->qname_size;
    if (entry->qname_size > 0 && query.size() >= qname_end && answer.size() >= qname_end) {
        const auto asked = query.subspan(dns::kHeaderSize, entry->qname_size);
        const auto cached = std::span(answer).subspan(dns::kHeaderSize, entry->qname_size);
        if (std::equal(asked.begin(), asked.end(), cached.begin(),
                       [](std::uint8_t a, std::uint8_t b) {
                           return base::ascii_lower(a) == base::ascii_lower(b);
                       })) {
            std::copy(asked.begin(), asked.end(), cached.begin());
        }
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - entry->stored_at);
    const auto elapsed_seconds = static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(elapsed.count(), 0, std::numeric_limits<std::uint32_t>::max()));
    dns::age_ttls(answer, entry->ttl_offsets, elapsed_seconds);
    ++stats_.hits;
    return answer;
}

void AnswerCache::clear() noexcept {
    index_.clear();
    entries_.clear();
    bytes_ = 0;
}

void AnswerCache::erase(List::iterator entry) noexcept {
    index_.erase(entry->key);
    bytes_ -= entry->cost;
    entries_.erase(entry);
}

void AnswerCache::set_settings(const CacheSettings& settings) noexcept {
    settings_ = settings;
    shrink_to(settings_.max_entries, settings_.max_bytes);
}

void AnswerCache::shrink_to(std::size_t max_entries, std::size_t max_bytes) noexcept {
    while (!entries_.empty() && (entries_.size() > max_entries || bytes_ > max_bytes)) {
        erase(std::prev(entries_.end()));
        ++stats_.evictions;
    }
}

} // namespace upstream
