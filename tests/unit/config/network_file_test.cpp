// Unit tests for config::parse_network_file: one small case per rule of contract §3.2 and §3.3
// (docs/config-format.md), plus ctrdns's per-line error recovery.
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/network_file.hpp"

namespace {

using base::IpAddress;
using config::ContainerEntry;
using config::NetworkFile;
using config::NetworkFileResult;
using config::parse_network_file;
using config::Problem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

IpAddress ip(std::string_view text) {
    const auto address = IpAddress::parse(text);
    EXPECT_TRUE(address.has_value()) << text;
    return address.value_or(IpAddress{});
}

std::vector<IpAddress> ips(std::initializer_list<std::string_view> texts) {
    std::vector<IpAddress> out;
    for (const auto text : texts) {
        out.push_back(ip(text));
    }
    return out;
}

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

NetworkFileResult parse(std::string_view text, std::string_view name = "podman") {
    return parse_network_file(name, "/cfg/" + std::string(name), text);
}

// Parses text that must yield a file with no problems.
NetworkFile parse_ok(std::string_view text, std::string_view name = "podman") {
    NetworkFileResult result = parse(text, name);
    EXPECT_THAT(result.problems, IsEmpty())
        << (result.problems.empty() ? "" : result.problems.front().to_string());
    EXPECT_TRUE(result.file.has_value());
    return result.file.value_or(NetworkFile{});
}

// ---- header ---------------------------------------------------------------------------------

TEST(NetworkFileHeader, HeaderOnlyIsAValidFileWithNoEntries) {
    const NetworkFile file = parse_ok("10.88.0.1\n");
    EXPECT_EQ(file.name, "podman");
    EXPECT_EQ(file.path, "/cfg/podman");
    EXPECT_FALSE(file.internal);
    EXPECT_EQ(file.bind_ips, ips({"10.88.0.1"}));
    EXPECT_THAT(file.dns_servers, IsEmpty());
    EXPECT_THAT(file.entries, IsEmpty());
}

TEST(NetworkFileHeader, HeaderWithoutTrailingNewline) {
    const NetworkFile file = parse_ok("10.88.0.1");
    EXPECT_EQ(file.bind_ips, ips({"10.88.0.1"}));
}

TEST(NetworkFileHeader, NetworkDnsServers) {
    const NetworkFile file = parse_ok("10.89.3.1,fd10:88:a::1 127.0.0.1,127.0.0.3\n");
    EXPECT_EQ(file.bind_ips, ips({"10.89.3.1", "fd10:88:a::1"}));
    EXPECT_EQ(file.dns_servers, ips({"127.0.0.1", "127.0.0.3"}));
}

TEST(NetworkFileHeader, MixedBindAddressesKeepTheirOrder) {
    const NetworkFile file = parse_ok("fd00::1,10.0.0.1,fe80::1\n");
    EXPECT_EQ(file.bind_ips, ips({"fd00::1", "10.0.0.1", "fe80::1"}));
}

TEST(NetworkFileHeader, FieldsAfterTheDnsServersAreIgnored) {
    const NetworkFile file = parse_ok("10.0.0.1 127.0.0.11 whatever else  here\n");
    EXPECT_EQ(file.dns_servers, ips({"127.0.0.11"}));
}

// A header problem rejects the whole file: no file, one problem naming the line (0: none).
struct RejectedFileCase {
    const char* name;
    std::string text;
    int line;
    const char* message_part;
};

class RejectedFile : public ::testing::TestWithParam<RejectedFileCase> {};

TEST_P(RejectedFile, OneProblemAndNoFile) {
    const RejectedFileCase& c = GetParam();
    const NetworkFileResult result = parse(c.text);
    EXPECT_FALSE(result.file.has_value());
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].line, c.line);
    EXPECT_EQ(result.problems[0].path, "/cfg/podman");
    EXPECT_THAT(result.problems[0].message, HasSubstr(c.message_part));
}

