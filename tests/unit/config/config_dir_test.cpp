// Unit tests for config::load_directory: the fixture directories under tests/data/config/ and
// directories built at run time for what git cannot hold (FIFOs, sockets, pid files, bad names).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config_dir.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using config::load_directory;
using config::LoadResult;
using config::NetworkFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const std::string kDataDir = std::string(CTRDNS_TEST_DATA_DIR) + "/config";

std::vector<std::string> network_names(const LoadResult& result) {
    std::vector<std::string> names;
    for (const NetworkFile& network : result.networks) {
        names.push_back(network.internal ? network.name + " (internal)" : network.name);
    }
    return names;
}

std::vector<std::string> problem_texts(const LoadResult& result) {
    std::vector<std::string> texts;
    for (const auto& problem : result.problems) {
        texts.push_back(problem.to_string());
    }
    return texts;
}

using test_support::TempDir;

// Runs `body` in a child process and returns its exit code, or -1 if it did not finish within
// the time limit (it is then killed): proves that the body cannot block.
int run_in_child(const std::function<int()>& body, std::chrono::seconds limit) {
    const pid_t child = ::fork();
    if (child == 0) {
        int code = 99;
        try {
            code = body();
        } catch (...) {
            code = 98;
        }
        ::_exit(code);
    }
    if (child < 0) {
        return -2;
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(child, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(child, SIGKILL);
            ::waitpid(child, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
}

constexpr const char* kGood = "10.0.0.1\nid 10.0.0.2  web\n";

// ---- fixtures in tests/data/config ----------------------------------------------------------

TEST(ConfigDirFixture, TwoNetworks) {
    const LoadResult result = load_directory(kDataDir + "/two_networks");
    ASSERT_TRUE(result.directory_ok) << result.directory_error;
    EXPECT_THAT(result.problems, IsEmpty());
    ASSERT_THAT(network_names(result), ElementsAre("backend", "frontend"));

    const NetworkFile& backend = result.networks[0];
    EXPECT_EQ(backend.path, kDataDir + "/two_networks/backend");
    EXPECT_EQ(backend.bind_ips.size(), 2U);
    EXPECT_EQ(backend.dns_servers.size(), 1U);
    ASSERT_EQ(backend.entries.size(), 1U);
    EXPECT_THAT(backend.entries[0].names, ElementsAre("web", "api"));
    EXPECT_TRUE(backend.entries[0].dns_servers.has_value());

    const NetworkFile& frontend = result.networks[1];
    ASSERT_EQ(frontend.entries.size(), 2U);
    EXPECT_THAT(frontend.entries[1].names, ElementsAre("db"));
    // The same container (id) is on both networks.
    EXPECT_EQ(frontend.entries[0].id, backend.entries[0].id);
}

TEST(ConfigDirFixture, BadFileAmongGoodOnes) {
    const std::string dir = kDataDir + "/bad_file_among_good";
    const LoadResult result = load_directory(dir);
    ASSERT_TRUE(result.directory_ok);
    EXPECT_THAT(network_names(result), ElementsAre("alpha", "gamma", "zeta (internal)"));
    EXPECT_THAT(problem_texts(result),
                UnorderedElementsAre(dir + "/broken_header:1: bad bind address '10.90.1.x' in "
                                           "the header; file skipped",
                                     dir + "/gamma:3: too few fields (3, need 4)",
                                     dir + "/empty: no bind addresses (the file has no non-empty "
                                           "line); file skipped"));
    // Only the bad line of gamma is lost.
    const NetworkFile& gamma = result.networks[1];
    ASSERT_EQ(gamma.entries.size(), 2U);
    EXPECT_THAT(gamma.entries[0].names, ElementsAre("good-line"));
    EXPECT_THAT(gamma.entries[1].names, ElementsAre("after"));
}

TEST(ConfigDirFixture, NetavarkOnePointFour) {
    const LoadResult result = load_directory(kDataDir + "/netavark_1_4");
    ASSERT_TRUE(result.directory_ok);
    EXPECT_THAT(result.problems, IsEmpty());
    ASSERT_THAT(network_names(result), ElementsAre("podman"));
    ASSERT_EQ(result.networks[0].entries.size(), 1U);
    EXPECT_THAT(result.networks[0].entries[0].names, ElementsAre("web", "app", "c0ffee00c0ff"));
}

// ---- directories built at run time ----------------------------------------------------------

TEST(ConfigDir, EmptyDirectoryIsFine) {
    const TempDir dir;
    const LoadResult result = load_directory(dir.path());
    EXPECT_TRUE(result.directory_ok);
    EXPECT_THAT(result.networks, IsEmpty());
    EXPECT_THAT(result.problems, IsEmpty());
}

TEST(ConfigDir, PidFileIsSkipped) {
    const TempDir dir;
    dir.write("aardvark.pid", "12345");
    dir.write("podman", kGood);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre("podman"));
    EXPECT_THAT(result.problems, IsEmpty());
}

TEST(ConfigDir, OnlyTheExactPidFileNameIsSkipped) {
    const TempDir dir;
    dir.write("aardvark.pid.bak", "12345");
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(result.networks, IsEmpty());
    EXPECT_THAT(problem_texts(result),
                ElementsAre(dir.file("aardvark.pid.bak") + ":1: bad bind address '12345' in "
                                                           "the header; file skipped"));
}

TEST(ConfigDir, SubDirectoryIsSkippedWithAProblem) {
    const TempDir dir;
    ASSERT_EQ(::mkdir(dir.file("sub").c_str(), 0755), 0);
    dir.write("podman", kGood);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre("podman"));
    EXPECT_THAT(problem_texts(result),
                ElementsAre(dir.file("sub") + ": a directory, not a network file; skipped"));
}

TEST(ConfigDir, FifoIsSkippedWithoutBlocking) {
    const TempDir dir;
    ASSERT_EQ(::mkfifo(dir.file("pipe").c_str(), 0644), 0);
    dir.write("podman", kGood);
    // In a child: had the FIFO been opened for reading, load_directory would never return.
    const int code = run_in_child(
        [&] {
            const LoadResult result = load_directory(dir.path());
            const bool ok =
                network_names(result) == std::vector<std::string>{"podman"} &&
                problem_texts(result) ==
                    std::vector<std::string>{dir.file("pipe") + ": a FIFO, not a network file; "
                                                                "skipped"};
            return ok ? 0 : 1;
        },
        std::chrono::seconds(20));
    EXPECT_EQ(code, 0);
}

TEST(ConfigDir, SymlinkToAFifoIsSkipped) {
    const TempDir dir;
    ASSERT_EQ(::mkfifo(dir.file("pipe").c_str(), 0644), 0);
    ASSERT_EQ(::symlink("pipe", dir.file("link").c_str()), 0);
    const int code = run_in_child(
        [&] {
            const LoadResult result = load_directory(dir.path());
            return result.networks.empty() && result.problems.size() == 2 ? 0 : 1;
        },
        std::chrono::seconds(20));
    EXPECT_EQ(code, 0);
}

TEST(ConfigDir, SocketIsSkippedWithAProblem) {
    const TempDir dir;
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = dir.file("sock");
    ASSERT_LT(path.size(), sizeof(address.sun_path));
    std::copy(path.begin(), path.end(), address.sun_path);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
    const LoadResult result = load_directory(dir.path());
    ::close(fd);
    EXPECT_THAT(result.networks, IsEmpty());
    EXPECT_THAT(problem_texts(result),
                ElementsAre(path + ": a socket, not a network file; skipped"));
}

TEST(ConfigDir, SymlinkToARegularFileIsRead) {
    const TempDir dir;
    const TempDir elsewhere;
    elsewhere.write("target", kGood);
    ASSERT_EQ(::symlink(elsewhere.file("target").c_str(), dir.file("linked").c_str()), 0);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre("linked"));
    EXPECT_THAT(result.problems, IsEmpty());
}

