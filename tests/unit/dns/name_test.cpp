#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "dns/name.hpp"
#include "dns/wire_reader.hpp"
#include "dns/wire_writer.hpp"
#include "support/dns_message.hpp"

namespace dns {
namespace {

using test_support::DnsMessage;

std::string text_of(const Name& name, bool lowercase = false) {
    std::array<char, kMaxNameTextLength> buffer{};
    return std::string(name.format_text(buffer, lowercase));
}

std::vector<std::uint8_t> wire_of(const Name& name) {
    return {name.wire().begin(), name.wire().end()};
}

// Reads a name at `offset` of `packet`; returns whether it parsed, and the reader's position.
struct ReadResult {
    bool ok = false;
    std::size_t position = 0;
};

ReadResult read_at(const DnsMessage& packet, std::size_t offset, Name& name) {
    WireReader reader(packet.span(), offset);
    const bool ok = name.read(reader);
    EXPECT_EQ(ok, reader.ok());
    return {ok, reader.position()};
}

TEST(NameRead, PlainName) {
    DnsMessage packet;
    packet.name("AOne.dns.podman").u16(0xabcd);
    Name name;
    const auto result = read_at(packet, 0, name);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.position, 17u); // after the root byte
    EXPECT_EQ(name.label_count(), 3u);
    EXPECT_EQ(name.label(0), "AOne");
    EXPECT_EQ(name.label(1), "dns");
    EXPECT_EQ(name.label(2), "podman");
    EXPECT_EQ(name.label(3), "");
    EXPECT_EQ(name.wire().size(), 17u);
    EXPECT_EQ(text_of(name), "AOne.dns.podman.");
}

TEST(NameRead, Root) {
    DnsMessage packet;
    packet.u8(0);
    Name name;
    const auto result = read_at(packet, 0, name);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.position, 1u);
    EXPECT_EQ(name.label_count(), 0u);
    EXPECT_EQ(wire_of(name), (std::vector<std::uint8_t>{0}));
    EXPECT_EQ(text_of(name), ".");
}

TEST(NameRead, BackwardPointerIsFollowed) {
    DnsMessage packet;
    packet.name("dns.podman"); // offset 0..11
    packet
        .raw("\x04"
             "aone")
        .u16(0xc000); // offset 12: "aone" + pointer to 0
    packet.u16(0x0001);
    Name name;
    const auto result = read_at(packet, 12, name);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.position, 19u); // right after the pointer, not after the target
    EXPECT_EQ(text_of(name), "aone.dns.podman.");
    DnsMessage expected;
    expected.name("aone.dns.podman");
    EXPECT_EQ(wire_of(name), expected.bytes());
}

TEST(NameRead, ChainedPointers) {
    DnsMessage packet;
    packet.name("podman"); // 0..7
    packet
        .raw("\x03"
             "dns")
        .u16(0xc000); // 8..13 -> "dns.podman"
    packet
        .raw("\x01"
             "x")
        .u16(0xc008); // 14..17 -> "x.dns.podman"
    Name name;
    const auto result = read_at(packet, 14, name);
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.position, 18u);
    EXPECT_EQ(text_of(name), "x.dns.podman.");
    // Three runs of labels, each copied on its own: the labels still line up.
    ASSERT_EQ(name.label_count(), 3u);
    EXPECT_EQ(name.label(0), "x");
    EXPECT_EQ(name.label(1), "dns");
    EXPECT_EQ(name.label(2), "podman");
    DnsMessage expected;
    expected.name("x.dns.podman");
    EXPECT_EQ(wire_of(name), expected.bytes());
}

TEST(NameRead, PointerToItselfIsRejected) {
    DnsMessage packet;
    packet.u16(0).u16(0xc002);
    Name name;
    EXPECT_FALSE(read_at(packet, 2, name).ok);
}

TEST(NameRead, LoopThroughALabelIsRejected) {
    // "a" then a pointer back to that same "a": a -> a -> a ...
    DnsMessage packet;
    packet
        .raw("\x01"
             "a")
        .u16(0xc000);
    Name name;
    EXPECT_FALSE(read_at(packet, 0, name).ok);
}

TEST(NameRead, ForwardPointerIsRejected) {
    DnsMessage packet;
    packet.u16(0xc002).name("later");
    Name name;
    EXPECT_FALSE(read_at(packet, 0, name).ok);
}