INSTANTIATE_TEST_SUITE_P(
    NetworkFileHeader, RejectedFile,
    ::testing::Values(
        RejectedFileCase{"TrailingSpaceMeansEmptyDnsField",
                         "10.0.0.1 \n" + kId + " 10.0.0.2  web\n", 1,
                         "empty network DNS server field"},
        RejectedFileCase{"BadBindAddress", "10.0.0.x\n" + kId + " 10.0.0.2  web\n", 1,
                         "bad bind address '10.0.0.x'"},
        RejectedFileCase{"BadNetworkDnsAddress", "\n10.0.0.1 127.0.0.11,8.8.8.x\n", 2,
                         "bad network DNS server address '8.8.8.x'"},
        RejectedFileCase{"EmptyText", "", 0, "no bind addresses"},
        RejectedFileCase{"OnlyBlankLines", "\n\n\n", 0, "no bind addresses"},
        // The '\r' stays in the header, and is shown escaped, not written raw into the log line.
        RejectedFileCase{"CarriageReturnInTheHeader", "10.0.0.1\r\n", 1, "'10.0.0.1\\r'"}),
    [](const ::testing::TestParamInfo<RejectedFileCase>& row) { return row.param.name; });

class BadBindAddress : public ::testing::TestWithParam<const char*> {};

TEST_P(BadBindAddress, RejectsTheFile) {
    const NetworkFileResult result = parse(std::string(GetParam()) + "\n");
    EXPECT_FALSE(result.file.has_value());
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].line, 1);
}

// Strict Rust IpAddr syntax: no leading zeros, zones, brackets, empty elements or padding.
INSTANTIATE_TEST_SUITE_P(StrictSyntax, BadBindAddress,
                         ::testing::Values("010.0.0.1", "10.0.0", "10.0.0.256", "fe80::1%eth0",
                                           "[::1]", "10.0.0.1,", ",10.0.0.1", " 10.0.0.1",
                                           "10.0.0.1\r", "10.0.0.1\t", "::g", "dns.podman"));

TEST(NetworkFileHeader, BlankLinesBeforeTheHeaderAreSkipped) {
    const NetworkFile file = parse_ok("\n\n10.0.0.1\n\n" + kId + " 10.0.0.2  web\n\n");
    EXPECT_EQ(file.bind_ips, ips({"10.0.0.1"}));
    ASSERT_EQ(file.entries.size(), 1U);
    EXPECT_EQ(file.entries[0].line, 5);
}

// ---- entries --------------------------------------------------------------------------------

TEST(NetworkFileEntry, FourFields) {
    const NetworkFile file =
        parse_ok("10.89.3.1,fd10:88:a::1\n" + kId + " 10.89.3.2 fd10:88:a::2 somename\n");
    ASSERT_EQ(file.entries.size(), 1U);
    const ContainerEntry& entry = file.entries[0];
    EXPECT_EQ(entry.id, kId);
    EXPECT_EQ(entry.ipv4, ips({"10.89.3.2"}));
    EXPECT_EQ(entry.ipv6, ips({"fd10:88:a::2"}));
    EXPECT_THAT(entry.names, ElementsAre("somename"));
    EXPECT_FALSE(entry.dns_servers.has_value());
    EXPECT_EQ(entry.line, 2);
}

TEST(NetworkFileEntry, FiveFieldsCarryContainerDnsServers) {
    const NetworkFile file = parse_ok("10.89.3.1,fd10:88:a::1 127.0.0.1,127.0.0.3\n" + kId +
                                      " 10.89.3.2 fd10:88:a::2 somename 127.0.0.8,127.0.0.11\n");
    ASSERT_EQ(file.entries.size(), 1U);
    ASSERT_TRUE(file.entries[0].dns_servers.has_value());
    EXPECT_EQ(*file.entries[0].dns_servers, ips({"127.0.0.8", "127.0.0.11"}));
}

