#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network_files.hpp"
#include "records/record_store.hpp"
#include "records/staleness.hpp"

namespace {

using records::EntryStatus;
using records::NetworkId;
using records::RecordStore;
using records_test::ip;
using records_test::network_file;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::Optional;
using testing::UnorderedElementsAre;

constexpr std::string_view kOld =
    "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
constexpr std::string_view kNew =
    "9f3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a";

std::vector<EntryStatus> statuses(const records::FileClassification& classification) {
    std::vector<EntryStatus> out;
    for (const auto& entry : classification.entries) {
        out.push_back(entry.status);
    }
    return out;
}

std::shared_ptr<const RecordStore> store_of(const config::NetworkFile& file) {
    return RecordStore::build({file});
}

std::vector<base::IpAddress> lookup(const RecordStore& store, std::string_view name) {
    std::vector<base::IpAddress> out;
    store.lookup_name(std::array{NetworkId{0}}, name, out);
    return out;
}

// names_for as a value: nullopt when the network does not know the address.
std::optional<std::vector<std::string>> names_of(const RecordStore& store,
                                                 std::string_view address) {
    std::vector<std::string_view> out;
    if (!store.names_for(std::array{NetworkId{0}}, ip(address), out)) {
        return std::nullopt;
    }
    return std::vector<std::string>(out.begin(), out.end());
}

// The common shape: a file, the status of each entry, and what the store answers for names.
struct ClassificationCase {
    const char* name;
    const char* text;
    std::vector<EntryStatus> statuses;
    bool no_findings;
    std::vector<std::pair<const char*, std::vector<const char*>>> answers; // name -> addresses
};

class Classification : public testing::TestWithParam<ClassificationCase> {};

TEST_P(Classification, StatusesAndAnswers) {
    const ClassificationCase& c = GetParam();
    const auto file = network_file("net", c.text);
    const auto classification = records::classify_entries(file);
    EXPECT_EQ(statuses(classification), c.statuses);
    if (c.no_findings) {
        EXPECT_THAT(classification.findings, IsEmpty());
    }
    const auto store = store_of(file);
    for (const auto& [name, addresses] : c.answers) {
        std::vector<base::IpAddress> expected;
        for (const char* address : addresses) {
            expected.push_back(ip(address));
        }
        EXPECT_EQ(lookup(*store, name), expected) << name;
    }
}

using enum EntryStatus;

INSTANTIATE_TEST_SUITE_P(
    Staleness, Classification,
    testing::Values(ClassificationCase{"CleanFileHasNoFindings",
                                       "10.1.0.1\n"
                                       "x1 10.1.0.2  one,web\n"
                                       "x2 10.1.0.3  two,web\n",
                                       {Current, Current},
                                       true,
                                       {}},
                    // Line 2 is x1's own older line: a duplicate, not an address reuse by x2.
                    ClassificationCase{"IdRuleRunsBeforeTheAddressRule",
                                       "10.1.0.1\n"
                                       "x1 10.1.0.2  one\n"
                                       "x2 10.1.0.2  two\n"
                                       "x1 10.1.0.7  one\n",
                                       {DuplicateId, Current, Current},
                                       false,
                                       {{"two", {"10.1.0.2"}}, {"one", {"10.1.0.7"}}}},
                    ClassificationCase{"AddressRuleRunsBeforeTheNameRule",
                                       "10.1.0.1\n"
                                       "x1 10.1.0.2  web,only-old\n"
                                       "x2 10.1.0.2  web\n",
                                       {IpReused, Current},
                                       false,
                                       {{"only-old", {}}}},
                    ClassificationCase{"ScaledReplicasSharingAnAliasAreNotTouched",
                                       "10.1.0.1\n"
                                       "r1 10.1.0.2  proj_web_1,web,r1short\n"
                                       "r2 10.1.0.3  proj_web_2,web,r2short\n"
                                       "r3 10.1.0.4  proj_web_3,web,r3short\n",
                                       {Current, Current, Current},
                                       true,
                                       {{"web", {"10.1.0.4", "10.1.0.3", "10.1.0.2"}}}}),
    [](const testing::TestParamInfo<ClassificationCase>& row) { return row.param.name; });

TEST(Staleness, RepeatedIdKeepsOnlyTheLastLine) {
    const auto file = network_file("net", "10.1.0.1\n"
                                          "x1 10.1.0.2  one,one-old\n"
                                          "x2 10.1.0.9  other\n"
                                          "x1 10.1.0.3 fd00::3 one\n");
    const auto classification = records::classify_entries(file);
    EXPECT_THAT(statuses(classification),
                ElementsAre(EntryStatus::DuplicateId, EntryStatus::Current, EntryStatus::Current));
    ASSERT_EQ(classification.findings.size(), 1U);
    const auto& finding = classification.findings[0];
    EXPECT_EQ(finding.network, "net");
    EXPECT_EQ(finding.path, "/run/test/net");
    EXPECT_EQ(finding.container_id, "x1");
    EXPECT_EQ(finding.line, 2);
    EXPECT_EQ(finding.status, EntryStatus::DuplicateId);
    EXPECT_EQ(finding.newer_id, "x1");
    EXPECT_THAT(finding.reason, HasSubstr("line 4"));
    EXPECT_TRUE(finding.removable);
    EXPECT_THAT(finding.shadowed_names, IsEmpty());

    const auto store = store_of(file);
    EXPECT_THAT(lookup(*store, "one"), ElementsAre(ip("10.1.0.3"), ip("fd00::3")));
    EXPECT_THAT(lookup(*store, "one-old"), IsEmpty());
    EXPECT_EQ(names_of(*store, "10.1.0.2"), std::nullopt);
    EXPECT_THAT(store->networks_of(ip("10.1.0.2")), IsEmpty());
}

TEST(Staleness, ReusedAddressDropsTheOlderLineWhole) {
    const std::string text = fmt::format("10.1.0.1\n"
                                         "{} 10.1.0.5  proj_db_1,db,0a1b2c3d4e5f\n"
                                         "{} 10.1.0.5  proj_cache_1,cache\n",
                                         kOld, kNew);
    const auto file = network_file("net", text);
    const auto classification = records::classify_entries(file);
    EXPECT_THAT(statuses(classification), ElementsAre(EntryStatus::IpReused, EntryStatus::Current));
    ASSERT_EQ(classification.findings.size(), 1U);
    const auto& finding = classification.findings[0];
    EXPECT_EQ(finding.container_id, kOld);
    EXPECT_EQ(finding.newer_id, kNew);
    EXPECT_EQ(finding.line, 2);
    EXPECT_THAT(finding.reason, HasSubstr("10.1.0.5"));
    EXPECT_THAT(finding.reason, HasSubstr(kNew.substr(0, 12)));
    EXPECT_TRUE(finding.removable);

    const auto store = store_of(file);
    // Even names only the stale line had are gone, and so is its PTR.
    EXPECT_THAT(lookup(*store, "db"), IsEmpty());
    EXPECT_THAT(lookup(*store, "0a1b2c3d4e5f"), IsEmpty());
    EXPECT_THAT(lookup(*store, "proj_db_1"), IsEmpty());
    EXPECT_THAT(lookup(*store, "cache"), ElementsAre(ip("10.1.0.5")));
    const auto names = names_of(*store, "10.1.0.5");
    ASSERT_TRUE(names.has_value());
    EXPECT_THAT(*names, ElementsAre("proj_cache_1", "cache"));
}

TEST(Staleness, ReusedIpv6AddressAlsoCounts) {
    const auto file = network_file("net", "fd00::1\n"
                                          "old  fd00::5,fd00::6 stale\n"
                                          "new  fd00::6 fresh\n");
    const auto classification = records::classify_entries(file);
    EXPECT_THAT(statuses(classification), ElementsAre(EntryStatus::IpReused, EntryStatus::Current));
    ASSERT_EQ(classification.findings.size(), 1U);
    EXPECT_THAT(classification.findings[0].reason, HasSubstr("fd00::6"));
    const auto store = store_of(file);
    EXPECT_THAT(lookup(*store, "stale"), IsEmpty());
    EXPECT_EQ(names_of(*store, "fd00::5"), std::nullopt);
}

TEST(Staleness, ReuseChainsThroughAStaleLine) {
    // a had .2; b later got .2 (and .3); c later got .3. b is stale by c, a is stale by b.
    const auto file = network_file("net", "10.1.0.1\n"
                                          "a 10.1.0.2  one\n"
                                          "b 10.1.0.2,10.1.0.3  two\n"
                                          "c 10.1.0.3  three\n");
    const auto classification = records::classify_entries(file);
    EXPECT_THAT(statuses(classification),
                ElementsAre(EntryStatus::IpReused, EntryStatus::IpReused, EntryStatus::Current));
    ASSERT_EQ(classification.findings.size(), 2U);
    EXPECT_EQ(classification.findings[0].newer_id, "b");
    EXPECT_EQ(classification.findings[1].newer_id, "c");
}

TEST(Staleness, NewerContainerOfTheSameNameShadowsSharedNamesOnly) {
    // compose down/up with a leaked line: same first name and service alias, new short ID.
    const auto file = network_file("net", "10.1.0.1\n"
                                          "old1 10.1.0.2 fd00::2 proj_web_1,web,old1short\n"
                                          "other 10.1.0.3  proj_db_1,db\n"
                                          "new1 10.1.0.4 fd00::4 proj_web_1,web,new1short\n");
    const auto classification = records::classify_entries(file);
    EXPECT_THAT(statuses(classification),
                ElementsAre(EntryStatus::Shadowed, EntryStatus::Current, EntryStatus::Current));
    EXPECT_THAT(classification.entries[0].shadowed_names, ElementsAre("proj_web_1", "web"));
    ASSERT_EQ(classification.findings.size(), 1U);
    const auto& finding = classification.findings[0];
    EXPECT_EQ(finding.status, EntryStatus::Shadowed);
    EXPECT_EQ(finding.container_id, "old1");
    EXPECT_EQ(finding.newer_id, "new1");
    EXPECT_EQ(finding.line, 2);
    EXPECT_THAT(finding.shadowed_names, ElementsAre("proj_web_1", "web"));
    EXPECT_THAT(finding.reason, HasSubstr("proj_web_1"));
    EXPECT_FALSE(finding.removable); // it still answers for old1short

    const auto store = store_of(file);
    EXPECT_THAT(lookup(*store, "web"), ElementsAre(ip("10.1.0.4"), ip("fd00::4")));
    EXPECT_THAT(lookup(*store, "proj_web_1"), ElementsAre(ip("10.1.0.4"), ip("fd00::4")));
    EXPECT_THAT(lookup(*store, "old1short"), ElementsAre(ip("10.1.0.2"), ip("fd00::2")));
    // The shadowed line keeps its PTR.
    const auto names = names_of(*store, "10.1.0.2");
    ASSERT_TRUE(names.has_value());
    EXPECT_THAT(*names, ElementsAre("proj_web_1", "web", "old1short"));
    // And stays a known requester.
    EXPECT_THAT(store->networks_of(ip("10.1.0.2")), ElementsAre(0U));
}

TEST(Staleness, PodmansShortIdAliasIsNotANameOfItsOwn) {
    // A real Podman line: `ID IP name,alias,ID[:12]`. The short-ID alias stays unshadowed (no
    // other line has it) but must not make the line look like it still has a name.
    const std::string old_id = "a0348bfea1409c2b7cbd1e3a5b0e8e0b1f7d8f52c0a1e6b3d9e4c8a7f6b5d4c3";
    const std::string new_id = "9f3c1d2e4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    const auto file =
        network_file("net", "10.1.0.1\n" + old_id + " 10.1.0.2  proj_app_1,app,a0348bfea140\n" +
                                new_id + " 10.1.0.3  proj_app_1,app,9f3c1d2e4b5a\n");
    const auto classification = records::classify_entries(file);
    ASSERT_EQ(classification.findings.size(), 1U);
    EXPECT_EQ(classification.findings[0].status, EntryStatus::Shadowed);
    EXPECT_THAT(classification.findings[0].shadowed_names, ElementsAre("proj_app_1", "app"));
    EXPECT_TRUE(classification.findings[0].removable);
    // Serving is unchanged: the short ID still resolves to its own line.
    EXPECT_THAT(lookup(*store_of(file), "a0348bfea140"), ElementsAre(ip("10.1.0.2")));
}

TEST(Staleness, ShortIdAliasIsExactlyTheFirstTwelveCharacters) {
    const std::string id = "a0348bfea1409c2b";
    EXPECT_TRUE(records::is_short_id_alias(id, "a0348bfea140"));
    EXPECT_FALSE(records::is_short_id_alias(id, "a0348bfea14"));
    EXPECT_FALSE(records::is_short_id_alias(id, "a0348bfea1409"));
    EXPECT_FALSE(records::is_short_id_alias("a0348b", "a0348b")); // too short to have one
}

TEST(Staleness, ShadowedLineWithNoNameOfItsOwnIsRemovable) {
    const auto file = network_file("net", "10.1.0.1\n"
                                          "old 10.1.0.2  app,app\n"
                                          "new 10.1.0.3  app,extra\n");
    const auto classification = records::classify_entries(file);
    ASSERT_EQ(classification.findings.size(), 1U);
    EXPECT_THAT(classification.findings[0].shadowed_names, ElementsAre("app"));
    EXPECT_TRUE(classification.findings[0].removable);
    const auto store = store_of(file);
    EXPECT_THAT(lookup(*store, "app"), ElementsAre(ip("10.1.0.3")));
    EXPECT_NE(names_of(*store, "10.1.0.2"), std::nullopt);
}

TEST(Staleness, ThreeGenerationsAreAllShadowedByTheNewer) {
    const auto file = network_file("net", "10.1.0.1\n"
                                          "g1 10.1.0.2  app,svc,mid\n"
                                          "g2 10.1.0.3  app,mid\n"
                                          "g3 10.1.0.4  app,svc\n");
    const auto classification = records::classify_entries(file);
    EXPECT_THAT(statuses(classification),
                ElementsAre(EntryStatus::Shadowed, EntryStatus::Shadowed, EntryStatus::Current));
    EXPECT_THAT(classification.entries[0].shadowed_names, ElementsAre("app", "svc", "mid"));
    EXPECT_THAT(classification.entries[1].shadowed_names, ElementsAre("app"));
    EXPECT_EQ(classification.findings[0].newer_id, "g3");
    EXPECT_TRUE(classification.findings[0].removable);
    EXPECT_FALSE(classification.findings[1].removable);
    const auto store = store_of(file);
    EXPECT_THAT(lookup(*store, "app"), ElementsAre(ip("10.1.0.4")));
    EXPECT_THAT(lookup(*store, "mid"), ElementsAre(ip("10.1.0.3")));
    EXPECT_THAT(lookup(*store, "svc"), ElementsAre(ip("10.1.0.4")));
}

TEST(Staleness, SameContainerOnTwoNetworksIsLegitimate) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("front", "10.1.0.1\n"
                                          "x1 10.1.0.2  app,web\n"));
    files.push_back(network_file("back", "10.2.0.1\n"
                                         "x1 10.2.0.2  app,web\n"
                                         "x2 10.2.0.3  db\n"));
    const auto store = RecordStore::build(files);
    EXPECT_THAT(store->findings(), IsEmpty());
    std::vector<base::IpAddress> out;
    store->lookup_name(store->networks_of(ip("10.2.0.3")), "app", out);
    EXPECT_THAT(out, ElementsAre(ip("10.2.0.2")));
    store->lookup_name(store->networks_of(ip("10.1.0.2")), "app", out);
    EXPECT_THAT(out, UnorderedElementsAre(ip("10.1.0.2"), ip("10.2.0.2")));
}