TEST(ConfigDir, DanglingSymlinkIsSkippedWithAProblem) {
    const TempDir dir;
    ASSERT_EQ(::symlink("/nonexistent/ctrdns/target", dir.file("dangling").c_str()), 0);
    dir.write("podman", kGood);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre("podman"));
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].path, dir.file("dangling"));
    EXPECT_THAT(result.problems[0].message,
                AllOf(HasSubstr("cannot access"), HasSubstr("No such file or directory")));
}

TEST(ConfigDir, NonUtf8ContentIsSkippedWithAProblem) {
    const TempDir dir;
    dir.write("latin1", "10.0.0.1\nid 10.0.0.2  caf\xe9\n");
    dir.write("podman", kGood);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre("podman"));
    EXPECT_THAT(problem_texts(result),
                ElementsAre(dir.file("latin1") + ": contents are not valid UTF-8; file skipped"));
}

TEST(ConfigDir, Utf8ContentIsAccepted) {
    const TempDir dir;
    dir.write("podman", "10.0.0.1\nid 10.0.0.2  caf\xc3\xa9\n");
    const LoadResult result = load_directory(dir.path());
    ASSERT_THAT(network_names(result), ElementsAre("podman"));
    EXPECT_THAT(result.networks[0].entries[0].names, ElementsAre("caf\xc3\xa9"));
}

