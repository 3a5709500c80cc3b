#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "config/network_file.hpp"
#include "query/handler.hpp"
#include "query/lookup_warmer.hpp"
#include "records/record_store.hpp"
#include "support/dns_message.hpp"

namespace {

using test_support::DnsMessage;
using test_support::kTypeA;
using test_support::kTypeAaaa;
using test_support::kTypePtr;
using test_support::make_query;

base::IpAddress ip(std::string_view text) {
    return base::IpAddress::parse(text).value();
}

std::shared_ptr<const records::RecordStore> store_of(std::string_view text) {
    auto result = config::parse_network_file("n", "n", text);
    std::vector<config::NetworkFile> files;
    files.push_back(std::move(*result.file));
    return records::RecordStore::build(files);
}

class LookupWarmerTest : public testing::Test {
protected:
    std::shared_ptr<const records::RecordStore> store_ =
        store_of("10.1.0.1\n"
                 "c1 10.1.0.2 fd00::2 web,c1short\n");
    query::Settings settings_;
    query::Client container_{ip("10.1.0.2"), 0, dns::Transport::Udp};
    query::Client host_{ip("10.1.0.1"), 0, dns::Transport::Udp};

    query::LookupWarmer noted(const std::vector<std::uint8_t>& request,
                              const query::Client& client) {
        query::LookupWarmer warmer;
        warmer.note(request, client, *store_, settings_);
        for (unsigned step = 1; step < query::LookupWarmer::kSteps; ++step) {
            warmer.warm(*store_, step);
        }
        return warmer;
    }
};

TEST_F(LookupWarmerTest, NotesTheKeyTheHandlerLooksUp) {
    EXPECT_EQ(noted(make_query("web.dns.podman."), container_).noted_name(), "web");
    EXPECT_EQ(noted(make_query("Web.DNS.Podman."), container_).noted_name(), "web");
    EXPECT_EQ(noted(make_query("c1short.", kTypeAaaa), container_).noted_name(), "c1short");
    EXPECT_EQ(noted(make_query("a.b-c_d.example."), container_).noted_name(), "a.b-c_d.example");
    EXPECT_EQ(noted(make_query("*.wild."), container_).noted_name(), "*.wild");
    EXPECT_EQ(noted(make_query("."), container_).noted_name(), "");
    // Another type is looked up too (NODATA for a known name); the host's query searches the
    // listener's network.
    EXPECT_EQ(noted(make_query("web.", 15), container_).noted_name(), "web");
    EXPECT_EQ(noted(make_query("web."), host_).noted_name(), "web");
    EXPECT_EQ(noted(make_query("web."), container_).noted_address(), std::nullopt);
}

TEST_F(LookupWarmerTest, NotesTheAddressOfACanonicalReverseName) {
    EXPECT_EQ(noted(make_query("2.0.1.10.in-addr.arpa.", kTypePtr), container_).noted_address(),
              ip("10.1.0.2"));
    const std::string v6 =
        "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.";
    EXPECT_EQ(noted(make_query(v6, kTypePtr), container_).noted_address(), ip("fd00::2"));
    // Odd shapes are left to the handler's text path; the host gets no local PTR answer.
    EXPECT_EQ(noted(make_query("02.0.1.10.in-addr.arpa.", kTypePtr), container_).noted_address(),
              std::nullopt);
    EXPECT_EQ(noted(make_query("2.0.1.10.IN-ADDR.ARPA.", kTypePtr), container_).noted_address(),
              std::nullopt);
    EXPECT_EQ(noted(make_query("2.0.1.10.in-addr.arpa.", kTypePtr), host_).noted_address(),
              std::nullopt);
    EXPECT_EQ(noted(make_query("2.0.1.10.in-addr.arpa.", kTypePtr), container_).noted_name(),
              std::nullopt);
}

TEST_F(LookupWarmerTest, NamesItWouldHaveToEscapeOrCannotReadAreLeftCold) {
    const auto nothing = [](const query::LookupWarmer& warmer) {
        return !warmer.noted_name() && !warmer.noted_address();
    };
    // A label with a dot in it, a leading '-', a space: format_text escapes them.
    DnsMessage dotted;
    dotted.header(1, 0x0100, 1, 0, 0, 0).raw({3, 'a', '.', 'b', 0}).u16(kTypeA).u16(1);
    EXPECT_TRUE(nothing(noted(dotted.bytes(), container_)));
    EXPECT_TRUE(nothing(noted(make_query("-web."), container_)));
    DnsMessage spaced;
    spaced.header(1, 0x0100, 1, 0, 0, 0).raw({3, 'a', ' ', 'b', 0}).u16(kTypeA).u16(1);
    EXPECT_TRUE(nothing(noted(spaced.bytes(), container_)));
    // A compressed question, a truncated one, a label past the end, no question at all.
    DnsMessage compressed;
    compressed.header(1, 0x0100, 1, 0, 0, 0).raw({0xc0, 0x0c}).u16(kTypeA).u16(1);
    EXPECT_TRUE(nothing(noted(compressed.bytes(), container_)));
    auto truncated = make_query("web.");
    truncated.resize(truncated.size() - 3);
    EXPECT_TRUE(nothing(noted(truncated, container_)));
    DnsMessage overrun;
    overrun.header(1, 0x0100, 1, 0, 0, 0).raw({40, 'a', 'b'});
    EXPECT_TRUE(nothing(noted(overrun.bytes(), container_)));
    EXPECT_TRUE(nothing(noted(std::vector<std::uint8_t>(12, 0), container_)));
    EXPECT_TRUE(nothing(noted({}, container_)));
    // A note is replaced by the next one, not added to.
    auto warmer = noted(make_query("web."), container_);
    warmer.note(truncated, container_, *store_, settings_);
    EXPECT_TRUE(nothing(warmer));
}

// What the warm-up worked out, handed to handle(), gives the reply handle() gives alone.
TEST_F(LookupWarmerTest, WhatItKnowsAnswersAsTheHandlerAlone) {
    const std::string v6 =
        "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.";
    const std::vector<std::vector<std::uint8_t>> requests = {
        make_query("web.dns.podman."),
        make_query("C1SHORT.", kTypeAaaa),
        make_query("web.", 15),
        make_query("missing.dns.podman."),
        make_query("example.com."),
        make_query("2.0.1.10.in-addr.arpa.", kTypePtr),
        make_query(v6, kTypePtr),
        make_query("9.0.1.10.in-addr.arpa.", kTypePtr),
        make_query("2.0.1.10.in-addr.arpa.")};
    for (const auto& client : {container_, host_}) {
        for (const auto& request : requests) {
            const auto warmer = noted(request, client);
            const auto known = warmer.known();
            if (!known) {
                continue;
            }
            std::vector<std::uint8_t> cold_out(512);
            std::vector<std::uint8_t> known_out(512);
            query::Verdict cold;
            query::Verdict with_known;
            query::handle(request, client, *store_, settings_, cold_out, cold);
            query::handle(request, client, *store_, settings_, known_out, with_known, &*known);
            ASSERT_EQ(cold.action, with_known.action);
            ASSERT_EQ(cold.reply_size, with_known.reply_size);
            cold_out.resize(cold.reply_size);
            known_out.resize(with_known.reply_size);
            EXPECT_EQ(cold_out, known_out);
        }
    }
    // Something known for each kind, so the loop above compared replies.
    EXPECT_TRUE(noted(make_query("web."), container_).known()->name_key);
    EXPECT_TRUE(noted(make_query(v6, kTypePtr), container_).known()->reverse);
    EXPECT_FALSE(noted(make_query("-web."), container_).known());
}

// A requester in more networks than the warm-up keeps is looked up by handle() itself.
TEST(LookupWarmerNetworks, ARequesterInManyNetworksIsNotKnown) {
    std::vector<config::NetworkFile> files;
    for (int i = 0; i < 6; ++i) {
        const std::string name = "n" + std::to_string(i);
        auto result = config::parse_network_file(
            name, name,
            "10." + std::to_string(i) + ".0.1\nc1 10.9.0.2  web" + std::to_string(i) + "\n");
        files.push_back(std::move(*result.file));
    }
    const auto store = records::RecordStore::build(files);
    const query::Settings settings;
    const query::Client client{ip("10.9.0.2"), 0, dns::Transport::Udp};
    query::LookupWarmer warmer;
    warmer.note(make_query("web3."), client, *store, settings);
    EXPECT_EQ(warmer.noted_name(), "web3");
    EXPECT_FALSE(warmer.known());
}

TEST(RecordStoreWarming, OnlyAStoreTooLargeForTheCacheIsWarmed) {
    EXPECT_FALSE(store_of("10.1.0.1\nc1 10.1.0.2  web\n")->worth_warming());
    std::string big = "10.2.0.1\n";
    for (int i = 0; i < 5000; ++i) {
        big += "id" + std::to_string(i) + " 10.2." + std::to_string(i / 250) + "." +
               std::to_string(i % 250 + 2) + "  name" + std::to_string(i) + "\n";
    }
    EXPECT_TRUE(store_of(big)->worth_warming());
}

} // namespace