TEST(NetworkFileEntry, FiveFieldsWithEmptyDnsFieldMeansNoServers) {
    const NetworkFile file = parse_ok("10.0.0.1\n" + kId + " 10.0.0.2  web \n");
    ASSERT_EQ(file.entries.size(), 1U);
    EXPECT_FALSE(file.entries[0].dns_servers.has_value());
    EXPECT_THAT(file.entries[0].names, ElementsAre("web"));
}

TEST(NetworkFileEntry, SixOrMoreFieldsSilentlyDropTheDnsServers) {
    const NetworkFile file = parse_ok("10.0.0.1\n" + kId + " 10.0.0.2  web 127.0.0.11 \n" + kId +
                                      " 10.0.0.3  db 127.0.0.11 extra fields\n");
    ASSERT_EQ(file.entries.size(), 2U);
    EXPECT_FALSE(file.entries[0].dns_servers.has_value());
    EXPECT_FALSE(file.entries[1].dns_servers.has_value());
}

TEST(NetworkFileEntry, SixFieldsDoNotValidateTheIgnoredServers) {
    const NetworkFile file = parse_ok("10.0.0.1\nid 10.0.0.2  web not-an-ip x\n");
    ASSERT_EQ(file.entries.size(), 1U);
    EXPECT_FALSE(file.entries[0].dns_servers.has_value());
}

// An entry problem skips only that line: the file stays, without the entry, and the problem names
// line 2 (the only entry line of each case).
struct SkippedLineCase {
    const char* name;
    const char* entry_line;
    const char* message;
};

class SkippedLine : public ::testing::TestWithParam<SkippedLineCase> {};

TEST_P(SkippedLine, OneProblemAndNoEntry) {
    const SkippedLineCase& c = GetParam();
    const NetworkFileResult result = parse("10.0.0.1\n" + std::string(c.entry_line) + "\n");
    ASSERT_TRUE(result.file.has_value());
    EXPECT_THAT(result.file->entries, IsEmpty());
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].line, 2);
    EXPECT_EQ(result.problems[0].message, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    NetworkFileEntry, SkippedLine,
    ::testing::Values(
        SkippedLineCase{"BadContainerDnsServer", "id 10.0.0.2  web 1.1.1.x",
                        "bad DNS server address '1.1.1.x'"},
        SkippedLineCase{"OneField", "garbage", "too few fields (1, need 4)"},
        SkippedLineCase{"TabIsNotASeparator", "id\t10.0.0.2  web", "too few fields (3, need 4)"},
        // id, "", "10.0.0.2", "", "web": the v6 field holds an IPv4 address.
        SkippedLineCase{"DoubleSpaceShiftsTheFields", "id  10.0.0.2  web",
                        "bad IPv6 address '10.0.0.2'"},
        SkippedLineCase{"Ipv6InTheIpv4Field", "id fd00::2  web", "bad IPv4 address 'fd00::2'"},
        SkippedLineCase{"Ipv4InTheIpv6Field", "id 10.0.0.2 10.0.0.3 web",
                        "bad IPv6 address '10.0.0.3'"},
        SkippedLineCase{"EmptyElementInsideAnAddressList", "id 10.0.0.2,  web",
                        "bad IPv4 address ''"}),
    [](const ::testing::TestParamInfo<SkippedLineCase>& row) { return row.param.name; });

TEST(NetworkFileEntry, TooFewFieldsSkipsOnlyThatLine) {
    const NetworkFileResult result = parse("10.0.0.1\n"
                                           "a 10.0.0.2  one\n"
                                           "\n"
                                           "b 10.0.0.3 two\n"
                                           "c 10.0.0.4  three\n");
    ASSERT_TRUE(result.file.has_value());
    ASSERT_EQ(result.file->entries.size(), 2U);
    EXPECT_EQ(result.file->entries[0].id, "a");
    EXPECT_EQ(result.file->entries[0].line, 2);
    EXPECT_EQ(result.file->entries[1].id, "c");
    EXPECT_EQ(result.file->entries[1].line, 5);
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].line, 4);
    EXPECT_EQ(result.problems[0].message, "too few fields (3, need 4)");
    EXPECT_EQ(result.problems[0].to_string(), "/cfg/podman:4: too few fields (3, need 4)");
}