TEST(NameRead, TwoPointersPointingAtEachOtherAreRejected) {
    DnsMessage packet;
    packet.u16(0xc002).u16(0xc000);
    Name name;
    EXPECT_FALSE(read_at(packet, 0, name).ok);
    EXPECT_FALSE(read_at(packet, 2, name).ok);
}

TEST(NameRead, PointerOutOfBoundsIsRejected) {
    DnsMessage packet;
    packet.u16(0).u16(0).u16(0xc3ff);
    Name name;
    // Backwards is required, so test a target beyond the end from a later position too.
    DnsMessage far;
    for (int i = 0; i < 20; ++i) {
        far.u8(0);
    }
    far.u16(0xc000 | 0x3fff);
    EXPECT_FALSE(read_at(packet, 4, name).ok);
    EXPECT_FALSE(read_at(far, 20, name).ok);
}

TEST(NameRead, PointerCutShortIsRejected) {
    DnsMessage packet;
    packet.u8(0).u8(0xc0);
    Name name;
    EXPECT_FALSE(read_at(packet, 1, name).ok);
}

TEST(NameRead, HopCountIsCapped) {
    // A root byte, then pointers that each point at the previous one. Every hop goes backwards
    // (legal on its own), but following more than kMaxLabels of them is refused.
    const auto chain = [](std::size_t pointers) {
        DnsMessage packet;
        packet.u8(0);
        for (std::size_t i = 0; i < pointers; ++i) {
            const std::size_t previous = i == 0 ? 0 : 1 + 2 * (i - 1);
            packet.u16(0xc000 | static_cast<unsigned>(previous));
        }
        return packet;
    };
    Name name;
    const auto short_chain = chain(kMaxLabels);
    const auto ok = read_at(short_chain, short_chain.size() - 2, name);
    EXPECT_TRUE(ok.ok);
    EXPECT_EQ(ok.position, short_chain.size());
    EXPECT_EQ(name.label_count(), 0u);
    const auto long_chain = chain(kMaxLabels + 1);
    EXPECT_FALSE(read_at(long_chain, long_chain.size() - 2, name).ok);
}

TEST(NameRead, ExtendedLabelTypesAreRejected) {
    for (const unsigned prefix : {0x40u, 0x41u, 0x7fu, 0x80u, 0xbfu}) {
        DnsMessage packet;
        packet.u8(prefix);
        for (unsigned i = 0; i < 0x7f; ++i) {
            packet.u8('a');
        }
        packet.u8(0);
        Name name;
        EXPECT_FALSE(read_at(packet, 0, name).ok) << prefix;
    }
}

TEST(NameRead, LabelOf63IsAccepted) {
    DnsMessage packet;
    packet.name(std::string(63, 'x'));
    Name name;
    ASSERT_TRUE(read_at(packet, 0, name).ok);
    EXPECT_EQ(name.label(0).size(), 63u);
}

TEST(NameRead, ExactlyTheMaximumLengthIsAccepted) {
    // 3 * (1 + 63) + (1 + 61) + 1 = 255
    const std::string label63(63, 'a');
    const std::string text = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
    DnsMessage packet;
    packet.name(text);
    ASSERT_EQ(packet.size(), 255u);
    Name name;
    ASSERT_TRUE(read_at(packet, 0, name).ok);
    EXPECT_EQ(name.wire().size(), 255u);
    EXPECT_EQ(name.label_count(), 4u);
}

TEST(NameRead, LongerThan255IsRejected) {
    const std::string label63(63, 'a');
    const std::string text = label63 + "." + label63 + "." + label63 + "." + std::string(62, 'b');
    DnsMessage packet;
    packet.name(text);
    ASSERT_EQ(packet.size(), 256u);
    Name name;
    EXPECT_FALSE(read_at(packet, 0, name).ok);
}

TEST(NameRead, LongerThan255ThroughPointersIsRejected) {
    // Each piece is short, but the decompressed name is 4 * 64 + 1 bytes.
    const std::string label63(63, 'c');
    DnsMessage packet;
    packet.name(label63);                         // 0: 65 bytes
    packet.u8(63).raw(label63).u16(0xc000);       // 65
    packet.u8(63).raw(label63).u16(0xc000 | 65);  // 131
    packet.u8(63).raw(label63).u16(0xc000 | 131); // 197
    Name name;
    EXPECT_TRUE(read_at(packet, 131, name).ok); // 3 labels: 193 bytes
    EXPECT_FALSE(read_at(packet, 197, name).ok);
}

