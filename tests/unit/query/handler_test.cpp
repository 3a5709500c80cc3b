#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/network_file.hpp"
#include "dns/header.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"
#include "dns/wire_reader.hpp"
#include "liveness/dead_set.hpp"
#include "query/handler.hpp"
#include "query/reverse_name.hpp"
#include "support/dns_message.hpp"

namespace base {

inline void PrintTo(const IpAddress& address, std::ostream* out) {
    *out << address.to_string();
}

inline void PrintTo(const Nameserver& server, std::ostream* out) {
    *out << to_string(server);
}

} // namespace base

namespace {

using dns::Header;
using dns::Rcode;
using dns::RecordType;
using dns::Transport;
using query::Client;
using query::Settings;
using query::UpstreamSource;
using query::Verdict;
using testing::ElementsAre;
using testing::IsEmpty;

base::IpAddress ip(std::string_view text) {
    const auto address = base::IpAddress::parse(text);
    if (!address) {
        ADD_FAILURE() << "bad address in test: " << text;
        return {};
    }
    return *address;
}

// A forward verdict's server: the address on the DNS port, no zone.
base::Nameserver upstream(std::string_view address) {
    return base::Nameserver{ip(address)};
}

// ---- request assembly (support/dns_message.hpp, independent of dns/'s writer) ----

struct Request {
    std::uint16_t id = 0xbeef;
    std::uint16_t flags = Header::kRd | Header::kAd; // dig's default
    std::uint16_t qdcount = 1;
    std::uint16_t qclass = 1;
    std::optional<std::uint16_t> edns_payload; // adds an OPT record
};

std::vector<std::uint8_t> make_query(std::string_view name, std::uint16_t type,
                                     const Request& request = {}) {
    test_support::DnsMessage query;
    query.header(request.id, request.flags, request.qdcount, 0, 0, request.edns_payload ? 1 : 0)
        .question(name, type, request.qclass);
    if (request.edns_payload) {
        query.opt(*request.edns_payload, 0);
    }
    return query.bytes();
}

std::vector<std::uint8_t> make_query(std::string_view name, RecordType type,
                                     const Request& request = {}) {
    return make_query(name, static_cast<std::uint16_t>(type), request);
}

// The ip6.arpa name of `address`, nibbles in `upper` or lower case.
std::string ip6_arpa(const base::IpAddress& address, bool upper) {
    std::string out;
    const auto bytes = address.bytes();
    for (std::size_t i = bytes.size(); i-- > 0;) {
        out += upper ? fmt::format("{:X}.{:X}.", bytes[i] & 0x0f, bytes[i] >> 4)
                     : fmt::format("{:x}.{:x}.", bytes[i] & 0x0f, bytes[i] >> 4);
    }
    return out + "ip6.arpa.";
}

// ---- reply parsing ----

struct Answer {
    std::string owner; // presentation text, case as sent
    std::uint16_t type = 0;
    std::uint16_t klass = 0;
    std::uint32_t ttl = 0;
    std::optional<base::IpAddress> address; // A / AAAA
    std::string target;                     // PTR
};

struct Reply {
    Header header;
    std::string question;
    std::uint16_t qtype = 0;
    std::vector<Answer> answers;
    std::uint16_t arcount = 0;
};

std::string text_of(const dns::Name& name) {
    std::array<char, dns::kMaxNameTextLength> buffer{};
    return std::string(name.format_text(buffer, false));
}

Reply parse_reply(std::span<const std::uint8_t> bytes) {
    Reply reply;
    dns::WireReader reader(bytes);
    reply.header = Header::read(reader);
    reply.arcount = reply.header.arcount;
    if (reply.header.qdcount > 0) {
        dns::Name name;
        EXPECT_TRUE(name.read(reader));
        reply.question = text_of(name);
        reply.qtype = reader.read_u16();
        reader.read_u16();
    }
    for (std::uint16_t i = 0; i < reply.header.ancount; ++i) {
        Answer answer;
        dns::Name owner;
        EXPECT_TRUE(owner.read(reader));
        answer.owner = text_of(owner);
        answer.type = reader.read_u16();
        answer.klass = reader.read_u16();
        answer.ttl = reader.read_u32();
        const std::uint16_t length = reader.read_u16();
        const std::size_t rdata_start = reader.position();
        if (answer.type == static_cast<std::uint16_t>(RecordType::Ptr)) {
            dns::Name target;
            EXPECT_TRUE(target.read(reader));
            answer.target = text_of(target);
            reader.seek(rdata_start + length);
        } else {
            answer.address = base::IpAddress::from_bytes(reader.read_bytes(length));
        }
        reply.answers.push_back(answer);
    }
    EXPECT_TRUE(reader.ok()) << "reply overruns its buffer";
    return reply;
}

std::vector<base::IpAddress> addresses(const Reply& reply) {
    std::vector<base::IpAddress> out;
    for (const auto& answer : reply.answers) {
        EXPECT_TRUE(answer.address.has_value());
        out.push_back(answer.address.value_or(base::IpAddress{}));
    }
    return out;
}

std::vector<std::string> targets(const Reply& reply) {
    std::vector<std::string> out;
    for (const auto& answer : reply.answers) {
        out.push_back(answer.target);
    }
    return out;
}

// ---- the store every test asks ----

config::NetworkFile network_file(std::string_view file_name, std::string_view text) {
    auto result = config::parse_network_file(file_name, file_name, text);
    for (const auto& problem : result.problems) {
        ADD_FAILURE() << problem.to_string();
    }
    return result.file.value_or(config::NetworkFile{});
}

std::string big_network() {
    std::string text = "10.91.0.1\n";
    for (int i = 2; i < 102; ++i) {
        text += fmt::format("big{} 10.91.0.{}  big-{},crowd\n", i, i, i);
    }
    return text;
}

class HandlerTest : public testing::Test {
protected:
    HandlerTest() {
        std::vector<config::NetworkFile> files;
        files.push_back(network_file(
            "podman1", "10.88.0.1,fd00:88::1 127.0.0.53\n"
                       "a1 10.88.0.2 fd00:88::2 aone,a1alias\n"
                       "a2 10.88.0.3  atwo,a2 127.0.0.54,127.0.0.55\n"
                       "a3 10.88.0.4  athree,odd.name,bad!name,,-dash,in-side_1,trail.,a..b," +
                           std::string(64, 'a') + "," + std::string(63, 'b') + "\n"));
        files.push_back(network_file("podman2", "10.89.0.1\n"
                                                "b1 10.89.0.2  bone\n"
                                                "a1 10.89.0.3  aone,multi\n"));
        files.push_back(network_file("secret%int", "10.90.0.1 127.0.0.56\n"
                                                   "c1 10.90.0.2  cone 127.0.0.57\n"
                                                   "a3 10.90.0.3  athree\n"));
        files.push_back(network_file("big", big_network()));
        store_ = records::RecordStore::build(files);
        podman1_ = store_->find_network("podman1").value_or(99);
        podman2_ = store_->find_network("podman2").value_or(99);
        secret_ = store_->find_network("secret").value_or(99);
        big_ = store_->find_network("big").value_or(99);
    }