TEST(NetworkFileEntry, BadIpv4AddressSkipsTheLine) {
    const NetworkFileResult result = parse("10.0.0.1\nid 10.0.0.2,10.0.0.x  web\nok 10.0.0.3  b\n");
    ASSERT_TRUE(result.file.has_value());
    ASSERT_EQ(result.file->entries.size(), 1U);
    EXPECT_EQ(result.file->entries[0].id, "ok");
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].line, 2);
    EXPECT_EQ(result.problems[0].message, "bad IPv4 address '10.0.0.x'");
}

TEST(NetworkFileEntry, EmptyAddressFieldsMeanNoAddresses) {
    const NetworkFile file = parse_ok("10.0.0.1\n"
                                      "v6only  fd00::2 six\n"
                                      "none   nothing\n");
    ASSERT_EQ(file.entries.size(), 2U);
    EXPECT_THAT(file.entries[0].ipv4, IsEmpty());
    EXPECT_EQ(file.entries[0].ipv6, ips({"fd00::2"}));
    EXPECT_THAT(file.entries[1].ipv4, IsEmpty());
    EXPECT_THAT(file.entries[1].ipv6, IsEmpty());
    EXPECT_THAT(file.entries[1].names, ElementsAre("nothing"));
}

TEST(NetworkFileEntry, SeveralAddressesPerFamily) {
    const NetworkFile file = parse_ok("10.0.0.1\nid 10.0.0.2,10.0.1.2 fd00::2,fd00:1::2 web\n");
    ASSERT_EQ(file.entries.size(), 1U);
    EXPECT_EQ(file.entries[0].ipv4, ips({"10.0.0.2", "10.0.1.2"}));
    EXPECT_EQ(file.entries[0].ipv6, ips({"fd00::2", "fd00:1::2"}));
}

TEST(NetworkFileEntry, IdAndNamesAreLowercased) {
    const NetworkFile file = parse_ok("10.0.0.1\nABCdef 10.0.0.2  Web,APP.Example,mixed_Case\n");
    ASSERT_EQ(file.entries.size(), 1U);
    EXPECT_EQ(file.entries[0].id, "abcdef");
    EXPECT_THAT(file.entries[0].names, ElementsAre("web", "app.example", "mixed_case"));
}

TEST(NetworkFileEntry, EmptyIdIsAccepted) {
    const NetworkFile file = parse_ok("10.0.0.1\n 10.0.0.2  web\n");
    ASSERT_EQ(file.entries.size(), 1U);
    EXPECT_EQ(file.entries[0].id, "");
    EXPECT_EQ(file.entries[0].ipv4, ips({"10.0.0.2"}));
}

TEST(NetworkFileEntry, EmptyNameElementsAreKept) {
    const NetworkFile file = parse_ok("10.0.0.1\na 10.0.0.2  web,,db,\nb 10.0.0.3  \n");
    ASSERT_EQ(file.entries.size(), 2U);
    EXPECT_THAT(file.entries[0].names, ElementsAre("web", "", "db", ""));
    EXPECT_THAT(file.entries[1].names, ElementsAre(""));
}

TEST(NetworkFileEntry, CarriageReturnStaysInTheLastField) {
    const NetworkFileResult result = parse("10.0.0.1\n"
                                           "a 10.0.0.2  web\r\n"
                                           "b 10.0.0.3  db 127.0.0.11\r\n");
    ASSERT_TRUE(result.file.has_value());
    ASSERT_EQ(result.file->entries.size(), 1U);
    EXPECT_THAT(result.file->entries[0].names, ElementsAre("web\r"));
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].line, 3);
    EXPECT_EQ(result.problems[0].message, "bad DNS server address '127.0.0.11\\r'");
}

