#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network_files.hpp"
#include "records/record_store.hpp"

namespace {

using records::NetworkId;
using records::RecordStore;
using records_test::ip;
using records_test::ips;
using records_test::network_file;
using testing::ElementsAre;
using testing::IsEmpty;

std::vector<base::IpAddress> lookup(const RecordStore& store, std::span<const NetworkId> nets,
                                    std::string_view name) {
    std::vector<base::IpAddress> out{ip("192.0.2.99")}; // must be cleared by lookup_name
    const bool found = store.lookup_name(nets, name, out);
    EXPECT_EQ(found, !out.empty()) << name;
    return out;
}

// names_for as a value: nullopt when no network knows the address.
std::optional<std::vector<std::string>>
names_for(const RecordStore& store, std::span<const NetworkId> nets, std::string_view address) {
    std::vector<std::string_view> out{"stale"}; // must be cleared by names_for
    if (!store.names_for(nets, ip(address), out)) {
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
    const NetworkId podman1 = id_of(*store, "podman1");
    const std::array nets{podman1};
    EXPECT_THAT(lookup(*store, nets, "aone"), ElementsAre(ip("10.88.0.2"), ip("fd00:88::2")));
    EXPECT_THAT(lookup(*store, nets, "a1alias"), ElementsAre(ip("10.88.0.2"), ip("fd00:88::2")));
    EXPECT_THAT(lookup(*store, nets, "athree"), ElementsAre(ip("10.88.0.4")));
    // Not in this network, not a name (the ID), and lookups take the key as given.
    EXPECT_THAT(lookup(*store, nets, "bone"), IsEmpty());
    EXPECT_THAT(lookup(*store, nets, "a1"), IsEmpty());
    EXPECT_THAT(lookup(*store, nets, "AONE"), IsEmpty());
    EXPECT_THAT(lookup(*store, nets, "aone."), IsEmpty());
    EXPECT_THAT(lookup(*store, nets, ""), IsEmpty());
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
    EXPECT_THAT(lookup(*store, std::array{n1}, "web"), ElementsAre(ip("10.1.0.3"), ip("10.1.0.2")));
    EXPECT_THAT(lookup(*store, std::array{n1, n2}, "web"),
                ElementsAre(ip("10.1.0.3"), ip("10.1.0.2"), ip("10.2.0.2")));
    EXPECT_THAT(lookup(*store, std::array{n2, n1}, "web"),
                ElementsAre(ip("10.1.0.2"), ip("10.2.0.2"), ip("10.1.0.3")));
    // Unknown ids are skipped, as aardvark skips a network missing from its tables.
    EXPECT_THAT(lookup(*store, std::array{NetworkId{7}, n2}, "web"),
                ElementsAre(ip("10.1.0.2"), ip("10.2.0.2")));
    EXPECT_THAT(lookup(*store, std::span<const NetworkId>{}, "web"), IsEmpty());
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
    // a1 is on podman1 and podman2: each of its addresses sees both.
    EXPECT_THAT(store->networks_of(ip("10.88.0.2")), ElementsAre(podman1, podman2));
    EXPECT_THAT(store->networks_of(ip("fd00:88::2")), ElementsAre(podman1, podman2));
    EXPECT_THAT(store->networks_of(ip("10.89.0.3")), ElementsAre(podman1, podman2));
    EXPECT_THAT(store->networks_of(ip("10.89.0.2")), ElementsAre(podman2));
    EXPECT_THAT(store->networks_of(ip("10.88.0.3")), ElementsAre(podman1, secret));
    EXPECT_THAT(store->networks_of(ip("10.90.0.2")), ElementsAre(secret));
    EXPECT_THAT(store->networks_of(ip("10.88.0.1")), IsEmpty()); // a gateway is not a container
    EXPECT_THAT(store->networks_of(ip("192.0.2.1")), IsEmpty());

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

TEST(RecordStore, InternalOnlyIsTrueOnlyForContainersWhoseNetworksAreAllInternal) {
    const auto store = sample_store();
    EXPECT_TRUE(store->is_internal_only(ip("10.90.0.2")));  // c1: secret only
    EXPECT_FALSE(store->is_internal_only(ip("10.90.0.3"))); // a2: secret and podman1
    EXPECT_FALSE(store->is_internal_only(ip("10.88.0.4"))); // a3: podman1
    EXPECT_FALSE(store->is_internal_only(ip("10.90.0.1"))); // gateway: unknown source
    EXPECT_FALSE(store->is_internal_only(ip("192.0.2.1")));
}

TEST(RecordStore, ContainerDnsServersComeFromNonInternalLinesOnly) {
    const auto store = sample_store();
    EXPECT_THAT(dns_servers(*store, "10.88.0.3"), ElementsAre(ip("127.0.0.55")));
    // c1's servers are on an internal line: not recorded (contract §3.3).
    EXPECT_THAT(dns_servers(*store, "10.90.0.2"), IsEmpty());
    // a2's address in the internal network has no servers of its own either.
    EXPECT_THAT(dns_servers(*store, "10.90.0.3"), IsEmpty());
    EXPECT_THAT(dns_servers(*store, "10.88.0.4"), IsEmpty());
    EXPECT_THAT(dns_servers(*store, "192.0.2.1"), IsEmpty());
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
