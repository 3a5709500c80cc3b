#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dns/edns.hpp"
#include "dns/response_scan.hpp"
#include "support/dns_message.hpp"

namespace dns {
namespace {

using test_support::DnsMessage;
using test_support::kTypeA;

constexpr unsigned kResponseFlags = 0x8180;

// One option the reader is expected to yield.
struct ExpectedOption {
    std::uint16_t code;
    std::vector<std::uint8_t> data;
    std::size_t offset;
};

struct OptionCase {
    std::string name;
    std::vector<std::uint8_t> options; // an OPT record's RDATA
    std::vector<ExpectedOption> yields;
    OptionStep last;
};

std::vector<OptionCase> option_cases() {
    return {
        {"no options", {}, {}, OptionStep::End},
        {"one option", {0, 10, 0, 2, 0xab, 0xcd}, {{10, {0xab, 0xcd}, 0}}, OptionStep::End},
        {"one option without data", {0, 8, 0, 0}, {{8, {}, 0}}, OptionStep::End},
        {"a lone byte", {0}, {}, OptionStep::Malformed},
        {"truncated option header", {0, 10, 0}, {}, OptionStep::Malformed},
        {"truncated header after a whole option",
         {0, 8, 0, 0, 0, 10},
         {{8, {}, 0}},
         OptionStep::Malformed},
        {"option length past the end", {0, 10, 0, 5, 1, 2}, {}, OptionStep::Malformed},
        {"option length one past the end after a whole option",
         {0, 8, 0, 1, 7, 0, 10, 0, 2, 1},
         {{8, {7}, 0}},
         OptionStep::Malformed},
        // RFC 6891 §6.1.2 does not forbid repeats; both are yielded, in order.
        {"two options with the same code",
         {0, 10, 0, 1, 7, 0, 10, 0, 0},
         {{10, {7}, 0}, {10, {}, 5}},
         OptionStep::End},
    };
}

TEST(EdnsOptionReader, Cases) {
    for (const OptionCase& option_case : option_cases()) {
        SCOPED_TRACE(option_case.name);
        EdnsOptionReader reader(option_case.options);
        EdnsOption option;
        std::size_t yielded = 0;
        OptionStep step = OptionStep::Option;
        while ((step = reader.next(option)) == OptionStep::Option) {
            ASSERT_LT(yielded, option_case.yields.size());
            const ExpectedOption& expected = option_case.yields[yielded];
            EXPECT_EQ(option.code, expected.code) << "option " << yielded;
            EXPECT_EQ(std::vector<std::uint8_t>(option.data.begin(), option.data.end()),
                      expected.data)
                << "option " << yielded;
            EXPECT_EQ(option.offset, expected.offset) << "option " << yielded;
            EXPECT_EQ(option.wire_size(), kEdnsOptionHeaderSize + expected.data.size());
            EXPECT_LE(option.offset + option.wire_size(), option_case.options.size());
            ++yielded;
        }
        EXPECT_EQ(yielded, option_case.yields.size());
        EXPECT_EQ(step, option_case.last);
        EXPECT_EQ(reader.next(option), option_case.last) << "the end is sticky";

        // The query parse's check is the same walk: well formed exactly when it ends cleanly.
        Edns edns;
        edns.options_length = option_case.options.size();
        EXPECT_EQ(edns.options_well_formed(option_case.options), step == OptionStep::End);
    }
}

// A response `a` IN A whose OPT record carries `options`, scanned.
DnsMessage response_with_options(std::initializer_list<unsigned> options, MessageScan& scan) {
    DnsMessage packet;
    packet.header(1, kResponseFlags, 1, 0, 0, 1).question("a", kTypeA).opt(1232, 0, options);
    EXPECT_TRUE(scan_message(packet.span(), scan));
    return packet;
}

TEST(EdnsOptionReader, LookupSeesOptionsBeforeAMalformedOne) {
    MessageScan scan;
    const DnsMessage packet = response_with_options({0, 8, 0, 0, 0, 10, 0, 9, 1}, scan);
    EXPECT_TRUE(has_edns_option(packet.span(), scan, kEdnsOptionClientSubnet));
    EXPECT_FALSE(has_edns_option(packet.span(), scan, kEdnsOptionCookie));
}

TEST(EdnsOptionReader, StripRemovesEveryCopyOfTheCode) {
    MessageScan scan;
    const DnsMessage packet =
        response_with_options({0, 10, 0, 1, 7, 0, 15, 0, 1, 9, 0, 10, 0, 0}, scan);
    std::vector<std::uint8_t> out(packet.size());
    const std::size_t size = copy_without_edns_option(packet.span(), scan, kEdnsOptionCookie, out);
    ASSERT_EQ(size, packet.size() - 9);
    out.resize(size);

    MessageScan stripped;
    ASSERT_TRUE(scan_message(out, stripped));
    ASSERT_TRUE(stripped.edns.has_value());
    const auto options = stripped.edns->options(out);
    EXPECT_EQ(std::vector<std::uint8_t>(options.begin(), options.end()),
              (std::vector<std::uint8_t>{0, 15, 0, 1, 9}));
    EXPECT_FALSE(has_edns_option(out, stripped, kEdnsOptionCookie));
}

} // namespace
} // namespace dns
