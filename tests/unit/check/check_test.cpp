#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <span>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "check/check.hpp"
#include "check/evidence.hpp"
#include "support/temp_dir.hpp"

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
        root_ = scratch_.path();
        dir_ = root_ / "aardvark-dns";
        std::filesystem::create_directories(dir_);
    }

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

    test_support::TempDir scratch_;
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

    // Each old line has only its own short-ID alias left, which is not a name of its own; but
    // without evidence that its container is gone --fix keeps it, says why, and exits 1.
    EXPECT_EQ(run(true), check::kStaleFound);
    EXPECT_EQ(slurp(dir_ / "net"), text);
    EXPECT_NE(output_.find("kept"), std::string::npos) << output_;
    EXPECT_NE(output_.find("cannot show its container is gone"), std::string::npos) << output_;
}

/// Scripted evidence: addresses listed in `answering` answer, `unknown` get no verdict, every
/// other address is silent; `gone_ids` are unknown to the runtime, others known unless
/// `runtime_available` is false.
class FakeEvidence final : public check::Evidence {
public:
    std::vector<std::string> answering;
    std::vector<std::string> unknown;
    std::vector<std::string> gone_ids;
    bool runtime_available = false;
    int probe_rounds = 0;
    std::vector<std::string> runtime_asked;

    std::vector<check::ProbeResult> probe(std::span<const check::ProbeRequest> requests) override {
        ++probe_rounds;
        std::vector<check::ProbeResult> results;
        for (const auto& request : requests) {
            const auto text = request.address.to_string();
            if (std::find(answering.begin(), answering.end(), text) != answering.end()) {
                results.push_back({check::ProbeAnswer::Answered, "fake answer"});
            } else if (std::find(unknown.begin(), unknown.end(), text) != unknown.end()) {
                results.push_back({check::ProbeAnswer::Unknown, "fake: no CAP_NET_RAW"});
            } else {
                results.push_back({check::ProbeAnswer::Silent, "fake silence"});
            }
        }
        return results;
    }

    check::RuntimeResult runtime_knows(const std::string& id) override {
        runtime_asked.push_back(id);
        if (!runtime_available) {
            return {check::RuntimeAnswer::Unavailable, "fake: no podman"};
        }
        if (std::find(gone_ids.begin(), gone_ids.end(), id) != gone_ids.end()) {
            return {check::RuntimeAnswer::DoesNotKnow, "fake: no such container"};
        }
        return {check::RuntimeAnswer::Knows, "fake: known"};
    }
};

class CheckFixWithEvidence : public CheckCommand {
protected:
    int fix(FakeEvidence& evidence, bool dry_run = false) {
        check::Options options;
        options.config_dir = dir_.string();
        options.fix = !dry_run;
        options.dry_run = dry_run;
        testing::internal::CaptureStdout();
        const int status = check::run(options, evidence);
        output_ = testing::internal::GetCapturedStdout();
        return status;
    }

    // Two lost generations of proj_app_1 (.2, .3), an unrelated container (.4), the live
    // generation (.5); every line carries Podman's short-ID alias, as real files do.
    const std::string header_ = "10.89.0.1\n";
    const std::string old1_ = kOld1 + " 10.89.0.2  proj_app_1,app,aaaaaaaaaaaa\n";
    const std::string old2_ = kOld2 + " 10.89.0.3  proj_app_1,app,bbbbbbbbbbbb\n";
    const std::string other_ = kOther + " 10.89.0.4  proj_db_1,db,dddddddddddd\n";
    const std::string live_ = kLive + " 10.89.0.5  proj_app_1,app,cccccccccccc\n";
    const std::string text_ = header_ + old1_ + old2_ + other_ + live_;
};

TEST_F(CheckFixWithEvidence, SilentAddressesProveTheContainerGone) {
    write("net", text_);
    FakeEvidence evidence;
    EXPECT_EQ(fix(evidence), check::kClean) << output_;
    EXPECT_EQ(slurp(dir_ / "net"), header_ + other_ + live_);
    EXPECT_EQ(evidence.probe_rounds, 1); // all lines in one round
    EXPECT_TRUE(evidence.runtime_asked.empty());
    EXPECT_NE(output_.find("line 2: container aaaaaaaaaaaa shadowed: name proj_app_1 taken over "
                           "by cccccccccccc (line 5); container gone: no ARP/NDP answer from "
                           "10.89.0.2"),
              std::string::npos)
        << output_;
    EXPECT_NE(output_.find("removed 2 stale lines\n"), std::string::npos) << output_;
    EXPECT_EQ(run(false), check::kClean) << output_;
}

