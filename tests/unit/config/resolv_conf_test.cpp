// Unit tests for config::parse_resolv_conf / read_resolv_conf: one small case per quirk of the
// contract §5.4. Interface names are resolved through an injected table, never the host's.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/resolv_conf.hpp"
#include "support/temp_dir.hpp"

namespace {

using base::IpAddress;
using base::Nameserver;
using config::parse_resolv_conf;
using config::read_resolv_conf;
using config::ResolvConfResult;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::optional<std::uint32_t> fake_interfaces(std::string_view name) {
    if (name == "eth0") {
        return 2;
    }
    if (name == "br-podman") {
        return 17;
    }
    return std::nullopt;
}

ResolvConfResult parse(std::string_view text) {
    return parse_resolv_conf(text, fake_interfaces);
}

Nameserver server(std::string_view text, std::uint32_t scope_id = 0) {
    const auto address = IpAddress::parse(text);
    EXPECT_TRUE(address.has_value()) << text;
    return Nameserver{address.value_or(IpAddress{}), scope_id};
}

std::vector<Nameserver> servers_of(std::string_view text) {
    const ResolvConfResult result = parse(text);
    EXPECT_FALSE(result.error.has_value()) << result.error.value_or("");
    return result.servers;
}

TEST(ResolvConf, PlainNameservers) {
    EXPECT_THAT(servers_of("nameserver 127.0.0.53\nnameserver ::1\n"),
                ElementsAre(server("127.0.0.53"), server("::1")));
}

TEST(ResolvConf, EmptyFileHasNoServersAndNoError) {
    const ResolvConfResult result = parse("");
    EXPECT_FALSE(result.error.has_value());
    EXPECT_THAT(result.servers, IsEmpty());
}

TEST(ResolvConf, NoNameserverLineIsNotAnError) {
    const ResolvConfResult result = parse("search dns.podman\noptions ndots:5 edns0\n");
    EXPECT_FALSE(result.error.has_value());
    EXPECT_THAT(result.servers, IsEmpty());
}

TEST(ResolvConf, HashAndSemicolonComments) {
    EXPECT_THAT(servers_of("# nameserver 127.0.0.1\n"
                           "; nameserver 127.0.0.2\n"
                           "nameserver 127.0.0.3 # trailing comment\n"
                           "nameserver 127.0.0.4;comment\n"
                           "nameserver 127.0.0.5#x\n"
                           "nameserver #127.0.0.6\n"),
                ElementsAre(server("127.0.0.3"), server("127.0.0.4"), server("127.0.0.5")));
}

TEST(ResolvConf, CommentHidesABadAddress) {
    EXPECT_THAT(servers_of("nameserver 127.0.0.1 ; nameserver bogus\n# nameserver bogus\n"),
                ElementsAre(server("127.0.0.1")));
}

TEST(ResolvConf, CarriageReturnIsWhitespace) {
    EXPECT_THAT(servers_of("nameserver 127.0.0.1\r\nnameserver\r127.0.0.2\r\n"),
                ElementsAre(server("127.0.0.1"), server("127.0.0.2")));
}

TEST(ResolvConf, TabsAndRepeatedWhitespace) {
    EXPECT_THAT(servers_of("\t nameserver\t\t127.0.0.1 \t\n  nameserver   127.0.0.2\n"),
                ElementsAre(server("127.0.0.1"), server("127.0.0.2")));
}

TEST(ResolvConf, UnicodeWhitespaceSeparatesTokens) {
    // U+00A0 NO-BREAK SPACE and U+3000 IDEOGRAPHIC SPACE, as Rust's split_whitespace sees them.
    EXPECT_THAT(servers_of("nameserver\xc2\xa0"
                           "127.0.0.1\n"
                           "nameserver\xe3\x80\x80"
                           "127.0.0.2\n"),
                ElementsAre(server("127.0.0.1"), server("127.0.0.2")));
}

TEST(ResolvConf, ExtraTokensAreIgnored) {
    EXPECT_THAT(servers_of("nameserver 127.0.0.1 127.0.0.2 junk\n"),
                ElementsAre(server("127.0.0.1")));
}

TEST(ResolvConf, NameserverWithoutAddressIsIgnored) {
    const ResolvConfResult result = parse("nameserver\nnameserver   \nnameserver 127.0.0.1\n");
    EXPECT_FALSE(result.error.has_value());
    EXPECT_THAT(result.servers, ElementsAre(server("127.0.0.1")));
}

TEST(ResolvConf, KeywordIsCaseSensitive) {
    EXPECT_THAT(servers_of("NAMESERVER 127.0.0.1\nNameServer 127.0.0.2\nnameserver 127.0.0.3\n"),
                ElementsAre(server("127.0.0.3")));
}

TEST(ResolvConf, KeywordMustBeTheFirstToken) {
    EXPECT_THAT(servers_of("x nameserver 127.0.0.1\nnameservers 127.0.0.2\n"), IsEmpty());
}

TEST(ResolvConf, BadAddressOnAnIgnoredLineIsHarmless) {
    EXPECT_THAT(servers_of("search bogus%%%\noptions x\nNAMESERVER bogus\n"), IsEmpty());
}

TEST(ResolvConf, FourServersKeepTheFirstThree) {
    EXPECT_THAT(servers_of("nameserver 127.0.0.1\nnameserver 127.0.0.2\n"
                           "nameserver 127.0.0.3\nnameserver 127.0.0.4\n"),
                ElementsAre(server("127.0.0.1"), server("127.0.0.2"), server("127.0.0.3")));
}

TEST(ResolvConf, BadFourthServerStillFailsTheRead) {
    const ResolvConfResult result = parse("nameserver 127.0.0.1\nnameserver 127.0.0.2\n"
                                          "nameserver 127.0.0.3\nnameserver 127.0.0.x\n");
    ASSERT_TRUE(result.error.has_value());
    EXPECT_EQ(*result.error, "127.0.0.x: parse address: invalid IP address syntax");
    EXPECT_THAT(result.servers, IsEmpty());
}

TEST(ResolvConf, BadAddressFailsTheWholeRead) {
    const ResolvConfResult result = parse("nameserver 127.0.0.1\nnameserver dns.example\n");
    ASSERT_TRUE(result.error.has_value());
    EXPECT_EQ(*result.error, "dns.example: parse address: invalid IP address syntax");
    EXPECT_THAT(result.servers, IsEmpty());
}

TEST(ResolvConf, AddressSyntaxIsStrict) {
    for (const char* bad : {"127.000.0.1", "[::1]", "127.0.0.1:53", "::1/128", "0x7f.0.0.1"}) {
        const ResolvConfResult result = parse(std::string("nameserver ") + bad + "\n");
        EXPECT_TRUE(result.error.has_value()) << bad;
    }
}

TEST(ResolvConf, NumericZoneIsTheScopeId) {
    EXPECT_THAT(servers_of("nameserver fe80::1%3\nnameserver fe80::2%+7\nnameserver fe80::3%0\n"),
                ElementsAre(server("fe80::1", 3), server("fe80::2", 7), server("fe80::3", 0)));
}

TEST(ResolvConf, NumericZoneIsNotCheckedAgainstInterfaces) {
    EXPECT_THAT(servers_of("nameserver fe80::1%4294967295\n"),
                ElementsAre(server("fe80::1", 4294967295U)));
}

TEST(ResolvConf, ZoneTooLargeForU32IsAnInterfaceName) {
    const ResolvConfResult result = parse("nameserver fe80::1%4294967296\n");
    ASSERT_TRUE(result.error.has_value());
    EXPECT_EQ(*result.error, "resolve scope id: IO error: No such device (os error 19)");
}

TEST(ResolvConf, NamedZoneGoesThroughTheLookup) {
    EXPECT_THAT(servers_of("nameserver fe80::1%eth0\nnameserver fd00::53%br-podman\n"),
                ElementsAre(server("fe80::1", 2), server("fd00::53", 17)));
}

TEST(ResolvConf, UnknownInterfaceFailsTheRead) {
    const ResolvConfResult result = parse("nameserver 127.0.0.1\nnameserver fe80::1%wlan9\n");
    ASSERT_TRUE(result.error.has_value());
    EXPECT_EQ(*result.error, "resolve scope id: IO error: No such device (os error 19)");
    EXPECT_THAT(result.servers, IsEmpty());
}

TEST(ResolvConf, EmptyZoneIsAnUnknownInterface) {
    const ResolvConfResult result = parse("nameserver fe80::1%\n");
    ASSERT_TRUE(result.error.has_value());
    EXPECT_THAT(*result.error, HasSubstr("No such device"));
}

TEST(ResolvConf, ZoneOnIpv4FailsTheRead) {
    for (const char* line : {"nameserver 127.0.0.1%eth0\n", "nameserver 127.0.0.1%5\n"}) {
        const ResolvConfResult result = parse(line);
        ASSERT_TRUE(result.error.has_value()) << line;
        EXPECT_EQ(*result.error, "scope id not supported for ipv4 address");
    }
}

TEST(ResolvConf, InterfaceIsResolvedBeforeTheIpv4Check) {
    const ResolvConfResult result = parse("nameserver 127.0.0.1%wlan9\n");
    ASSERT_TRUE(result.error.has_value());
    EXPECT_THAT(*result.error, HasSubstr("No such device"));
}

TEST(ResolvConf, BadAddressWithZoneNamesTheWholeToken) {
    const ResolvConfResult result = parse("nameserver fe80::zz%eth0\n");
    ASSERT_TRUE(result.error.has_value());
    EXPECT_EQ(*result.error, "fe80::zz%eth0: parse address: invalid IP address syntax");
}

TEST(ResolvConf, NonUtf8FailsTheRead) {
    const ResolvConfResult result = parse("nameserver 127.0.0.1\n# caf\xe9\n");
    ASSERT_TRUE(result.error.has_value());
    EXPECT_THAT(*result.error, HasSubstr("valid UTF-8"));
    EXPECT_THAT(result.servers, IsEmpty());
}

TEST(ResolvConf, SystemLookupRejectsImpossibleNames) {
    EXPECT_FALSE(config::system_interface_index("").has_value());
    EXPECT_FALSE(config::system_interface_index(std::string_view("lo\0x", 4)).has_value());
    EXPECT_FALSE(config::system_interface_index(std::string(64, 'a')).has_value());
}

TEST(ResolvConf, SystemLookupFindsLoopback) {
    // Every network namespace has `lo`, so this does not depend on the host's interfaces.
    const auto index = config::system_interface_index("lo");
    ASSERT_TRUE(index.has_value());
    EXPECT_GT(*index, 0U);
}

// ---- read_resolv_conf -----------------------------------------------------------------------

class ResolvConfFile : public ::testing::Test {
protected:
    std::string write(const std::string& name, const std::string& contents) {
        dir_.write(name, contents);
        return dir_.file(name);
    }

