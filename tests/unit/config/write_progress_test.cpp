// The "being written" rules of config/write_progress: a table of texts and what they mean.
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "config/write_progress.hpp"

namespace {

using config::LineDigest;
using config::WriteState;

constexpr std::string_view kApplied = "10.89.0.1\n"
                                      "a1 10.89.0.2  app,a1\n"
                                      "b1 10.89.0.3  db,b1\n";

LineDigest digest_of(std::string_view text) {
    LineDigest digest;
    config::judge_write(text, nullptr, digest);
    return digest;
}

struct Case {
    const char* what;
    std::string_view text;
    bool against_applied;
    WriteState expected;
};

class WriteProgress : public testing::TestWithParam<Case> {};

TEST_P(WriteProgress, Judges) {
    const Case& c = GetParam();
    const LineDigest applied = digest_of(kApplied);
    LineDigest digest;
    EXPECT_EQ(config::judge_write(c.text, c.against_applied ? &applied : nullptr, digest),
              c.expected)
        << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, WriteProgress,
    testing::Values(
        Case{"the applied text again", kApplied, true, WriteState::Complete},
        Case{"a line appended (setup)",
             "10.89.0.1\na1 10.89.0.2  app,a1\nb1 10.89.0.3  db,b1\nc1 10.89.0.4  web,c1\n", true,
             WriteState::Complete},
        Case{"a new file, complete", kApplied, false, WriteState::Complete},
        Case{"just truncated", "", true, WriteState::Empty},
        Case{"blank lines only", "\n\n", true, WriteState::Empty},
        Case{"header only, mid-rewrite", "10.89.0.1\n", true, WriteState::HeaderOnly},
        Case{"header only, new file (setup between its writes)", "10.89.0.1\n", false,
             WriteState::HeaderOnly},
        Case{"header cut off", "10.89.0", true, WriteState::Unterminated},
        Case{"address cut off", "10.89.0.1\na1 10.89.0.1", true, WriteState::Unterminated},
        Case{"name cut off", "10.89.0.1\na1 10.89.0.2  ap", true, WriteState::Unterminated},
        Case{"line written, newline not yet", "10.89.0.1\na1 10.89.0.2  app,a1", true,
             WriteState::Unterminated},
        Case{"half the lines rewritten", "10.89.0.1\na1 10.89.0.2  app,a1\n", true,
             WriteState::LostLines},
        Case{"a line changed (network update keeps lines; this is not that)",
             "10.89.0.1\na1 10.89.0.2  app,a1\nb1 10.89.0.9  db,b1\n", true, WriteState::LostLines},
        Case{"network update: new header, same lines",
             "10.89.0.1 127.0.0.9\na1 10.89.0.2  app,a1\nb1 10.89.0.3  db,b1\n", true,
             WriteState::Complete},
        Case{"lines in another order", "10.89.0.1\nb1 10.89.0.3  db,b1\na1 10.89.0.2  app,a1\n",
             true, WriteState::Complete}),
    [](const testing::TestParamInfo<Case>& param) { return "case" + std::to_string(param.index); });

TEST(WriteProgress, HeaderOnlyStaysCompleteWhenThatIsWhatWasApplied) {
    const LineDigest applied = digest_of("10.89.0.1\n");
    LineDigest digest;
    EXPECT_EQ(config::judge_write("10.89.0.1\n", &applied, digest), WriteState::Complete);
}

TEST(WriteProgress, DuplicateLinesCountAsAMultiset) {
    const LineDigest applied = digest_of("10.89.0.1\nx 10.89.0.2  a\nx 10.89.0.2  a\n");
    LineDigest digest;
    EXPECT_EQ(config::judge_write("10.89.0.1\nx 10.89.0.2  a\n", &applied, digest),
              WriteState::LostLines);
}

TEST(WriteProgress, CompleteLinesDropsOnlyTheCutOffTail) {
    EXPECT_EQ(config::complete_lines("h\na b\nc d"), "h\na b\n");
    EXPECT_EQ(config::complete_lines("h\n"), "h\n");
    EXPECT_EQ(config::complete_lines("h"), "");
    EXPECT_EQ(config::complete_lines(""), "");
}

TEST(WriteProgress, TextHashExtendsOverAnAppend) {
    const std::string_view whole = "10.89.0.1\na1 10.89.0.2  app\nb1 10.89.0.3  db\n";
    const std::uint64_t prefix =
        config::extend_text_hash(config::kTextHashSeed, whole.substr(0, 28));
    EXPECT_EQ(config::extend_text_hash(prefix, whole.substr(28)),
              config::extend_text_hash(config::kTextHashSeed, whole));
    EXPECT_NE(config::extend_text_hash(config::kTextHashSeed, "ab"),
              config::extend_text_hash(config::kTextHashSeed, "ba"));
}

TEST(WriteProgress, TextHashIsTheSameForEverySplitOfTheBytes) {
    // Blocks of eight bytes inside, single bytes at the ends: every split point, across block
    // boundaries, in three pieces too.
    const std::string_view text = "10.89.0.1\na1 10.89.0.2  app,a1\nb1 10.89.0.3 fd00::3 db\n";
    const std::uint64_t whole = config::extend_text_hash(config::kTextHashSeed, text);
    for (std::size_t first = 0; first <= text.size(); ++first) {
        for (std::size_t second = first; second <= text.size(); second += 3) {
            std::uint64_t hash =
                config::extend_text_hash(config::kTextHashSeed, text.substr(0, first));
            hash = config::extend_text_hash(hash, text.substr(first, second - first));
            hash = config::extend_text_hash(hash, text.substr(second));
            ASSERT_EQ(hash, whole) << first << " " << second;
        }
    }
    // One byte changed anywhere changes it.
    for (std::size_t at = 0; at < text.size(); ++at) {
        std::string changed(text);
        changed[at] = static_cast<char>(changed[at] ^ 1);
        EXPECT_NE(config::extend_text_hash(config::kTextHashSeed, changed), whole) << at;
    }
}

} // namespace
