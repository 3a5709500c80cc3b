#include "lifecycle/reload_worker.hpp"

#include <csignal>
#include <utility>

#include <malloc.h>
#include <pthread.h>

namespace lifecycle {

ReloadWorker::ReloadWorker(ReloadEngine& engine, Deliver deliver)
    : engine_(engine)
    , deliver_(std::move(deliver)) {}

ReloadWorker::~ReloadWorker() {
    stop();
}

void ReloadWorker::start(std::optional<ReloadClock::time_point> recheck_at) {
    recheck_at_ = recheck_at;
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &previous);
    thread_ = std::thread([this] { loop(); });
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void ReloadWorker::request() {
    {
        const std::lock_guard lock(mutex_);
        requested_ = true;
    }
    wake_.notify_one();
}

void ReloadWorker::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
}

unsigned long ReloadWorker::passes() const {
    const std::lock_guard lock(mutex_);
    return passes_;
}

void ReloadWorker::loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        const auto woken = [this] {
            return requested_ || stopping_;
        };
        if (recheck_at_) {
            wake_.wait_until(lock, *recheck_at_, woken);
        } else {
            wake_.wait(lock, woken);
        }
        if (stopping_) {
            return;
        }
        if (!requested_ && recheck_at_ && ReloadClock::now() < *recheck_at_) {
            continue; // spurious wake-up
        }
        requested_ = false;
        lock.unlock();
        // The io thread has dropped the previous pass's old tables by now.
        ::malloc_trim(0);
        PassResult result = engine_.run_pass(ReloadClock::now());
        // The old tables were freed (or will be, once the io thread drops them): give the
        // memory back so RSS does not ratchet up reload after reload.
        ::malloc_trim(0);
        lock.lock();
        ++passes_;
        recheck_at_ = result.recheck_at;
        lock.unlock();
        deliver_(std::move(result));
        lock.lock();
    }
}

} // namespace lifecycle
