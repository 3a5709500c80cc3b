#include "liveness/prober.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "liveness/neighbor_packets.hpp"

#include <net/ethernet.h>
#include <net/if.h>

namespace liveness {
namespace {

using Clock = ProbeTable::Clock;
using TimePoint = ProbeTable::TimePoint;
using AddressMap = std::unordered_map<base::IpAddress, base::IpAddress, base::IpAddressHash>;

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

/// Datagrams read per wake-up before yielding, so a flood on the bridge cannot starve the loop.
constexpr int kMaxReadsPerWake = 64;

/// RFC 4861 §7.1.2: only an on-link sender can produce hop limit 255.
constexpr int kNeighborDiscoveryHopLimit = 255;

std::string errno_text(int error) {
    return std::generic_category().message(error);
}

/// Worth another try soon; anything else means the socket or its interface is unusable. (On
/// Linux EWOULDBLOCK is EAGAIN.)
bool is_transient(int error) {
    return error == EAGAIN || error == EINTR || error == ENOBUFS;
}

bool is_permission_error(int error) {
    return error == EPERM || error == EACCES;
}

/// Where the probes for one gateway leave from.
struct Interface {
    std::string name;
    int index = 0;
    MacAddress mac{};
};

/// The interface that holds `gateway`, with its index and Ethernet address; nullopt (with the
/// reason in `why`) when no interface has it or it has no 6-byte hardware address.
std::optional<Interface> find_interface(const base::IpAddress& gateway, std::string& why) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        why = fmt::format("getifaddrs: {}", errno_text(errno));
        return std::nullopt;
    }
    std::optional<Interface> found;
    for (const ifaddrs* item = list; item != nullptr; item = item->ifa_next) {
        if (sockaddr_holds(item->ifa_addr, gateway)) {
            found = Interface{.name = item->ifa_name};
            break;
        }
    }
    bool has_mac = false;
    if (found) {
        for (const ifaddrs* item = list; item != nullptr; item = item->ifa_next) {
            if (item->ifa_addr == nullptr || item->ifa_addr->sa_family != AF_PACKET ||
                found->name != item->ifa_name) {
                continue;
            }
            sockaddr_ll link{};
            std::memcpy(&link, item->ifa_addr, sizeof(link));
            if (link.sll_halen == found->mac.size()) {
                std::copy_n(link.sll_addr, found->mac.size(), found->mac.begin());
                found->index = link.sll_ifindex;
                has_mac = true;
            }
            break;
        }
    }
    ::freeifaddrs(list);
    if (!found) {
        why = "no interface has this address";
        return std::nullopt;
    }
    if (!has_mac || found->index <= 0) {
        why = fmt::format("interface {} has no Ethernet address", found->name);
        return std::nullopt;
    }
    return found;
}

void set_int_option(int fd, int level, int name, int value) {
    if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
        throw std::system_error(errno, std::generic_category(), "setsockopt");
    }
}

/// An AF_PACKET socket for ARP, bound to the interface.
base::UniqueFd open_arp_socket(const Interface& interface) {
    base::UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                               static_cast<int>(htons(ETH_P_ARP))));
    if (!fd.valid()) {
        throw std::system_error(errno, std::generic_category(), "socket(AF_PACKET)");
    }
    sockaddr_ll bound{};
    bound.sll_family = AF_PACKET;
    bound.sll_protocol = htons(ETH_P_ARP);
    bound.sll_ifindex = interface.index;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&bound), sizeof(bound)) != 0) {
        throw std::system_error(errno, std::generic_category(), "bind(AF_PACKET)");
    }
    return fd;
}

/// A raw ICMPv6 socket that sees only Neighbor Advertisements, sends from `gateway` with hop
/// limit 255 out of the interface, and reports the arrival interface and hop limit.
base::UniqueFd open_icmpv6_socket(const Interface& interface, const base::IpAddress& gateway) {
    base::UniqueFd fd(::socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6));
    if (!fd.valid()) {
        throw std::system_error(errno, std::generic_category(), "socket(ICMPv6)");
    }
    icmp6_filter filter{};
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &filter);
    if (::setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) != 0) {
        throw std::system_error(errno, std::generic_category(), "setsockopt(ICMP6_FILTER)");
    }
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, kNeighborDiscoveryHopLimit);
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, kNeighborDiscoveryHopLimit);
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, interface.index);
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    sockaddr_in6 bound{};
    bound.sin6_family = AF_INET6;
    std::memcpy(&bound.sin6_addr, gateway.bytes().data(), 16);
    if (IN6_IS_ADDR_LINKLOCAL(&bound.sin6_addr)) {
        bound.sin6_scope_id = static_cast<std::uint32_t>(interface.index);
    }
    // Binding sets the NS source address (and so where solicited advertisements come back).
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&bound), sizeof(bound)) != 0) {
        throw std::system_error(errno, std::generic_category(), "bind(ICMPv6)");
    }
    return fd;
}

} // namespace

