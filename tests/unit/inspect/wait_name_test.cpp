// inspect::answered_addresses over hand-built replies (untrusted bytes).
#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "inspect/wait_name.hpp"
#include "support/dns_message.hpp"

namespace {

using testing::ElementsAre;
using testing::IsEmpty;

using test_support::DnsMessage;
using test_support::kTypeA;

const std::vector<std::uint8_t> kQuery = test_support::make_query("app", kTypeA, 0x1234);

std::vector<std::uint8_t> reply(std::uint8_t rcode, std::vector<std::vector<std::uint8_t>> rrs) {
    DnsMessage out;
    out.header(0x1234, 0x8180U | rcode, 1, static_cast<unsigned>(rrs.size()), 0, 0)
        .question("app", kTypeA);
    for (const auto& rr : rrs) {
        out.bytes().insert(out.bytes().end(), rr.begin(), rr.end());
    }
    return out.bytes();
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
