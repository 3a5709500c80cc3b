#include <algorithm>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/host_name.hpp"
#include "network_files.hpp"
#include "records/record_store.hpp"

namespace {

using records::NameFilter;
using records::NetworkId;
using records::NetworkTable;
using records::RecordStore;
using records_test::ip;
using records_test::ips;
using records_test::network_file;
using testing::ElementsAre;
using testing::IsEmpty;
using testing::Optional;

std::vector<base::IpAddress> lookup(const RecordStore& store, std::span<const NetworkId> nets,
                                    std::string_view name) {
    std::vector<base::IpAddress> out{ip("192.0.2.99")}; // must be cleared by lookup_name
    const bool found = store.lookup_name(nets, name, out);
    EXPECT_EQ(found, !out.empty()) << name;
    return out;
}

// names_for as a value: nullopt when no network knows the address.
std::optional<std::vector<std::string>> names_for(const RecordStore& store,
                                                  std::span<const NetworkId> nets,
                                                  std::string_view address,
                                                  NameFilter which = NameFilter::All) {
    std::vector<std::string_view> out{"stale"}; // must be cleared by names_for
    if (!store.names_for(nets, ip(address), out, which)) {
        EXPECT_TRUE(out.empty());
        return std::nullopt;
    }
    return std::vector<std::string>(out.begin(), out.end());
}

std::vector<base::IpAddress> dns_servers(const RecordStore& store, std::string_view address) {
    const auto servers = store.container_dns_servers(ip(address));
    return {servers.begin(), servers.end()};
}

NetworkId id_of(const RecordStore& store, std::string_view name) {
    const auto id = store.find_network(name);
    EXPECT_TRUE(id.has_value()) << name;
    return id.value_or(0);
}

// Two normal networks and one internal one, in the shapes netavark writes.
std::shared_ptr<const RecordStore> sample_store() {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("podman2", "10.89.0.1\n"
                                            "b1 10.89.0.2  bone\n"
                                            "a1 10.89.0.3  aone,shared\n"));
    files.push_back(network_file("podman1", "10.88.0.1,fd00:88::1 127.0.0.53,127.0.0.54\n"
                                            "a1 10.88.0.2 fd00:88::2 aone,a1alias\n"
                                            "a2 10.88.0.3  atwo,shared 127.0.0.55\n"
                                            "a3 10.88.0.4  athree,shared\n"));
    files.push_back(network_file("secret%int", "10.90.0.1 127.0.0.56\n"
                                               "c1 10.90.0.2  cone 127.0.0.57\n"
                                               "a2 10.90.0.3  atwo\n"));
    return RecordStore::build(files);
}

TEST(RecordStore, NetworksAreSortedByNameWithTheirHeaders) {
    const auto store = sample_store();
    const auto networks = store->networks();
    ASSERT_EQ(networks.size(), 3U);
    EXPECT_EQ(networks[0].name, "podman1");
    EXPECT_EQ(networks[1].name, "podman2");
    EXPECT_EQ(networks[2].name, "secret");
    EXPECT_THAT(networks[0].bind_ips, ElementsAre(ip("10.88.0.1"), ip("fd00:88::1")));
    EXPECT_THAT(networks[0].dns_servers, ElementsAre(ip("127.0.0.53"), ip("127.0.0.54")));
    EXPECT_FALSE(networks[0].internal);
    EXPECT_TRUE(networks[2].internal);
    EXPECT_THAT(networks[2].dns_servers, IsEmpty()); // contract §3.3: ignored for internal
    EXPECT_EQ(store->find_network("podman2"), std::optional<NetworkId>(1));
    EXPECT_EQ(store->find_network("secret"), std::optional<NetworkId>(2));
    EXPECT_EQ(store->find_network("secret%int"), std::nullopt);
    EXPECT_EQ(store->find_network("nope"), std::nullopt);
    EXPECT_EQ(store->find_network(""), std::nullopt);
}

