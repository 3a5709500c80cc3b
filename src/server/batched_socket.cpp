#include "server/batched_socket.hpp"

#include <algorithm>
#include <cerrno>

// EWOULDBLOCK == EAGAIN on Linux (the only target); gcc rejects testing both.

#include <asio/error.hpp>

#include "base/log.hpp"

namespace server {

DatagramBatch::DatagramBatch()
    : heads_(new std::uint8_t[kSlots * kHeadSize])
    , tails_(new std::uint8_t[kSlots * (kSlotSize - kHeadSize)])
    , joined_(new std::uint8_t[kSlotSize])
    , replies_(new std::uint8_t[kSlots * kSlotSize]) {
    constexpr std::size_t kTailSize = kSlotSize - kHeadSize;
    for (std::size_t slot = 0; slot < kSlots; ++slot) {
        request_iovs_[slot][0] = iovec{heads_.get() + slot * kHeadSize, kHeadSize};
        request_iovs_[slot][1] = iovec{tails_.get() + slot * kTailSize, kTailSize};
        received_[slot].msg_hdr.msg_iov = request_iovs_[slot].data();
        received_[slot].msg_hdr.msg_iovlen = request_iovs_[slot].size();
        received_[slot].msg_hdr.msg_name = senders_[slot].data();
        offer_whole(slot);
    }
}

void DatagramBatch::offer_whole(std::size_t slot) noexcept {
    // The kernel shrinks msg_namelen to the sender's size; a slot must offer the whole storage
    // again before its next use (an IPv6 sender after an IPv4 one).
    received_[slot].msg_hdr.msg_namelen = static_cast<socklen_t>(senders_[slot].capacity());
    received_[slot].msg_hdr.msg_controllen = 0;
    received_[slot].msg_hdr.msg_flags = 0;
    received_[slot].msg_len = 0;
}

std::size_t DatagramBatch::receive(int fd, std::error_code& error) {
    error.clear();
    // Only the slots the last call filled were written by the kernel; most batches are short.
    for (std::size_t slot = 0; slot < last_received_; ++slot) {
        offer_whole(slot);
    }
    last_received_ = 0;
    int count = -1;
    do {
        count = ::recvmmsg(fd, received_.data(), kSlots, MSG_DONTWAIT, nullptr);
    } while (count < 0 && errno == EINTR);
    if (count < 0) {
        error = errno == EAGAIN ? std::error_code(asio::error::would_block)
                                : std::error_code(errno, std::system_category());
        return 0;
    }
    const auto received = static_cast<std::size_t>(count);
    last_received_ = received;
    for (std::size_t slot = 0; slot < received; ++slot) {
        senders_[slot].resize(received_[slot].msg_hdr.msg_namelen);
    }
    reply_bytes_ = 0;
    reply_count_ = 0;
    return received;
}

std::span<const std::uint8_t> DatagramBatch::request(std::size_t slot) noexcept {
    const std::size_t size = received_[slot].msg_len;
    const std::uint8_t* head = heads_.get() + slot * kHeadSize;
    if (size <= kHeadSize) {
        return {head, size};
    }
    std::copy_n(head, kHeadSize, joined_.get());
    std::copy_n(tails_.get() + slot * (kSlotSize - kHeadSize), size - kHeadSize,
                joined_.get() + kHeadSize);
    return {joined_.get(), size};
}

void DatagramBatch::queue_reply(std::size_t slot, std::size_t size) noexcept {
    if (size == 0 || size > kSlotSize || reply_count_ >= kSlots) {
        return;
    }
    reply_iovs_[reply_count_] = iovec{replies_.get() + reply_bytes_, size};
    mmsghdr& message = replies_out_[reply_count_];
    message = mmsghdr{};
    message.msg_hdr.msg_name = senders_[slot].data();
    message.msg_hdr.msg_namelen = static_cast<socklen_t>(senders_[slot].size());
    message.msg_hdr.msg_iov = &reply_iovs_[reply_count_];
    message.msg_hdr.msg_iovlen = 1;
    reply_bytes_ += size;
    ++reply_count_;
}

std::size_t DatagramBatch::flush(int fd) noexcept {
    std::size_t next = 0;
    std::size_t dropped = 0;
    while (next < reply_count_) {
        const int sent = ::sendmmsg(fd, replies_out_.data() + next,
                                    static_cast<unsigned int>(reply_count_ - next), MSG_DONTWAIT);
        if (sent > 0) {
            next += static_cast<std::size_t>(sent);
            continue;
        }
        const int error = errno;
        if (sent < 0 && error == EINTR) {
            continue;
        }
        if (sent < 0 && error == EAGAIN) {
            // A full send buffer must not stall the loop: the remaining clients retry.
            dropped += reply_count_ - next;
            base::log::debug("udp send buffer full, dropping {} replies", reply_count_ - next);
            break;
        }
        // sendmmsg stops at the first message that fails; that reply alone is lost (e.g. an
        // unreachable client), the ones after it are still sent.
        base::log::debug("udp reply: {}", std::error_code(error, std::system_category()).message());
        ++dropped;
        ++next;
    }
    reply_bytes_ = 0;
    reply_count_ = 0;
    return dropped;
}

} // namespace server
