#include "upstream/exchange.hpp"

#include <algorithm>

#include <asio/ip/address.hpp>

namespace upstream {

namespace {

asio::ip::address to_asio(const base::Nameserver& server) {
    const auto bytes = server.address.bytes();
    if (server.address.is_v4()) {
        asio::ip::address_v4::bytes_type v4{};
        std::copy(bytes.begin(), bytes.end(), v4.begin());
        return asio::ip::address_v4(v4);
    }
    asio::ip::address_v6::bytes_type v6{};
    std::copy(bytes.begin(), bytes.end(), v6.begin());
    return asio::ip::address_v6(v6, server.scope_id);
}

} // namespace

asio::ip::udp::endpoint udp_endpoint(const base::Nameserver& server) {
    return {to_asio(server), server.port};
}

asio::ip::tcp::endpoint tcp_endpoint(const base::Nameserver& server) {
    return {to_asio(server), server.port};
}

} // namespace upstream