TEST(Staleness, RenamedLiveContainerKeepsItsUniqueNames) {
    // `podman rename web web-old` leaves the line as it was; a new `web` then starts.
    const auto file = network_file("net", "10.1.0.1\n"
                                          "live1 10.1.0.2  web,live1short,myhost\n"
                                          "live2 10.1.0.3  web,live2short\n");
    const auto classification = records::classify_entries(file);
    EXPECT_THAT(classification.entries[0].shadowed_names, ElementsAre("web"));
    const auto store = store_of(file);
    EXPECT_THAT(lookup(*store, "web"), ElementsAre(ip("10.1.0.3")));
    EXPECT_THAT(lookup(*store, "live1short"), ElementsAre(ip("10.1.0.2")));
    EXPECT_THAT(lookup(*store, "myhost"), ElementsAre(ip("10.1.0.2")));
    ASSERT_NE(names_of(*store, "10.1.0.2"), std::nullopt);
}

TEST(Staleness, EmptyIdsAndEmptyFirstNamesAreNotIdentities) {
    // Hand-written lines without an ID are not one container repeated; lines without a first
    // name do not shadow each other.
    const auto file = network_file("net", "10.1.0.1\n"
                                          " 10.1.0.2  one\n"
                                          " 10.1.0.3  two\n"
                                          "x1 10.1.0.4  ,alias1\n"
                                          "x2 10.1.0.5  ,alias2\n");
    const auto classification = records::classify_entries(file);
    EXPECT_THAT(classification.findings, IsEmpty());
    const auto store = store_of(file);
    EXPECT_THAT(lookup(*store, "one"), ElementsAre(ip("10.1.0.2")));
    EXPECT_THAT(lookup(*store, "two"), ElementsAre(ip("10.1.0.3")));
    EXPECT_THAT(lookup(*store, ""), ElementsAre(ip("10.1.0.5"), ip("10.1.0.4")));
}

