#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "check/file_repair.hpp"
#include "support/temp_dir.hpp"

namespace {

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class TempDir : public testing::Test {
protected:
    void SetUp() override {
        root_ = scratch_.path();
        std::filesystem::create_directories(root_ / "aardvark-dns");
    }

    test_support::TempDir scratch_;
    std::filesystem::path root_;
};

TEST(RemoveLines, KeepsEveryOtherByte) {
    const std::string text = "10.0.0.1\nA 10.0.0.2  a\n\nB 10.0.0.3  b\nC 10.0.0.4  c";
    EXPECT_EQ(check::remove_lines(text, {2}), "10.0.0.1\n\nB 10.0.0.3  b\nC 10.0.0.4  c");
    EXPECT_EQ(check::remove_lines(text, {4, 5}), "10.0.0.1\nA 10.0.0.2  a\n\n");
    EXPECT_EQ(check::remove_lines(text, {}), text);
}

TEST(RemoveLines, TrailingNewlineAndCarriageReturnSurvive) {
    const std::string text = "gw\r\nA x\r\nB y\n";
    EXPECT_EQ(check::remove_lines(text, {2}), "gw\r\nB y\n");
}

TEST_F(TempDir, ReplaceKeepsModeAndLeavesNoTemporary) {
    const auto path = root_ / "aardvark-dns" / "net";
    { std::ofstream(path) << "old\n"; }
    ::chmod(path.c_str(), 0640);
    EXPECT_TRUE(check::replace_file_atomically(path.string(), "new\n"));
    EXPECT_EQ(slurp(path), "new\n");

    struct stat st {};

    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640U);
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator(root_ / "aardvark-dns")) {
        ++files;
    }
    EXPECT_EQ(files, 1U);
}

TEST_F(TempDir, LockFileIsNetavarksAndExclusive) {
    {
        const auto lock = check::NetavarkLock::acquire((root_ / "aardvark-dns").string());
        ASSERT_TRUE(lock) << lock.error().message();
        EXPECT_TRUE(std::filesystem::exists(root_ / "aardvark.lock"));
        // A second, independent open file description must not get the lock meanwhile.
        const int fd = ::open((root_ / "aardvark.lock").c_str(), O_RDWR | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0);
        ::close(fd);
    }
    const int fd = ::open((root_ / "aardvark.lock").c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    ::close(fd);
}

// --- hostile directories (docs/security.md) ---------------------------------------------------

std::size_t entries_in(const std::filesystem::path& directory) {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(directory)) {
        ++count;
    }
    return count;
}

struct stat stat_of(const std::filesystem::path& path) {
    struct stat info {};

    EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
    return info;
}

TEST_F(TempDir, SymlinkTargetIsRefusedAndNothingOutsideChanges) {
    const auto outside = root_ / "outside";
    { std::ofstream(outside) << "precious\n"; }
    const auto link = root_ / "aardvark-dns" / "net";
    std::filesystem::create_symlink(outside, link);
    const auto outcome = check::rewrite_file_safely(
        link.string(), [](std::string_view) { return std::optional<std::string>("owned\n"); });
    EXPECT_EQ(outcome.status, check::RewriteOutcome::Status::Refused);
    EXPECT_NE(outcome.error.find("symbolic link"), std::string::npos) << outcome.error;
    EXPECT_EQ(slurp(outside), "precious\n");
    EXPECT_TRUE(std::filesystem::is_symlink(link));
}

TEST_F(TempDir, FifoAndHardLinkedTargetsAreRefused) {
    const auto fifo = root_ / "aardvark-dns" / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    const auto keep = [](std::string_view) {
        return std::optional<std::string>("x\n");
    };
    auto outcome = check::rewrite_file_safely(fifo.string(), keep);
    EXPECT_EQ(outcome.status, check::RewriteOutcome::Status::Refused);
    EXPECT_NE(outcome.error.find("not a regular file"), std::string::npos) << outcome.error;

    const auto outside = root_ / "outside";
    { std::ofstream(outside) << "precious\n"; }
    const auto linked = root_ / "aardvark-dns" / "net";
    std::filesystem::create_hard_link(outside, linked);
    outcome = check::rewrite_file_safely(linked.string(), keep);
    EXPECT_EQ(outcome.status, check::RewriteOutcome::Status::Refused);
    EXPECT_NE(outcome.error.find("hard links"), std::string::npos) << outcome.error;
    EXPECT_EQ(slurp(outside), "precious\n");
}

TEST_F(TempDir, WorldWritableDirectoryWithoutStickyBitIsRefused) {
    const auto directory = root_ / "aardvark-dns";
    const auto path = directory / "net";
    { std::ofstream(path) << "old\n"; }
    ASSERT_EQ(::chmod(directory.c_str(), 0777), 0);
    const base::Result<void> refused = check::replace_file_atomically(path.string(), "new\n");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("sticky"), std::string::npos);
    EXPECT_EQ(slurp(path), "old\n");
    ASSERT_EQ(::chmod(directory.c_str(), 01777), 0); // like /tmp: others cannot swap our files
    EXPECT_TRUE(check::replace_file_atomically(path.string(), "new\n"));
    EXPECT_EQ(slurp(path), "new\n");
}

