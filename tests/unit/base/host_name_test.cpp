#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "base/host_name.hpp"

namespace {

TEST(PlainHostName, AcceptsLettersDigitsDashAndUnderscoreInLabelsOfOneTo63Bytes) {
    for (const std::string_view name :
         {"a", "web-1", "in-side_1", "_srv", "odd.name", "A.B.C", "0", "x--y"}) {
        EXPECT_TRUE(base::is_plain_host_name(name)) << name;
    }
    EXPECT_TRUE(base::is_plain_host_name(std::string(63, 'b')));
    EXPECT_TRUE(base::is_plain_host_name(std::string(63, 'b') + "." + std::string(63, 'c')));
    // The root: a network file's `a,,b` holds an empty name.
    EXPECT_TRUE(base::is_plain_host_name(""));
}

TEST(PlainHostName, RejectsEmptyLabelsLongLabelsLeadingDashAndOtherBytes) {
    for (const std::string_view name : {"-dash", "a.-b", "trail.", ".lead", "a..b", "bad!name",
                                        "sp ace", "caf\xc3\xa9", "a/b", "*", "a*b", "."}) {
        EXPECT_FALSE(base::is_plain_host_name(name)) << name;
    }
    EXPECT_FALSE(base::is_plain_host_name(std::string(64, 'a')));
    EXPECT_FALSE(base::is_plain_host_name("x." + std::string(64, 'a')));
    // Every byte outside the allowed set, alone and inside a label.
    for (int value = 0; value < 256; ++value) {
        const char c = static_cast<char>(value);
        const bool allowed =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        EXPECT_EQ(base::is_plain_host_name(std::string("a") + c + "b"),
                  allowed || c == '-' || c == '.')
            << value;
    }
}

} // namespace
