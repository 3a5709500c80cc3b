#include "config/text_input.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <unistd.h>

#include <fmt/format.h>

namespace config {

bool is_valid_utf8(std::string_view text) noexcept {
    const std::size_t size = text.size();
    std::size_t i = 0;
    while (i < size) {
        const auto lead = static_cast<std::uint8_t>(text[i]);
        if (lead < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        // The allowed range of the second byte excludes overlongs (E0, F0), surrogates (ED)
        // and code points above U+10FFFF (F4) (Unicode 15, table 3-7).
        std::uint8_t second_min = 0x80;
        std::uint8_t second_max = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            if (lead == 0xE0) {
                second_min = 0xA0;
            } else if (lead == 0xED) {
                second_max = 0x9F;
            }
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            if (lead == 0xF0) {
                second_min = 0x90;
            } else if (lead == 0xF4) {
                second_max = 0x8F;
            }
        } else {
            return false;
        }
        if (size - i < length) {
            return false;
        }
        const auto second = static_cast<std::uint8_t>(text[i + 1]);
        if (second < second_min || second > second_max) {
            return false;
        }
        for (std::size_t k = 2; k < length; ++k) {
            const auto next = static_cast<std::uint8_t>(text[i + k]);
            if (next < 0x80 || next > 0xBF) {
                return false;
            }
        }
        i += length;
    }
    return true;
}

ReadOutcome read_capped(int fd, std::size_t max_size) {
    ReadOutcome outcome;
    std::array<char, std::size_t{64} * 1024> chunk{};
    for (;;) {
        const ssize_t got = ::read(fd, chunk.data(), chunk.size());
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            outcome.error = errno_text(errno);
            outcome.text.clear();
            return outcome;
        }
        if (got == 0) {
            break;
        }
        const auto count = static_cast<std::size_t>(got);
        if (outcome.text.size() + count > max_size) {
            outcome.too_large = true;
            outcome.text.clear();
            outcome.text.shrink_to_fit();
            return outcome;
        }
        outcome.text.append(chunk.data(), count);
    }
    outcome.ok = true;
    return outcome;
}

std::string errno_text(int error_number) {
    std::array<char, 256> buffer{};
    // The GNU strerror_r may return a static string instead of filling the buffer.
    const char* text = ::strerror_r(error_number, buffer.data(), buffer.size());
    return fmt::format("{} (os error {})", text, error_number);
}

} // namespace config
