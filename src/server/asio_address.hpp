// server/: conversions between base::IpAddress and asio addresses. Header-only; asio and base only.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include <asio/ip/address.hpp>

#include "base/ip_address.hpp"

namespace server {

inline asio::ip::address to_asio(const base::IpAddress& address) {
    const auto bytes = address.bytes();
    if (address.is_v4()) {
        asio::ip::address_v4::bytes_type v4{};
        std::copy(bytes.begin(), bytes.end(), v4.begin());
        return asio::ip::address_v4(v4);
    }
    asio::ip::address_v6::bytes_type v6{};
    std::copy(bytes.begin(), bytes.end(), v6.begin());
    return asio::ip::address_v6(v6);
}

inline base::IpAddress from_asio(const asio::ip::address& address) {
    if (address.is_v4()) {
        return base::IpAddress::v4(address.to_v4().to_bytes());
    }
    return base::IpAddress::v6(address.to_v6().to_bytes());
}

} // namespace server
