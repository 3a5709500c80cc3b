#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dns/edns.hpp"
#include "dns/name.hpp"
#include "dns/record_walker.hpp"
#include "dns/wire_reader.hpp"
#include "support/dns_message.hpp"

namespace dns {
namespace {

using test_support::kTypeA;
using Packet = test_support::DnsMessage;

constexpr unsigned kTypeOpt = 41;
constexpr unsigned kResponseFlags = 0x8180;

// One entry the walk is expected to yield.
struct Yield {
    Section section;
    unsigned type;
};

struct WalkCase {
    std::string name;
    std::vector<std::uint8_t> message;
    std::vector<Yield> yields;
    WalkStep last = WalkStep::End;
    bool has_edns = false;
    std::optional<std::size_t> question_end;
};

// `a.example` IN A: 12 + 11 + 4 bytes, so the question ends at 27; its name starts at 12.
constexpr std::size_t kQuestionEnd = 27;
constexpr unsigned kPointerToQuestionName = 0xc0;
constexpr unsigned kQuestionNameOffset = 12;
constexpr Yield kQuestion = {Section::Question, kTypeA};

// A message up to its one question, `a.example` IN A, with the other counts as given.
Packet after_question(unsigned an, unsigned ns, unsigned ar) {
    Packet packet;
    packet.header(1, kResponseFlags, 1, an, ns, ar).question("a.example", kTypeA);
    return packet;
}

// Appends an A record whose owner is written as given (raw bytes, so a case can compress it).
Packet a_record(Packet packet, std::initializer_list<unsigned> owner) {
    packet.raw(owner).u16(kTypeA).u16(1).u32(60).u16(4).raw({10, 89, 0, 2});
    return packet;
}

Packet cut(Packet packet, std::size_t dropped) {
    packet.bytes().resize(packet.size() - dropped);
    return packet;
}

std::vector<WalkCase> walk_cases() {
    const std::initializer_list<unsigned> to_question = {kPointerToQuestionName,
                                                         kQuestionNameOffset};
    return {
        {"query with OPT",
         after_question(0, 0, 1).opt(1232, 0).bytes(),
         {kQuestion, {Section::Additional, kTypeOpt}},
         WalkStep::End,
         true,
         kQuestionEnd},
        {"answer owner compressed to the question",
         a_record(after_question(1, 0, 0), to_question).bytes(),
         {kQuestion, {Section::Answer, kTypeA}},
         WalkStep::End,
         false,
         kQuestionEnd},
        // 0xc0 0x28 points past its own offset (27), 0xc0 0x1b at itself: neither is allowed.
        {"forward compression pointer",
         a_record(after_question(1, 0, 0), {0xc0, 0x28}).bytes(),
         {kQuestion},
         WalkStep::Malformed,
         false,
         kQuestionEnd},
        {"compression pointer loop",
         a_record(after_question(1, 0, 0), {0xc0, 0x1b}).bytes(),
         {kQuestion},
         WalkStep::Malformed,
         false,
         kQuestionEnd},
        {"record truncated in its TTL",
         cut(a_record(after_question(1, 0, 0), to_question), 9).bytes(),
         {kQuestion},
         WalkStep::Malformed,
         false,
         kQuestionEnd},
        {"record truncated in its owner",
         after_question(1, 0, 0).raw({5, 'a'}).bytes(),
         {kQuestion},
         WalkStep::Malformed,
         false,
         kQuestionEnd},
        {"rdlength past the end",
         cut(a_record(after_question(1, 0, 0), {0}), 1).bytes(),
         {kQuestion},
         WalkStep::Malformed,
         false,
         kQuestionEnd},
        {"counts promise more records than there are",
         a_record(after_question(2, 0, 0), {0}).bytes(),
         {kQuestion, {Section::Answer, kTypeA}},
         WalkStep::Malformed,
         false,
         kQuestionEnd},
        {"OPT in the answer section is a plain record",
         after_question(1, 0, 0).opt(1232, 0).bytes(),
         {kQuestion, {Section::Answer, kTypeOpt}},
         WalkStep::End,
         false,
         kQuestionEnd},
        {"OPT in the authority section is a plain record",
         after_question(0, 1, 0).opt(1232, 0).bytes(),
         {kQuestion, {Section::Authority, kTypeOpt}},
         WalkStep::End,
         false,
         kQuestionEnd},
        {"OPT in authority and additional: only the additional one counts",
         after_question(0, 1, 1).opt(1232, 0).opt(4096, 0).bytes(),
         {kQuestion, {Section::Authority, kTypeOpt}, {Section::Additional, kTypeOpt}},
         WalkStep::End,
         true,
         kQuestionEnd},
        {"two OPTs in the additional section",
         after_question(0, 0, 2).opt(1232, 0).opt(4096, 0).bytes(),
         {kQuestion, {Section::Additional, kTypeOpt}},
         WalkStep::Malformed,
         true,
         kQuestionEnd},
        {"OPT rdlength past the end",
         cut(after_question(0, 0, 1).opt(1232, 0, {0, 10, 0, 0}), 2).bytes(),
         {kQuestion},
         WalkStep::Malformed,
         false,
         kQuestionEnd},
        {"question truncated",
         cut(after_question(0, 0, 0), 2).bytes(),
         {},
         WalkStep::Malformed,
         false,
         std::nullopt},
        {"no entries at all",
         Packet().header(1, 0x0100, 0, 0, 0, 0).bytes(),
         {},
         WalkStep::End,
         false,
         12},
        {"no question, then a broken record",
         Packet().header(1, kResponseFlags, 0, 1, 0, 0).raw({7, 'x'}).bytes(),
         {},
         WalkStep::Malformed,
         false,
         12},
        {"bytes past the counted entries are not read",
         after_question(0, 0, 0).raw({1, 2, 3}).bytes(),
         {kQuestion},
         WalkStep::End,
         false,
         kQuestionEnd},
        {"shorter than a header", {0, 1, 2, 3, 4}, {}, WalkStep::Malformed, false, std::nullopt},
    };
}

TEST(RecordWalker, Cases) {
    for (const WalkCase& walk_case : walk_cases()) {
        SCOPED_TRACE(walk_case.name);
        RecordWalker walker(walk_case.message);
        RecordView record;
        std::size_t yielded = 0;
        WalkStep step = WalkStep::Record;
        while ((step = walker.next(record)) == WalkStep::Record) {
            ASSERT_LT(yielded, walk_case.yields.size());
            EXPECT_EQ(record.section, walk_case.yields[yielded].section) << "entry " << yielded;
            EXPECT_EQ(record.type, walk_case.yields[yielded].type) << "entry " << yielded;
            EXPECT_LE(record.end, walk_case.message.size());
            ++yielded;
        }
        EXPECT_EQ(yielded, walk_case.yields.size());
        EXPECT_EQ(step, walk_case.last);
        EXPECT_EQ(walker.next(record), walk_case.last) << "the end is sticky";
        EXPECT_EQ(walker.edns().has_value(), walk_case.has_edns);
        EXPECT_EQ(walker.question_end(), walk_case.question_end);
    }
}

TEST(RecordWalker, RecordFieldsPointIntoTheMessage) {
    const Packet packet =
        a_record(after_question(1, 0, 0), {kPointerToQuestionName, kQuestionNameOffset});
    RecordWalker walker(packet.span());
    ASSERT_TRUE(walker.header_ok());
    EXPECT_EQ(walker.header().ancount, 1);

    Name question_name;
    RecordView record;
    ASSERT_EQ(walker.next(record, &question_name), WalkStep::Record);
    EXPECT_EQ(record.offset, 12u);
    EXPECT_EQ(record.owner.size(), 11u);
    EXPECT_EQ(record.owner_label_count, 2u);
    EXPECT_EQ(question_name.label_count(), 2u);
    EXPECT_EQ(record.end, kQuestionEnd);
    EXPECT_TRUE(record.rdata.empty());

    ASSERT_EQ(walker.next(record), WalkStep::Record);
    EXPECT_EQ(record.offset, kQuestionEnd);
    EXPECT_EQ(record.owner.size(), 2u); // the pointer only
    EXPECT_EQ(record.owner_label_count, 2u);
    EXPECT_EQ(record.klass, 1);
    EXPECT_EQ(record.ttl, 60u);
    EXPECT_EQ(record.ttl_offset, kQuestionEnd + 6);
    EXPECT_EQ(record.rdata_offset, kQuestionEnd + 12);
    ASSERT_EQ(record.rdata.size(), 4u);
    EXPECT_EQ(record.rdata[3], 2);
    EXPECT_EQ(record.end, packet.size());
    EXPECT_EQ(walker.next(record), WalkStep::End);
}

TEST(RecordWalker, KeepsTheFirstOptFields) {
    Packet packet;
    // Extended RCODE 1, version 2, DO; one 4-byte option.
    packet.header(1, 0x0100, 1, 0, 0, 1).question("a", kTypeA).opt(1400, 0x01028000, {0, 8, 0, 0});
    RecordWalker walker(packet.span());
    RecordView record;
    while (walker.next(record) == WalkStep::Record) {
    }
    ASSERT_TRUE(walker.edns().has_value());
    const Edns& edns = *walker.edns();
    EXPECT_EQ(edns.udp_payload_size, 1400);
    EXPECT_EQ(edns.extended_rcode, 1);
    EXPECT_EQ(edns.version, 2);
    EXPECT_TRUE(edns.dnssec_ok());
    EXPECT_EQ(edns.options_offset, packet.size() - 4);
    EXPECT_EQ(edns.options(packet.span()).size(), 4u);
    EXPECT_TRUE(edns.options_well_formed(packet.span()));
    EXPECT_TRUE(edns.options(std::span(packet.span()).first(packet.size() - 1)).empty());
}

TEST(Edns, UdpPayloadLimitIsOneRule) {
    const auto limit = [](std::optional<std::uint16_t> size) {
        std::optional<Edns> edns;
        if (size) {
            edns = Edns{};
            edns->udp_payload_size = *size;
        }
        return udp_payload_limit(edns);
    };
    EXPECT_EQ(limit(std::nullopt), 512u);
    EXPECT_EQ(limit(0), 512u);
    EXPECT_EQ(limit(511), 512u);
    EXPECT_EQ(limit(1232), 1232u);
    EXPECT_EQ(limit(4096), 4096u);
    EXPECT_EQ(limit(65535), 4096u);
}

TEST(SkipName, AgreesWithNameRead) {
    Packet packet;
    packet.header(1, 0, 0, 0, 0, 0).name("a.example").raw({kPointerToQuestionName, 12});
    packet.raw({kPointerToQuestionName, 60}).raw({3, 'a', 'b'});
    // Offsets: the name (12), a pointer to it (23), a pointer out of bounds (25), a cut label (27).
    for (const std::size_t offset : {12u, 23u, 25u, 27u}) {
        SCOPED_TRACE(offset);
        WireReader copying(packet.span(), offset);
        WireReader skipping(packet.span(), offset);
        Name name;
        const bool read = name.read(copying);
        const auto labels = skip_name(skipping);
        EXPECT_EQ(read, labels.has_value());
        EXPECT_EQ(copying.ok(), skipping.ok());
        if (read) {
            EXPECT_EQ(*labels, name.label_count());
            EXPECT_EQ(copying.position(), skipping.position());
        }
    }
}

} // namespace
} // namespace dns
