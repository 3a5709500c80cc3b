#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "check/file_repair.hpp"

namespace {

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class TempDir : public testing::Test {
protected:
    void SetUp() override {
        root_ = std::filesystem::temp_directory_path() /
                ("ctrdns-repair-" + std::to_string(::getpid()) + "-" +
                 testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(root_);
        std::filesystem::create_directories(root_ / "aardvark-dns");
    }

    void TearDown() override { std::filesystem::remove_all(root_); }

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
    EXPECT_EQ(check::replace_file_atomically(path.string(), "new\n"), "");
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
        check::NetavarkLock lock((root_ / "aardvark-dns").string());
        ASSERT_TRUE(lock.held()) << lock.error();
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

} // namespace
