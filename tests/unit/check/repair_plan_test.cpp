// The --fix evidence rules (check::decide_shadowed), one rule per test.
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "check/repair_plan.hpp"

namespace {

using check::ProbeAnswer;
using check::ProbeResult;
using check::RuntimeAnswer;
using check::RuntimeResult;

const std::string kId = "a0348bfea1409c2b7cbd1e3a5b0e8e0b1f7d8f52c0a1e6b3d9e4c8a7f6b5d4c3";

config::ContainerEntry entry(std::vector<std::string> names) {
    config::ContainerEntry e;
    e.id = kId;
    e.ipv4 = {base::IpAddress::parse("10.89.0.2").value()};
    e.ipv6 = {base::IpAddress::parse("fd00::2").value()};
    e.names = std::move(names);
    e.line = 2;
    return e;
}

records::Finding shadowed(std::vector<std::string> names) {
    records::Finding f;
    f.container_id = kId;
    f.status = records::EntryStatus::Shadowed;
    f.shadowed_names = std::move(names);
    f.removable = true;
    return f;
}

struct RuntimeSpy {
    RuntimeResult result{RuntimeAnswer::Unavailable, "no podman"};
    int calls = 0;

    std::function<RuntimeResult()> ask() {
        return [this] {
            ++calls;
            return result;
        };
    }
};

TEST(OwnNames, ShortIdAliasAndShadowedNamesAreNotOwn) {
    const auto names = check::own_names(shadowed({"proj_app_1", "app"}),
                                        entry({"proj_app_1", "app", "a0348bfea140"}));
    EXPECT_TRUE(names.empty());
    EXPECT_EQ(check::own_names(shadowed({"proj_app_1"}), entry({"proj_app_1", "legacy", "legacy"})),
              std::vector<std::string>{"legacy"});
}

TEST(DecideShadowed, EveryAddressSilentRemoves) {
    RuntimeSpy runtime;
    const std::vector<ProbeResult> probes{{ProbeAnswer::Silent, "4 ARP probes unanswered"},
                                          {ProbeAnswer::Silent, "4 NDP probes unanswered"}};
    const auto decision =
        check::decide_shadowed(shadowed({"proj_app_1", "app"}),
                               entry({"proj_app_1", "app", "a0348bfea140"}), probes, runtime.ask());
    EXPECT_TRUE(decision.remove);
    EXPECT_NE(decision.why.find("no ARP/NDP answer from 10.89.0.2, fd00::2"), std::string::npos)
        << decision.why;
    EXPECT_EQ(runtime.calls, 0); // the probes were enough
}

TEST(DecideShadowed, OneAnsweringAddressKeepsEvenIfTheRuntimeForgotIt) {
    RuntimeSpy runtime;
    runtime.result = {RuntimeAnswer::DoesNotKnow, "gone"};
    const std::vector<ProbeResult> probes{{ProbeAnswer::Silent, "silent"},
                                          {ProbeAnswer::Answered, "NDP answer on podman1"}};
    const auto decision = check::decide_shadowed(
        shadowed({"proj_app_1"}), entry({"proj_app_1", "a0348bfea140"}), probes, runtime.ask());
    EXPECT_FALSE(decision.remove);
    EXPECT_NE(decision.why.find("fd00::2 answers on the bridge"), std::string::npos);
    EXPECT_EQ(runtime.calls, 0);
}

TEST(DecideShadowed, NoVerdictAsksTheRuntime) {
    const std::vector<ProbeResult> probes{{ProbeAnswer::Unknown, "needs CAP_NET_RAW"},
                                          {ProbeAnswer::Silent, "silent"}};
    RuntimeSpy gone;
    gone.result = {RuntimeAnswer::DoesNotKnow, "podman has no container a0348bfea140"};
    EXPECT_TRUE(check::decide_shadowed(shadowed({"proj_app_1"}),
                                       entry({"proj_app_1", "a0348bfea140"}), probes, gone.ask())
                    .remove);
    EXPECT_EQ(gone.calls, 1);

    RuntimeSpy known;
    known.result = {RuntimeAnswer::Knows, "podman knows container a0348bfea140"};
    EXPECT_FALSE(check::decide_shadowed(shadowed({"proj_app_1"}),
                                        entry({"proj_app_1", "a0348bfea140"}), probes, known.ask())
                     .remove);
}

TEST(DecideShadowed, NoEvidenceAtAllKeepsAndSaysWhy) {
    RuntimeSpy runtime;
    const std::vector<ProbeResult> probes{{ProbeAnswer::Unknown, "needs CAP_NET_RAW"},
                                          {ProbeAnswer::Unknown, "needs CAP_NET_RAW"}};
    const auto decision = check::decide_shadowed(
        shadowed({"proj_app_1"}), entry({"proj_app_1", "a0348bfea140"}), probes, runtime.ask());
    EXPECT_FALSE(decision.remove);
    EXPECT_NE(decision.why.find("cannot show its container is gone"), std::string::npos);
    EXPECT_NE(decision.why.find("needs CAP_NET_RAW"), std::string::npos);
    EXPECT_NE(decision.why.find("no podman"), std::string::npos);
}

TEST(DecideShadowed, ANameOfItsOwnKeepsWhateverTheEvidence) {
    RuntimeSpy runtime;
    runtime.result = {RuntimeAnswer::DoesNotKnow, "gone"};
    const std::vector<ProbeResult> probes{{ProbeAnswer::Silent, "silent"},
                                          {ProbeAnswer::Silent, "silent"}};
    const auto decision =
        check::decide_shadowed(shadowed({"proj_app_1"}),
                               entry({"proj_app_1", "web", "a0348bfea140"}), probes, runtime.ask());
    EXPECT_FALSE(decision.remove);
    EXPECT_NE(decision.why.find("web"), std::string::npos);
}

} // namespace
