// ReloadEngine: the in-progress rules over a real directory, with a fake clock.
#include <array>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lifecycle/reload_engine.hpp"
#include "support/temp_dir.hpp"

namespace {

using lifecycle::PassResult;
using lifecycle::ReloadClock;
using lifecycle::ReloadEngine;
using std::chrono::milliseconds;
using testing::ElementsAre;

constexpr std::string_view kFull = "10.89.0.1\n"
                                   "a1 10.89.0.2  app,a1\n"
                                   "b1 10.89.0.3  db,b1\n";

class ReloadEngineTest : public testing::Test {
protected:
    // What the store answers for `name` on the first network, as text.
    std::vector<std::string> answer(std::string_view name) const {
        const auto& store = engine_.current();
        std::vector<base::IpAddress> out;
        std::vector<std::string> text;
        if (store->networks().empty()) {
            return text;
        }
        const std::array nets{records::NetworkId{0}};
        store->lookup_name(nets, name, out);
        for (const auto& address : out) {
            text.push_back(address.to_string());
        }
        return text;
    }

    PassResult pass() { return engine_.run_pass(now_); }

    void advance(milliseconds by) { now_ += by; }

    // A rewrite that lost lines (netavark's teardown) is applied once quiet for the settle
    // time: the pass after it.
    PassResult rewrite_and_settle(const std::string& text) {
        dir_.write("podman", text);
        pass();
        advance(milliseconds(300));
        return pass();
    }

