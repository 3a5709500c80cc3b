#include "config/text_input.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <unistd.h>

#include "base/error.hpp"

namespace config {

bool is_valid_utf8(std::string_view text) noexcept {
    const std::size_t size = text.size();
    std::size_t i = 0;
    while (i < size) {
        // Network files are ASCII but for the odd name: skip eight plain bytes at a time.
        constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
        std::uint64_t word = 0;
        while (size - i >= sizeof(word) &&
               (std::memcpy(&word, text.data() + i, sizeof(word)), (word & kHighBits) == 0)) {
            i += sizeof(word);
        }
        if (i >= size) {
            break;
        }
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

base::Result<std::string> read_capped(int fd, std::size_t max_size, std::size_t expected_size) {
    const base::Error too_large("more than the size limit", kTooLarge);
    std::string text;
    // Read straight into the string: one allocation for a file of the size fstat said.
    text.reserve(std::min(expected_size, max_size) + 1);
    std::array<char, std::size_t{64} * 1024> chunk{};
    for (;;) {
        const std::size_t room = text.capacity() - text.size();
        if (room > 0) {
            const std::size_t before = text.size();
            text.resize(text.capacity());
            const ssize_t got = ::read(fd, &text[before], room);
            text.resize(before + (got > 0 ? static_cast<std::size_t>(got) : 0));
            if (got > 0) {
                if (text.size() > max_size) {
                    return too_large;
                }
                continue;
            }
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got < 0) {
                return base::Error::from_errno(errno);
            }
            break;
        }
        const ssize_t got = ::read(fd, chunk.data(), chunk.size());
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return base::Error::from_errno(errno);
        }
        if (got == 0) {
            break;
        }
        const auto count = static_cast<std::size_t>(got);
        if (text.size() + count > max_size) {
            return too_large;
        }
        text.append(chunk.data(), count);
    }
    return text;
}

} // namespace config
