// upstream/: one attempt at one upstream server over UDP or TCP (asio). Only moves and checks
// bytes: no failover, no cache, no health memory (forwarder.cpp does those).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include "base/nameserver.hpp"

namespace upstream {

struct ExchangeResult {
    enum class Status {
        Answered, // `response` holds an accepted answer (dns::check_response)
        TimedOut, // nothing usable within the budget
        Failed    // transport error, refused, or an unusable answer; `error` says which
    };

    Status status = Status::Failed;
    std::vector<std::uint8_t> response;
    std::string error;
};

/// The server's endpoint, with its IPv6 zone (link-local upstreams such as fe80::1%eth0).
asio::ip::udp::endpoint udp_endpoint(const base::Nameserver& server);
asio::ip::tcp::endpoint tcp_endpoint(const base::Nameserver& server);

/// UDP re-sends: aardvark's resolver sends again 333 ms and 666 ms after the first send.
inline constexpr std::chrono::milliseconds kUdpResendTimes[] = {std::chrono::milliseconds{333},
                                                                std::chrono::milliseconds{666}};
inline constexpr std::size_t kUdpReceiveSize = 4096;

/// Sends `query` (its ID already the one to match) from a fresh socket bound to the wildcard
/// address of the server's family on an ephemeral port and connected to the server, so an ICMP
/// port-unreachable fails the attempt at once. Re-sends at kUdpResendTimes while `budget`
/// allows. Datagrams with another ID or question are ignored; QR=0 or unparsable ones fail.
asio::awaitable<ExchangeResult> udp_exchange(const base::Nameserver& server,
                                             std::span<const std::uint8_t> query,
                                             std::chrono::milliseconds budget);

/// One new TCP connection per query: connecting may take `budget`, then the answer (2-byte
/// length framing) may take `budget` again (contract §5.3). A refused connection fails at once.
asio::awaitable<ExchangeResult> tcp_exchange(const base::Nameserver& server,
                                             std::span<const std::uint8_t> query,
                                             std::chrono::milliseconds budget);

} // namespace upstream