    test_support::TempDir dir_;
    ReloadEngine engine_{dir_.path(), lifecycle::ReloadSettings{milliseconds(250), {}}};
    ReloadClock::time_point now_ = ReloadClock::now();
};

TEST_F(ReloadEngineTest, EmptyDirectoryHasNothingToServe) {
    const PassResult result = pass();
    EXPECT_TRUE(result.directory_ok);
    EXPECT_TRUE(result.nothing_to_serve);
    EXPECT_FALSE(result.recheck_at);
}

TEST_F(ReloadEngineTest, MissingDirectoryKeepsEverything) {
    ReloadEngine engine(dir_.file("absent"));
    const PassResult result = engine.run_pass(now_);
    EXPECT_FALSE(result.directory_ok);
    EXPECT_FALSE(result.store);
}

TEST_F(ReloadEngineTest, CompleteFileIsAppliedAtOnceAndUnchangedFileIsNotRebuilt) {
    dir_.write("podman", kFull);
    PassResult first = pass();
    ASSERT_TRUE(first.store);
    EXPECT_THAT(answer("app"), ElementsAre("10.89.0.2"));
    const auto table = engine_.current()->tables()[0];
    advance(milliseconds(5));
    // Read once more to rule out a same-tick rewrite, then trusted by identity.
    pass();
    const PassResult again = pass();
    EXPECT_FALSE(again.store);
    EXPECT_EQ(engine_.current()->tables()[0], table);
}

TEST_F(ReloadEngineTest, AppendIsAppliedAtOnceAndOtherNetworksAreReused) {
    dir_.write("other", "10.90.0.1\nz1 10.90.0.2  zed\n");
    dir_.write("podman", kFull);
    pass();
    pass();
    const auto other = engine_.current()->tables()[0];
    ASSERT_EQ(other->network().name, "other");
    dir_.write("podman", std::string(kFull) + "c1 10.89.0.4  web,c1\n");
    const PassResult result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_THAT(result.rebuilt_networks, ElementsAre("podman"));
    EXPECT_EQ(result.store->tables()[0], other);
    EXPECT_FALSE(result.recheck_at);
}

struct HeldBackCase {
    const char* what;
    std::string_view text;
};

class HeldBack : public ReloadEngineTest, public testing::WithParamInterface<HeldBackCase> {};

TEST_P(HeldBack, LastGoodContentServesUntilTheFileIsQuiet) {
    dir_.write("podman", kFull);
    pass();
    dir_.write("podman", GetParam().text);
    PassResult result = pass();
    EXPECT_THAT(answer("app"), ElementsAre("10.89.0.2")) << GetParam().what;
    EXPECT_THAT(answer("db"), ElementsAre("10.89.0.3")) << GetParam().what;
    ASSERT_TRUE(result.recheck_at);
    EXPECT_EQ(*result.recheck_at, now_ + milliseconds(250));
    EXPECT_FALSE(result.nothing_to_serve);

    // The writer finishes: the complete file is applied at once, before the settle time.
    advance(milliseconds(10));
    dir_.write("podman", kFull);
    result = pass();
    EXPECT_THAT(answer("app"), ElementsAre("10.89.0.2"));
    EXPECT_FALSE(result.recheck_at);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HeldBack,
    testing::Values(HeldBackCase{"empty", ""}, HeldBackCase{"header only", "10.89.0.1\n"},
                    HeldBackCase{"cut-off address", "10.89.0.1\na1 10.89.0.1"},
                    HeldBackCase{"cut-off name", "10.89.0.1\na1 10.89.0.2  ap"},
                    HeldBackCase{"half rewritten", "10.89.0.1\na1 10.89.0.2  app,a1\n"}),
    [](const testing::TestParamInfo<HeldBackCase>& param) {
        return "case" + std::to_string(param.index);
    });

TEST_F(ReloadEngineTest, ShrunkFileIsAppliedOnceQuietForTheSettleTime) {
    dir_.write("podman", kFull);
    pass();
    dir_.write("podman", "10.89.0.1\na1 10.89.0.2  app,a1\n"); // teardown of db
    PassResult result = pass();
    EXPECT_THAT(answer("db"), ElementsAre("10.89.0.3"));
    advance(milliseconds(100));
    result = pass(); // unchanged since: still within the settle time
    EXPECT_THAT(answer("db"), ElementsAre("10.89.0.3"));
    advance(milliseconds(200));
    result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_TRUE(answer("db").empty());
    EXPECT_THAT(answer("app"), ElementsAre("10.89.0.2"));
    EXPECT_FALSE(result.recheck_at);
}

TEST_F(ReloadEngineTest, AFileStillChangingRestartsTheSettleTime) {
    dir_.write("podman", kFull);
    pass();
    dir_.write("podman", "10.89.0.1\n");
    pass();
    advance(milliseconds(200));
    dir_.write("podman", "10.89.0.1\na1 10.89.0.2  app,a1\n");
    PassResult result = pass(); // changed again: the clock restarts
    ASSERT_TRUE(result.recheck_at);
    EXPECT_EQ(*result.recheck_at, now_ + milliseconds(250));
    advance(milliseconds(100));
    pass();
    EXPECT_THAT(answer("db"), ElementsAre("10.89.0.3"));
    advance(milliseconds(200));
    pass();
    EXPECT_TRUE(answer("db").empty());
}

TEST_F(ReloadEngineTest, DeletedFileServesUntilSettledThenNothingIsLeft) {
    dir_.write("podman", kFull);
    pass();
    std::remove(dir_.file("podman").c_str());
    PassResult result = pass();
    EXPECT_FALSE(result.nothing_to_serve);
    EXPECT_THAT(answer("app"), ElementsAre("10.89.0.2"));
    advance(milliseconds(260));
    result = pass();
    EXPECT_TRUE(result.nothing_to_serve);
    ASSERT_TRUE(result.store);
    EXPECT_TRUE(result.store->networks().empty());
}

TEST_F(ReloadEngineTest, FileRecreatedWithinTheSettleTimeKeepsTheNetwork) {
    dir_.write("podman", kFull);
    pass();
    std::remove(dir_.file("podman").c_str());
    pass();
    advance(milliseconds(100));
    dir_.write("podman",
               "10.89.0.1\nc1 10.89.0.9  web,c1\n"); // a new setup after the last teardown
    advance(milliseconds(200));
    PassResult result = pass();
    EXPECT_FALSE(result.nothing_to_serve);
    EXPECT_THAT(answer("web"), ElementsAre("10.89.0.9"));
}

TEST_F(ReloadEngineTest, NewFileWithACutOffLineServesItsCompleteLinesFirst) {
    dir_.write("podman", "10.89.0.1\na1 10.89.0.2  app,a1\nb1 10.89.0.3  d");
    PassResult result = pass();
    EXPECT_THAT(answer("app"), ElementsAre("10.89.0.2"));
    EXPECT_TRUE(answer("d").empty());
    ASSERT_TRUE(result.recheck_at);
    dir_.write("podman", kFull);
    advance(milliseconds(10));
    pass();
    EXPECT_THAT(answer("db"), ElementsAre("10.89.0.3"));
}

TEST_F(ReloadEngineTest, EmptyNewFileAloneIsWaitedForNotServed) {
    dir_.write("podman", "");
    PassResult result = pass();
    EXPECT_TRUE(engine_.current()->networks().empty());
    EXPECT_FALSE(result.nothing_to_serve);
    ASSERT_TRUE(result.recheck_at);
    advance(milliseconds(300));
    result = pass(); // quiet and still empty: no network in it
    EXPECT_TRUE(result.nothing_to_serve);
}

} // namespace

