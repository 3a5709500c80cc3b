// inspect/: `ctrdns check --wait NAME`: polls the running daemon until it answers NAME. Asks
// each network's gateway addresses (read from the config directory, as netavark tells the
// daemon where to listen) over UDP on the daemon's port. Blocking POSIX sockets and the dns/
// codec; must not depend on server/, lifecycle/ or asio.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/nameserver.hpp"

namespace inspect {

struct WaitOptions {
    std::string config_dir;
    std::string name;
    std::chrono::milliseconds timeout{30'000};
    // netavark passes dns_bind_port, the DNS port unless containers.conf says otherwise
    std::uint16_t port = base::kDnsPort;
};

/// Returns 0 once a gateway answers NAME (A or AAAA) with NOERROR and at least one address,
/// printing who answered and with what; 1 when `timeout` passes first (printing the last
/// thing each gateway said); 2 when NAME is not a valid DNS name.
int wait_for_name(const WaitOptions& options);

/// The addresses in the answer section of `reply` if it is a NOERROR reply to `query` (same ID
/// and question), as text; empty for anything else. `rcode_text` gets the reply's rcode name,
/// or why the reply was unusable. Untrusted bytes: never throws.
std::vector<std::string> answered_addresses(std::span<const std::uint8_t> query,
                                            std::span<const std::uint8_t> reply,
                                            std::string& rcode_text);

} // namespace inspect
