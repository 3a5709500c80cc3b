// daemon/: runs ReloadEngine passes on a thread of their own, so the io thread keeps answering
// from the old snapshot while a reload reads and builds. SIGHUPs coalesce: one pass running, at
// most one pending. Results are handed to a callback (the daemon posts them to its io thread).
// Knows nothing of asio or sockets.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "lifecycle/reload_engine.hpp"

namespace lifecycle {

class ReloadWorker {
public:
    using Deliver = std::function<void(PassResult)>;

    /// `engine` must outlive the worker; `deliver` is called on the worker thread.
    ReloadWorker(ReloadEngine& engine, Deliver deliver);
    ~ReloadWorker();
    ReloadWorker(const ReloadWorker&) = delete;
    ReloadWorker& operator=(const ReloadWorker&) = delete;

    /// Starts the thread (with every signal blocked: signals belong to the io thread). The first
    /// pass runs at `recheck_at` if given, else on the first request().
    void start(std::optional<ReloadClock::time_point> recheck_at);

    /// Asks for a pass (any thread). A pass already asked for and not started yet absorbs it.
    void request();

    /// Ends the thread after the pass in progress, if any. Idempotent.
    void stop();

    /// Passes run so far (for tests and status).
    unsigned long passes() const;

private:
    void loop();

    ReloadEngine& engine_;
    Deliver deliver_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool requested_ = false;
    bool stopping_ = false;
    unsigned long passes_ = 0;
    std::optional<ReloadClock::time_point> recheck_at_;
    std::thread thread_;
};

} // namespace lifecycle