TEST_F(TempDir, OwnerGroupAndModeOfTheOriginalAreKept) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to own files as another user";
    }
    const auto directory = root_ / "aardvark-dns";
    const auto path = directory / "net";
    { std::ofstream(path) << "old\n"; }
    ASSERT_EQ(::chown(directory.c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chown(path.c_str(), 65534, 65533), 0);
    ASSERT_EQ(::chmod(path.c_str(), 0604), 0);
    EXPECT_TRUE(check::replace_file_atomically(path.string(), "new\n"));
    const struct stat info = stat_of(path);
    EXPECT_EQ(info.st_uid, 65534U);
    EXPECT_EQ(info.st_gid, 65533U);
    EXPECT_EQ(info.st_mode & 07777, 0604U);
    EXPECT_EQ(entries_in(directory), 1U);
}

TEST_F(TempDir, MissingLockIsCreatedWithTheDirectoryOwnersOwnership) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to own files as another user";
    }
    ASSERT_EQ(::chown(root_.c_str(), 65534, 65533), 0);
    {
        const auto lock = check::NetavarkLock::acquire((root_ / "aardvark-dns").string());
        ASSERT_TRUE(lock) << lock.error().message();
    }
    const struct stat info = stat_of(root_ / "aardvark.lock");
    EXPECT_TRUE(S_ISREG(info.st_mode));
    EXPECT_EQ(info.st_uid, 65534U);
    EXPECT_EQ(info.st_gid, 65533U);
    EXPECT_EQ(info.st_mode & 07777, 0644U);
}

TEST_F(TempDir, LockSymlinkIsNeverFollowed) {
    const auto outside = root_ / "outside";
    std::filesystem::create_symlink(outside, root_ / "aardvark.lock");
    const auto lock = check::NetavarkLock::acquire((root_ / "aardvark-dns").string());
    ASSERT_FALSE(lock);
    EXPECT_NE(lock.error().message().find("symbolic link"), std::string::npos)
        << lock.error().message();
    EXPECT_FALSE(std::filesystem::exists(outside));
}

TEST_F(TempDir, RepairWaitsForAWriterThatHasTheFileOpen) {
    const auto path = root_ / "aardvark-dns" / "net";
    { std::ofstream(path) << "gw\nstale\n"; }
    // A teardown caught between two writes: truncated, first line written, the rest to come.
    const int writer = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    ASSERT_GE(writer, 0);
    ASSERT_EQ(::write(writer, "gw\n", 3), 3);
    std::thread teardown([writer] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        EXPECT_EQ(::write(writer, "live\nstale\n", 11), 11);
        ::close(writer);
    });
    const auto outcome = check::rewrite_file_safely(path.string(), [](std::string_view text) {
        std::string kept;
        std::size_t start = 0;
        while (start < text.size()) {
            const std::size_t end = text.find('\n', start);
            const auto line = text.substr(start, end - start + 1);
            if (line != "stale\n") {
                kept.append(line);
            }
            start = end + 1;
        }
        return std::optional<std::string>(kept);
    });
    teardown.join();
    EXPECT_TRUE(outcome.ok()) << outcome.error;
    EXPECT_EQ(slurp(path), "gw\nlive\n");
}

TEST_F(TempDir, WriterStillWritingBehindTheRenameIsRepairedAgain) {
    const auto path = root_ / "aardvark-dns" / "net";
    { std::ofstream(path) << "gw\nstale\n"; }
    std::thread teardown;
    int calls = 0;
    const auto outcome = check::rewrite_file_safely(path.string(), [&](std::string_view text) {
        if (++calls == 1) {
            // Opens the inode being repaired before the rename, writes after it.
            const int writer = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
            EXPECT_GE(writer, 0);
            teardown = std::thread([writer] {
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                EXPECT_EQ(::write(writer, "live\n", 5), 5);
                ::close(writer);
            });
        }
        std::string kept(text);
        if (const auto at = kept.find("stale\n"); at != std::string::npos) {
            kept.erase(at, 6);
        }
        return std::optional<std::string>(kept);
    });
    teardown.join();
    EXPECT_TRUE(outcome.ok()) << outcome.error;
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(slurp(path), "gw\nlive\n");
    EXPECT_EQ(entries_in(root_ / "aardvark-dns"), 1U);
}

TEST_F(TempDir, WriterThatNeverFinishesLeavesTheFileAlone) {
    const auto path = root_ / "aardvark-dns" / "net";
    { std::ofstream(path) << "gw\nstale\n"; }
    const int writer = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(writer, 0);
    const auto outcome = check::rewrite_file_safely(
        path.string(), [](std::string_view) { return std::optional<std::string>("gw\n"); },
        check::RewriteTiming{.writer_wait = std::chrono::milliseconds(100)});
    ::close(writer);
    EXPECT_EQ(outcome.status, check::RewriteOutcome::Status::Failed);
    EXPECT_NE(outcome.error.find("still open for writing"), std::string::npos) << outcome.error;
    EXPECT_EQ(slurp(path), "gw\nstale\n");
}

} // namespace