bool sockaddr_holds(const sockaddr* address, const base::IpAddress& wanted) {
    if (address == nullptr) {
        return false;
    }
    if (address->sa_family == AF_INET && wanted.is_v4()) {
        sockaddr_in v4{};
        std::memcpy(&v4, address, sizeof(v4));
        return std::memcmp(&v4.sin_addr, wanted.bytes().data(), 4) == 0;
    }
    if (address->sa_family == AF_INET6 && wanted.is_v6()) {
        sockaddr_in6 v6{};
        std::memcpy(&v6, address, sizeof(v6));
        return std::memcmp(&v6.sin6_addr, wanted.bytes().data(), 16) == 0;
    }
    return false;
}

/// Probing state shared with the coroutines, which each hold a shared_ptr to it, so the Prober
/// can be destroyed while they are still queued on the executor.
class Prober::Engine : public std::enable_shared_from_this<Engine> {
public:
    Engine(asio::any_io_executor executor, Options options)
        : executor_(std::move(executor))
        , options_(options)
        , table_(ProbeTiming{.probe_interval = options.probe_interval,
                             .misses_for_dead = options.misses_for_dead,
                             .recheck_after = options.recheck_after})
        , bucket_(options.max_probes_per_second)
        , wake_(executor_)
        , dead_(std::make_shared<const DeadSet>()) {}

    void set_targets(std::vector<Target> targets);

    void stop() noexcept;

    std::shared_ptr<const DeadSet> dead() const noexcept { return dead_; }

    void on_change(ChangeCallback callback) { on_change_ = std::move(callback); }

    ProbeState state(const base::IpAddress& address) const { return table_.state(address); }

    ProberStats stats() const {
        ProberStats stats = stats_;
        stats.targets = table_.size();
        stats.dead = dead_->size();
        return stats;
    }

private:
    /// One gateway: its interface and the socket its probes leave from and answers arrive on.
    struct Path {
        explicit Path(const asio::any_io_executor& executor, base::IpAddress address)
            : gateway(address)
            , socket(executor) {}

        base::IpAddress gateway;
        Interface interface;
        asio::posix::stream_descriptor socket;
        TimePoint retry_at{}; ///< after a failure to open, when to try again
        /// Counts openings, so a receive loop of an earlier socket of this path ends.
        std::uint64_t generation = 0;
        bool warned = false; ///< a failure to open was logged at warn already
    };

    asio::awaitable<void> schedule_loop(std::shared_ptr<Engine> self);
    asio::awaitable<void> receive_loop(std::shared_ptr<Engine> self, std::shared_ptr<Path> path,
                                       std::uint64_t generation);

    /// Sends the probe for `address`; returns true when the dead set changed (fail open).
    bool send_probe(const base::IpAddress& address, TimePoint now);
    Path* open_path(const base::IpAddress& gateway, TimePoint now);
    bool send_on(Path& path, const base::IpAddress& address);
    void read_answers(Path& path, TimePoint now, bool& changed);
    void receive_arp(Path& path, TimePoint now, bool& changed);
    void receive_icmpv6(Path& path, TimePoint now, bool& changed);
    void accept_answer(const Path& path, const base::IpAddress& from, TimePoint now, bool& changed);
    /// Closes the path's socket and returns its addresses to Unknown.
    bool fail_path(Path& path, TimePoint now);
    void publish();

    asio::any_io_executor executor_;
    Options options_;
    ProbeTable table_;
    TokenBucket bucket_;
    asio::steady_timer wake_;
    AddressMap gateway_of_; ///< target address -> gateway
    std::unordered_map<base::IpAddress, std::shared_ptr<Path>, base::IpAddressHash> paths_;
    std::shared_ptr<const DeadSet> dead_;
    ChangeCallback on_change_;
    ProberStats stats_;
    bool running_ = false;
    bool stopped_ = false;
};