    Client from(std::string_view source, records::NetworkId listener,
                Transport transport = Transport::Udp) const {
        return Client{ip(source), listener, transport};
    }

    Client from_aone() const { return from("10.88.0.2", podman1_); }

    // Runs the handler; for replies, checks the invariants every reply must keep.
    Verdict run(std::span<const std::uint8_t> request, const Client& client) {
        Verdict verdict;
        run_into(request, client, verdict);
        return verdict;
    }

    void run_into(std::span<const std::uint8_t> request, const Client& client, Verdict& verdict) {
        query::handle(request, client, *store_, settings_, out_, verdict);
        if (verdict.action == Verdict::Action::Reply) {
            EXPECT_GE(verdict.reply_size, dns::kHeaderSize);
            EXPECT_LE(verdict.reply_size, out_.size());
            last_ = parse_reply(std::span<const std::uint8_t>(out_).first(verdict.reply_size));
            EXPECT_EQ(last_.header.id, (request[0] << 8) | request[1]);
            EXPECT_TRUE(last_.header.is_response());
        }
    }

    // Asks and expects a local reply.
    Reply ask(std::string_view name, RecordType type, const Client& client,
              const Request& request = {}) {
        const auto bytes = make_query(name, type, request);
        const auto verdict = run(bytes, client);
        EXPECT_EQ(verdict.action, Verdict::Action::Reply) << name;
        if (verdict.action != Verdict::Action::Reply) {
            return {};
        }
        EXPECT_EQ(last_.question, name);
        return last_;
    }

    Verdict ask_verdict(std::string_view name, RecordType type, const Client& client) {
        return run(make_query(name, type), client);
    }

