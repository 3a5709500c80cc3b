#include "dns/wire_writer.hpp"

#include <algorithm>

namespace dns {

WireWriter::WireWriter(std::span<std::uint8_t> buffer) noexcept
    : buffer_(buffer) {}

void WireWriter::write_bytes(std::span<const std::uint8_t> bytes) noexcept {
    if (reserve(bytes.size()) && !bytes.empty()) {
        std::copy(bytes.begin(), bytes.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
        pos_ += bytes.size();
    }
}

void WireWriter::patch_u16(std::size_t position, std::uint16_t value) noexcept {
    if (position > pos_ || pos_ - position < 2) {
        ok_ = false;
        return;
    }
    buffer_[position] = static_cast<std::uint8_t>(value >> 8);
    buffer_[position + 1] = static_cast<std::uint8_t>(value);
}

void WireWriter::truncate(std::size_t position) noexcept {
    // A failed write wrote nothing, so everything before `position` is intact and the writer
    // is usable again: this is how a caller undoes a record that overflowed.
    if (position <= pos_) {
        pos_ = position;
        ok_ = true;
    }
}

} // namespace dns
