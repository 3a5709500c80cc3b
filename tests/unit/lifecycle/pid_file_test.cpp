// pid file format and ownership rules (contract §2.1 step 3, §2.6 notify step 1).
#include <csignal>
#include <cstdlib>
#include <string>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "lifecycle/pid_file.hpp"
#include "support/temp_dir.hpp"

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
    ASSERT_TRUE(write_pid_file(path, 12897));
    EXPECT_EQ(dir.read("aardvark.pid"), "12897");
    EXPECT_EQ(read_pid_file(path), 12897);
}

TEST(PidFile, TruncatesAnOlderLongerPid) {
    const test_support::TempDir dir;
    const std::string path = dir.file("aardvark.pid");
    ASSERT_TRUE(write_pid_file(path, 4194303));
    ASSERT_TRUE(write_pid_file(path, 42));
    EXPECT_EQ(dir.read("aardvark.pid"), "42");
}

TEST(PidFile, ModeFollowsTheUmask) {
    const test_support::TempDir dir;
    const mode_t old_mask = ::umask(022);
    ASSERT_TRUE(write_pid_file(dir.file("aardvark.pid"), 7));
    ::umask(old_mask);

    struct stat info {};

    ASSERT_EQ(::stat(dir.file("aardvark.pid").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777U, 0644U);
}

TEST(PidFile, CreateFailureUsesAardvarksWording) {
    const auto written = write_pid_file("/nonexistent-ctrdns-dir/aardvark.pid", 1);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().message(),
              "Unable to get process pid: No such file or directory (os error 2)");
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
    ASSERT_TRUE(write_pid_file(path, 1000));
    EXPECT_FALSE(remove_pid_file_if_owned(path, 999));
    EXPECT_TRUE(dir.exists("aardvark.pid"));
    EXPECT_TRUE(remove_pid_file_if_owned(path, 1000));
    EXPECT_FALSE(dir.exists("aardvark.pid"));
    EXPECT_FALSE(remove_pid_file_if_owned(path, 1000));
}

TEST(PidFile, RemoveReportsTheError) {
    const test_support::TempDir dir;
    const auto removed = lifecycle::remove_pid_file(dir.file("aardvark.pid"));
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error(), base::Error("No such file or directory", ENOENT));
}

// --- the guard of a starting daemon ---------------------------------------------------------

using lifecycle::PidFileGuard;

// A child of this test binary (so it runs the same executable) that sleeps until killed.
pid_t start_sleeper() {
    const pid_t child = ::fork();
    if (child == 0) {
        for (;;) {
            ::pause();
        }
    }
    return child;
}

void stop(pid_t child) {
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
}

TEST(PidFileGuard, AFailedStartLeavesNoPidFile) {
    const test_support::TempDir dir;
    {
        PidFileGuard guard(dir.file("aardvark.pid"), 4242);
        ASSERT_TRUE(guard.write());
        EXPECT_EQ(dir.read("aardvark.pid"), "4242");
    }
    EXPECT_FALSE(dir.exists("aardvark.pid"));
}

TEST(PidFileGuard, AFileRewrittenByAnotherDaemonIsLeftToIt) {
    const test_support::TempDir dir;
    {
        PidFileGuard guard(dir.file("aardvark.pid"), 4242);
        ASSERT_TRUE(guard.write());
        dir.write("aardvark.pid", "4343");
    }
    EXPECT_EQ(dir.read("aardvark.pid"), "4343");
}

TEST(PidFileGuard, ReleasedKeepsTheFile) {
    const test_support::TempDir dir;
    {
        PidFileGuard guard(dir.file("aardvark.pid"), 4242);
        ASSERT_TRUE(guard.write());
        guard.release();
    }
    EXPECT_EQ(dir.read("aardvark.pid"), "4242");
}

TEST(PidFileGuard, TheWinnerOfAStartRaceGetsItsPidBack) {
    const test_support::TempDir dir;
    const pid_t winner = start_sleeper();
    ASSERT_GT(winner, 0);
    ASSERT_TRUE(lifecycle::runs_this_executable(winner));
    dir.write("aardvark.pid", std::to_string(winner));
    {
        PidFileGuard guard(dir.file("aardvark.pid"), 4242);
        ASSERT_TRUE(guard.write());
    }
    EXPECT_EQ(dir.read("aardvark.pid"), std::to_string(winner));
    stop(winner);
}

TEST(PidFileGuard, ADeadOrForeignPreviousPidIsNotRestored) {
    const test_support::TempDir dir;
    const pid_t dead = start_sleeper();
    ASSERT_GT(dead, 0);
    stop(dead);
    EXPECT_FALSE(lifecycle::runs_this_executable(dead));
    dir.write("aardvark.pid", std::to_string(dead));
    {
        PidFileGuard guard(dir.file("aardvark.pid"), 4242);
        ASSERT_TRUE(guard.write());
    }
    EXPECT_FALSE(dir.exists("aardvark.pid"));
}

TEST(PidFileGuard, StdExitWhileArmedRemovesTheFile) {
    const test_support::TempDir dir;
    const std::string path = dir.file("aardvark.pid");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        PidFileGuard guard(path, ::getpid());
        if (!guard.write()) {
            ::_exit(3);
        }
        std::exit(1); // no unwinding: only the exit hook can clean up
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_FALSE(dir.exists("aardvark.pid"));
}

} // namespace
