#include <array>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "dns/wire_reader.hpp"

namespace dns {
namespace {

constexpr std::array<std::uint8_t, 7> kBytes = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde};

TEST(WireReader, ReadsBigEndianIntegers) {
    WireReader reader(kBytes);
    EXPECT_EQ(reader.read_u8(), 0x12);
    EXPECT_EQ(reader.read_u16(), 0x3456);
    EXPECT_EQ(reader.read_u32(), 0x789abcdeu);
    EXPECT_TRUE(reader.ok());
    EXPECT_EQ(reader.position(), 7u);
    EXPECT_EQ(reader.remaining(), 0u);
}

TEST(WireReader, StartsAtTheGivenPosition) {
    WireReader reader(kBytes, 5);
    EXPECT_EQ(reader.read_u16(), 0xbcde);
    EXPECT_TRUE(reader.ok());
}

TEST(WireReader, StartPositionPastTheEndFails) {
    WireReader reader(kBytes, 8);
    EXPECT_FALSE(reader.ok());
    EXPECT_EQ(reader.read_u8(), 0);
    EXPECT_EQ(reader.remaining(), 0u);
}

TEST(WireReader, OverrunIsStickyAndReadsZero) {
    WireReader reader(kBytes);
    reader.skip(5);
    EXPECT_EQ(reader.read_u32(), 0u); // only 2 bytes left
    EXPECT_FALSE(reader.ok());
    EXPECT_EQ(reader.position(), 5u); // a failed read consumes nothing
    EXPECT_EQ(reader.remaining(), 0u);
    // Bytes are there, but the reader stays failed.
    EXPECT_EQ(reader.read_u8(), 0);
    EXPECT_EQ(reader.read_u16(), 0);
    EXPECT_TRUE(reader.read_bytes(1).empty());
    EXPECT_FALSE(reader.ok());
}

TEST(WireReader, ReadBytesReturnsAViewOfTheInput) {
    WireReader reader(kBytes);
    reader.skip(1);
    const auto run = reader.read_bytes(3);
    ASSERT_EQ(run.size(), 3u);
    EXPECT_EQ(run.data(), kBytes.data() + 1);
    EXPECT_EQ(reader.position(), 4u);
    EXPECT_TRUE(reader.read_bytes(0).empty());
    EXPECT_TRUE(reader.ok());
    EXPECT_TRUE(reader.read_bytes(4).empty());
    EXPECT_FALSE(reader.ok());
}

TEST(WireReader, HugeCountsDoNotWrap) {
    WireReader reader(kBytes, 3);
    reader.skip(std::numeric_limits<std::size_t>::max());
    EXPECT_FALSE(reader.ok());
    WireReader other(kBytes, 3);
    EXPECT_TRUE(other.read_bytes(std::numeric_limits<std::size_t>::max() - 1).empty());
    EXPECT_FALSE(other.ok());
}

TEST(WireReader, SeekWithinAndToTheEnd) {
    WireReader reader(kBytes);
    reader.seek(6);
    EXPECT_EQ(reader.read_u8(), 0xde);
    reader.seek(7);
    EXPECT_TRUE(reader.ok());
    EXPECT_EQ(reader.remaining(), 0u);
    reader.seek(0);
    EXPECT_EQ(reader.read_u8(), 0x12);
}

TEST(WireReader, SeekPastTheEndFails) {
    WireReader reader(kBytes);
    reader.seek(8);
    EXPECT_FALSE(reader.ok());
    reader.seek(0); // sticky: a later valid seek does not revive it
    EXPECT_FALSE(reader.ok());
    EXPECT_EQ(reader.read_u8(), 0);
}

TEST(WireReader, ExplicitFailAndWhole) {
    WireReader reader(kBytes);
    EXPECT_EQ(reader.whole().data(), kBytes.data());
    EXPECT_EQ(reader.whole().size(), kBytes.size());
    reader.fail();
    EXPECT_FALSE(reader.ok());
    EXPECT_EQ(reader.read_u8(), 0);
}

TEST(WireReader, EmptyInput) {
    WireReader reader(std::span<const std::uint8_t>{});
    EXPECT_TRUE(reader.ok());
    EXPECT_EQ(reader.read_u8(), 0);
    EXPECT_FALSE(reader.ok());
}

} // namespace
} // namespace dns