TEST(RecordStore, LooksUpNamesOfBothFamiliesInOneNetwork) {
    const auto store = sample_store();
    const std::array nets{id_of(*store, "podman1")};

    struct Case {
        std::string_view name;
        std::vector<base::IpAddress> addresses;
    };

    const Case cases[] = {
        {"aone", ips({"10.88.0.2", "fd00:88::2"})},
        {"a1alias", ips({"10.88.0.2", "fd00:88::2"})},
        {"athree", ips({"10.88.0.4"})},
        // Not in this network, not a name (the ID), and lookups take the key as given.
        {"bone", {}},
        {"a1", {}},
        {"AONE", {}},
        {"aone.", {}},
        {"", {}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(testing::Message() << "name '" << c.name << "'");
        EXPECT_EQ(lookup(*store, nets, c.name), c.addresses);
    }
}

TEST(RecordStore, SharedAliasAnswersNewestEntryFirst) {
    const auto store = sample_store();
    const std::array nets{id_of(*store, "podman1")};
    EXPECT_THAT(lookup(*store, nets, "shared"), ElementsAre(ip("10.88.0.4"), ip("10.88.0.3")));
}

TEST(RecordStore, MultiNetworkLookupFollowsTheGivenNetworkOrderWithoutDuplicates) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n1", "10.1.0.1\n"
                                       "x1 10.1.0.2  one,web,web\n"
                                       "x2 10.1.0.3  two,web\n"));
    files.push_back(network_file("n2", "10.2.0.1\n"
                                       "x3 10.2.0.2  three,web\n"
                                       "x4 10.1.0.2  four,web\n")); // same address as x1 in n1
    const auto store = RecordStore::build(files);
    EXPECT_THAT(store->findings(), IsEmpty());
    const NetworkId n1 = id_of(*store, "n1");
    const NetworkId n2 = id_of(*store, "n2");

    struct Case {
        std::vector<NetworkId> networks;
        std::vector<base::IpAddress> addresses;
    };

    const Case cases[] = {
        {{n1}, ips({"10.1.0.3", "10.1.0.2"})},
        {{n1, n2}, ips({"10.1.0.3", "10.1.0.2", "10.2.0.2"})},
        {{n2, n1}, ips({"10.1.0.2", "10.2.0.2", "10.1.0.3"})},
        // Unknown ids are skipped, as aardvark skips a network missing from its tables.
        {{NetworkId{7}, n2}, ips({"10.1.0.2", "10.2.0.2"})},
        {{}, {}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(testing::Message() << "networks " << testing::PrintToString(c.networks));
        EXPECT_EQ(lookup(*store, c.networks, "web"), c.addresses);
    }
}

TEST(RecordStore, RepeatedAddressesInOneLineAreAnsweredOnce) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n", "10.1.0.1\n"
                                      "x1 10.1.0.2,10.1.0.2 fd00::2,fd00::2 web,web,alias\n"));
    const auto store = RecordStore::build(files);
    const std::array nets{NetworkId{0}};
    EXPECT_THAT(lookup(*store, nets, "web"), ElementsAre(ip("10.1.0.2"), ip("fd00::2")));
    const auto names = names_for(*store, nets, "10.1.0.2");
    ASSERT_TRUE(names.has_value());
    EXPECT_THAT(*names, ElementsAre("web", "alias"));
}

TEST(RecordStore, RequesterTableMapsEveryAddressToAllNetworksOfItsContainer) {
    const auto store = sample_store();
    const NetworkId podman1 = id_of(*store, "podman1");
    const NetworkId podman2 = id_of(*store, "podman2");
    const NetworkId secret = id_of(*store, "secret");

    struct Case {
        std::string_view address;
        std::vector<NetworkId> networks;
    };

    const Case cases[] = {
        // a1 is on podman1 and podman2: each of its addresses sees both.
        {"10.88.0.2", {podman1, podman2}},
        {"fd00:88::2", {podman1, podman2}},
        {"10.89.0.3", {podman1, podman2}},
        {"10.89.0.2", {podman2}},
        {"10.88.0.3", {podman1, secret}},
        {"10.90.0.2", {secret}},
        {"10.88.0.1", {}}, // a gateway is not a container
        {"192.0.2.1", {}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.address);
        const auto networks = store->networks_of(ip(c.address));
        EXPECT_EQ(std::vector<NetworkId>(networks.begin(), networks.end()), c.networks);
    }

    // A container on two networks resolves names of both; its neighbours only their own.
    EXPECT_THAT(lookup(*store, store->networks_of(ip("10.88.0.2")), "bone"),
                ElementsAre(ip("10.89.0.2")));
    EXPECT_THAT(lookup(*store, store->networks_of(ip("10.88.0.4")), "bone"), IsEmpty());
    EXPECT_THAT(lookup(*store, store->networks_of(ip("10.88.0.2")), "aone"),
                ElementsAre(ip("10.88.0.2"), ip("fd00:88::2"), ip("10.89.0.3")));
}

