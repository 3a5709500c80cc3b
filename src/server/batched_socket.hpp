// server/: a batch of UDP datagrams received with one recvmmsg and answered with one sendmmsg,
// so the loop pays a few syscalls per batch instead of three per query. POSIX and asio endpoints
// only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>

#include <sys/socket.h>
#include <sys/uio.h>

#include <asio/ip/udp.hpp>

#include "dns/types.hpp"

namespace server {

/// Preallocated slots for up to kSlots datagrams and their replies. Buffers are left
/// uninitialised so only the pages the kernel and the handler actually write become resident:
/// each datagram lands in a packed kHeadSize head (queries are small) and spills into its own
/// tail only when larger, and replies are packed back to back.
class DatagramBatch {
public:
    static constexpr std::size_t kSlots = 32;
    static constexpr std::size_t kSlotSize = dns::kMaxUdpPayload;
    static constexpr std::size_t kHeadSize = 512;

    DatagramBatch();

    /// Receives up to kSlots datagrams from non-blocking `fd` without waiting. Returns how many;
    /// 0 with `error` set on failure (asio::error::would_block when nothing is queued).
    std::size_t receive(int fd, std::error_code& error);

    /// The datagram of `slot`; valid until the next call.
    std::span<const std::uint8_t> request(std::size_t slot) noexcept;

    const asio::ip::udp::endpoint& sender(std::size_t slot) const noexcept {
        return senders_[slot];
    }

    /// Room for the next reply: kSlotSize bytes, since the arena always keeps one full slot free.
    std::span<std::uint8_t> reply_space() noexcept {
        return {replies_.get() + reply_bytes_, kSlotSize};
    }

    /// Queues the first `size` bytes of reply_space() for the sender of `slot`.
    void queue_reply(std::size_t slot, std::size_t size) noexcept;

    /// Sends every queued reply without blocking; what the kernel will not take now is dropped
    /// (the client retries). Returns how many were dropped.
    std::size_t flush(int fd) noexcept;

private:
    void offer_whole(std::size_t slot) noexcept;

    std::unique_ptr<std::uint8_t[]> heads_;   // kHeadSize per slot
    std::unique_ptr<std::uint8_t[]> tails_;   // kSlotSize - kHeadSize per slot
    std::unique_ptr<std::uint8_t[]> joined_;  // one large datagram made contiguous
    std::unique_ptr<std::uint8_t[]> replies_; // packed back to back
    std::size_t reply_bytes_ = 0;
    std::size_t reply_count_ = 0;
    std::size_t last_received_ = 0; // slots the kernel wrote in the last receive()
    std::array<asio::ip::udp::endpoint, kSlots> senders_;
    std::array<std::array<iovec, 2>, kSlots> request_iovs_{};
    std::array<mmsghdr, kSlots> received_{};
    std::array<iovec, kSlots> reply_iovs_{};
    std::array<mmsghdr, kSlots> replies_out_{};
};

} // namespace server
