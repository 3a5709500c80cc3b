#include "liveness/probe_table.hpp"

#include <algorithm>
#include <utility>

namespace liveness {

const char* to_string(ProbeState state) noexcept {
    switch (state) {
    case ProbeState::Unknown:
        return "unknown";
    case ProbeState::Alive:
        return "alive";
    case ProbeState::Dead:
        return "dead";
    }
    return "unknown";
}

ProbeTable::ProbeTable(ProbeTiming timing)
    : timing_(timing) {
    timing_.misses_for_dead = std::max(timing_.misses_for_dead, 1U);
}

bool ProbeTable::set_targets(std::span<const base::IpAddress> addresses, TimePoint now) {
    std::unordered_map<base::IpAddress, Entry, base::IpAddressHash> next;
    next.reserve(addresses.size());
    for (const auto& address : addresses) {
        if (auto found = entries_.find(address); found != entries_.end()) {
            next.emplace(address, found->second);
        } else {
            next.emplace(address, Entry{.next_at = now});
        }
    }
    bool dead_left = false;
    for (const auto& [address, entry] : entries_) {
        if (entry.state == ProbeState::Dead && !next.contains(address)) {
            dead_left = true;
        }
    }
    entries_ = std::move(next);
    return dead_left;
}

std::vector<base::IpAddress> ProbeTable::due(TimePoint now) const {
    std::vector<std::pair<TimePoint, base::IpAddress>> waiting;
    for (const auto& [address, entry] : entries_) {
        if (!entry.awaiting && entry.next_at <= now) {
            waiting.emplace_back(entry.next_at, address);
        }
    }
    std::sort(waiting.begin(), waiting.end());
    std::vector<base::IpAddress> addresses;
    addresses.reserve(waiting.size());
    for (const auto& item : waiting) {
        addresses.push_back(item.second);
    }
    return addresses;
}

void ProbeTable::probe_sent(const base::IpAddress& address, TimePoint now) {
    if (auto found = entries_.find(address); found != entries_.end()) {
        found->second.awaiting = true;
        found->second.next_at = now + timing_.probe_interval;
    }
}

bool ProbeTable::probe_failed(const base::IpAddress& address, TimePoint now) {
    auto found = entries_.find(address);
    if (found == entries_.end()) {
        return false;
    }
    const bool was_dead = found->second.state == ProbeState::Dead;
    conclude(found->second, ProbeState::Unknown, now);
    return was_dead;
}

bool ProbeTable::answer_received(const base::IpAddress& address, TimePoint now) {
    auto found = entries_.find(address);
    if (found == entries_.end()) {
        return false;
    }
    const bool was_dead = found->second.state == ProbeState::Dead;
    conclude(found->second, ProbeState::Alive, now);
    return was_dead;
}

bool ProbeTable::expire(TimePoint now) {
    bool became_dead = false;
    for (auto& [address, entry] : entries_) {
        if (!entry.awaiting || entry.next_at > now) {
            continue;
        }
        entry.awaiting = false;
        ++entry.misses;
        // A dead address needs one miss to stay dead; anything else needs the full series.
        if (entry.state == ProbeState::Dead || entry.misses >= timing_.misses_for_dead) {
            became_dead = became_dead || entry.state != ProbeState::Dead;
            conclude(entry, ProbeState::Dead, now);
        } else {
            // The wait ran out just now, so the next probe of this check leaves
            // `probe_interval` after the previous one.
            entry.next_at = now;
        }
    }
    return became_dead;
}

std::optional<ProbeTable::TimePoint> ProbeTable::next_event() const {
    std::optional<TimePoint> earliest;
    for (const auto& item : entries_) {
        if (!earliest || item.second.next_at < *earliest) {
            earliest = item.second.next_at;
        }
    }
    return earliest;
}

ProbeState ProbeTable::state(const base::IpAddress& address) const {
    auto found = entries_.find(address);
    return found == entries_.end() ? ProbeState::Unknown : found->second.state;
}

std::vector<base::IpAddress> ProbeTable::dead() const {
    std::vector<base::IpAddress> addresses;
    for (const auto& [address, entry] : entries_) {
        if (entry.state == ProbeState::Dead) {
            addresses.push_back(address);
        }
    }
    return addresses;
}

void ProbeTable::conclude(Entry& entry, ProbeState state, TimePoint now) const {
    entry.state = state;
    entry.misses = 0;
    entry.awaiting = false;
    entry.next_at = now + timing_.recheck_after;
}

TokenBucket::TokenBucket(unsigned per_second)
    : emission_(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds{1}) /
                std::max(per_second, 1U))
    , tolerance_(emission_ * (std::max(per_second, 1U) - 1)) {}

bool TokenBucket::try_take(TimePoint now) noexcept {
    const TimePoint arrival = std::max(theoretical_arrival_, now);
    if (arrival - now > tolerance_) {
        return false;
    }
    theoretical_arrival_ = arrival + emission_;
    return true;
}

TokenBucket::TimePoint TokenBucket::next_available(TimePoint now) const noexcept {
    const TimePoint arrival = std::max(theoretical_arrival_, now);
    return std::max(arrival - tolerance_, now);
}

} // namespace liveness