TEST(RecordStore, AddressSharedByIdsInDifferentNetworksJoinsTheirNetworksOnce) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n1", "10.1.0.1\n"
                                       "x1 10.5.0.2  one\n"));
    files.push_back(network_file("n2", "10.2.0.1\n"
                                       "x2 10.5.0.2  two\n"
                                       "x1 10.2.0.3  one\n"));
    files.push_back(network_file("n3", "10.3.0.1\n"
                                       "x2 10.3.0.2  two\n"));
    const auto store = RecordStore::build(files);
    EXPECT_THAT(store->networks_of(ip("10.5.0.2")), ElementsAre(0U, 1U, 2U));
    EXPECT_THAT(store->networks_of(ip("10.2.0.3")), ElementsAre(0U, 1U));
}

TEST(RecordStore, ReverseNamesComeFromTheFirstNetworkThatKnowsTheAddress) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n1", "10.1.0.1\n"
                                       "x1 10.5.0.2  one,one-alias\n"));
    files.push_back(network_file("n2", "10.2.0.1\n"
                                       "x2 10.5.0.2  two\n"));
    const auto store = RecordStore::build(files);
    auto names = names_for(*store, std::array{NetworkId{0}, NetworkId{1}}, "10.5.0.2");
    ASSERT_TRUE(names.has_value());
    EXPECT_THAT(*names, ElementsAre("one", "one-alias"));
    names = names_for(*store, std::array{NetworkId{1}, NetworkId{0}}, "10.5.0.2");
    ASSERT_TRUE(names.has_value());
    EXPECT_THAT(*names, ElementsAre("two"));
    EXPECT_EQ(names_for(*store, std::array{NetworkId{0}}, "10.5.0.3"), std::nullopt);
    EXPECT_EQ(names_for(*store, std::array{NetworkId{9}}, "10.5.0.2"), std::nullopt);
}

TEST(RecordStore, ALineWithHundredsOfAddressesAnswersEveryOne) {
    // The address index keeps an address's place in its line up to 254; later places share one
    // mark and are checked by a scan of the line's rest. A second such line shares an address.
    std::string addresses;
    for (int i = 0; i < 300; ++i) {
        addresses += fmt::format("{}10.6.{}.{}", i == 0 ? "" : ",", i / 200, i % 200 + 2);
    }
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n", "10.6.0.1\n"
                                      " " +
                                          addresses +
                                          "  many\n"
                                          " 10.6.1.90,10.6.9.9  other\n"));
    const auto store = RecordStore::build(files);
    const std::array nets{NetworkId{0}};
    for (const char* address : {"10.6.0.2", "10.6.1.55", "10.6.1.56", "10.6.1.101"}) {
        EXPECT_THAT(names_for(*store, nets, address), Optional(ElementsAre("many"))) << address;
        EXPECT_THAT(store->networks_of(ip(address)), ElementsAre(NetworkId{0})) << address;
    }
    EXPECT_THAT(names_for(*store, nets, "10.6.1.90"), Optional(ElementsAre("other", "many")));
    EXPECT_EQ(names_for(*store, nets, "10.6.1.102"), std::nullopt);
    EXPECT_EQ(lookup(*store, nets, "many").size(), 300U);
}