namespace {

TEST_F(ReloadEngineTest, AppendBuildsOnlyTheNewLinesOnTopOfTheLastFullBuild) {
    dir_.write("podman", kFull);
    pass();
    const auto root = engine_.current()->tables()[0];
    dir_.write("podman", std::string(kFull) + "c1 10.89.0.4  web,c1,app2\n");
    PassResult result = pass();
    ASSERT_TRUE(result.store);
    const auto& table = result.store->tables()[0];
    EXPECT_EQ(table->base(), root);
    EXPECT_THAT(answer("web"), ElementsAre("10.89.0.4"));
    EXPECT_THAT(answer("app"), ElementsAre("10.89.0.2"));
    // A second append still stacks on the same root (the appended lines are re-read together).
    dir_.write("podman",
               std::string(kFull) + "c1 10.89.0.4  web,c1,app2\nd1 10.89.0.5  cache,d1\n");
    result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_THAT(answer("cache"), ElementsAre("10.89.0.5"));
    EXPECT_THAT(answer("web"), ElementsAre("10.89.0.4"));
    EXPECT_EQ(result.store->tables()[0]->entry_count(), 4U);
}

TEST_F(ReloadEngineTest, AnAppendThatShadowsAnOldLineJudgesItAgainOverTheRoot) {
    dir_.write("podman", kFull);
    pass();
    const auto root = engine_.current()->tables()[0];
    // proj recreated: same name, new ID and address. The old line is shadowed: it is judged
    // again with the new one, over the root.
    dir_.write("podman", std::string(kFull) + "a2 10.89.0.7  app,a2\n");
    const PassResult result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_THAT(answer("app"), ElementsAre("10.89.0.7"));
    ASSERT_EQ(result.store->findings().size(), 1U);
    EXPECT_EQ(result.store->findings()[0].line, 2);
}

TEST_F(ReloadEngineTest, FindingsAmongAppendedLinesCarryTheirRealLineNumbers) {
    dir_.write("podman", kFull);
    pass();
    dir_.write("podman", std::string(kFull) + "c1 10.89.0.4  web,c1\nc1 10.89.0.5  web,c1\n");
    const PassResult result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_NE(result.store->tables()[0]->base(), nullptr);
    ASSERT_EQ(result.store->findings().size(), 1U);
    EXPECT_EQ(result.store->findings()[0].line, 4);
    EXPECT_THAT(answer("web"), ElementsAre("10.89.0.5"));
}

TEST_F(ReloadEngineTest, FindingsAreLoggedWithTheStatusWordsCheckPrints) {
    // Line 4 reuses line 2's ID (duplicate-id); line 5 takes line 3's address (ip-reused).
    dir_.write("podman", std::string(kFull) + "a1 10.89.0.4  app,a1\nc1 10.89.0.3  web,c1\n");
    const PassResult result = pass();
    std::vector<std::string> warnings;
    for (const lifecycle::LogLine& line : result.log) {
        if (line.level == lifecycle::LogLine::Level::Warn) {
            warnings.push_back(line.text);
        }
    }
    EXPECT_THAT(warnings, testing::UnorderedElementsAre(
                              testing::HasSubstr(":2: duplicate-id entry of container a1"),
                              testing::HasSubstr(":3: ip-reused entry of container b1")));
}

TEST_F(ReloadEngineTest, RewriteOfTheSameSizeIsNotTakenForAnAppend) {
    dir_.write("podman", kFull);
    pass();
    // A rewrite that changed an old line and grew: the applied bytes are no longer a prefix.
    dir_.write("podman",
               "10.89.0.1\na1 10.89.0.2  app,a1\nb1 10.89.0.8  db,b1\nc1 10.89.0.4  web\n");
    pass();
    advance(milliseconds(300));
    const PassResult result = pass();
    EXPECT_THAT(answer("db"), ElementsAre("10.89.0.8"));
    EXPECT_THAT(answer("web"), ElementsAre("10.89.0.4"));
    EXPECT_FALSE(result.recheck_at);
}

} // namespace

