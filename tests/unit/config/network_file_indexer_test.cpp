// config::NetworkFileIndexer: a file walked in pieces and read back line by line gives exactly
// what index_network_file gives for its text, and notices a file that changed in between.
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config_dir.hpp"
#include "config/network_file.hpp"
#include "support/temp_dir.hpp"

namespace {

using test_support::TempDir;

// The file `name` of `dir` indexed as the daemon's full builds index it.
config::NetworkFileLinesResult index_in_pieces(const TempDir& dir, const std::string& name,
                                               bool drop_cut_line = false) {
    config::NetworkFileIndexer indexer(name, dir.file(name));
    std::uint64_t offset = 0;
    base::UniqueFd fd;
    const config::FileScan scan = config::scan_network_file(
        dir.path(), name,
        [&](std::string_view line, bool terminated) {
            indexer.line(line, offset, terminated);
            offset += line.size() + (terminated ? 1U : 0U);
            return true;
        },
        &fd);
    EXPECT_FALSE(scan.problem);
    if (drop_cut_line) {
        indexer.drop_unterminated();
    }
    return indexer.finish(std::move(fd));
}

std::vector<std::string> problem_texts(const config::NetworkFileLinesResult& result) {
    std::vector<std::string> texts;
    for (const auto& problem : result.problems) {
        texts.push_back(problem.to_string());
    }
    return texts;
}

std::string describe(const config::ContainerEntry& entry) {
    std::vector<std::string> v4;
    std::vector<std::string> v6;
    for (const auto& a : entry.ipv4) {
        v4.push_back(a.to_string());
    }
    for (const auto& a : entry.ipv6) {
        v6.push_back(a.to_string());
    }
    return fmt::format("{}@{} [{}] [{}] [{}] dns={}", entry.id, entry.line, fmt::join(v4, ","),
                       fmt::join(v6, ","), fmt::join(entry.names, ","),
                       entry.dns_servers ? static_cast<int>(entry.dns_servers->size()) : -1);
}

// Every line, newest first as the builds read them.
std::vector<std::string> entries_newest_first(const config::NetworkFileLines& lines) {
    std::vector<std::string> out;
    config::ContainerEntry entry;
    for (std::uint32_t index = lines.size(); index-- > 0;) {
        lines.parse(index, entry);
        out.push_back(describe(entry));
    }
    return out;
}

class SameAsTheText : public testing::TestWithParam<std::string> {};

TEST_P(SameAsTheText, EntriesProblemsAndHeader) {
    const TempDir dir;
    const std::string& text = GetParam();
    for (const std::string name : {"podman", "podman%int"}) {
        dir.write(name, text);
        const auto expected = config::index_network_file(name, dir.file(name), text);
        const auto got = index_in_pieces(dir, name);
        EXPECT_EQ(problem_texts(got), problem_texts(expected));
        ASSERT_EQ(got.file.has_value(), expected.file.has_value());
        if (!expected.file) {
            continue;
        }
        EXPECT_EQ(got.file->header().bind_ips, expected.file->header().bind_ips);
        EXPECT_EQ(got.file->header().dns_servers, expected.file->header().dns_servers);
        EXPECT_EQ(got.file->header().internal, expected.file->header().internal);
        EXPECT_EQ(got.file->size(), expected.file->size());
        EXPECT_EQ(got.file->address_count(), expected.file->address_count());
        EXPECT_EQ(entries_newest_first(*got.file), entries_newest_first(*expected.file));
        EXPECT_FALSE(got.file->changed());
    }
}

std::string many_lines(int count, std::size_t long_every) {
    std::string text = "10.89.0.1 127.0.0.53\n";
    for (int i = 0; i < count; ++i) {
        const std::size_t alias = long_every != 0 && i % static_cast<int>(long_every) == 0
                                      ? 70'000
                                      : static_cast<std::size_t>(i % 40);
        text += fmt::format("{:064x} 10.89.{}.{}  ctr-{},{}\n", i + 1, i / 250, 1 + i % 250, i,
                            std::string(alias + 1, 'a'));
    }
    return text;
}

INSTANTIATE_TEST_SUITE_P(
    Texts, SameAsTheText,
    testing::Values(std::string("10.89.0.1\na1 10.89.0.2  app,a1\nb1 10.89.0.3 fd00::3 db\n"),
                    std::string("\n\n10.89.0.1\n\na1 10.89.0.2  app\n\n"),
                    std::string("10.89.0.1\na1 10.89.0.2  app\nbad line\nb1 10.89.0.x  db\n"
                                "c1 10.89.0.4  web 127.0.0.1\n"),
                    std::string("10.89.0.1\na1 10.89.0.2  app\nb1 10.89.0.3  d"),
                    std::string("not-an-address\na1 10.89.0.2  app\n"), std::string(""),
                    std::string("\n\n"), std::string("10.89.0.1"), many_lines(3000, 0),
                    many_lines(40, 7)),
    [](const testing::TestParamInfo<std::string>& param) {
        return "text" + std::to_string(param.index);
    });

TEST(NetworkFileIndexer, ACutOffLastLineCanBeLeftOut) {
    const TempDir dir;
    dir.write("podman", "10.89.0.1\na1 10.89.0.2  app\nb1 10.89.0.1");
    auto result = index_in_pieces(dir, "podman", true);
    ASSERT_TRUE(result.file);
    EXPECT_EQ(result.file->size(), 1U);
    EXPECT_EQ(result.file->address_count(), 1U);
    // A cut-off header leaves no file.
    dir.write("podman", "10.89.0");
    result = index_in_pieces(dir, "podman", true);
    EXPECT_FALSE(result.file);
}

TEST(NetworkFileIndexer, ALineRewrittenAfterTheWalkIsNoticedNotServed) {
    const TempDir dir;
    const std::string text = many_lines(500, 0);
    dir.write("podman", text);
    auto result = index_in_pieces(dir, "podman");
    ASSERT_TRUE(result.file);
    // netavark's teardown truncates the file and rewrites it in place, through the same inode.
    std::string rewritten = text;
    rewritten.replace(rewritten.find("ctr-10,"), 7, "ctr-99,");
    const int fd = ::open(dir.file("podman").c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, rewritten.data(), rewritten.size()),
              static_cast<ssize_t>(rewritten.size()));
    ::close(fd);
    config::ContainerEntry entry;
    result.file->parse(499, entry);
    EXPECT_FALSE(result.file->changed());
    result.file->parse(10, entry);
    EXPECT_TRUE(result.file->changed());
    EXPECT_TRUE(entry.names.empty());
    EXPECT_TRUE(entry.ipv4.empty());
}

TEST(NetworkFileIndexer, AFileTruncatedAfterTheWalkIsNoticed) {
    const TempDir dir;
    dir.write("podman", many_lines(500, 0));
    auto result = index_in_pieces(dir, "podman");
    ASSERT_TRUE(result.file);
    ASSERT_EQ(::truncate(dir.file("podman").c_str(), 0), 0);
    config::ContainerEntry entry;
    result.file->parse(3, entry);
    EXPECT_TRUE(result.file->changed());
}

} // namespace
