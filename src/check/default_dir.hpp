// check/: where netavark keeps the DNS files when `check` is given no --config, found as Podman
// finds it. Pure: the user ID and environment are passed in; no I/O, no sockets.
#pragma once

#include <string>

#include <sys/types.h>

namespace check {

/// Which Podman the directory belongs to. The runtime (podman) is only consulted when the
/// directory is the default of the mode check itself runs in, so `podman` answers about the
/// same store that wrote the files.
enum class PodmanMode {
    Rootful,
    Rootless,
    Unknown
};

struct ConfigDirChoice {
    std::string path;
    PodmanMode mode = PodmanMode::Unknown;
    std::string origin; // how it was chosen, for the "using ..." line
};

/// Podman runs netavark with `--config <run dir>` and netavark keeps the DNS files in
/// `<run dir>/aardvark-dns`. The run dir is /run/containers/networks for root (shared by every
/// libpod instance, since they share one network namespace) and `<runroot>/networks` for a
/// rootless user, whose default runroot is $XDG_RUNTIME_DIR/containers (falling back to
/// /run/user/UID when the variable is unset or empty).
ConfigDirChoice default_config_dir(uid_t euid, const char* xdg_runtime_dir);

/// For a directory given with --config: Rootful or Rootless when it is that mode's default for
/// this user (so podman may be asked), Unknown otherwise.
ConfigDirChoice explicit_config_dir(const std::string& path, uid_t euid,
                                    const char* xdg_runtime_dir);

} // namespace check
