// base/: a token bucket for rate-limited log output. Pure C++: no I/O; time is passed in, so the
// rules are unit-tested without sleeping. Depends on nothing but std.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace base {

/// Allows `rate` events per second on average and bursts of up to `burst` events. Events beyond
/// that are refused (and counted by the caller), never queued: a log flood must cost nothing.
class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;

    TokenBucket(double rate_per_second, double burst) noexcept
        : rate_(rate_per_second)
        , burst_(burst)
        , tokens_(burst) {}

    /// Takes one token if there is one. The first call starts with a full bucket.
    bool try_take(Clock::time_point now) noexcept {
        if (started_) {
            const double elapsed = std::chrono::duration<double>(now - last_).count();
            if (elapsed > 0) {
                tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
            }
        }
        started_ = true;
        last_ = std::max(last_, now);
        if (tokens_ < 1.0) {
            return false;
        }
        tokens_ -= 1.0;
        return true;
    }

    /// Back to a full bucket (the log was switched on again).
    void refill() noexcept {
        tokens_ = burst_;
        started_ = false;
    }

private:
    double rate_;
    double burst_;
    double tokens_;
    Clock::time_point last_{};
    bool started_ = false;
};

} // namespace base