    std::shared_ptr<const records::RecordStore> store_;
    records::NetworkId podman1_ = 0;
    records::NetworkId podman2_ = 0;
    records::NetworkId secret_ = 0;
    records::NetworkId big_ = 0;
    Settings settings_;
    std::vector<std::uint8_t> out_ = std::vector<std::uint8_t>(dns::kMaxMessageSize);
    Reply last_;
};

TEST_F(HandlerTest, AnswersAWithTtlZeroAndTheQuestionAsOwner) {
    const auto verdict = ask_verdict("atwo.dns.podman.", RecordType::Aaaa, from_aone());
    EXPECT_TRUE(verdict.parsed); // the observer counts this type
    EXPECT_EQ(verdict.query.question.type, static_cast<std::uint16_t>(RecordType::Aaaa));
    const auto reply = ask("atwo.dns.podman.", RecordType::A, from_aone());
    EXPECT_EQ(reply.header.rcode(), Rcode::NoError);
    EXPECT_TRUE(reply.header.is_response());
    EXPECT_TRUE(reply.header.wants_recursion());
    EXPECT_NE(reply.header.flags & Header::kRa, 0);
    EXPECT_NE(reply.header.flags & Header::kAd, 0);
    EXPECT_EQ(reply.header.flags & Header::kAa, 0);
    EXPECT_FALSE(reply.header.is_truncated());
    ASSERT_EQ(reply.answers.size(), 1U);
    const auto& answer = reply.answers[0];
    EXPECT_EQ(answer.owner, "atwo.dns.podman.");
    EXPECT_EQ(answer.type, static_cast<std::uint16_t>(RecordType::A));
    EXPECT_EQ(answer.klass, 1);
    EXPECT_EQ(answer.ttl, 0U);
    EXPECT_EQ(answer.address, ip("10.88.0.3"));
}

TEST_F(HandlerTest, NoRecursionDesiredMeansNoRecursionAvailable) {
    Request request;
    request.flags = 0;
    const auto reply = ask("atwo.dns.podman.", RecordType::A, from_aone(), request);
    EXPECT_EQ(reply.header.flags & (Header::kRa | Header::kRd), 0);
    EXPECT_EQ(reply.answers.size(), 1U);
}

TEST_F(HandlerTest, BareNamesAndAliasesResolve) {
    EXPECT_THAT(addresses(ask("atwo.", RecordType::A, from_aone())), ElementsAre(ip("10.88.0.3")));
    EXPECT_THAT(addresses(ask("a2.", RecordType::A, from_aone())), ElementsAre(ip("10.88.0.3")));
    EXPECT_THAT(addresses(ask("a1alias.dns.podman.", RecordType::Aaaa, from_aone())),
                ElementsAre(ip("fd00:88::2")));
}

TEST_F(HandlerTest, NamesMatchInAnyCaseAndOwnersKeepTheAskedCase) {
    const auto reply = ask("ATwo.DNS.PODMAN.", RecordType::A, from_aone());
    EXPECT_EQ(reply.header.rcode(), Rcode::NoError);
    ASSERT_EQ(reply.answers.size(), 1U);
    EXPECT_EQ(reply.answers[0].owner, "ATwo.DNS.PODMAN.");
    EXPECT_EQ(reply.answers[0].address, ip("10.88.0.3"));
    EXPECT_THAT(addresses(ask("ATWO.", RecordType::A, from_aone())), ElementsAre(ip("10.88.0.3")));
}

TEST_F(HandlerTest, AaaaAnswersOnlyIpv6AndNodataForIpv4OnlyNames) {
    EXPECT_THAT(addresses(ask("aone.dns.podman.", RecordType::Aaaa, from("10.88.0.4", podman1_))),
                ElementsAre(ip("fd00:88::2")));
    const auto nodata = ask("atwo.dns.podman.", RecordType::Aaaa, from_aone());
    EXPECT_EQ(nodata.header.rcode(), Rcode::NoError);
    EXPECT_THAT(nodata.answers, IsEmpty());
    EXPECT_EQ(nodata.header.nscount, 0);
}

TEST_F(HandlerTest, ContainerOnTwoNetworksGetsAddressesFromBothInNetworkOrder) {
    // a1 is on podman1 and podman2 and asks podman2's gateway: both networks, podman1 first.
    const auto reply = ask("aone.dns.podman.", RecordType::A, from("10.89.0.3", podman2_));
    EXPECT_THAT(addresses(reply), ElementsAre(ip("10.88.0.2"), ip("10.89.0.3")));
    EXPECT_THAT(addresses(ask("bone.dns.podman.", RecordType::A, from_aone())),
                ElementsAre(ip("10.89.0.2")));
}

TEST_F(HandlerTest, NetworksAreIsolated) {
    // atwo is only on podman1 (and the internal one): bone of podman2 is unknown to it.
    const auto reply = ask("bone.dns.podman.", RecordType::A, from("10.88.0.3", podman2_));
    EXPECT_EQ(reply.header.rcode(), Rcode::NxDomain);
    EXPECT_THAT(reply.answers, IsEmpty());
    const auto other_way = ask("atwo.dns.podman.", RecordType::A, from("10.89.0.2", podman1_));
    EXPECT_EQ(other_way.header.rcode(), Rcode::NxDomain);
}

TEST_F(HandlerTest, UnknownSourcesSeeTheListenerNetworkOnly) {
    const auto host = from("10.89.0.1", podman2_);
    EXPECT_THAT(addresses(ask("bone.dns.podman.", RecordType::A, host)),
                ElementsAre(ip("10.89.0.2")));
    EXPECT_THAT(addresses(ask("aone.dns.podman.", RecordType::A, host)),
                ElementsAre(ip("10.89.0.3")));
    EXPECT_EQ(ask("atwo.dns.podman.", RecordType::A, host).header.rcode(), Rcode::NxDomain);
    EXPECT_THAT(addresses(ask("atwo.dns.podman.", RecordType::A, from("192.0.2.7", podman1_))),
                ElementsAre(ip("10.88.0.3")));
}

TEST_F(HandlerTest, UnknownNameUnderTheSearchDomainIsNxdomain) {
    const auto reply = ask("nobody.dns.podman.", RecordType::A, from_aone());
    EXPECT_EQ(reply.header.rcode(), Rcode::NxDomain);
    EXPECT_THAT(reply.answers, IsEmpty());
    EXPECT_EQ(reply.question, "nobody.dns.podman.");
    EXPECT_NE(reply.header.flags & Header::kRa, 0);
}

TEST_F(HandlerTest, UppercaseSearchDomainOfAnUnknownNameIsForwarded) {
    // Contract §4.3: the NXDOMAIN suffix test is case-sensitive, as in aardvark.
    const auto verdict = ask_verdict("NOBODY.DNS.PODMAN.", RecordType::A, from_aone());
    EXPECT_EQ(verdict.action, Verdict::Action::Forward);
    EXPECT_EQ(ask_verdict("dns.podman.", RecordType::A, from_aone()).action,
              Verdict::Action::Forward);
}

TEST_F(HandlerTest, OtherTypesOfAHeldNameAreNodataOverUdpAndTcp) {
    // A name a container holds exists: any other type gets NOERROR with no records, never
    // NXDOMAIN (aardvark#679), with or without the search domain, over either transport.
    for (const auto type : {RecordType::Mx, RecordType::Txt, RecordType::Srv, RecordType::Any,
                            RecordType::Soa, RecordType::Ns, RecordType::Cname}) {
        for (const auto transport : {Transport::Udp, Transport::Tcp}) {
            for (const char* name : {"aone.dns.podman.", "aone.", "AONE.DNS.PODMAN."}) {
                const auto reply = ask(name, type, from("10.88.0.2", podman1_, transport));
                EXPECT_EQ(reply.header.rcode(), Rcode::NoError) << name;
                EXPECT_EQ(reply.header.ancount, 0) << name;
                EXPECT_EQ(reply.header.nscount, 0) << name;
                EXPECT_EQ(reply.question, name);
            }
        }
    }
    // From the host (an unknown source), the listener's network decides, as for A.
    EXPECT_EQ(ask("aone.", RecordType::Mx, from("10.88.0.1", podman1_)).header.rcode(),
              Rcode::NoError);
}

TEST_F(HandlerTest, OtherTypesOfUnknownNamesAreNxdomainUnderTheSearchDomainElseForwarded) {
    EXPECT_EQ(ask("nobody.dns.podman.", RecordType::Mx, from_aone()).header.rcode(),
              Rcode::NxDomain);
    EXPECT_EQ(ask_verdict("nobody.", RecordType::Mx, from_aone()).action, Verdict::Action::Forward);
    EXPECT_EQ(ask_verdict("example.com.", RecordType::Txt, from_aone()).action,
              Verdict::Action::Forward);
    EXPECT_EQ(ask_verdict("example.com.", RecordType::A, from_aone()).action,
              Verdict::Action::Forward);
    EXPECT_EQ(ask_verdict("foo.", RecordType::A, from_aone()).action, Verdict::Action::Forward);
    // PTR keeps aardvark's dispatch: a PTR query for a container name is not answered locally.
    EXPECT_EQ(ask_verdict("aone.", RecordType::Ptr, from_aone()).action, Verdict::Action::Forward);
}

TEST_F(HandlerTest, ForwardVerdictCarriesTheQueryAndTheContainersOwnServers) {
    const auto request = make_query("example.com.", RecordType::A);
    const auto verdict = run(request, from("10.88.0.3", podman1_));
    ASSERT_EQ(verdict.action, Verdict::Action::Forward);
    EXPECT_EQ(verdict.source, UpstreamSource::Container);
    EXPECT_THAT(verdict.servers, ElementsAre(upstream("127.0.0.54"), upstream("127.0.0.55")));
    EXPECT_EQ(verdict.query.header.id, 0xbeef);
    EXPECT_EQ(verdict.query.question.type, static_cast<std::uint16_t>(RecordType::A));
    EXPECT_EQ(text_of(verdict.query.question.name), "example.com.");
    EXPECT_EQ(verdict.reply_size, 0U);
}

TEST_F(HandlerTest, ForwardVerdictUsesNetworkServersThenTheHost) {
    const auto network = ask_verdict("example.com.", RecordType::A, from_aone());
    ASSERT_EQ(network.action, Verdict::Action::Forward);
    EXPECT_EQ(network.source, UpstreamSource::Network);
    EXPECT_THAT(network.servers, ElementsAre(upstream("127.0.0.53"))); // podman2 has none
    const auto own_networks_only =
        ask_verdict("example.com.", RecordType::A, from("10.89.0.2", podman1_));
    ASSERT_EQ(own_networks_only.action, Verdict::Action::Forward);
    EXPECT_EQ(own_networks_only.source, UpstreamSource::Host);
    EXPECT_THAT(own_networks_only.servers, IsEmpty());
    // The host asking podman1's gateway is not a container: host resolvers.
    const auto host = ask_verdict("example.com.", RecordType::A, from("10.88.0.1", podman1_));
    ASSERT_EQ(host.action, Verdict::Action::Forward);
    EXPECT_EQ(host.source, UpstreamSource::Host);
    EXPECT_THAT(host.servers, IsEmpty());
}

TEST_F(HandlerTest, InternalOnlyContainersGetNxdomainInsteadOfForwarding) {
    const auto reply = ask("example.com.", RecordType::A, from("10.90.0.2", secret_));
    EXPECT_EQ(reply.header.rcode(), Rcode::NxDomain);
    // Names still resolve on internal networks.
    EXPECT_THAT(addresses(ask("athree.dns.podman.", RecordType::A, from("10.90.0.2", secret_))),
                ElementsAre(ip("10.90.0.3")));
    // A container on an internal and a normal network is forwarded.
    const auto mixed = ask_verdict("example.com.", RecordType::A, from("10.90.0.3", secret_));
    EXPECT_EQ(mixed.action, Verdict::Action::Forward);
    EXPECT_EQ(mixed.source, UpstreamSource::Network);
    EXPECT_THAT(mixed.servers, ElementsAre(upstream("127.0.0.53")));
    // The host on the internal gateway is not a container: forwarded.
    EXPECT_EQ(ask_verdict("example.com.", RecordType::A, from("10.90.0.1", secret_)).action,
              Verdict::Action::Forward);
}

TEST_F(HandlerTest, NoProxyMeansNxdomainForEverythingNotLocal) {
    settings_.no_proxy = true;
    EXPECT_EQ(ask("example.com.", RecordType::A, from_aone()).header.rcode(), Rcode::NxDomain);
    EXPECT_EQ(ask("nobody.", RecordType::Mx, from_aone()).header.rcode(), Rcode::NxDomain);
    EXPECT_EQ(ask("aone.", RecordType::Mx, from_aone()).header.rcode(), Rcode::NoError);
    EXPECT_THAT(addresses(ask("atwo.", RecordType::A, from_aone())), ElementsAre(ip("10.88.0.3")));
}

TEST_F(HandlerTest, ForwardingDisabledRefusesWhatWouldBeForwarded) {
    settings_.forwarding_enabled = false;
    const auto reply = ask("example.com.", RecordType::A, from_aone());
    EXPECT_EQ(reply.header.rcode(), Rcode::Refused);
    EXPECT_EQ(reply.question, "example.com.");
    // NXDOMAIN decisions still come first.
    EXPECT_EQ(ask("nobody.dns.podman.", RecordType::A, from_aone()).header.rcode(),
              Rcode::NxDomain);
}

TEST_F(HandlerTest, CustomSearchDomainIsStrippedCaseInsensitively) {
    settings_.search_domain = ".Corp.Example.";
    EXPECT_THAT(addresses(ask("atwo.corp.example.", RecordType::A, from_aone())),
                ElementsAre(ip("10.88.0.3")));
    EXPECT_EQ(ask("nobody.Corp.Example.", RecordType::A, from_aone()).header.rcode(),
              Rcode::NxDomain);
    EXPECT_EQ(ask_verdict("nobody.corp.example.", RecordType::A, from_aone()).action,
              Verdict::Action::Forward);
    EXPECT_EQ(ask_verdict("nobody.dns.podman.", RecordType::A, from_aone()).action,
              Verdict::Action::Forward);
}

TEST_F(HandlerTest, PtrV4ListsContainerNameThenAliasesAsBareTargets) {
    const auto reply = ask("3.0.88.10.in-addr.arpa.", RecordType::Ptr, from_aone());
    EXPECT_EQ(reply.header.rcode(), Rcode::NoError);
    EXPECT_THAT(targets(reply), ElementsAre("atwo.", "a2."));
    for (const auto& answer : reply.answers) {
        EXPECT_EQ(answer.owner, "3.0.88.10.in-addr.arpa.");
        EXPECT_EQ(answer.ttl, 0U);
        EXPECT_EQ(answer.klass, 1);
    }
}

TEST_F(HandlerTest, PtrSkipsNamesThatAreNotPlainHostNames) {
    // athree,odd.name,bad!name,,-dash,in-side_1,trail.,a..b,a{64},b{63}: the empty name is the
    // root, dotted names are labels; an empty label or one over 63 bytes is not plain.
    const auto reply = ask("4.0.88.10.in-addr.arpa.", RecordType::Ptr, from_aone());
    EXPECT_THAT(targets(reply),
                ElementsAre("athree.", "odd.name.", ".", "in-side_1.", std::string(63, 'b') + "."));
}

TEST_F(HandlerTest, PtrV6AcceptsUpperAndLowerCaseNibbles) {
    const auto lower = ip6_arpa(ip("fd00:88::2"), false);
    EXPECT_THAT(targets(ask(lower, RecordType::Ptr, from("10.88.0.3", podman1_))),
                ElementsAre("aone.", "a1alias."));
    const auto upper = ip6_arpa(ip("fd00:88::2"), true);
    ASSERT_NE(upper, lower);
    const auto reply = ask(upper, RecordType::Ptr, from("10.88.0.3", podman1_));
    EXPECT_THAT(targets(reply), ElementsAre("aone.", "a1alias."));
    ASSERT_FALSE(reply.answers.empty());
    EXPECT_EQ(reply.answers[0].owner, upper);
}

TEST_F(HandlerTest, PtrFromUnknownSourceIsForwarded) {
    const auto verdict =
        ask_verdict("3.0.88.10.in-addr.arpa.", RecordType::Ptr, from("10.88.0.1", podman1_));
    EXPECT_EQ(verdict.action, Verdict::Action::Forward);
    EXPECT_EQ(verdict.source, UpstreamSource::Host);
}

TEST_F(HandlerTest, PtrOutsideTheRequestersNetworksOrMalformedIsNotLocal) {
    // bone's address, asked by atwo (not on podman2).
    EXPECT_EQ(
        ask_verdict("2.0.89.10.in-addr.arpa.", RecordType::Ptr, from("10.88.0.3", podman1_)).action,
        Verdict::Action::Forward);
    EXPECT_EQ(ask_verdict("0.88.10.in-addr.arpa.", RecordType::Ptr, from_aone()).action,
              Verdict::Action::Forward);
    EXPECT_EQ(ask_verdict("3.0.88.10.IN-ADDR.ARPA.", RecordType::Ptr, from_aone()).action,
              Verdict::Action::Forward);
    // A container name under the search domain asked as PTR: NXDOMAIN like any other type.
    EXPECT_EQ(ask("aone.dns.podman.", RecordType::Ptr, from_aone()).header.rcode(),
              Rcode::NxDomain);
}

TEST_F(HandlerTest, PtrFromContainerOnTwoNetworksFindsEither) {
    EXPECT_THAT(targets(ask("2.0.89.10.in-addr.arpa.", RecordType::Ptr, from_aone())),
                ElementsAre("bone."));
    EXPECT_THAT(targets(ask("3.0.89.10.in-addr.arpa.", RecordType::Ptr, from_aone())),
                ElementsAre("aone.", "multi."));
}

TEST_F(HandlerTest, LargeAnswerSetsTcOverUdpButNotOverTcp) {
    const auto udp = ask("crowd.", RecordType::A, from("10.91.0.2", big_));
    EXPECT_EQ(udp.header.rcode(), Rcode::NoError);
    EXPECT_TRUE(udp.header.is_truncated());
    EXPECT_THAT(udp.answers, IsEmpty());

    const auto tcp = ask("crowd.", RecordType::A, from("10.91.0.2", big_, Transport::Tcp));
    EXPECT_FALSE(tcp.header.is_truncated());
    ASSERT_EQ(tcp.answers.size(), 100U);
    EXPECT_EQ(tcp.answers.front().address, ip("10.91.0.101")); // newest line first
    EXPECT_EQ(tcp.answers.back().address, ip("10.91.0.2"));
}

TEST_F(HandlerTest, EdnsRaisesTheUdpLimitAndIsEchoed) {
    Request request;
    request.edns_payload = 4096;
    const auto reply = ask("crowd.", RecordType::A, from("10.91.0.2", big_), request);
    EXPECT_FALSE(reply.header.is_truncated());
    EXPECT_EQ(reply.answers.size(), 100U);
    EXPECT_EQ(reply.arcount, 1);

    request.edns_payload = 1232;
    const auto small = ask("crowd.", RecordType::A, from("10.91.0.2", big_), request);
    EXPECT_TRUE(small.header.is_truncated());
}

TEST_F(HandlerTest, UdpReplyNeverExceedsTheCallersBuffer) {
    out_.resize(600);
    Request request;
    request.edns_payload = 4096;
    const auto reply = ask("crowd.", RecordType::A, from("10.91.0.2", big_), request);
    EXPECT_TRUE(reply.header.is_truncated());
}

TEST_F(HandlerTest, MalformedQuestionGetsFormerr) {
    auto request = make_query("aone.", RecordType::A);
    request.resize(request.size() - 3); // cut inside QTYPE/QCLASS
    const auto verdict = run(request, from_aone());
    ASSERT_EQ(verdict.action, Verdict::Action::Reply);
    EXPECT_EQ(last_.header.rcode(), Rcode::FormErr);
    EXPECT_EQ(last_.header.qdcount, 0);
    EXPECT_FALSE(verdict.parsed); // the observer must read the type itself

    Request no_question;
    no_question.qdcount = 0;
    const auto empty = make_query("", RecordType::A, no_question);
    ASSERT_EQ(run(std::span(empty).first(dns::kHeaderSize), from_aone()).action,
              Verdict::Action::Reply);
    EXPECT_EQ(last_.header.rcode(), Rcode::FormErr);
}

TEST_F(HandlerTest, TwoQuestionsGetFormerr) {
    auto request = make_query("aone.", RecordType::A);
    const auto question = std::vector<std::uint8_t>(request.begin() + 12, request.end());
    request.insert(request.end(), question.begin(), question.end());
    request[5] = 2; // QDCOUNT 2, the same question twice
    ASSERT_EQ(run(request, from_aone()).action, Verdict::Action::Reply);
    EXPECT_EQ(last_.header.rcode(), Rcode::FormErr);
    EXPECT_THAT(last_.answers, IsEmpty());
}

TEST_F(HandlerTest, EdnsVersionAboveZeroGetsBadversLocallyAndForForwardedNames) {
    for (const char* name : {"aone.", "example.com."}) {
        Request request;
        request.edns_payload = 1232;
        auto bytes = make_query(name, RecordType::A, request);
        bytes[bytes.size() - 5] = 1; // OPT TTL: extended rcode 0, version 1
        const auto verdict = run(bytes, from_aone());
        ASSERT_EQ(verdict.action, Verdict::Action::Reply) << name;
        EXPECT_EQ(last_.header.rcode(), Rcode::NoError) << "low 4 bits of 16";
        EXPECT_THAT(last_.answers, IsEmpty());
        ASSERT_EQ(last_.arcount, 1);
        // The OPT is last: owner, TYPE, CLASS, then TTL = extended rcode 1, version 0, flags 0.
        const auto reply = std::span(out_).first(verdict.reply_size);
        const auto opt_ttl = reply.subspan(reply.size() - 6, 4);
        EXPECT_EQ(opt_ttl[0], 1) << name;
        EXPECT_EQ(opt_ttl[1], 0) << name;
    }
}

TEST_F(HandlerTest, ResponsesAndRuntsAreDropped) {
    Request response;
    response.flags = Header::kQr | Header::kRd;
    const auto verdict = run(make_query("aone.", RecordType::A, response), from_aone());
    EXPECT_EQ(verdict.action, Verdict::Action::Drop);
    EXPECT_EQ(verdict.reply_size, 0U);
    const std::vector<std::uint8_t> runt{0x12, 0x34, 0x01};
    EXPECT_EQ(run(runt, from_aone()).action, Verdict::Action::Drop);
    EXPECT_EQ(run({}, from_aone()).action, Verdict::Action::Drop);
}

TEST_F(HandlerTest, OtherOpcodesGetNotimpWithTheQuestionEchoed) {
    Request status;
    status.flags = static_cast<std::uint16_t>(Header::kRd | (2U << 11));
    const auto reply = ask("aone.", RecordType::A, from_aone(), status);
    EXPECT_EQ(reply.header.rcode(), Rcode::NotImp);
    EXPECT_EQ(reply.header.opcode(), dns::Opcode::Status);
    EXPECT_EQ(reply.question, "aone.");
    EXPECT_THAT(reply.answers, IsEmpty());
}

TEST_F(HandlerTest, ChaosClassIsAnsweredLikeIn) {
    Request chaos;
    chaos.qclass = 3;
    EXPECT_THAT(addresses(ask("atwo.", RecordType::A, from_aone(), chaos)),
                ElementsAre(ip("10.88.0.3")));
}

TEST_F(HandlerTest, VerdictIsReusedBetweenCalls) {
    Verdict verdict;
    run_into(make_query("example.com.", RecordType::A), from("10.88.0.3", podman1_), verdict);
    ASSERT_EQ(verdict.action, Verdict::Action::Forward);
    const auto capacity = verdict.servers.capacity();
    run_into(make_query("atwo.", RecordType::A), from_aone(), verdict);
    EXPECT_EQ(verdict.action, Verdict::Action::Reply);
    EXPECT_THAT(verdict.servers, IsEmpty());
    EXPECT_EQ(verdict.source, UpstreamSource::Host);
    EXPECT_EQ(verdict.servers.capacity(), capacity);
    Request response;
    response.flags = Header::kQr;
    run_into(make_query("aone.", RecordType::A, response), from_aone(), verdict);
    EXPECT_EQ(verdict.action, Verdict::Action::Drop);
    EXPECT_EQ(verdict.reply_size, 0U);
}

TEST(ReverseName, ParsesAardvarksWay) {
    EXPECT_EQ(query::parse_reverse_name("53.117.187.10.in-addr.arpa."), ip("10.187.117.53"));
    EXPECT_EQ(query::parse_reverse_name("1.0.0.127.in-addr.arpa."), ip("127.0.0.1"));
    EXPECT_EQ(query::parse_reverse_name(ip6_arpa(ip("2001:db8::1"), false)), ip("2001:db8::1"));
    EXPECT_EQ(query::parse_reverse_name(ip6_arpa(ip("fd00:abcd::ef"), true)), ip("fd00:abcd::ef"));
    EXPECT_EQ(query::parse_reverse_name(
                  "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."),
              ip("2001:db8::1"));
    // Labels are not checked to be single nibbles: the last group takes what is left.
    EXPECT_EQ(query::parse_reverse_name(
                  "01.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."),
              ip("2001:db8::1"));
    EXPECT_EQ(query::parse_reverse_name("10.in-addr.arpa."), std::nullopt);
    EXPECT_EQ(query::parse_reverse_name("117.187.10.in-addr.arpa."), std::nullopt);
    EXPECT_EQ(query::parse_reverse_name("5.53.117.187.10.in-addr.arpa."), std::nullopt);
    EXPECT_EQ(query::parse_reverse_name("053.117.187.10.in-addr.arpa."), std::nullopt);
    EXPECT_EQ(query::parse_reverse_name("53.117.187.10.IN-ADDR.ARPA."), std::nullopt);
    EXPECT_EQ(query::parse_reverse_name("in-addr.arpa."), std::nullopt);
    EXPECT_EQ(query::parse_reverse_name("8.b.d.0.1.0.0.2.ip6.arpa."), std::nullopt);
    EXPECT_EQ(query::parse_reverse_name("1\\.2.117.187.10.in-addr.arpa."), std::nullopt);
    EXPECT_EQ(query::parse_reverse_name(std::string(300, '1') + ".0.0.10.in-addr.arpa."),
              std::nullopt);
    EXPECT_EQ(query::parse_reverse_name(""), std::nullopt);
    EXPECT_EQ(query::parse_reverse_name("."), std::nullopt);
}

dns::Name wire_name(const std::vector<std::string>& labels) {
    std::vector<std::uint8_t> wire;
    for (const std::string& label : labels) {
        wire.push_back(static_cast<std::uint8_t>(label.size()));
        wire.insert(wire.end(), label.begin(), label.end());
    }
    wire.push_back(0);
    dns::WireReader reader(wire);
    dns::Name name;
    EXPECT_TRUE(name.read(reader));
    return name;
}

TEST(ReverseName, LabelsGiveTheTextPathsAnswer) {
    const auto v4 = [](std::vector<std::string> octets) {
        octets.insert(octets.end(), {"in-addr", "arpa"});
        return wire_name(octets);
    };
    EXPECT_EQ(query::reverse_address(v4({"53", "117", "187", "10"})), ip("10.187.117.53"));
    EXPECT_EQ(query::reverse_address(v4({"0", "0", "0", "0"})), ip("0.0.0.0"));
    EXPECT_EQ(query::reverse_address(v4({"255", "255", "255", "255"})), ip("255.255.255.255"));
    EXPECT_EQ(query::reverse_address(v4({"256", "0", "0", "10"})), std::nullopt);
    EXPECT_EQ(query::reverse_address(v4({"053", "0", "0", "10"})), std::nullopt);
    EXPECT_EQ(query::reverse_address(v4({"1.2", "0", "10"})), std::nullopt);
    EXPECT_EQ(query::reverse_address(wire_name({"1", "0", "0", "10", "IN-ADDR", "ARPA"})),
              std::nullopt);
    const auto v6 = ip("2001:db8:ab::cd:ef");
    for (const bool upper : {false, true}) {
        dns::Name name;
        ASSERT_TRUE(name.assign_text(ip6_arpa(v6, upper)));
        EXPECT_EQ(query::reverse_address(name), v6);
    }

    // Every shape, canonical or not: random labels from a pool of near misses must read as the
    // text path reads them.
    const std::vector<std::string> pool = {"0",  "1",   "9",       "00",      "01",  "255", "256",
                                           "a",  "F",   "g",       "ab",      "abc", "",    "1.2",
                                           "-1", "ip6", "in-addr", "IN-ADDR", "arpa"};
    std::mt19937 random(7); // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible on purpose
    int canonical = 0;
    for (int round = 0; round < 20000; ++round) {
        const bool six = round % 2 == 1;
        const std::size_t count = (six ? 32 : 4) + random() % 3 - 1;
        std::vector<std::string> labels;
        for (std::size_t i = 0; i < count; ++i) {
            // Mostly well-formed digits, so near-canonical names are common.
            const bool plain = random() % 8 != 0;
            labels.push_back(plain ? (six ? std::string(1, "0123456789abcdefABCDEF"[random() % 22])
                                          : std::to_string(random() % 300))
                                   : pool[random() % pool.size()]);
        }
        if (std::any_of(labels.begin(), labels.end(), [](const auto& l) { return l.empty(); })) {
            continue;
        }
        labels.insert(labels.end(), {six ? "ip6" : "in-addr", "arpa"});
        const dns::Name name = wire_name(labels);
        std::array<char, dns::kMaxNameTextLength> text{};
        const std::string_view shown = name.format_text(text, false);
        const auto expected = query::parse_reverse_name(shown);
        canonical += expected.has_value() ? 1 : 0;
        ASSERT_EQ(query::reverse_address(name), expected) << shown;
    }
    EXPECT_GT(canonical, 1000); // the fast path was exercised, not only the fallback
}

} // namespace

