#include "inspect/wait_name.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/error.hpp"
#include "base/ip_address.hpp"
#include "base/unique_fd.hpp"
#include "config/config_dir.hpp"
#include "dns/header.hpp"
#include "dns/name.hpp"
#include "dns/response_scan.hpp"
#include "dns/types.hpp"
#include "dns/wire_reader.hpp"
#include "dns/wire_writer.hpp"

namespace inspect {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReplyBufferSize = 4096;
// One round asks every gateway; a daemon that is up answers a local name in microseconds.
constexpr std::chrono::milliseconds kReplyWait{300};
constexpr std::chrono::milliseconds kRoundGap{200};

const char* rcode_name(dns::Rcode rcode) {
    switch (rcode) {
    case dns::Rcode::NoError:
        return "NOERROR";
    case dns::Rcode::FormErr:
        return "FORMERR";
    case dns::Rcode::ServFail:
        return "SERVFAIL";
    case dns::Rcode::NxDomain:
        return "NXDOMAIN";
    case dns::Rcode::NotImp:
        return "NOTIMP";
    case dns::Rcode::Refused:
        return "REFUSED";
    case dns::Rcode::BadVers:
        return "BADVERS";
    }
    return "rcode?";
}

std::vector<std::uint8_t> build_query(const dns::Name& name, dns::RecordType type,
                                      std::uint16_t id) {
    std::vector<std::uint8_t> buffer(dns::kMaxNameWireLength + 16 + 12);
    dns::WireWriter writer(buffer);
    dns::Header header;
    header.id = id;
    header.flags = dns::Header::kRd;
    header.qdcount = 1;
    header.write(writer);
    name.write(writer);
    writer.write_u16(static_cast<std::uint16_t>(type));
    writer.write_u16(1); // IN
    buffer.resize(writer.size());
    return buffer;
}

/// One query to one gateway, answered within kReplyWait or not at all.
std::vector<std::string> ask(const base::IpAddress& gateway, std::uint16_t port,
                             std::span<const std::uint8_t> query, std::string& outcome) {
    const int family = gateway.is_v4() ? AF_INET : AF_INET6;
    base::UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        outcome = fmt::format("socket: {}", base::strerror_text(errno));
        return {};
    }
    sockaddr_storage to{};
    socklen_t to_size = 0;
    if (gateway.is_v4()) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&to);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        std::memcpy(&v4->sin_addr, gateway.bytes().data(), 4);
        to_size = sizeof(sockaddr_in);
    } else {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&to);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        std::memcpy(&v6->sin6_addr, gateway.bytes().data(), 16);
        to_size = sizeof(sockaddr_in6);
    }
    // connect() so that only the gateway's replies are read, and ICMP errors are reported.
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), to_size) != 0 ||
        ::send(fd.get(), query.data(), query.size(), 0) < 0) {
        outcome = fmt::format("{}", base::strerror_text(errno));
        return {};
    }
    const auto deadline = Clock::now() + kReplyWait;
    std::array<std::uint8_t, kReplyBufferSize> reply{};
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            outcome = "no reply";
            return {};
        }
        pollfd ready{fd.get(), POLLIN, 0};
        if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        const ssize_t got = ::recv(fd.get(), reply.data(), reply.size(), 0);
        if (got < 0) {
            outcome = errno == ECONNREFUSED ? "nothing listens" : base::strerror_text(errno);
            return {};
        }
        auto addresses = answered_addresses(
            query, std::span<const std::uint8_t>(reply.data(), static_cast<std::size_t>(got)),
            outcome);
        if (!addresses.empty() || outcome != "not ours") {
            return addresses;
        }
    }
}

} // namespace