void Prober::Engine::set_targets(std::vector<Target> targets) {
    if (stopped_) {
        return;
    }
    AddressMap gateway_of;
    std::vector<base::IpAddress> addresses;
    addresses.reserve(targets.size());
    for (const auto& target : targets) {
        if (target.address == target.gateway ||
            target.address.family() != target.gateway.family()) {
            continue;
        }
        if (gateway_of.emplace(target.address, target.gateway).second) {
            addresses.push_back(target.address);
        }
    }
    const TimePoint now = Clock::now();
    // An address whose gateway changed must not keep an answer owed to the old path.
    for (const auto& [address, gateway] : gateway_of) {
        auto old = gateway_of_.find(address);
        if (old != gateway_of_.end() && old->second != gateway) {
            table_.probe_failed(address, now);
        }
    }
    table_.set_targets(addresses, now);
    gateway_of_ = std::move(gateway_of);

    std::unordered_set<base::IpAddress, base::IpAddressHash> gateways;
    for (const auto& item : gateway_of_) {
        gateways.insert(item.second);
    }
    for (auto it = paths_.begin(); it != paths_.end();) {
        if (!gateways.contains(it->first)) {
            std::error_code ignored;
            it->second->socket.close(ignored);
            it = paths_.erase(it);
        } else {
            ++it;
        }
    }
    publish();
    if (!running_) {
        running_ = true;
        asio::co_spawn(executor_, schedule_loop(shared_from_this()), asio::detached);
    } else {
        wake_.cancel();
    }
}

void Prober::Engine::stop() noexcept {
    stopped_ = true;
    wake_.cancel();
    for (auto& item : paths_) {
        std::error_code ignored;
        item.second->socket.close(ignored);
    }
    paths_.clear();
    try {
        table_.set_targets({}, Clock::now());
        gateway_of_.clear();
        dead_ = std::make_shared<const DeadSet>();
    } catch (...) {
        // Only allocation can fail here; the loops end on stopped_ regardless.
    }
}

asio::awaitable<void> Prober::Engine::schedule_loop([[maybe_unused]] std::shared_ptr<Engine> self) {
    while (!stopped_) {
        try {
            TimePoint now = Clock::now();
            bool changed = table_.expire(now);
            for (const auto& address : table_.due(now)) {
                if (!bucket_.try_take(now)) {
                    break;
                }
                changed = send_probe(address, now) || changed;
            }
            if (changed) {
                publish();
            }
            now = Clock::now();
            TimePoint wake_at = table_.next_event().value_or(TimePoint::max());
            if (wake_at <= now) {
                // Something is due but the probe budget is spent.
                wake_at = bucket_.next_available(now);
            }
            wake_at = std::max(wake_at, now + std::chrono::milliseconds{1});
            wake_.expires_at(wake_at);
        } catch (const std::exception& e) {
            logging::error("liveness: probe scheduling failed: {}", e.what());
            wake_.expires_after(options_.recheck_after);
        }
        co_await wake_.async_wait(kUseTuple);
    }
}

bool Prober::Engine::send_probe(const base::IpAddress& address, TimePoint now) {
    auto gateway = gateway_of_.find(address);
    Path* path = gateway == gateway_of_.end() ? nullptr : open_path(gateway->second, now);
    if (path == nullptr || !send_on(*path, address)) {
        ++stats_.probes_failed;
        return table_.probe_failed(address, now);
    }
    ++stats_.probes_sent;
    table_.probe_sent(address, now);
    return false;
}

Prober::Engine::Path* Prober::Engine::open_path(const base::IpAddress& gateway, TimePoint now) {
    auto& slot = paths_[gateway];
    if (!slot) {
        slot = std::make_shared<Path>(executor_, gateway);
    }
    Path& path = *slot;
    if (path.socket.is_open()) {
        return &path;
    }
    if (now < path.retry_at) {
        return nullptr;
    }
    path.retry_at = now + options_.recheck_after;
    std::string why;
    auto interface = find_interface(gateway, why);
    if (!interface) {
        logging::debug("liveness: not probing via {}: {}", gateway.to_string(), why);
        return nullptr;
    }
    try {
        base::UniqueFd fd =
            gateway.is_v4() ? open_arp_socket(*interface) : open_icmpv6_socket(*interface, gateway);
        path.socket.assign(fd.get());
        fd.release();
    } catch (const std::system_error& e) {
        if (is_permission_error(e.code().value())) {
            if (!stats_.permission_denied) {
                logging::warn("liveness: probing disabled, {} (--probe-liveness needs "
                              "CAP_NET_RAW); no address will be left out of answers",
                              e.what());
            }
            stats_.permission_denied = true;
        } else {
            // Retried every recheck_after (e.g. an IPv6 gateway still tentative): warn once.
            logging::log(path.warned ? logging::Level::Debug : logging::Level::Warn,
                         "liveness: not probing on {} via {}: {}", interface->name,
                         gateway.to_string(), e.what());
            path.warned = true;
        }
        return nullptr;
    }
    path.interface = *interface;
    ++path.generation;
    logging::debug("liveness: probing on {} from {}", interface->name, gateway.to_string());
    asio::co_spawn(executor_, receive_loop(shared_from_this(), slot, path.generation),
                   asio::detached);
    return &path;
}

