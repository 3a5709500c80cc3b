// liveness/: the bookkeeping behind the prober: which address to probe when, how many probes
// went unanswered, the verdicts, and the global probe rate. Pure C++ with time passed in (no
// asio, no sockets), so the schedule is unit-tested without waiting.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/ip_address.hpp"

namespace liveness {

/// What the probes have established about one address.
enum class ProbeState : std::uint8_t {
    Unknown, ///< never probed, not probed yet, or probing could not be done (fail open)
    Alive,   ///< answered a probe since the last check began
    Dead     ///< missed `misses_for_dead` probes in a row, and has not answered since
};

const char* to_string(ProbeState state) noexcept;

struct ProbeTiming {
    /// How long to wait for the answer to one probe; also the gap between probes of a check.
    std::chrono::milliseconds probe_interval{1000};
    /// Consecutive unanswered probes that make an address that was not dead dead.
    unsigned misses_for_dead = 3;
    /// How long a verdict is trusted before the address is checked again. Also the pause after
    /// a probe could not be sent.
    std::chrono::milliseconds recheck_after{30'000};
};

/// One check of an address is a series of probes `probe_interval` apart that ends at the first
/// answer (Alive) or after `misses_for_dead` misses (Dead). A Dead address is rechecked with a
/// single probe: one miss keeps it dead, an answer revives it. Between checks the verdict is
/// kept for `recheck_after`, and it stays as it was while a check is running. An answer that
/// arrives at any time (late, or unsolicited) makes the address Alive at once.
class ProbeTable {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    explicit ProbeTable(ProbeTiming timing);

    /// Makes `addresses` the targets. Kept ones keep their verdict and schedule; new ones are
    /// due at `now`. Returns true when a dead address left (the dead list changed).
    bool set_targets(std::span<const base::IpAddress> addresses, TimePoint now);

    /// The targets whose next probe is due at `now`, the longest-waiting first.
    std::vector<base::IpAddress> due(TimePoint now) const;

    /// A probe for `address` left at `now`; its answer is awaited for `probe_interval`.
    void probe_sent(const base::IpAddress& address, TimePoint now);

    /// A probe for `address` could not be sent, or its socket failed while it was awaited. Fails
    /// open: the verdict goes back to Unknown and the address is tried again after
    /// `recheck_after`. Returns true when the address was dead.
    bool probe_failed(const base::IpAddress& address, TimePoint now);

    /// An answer from `address`. Returns true when the address was dead. Ignores non-targets.
    bool answer_received(const base::IpAddress& address, TimePoint now);

    /// Counts every probe whose wait has run out by `now` as a miss. Returns true when an
    /// address became dead.
    bool expire(TimePoint now);

    /// The earliest time something is due (a probe to send or a wait that runs out).
    std::optional<TimePoint> next_event() const;

    /// Unknown for addresses that are not targets.
    ProbeState state(const base::IpAddress& address) const;

    bool is_target(const base::IpAddress& address) const { return entries_.contains(address); }

    std::size_t size() const noexcept { return entries_.size(); }

    /// The dead targets, in no particular order.
    std::vector<base::IpAddress> dead() const;

private:
    struct Entry {
        ProbeState state = ProbeState::Unknown;
        unsigned misses = 0;
        bool awaiting = false; ///< a probe is out; next_at is when its wait runs out
        TimePoint next_at{};   ///< otherwise: when the next probe is due
    };

    void conclude(Entry& entry, ProbeState state, TimePoint now) const;

    ProbeTiming timing_;
    std::unordered_map<base::IpAddress, Entry, base::IpAddressHash> entries_;
};

/// The global probe budget: at most `per_second` probes in any one second, including bursts
/// (a generic cell rate algorithm, in integer nanoseconds).
class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    /// `per_second` below 1 counts as 1.
    explicit TokenBucket(unsigned per_second);

    /// Takes one probe from the budget; false when it is used up for now.
    bool try_take(TimePoint now) noexcept;

    /// When try_take will succeed next (`now` when it would succeed already).
    TimePoint next_available(TimePoint now) const noexcept;

private:
    Clock::duration emission_;  ///< the budget refills one probe per this much time
    Clock::duration tolerance_; ///< how far ahead of the steady rate a burst may run
    TimePoint theoretical_arrival_{};
};

} // namespace liveness