TEST(RecordStore, LinesOfEveryLengthAnswerAlike) {
    // An entry keeps up to two addresses and three names in its own cache line and longer
    // lists apart; lines on both sides of each limit, with and without DNS servers, in between.
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n",
                                 "10.7.0.1\n"
                                 "e1 10.7.0.2 fd07::2 one,one-alias,e1short\n"
                                 "e2 10.7.0.3,10.7.0.4 fd07::3 two,two-a,two-b,two-c 127.0.0.9\n"
                                 "e3 10.7.0.5  three,three,three-a 127.0.0.10,127.0.0.11\n"
                                 "e4 10.7.0.6 fd07::6,fd07::7 four\n"
                                 "e5 10.7.0.8  five,five-a,five-b,five-c,five-d\n"
                                 "e6 10.7.0.9  six\n"));
    const auto store = RecordStore::build(files);
    const std::array nets{NetworkId{0}};
    EXPECT_THAT(lookup(*store, nets, "e1short"), ElementsAre(ip("10.7.0.2"), ip("fd07::2")));
    EXPECT_THAT(lookup(*store, nets, "two-c"),
                ElementsAre(ip("10.7.0.3"), ip("10.7.0.4"), ip("fd07::3")));
    EXPECT_THAT(lookup(*store, nets, "three-a"), ElementsAre(ip("10.7.0.5")));
    EXPECT_THAT(lookup(*store, nets, "four"),
                ElementsAre(ip("10.7.0.6"), ip("fd07::6"), ip("fd07::7")));
    EXPECT_THAT(lookup(*store, nets, "five-d"), ElementsAre(ip("10.7.0.8")));
    EXPECT_THAT(lookup(*store, nets, "six"), ElementsAre(ip("10.7.0.9")));

    EXPECT_THAT(names_for(*store, nets, "fd07::2"),
                Optional(ElementsAre("one", "one-alias", "e1short")));
    EXPECT_THAT(names_for(*store, nets, "10.7.0.4"),
                Optional(ElementsAre("two", "two-a", "two-b", "two-c")));
    EXPECT_THAT(names_for(*store, nets, "10.7.0.5"), Optional(ElementsAre("three", "three-a")));
    EXPECT_THAT(names_for(*store, nets, "fd07::7"), Optional(ElementsAre("four")));
    EXPECT_THAT(names_for(*store, nets, "10.7.0.8"),
                Optional(ElementsAre("five", "five-a", "five-b", "five-c", "five-d")));
    EXPECT_EQ(names_for(*store, nets, "10.7.0.7"), std::nullopt);

    EXPECT_THAT(dns_servers(*store, "10.7.0.2"), IsEmpty());
    EXPECT_THAT(dns_servers(*store, "fd07::3"), ElementsAre(ip("127.0.0.9")));
    EXPECT_THAT(dns_servers(*store, "10.7.0.5"), ElementsAre(ip("127.0.0.10"), ip("127.0.0.11")));
    EXPECT_THAT(dns_servers(*store, "fd07::6"), IsEmpty());
    EXPECT_THAT(dns_servers(*store, "10.7.0.9"), IsEmpty());
}

TEST(RecordStore, ALineAnswersForItsFirst65535NamesOnly) {
    // An entry counts its names in 16 bits: a hand-made line with more keeps the first 65,535
    // (repeats not counted), and the daemon stays up.
    std::string names = "dup";
    for (int i = 0; i < 65'540; ++i) {
        names += fmt::format(",n{}", i);
        if (i == 5) {
            names += ",dup";
        }
    }
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n", "10.8.0.1\n"
                                      "big 10.8.0.2  " +
                                          names + "\n"));
    const auto store = RecordStore::build(files);
    const std::array nets{NetworkId{0}};
    EXPECT_THAT(lookup(*store, nets, "dup"), ElementsAre(ip("10.8.0.2")));
    EXPECT_THAT(lookup(*store, nets, "n65533"), ElementsAre(ip("10.8.0.2")));
    EXPECT_THAT(lookup(*store, nets, "n65534"), IsEmpty());
    const auto reverse = names_for(*store, nets, "10.8.0.2");
    ASSERT_TRUE(reverse.has_value());
    EXPECT_EQ(reverse->size(), 65'535U);
    EXPECT_EQ(reverse->front(), "dup");
    EXPECT_EQ(reverse->back(), "n65533");
}