bool Prober::Engine::send_on(Path& path, const base::IpAddress& address) {
    ssize_t sent = -1;
    std::size_t expected = 0;
    if (address.is_v4()) {
        const auto packet = build_arp_request(path.interface.mac, path.gateway, address);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_protocol = htons(ETH_P_ARP);
        to.sll_ifindex = path.interface.index;
        to.sll_halen = 6;
        std::fill_n(to.sll_addr, 6, std::uint8_t{0xff});
        expected = packet.size();
        sent = ::sendto(path.socket.native_handle(), packet.data(), packet.size(), 0,
                        reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    } else {
        const auto packet = build_neighbor_solicitation(address, path.interface.mac);
        sockaddr_in6 to{};
        to.sin6_family = AF_INET6;
        std::memcpy(&to.sin6_addr, solicited_node_address(address).bytes().data(), 16);
        to.sin6_scope_id = static_cast<std::uint32_t>(path.interface.index);
        expected = packet.size();
        sent = ::sendto(path.socket.native_handle(), packet.data(), packet.size(), 0,
                        reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    }
    if (sent == static_cast<ssize_t>(expected)) {
        return true;
    }
    const int error = sent < 0 ? errno : EMSGSIZE;
    logging::debug("liveness: probe for {} on {} not sent: {}", address.to_string(),
                   path.interface.name, errno_text(error));
    if (!is_transient(error)) {
        // The interface went away, went down or lost the address: reopen later, fail open now.
        fail_path(path, Clock::now());
        publish();
    }
    return false;
}

asio::awaitable<void> Prober::Engine::receive_loop([[maybe_unused]] std::shared_ptr<Engine> self,
                                                   std::shared_ptr<Path> path,
                                                   std::uint64_t generation) {
    const auto current = [&] {
        return !stopped_ && path->socket.is_open() && path->generation == generation;
    };
    while (current()) {
        auto [error] =
            co_await path->socket.async_wait(asio::posix::descriptor_base::wait_read, kUseTuple);
        if (!current()) {
            break;
        }
        bool changed = false;
        try {
            if (error) {
                logging::warn("liveness: listening on {} failed: {}", path->interface.name,
                              error.message());
                changed = fail_path(*path, Clock::now());
            } else {
                read_answers(*path, Clock::now(), changed);
            }
            if (changed) {
                publish();
            }
        } catch (const std::exception& e) {
            logging::error("liveness: reading answers on {} failed: {}", path->interface.name,
                           e.what());
        }
    }
}

void Prober::Engine::read_answers(Path& path, TimePoint now, bool& changed) {
    if (path.gateway.is_v4()) {
        receive_arp(path, now, changed);
    } else {
        receive_icmpv6(path, now, changed);
    }
}

void Prober::Engine::receive_arp(Path& path, TimePoint now, bool& changed) {
    std::array<std::uint8_t, 1500> buffer{};
    for (int read = 0; read < kMaxReadsPerWake && path.socket.is_open(); ++read) {
        sockaddr_ll from{};
        socklen_t from_size = sizeof(from);
        const ssize_t got = ::recvfrom(path.socket.native_handle(), buffer.data(), buffer.size(), 0,
                                       reinterpret_cast<sockaddr*>(&from), &from_size);
        if (got < 0) {
            if (!is_transient(errno)) {
                logging::warn("liveness: reading ARP on {} failed: {}", path.interface.name,
                              errno_text(errno));
                changed = fail_path(path, now) || changed;
            }
            return;
        }
        // Our own requests come back as PACKET_OUTGOING; a frame from another interface can
        // arrive before bind() took effect.
        if (from.sll_pkttype == PACKET_OUTGOING || from.sll_ifindex != path.interface.index) {
            continue;
        }
        const auto sender =
            arp_reply_sender(std::span(buffer.data(), static_cast<std::size_t>(got)));
        if (sender) {
            accept_answer(path, *sender, now, changed);
        }
    }
}

void Prober::Engine::receive_icmpv6(Path& path, TimePoint now, bool& changed) {
    std::array<std::uint8_t, 1500> buffer{};
    alignas(cmsghdr)
        std::array<std::uint8_t, CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int))>
            control{};
    for (int read = 0; read < kMaxReadsPerWake && path.socket.is_open(); ++read) {
        iovec io{.iov_base = buffer.data(), .iov_len = buffer.size()};
        msghdr message{};
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        message.msg_control = control.data();
        message.msg_controllen = control.size();
        const ssize_t got = ::recvmsg(path.socket.native_handle(), &message, 0);
        if (got < 0) {
            if (!is_transient(errno)) {
                logging::warn("liveness: reading ICMPv6 on {} failed: {}", path.interface.name,
                              errno_text(errno));
                changed = fail_path(path, now) || changed;
            }
            return;
        }
        std::optional<int> interface_index;
        std::optional<int> hop_limit;
        for (cmsghdr* item = CMSG_FIRSTHDR(&message); item != nullptr;
             item = CMSG_NXTHDR(&message, item)) {
            if (item->cmsg_level != IPPROTO_IPV6) {
                continue;
            }
            if (item->cmsg_type == IPV6_PKTINFO &&
                item->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
                in6_pktinfo info{};
                std::memcpy(&info, CMSG_DATA(item), sizeof(info));
                interface_index = static_cast<int>(info.ipi6_ifindex);
            } else if (item->cmsg_type == IPV6_HOPLIMIT &&
                       item->cmsg_len >= CMSG_LEN(sizeof(int))) {
                int value = 0;
                std::memcpy(&value, CMSG_DATA(item), sizeof(value));
                hop_limit = value;
            }
        }
        if ((interface_index && *interface_index != path.interface.index) ||
            (hop_limit && *hop_limit != kNeighborDiscoveryHopLimit)) {
            continue;
        }
        const auto target =
            neighbor_advertisement_target(std::span(buffer.data(), static_cast<std::size_t>(got)));
        if (target) {
            accept_answer(path, *target, now, changed);
        }
    }
}

