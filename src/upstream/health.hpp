// upstream/: memory of upstream resolvers that stopped answering, so one dead resolver does not
// add its whole budget to every lookup. Pure C++: no asio, no sockets; time is passed in.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/nameserver.hpp"

namespace upstream {

struct HealthSettings {
    std::chrono::milliseconds first_backoff{30'000};
    std::chrono::milliseconds max_backoff{300'000};
    /// A probe without a verdict for this long is presumed lost, and another may start.
    std::chrono::milliseconds probe_timeout{30'000};
    /// Servers remembered as down at most; beyond it the one closest to its retry is forgotten.
    std::size_t max_tracked = 1024;
};

/// A server that timed out or failed is "down": it is tried after every server that is not, and
/// stays down for a back-off period (first_backoff, doubling per further failure up to
/// max_backoff). Once the back-off has run out, one background probe may test it
/// (start_probe/probe_finished); any response makes it healthy again, and so does a response to
/// a real query that reached it as a last resort. Only down servers are stored.
class HealthTracker {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    explicit HealthTracker(HealthSettings settings = {});

    /// New settings from now on: the next failure, probe and back-off use them; a smaller
    /// max_tracked forgets the servers closest to their retry at once.
    void set_settings(HealthSettings settings);

    /// Fills `indexes` with the positions of `servers` in the order to try them: servers that
    /// are not down first, then down ones, each group in the given order.
    void order(std::span<const base::Nameserver> servers, std::vector<std::size_t>& indexes) const;

    bool is_down(const base::Nameserver& server) const;

    /// A timeout or transport failure. Returns true when it marked an up server down, so the
    /// caller logs the transition once. A failure within the current back-off period changes
    /// nothing: many concurrent queries timing out on the same server count as one.
    bool record_failure(const base::Nameserver& server, TimePoint now);

    /// Any response. Returns true when the server was down (it has recovered).
    bool record_success(const base::Nameserver& server);

    /// True when `server` is down, its back-off has run out and no probe is testing it; the
    /// caller must then send one probe and report it through probe_finished.
    bool start_probe(const base::Nameserver& server, TimePoint now);

    /// Returns true when an answered probe brought the server back.
    bool probe_finished(const base::Nameserver& server, bool answered, TimePoint now);

    /// When a down server may be probed next (nullopt: not down).
    std::optional<TimePoint> retry_time(const base::Nameserver& server) const;

    std::size_t down_count() const noexcept { return down_.size(); }

    /// One down server as `ctrdns status` shows it.
    struct DownServer {
        base::Nameserver server;
        unsigned failures = 0;
        TimePoint retry_at{};
    };

    /// Every server currently down, in no particular order.
    std::vector<DownServer> down_servers() const;

    void clear() noexcept { down_.clear(); }

private:
    struct Down {
        unsigned failures = 0;
        std::chrono::milliseconds backoff{0};
        TimePoint retry_at{};
        std::optional<TimePoint> probe_started;
    };

    void make_room();
    void forget_soonest(); // the down server closest to its retry; down_ must not be empty

    HealthSettings settings_;
    std::unordered_map<base::Nameserver, Down, base::NameserverHash> down_;
};

} // namespace upstream
