#include "upstream/health.hpp"

#include <algorithm>

namespace upstream {

HealthTracker::HealthTracker(HealthSettings settings)
    : settings_(settings) {}

void HealthTracker::order(std::span<const base::Nameserver> servers,
                          std::vector<std::size_t>& indexes) const {
    indexes.clear();
    for (std::size_t i = 0; i < servers.size(); ++i) {
        if (!is_down(servers[i])) {
            indexes.push_back(i);
        }
    }
    for (std::size_t i = 0; i < servers.size(); ++i) {
        if (is_down(servers[i])) {
            indexes.push_back(i);
        }
    }
}

bool HealthTracker::is_down(const base::Nameserver& server) const {
    return down_.contains(server);
}

bool HealthTracker::record_failure(const base::Nameserver& server, TimePoint now) {
    const auto found = down_.find(server);
    if (found == down_.end()) {
        make_room();
        Down& entry = down_[server];
        entry.failures = 1;
        entry.backoff = std::min(settings_.first_backoff, settings_.max_backoff);
        entry.retry_at = now + entry.backoff;
        return true;
    }
    Down& entry = found->second;
    if (now < entry.retry_at) {
        return false;
    }
    // The back-off ran out and the server failed again: wait twice as long before the next try.
    ++entry.failures;
    entry.backoff = std::min(entry.backoff * 2, settings_.max_backoff);
    entry.retry_at = now + entry.backoff;
    return false;
}

bool HealthTracker::record_success(const base::Nameserver& server) {
    return down_.erase(server) > 0;
}

bool HealthTracker::start_probe(const base::Nameserver& server, TimePoint now) {
    const auto found = down_.find(server);
    if (found == down_.end() || now < found->second.retry_at) {
        return false;
    }
    Down& entry = found->second;
    if (entry.probe_started && now - *entry.probe_started < settings_.probe_timeout) {
        return false;
    }
    entry.probe_started = now;
    return true;
}

bool HealthTracker::probe_finished(const base::Nameserver& server, bool answered, TimePoint now) {
    if (answered) {
        return record_success(server);
    }
    const auto found = down_.find(server);
    if (found == down_.end()) {
        return false; // a real query proved it healthy meanwhile
    }
    found->second.probe_started.reset();
    record_failure(server, now);
    return false;
}

std::optional<HealthTracker::TimePoint>
HealthTracker::retry_time(const base::Nameserver& server) const {
    const auto found = down_.find(server);
    if (found == down_.end()) {
        return std::nullopt;
    }
    return found->second.retry_at;
}

std::vector<HealthTracker::DownServer> HealthTracker::down_servers() const {
    std::vector<DownServer> servers;
    servers.reserve(down_.size());
    for (const auto& [server, down] : down_) {
        servers.push_back(DownServer{server, down.failures, down.retry_at});
    }
    return servers;
}

void HealthTracker::set_settings(HealthSettings settings) {
    settings_ = settings;
    while (down_.size() > settings_.max_tracked) {
        forget_soonest();
    }
}

void HealthTracker::make_room() {
    if (down_.size() < settings_.max_tracked || down_.empty()) {
        return;
    }
    forget_soonest();
}

void HealthTracker::forget_soonest() {
    const auto soonest =
        std::min_element(down_.begin(), down_.end(), [](const auto& left, const auto& right) {
            return left.second.retry_at < right.second.retry_at;
        });
    down_.erase(soonest);
}

} // namespace upstream
