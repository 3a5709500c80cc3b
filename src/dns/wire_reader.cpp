#include "dns/wire_reader.hpp"

namespace dns {

WireReader::WireReader(std::span<const std::uint8_t> bytes, std::size_t position) noexcept
    : bytes_(bytes)
    , pos_(position <= bytes.size() ? position : bytes.size())
    , ok_(position <= bytes.size()) {}

bool WireReader::take(std::size_t count) noexcept {
    // Compare against what is left instead of adding to pos_, so a huge count cannot wrap.
    if (!ok_ || count > bytes_.size() - pos_) {
        ok_ = false;
        return false;
    }
    return true;
}

std::uint8_t WireReader::read_u8() noexcept {
    if (!take(1)) {
        return 0;
    }
    return bytes_[pos_++];
}

std::uint16_t WireReader::read_u16() noexcept {
    if (!take(2)) {
        return 0;
    }
    const auto value = static_cast<std::uint16_t>((bytes_[pos_] << 8) | bytes_[pos_ + 1]);
    pos_ += 2;
    return value;
}

std::uint32_t WireReader::read_u32() noexcept {
    if (!take(4)) {
        return 0;
    }
    const std::uint32_t value =
        (std::uint32_t{bytes_[pos_]} << 24) | (std::uint32_t{bytes_[pos_ + 1]} << 16) |
        (std::uint32_t{bytes_[pos_ + 2]} << 8) | std::uint32_t{bytes_[pos_ + 3]};
    pos_ += 4;
    return value;
}

std::span<const std::uint8_t> WireReader::read_bytes(std::size_t count) noexcept {
    if (!take(count)) {
        return {};
    }
    const auto run = bytes_.subspan(pos_, count);
    pos_ += count;
    return run;
}

void WireReader::skip(std::size_t count) noexcept {
    if (take(count)) {
        pos_ += count;
    }
}

void WireReader::seek(std::size_t position) noexcept {
    if (!ok_ || position > bytes_.size()) {
        ok_ = false;
        return;
    }
    pos_ = position;
}

} // namespace dns
