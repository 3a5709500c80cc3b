#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "check/check.hpp"

namespace {

const std::string kOld1(64, 'a');
const std::string kOld2(64, 'b');
const std::string kLive(64, 'c');
const std::string kOther(64, 'd');

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CheckCommand : public testing::Test {
protected:
    void SetUp() override {
        root_ = std::filesystem::temp_directory_path() /
                ("ctrdns-check-" + std::to_string(::getpid()) + "-" +
                 testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(root_);
        dir_ = root_ / "aardvark-dns";
        std::filesystem::create_directories(dir_);
    }

    void TearDown() override { std::filesystem::remove_all(root_); }

    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name, std::ios::binary) << text;
    }

    int run(bool fix, bool json = false) {
        check::Options options;
        options.config_dir = dir_.string();
        options.fix = fix;
        options.json = json;
        testing::internal::CaptureStdout();
        const int status = check::run(options);
        output_ = testing::internal::GetCapturedStdout();
        return status;
    }

    std::filesystem::path root_;
    std::filesystem::path dir_;
    std::string output_;
};

TEST_F(CheckCommand, CleanDirectoryExitsZero) {
    write("net", "10.89.0.1\n" + kLive + " 10.89.0.2  proj_app_1,app\n");
    EXPECT_EQ(run(false), check::kClean);
    EXPECT_NE(output_.find("proj_app_1"), std::string::npos);
    EXPECT_NE(output_.find("10.89.0.2"), std::string::npos);
    EXPECT_NE(output_.find("0 stale"), std::string::npos);
}

TEST_F(CheckCommand, MissingDirectoryIsAnError) {
    std::filesystem::remove_all(dir_);
    EXPECT_EQ(run(false), check::kError);
}

TEST_F(CheckCommand, ComposeRegenerationsAreReportedAndFixed) {
    // Two lost teardowns of proj_app_1, then the live generation; plus an unrelated container.
    const std::string text = "10.89.0.1\n" + kOld1 + " 10.89.0.2  proj_app_1,app,aaaaaaaaaaaa\n" +
                             kOld2 + " 10.89.0.3  proj_app_1,app,bbbbbbbbbbbb\n" + kOther +
                             " 10.89.0.4  proj_db_1,db\n" + kLive +
                             " 10.89.0.5  proj_app_1,app,cccccccccccc\n";
    write("net", text);
    EXPECT_EQ(run(false), check::kStaleFound);
    EXPECT_NE(output_.find("STALE line 2"), std::string::npos) << output_;
    EXPECT_NE(output_.find("STALE line 3"), std::string::npos) << output_;
    EXPECT_EQ(output_.find("STALE line 4"), std::string::npos) << output_;

    EXPECT_EQ(run(false, true), check::kStaleFound);
    EXPECT_NE(output_.find("\"stale_count\": 2"), std::string::npos) << output_;

    // Shadowed entries keep their short-ID alias, so rule 3 leaves them in the file: only
    // entries with no name of their own left may be removed. Here each old line still owns its
    // short ID, so nothing is removable and the file must stay byte-identical.
    EXPECT_EQ(run(true), check::kClean);
    EXPECT_EQ(slurp(dir_ / "net"), text);
}

TEST_F(CheckCommand, FixRemovesReusedIpAndDuplicateIdLines) {
    const std::string text = "10.89.0.1\n" + kOld1 + " 10.89.0.2  proj_app_1,app\n" + kLive +
                             " 10.89.0.3  proj_app_1,app\n" + kLive +
                             " 10.89.0.4  proj_app_1,app\n" + kOther + " 10.89.0.2  web\n";
    write("net", text);
    EXPECT_EQ(run(false), check::kStaleFound);
    EXPECT_EQ(run(true), check::kClean);
    EXPECT_EQ(slurp(dir_ / "net"), "10.89.0.1\n" + kLive + " 10.89.0.4  proj_app_1,app\n" + kOther +
                                       " 10.89.0.2  web\n");
    EXPECT_EQ(run(false), check::kClean) << output_;
}

} // namespace