TEST(NameRead, ManySingleByteLabels) {
    DnsMessage packet;
    for (int i = 0; i < 127; ++i) {
        packet.raw("\x01"
                   "z");
    }
    packet.u8(0);
    Name name;
    ASSERT_TRUE(read_at(packet, 0, name).ok);
    EXPECT_EQ(name.label_count(), 127u);
    EXPECT_EQ(name.wire().size(), 255u);
    EXPECT_EQ(name.label(126), "z");

    DnsMessage too_many;
    for (int i = 0; i < 128; ++i) {
        too_many.raw("\x01"
                     "z");
    }
    too_many.u8(0);
    EXPECT_FALSE(read_at(too_many, 0, name).ok);
}

TEST(NameRead, TruncatedInputIsRejected) {
    Name name;
    DnsMessage missing_root;
    missing_root.raw("\x03"
                     "abc");
    EXPECT_FALSE(read_at(missing_root, 0, name).ok);
    DnsMessage short_label;
    short_label.raw("\x05"
                    "ab");
    EXPECT_FALSE(read_at(short_label, 0, name).ok);
    DnsMessage empty;
    EXPECT_FALSE(read_at(empty, 0, name).ok);
}

TEST(NameRead, FailureLeavesTheRootAndAFailedReader) {
    DnsMessage good;
    good.name("a.b");
    Name name;
    ASSERT_TRUE(read_at(good, 0, name).ok);
    DnsMessage bad;
    bad.raw("\x03"
            "ab");
    WireReader reader(bad.span());
    EXPECT_FALSE(name.read(reader));
    EXPECT_FALSE(reader.ok());
    EXPECT_EQ(name.label_count(), 0u);
    EXPECT_EQ(text_of(name), ".");
}

TEST(NameRead, FailedReaderIsNotRead) {
    DnsMessage packet;
    packet.name("a");
    WireReader reader(packet.span());
    reader.fail();
    Name name;
    EXPECT_FALSE(name.read(reader));
}

TEST(NameAssignText, Basic) {
    Name name;
    ASSERT_TRUE(name.assign_text("web.dns.podman"));
    DnsMessage expected;
    expected.name("web.dns.podman");
    EXPECT_EQ(wire_of(name), expected.bytes());
    EXPECT_EQ(name.label_count(), 3u);
    EXPECT_EQ(name.label(2), "podman");

    Name dotted;
    ASSERT_TRUE(dotted.assign_text("web.dns.podman."));
    EXPECT_EQ(wire_of(dotted), expected.bytes());
}

TEST(NameAssignText, RootForms) {
    for (const std::string_view text : {"", "."}) {
        Name name;
        ASSERT_TRUE(name.assign_text(text)) << text;
        EXPECT_EQ(wire_of(name), (std::vector<std::uint8_t>{0}));
        EXPECT_EQ(name.label_count(), 0u);
    }
}

TEST(NameAssignText, RejectsEmptyLabels) {
    Name name;
    EXPECT_FALSE(name.assign_text("a..b"));
    EXPECT_FALSE(name.assign_text(".a"));
    EXPECT_FALSE(name.assign_text("a.."));
    EXPECT_FALSE(name.assign_text(".."));
    EXPECT_EQ(name.label_count(), 0u);
}

TEST(NameAssignText, LabelAndNameLimits) {
    Name name;
    EXPECT_TRUE(name.assign_text(std::string(63, 'a') + ".b"));
    EXPECT_FALSE(name.assign_text(std::string(64, 'a') + ".b"));
    const std::string label63(63, 'a');
    const std::string fits = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
    EXPECT_TRUE(name.assign_text(fits));
    EXPECT_EQ(name.wire().size(), 255u);
    EXPECT_TRUE(name.assign_text(fits + "."));
    EXPECT_FALSE(name.assign_text(fits + "b"));
}

