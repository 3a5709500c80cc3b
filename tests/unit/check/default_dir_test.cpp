#include <gtest/gtest.h>

#include "check/default_dir.hpp"

namespace {

using check::PodmanMode;

TEST(DefaultConfigDir, RootUsesRootfulPodmansRunDirectory) {
    const auto choice = check::default_config_dir(0, "/run/user/0");
    EXPECT_EQ(choice.path, "/run/containers/networks/aardvark-dns");
    EXPECT_EQ(choice.mode, PodmanMode::Rootful);
    EXPECT_EQ(choice.origin, "rootful Podman's default");
}

TEST(DefaultConfigDir, RootlessUsesTheRuntimeDirectory) {
    const auto choice = check::default_config_dir(1000, "/run/user/1000");
    EXPECT_EQ(choice.path, "/run/user/1000/containers/networks/aardvark-dns");
    EXPECT_EQ(choice.mode, PodmanMode::Rootless);
}

TEST(DefaultConfigDir, RootlessWithoutXdgRuntimeDirFallsBackToRunUser) {
    EXPECT_EQ(check::default_config_dir(1000, nullptr).path,
              "/run/user/1000/containers/networks/aardvark-dns");
    EXPECT_EQ(check::default_config_dir(1000, "").path,
              "/run/user/1000/containers/networks/aardvark-dns");
}

TEST(ExplicitConfigDir, ADefaultSpelledOutKeepsItsMode) {
    EXPECT_EQ(check::explicit_config_dir("/run/containers/networks/aardvark-dns/", 0, nullptr).mode,
              PodmanMode::Rootful);
    EXPECT_EQ(
        check::explicit_config_dir("/tmp/x/containers/networks/aardvark-dns", 1000, "/tmp/x").mode,
        PodmanMode::Rootless);
}

TEST(ExplicitConfigDir, AnyOtherDirectoryHasNoKnownPodman) {
    // Rootful files read by a non-root user: podman would answer about another store.
    EXPECT_EQ(
        check::explicit_config_dir("/run/containers/networks/aardvark-dns", 1000, nullptr).mode,
        PodmanMode::Unknown);
    EXPECT_EQ(check::explicit_config_dir("/srv/test/aardvark-dns", 0, nullptr).mode,
              PodmanMode::Unknown);
    EXPECT_EQ(check::explicit_config_dir("/srv/test/aardvark-dns", 0, nullptr).path,
              "/srv/test/aardvark-dns");
}

} // namespace
