#include "check/default_dir.hpp"

#include <filesystem>

namespace check {
namespace {

constexpr const char* kRootfulDir = "/run/containers/networks/aardvark-dns";

std::string rootless_dir(uid_t euid, const char* xdg_runtime_dir) {
    const std::string runtime_dir = xdg_runtime_dir != nullptr && *xdg_runtime_dir != '\0'
                                        ? std::string(xdg_runtime_dir)
                                        : "/run/user/" + std::to_string(euid);
    return (std::filesystem::path(runtime_dir) / "containers/networks/aardvark-dns").string();
}

std::string normalized(const std::string& path) {
    std::string text = std::filesystem::path(path).lexically_normal().string();
    while (text.size() > 1 && text.ends_with('/')) {
        text.pop_back();
    }
    return text;
}

} // namespace

ConfigDirChoice default_config_dir(uid_t euid, const char* xdg_runtime_dir) {
    if (euid == 0) {
        return {kRootfulDir, PodmanMode::Rootful, "rootful Podman's default"};
    }
    const bool from_env = xdg_runtime_dir != nullptr && *xdg_runtime_dir != '\0';
    return {rootless_dir(euid, xdg_runtime_dir), PodmanMode::Rootless,
            from_env ? "rootless Podman's default, from $XDG_RUNTIME_DIR"
                     : "rootless Podman's default; $XDG_RUNTIME_DIR is not set"};
}

ConfigDirChoice explicit_config_dir(const std::string& path, uid_t euid,
                                    const char* xdg_runtime_dir) {
    const std::string wanted = normalized(path);
    if (euid == 0 && wanted == normalized(kRootfulDir)) {
        return {path, PodmanMode::Rootful, "--config"};
    }
    if (euid != 0 && wanted == normalized(rootless_dir(euid, xdg_runtime_dir))) {
        return {path, PodmanMode::Rootless, "--config"};
    }
    return {path, PodmanMode::Unknown, "--config"};
}

} // namespace check
