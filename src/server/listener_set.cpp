#include "server/listener_set.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "base/log.hpp"
#include "server/asio_address.hpp"

namespace server {

std::vector<DesiredListener> desired_listeners(const records::RecordStore& store) {
    std::vector<DesiredListener> desired;
    std::set<ListenerKey> seen;
    const std::span<const records::Network> networks = store.networks();
    for (std::size_t id = 0; id < networks.size(); ++id) {
        for (const base::IpAddress& address : networks[id].bind_ips) {
            ListenerKey key{networks[id].name, address};
            if (seen.insert(key).second) {
                desired.push_back(
                    DesiredListener{std::move(key), static_cast<records::NetworkId>(id)});
            }
        }
    }
    return desired;
}

base::Error bind_error(std::string_view protocol, const base::IpAddress& address,
                       std::uint16_t port, base::Error cause) {
    // "IO error" is how aardvark's error type displays an io::Error it wraps.
    return std::move(cause)
        .wrap("IO error")
        .wrap(fmt::format("failed to bind {} listener on {}", protocol,
                          address.to_endpoint_string(port)));
}

ListenerSet::ListenerSet(asio::any_io_executor executor, std::shared_ptr<ServeState> state,
                         std::uint16_t port)
    : executor_(std::move(executor))
    , state_(std::move(state))
    , port_(port) {}

ListenerSet::~ListenerSet() {
    stop_all();
}

std::vector<base::Error> ListenerSet::reconcile(std::span<const DesiredListener> desired) {
    std::vector<base::Error> errors;
    reconcile_family(base::IpAddress::Family::V4, desired, errors);
    reconcile_family(base::IpAddress::Family::V6, desired, errors);
    return errors;
}

void ListenerSet::reconcile_family(base::IpAddress::Family family,
                                   std::span<const DesiredListener> desired,
                                   std::vector<base::Error>& errors) {
    const auto wanted = [&](const ListenerKey& key) {
        return std::any_of(desired.begin(), desired.end(),
                           [&](const DesiredListener& d) { return d.key == key; });
    };

    // Close first, so an address that moved to another network can be bound again below.
    for (auto it = bound_.begin(); it != bound_.end();) {
        if (it->first.address.family() == family && !wanted(it->first)) {
            base::log::debug("stopping listeners of network {} on {}", it->first.network,
                             it->first.address.to_endpoint_string(port_));
            it->second.udp->stop();
            it->second.tcp->stop();
            it = bound_.erase(it);
        } else {
            ++it;
        }
    }

    for (const DesiredListener& want : desired) {
        if (want.key.address.family() != family) {
            continue;
        }
        if (auto it = bound_.find(want.key); it != bound_.end()) {
            it->second.udp->set_network(want.network_id);
            it->second.tcp->set_network(want.network_id);
            continue;
        }
        const asio::ip::address address = to_asio(want.key.address);
        base::Result<std::shared_ptr<UdpListener>> udp = UdpListener::bind(
            executor_, asio::ip::udp::endpoint(address, port_), state_, want.network_id);
        if (!udp) {
            errors.push_back(bind_error("udp", want.key.address, port_, std::move(udp).error()));
            continue;
        }
        base::Result<std::shared_ptr<TcpListener>> tcp = TcpListener::bind(
            executor_, asio::ip::tcp::endpoint(address, port_), state_, want.network_id);
        if (!tcp) {
            (*udp)->stop();
            errors.push_back(bind_error("tcp", want.key.address, port_, std::move(tcp).error()));
            continue;
        }
        base::log::debug("listening for network {} on {}", want.key.network,
                         want.key.address.to_endpoint_string(port_));
        (*udp)->start();
        (*tcp)->start();
        bound_.emplace(want.key, Bound{*std::move(udp), *std::move(tcp)});
    }
}

void ListenerSet::stop_all() noexcept {
    for (auto& [key, listeners] : bound_) {
        listeners.udp->stop();
        listeners.tcp->stop();
    }
    bound_.clear();
}

const ListenerSet::Bound* ListenerSet::find(const ListenerKey& key) const {
    const auto it = bound_.find(key);
    return it == bound_.end() ? nullptr : &it->second;
}

std::vector<base::IpAddress> ListenerSet::addresses() const {
    std::vector<base::IpAddress> result;
    for (const auto& [key, listeners] : bound_) {
        if (std::find(result.begin(), result.end(), key.address) == result.end()) {
            result.push_back(key.address);
        }
    }
    return result;
}

} // namespace server