TEST(Staleness, LinesWithoutIdsMayShareAnAddress) {
    // Nothing proves either line stale, so both serve the address: a name they share answers it
    // once, and its reverse name lists both lines' names, newest first, each once.
    const auto file = network_file("net", "10.1.0.1\n"
                                          " 10.1.0.2,10.1.0.7  one,web\n"
                                          " 10.1.0.2  two,web\n");
    EXPECT_THAT(records::classify_entries(file).findings, IsEmpty());
    const auto store = store_of(file);
    EXPECT_THAT(lookup(*store, "web"), ElementsAre(ip("10.1.0.2"), ip("10.1.0.7")));
    EXPECT_THAT(lookup(*store, "two"), ElementsAre(ip("10.1.0.2")));
    const auto names = names_of(*store, "10.1.0.2");
    ASSERT_NE(names, std::nullopt);
    EXPECT_THAT(*names, ElementsAre("two", "web", "one"));
    EXPECT_THAT(names_of(*store, "10.1.0.7"), Optional(ElementsAre("one", "web")));
    EXPECT_EQ(names_of(*store, "10.1.0.8"), std::nullopt);
}

TEST(Staleness, FindingsFollowLineOrder) {
    const auto file = network_file("net", "10.1.0.1\n"
                                          "\n"
                                          "a 10.1.0.2  app\n"
                                          "b 10.1.0.3  one\n"
                                          "b 10.1.0.4  one\n"
                                          "c 10.1.0.2  app\n");
    const auto classification = records::classify_entries(file);
    ASSERT_EQ(classification.findings.size(), 2U);
    EXPECT_EQ(classification.findings[0].line, 3);
    EXPECT_EQ(classification.findings[0].status, EntryStatus::IpReused);
    EXPECT_EQ(classification.findings[1].line, 4);
    EXPECT_EQ(classification.findings[1].status, EntryStatus::DuplicateId);
}

} // namespace
