#include "probe/ancillary.hpp"

#include <cstring>

namespace probe {

Ipv6Ancillary read_ipv6_ancillary(msghdr& message) noexcept {
    Ipv6Ancillary found;
    for (cmsghdr* item = CMSG_FIRSTHDR(&message); item != nullptr;
         item = CMSG_NXTHDR(&message, item)) {
        if (item->cmsg_level != IPPROTO_IPV6) {
            continue;
        }
        if (item->cmsg_type == IPV6_PKTINFO && item->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
            in6_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(item), sizeof(info));
            found.interface_index = static_cast<int>(info.ipi6_ifindex);
        } else if (item->cmsg_type == IPV6_HOPLIMIT && item->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int value = 0;
            std::memcpy(&value, CMSG_DATA(item), sizeof(value));
            found.hop_limit = value;
        }
    }
    return found;
}

} // namespace probe
