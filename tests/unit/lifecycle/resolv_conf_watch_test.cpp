// The inotify watch on resolv.conf (contract §5.4): in-place rewrites are seen, and (ctrdns) a
// rename-replace re-arms the watch so later rewrites are seen too.
#include <chrono>
#include <cstdio>
#include <string>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "lifecycle/resolv_conf_watch.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;

class ResolvConfWatchTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir.write("resolv.conf", "nameserver 127.0.0.9\n");
        watch = lifecycle::ResolvConfWatch::create(io.get_executor(), dir.file("resolv.conf"),
                                                   [this] { ++changes; });
    }

    void TearDown() override { watch->stop(); }

    /// Runs the loop until `changes` reaches `wanted` or 2 s pass.
    void run_until(int wanted) {
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        while (changes < wanted && std::chrono::steady_clock::now() < deadline) {
            io.run_for(20ms);
        }
    }

    test_support::TempDir dir;
    asio::io_context io{1};
    std::shared_ptr<lifecycle::ResolvConfWatch> watch;
    int changes = 0;
};

TEST_F(ResolvConfWatchTest, InPlaceRewriteIsReported) {
    ASSERT_TRUE(watch->start());
    EXPECT_TRUE(watch->is_watching());
    io.run_for(50ms);
    EXPECT_EQ(changes, 0);
    dir.write("resolv.conf", "nameserver 127.0.0.10\n");
    run_until(1);
    EXPECT_GE(changes, 1);
}

TEST_F(ResolvConfWatchTest, RenameReplaceIsSeenAndWatchedAgain) {
    ASSERT_TRUE(watch->start());
    dir.write("resolv.conf.new", "nameserver 127.0.0.11\n");
    ASSERT_EQ(std::rename(dir.file("resolv.conf.new").c_str(), dir.file("resolv.conf").c_str()), 0);
    run_until(1);
    ASSERT_GE(changes, 1) << "the old inode going away must trigger a re-read";
    io.run_for(50ms);
    EXPECT_TRUE(watch->is_watching());

    const int before = changes;
    dir.write("resolv.conf", "nameserver 127.0.0.12\n");
    run_until(before + 1);
    EXPECT_GT(changes, before) << "edits of the new file must still be seen";
}

TEST_F(ResolvConfWatchTest, MissingFileIsWatchedOnceItExists) {
    ASSERT_EQ(std::remove(dir.file("resolv.conf").c_str()), 0);
    ASSERT_TRUE(watch->start());
    EXPECT_FALSE(watch->is_watching());
    dir.write("resolv.conf", "nameserver 127.0.0.13\n");
    watch->ensure_watch(); // what a SIGHUP does
    EXPECT_TRUE(watch->is_watching());
    dir.write("resolv.conf", "nameserver 127.0.0.14\n");
    run_until(1);
    EXPECT_GE(changes, 1);
}

} // namespace
