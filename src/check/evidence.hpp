// check/: what `check --fix` may ask about the live system before it removes a shadowed line,
// as an interface, so the rules (repair_plan.hpp) stay pure and unit-testable. The real
// implementation (ARP/NDP probes, podman) lives in inspect/; check/ must not depend on it, on
// asio or on sockets.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "base/ip_address.hpp"

namespace check {

/// A container address to probe, and the host's address in its subnet (the network's gateway
/// on the bridge) that the probe leaves from.
struct ProbeRequest {
    base::IpAddress address;
    base::IpAddress gateway;
};

enum class ProbeAnswer {
    Answered, // something on the bridge owns the address: a live container
    Silent,   // every probe went out and none was answered: nobody owns it
    Unknown   // no verdict (no CAP_NET_RAW, bridge not found, send failed): proves nothing
};

struct ProbeResult {
    ProbeAnswer answer = ProbeAnswer::Unknown;
    std::string detail; // e.g. "3 ARP probes on podman1", or why there is no verdict
};

enum class RuntimeAnswer {
    Knows,       // the container runtime still has a container with this ID
    DoesNotKnow, // it answered, and has no such container
    Unavailable  // not asked or could not answer (no podman, other mode, error)
};

struct RuntimeResult {
    RuntimeAnswer answer = RuntimeAnswer::Unavailable;
    std::string detail;
};

class Evidence {
public:
    virtual ~Evidence() = default;

    /// Probes all requests together (one result per request, same order), so N lines cost one
    /// probe round, not N.
    virtual std::vector<ProbeResult> probe(std::span<const ProbeRequest> requests) = 0;

    /// Asks the container runtime whether it knows the full container ID.
    virtual RuntimeResult runtime_knows(const std::string& container_id) = 0;
};

/// Evidence that proves nothing: every probe Unknown, the runtime Unavailable. What `check`
/// uses when no live evidence was wired in (unit tests of the report, fuzzing builds).
class NoEvidence final : public Evidence {
public:
    std::vector<ProbeResult> probe(std::span<const ProbeRequest> requests) override {
        return std::vector<ProbeResult>(requests.size(),
                                        ProbeResult{ProbeAnswer::Unknown, "not probed"});
    }

    RuntimeResult runtime_knows(const std::string&) override {
        return {RuntimeAnswer::Unavailable, "not asked"};
    }
};

} // namespace check