TEST(ConfigDir, NonUtf8FileNameIsSkippedWithAProblem) {
    const TempDir dir;
    dir.write("net\xff", kGood);
    dir.write("podman", kGood);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre("podman"));
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_THAT(result.problems[0].message, HasSubstr("file name is not valid UTF-8"));
}

TEST(ConfigDir, DotFilesAreNetworkFiles) {
    const TempDir dir;
    dir.write(".hidden", kGood);
    dir.write("podman~", kGood);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre(".hidden", "podman~"));
    EXPECT_THAT(result.problems, IsEmpty());
}

TEST(ConfigDir, OurTemporaryFilesAreSkippedSilently) {
    const TempDir dir;
    dir.write(".podman.ctrdns-tmp", "half-written");
    dir.write(".podman.ctrdns-tmpA1b2C3", "half-written");
    dir.write(".my.net.ctrdns-tmp.42", "half-written");
    dir.write("podman", kGood);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre("podman"));
    EXPECT_THAT(result.problems, IsEmpty());
}

TEST(ConfigDir, NamesThatOnlyResembleTemporaryFilesAreRead) {
    const TempDir dir;
    dir.write(".ctrdns-tmp", kGood);       // no network name before the marker
    dir.write("podman.ctrdns-tmp", kGood); // no leading dot
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre(".ctrdns-tmp", "podman.ctrdns-tmp"));
}

TEST(ConfigDir, InternalSuffixAndSortingByName) {
    const TempDir dir;
    dir.write("zulu", kGood);
    dir.write("alpha%int", kGood);
    dir.write("mike", kGood);
    dir.write("mike%int", kGood);
    dir.write("Bravo", kGood);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result),
                ElementsAre("Bravo", "alpha (internal)", "mike", "mike (internal)", "zulu"));
    EXPECT_EQ(result.networks[1].path, dir.file("alpha%int"));
}

TEST(ConfigDir, TrailingSlashDoesNotDoubleTheSeparator) {
    const TempDir dir;
    dir.write("podman", kGood);
    const LoadResult result = load_directory(dir.path() + "/");
    ASSERT_EQ(result.networks.size(), 1U);
    EXPECT_EQ(result.networks[0].path, dir.file("podman"));
}

TEST(ConfigDir, FileOverTheSizeCapIsSkipped) {
    const TempDir dir;
    dir.write("huge", kGood);
    ASSERT_EQ(::truncate(dir.file("huge").c_str(), 16 * 1024 * 1024 + 1), 0);
    dir.write("podman", kGood);
    const LoadResult result = load_directory(dir.path());
    EXPECT_THAT(network_names(result), ElementsAre("podman"));
    EXPECT_THAT(problem_texts(result),
                ElementsAre(dir.file("huge") + ": larger than 16 MiB; file skipped"));
}