namespace {

TEST_F(ReloadEngineTest, AnAppendedTableListsTheNamesOfBothLevelsOnce) {
    dir_.write("podman", kFull);
    pass();
    dir_.write("podman", std::string(kFull) + "c1 10.89.0.4  web,c1\n");
    pass();
    const auto& table = engine_.current()->tables()[0];
    ASSERT_NE(table->base(), nullptr);
    std::vector<std::string> names;
    table->for_each_name([&](std::string_view name) { names.emplace_back(name); });
    EXPECT_THAT(names, ElementsAre("a1", "app", "b1", "c1", "db", "web"));
}

} // namespace

namespace {

// A network file of `count` containers, big enough that an append reads only its tail.
std::string big_file(int count, std::string_view header = "10.89.0.1\n") {
    std::string text(header);
    for (int i = 0; i < count; ++i) {
        text += fmt::format("{:064x} 10.89.{}.{}  ctr-{},{:012x}\n", i + 1, 1 + i / 250,
                            1 + i % 250, i, i + 1);
    }
    return text;
}

TEST_F(ReloadEngineTest, AppendToABigFileIsAppliedFromItsTail) {
    const std::string root_text = big_file(300);
    dir_.write("podman", root_text);
    pass();
    const auto root = engine_.current()->tables()[0];
    std::string text = root_text + "ab 10.89.9.1  new-1,ab\n";
    dir_.write("podman", text);
    PassResult result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_THAT(answer("new-1"), ElementsAre("10.89.9.1"));
    text += "cd 10.89.9.2  new-2,cd\n";
    dir_.write("podman", text);
    result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_THAT(answer("new-1"), ElementsAre("10.89.9.1"));
    EXPECT_THAT(answer("new-2"), ElementsAre("10.89.9.2"));
    EXPECT_THAT(answer("ctr-150"), ElementsAre("10.89.1.151"));
    // A later full read of the same bytes changes nothing: the hash of every byte applied was
    // kept up to date by the appends.
    advance(milliseconds(300));
    pass();
    EXPECT_FALSE(pass().store);
}

TEST_F(ReloadEngineTest, TeardownPlusSetupsThatGrowTheFileAreNotTakenForAnAppend) {
    const std::string root_text = big_file(300);
    dir_.write("podman", root_text);
    pass();
    const auto root = engine_.current()->tables()[0];
    // ctr-10's line removed (netavark's rewrite), then two setups: the file is longer than what
    // was applied, but its bytes after line 11 moved.
    std::string text = big_file(300);
    const std::size_t at = text.find(fmt::format("{:064x}", 11));
    text.erase(at, text.find('\n', at) + 1 - at);
    text += fmt::format("{:064x} 10.89.9.1  new-1\n{:064x} 10.89.9.2  new-2\n", 0x1ab0, 0x1cd0);
    ASSERT_GT(text.size(), root_text.size());
    dir_.write("podman", text);
    PassResult result = pass();
    // A lost line: held back, the last content serves.
    EXPECT_THAT(answer("ctr-10"), ElementsAre("10.89.1.11"));
    ASSERT_TRUE(result.recheck_at);
    advance(milliseconds(300));
    result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_TRUE(answer("ctr-10").empty());
    EXPECT_THAT(answer("new-2"), ElementsAre("10.89.9.2"));
    // Applied as a change over the last full build, not a rebuild.
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_EQ(result.store->tables()[0]->entry_count(), 301U);
}

TEST_F(ReloadEngineTest, HeaderRewrittenToTheSameLengthPlusAnAppendIsNotTakenForAnAppend) {
    const std::string root_text = big_file(300, "10.89.0.1 127.0.0.53\n");
    dir_.write("podman", root_text);
    pass();
    const auto root = engine_.current()->tables()[0];
    // `podman network update` rewrote the DNS server, then a setup appended a line: not an
    // append (the header differs), but a change the overlay carries, header included.
    std::string text = big_file(300, "10.89.0.1 127.0.0.54\n") + "ab 10.89.9.1  new-1,ab\n";
    dir_.write("podman", text);
    const PassResult result = pass();
    ASSERT_TRUE(result.store);
    const auto& table = result.store->tables()[0];
    EXPECT_EQ(table->base(), root);
    EXPECT_THAT(table->network().dns_servers,
                ElementsAre(base::IpAddress::parse("127.0.0.54").value()));
    EXPECT_THAT(answer("new-1"), ElementsAre("10.89.9.1"));
    // A later append is checked against the new header.
    text += "cd 10.89.9.2  new-2,cd\n";
    dir_.write("podman", text);
    ASSERT_TRUE(pass().store);
    EXPECT_EQ(engine_.current()->tables()[0]->base(), root);
    EXPECT_THAT(engine_.current()->tables()[0]->network().dns_servers,
                ElementsAre(base::IpAddress::parse("127.0.0.54").value()));
    EXPECT_THAT(answer("new-2"), ElementsAre("10.89.9.2"));
    // A header that does not parse is left to a full build, which reports it (once the
    // rewrite, which lost the two appended lines, has been quiet for the settle time).
    dir_.write("podman", big_file(300, "10.89.0.x\n"));
    pass();
    advance(milliseconds(300));
    const PassResult bad = pass();
    EXPECT_TRUE(std::any_of(bad.log.begin(), bad.log.end(), [](const lifecycle::LogLine& line) {
        return line.text.find("bad bind address") != std::string::npos;
    }));
}

} // namespace