TEST(NetworkFileEntry, NamesAreNotValidatedAsDnsLabels) {
    const NetworkFile file = parse_ok("10.0.0.1\na 10.0.0.2  my_app.svc,-x-,%!\n");
    ASSERT_EQ(file.entries.size(), 1U);
    EXPECT_THAT(file.entries[0].names, ElementsAre("my_app.svc", "-x-", "%!"));
}

TEST(NetworkFileEntry, NonAsciiBytesSurviveUnchanged) {
    const NetworkFile file = parse_ok("10.0.0.1\nID 10.0.0.2  Caf\xc3\xa9,\xff\xfe\n");
    ASSERT_EQ(file.entries.size(), 1U);
    EXPECT_THAT(file.entries[0].names, ElementsAre("caf\xc3\xa9", "\xff\xfe"));
}

TEST(NetworkFileEntry, SameIdTwiceIsKeptAsTwoEntriesInFileOrder) {
    // The shape of aardvark's podman_v6_entries example: one id, one line per address family.
    const NetworkFile file =
        parse_ok("10.89.0.1,fdfd:733b:dc3:220b::1\n"
                 "7b46c7ad93fcbcb945c35286a5ba19d6976093e2ce39d2cb38ba1eba636404ab"
                 " 10.89.0.2  test1,7b46c7ad93fc\n"
                 "7b46c7ad93fcbcb945c35286a5ba19d6976093e2ce39d2cb38ba1eba636404ab"
                 "  fdfd:733b:dc3:220b::2 test1,7b46c7ad93fc\n",
                 "podman_v6_entries");
    EXPECT_EQ(file.name, "podman_v6_entries");
    ASSERT_EQ(file.entries.size(), 2U);
    EXPECT_EQ(file.entries[0].id, file.entries[1].id);
    EXPECT_EQ(file.entries[0].ipv4, ips({"10.89.0.2"}));
    EXPECT_THAT(file.entries[0].ipv6, IsEmpty());
    EXPECT_THAT(file.entries[1].ipv4, IsEmpty());
    EXPECT_EQ(file.entries[1].ipv6, ips({"fdfd:733b:dc3:220b::2"}));
    EXPECT_THAT(file.entries[0].names, ElementsAre("test1", "7b46c7ad93fc"));
    EXPECT_THAT(file.entries[1].names, ElementsAre("test1", "7b46c7ad93fc"));
    EXPECT_EQ(file.entries[0].line, 2);
    EXPECT_EQ(file.entries[1].line, 3);
}

TEST(NetworkFileEntry, NetavarkOnePointFourFile) {
    // Debian bookworm's netavark 1.4: no DNS fields, two spaces for the empty IPv6 list.
    const NetworkFile file = parse_ok("10.89.0.1\n" + kId + " 10.89.0.2  web,app,abc123\n");
    EXPECT_EQ(file.bind_ips, ips({"10.89.0.1"}));
    EXPECT_THAT(file.dns_servers, IsEmpty());
    ASSERT_EQ(file.entries.size(), 1U);
    EXPECT_EQ(file.entries[0].id, kId);
    EXPECT_EQ(file.entries[0].ipv4, ips({"10.89.0.2"}));
    EXPECT_THAT(file.entries[0].ipv6, IsEmpty());
    EXPECT_THAT(file.entries[0].names, ElementsAre("web", "app", "abc123"));
    EXPECT_FALSE(file.entries[0].dns_servers.has_value());
}

TEST(NetworkFileEntry, ManyEntriesKeepFileOrderAndLineNumbers) {
    const NetworkFile file = parse_ok("10.0.0.1\na 10.0.0.2  x\n\nb 10.0.0.3  y\nc 10.0.0.4  z");
    ASSERT_EQ(file.entries.size(), 3U);
    EXPECT_EQ(file.entries[0].line, 2);
    EXPECT_EQ(file.entries[1].line, 4);
    EXPECT_EQ(file.entries[2].line, 5);
    EXPECT_EQ(file.entries[2].id, "c");
}