TEST(ConfigDir, FileOfExactlyTheCapIsRead) {
    const TempDir dir;
    std::string text = kGood;
    text.resize(16 * 1024 * 1024, '\n'); // empty lines are skipped
    dir.write("big", text);
    const LoadResult result = load_directory(dir.path());
    ASSERT_THAT(network_names(result), ElementsAre("big"));
    EXPECT_THAT(result.problems, IsEmpty());
    EXPECT_EQ(result.networks[0].entries.size(), 1U);
}

TEST(ConfigDir, UnreadableFileIsSkippedWithAProblem) {
    const TempDir dir;
    dir.write("secret", kGood);
    dir.write("podman", kGood);
    ASSERT_EQ(::chmod(dir.file("secret").c_str(), 0), 0);
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    // Root reads anything, so the check runs in a child that drops to an unprivileged user.
    const int code = run_in_child(
        [&] {
            if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
                return 2;
            }
            const LoadResult result = load_directory(dir.path());
            const bool ok = network_names(result) == std::vector<std::string>{"podman"} &&
                            result.problems.size() == 1 &&
                            result.problems[0].path == dir.file("secret") &&
                            result.problems[0].message.find("cannot open: Permission denied") !=
                                std::string::npos;
            return ok ? 0 : 1;
        },
        std::chrono::seconds(20));
    EXPECT_EQ(code, 0);
}

TEST(ConfigDir, MissingDirectory) {
    const TempDir dir;
    const std::string missing = dir.file("nope");
    const LoadResult result = load_directory(missing);
    EXPECT_FALSE(result.directory_ok);
    EXPECT_THAT(result.directory_error,
                AllOf(HasSubstr(missing), HasSubstr("No such file or directory")));
    EXPECT_THAT(result.networks, IsEmpty());
}

TEST(ConfigDir, PathIsARegularFile) {
    const TempDir dir;
    dir.write("plain", kGood);
    const LoadResult result = load_directory(dir.file("plain"));
    EXPECT_FALSE(result.directory_ok);
    EXPECT_EQ(result.directory_error, dir.file("plain") + ": not a directory");
}

TEST(ConfigDir, PathIsAFifoDoesNotBlock) {
    const TempDir dir;
    ASSERT_EQ(::mkfifo(dir.file("pipe").c_str(), 0644), 0);
    const int code = run_in_child(
        [&] {
            const LoadResult result = load_directory(dir.file("pipe"));
            return !result.directory_ok ? 0 : 1;
        },
        std::chrono::seconds(20));
    EXPECT_EQ(code, 0);
}

TEST(ConfigDir, UnlistableDirectory) {
    const TempDir dir;
    ASSERT_EQ(::chmod(dir.path().c_str(), 0), 0);
    const int code = run_in_child(
        [&] {
            if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
                return 2;
            }
            const LoadResult result = load_directory(dir.path());
            return !result.directory_ok &&
                           result.directory_error.find("Permission denied") != std::string::npos
                       ? 0
                       : 1;
        },
        std::chrono::seconds(20));
    EXPECT_EQ(code, 0);
    ::chmod(dir.path().c_str(), 0700);
}

TEST(ConfigDirPieces, HeadAndTailComeFromOneReadWithoutTheMiddle) {
    const TempDir dir;
    dir.write("podman", "10.89.0.1\na1 10.89.0.2  app\nb1 10.89.0.3  db\n");
    const auto pieces = config::read_network_file_pieces(dir.path(), "podman", 10, 28);
    EXPECT_EQ(pieces.head, "10.89.0.1\n");
    ASSERT_TRUE(pieces.tail);
    EXPECT_EQ(*pieces.tail, "b1 10.89.0.3  db\n");
    EXPECT_EQ(pieces.identity.size, 45);
    EXPECT_FALSE(pieces.problem);
}

TEST(ConfigDirPieces, AFileShorterThanTheOffsetHasNoTailAndNoProblem) {
    const TempDir dir;
    dir.write("podman", "10.89.0.1\n");
    const auto pieces = config::read_network_file_pieces(dir.path(), "podman", 10, 28);
    EXPECT_FALSE(pieces.tail);
    EXPECT_FALSE(pieces.problem);
}