std::vector<std::string> answered_addresses(std::span<const std::uint8_t> query,
                                            std::span<const std::uint8_t> reply,
                                            std::string& rcode_text) {
    switch (dns::check_response(query, reply)) {
    case dns::ResponseCheck::Accept:
        break;
    case dns::ResponseCheck::Ignore:
        rcode_text = "not ours";
        return {};
    case dns::ResponseCheck::Reject:
        rcode_text = "malformed reply";
        return {};
    }
    dns::MessageScan scan;
    if (!dns::scan_message(reply, scan) || !scan.complete) {
        rcode_text = "malformed reply";
        return {};
    }
    rcode_text = rcode_name(scan.header.rcode());
    std::vector<std::string> addresses;
    if (scan.header.rcode() != dns::Rcode::NoError) {
        return addresses;
    }
    dns::WireReader reader(reply, scan.question_end);
    for (std::uint16_t i = 0; i < scan.header.ancount && reader.ok(); ++i) {
        dns::Name owner;
        if (!owner.read(reader)) {
            break;
        }
        const std::uint16_t type = reader.read_u16();
        reader.skip(2 + 4); // class, TTL
        const std::uint16_t length = reader.read_u16();
        const auto data = reader.read_bytes(length);
        if (!reader.ok()) {
            break;
        }
        const bool address_record =
            (type == static_cast<std::uint16_t>(dns::RecordType::A) && length == 4) ||
            (type == static_cast<std::uint16_t>(dns::RecordType::Aaaa) && length == 16);
        if (address_record) {
            if (const auto address = base::IpAddress::from_bytes(data)) {
                addresses.push_back(address->to_string());
            }
        }
    }
    return addresses;
}

int wait_for_name(const WaitOptions& options) {
    dns::Name name;
    if (!name.assign_text(options.name)) {
        std::fprintf(stderr, "ctrdns check: --wait %s: not a DNS name\n", options.name.c_str());
        return 2;
    }
    std::mt19937 random(std::random_device{}());
    const auto start = Clock::now();
    const auto deadline = start + options.timeout;
    std::map<std::string, std::string> last_outcome; // "gateway type" -> what happened
    while (true) {
        // Re-read every round: the container's network (and so its file) may not exist yet.
        const auto load = config::load_directory(options.config_dir);
        if (!load.directory_ok) {
            last_outcome["directory"] = load.directory_error;
        } else {
            last_outcome.erase("directory");
        }
        std::vector<base::IpAddress> gateways;
        for (const auto& network : load.networks) {
            for (const auto& address : network.bind_ips) {
                if (std::find(gateways.begin(), gateways.end(), address) == gateways.end()) {
                    gateways.push_back(address);
                }
            }
        }
        if (load.directory_ok && gateways.empty()) {
            last_outcome["networks"] = "no network with a gateway address in the directory";
        } else {
            last_outcome.erase("networks");
        }
        for (const auto& gateway : gateways) {
            for (const auto type : {dns::RecordType::A, dns::RecordType::Aaaa}) {
                const auto query =
                    build_query(name, type, static_cast<std::uint16_t>(random() & 0xffff));
                std::string outcome;
                const auto addresses = ask(gateway, options.port, query, outcome);
                const char* type_name = type == dns::RecordType::A ? "A" : "AAAA";
                if (!addresses.empty()) {
                    const auto waited =
                        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
                    std::printf("%s %s answered by %s port %u after %.1f s: %s\n",
                                options.name.c_str(), type_name, gateway.to_string().c_str(),
                                static_cast<unsigned>(options.port),
                                static_cast<double>(waited.count()) / 1000.0,
                                fmt::format("{}", fmt::join(addresses, ", ")).c_str());
                    return 0;
                }
                last_outcome[fmt::format("{} {}", gateway.to_string(), type_name)] = outcome;
            }
        }
        if (Clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(kRoundGap);
    }
    std::printf("timed out after %.1f s: %s not answered\n",
                static_cast<double>(options.timeout.count()) / 1000.0, options.name.c_str());
    for (const auto& [what, outcome] : last_outcome) {
        std::printf("  %s: %s\n", what.c_str(), outcome.c_str());
    }
    return 1;
}

} // namespace inspect
