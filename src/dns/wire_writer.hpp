// dns/: bounded big-endian writer into a caller-owned buffer. No I/O, no asio, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dns {

/// Writes into a fixed buffer. A write that does not fit clears `ok()` and writes nothing; later
/// writes are ignored. `patch_u16` rewrites an already written position (counts, RDLENGTH).
class WireWriter {
public:
    explicit WireWriter(std::span<std::uint8_t> buffer) noexcept;

    // The fixed-size writes are in the header: a reply is built from dozens of them, and GCC
    // did not inline them across translation units even with LTO.
    void write_u8(std::uint8_t value) noexcept {
        if (reserve(1)) {
            buffer_[pos_++] = value;
        }
    }

    void write_u16(std::uint16_t value) noexcept {
        if (reserve(2)) {
            buffer_[pos_] = static_cast<std::uint8_t>(value >> 8);
            buffer_[pos_ + 1] = static_cast<std::uint8_t>(value);
            pos_ += 2;
        }
    }

    void write_u32(std::uint32_t value) noexcept {
        if (reserve(4)) {
            buffer_[pos_] = static_cast<std::uint8_t>(value >> 24);
            buffer_[pos_ + 1] = static_cast<std::uint8_t>(value >> 16);
            buffer_[pos_ + 2] = static_cast<std::uint8_t>(value >> 8);
            buffer_[pos_ + 3] = static_cast<std::uint8_t>(value);
            pos_ += 4;
        }
    }

    void write_bytes(std::span<const std::uint8_t> bytes) noexcept;
    void patch_u16(std::size_t position, std::uint16_t value) noexcept;

    /// Drops everything written after `position` and clears a failure, since a failed write
    /// wrote nothing (used to undo a record that did not fit). No effect past `size()`.
    void truncate(std::size_t position) noexcept;

    std::size_t size() const noexcept { return pos_; }

    std::size_t capacity() const noexcept { return buffer_.size(); }

    bool ok() const noexcept { return ok_; }

    std::span<std::uint8_t> written() const noexcept { return buffer_.first(pos_); }

private:
    bool reserve(std::size_t count) noexcept {
        // Compare against the room left so a huge count cannot wrap pos_ + count.
        if (!ok_ || count > buffer_.size() - pos_) {
            ok_ = false;
            return false;
        }
        return true;
    }

    std::span<std::uint8_t> buffer_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

} // namespace dns
