// server/: the set of listeners a configuration wants, reconciled on every reload (contract §2.3
// step 5). asio, records/ and the listeners; nothing from lifecycle/ or config/.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "base/error.hpp"
#include "base/ip_address.hpp"
#include "records/record_store.hpp"
#include "server/serve_state.hpp"
#include "server/tcp_listener.hpp"
#include "server/udp_listener.hpp"

namespace server {

/// aardvark keys listeners by (network name, address): the same address in two network files is
/// bound twice, so the second bind fails, and moving an address to another network rebinds it.
struct ListenerKey {
    std::string network;
    base::IpAddress address;

    auto operator<=>(const ListenerKey&) const = default;
    bool operator==(const ListenerKey&) const = default;
};

struct DesiredListener {
    ListenerKey key;
    records::NetworkId network_id = 0; // the network's id in the snapshot being published
};

/// Every (network, bind ip) of `store`, in network order then header order, duplicates removed.
std::vector<DesiredListener> desired_listeners(const records::RecordStore& store);

/// `cause` (a listener's bind error) wrapped as aardvark words it, the text callers grep for
/// (contract §4.1): `failed to bind udp listener on 10.0.0.1:53: IO error: Address already in
/// use (os error 98)`. `protocol` is "udp" or "tcp".
base::Error bind_error(std::string_view protocol, const base::IpAddress& address,
                       std::uint16_t port, base::Error cause);

class ListenerSet {
public:
    struct Bound {
        std::shared_ptr<UdpListener> udp;
        std::shared_ptr<TcpListener> tcp;
    };

    ListenerSet(asio::any_io_executor executor, std::shared_ptr<ServeState> state,
                std::uint16_t port);
    ~ListenerSet();
    ListenerSet(const ListenerSet&) = delete;
    ListenerSet& operator=(const ListenerSet&) = delete;

    /// Makes the bound set equal `desired`: IPv4 keys first, then IPv6; within each family the
    /// keys no longer wanted are closed first, then missing keys are bound UDP then TCP (a TCP
    /// failure closes that key's UDP socket again). Every missing key is attempted; a failed key
    /// stays unbound so the next call retries it. Unchanged keys keep their sockets and take
    /// the new network id. Returns one bind_error() per failure, in attempt order.
    std::vector<base::Error> reconcile(std::span<const DesiredListener> desired);

    void stop_all() noexcept;

    std::size_t size() const noexcept { return bound_.size(); }

    /// nullptr when `key` is not bound.
    const Bound* find(const ListenerKey& key) const;

    /// Distinct addresses currently listened on.
    std::vector<base::IpAddress> addresses() const;

private:
    void reconcile_family(base::IpAddress::Family family, std::span<const DesiredListener> desired,
                          std::vector<base::Error>& errors);

    asio::any_io_executor executor_;
    std::shared_ptr<ServeState> state_;
    std::uint16_t port_;
    std::map<ListenerKey, Bound> bound_;
};

} // namespace server
