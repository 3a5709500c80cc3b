#include "probe/interfaces.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace probe {

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

base::Result<Interface> find_interface(const base::IpAddress& gateway) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        return base::Error::from_errno("getifaddrs", errno);
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
        return base::Error("no interface has this address");
    }
    if (!has_mac || found->index <= 0) {
        return base::Error(fmt::format("interface {} has no Ethernet address", found->name));
    }
    return std::move(*found);
}

} // namespace probe
