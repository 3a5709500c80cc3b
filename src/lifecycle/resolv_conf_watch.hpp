// daemon/: an inotify watch on /etc/resolv.conf that reports changes on the event loop (contract
// §5.4 "When it is read"). asio and POSIX only; nothing from server/ or config/.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/posix/stream_descriptor.hpp>

namespace lifecycle {

/// Watches the file with IN_CLOSE_WRITE|IN_MOVED_TO as aardvark does, and calls `on_change` once
/// per batch of events read, whatever their type. Unlike aardvark, when the watched inode goes
/// away (a rename-replace of the file queues IN_IGNORED) the watch is added again on the new
/// file, so later edits keep being seen; if that fails, ensure_watch() retries (on SIGHUP).
class ResolvConfWatch : public std::enable_shared_from_this<ResolvConfWatch> {
public:
    using Callback = std::function<void()>;

    static std::shared_ptr<ResolvConfWatch> create(const asio::any_io_executor& executor,
                                                   std::string path, Callback on_change);

    ResolvConfWatch(const ResolvConfWatch&) = delete;
    ResolvConfWatch& operator=(const ResolvConfWatch&) = delete;
    ~ResolvConfWatch();

    /// Creates the inotify instance, adds the watch and starts reading. False (and logged) when
    /// inotify itself is unavailable; a missing file only leaves the watch unarmed.
    bool start();

    /// Adds the watch again if it is not armed (file was missing, or replaced and re-adding
    /// failed). Cheap when armed.
    void ensure_watch();

    void stop() noexcept;

    bool is_watching() const noexcept { return watch_ >= 0; }

private:
    ResolvConfWatch(const asio::any_io_executor& executor, std::string path, Callback on_change);

    asio::awaitable<void> read_loop(std::shared_ptr<ResolvConfWatch> self);
    bool add_watch();

    asio::posix::stream_descriptor inotify_;
    std::string path_;
    Callback on_change_;
    int watch_ = -1;
};

} // namespace lifecycle