    test_support::TempDir dir_;
};

TEST_F(ResolvConfFile, ReadsAndParses) {
    const std::string path = write("resolv.conf", "search x\nnameserver 127.0.0.53\n");
    const ResolvConfResult result = read_resolv_conf(path, fake_interfaces);
    EXPECT_FALSE(result.error.has_value());
    EXPECT_THAT(result.servers, ElementsAre(server("127.0.0.53")));
}

TEST_F(ResolvConfFile, MissingFileIsAnError) {
    const ResolvConfResult result = read_resolv_conf(dir_.file("absent"), fake_interfaces);
    ASSERT_TRUE(result.error.has_value());
    EXPECT_THAT(*result.error, HasSubstr("No such file or directory"));
    EXPECT_THAT(*result.error, HasSubstr(dir_.file("absent")));
}

TEST_F(ResolvConfFile, DirectoryIsAnError) {
    const ResolvConfResult result = read_resolv_conf(dir_.path(), fake_interfaces);
    EXPECT_TRUE(result.error.has_value());
}

TEST_F(ResolvConfFile, FifoIsAnErrorNotAHang) {
    const std::string path = dir_.file("fifo");
    ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
    const ResolvConfResult result = read_resolv_conf(path, fake_interfaces);
    ASSERT_TRUE(result.error.has_value());
    EXPECT_THAT(*result.error, HasSubstr("not a regular file"));
}

TEST_F(ResolvConfFile, DevNullIsAnEmptyList) {
    // Some setups bind-mount /dev/null over /etc/resolv.conf.
    const ResolvConfResult result = read_resolv_conf("/dev/null", fake_interfaces);
    EXPECT_FALSE(result.error.has_value());
    EXPECT_THAT(result.servers, IsEmpty());
}

TEST_F(ResolvConfFile, NonUtf8FileIsAnError) {
    const std::string path = write("resolv.conf", "nameserver 127.0.0.1\n\xff\n");
    const ResolvConfResult result = read_resolv_conf(path, fake_interfaces);
    EXPECT_TRUE(result.error.has_value());
}

} // namespace
