#include <cstdint>

#include <gtest/gtest.h>

#include "base/ascii.hpp"

namespace {

TEST(AsciiLower, FoldsOnlyAsciiCapitals) {
    for (int value = 0; value < 256; ++value) {
        const auto byte = static_cast<std::uint8_t>(value);
        const bool capital = value >= 'A' && value <= 'Z';
        EXPECT_EQ(base::ascii_lower(byte), capital ? value + ('a' - 'A') : value) << value;
        // The char overload follows the same rule, whatever the signedness of char.
        EXPECT_EQ(static_cast<std::uint8_t>(base::ascii_lower(static_cast<char>(byte))),
                  base::ascii_lower(byte))
            << value;
    }
}

} // namespace