namespace {

std::string without_line_of(std::string text, int container) {
    const std::size_t at = text.find(fmt::format("{:064x}", container + 1));
    text.erase(at, text.find('\n', at) + 1 - at);
    return text;
}

TEST_F(ReloadEngineTest, TeardownsAndSetupsAreChangesOverTheLastFullBuild) {
    std::string text = big_file(300);
    dir_.write("podman", text);
    pass();
    const auto root = engine_.current()->tables()[0];
    // netavark's teardown of ctr-10: the file rewritten without its line.
    text = without_line_of(text, 10);
    dir_.write("podman", text);
    pass();
    EXPECT_THAT(answer("ctr-10"), ElementsAre("10.89.1.11")); // held back meanwhile
    advance(milliseconds(300));
    PassResult result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_TRUE(answer("ctr-10").empty());
    EXPECT_THAT(answer("ctr-11"), ElementsAre("10.89.1.12"));
    EXPECT_EQ(result.store->tables()[0]->entry_count(), 299U);
    // A setup after the teardown is read from the file's tail and joins the same change.
    text += fmt::format("{:064x} 10.89.9.1  new-1,{:012x}\n", 0x1ab0, 0x1ab0);
    dir_.write("podman", text);
    result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_THAT(answer("new-1"), ElementsAre("10.89.9.1"));
    EXPECT_TRUE(answer("ctr-10").empty());
    // ctr-10 comes back under its old ID on a new address; then the new container goes.
    text += fmt::format("{:064x} 10.89.9.2  ctr-10,{:012x}\n", 11, 11);
    dir_.write("podman", text);
    pass();
    EXPECT_THAT(answer("ctr-10"), ElementsAre("10.89.9.2"));
    text = without_line_of(text, 0x1ab0 - 1);
    dir_.write("podman", text);
    pass();
    advance(milliseconds(300));
    result = pass();
    ASSERT_TRUE(result.store);
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_TRUE(answer("new-1").empty());
    EXPECT_THAT(answer("ctr-10"), ElementsAre("10.89.9.2"));
    EXPECT_EQ(result.store->tables()[0]->entry_count(), 300U);
    // What the changes kept of the file (its hash, its window) is what a full read finds.
    advance(milliseconds(300));
    pass();
    EXPECT_FALSE(pass().store);
    text += fmt::format("{:064x} 10.89.9.3  new-3\n", 0x1cd0);
    dir_.write("podman", text);
    ASSERT_TRUE(pass().store);
    EXPECT_EQ(engine_.current()->tables()[0]->base(), root);
    EXPECT_THAT(answer("new-3"), ElementsAre("10.89.9.3"));
}

TEST_F(ReloadEngineTest, ATeardownBesideStaleLinesIsAnOverlayWithItsFindingsRenumbered) {
    // Lines after the root reuse an address (a-1 is stale); ctr-5's line shares nothing with
    // them, so its teardown is applied over the root, and a-1's finding moves up a line.
    std::string text = big_file(300);
    dir_.write("podman", text);
    pass();
    const auto root = engine_.current()->tables()[0];
    text += fmt::format("{:064x} 10.89.9.1  a-1\n{:064x} 10.89.9.1  a-2\n", 0x1ab0, 0x1cd0);
    dir_.write("podman", text);
    pass();
    ASSERT_EQ(engine_.current()->findings().size(), 1U);
    EXPECT_EQ(engine_.current()->findings()[0].line, 302);
    text = without_line_of(text, 5);
    const PassResult result = rewrite_and_settle(text);
    ASSERT_TRUE(result.store);
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_TRUE(answer("ctr-5").empty());
    EXPECT_THAT(answer("a-2"), ElementsAre("10.89.9.1"));
    EXPECT_TRUE(answer("a-1").empty());
    ASSERT_EQ(engine_.current()->findings().size(), 1U);
    EXPECT_EQ(engine_.current()->findings()[0].line, 301);
    EXPECT_THAT(engine_.current()->findings()[0].reason, testing::HasSubstr("(line 302)"));
}

TEST_F(ReloadEngineTest, ATeardownOfALineAStaleOneDependsOnJudgesItAgain) {
    // old-7 is stale because ctr-7 took its address; once ctr-7 is torn down, old-7 serves
    // again: both lines are judged again at every change, over the root.
    std::string text =
        "10.89.0.1\n" + fmt::format("{:064x} 10.89.1.8  old-7\n", 0x1ab0) + big_file(300, "");
    dir_.write("podman", text);
    pass();
    const auto root = engine_.current()->tables()[0];
    ASSERT_EQ(engine_.current()->findings().size(), 1U);
    EXPECT_THAT(engine_.current()->findings()[0].reason, testing::HasSubstr("(line 10)"));
    EXPECT_TRUE(answer("old-7").empty());
    // ctr-0 shares nothing with either; ctr-7 is named a line higher.
    text = without_line_of(text, 0);
    ASSERT_TRUE(rewrite_and_settle(text).store);
    EXPECT_EQ(engine_.current()->tables()[0]->base(), root);
    ASSERT_EQ(engine_.current()->findings().size(), 1U);
    EXPECT_EQ(engine_.current()->findings()[0].line, 2);
    EXPECT_THAT(engine_.current()->findings()[0].reason, testing::HasSubstr("(line 9)"));
    EXPECT_TRUE(answer("old-7").empty());
    text = without_line_of(text, 7);
    const PassResult result = rewrite_and_settle(text);
    ASSERT_TRUE(result.store);
    EXPECT_EQ(result.store->tables()[0]->base(), root);
    EXPECT_THAT(answer("old-7"), ElementsAre("10.89.1.8"));
    EXPECT_TRUE(engine_.current()->findings().empty());
}

// Random churn as netavark makes it (setups append, teardowns rewrite without lines, `network
// update` rewrites the header, recreated containers reuse names, addresses and IDs): after each
// change settles, the engine answers exactly as a full build of the file on disk.
TEST_F(ReloadEngineTest, RandomChurnAnswersAsAFullBuildOfTheFileOnDisk) {
    std::mt19937 random(7);
    const auto pick = [&](int below) {
        return std::uniform_int_distribution<int>(0, below - 1)(random);
    };
    std::string header = "10.89.0.1 127.0.0.53\n";
    std::vector<std::string> lines;
    int next_id = 1;
    // The first 100 steps make no stale line; after them, now and then a line reuses an old ID,
    // a used address or a used name, and the stale lines stay.
    const auto new_line = [&](bool stale_ones) {
        const auto sometimes = [&]() {
            return stale_ones && pick(20) == 0;
        };
        const int id = sometimes() ? 1 + pick(next_id) : next_id++;
        const int host = sometimes() ? pick(400) : 400 + pick(60000);
        const std::string name = fmt::format("ctr-{}", sometimes() ? pick(400) : id);
        return fmt::format("{:064x} 10.{}.{}.{}  {},shared-{},{:012x}\n", id, 89 + host / 65536,
                           host / 256 % 256, host % 256, name, pick(5), id);
    };
    for (int i = 0; i < 400; ++i) {
        lines.push_back(fmt::format("{:064x} 10.89.{}.{}  ctr-{},shared-{},{:012x}\n", next_id,
                                    next_id / 256, next_id % 256, next_id, next_id % 5, next_id));
        ++next_id;
    }
    const auto file_text = [&]() {
        std::string text = header;
        for (const auto& line : lines) {
            text += line;
        }
        return text;
    };
    dir_.write("podman", file_text());
    pass();
    int overlays = 0;
    int header_changes = 0;
    int overlays_over_stale_lines = 0;
    for (int step = 0; step < 260; ++step) {
        const int what = pick(10);
        if (what < 4) {
            for (int n = 1 + pick(3); n > 0; --n) {
                lines.push_back(new_line(step >= 100));
            }
        } else if (what < 9 && !lines.empty()) {
            for (int n = 1 + pick(2); n > 0 && !lines.empty(); --n) {
                lines.erase(lines.begin() + pick(static_cast<int>(lines.size())));
            }
        } else {
            header = fmt::format("10.89.0.1 127.0.0.{}\n", 1 + pick(200));
            header_changes += step < 100 ? 1 : 0;
        }
        const std::string text = file_text();
        dir_.write("podman", text);
        pass();
        advance(milliseconds(300));
        pass();
        advance(milliseconds(300));
        pass();
        const auto& table = *engine_.current()->tables()[0];
        overlays += step < 100 && table.base() != nullptr ? 1 : 0;
        overlays_over_stale_lines += table.base() != nullptr && !table.findings().empty() ? 1 : 0;
        config::NetworkFileResult parsed = config::parse_network_file("podman", "podman", text);
        ASSERT_TRUE(parsed.file);
        const std::array files{&*parsed.file};
        const auto full = records::NetworkTable::build(files);
        SCOPED_TRACE(fmt::format("step {}", step));
        ASSERT_EQ(table.entry_count(), full->entry_count());
        ASSERT_EQ(table.network().dns_servers, full->network().dns_servers);
        std::vector<std::string> names;
        full->for_each_name([&](std::string_view name) { names.emplace_back(name); });
        std::vector<std::string> engine_names;
        table.for_each_name([&](std::string_view name) { engine_names.emplace_back(name); });
        ASSERT_EQ(engine_names, names);
        for (const auto& name : names) {
            std::vector<base::IpAddress> expected;
            std::vector<base::IpAddress> got;
            full->append_addresses(name, 0, expected);
            table.append_addresses(name, 0, got);
            ASSERT_EQ(got, expected) << name;
        }
        ASSERT_EQ(table.findings().size(), full->findings().size());
        for (std::size_t i = 0; i < full->findings().size(); ++i) {
            ASSERT_EQ(table.findings()[i].line, full->findings()[i].line);
            ASSERT_EQ(table.findings()[i].reason, full->findings()[i].reason);
            ASSERT_EQ(table.findings()[i].status, full->findings()[i].status);
        }
    }
    // Without stale lines, every change (header rewrites included) was applied over the last
    // full build, not by rebuilding; with them, most changes still were.
    EXPECT_EQ(overlays, 100);
    EXPECT_GT(overlays_over_stale_lines, 120);
    EXPECT_GT(header_changes, 0);
}

} // namespace