TEST_F(CheckFixWithEvidence, ARenamedLiveContainerThatAnswersIsKept) {
    write("net", text_);
    FakeEvidence evidence;
    evidence.answering = {"10.89.0.3"};
    EXPECT_EQ(fix(evidence), check::kStaleFound) << output_;
    EXPECT_EQ(slurp(dir_ / "net"), header_ + old2_ + other_ + live_);
    EXPECT_NE(output_.find("kept "), std::string::npos) << output_;
    EXPECT_NE(output_.find("10.89.0.3 answers on the bridge"), std::string::npos) << output_;
    EXPECT_NE(output_.find("removed 1 stale line; kept 1 stale line"), std::string::npos)
        << output_;
}

TEST_F(CheckFixWithEvidence, WithoutAProbeVerdictTheRuntimeDecides) {
    write("net", text_);
    FakeEvidence evidence;
    evidence.unknown = {"10.89.0.2", "10.89.0.3"};
    evidence.runtime_available = true;
    evidence.gone_ids = {kOld1};
    EXPECT_EQ(fix(evidence), check::kStaleFound) << output_;
    EXPECT_EQ(slurp(dir_ / "net"), header_ + old2_ + other_ + live_);
    EXPECT_NE(output_.find("container gone: fake: no such container"), std::string::npos)
        << output_;
    EXPECT_NE(output_.find("container still exists: fake: known"), std::string::npos) << output_;
}

TEST_F(CheckFixWithEvidence, DryRunChangesNothingAndTellsWhatFixWouldDo) {
    write("net", text_);
    FakeEvidence evidence;
    evidence.answering = {"10.89.0.3"};
    EXPECT_EQ(fix(evidence, true), check::kStaleFound) << output_;
    EXPECT_EQ(slurp(dir_ / "net"), text_);
    EXPECT_NE(output_.find("would remove " + (dir_ / "net").string() + " line 2"),
              std::string::npos)
        << output_;
    EXPECT_NE(output_.find("would keep " + (dir_ / "net").string() + " line 3"), std::string::npos)
        << output_;
    EXPECT_NE(output_.find("would remove 1 stale line, keep 1"), std::string::npos) << output_;
}

TEST_F(CheckFixWithEvidence, ANameOfItsOwnKeepsALineWithoutProbing) {
    const std::string own = kOld1 + " 10.89.0.2  proj_app_1,app,legacy,aaaaaaaaaaaa\n";
    write("net", header_ + own + live_);
    FakeEvidence evidence;
    EXPECT_EQ(fix(evidence), check::kStaleFound) << output_;
    EXPECT_EQ(slurp(dir_ / "net"), header_ + own + live_);
    EXPECT_EQ(evidence.probe_rounds, 0);
    EXPECT_NE(output_.find("still the only line for legacy"), std::string::npos) << output_;
}

TEST_F(CheckFixWithEvidence, ALineChangedAfterTheProbesIsNotRemovedOnTheirWord) {
    // The plan is made before the lock; a line whose addresses differ under the lock is kept.
    write("net", text_);

    class Rewriting final : public check::Evidence {
    public:
        std::function<void()> on_probe;

        std::vector<check::ProbeResult>
        probe(std::span<const check::ProbeRequest> requests) override {
            on_probe();
            return std::vector<check::ProbeResult>(requests.size(),
                                                   {check::ProbeAnswer::Silent, "fake"});
        }

        check::RuntimeResult runtime_knows(const std::string&) override {
            return {check::RuntimeAnswer::Unavailable, "fake"};
        }
    } evidence;

    const std::string moved = kOld1 + " 10.89.0.9  proj_app_1,app,aaaaaaaaaaaa\n";
    evidence.on_probe = [&] {
        write("net", header_ + moved + old2_ + other_ + live_);
    };
    check::Options options;
    options.config_dir = dir_.string();
    options.fix = true;
    testing::internal::CaptureStdout();
    EXPECT_EQ(check::run(options, evidence), check::kStaleFound);
    output_ = testing::internal::GetCapturedStdout();
    EXPECT_EQ(slurp(dir_ / "net"), header_ + moved + other_ + live_) << output_;
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
