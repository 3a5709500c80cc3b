// pid file format and ownership rules (spec §2.1 step 4.2, §2.6 notify step 1).
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "daemon/pid_file.hpp"
#include "temp_dir.hpp"

namespace {

using lifecycle::pid_file_path;
using lifecycle::read_pid_file;
using lifecycle::remove_pid_file_if_owned;
using lifecycle::write_pid_file;

TEST(PidFile, PathIsInsideTheConfigDirectory) {
    EXPECT_EQ(pid_file_path("/run/containers/networks/aardvark-dns"),
              "/run/containers/networks/aardvark-dns/aardvark.pid");
    EXPECT_EQ(pid_file_path("/run/dns/"), "/run/dns/aardvark.pid");
}

TEST(PidFile, WritesDecimalWithoutNewline) {
    const test_support::TempDir dir;
    const std::string path = dir.file("aardvark.pid");
    ASSERT_EQ(write_pid_file(path, 12897), std::nullopt);
    EXPECT_EQ(dir.read("aardvark.pid"), "12897");
    EXPECT_EQ(read_pid_file(path), 12897);
}

TEST(PidFile, TruncatesAnOlderLongerPid) {
    const test_support::TempDir dir;
    const std::string path = dir.file("aardvark.pid");
    ASSERT_EQ(write_pid_file(path, 4194303), std::nullopt);
    ASSERT_EQ(write_pid_file(path, 42), std::nullopt);
    EXPECT_EQ(dir.read("aardvark.pid"), "42");
}

TEST(PidFile, ModeFollowsTheUmask) {
    const test_support::TempDir dir;
    const mode_t old_mask = ::umask(022);
    ASSERT_EQ(write_pid_file(dir.file("aardvark.pid"), 7), std::nullopt);
    ::umask(old_mask);

    struct stat info {};

    ASSERT_EQ(::stat(dir.file("aardvark.pid").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777U, 0644U);
}

TEST(PidFile, CreateFailureUsesAardvarksWording) {
    const auto error = write_pid_file("/nonexistent-ctrdns-dir/aardvark.pid", 1);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(*error, "Unable to get process pid: No such file or directory (os error 2)");
}

TEST(PidFile, ReadsOnlyWhatNetavarkAccepts) {
    const test_support::TempDir dir;
    const std::string path = dir.file("aardvark.pid");
    EXPECT_EQ(read_pid_file(path), std::nullopt) << "missing";
    for (const char* bad : {"", "123\n", " 123", "-5", "+5", "12a", "99999999999999999999"}) {
        dir.write("aardvark.pid", bad);
        EXPECT_EQ(read_pid_file(path), std::nullopt) << '"' << bad << '"';
    }
    dir.write("aardvark.pid", "1");
    EXPECT_EQ(read_pid_file(path), 1);
}

TEST(PidFile, RemovedOnlyWhenItStillNamesUs) {
    const test_support::TempDir dir;
    const std::string path = dir.file("aardvark.pid");
    ASSERT_EQ(write_pid_file(path, 1000), std::nullopt);
    EXPECT_FALSE(remove_pid_file_if_owned(path, 999));
    EXPECT_TRUE(dir.exists("aardvark.pid"));
    EXPECT_TRUE(remove_pid_file_if_owned(path, 1000));
    EXPECT_FALSE(dir.exists("aardvark.pid"));
    EXPECT_FALSE(remove_pid_file_if_owned(path, 1000));
}

TEST(PidFile, RemoveReportsTheError) {
    const test_support::TempDir dir;
    EXPECT_EQ(lifecycle::remove_pid_file(dir.file("aardvark.pid")),
              std::error_code(ENOENT, std::generic_category()));
}

} // namespace
