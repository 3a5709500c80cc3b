#include <array>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "dns/header.hpp"
#include "dns/wire_reader.hpp"
#include "dns/wire_writer.hpp"

namespace dns {
namespace {

std::vector<std::uint8_t> as_vector(std::span<const std::uint8_t> bytes) {
    return {bytes.begin(), bytes.end()};
}

TEST(WireWriter, WritesBigEndian) {
    std::array<std::uint8_t, 16> buffer{};
    WireWriter writer(buffer);
    writer.write_u8(0x01);
    writer.write_u16(0x0203);
    writer.write_u32(0x04050607);
    const std::array<std::uint8_t, 2> tail = {0x08, 0x09};
    writer.write_bytes(tail);
    EXPECT_TRUE(writer.ok());
    EXPECT_EQ(writer.size(), 9u);
    EXPECT_EQ(writer.capacity(), 16u);
    EXPECT_EQ(as_vector(writer.written()), (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(WireWriter, OverflowWritesNothingAndIsSticky) {
    std::array<std::uint8_t, 5> buffer{};
    buffer.fill(0xee);
    WireWriter writer(buffer);
    writer.write_u16(0x0102);
    writer.write_u32(0x03040506); // 4 > 3 left
    EXPECT_FALSE(writer.ok());
    EXPECT_EQ(writer.size(), 2u);
    EXPECT_EQ(buffer[2], 0xee); // nothing partial was written
    writer.write_u8(0x07);      // would fit, but the writer has failed
    EXPECT_EQ(writer.size(), 2u);
    EXPECT_EQ(buffer[2], 0xee);
}

TEST(WireWriter, WriteBytesOverflow) {
    std::array<std::uint8_t, 3> buffer{};
    WireWriter writer(buffer);
    const std::array<std::uint8_t, 4> four = {1, 2, 3, 4};
    writer.write_bytes(four);
    EXPECT_FALSE(writer.ok());
    EXPECT_EQ(writer.size(), 0u);
}

TEST(WireWriter, ExactFit) {
    std::array<std::uint8_t, 4> buffer{};
    WireWriter writer(buffer);
    writer.write_u32(0xdeadbeef);
    EXPECT_TRUE(writer.ok());
    writer.write_bytes({});
    EXPECT_TRUE(writer.ok());
    writer.write_u8(0);
    EXPECT_FALSE(writer.ok());
}

TEST(WireWriter, PatchRewritesWrittenBytesOnly) {
    std::array<std::uint8_t, 8> buffer{};
    WireWriter writer(buffer);
    writer.write_u32(0);
    writer.patch_u16(2, 0xabcd);
    EXPECT_TRUE(writer.ok());
    EXPECT_EQ(as_vector(writer.written()), (std::vector<std::uint8_t>{0, 0, 0xab, 0xcd}));
    writer.patch_u16(3, 0x1111); // would cover an unwritten byte
    EXPECT_FALSE(writer.ok());
    EXPECT_EQ(buffer[3], 0xcd);
}

TEST(WireWriter, TruncateUndoesAnOverflowedRecord) {
    std::array<std::uint8_t, 6> buffer{};
    WireWriter writer(buffer);
    writer.write_u16(0x0102);
    const auto mark = writer.size();
    writer.write_u16(0x0304);
    writer.write_u32(0x05060708); // does not fit
    EXPECT_FALSE(writer.ok());
    writer.truncate(mark);
    EXPECT_TRUE(writer.ok());
    EXPECT_EQ(writer.size(), 2u);
    writer.write_u32(0x0a0b0c0d);
    EXPECT_TRUE(writer.ok());
    EXPECT_EQ(as_vector(writer.written()), (std::vector<std::uint8_t>{1, 2, 10, 11, 12, 13}));
    writer.truncate(100); // beyond what was written: no effect
    EXPECT_EQ(writer.size(), 6u);
}

TEST(Header, RoundTripAndAccessors) {
    const std::array<std::uint8_t, 12> bytes = {0xbe, 0xef, 0x91, 0xa3, 0, 1, 0, 2, 0, 3, 0, 4};
    WireReader reader(bytes);
    const Header header = Header::read(reader);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(header.id, 0xbeef);
    EXPECT_TRUE(header.is_response());
    EXPECT_TRUE(header.wants_recursion());
    EXPECT_FALSE(header.is_truncated());
    EXPECT_EQ(header.opcode(), Opcode::Status);
    EXPECT_EQ(header.rcode(), Rcode::NxDomain);
    EXPECT_EQ(header.qdcount, 1);
    EXPECT_EQ(header.ancount, 2);
    EXPECT_EQ(header.nscount, 3);
    EXPECT_EQ(header.arcount, 4);

    std::array<std::uint8_t, 12> out{};
    WireWriter writer(out);
    header.write(writer);
    EXPECT_TRUE(writer.ok());
    EXPECT_EQ(out, bytes);
}

TEST(Header, ShortInputFailsTheReader) {
    const std::array<std::uint8_t, 11> bytes{};
    WireReader reader(bytes);
    Header::read(reader);
    EXPECT_FALSE(reader.ok());
}

TEST(Header, FlagAndRcodeSetters) {
    Header header;
    header.set_flag(Header::kTc, true);
    header.set_flag(Header::kRd, true);
    header.set_rcode(Rcode::Refused);
    EXPECT_EQ(header.flags, 0x0305);
    header.set_flag(Header::kTc, false);
    header.set_rcode(Rcode::NoError);
    EXPECT_EQ(header.flags, 0x0100);
}

} // namespace
} // namespace dns