TEST(NetworkFileEntry, EveryBadLineIsReported) {
    const NetworkFileResult result =
        parse("10.0.0.1\nx\ny 1.2.3.x  n\nz 10.0.0.2 10.1.2.4 n\nok 10.0.0.5  fine\n");
    ASSERT_TRUE(result.file.has_value());
    ASSERT_EQ(result.file->entries.size(), 1U);
    ASSERT_EQ(result.problems.size(), 3U);
    EXPECT_EQ(result.problems[0].line, 2);
    EXPECT_EQ(result.problems[1].line, 3);
    EXPECT_EQ(result.problems[2].line, 4);
}

TEST(NetworkFileEntry, LongGarbageIsCutInTheMessage) {
    const std::string garbage(10000, 'x');
    const NetworkFileResult result = parse("10.0.0.1\nid " + garbage + "  n\n");
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_LT(result.problems[0].message.size(), 200U);
    EXPECT_THAT(result.problems[0].message, HasSubstr("'..."));
}

// ---- internal networks ----------------------------------------------------------------------

TEST(NetworkFileInternal, SuffixIsStrippedAndForwardingDataDropped) {
    const std::string text = "10.0.0.1 127.0.0.11\n"
                             "a 10.0.0.2  web 127.0.0.8\n"
                             "b 10.0.0.3  db\n";
    const NetworkFile internal = parse_ok(text, "backend%int");
    EXPECT_EQ(internal.name, "backend");
    EXPECT_TRUE(internal.internal);
    EXPECT_EQ(internal.bind_ips, ips({"10.0.0.1"}));
    EXPECT_THAT(internal.dns_servers, IsEmpty());
    ASSERT_EQ(internal.entries.size(), 2U);
    EXPECT_FALSE(internal.entries[0].dns_servers.has_value());
    EXPECT_THAT(internal.entries[0].names, ElementsAre("web"));

    const NetworkFile normal = parse_ok(text, "backend");
    EXPECT_FALSE(normal.internal);
    EXPECT_EQ(normal.dns_servers, ips({"127.0.0.11"}));
    ASSERT_TRUE(normal.entries[0].dns_servers.has_value());
    EXPECT_EQ(*normal.entries[0].dns_servers, ips({"127.0.0.8"}));
}

TEST(NetworkFileInternal, OnlyATrailingSuffixCounts) {
    EXPECT_FALSE(parse_ok("10.0.0.1\n", "a%intb").internal);
    EXPECT_EQ(parse_ok("10.0.0.1\n", "a%intb").name, "a%intb");
    EXPECT_FALSE(parse_ok("10.0.0.1\n", "a%INT").internal);
    const NetworkFile bare = parse_ok("10.0.0.1\n", "%int");
    EXPECT_TRUE(bare.internal);
    EXPECT_EQ(bare.name, "");
}

TEST(NetworkFileInternal, HeaderDnsIsStillValidated) {
    const NetworkFileResult result = parse("10.0.0.1 \n", "backend%int");
    EXPECT_FALSE(result.file.has_value());
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].path, "/cfg/backend%int");
}

TEST(NetworkFileInternal, EntryDnsIsStillValidated) {
    const NetworkFileResult result = parse("10.0.0.1\na 10.0.0.2  web 8.8.8.x\n", "n%int");
    ASSERT_TRUE(result.file.has_value());
    EXPECT_THAT(result.file->entries, IsEmpty());
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].line, 2);
}

// ---- Problem --------------------------------------------------------------------------------

TEST(Problem, ToStringWithAndWithoutLine) {
    EXPECT_EQ((Problem{"/d/net", 7, "bad IPv4 address 'x'"}).to_string(),
              "/d/net:7: bad IPv4 address 'x'");
    EXPECT_EQ((Problem{"/d/net", 0, "not valid UTF-8"}).to_string(), "/d/net: not valid UTF-8");
}

} // namespace