namespace {

TEST_F(ReloadEngineTest, AFileRewrittenDuringAFullBuildIsHeldBackNotTakenForANewFile) {
    // A network with a stale line (an address reused).
    const std::string stale = fmt::format("{:064x} 10.89.2.50  old-299\n", 0x1ab0);
    const std::string first = "10.89.0.1 127.0.0.53\n" + stale + big_file(300, "");
    dir_.write("podman", first);
    // A `network update` and a line that repeats one already there (only a full build judges
    // a second line of a container the root serves as it is); while the build reads its lines
    // back, netavark truncates the file and has rewritten part of it.
    const std::string lines = big_file(300, "");
    const std::string updated =
        "10.89.0.1 127.0.0.54\n" + stale + lines + lines.substr(0, lines.find('\n') + 1);
    const std::string half = updated.substr(0, updated.find('\n', updated.size() / 2) + 1);
    bool rewrite = false;
    int builds_seen_rewriting = 0;
    ReloadEngine engine(dir_.path(), lifecycle::ReloadSettings{milliseconds(250), [&]() {
                                                                   if (rewrite) {
                                                                       ++builds_seen_rewriting;
                                                                       dir_.write("podman", half);
                                                                   }
                                                               }});
    engine.run_pass(now_);
    const auto answer_of = [&](std::string_view name) {
        std::vector<base::IpAddress> out;
        const std::array nets{records::NetworkId{0}};
        engine.current()->lookup_name(nets, name, out);
        return out.size() == 1 ? out[0].to_string() : std::string("none");
    };
    ASSERT_EQ(answer_of("ctr-299"), "10.89.2.50");
    dir_.write("podman", updated);
    rewrite = true;
    PassResult result = engine.run_pass(now_);
    rewrite = false;
    EXPECT_FALSE(result.store); // the build saw changed lines and was dropped
    ASSERT_TRUE(result.recheck_at);
    EXPECT_EQ(answer_of("ctr-299"), "10.89.2.50");
    // The next look finds the half-written file: held back against what was applied, not
    // served as if it were a new file.
    now_ += milliseconds(10);
    result = engine.run_pass(now_);
    EXPECT_EQ(answer_of("ctr-299"), "10.89.2.50");
    // netavark finishes; the whole file is applied.
    dir_.write("podman", updated);
    now_ += milliseconds(10);
    result = engine.run_pass(now_);
    ASSERT_TRUE(result.store);
    EXPECT_EQ(builds_seen_rewriting, 1);
    EXPECT_EQ(result.store->tables()[0]->base(), nullptr);
    EXPECT_EQ(answer_of("ctr-299"), "10.89.2.50");
    EXPECT_THAT(result.store->tables()[0]->network().dns_servers,
                ElementsAre(base::IpAddress::parse("127.0.0.54").value()));
}

} // namespace