TEST(EncodeText, WritesWireFormOrNothing) {
    std::array<std::uint8_t, kMaxNameWireLength> out{};
    for (const std::string_view text : {"a", "web.dns.podman", "web.dns.podman.", "x_y.Z-1"}) {
        DnsMessage expected;
        expected.name(text);
        const std::size_t size = encode_text(text, out);
        EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + static_cast<long>(size)),
                  expected.bytes())
            << text;
    }
    EXPECT_EQ(encode_text("", out), 1u);
    EXPECT_EQ(out[0], 0u);
    const std::string label63(63, 'a');
    EXPECT_EQ(encode_text("b." + label63, out), 67u); // a full last label closes the name
    for (const std::string_view text : {"a..b", ".a", "a..", "..", ".a."}) {
        EXPECT_EQ(encode_text(text, out), 0u) << text;
    }
    EXPECT_EQ(encode_text("b." + std::string(64, 'a'), out), 0u);
}

TEST(NameAssignText, KeepsCase) {
    Name name;
    ASSERT_TRUE(name.assign_text("ATwo."));
    EXPECT_EQ(name.label(0), "ATwo");
    EXPECT_EQ(text_of(name), "ATwo.");
    EXPECT_EQ(text_of(name, true), "atwo.");
}

TEST(NameFormatText, Lowercase) {
    Name name;
    ASSERT_TRUE(name.assign_text("AOne.DNS.Podman"));
    EXPECT_EQ(text_of(name), "AOne.DNS.Podman.");
    EXPECT_EQ(text_of(name, true), "aone.dns.podman.");
}

TEST(NameFormatText, HickoryEscapes) {
    // Labels built from raw bytes so that dots and control bytes are possible.
    DnsMessage packet;
    packet.raw("\x03"
               "a.b");                        // dot inside a label
    packet.raw({0x04, ' ', 'x', 0x7f, 0xff}); // space, DEL, 0xff: three octal digits
    packet.raw({0x01, 0x00});                 // a zero byte
    packet.raw("\x02"
               "-a"); // '-' first is escaped
    packet.raw("\x02"
               "a-"); // '-' later is not
    packet.raw("\x01"
               "*"); // '*' first is not escaped
    packet.raw("\x02"
               "a*"); // '*' later is
    packet.raw("\x03"
               "_S_"); // '_' anywhere, case kept
    packet.raw("\x03"
               "\\\"@"); // printable punctuation: \c
    packet.u8(0);
    Name name;
    ASSERT_TRUE(read_at(packet, 0, name).ok);
    EXPECT_EQ(text_of(name), R"(a\.b.\040x\177\377.\000.\-a.a-.*.a\*._S_.\\\"\@.)");
    EXPECT_EQ(text_of(name, true), R"(a\.b.\040x\177\377.\000.\-a.a-.*.a\*._s_.\\\"\@.)");
}

TEST(NameFormatText, WorstCaseFitsTheBuffer) {
    DnsMessage packet;
    for (int label = 0; label < 3; ++label) {
        packet.u8(63);
        for (int i = 0; i < 63; ++i) {
            packet.u8(0x01);
        }
    }
    packet.u8(61);
    for (int i = 0; i < 61; ++i) {
        packet.u8(0x01);
    }
    packet.u8(0);
    Name name;
    ASSERT_TRUE(read_at(packet, 0, name).ok);
    const auto text = text_of(name);
    EXPECT_EQ(text.size(), 4u * 250u + 4u);
    EXPECT_LE(text.size(), kMaxNameTextLength);
    EXPECT_EQ(text.substr(0, 8), "\\001\\001");
}

TEST(NameWrite, WritesUncompressedWire) {
    Name name;
    ASSERT_TRUE(name.assign_text("a.bc"));
    std::array<std::uint8_t, 16> buffer{};
    WireWriter writer(buffer);
    name.write(writer);
    ASSERT_TRUE(writer.ok());
    EXPECT_EQ(std::vector<std::uint8_t>(writer.written().begin(), writer.written().end()),
              (std::vector<std::uint8_t>{1, 'a', 2, 'b', 'c', 0}));
}

TEST(NameWrite, DefaultNameIsTheRoot) {
    const Name name;
    std::array<std::uint8_t, 4> buffer{};
    WireWriter writer(buffer);
    name.write(writer);
    EXPECT_EQ(writer.size(), 1u);
    EXPECT_EQ(buffer[0], 0);
    EXPECT_EQ(text_of(name), ".");
}

} // namespace
} // namespace dns
