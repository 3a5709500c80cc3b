// inspect::answered_addresses over hand-built replies (untrusted bytes).
#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "inspect/wait_name.hpp"

namespace {

using testing::ElementsAre;
using testing::IsEmpty;

// Query for "app." type A, ID 0x1234.
const std::vector<std::uint8_t> kQuery{0x12, 0x34, 0x01, 0x00, 0,   1, 0, 0, 0, 0, 0,
                                       0,    3,    'a',  'p',  'p', 0, 0, 1, 0, 1};

std::vector<std::uint8_t> reply(std::uint8_t rcode, std::vector<std::vector<std::uint8_t>> rrs) {
    std::vector<std::uint8_t> out{0x12, 0x34, 0x81, static_cast<std::uint8_t>(0x80 | rcode),
                                  0,    1,    0,    static_cast<std::uint8_t>(rrs.size()),
                                  0,    0,    0,    0,
                                  3,    'a',  'p',  'p',
                                  0,    0,    1,    0,
                                  1};
    for (const auto& rr : rrs) {
        out.insert(out.end(), rr.begin(), rr.end());
    }
    return out;
}

std::vector<std::uint8_t> a_record(std::uint8_t last_octet) {
    return {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 89, 0, last_octet};
}

TEST(AnsweredAddresses, ReadsTheAnswerSection) {
    std::string rcode;
    EXPECT_THAT(inspect::answered_addresses(kQuery, reply(0, {a_record(5), a_record(6)}), rcode),
                ElementsAre("10.89.0.5", "10.89.0.6"));
    EXPECT_EQ(rcode, "NOERROR");
}

TEST(AnsweredAddresses, NodataAndNxdomainAnswerNothing) {
    std::string rcode;
    EXPECT_THAT(inspect::answered_addresses(kQuery, reply(0, {}), rcode), IsEmpty());
    EXPECT_EQ(rcode, "NOERROR");
    EXPECT_THAT(inspect::answered_addresses(kQuery, reply(3, {}), rcode), IsEmpty());
    EXPECT_EQ(rcode, "NXDOMAIN");
}

TEST(AnsweredAddresses, OtherIdsAndTruncatedRecordsAreNotAnswers) {
    std::string rcode;
    auto other = reply(0, {a_record(5)});
    other[1] = 0x35;
    EXPECT_THAT(inspect::answered_addresses(kQuery, other, rcode), IsEmpty());
    EXPECT_EQ(rcode, "not ours");
    auto cut = reply(0, {a_record(5)});
    cut.resize(cut.size() - 2);
    EXPECT_THAT(inspect::answered_addresses(kQuery, cut, rcode), IsEmpty());
    for (std::size_t size = 0; size < kQuery.size(); ++size) {
        const auto whole = reply(0, {a_record(5)});
        EXPECT_THAT(
            inspect::answered_addresses(
                kQuery,
                std::vector<std::uint8_t>(whole.begin(), whole.begin() + static_cast<long>(size)),
                rcode),
            IsEmpty());
    }
}

} // namespace
