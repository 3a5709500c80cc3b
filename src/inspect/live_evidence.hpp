// inspect/: the live-system side of `ctrdns check --fix`: ARP/NDP probes from the bridge
// (through probe::Prober) and, optionally, `podman container exists`. Implements
// check::Evidence; must not depend on server/, lifecycle/ or query/.
#pragma once

#include <chrono>
#include <string>

#include "check/default_dir.hpp"
#include "check/evidence.hpp"

namespace inspect {

struct LiveEvidenceOptions {
    /// Whose files these are; podman is asked only when that is this process's own mode.
    check::PodmanMode mode = check::PodmanMode::Unknown;
    /// Wait for one answer, and gap between the probes to one address.
    std::chrono::milliseconds probe_interval{500};
    /// Unanswered probes in a row before an address counts as silent. A live container's kernel
    /// answers ARP/NDP whatever its application does, so a few misses are already decisive.
    unsigned misses_for_silent = 4;
    /// How long `podman container exists` may take (it waits on podman's own locks).
    std::chrono::seconds podman_timeout{30};
};

class LiveEvidence final : public check::Evidence {
public:
    explicit LiveEvidence(LiveEvidenceOptions options);

    std::vector<check::ProbeResult> probe(std::span<const check::ProbeRequest> requests) override;

    check::RuntimeResult runtime_knows(const std::string& container_id) override;

private:
    LiveEvidenceOptions options_;
};

} // namespace inspect
