#include "lifecycle/resolv_conf_watch.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <exception>
#include <utility>

#include <sys/inotify.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include "base/error.hpp"
#include "base/log.hpp"

namespace lifecycle {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO;

/// True when the batch holds IN_IGNORED (the watch is gone). Reads the variable-length records
/// with bounds checks; a truncated tail is ignored.
bool contains_watch_removal(const std::byte* data, std::size_t size) {
    std::size_t offset = 0;
    while (size - offset >= sizeof(inotify_event)) {
        inotify_event event{};
        std::memcpy(&event, data + offset, sizeof(event));
        if ((event.mask & IN_IGNORED) != 0) {
            return true;
        }
        offset += sizeof(inotify_event);
        if (event.len > size - offset) {
            break;
        }
        offset += event.len;
    }
    return false;
}

} // namespace

std::shared_ptr<ResolvConfWatch> ResolvConfWatch::create(const asio::any_io_executor& executor,
                                                         std::string path, Callback on_change) {
    return std::shared_ptr<ResolvConfWatch>(
        new ResolvConfWatch(executor, std::move(path), std::move(on_change)));
}

ResolvConfWatch::ResolvConfWatch(const asio::any_io_executor& executor, std::string path,
                                 Callback on_change)
    : inotify_(executor)
    , path_(std::move(path))
    , on_change_(std::move(on_change)) {}

ResolvConfWatch::~ResolvConfWatch() {
    stop();
}

bool ResolvConfWatch::start() {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        base::log::error("failed to watch {}: inotify: {}", path_, base::os_error_text(errno));
        return false;
    }
    std::error_code error;
    inotify_.assign(fd, error);
    if (error) {
        ::close(fd);
        base::log::error("failed to watch {}: {}", path_, error.message());
        return false;
    }
    add_watch();
    asio::co_spawn(inotify_.get_executor(), read_loop(shared_from_this()), asio::detached);
    return true;
}

bool ResolvConfWatch::add_watch() {
    const int watch = ::inotify_add_watch(inotify_.native_handle(), path_.c_str(), kWatchMask);
    if (watch < 0) {
        watch_ = -1;
        base::log::warn("failed to watch {}: {}", path_, base::os_error_text(errno));
        return false;
    }
    watch_ = watch;
    return true;
}

void ResolvConfWatch::ensure_watch() {
    if (inotify_.is_open() && watch_ < 0 && add_watch()) {
        base::log::info("watching {} again", path_);
    }
}

void ResolvConfWatch::stop() noexcept {
    std::error_code ignored;
    inotify_.close(ignored);
    watch_ = -1;
}

asio::awaitable<void>
ResolvConfWatch::read_loop([[maybe_unused]] std::shared_ptr<ResolvConfWatch> self) {
    // Room for many events; inotify never splits one event across reads.
    alignas(inotify_event) std::array<std::byte, 4096> buffer{};
    while (inotify_.is_open()) {
        auto [error] =
            co_await inotify_.async_wait(asio::posix::descriptor_base::wait_read, kUseTuple);
        if (error) {
            if (error != asio::error::operation_aborted) {
                base::log::error("watch on {} ended: {}", path_, error.message());
            }
            break;
        }
        const ssize_t got = ::read(inotify_.native_handle(), buffer.data(), buffer.size());
        if (got < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            base::log::error("watch on {} ended: {}", path_, base::os_error_text(errno));
            break;
        }
        try {
            if (contains_watch_removal(buffer.data(), static_cast<std::size_t>(got))) {
                // The inode we watched is gone (file replaced by rename, or deleted).
                watch_ = -1;
                if (add_watch()) {
                    base::log::info("{} was replaced; watching the new file", path_);
                }
            }
            on_change_();
        } catch (const std::exception& e) {
            base::log::error("handling a change of {} failed: {}", path_, e.what());
        }
    }
}

} // namespace lifecycle