namespace {

// --probe-liveness: dead addresses leave an answer only while another of the family remains.
TEST_F(HandlerTest, DeadAddressesAreLeftOutWhileALiveOneRemains) {
    // "crowd" on network big answers with 100 addresses; mark all but one dead, then all.
    std::vector<base::IpAddress> dead;
    for (int i = 2; i < 101; ++i) {
        dead.push_back(ip(fmt::format("10.91.0.{}", i)));
    }
    settings_.dead_addresses = std::make_shared<const liveness::DeadSet>(dead);
    const auto reply = ask("crowd.dns.podman.", RecordType::A, from("10.91.0.2", big_),
                           Request{.edns_payload = 4096});
    EXPECT_THAT(addresses(reply), ElementsAre(ip("10.91.0.101")));

    dead.push_back(ip("10.91.0.101"));
    settings_.dead_addresses = std::make_shared<const liveness::DeadSet>(dead);
    // Every address failed its probe: a heuristic never empties an answer, so all stay.
    const auto all = ask("crowd.dns.podman.", RecordType::A, from("10.91.0.2", big_),
                         Request{.edns_payload = 65000});
    EXPECT_EQ(addresses(all).size(), 100U);

    // A single-address name is never touched.
    EXPECT_THAT(addresses(ask("big-5.", RecordType::A, from("10.91.0.2", big_))),
                ElementsAre(ip("10.91.0.5")));
}

TEST_F(HandlerTest, ProbeCandidatesAreAddressesSharingANameWithinAFamily) {
    std::size_t on_big = 0;
    for (const auto& candidate : store_->probe_candidates()) {
        // aone has one v4 and one v6 on podman1: a probe could never change its answer.
        EXPECT_NE(candidate.address, ip("10.88.0.2"));
        EXPECT_NE(candidate.address, ip("fd00:88::2"));
        if (candidate.network == big_) {
            ++on_big;
        }
    }
    EXPECT_EQ(on_big, 100U);
}

} // namespace
