// dns/: sticky-error big-endian cursor over untrusted bytes (Knot's wire_ctx_t). No I/O, no asio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dns {

/// Reads big-endian integers and byte runs from a span. The first out-of-bounds read clears
/// `ok()`; after that every read returns 0 or an empty span, so a parser reads straight through
/// and checks `ok()` once. Never throws, never reads outside the span.
class WireReader {
public:
    explicit WireReader(std::span<const std::uint8_t> bytes, std::size_t position = 0) noexcept;

    std::uint8_t read_u8() noexcept;
    std::uint16_t read_u16() noexcept;
    std::uint32_t read_u32() noexcept;
    std::span<const std::uint8_t> read_bytes(std::size_t count) noexcept;
    void skip(std::size_t count) noexcept;

    /// Moves to an absolute offset; past the end fails the reader.
    void seek(std::size_t position) noexcept;

    std::size_t position() const noexcept { return pos_; }

    std::size_t remaining() const noexcept { return ok_ ? bytes_.size() - pos_ : 0; }

    bool ok() const noexcept { return ok_; }

    void fail() noexcept { ok_ = false; }

    std::span<const std::uint8_t> whole() const noexcept { return bytes_; }

private:
    bool take(std::size_t count) noexcept;

    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

} // namespace dns