TEST(RecordStore, PlainHostNamesAreTheNamesTheTextRuleAccepts) {
    // The tables decide base::is_plain_host_name once per name when they load; the filter must
    // give what the rule gives, in the same order, for every line shape (inline names, spilled
    // names, a name repeated in its line, the root from `a,,b`).
    const std::string long_kept(NetworkTable::kMaxNameSize, 'k');
    const std::string long_dropped(NetworkTable::kMaxNameSize + 1, 'd');
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n", "10.9.0.1\n"
                                      "c1 10.9.0.2  one,bad!name,,-dash,in-side_1\n"
                                      "c2 10.9.0.3  two,trail.,odd.name,odd.name\n"
                                      "c3 10.9.0.4  three,a..b," +
                                          long_kept + "," + long_dropped +
                                          "\n"
                                          "c4 10.9.0.5  caf\xc3\xa9,-x\n"));
    const auto store = RecordStore::build(files);
    const std::array nets{NetworkId{0}};
    for (const std::string_view address : {"10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5"}) {
        const auto all = names_for(*store, nets, address);
        const auto plain = names_for(*store, nets, address, NameFilter::PlainHostNames);
        ASSERT_TRUE(all.has_value() && plain.has_value()) << address;
        std::vector<std::string> expected;
        std::copy_if(all->begin(), all->end(), std::back_inserter(expected),
                     [](const std::string& name) { return base::is_plain_host_name(name); });
        EXPECT_EQ(*plain, expected) << address;
    }
    EXPECT_THAT(names_for(*store, nets, "10.9.0.2", NameFilter::PlainHostNames),
                Optional(ElementsAre("one", "", "in-side_1")));
    EXPECT_THAT(names_for(*store, nets, "10.9.0.3", NameFilter::PlainHostNames),
                Optional(ElementsAre("two", "odd.name")));
    // A name of the longest size kept keeps its whole text (the size shares its word with the
    // flag); one byte longer is left out.
    EXPECT_THAT(names_for(*store, nets, "10.9.0.4"),
                Optional(ElementsAre("three", "a..b", long_kept)));
    EXPECT_THAT(lookup(*store, nets, long_kept), ElementsAre(ip("10.9.0.4")));
    EXPECT_THAT(lookup(*store, nets, long_dropped), IsEmpty());
    // An address whose names are none of them plain still counts as known (NOERROR, no answer).
    EXPECT_THAT(names_for(*store, nets, "10.9.0.5", NameFilter::PlainHostNames),
                Optional(IsEmpty()));
}

TEST(RecordStore, InternalOnlyIsTrueOnlyForContainersWhoseNetworksAreAllInternal) {
    const auto store = sample_store();

    struct Case {
        std::string_view address;
        bool internal_only;
    };

    const Case cases[] = {
        {"10.90.0.2", true},  // c1: secret only
        {"10.90.0.3", false}, // a2: secret and podman1
        {"10.88.0.4", false}, // a3: podman1
        {"10.90.0.1", false}, // gateway: unknown source
        {"192.0.2.1", false},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.address);
        EXPECT_EQ(store->is_internal_only(ip(c.address)), c.internal_only);
    }
}

TEST(RecordStore, ContainerDnsServersComeFromNonInternalLinesOnly) {
    const auto store = sample_store();

    struct Case {
        std::string_view address;
        std::vector<base::IpAddress> servers;
    };

    const Case cases[] = {
        {"10.88.0.3", ips({"127.0.0.55"})},
        // c1's servers are on an internal line: not recorded (contract §3.3).
        {"10.90.0.2", {}},
        // a2's address in the internal network has no servers of its own either.
        {"10.90.0.3", {}},
        {"10.88.0.4", {}},
        {"192.0.2.1", {}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.address);
        EXPECT_EQ(dns_servers(*store, c.address), c.servers);
    }
}

TEST(RecordStore, ContainerDnsServersLastWriterWinsEvenWithoutServers) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n1", "10.1.0.1\n"
                                       "x1 10.5.0.2  one 127.0.0.5,127.0.0.6\n"
                                       "x2 10.5.0.3  two 127.0.0.7\n"));
    files.push_back(network_file("n2", "10.2.0.1\n"
                                       "x3 10.5.0.2  three\n"
                                       "x4 10.5.0.3  four 127.0.0.8\n"));
    const auto store = RecordStore::build(files);
    EXPECT_THAT(dns_servers(*store, "10.5.0.2"), IsEmpty());
    EXPECT_THAT(dns_servers(*store, "10.5.0.3"), ElementsAre(ip("127.0.0.8")));
}