TEST(ConfigDirPieces, ATailThatIsNotUtf8IsAProblem) {
    const TempDir dir;
    dir.write("podman", "10.89.0.1\na1 10.89.0.2  \xff\xfe\n");
    const auto pieces = config::read_network_file_pieces(dir.path(), "podman", 10, 10);
    EXPECT_FALSE(pieces.tail);
    ASSERT_TRUE(pieces.problem);
    EXPECT_THAT(pieces.problem->message, testing::HasSubstr("not valid UTF-8"));
}

} // namespace

namespace {

struct ScannedLine {
    std::string text;
    bool terminated = false;

    bool operator==(const ScannedLine&) const = default;
};

config::FileScan scan(const TempDir& dir, std::vector<ScannedLine>& lines,
                      std::size_t stop_after = 0) {
    return config::scan_network_file(dir.path(), "podman",
                                     [&](std::string_view line, bool terminated) {
                                         lines.push_back({std::string(line), terminated});
                                         return stop_after == 0 || lines.size() < stop_after;
                                     });
}

TEST(ConfigDirScan, EveryLineOnceAcrossPieceBoundariesWithoutTheWholeText) {
    const TempDir dir;
    // Lines of every length around the 64 KiB pieces, one longer than a piece.
    std::string text;
    std::vector<ScannedLine> expected;
    for (int i = 0; text.size() < 300 * 1024; ++i) {
        std::string line(static_cast<std::size_t>(i % 7 == 0 ? 70'000 : 1 + i * 37 % 900),
                         static_cast<char>('a' + i % 26));
        text += line + "\n";
        expected.push_back({std::move(line), true});
    }
    text += "\n"; // a blank line is a line
    expected.push_back({"", true});
    dir.write("podman", text);
    std::vector<ScannedLine> lines;
    const config::FileScan result = scan(dir, lines);
    EXPECT_FALSE(result.problem);
    EXPECT_FALSE(result.stopped);
    EXPECT_TRUE(result.ends_with_newline);
    EXPECT_EQ(result.size, text.size());
    EXPECT_EQ(result.identity.size, static_cast<std::int64_t>(text.size()));
    EXPECT_TRUE(lines == expected);
}

TEST(ConfigDirScan, ALastLineWithoutNewlineIsSaidSo) {
    const TempDir dir;
    dir.write("podman", "10.89.0.1\na1 10.89.0.1");
    std::vector<ScannedLine> lines;
    const config::FileScan result = scan(dir, lines);
    EXPECT_FALSE(result.ends_with_newline);
    EXPECT_THAT(lines,
                ElementsAre(ScannedLine{"10.89.0.1", true}, ScannedLine{"a1 10.89.0.1", false}));
}

TEST(ConfigDirScan, TheVisitorStopsTheWalk) {
    const TempDir dir;
    dir.write("podman", "10.89.0.1\na1 10.89.0.2  app\nb1 10.89.0.3  db\n");
    std::vector<ScannedLine> lines;
    const config::FileScan result = scan(dir, lines, 2);
    EXPECT_TRUE(result.stopped);
    EXPECT_EQ(lines.size(), 2U);
}

TEST(ConfigDirScan, NonUtf8OversizedAndNonRegularFilesAreProblems) {
    const TempDir dir;
    dir.write("podman", "10.89.0.1\na1 10.89.0.2  \xff\xfe\n");
    std::vector<ScannedLine> lines;
    auto result = scan(dir, lines);
    ASSERT_TRUE(result.problem);
    EXPECT_THAT(result.problem->message, HasSubstr("not valid UTF-8"));

    dir.write("podman", kGood);
    ASSERT_EQ(::truncate(dir.file("podman").c_str(), 16 * 1024 * 1024 + 1), 0);
    result = scan(dir, lines);
    ASSERT_TRUE(result.problem);
    EXPECT_THAT(result.problem->message, HasSubstr("larger than 16 MiB"));

    ASSERT_EQ(::unlink(dir.file("podman").c_str()), 0);
    ASSERT_EQ(::mkdir(dir.file("podman").c_str(), 0755), 0);
    result = scan(dir, lines);
    EXPECT_TRUE(result.problem);
}

} // namespace