void Prober::Engine::accept_answer(const Path& path, const base::IpAddress& from, TimePoint now,
                                   bool& changed) {
    auto gateway = gateway_of_.find(from);
    if (gateway == gateway_of_.end() || gateway->second != path.gateway) {
        return;
    }
    ++stats_.answers;
    if (table_.answer_received(from, now)) {
        logging::info("liveness: {} answers again", from.to_string());
        changed = true;
    }
}

bool Prober::Engine::fail_path(Path& path, TimePoint now) {
    std::error_code ignored;
    path.socket.close(ignored);
    path.retry_at = now + options_.recheck_after;
    bool changed = false;
    for (const auto& [address, gateway] : gateway_of_) {
        if (gateway == path.gateway) {
            changed = table_.probe_failed(address, now) || changed;
        }
    }
    return changed;
}

void Prober::Engine::publish() {
    auto dead = std::make_shared<const DeadSet>(table_.dead());
    if (*dead == *dead_) {
        return;
    }
    for (const auto& address : dead->addresses()) {
        if (!dead_->contains(address)) {
            logging::info("liveness: {} did not answer {} neighbour probes; left out of answers "
                          "that have another address",
                          address.to_string(), options_.misses_for_dead);
        }
    }
    dead_ = std::move(dead);
    if (on_change_) {
        try {
            on_change_(dead_);
        } catch (const std::exception& e) {
            logging::error("liveness: change callback failed: {}", e.what());
        }
    }
}

Prober::Prober(asio::any_io_executor executor, Options options)
    : engine_(std::make_shared<Engine>(std::move(executor), options)) {}

Prober::~Prober() {
    engine_->stop();
}

void Prober::set_targets(std::vector<Target> targets) {
    engine_->set_targets(std::move(targets));
}

std::shared_ptr<const DeadSet> Prober::dead_addresses() const noexcept {
    return engine_->dead();
}

void Prober::on_change(ChangeCallback callback) {
    engine_->on_change(std::move(callback));
}

ProbeState Prober::state(const base::IpAddress& address) const {
    return engine_->state(address);
}

ProberStats Prober::stats() const {
    return engine_->stats();
}

void Prober::stop() noexcept {
    engine_->stop();
}

} // namespace liveness