TEST(RecordStore, NetworkDnsServersConcatenateInOrderSkippingInternal) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n1", "10.1.0.1 127.0.0.11,127.0.0.12\n"));
    files.push_back(network_file("n2", "10.2.0.1\n"));
    files.push_back(network_file("n3", "10.3.0.1 127.0.0.13\n"));
    files.push_back(network_file("n4%int", "10.4.0.1 127.0.0.14\n"));
    const auto store = RecordStore::build(files);
    std::vector<base::Nameserver> out{base::Nameserver{ip("192.0.2.99")}};
    store->network_dns_servers(std::array<NetworkId, 4>{2, 3, 1, 0}, out);
    EXPECT_THAT(out,
                ElementsAre(base::Nameserver{ip("127.0.0.13")}, base::Nameserver{ip("127.0.0.11")},
                            base::Nameserver{ip("127.0.0.12")}));
    store->network_dns_servers(std::array<NetworkId, 2>{3, 42}, out);
    EXPECT_THAT(out, IsEmpty());
}

TEST(RecordStore, EmptyInputBuildsAnEmptyStore) {
    const auto store = RecordStore::build({});
    EXPECT_THAT(store->networks(), IsEmpty());
    EXPECT_THAT(store->findings(), IsEmpty());
    EXPECT_THAT(store->networks_of(ip("10.0.0.1")), IsEmpty());
    EXPECT_THAT(lookup(*store, std::array{NetworkId{0}}, "x"), IsEmpty());
}

TEST(RecordStore, HeaderOnlyFileStillGivesANetworkWithListeners) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("lonely", "10.7.0.1,fd07::1\n"));
    const auto store = RecordStore::build(files);
    ASSERT_EQ(store->networks().size(), 1U);
    EXPECT_THAT(store->networks()[0].bind_ips, ElementsAre(ip("10.7.0.1"), ip("fd07::1")));
}

TEST(RecordStore, EntryWithoutAddressesKnowsNoName) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n", "10.1.0.1\n"
                                      "x1   ghost\n"));
    const auto store = RecordStore::build(files);
    std::vector<base::IpAddress> out;
    EXPECT_FALSE(store->lookup_name(std::array{NetworkId{0}}, "ghost", out));
}

TEST(RecordStore, FindingsAreInNetworkThenLineOrder) {
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("zeta", "10.2.0.1\n"
                                         "z1 10.2.0.2  zed\n"
                                         "z1 10.2.0.3  zed\n"));
    files.push_back(network_file("alpha", "10.1.0.1\n"
                                          "y1 10.1.0.2  old\n"
                                          "x1 10.1.0.3  web\n"
                                          "x2 10.1.0.2  new\n"
                                          "x3 10.1.0.4  web\n"));
    const auto store = RecordStore::build(files);
    const auto findings = store->findings();
    ASSERT_EQ(findings.size(), 3U);
    EXPECT_EQ(findings[0].network, "alpha");
    EXPECT_EQ(findings[0].line, 2);
    EXPECT_EQ(findings[0].status, records::EntryStatus::IpReused);
    EXPECT_EQ(findings[1].network, "alpha");
    EXPECT_EQ(findings[1].line, 3);
    EXPECT_EQ(findings[1].status, records::EntryStatus::Shadowed);
    EXPECT_EQ(findings[2].network, "zeta");
    EXPECT_EQ(findings[2].path, "/run/test/zeta");
    EXPECT_EQ(findings[2].line, 2);
    EXPECT_EQ(findings[2].status, records::EntryStatus::DuplicateId);
}

TEST(RecordStore, StaleLinesDoNotLeakIntoTheRequesterTable) {
    // y1 leaked in n1 with 10.1.0.2, which x2 now holds; y1 is also (validly) on n2.
    std::vector<config::NetworkFile> files;
    files.push_back(network_file("n1", "10.1.0.1\n"
                                       "y1 10.1.0.2  old\n"
                                       "x2 10.1.0.2  new\n"));
    files.push_back(network_file("n2", "10.2.0.1\n"
                                       "y1 10.2.0.2  old\n"));
    const auto store = RecordStore::build(files);
    // x2 must not see n2 just because a dead line with its address belonged to y1.
    EXPECT_THAT(store->networks_of(ip("10.1.0.2")), ElementsAre(0U));
    EXPECT_THAT(store->networks_of(ip("10.2.0.2")), ElementsAre(1U));
}

} // namespace
