// probe::read_ipv6_ancillary: the arrival interface and hop limit of an ICMPv6 message, read from
// control bytes built here the way the kernel lays them out; missing or short items are absent.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "probe/ancillary.hpp"

namespace {

using probe::Ipv6Ancillary;
using probe::kIpv6AncillarySpace;
using probe::read_ipv6_ancillary;

/// A msghdr over `control`, with up to two items appended by add().
class Control {
public:
    Control() {
        message_.msg_control = bytes_.data();
        message_.msg_controllen = bytes_.size();
    }

    /// Appends an item of `level`/`type` whose length field claims `data_size` bytes.
    template <typename T>
    void add(int level, int type, const T& value, std::size_t data_size = sizeof(T)) {
        cmsghdr* item = used_ == 0 ? CMSG_FIRSTHDR(&message_) : next_;
        ASSERT_NE(item, nullptr);
        item->cmsg_level = level;
        item->cmsg_type = type;
        item->cmsg_len = CMSG_LEN(data_size);
        std::memcpy(CMSG_DATA(item), &value, std::min(sizeof(T), data_size));
        used_ += CMSG_SPACE(sizeof(T));
        message_.msg_controllen = used_;
        next_ = reinterpret_cast<cmsghdr*>(bytes_.data() + used_);
    }

    msghdr& message() { return message_; }

private:
    alignas(cmsghdr) std::array<std::uint8_t, kIpv6AncillarySpace> bytes_{};
    msghdr message_{};
    std::size_t used_ = 0;
    cmsghdr* next_ = nullptr;
};

in6_pktinfo packet_info(unsigned interface_index) {
    in6_pktinfo info{};
    info.ipi6_ifindex = interface_index;
    return info;
}

TEST(Ancillary, ReadsInterfaceAndHopLimit) {
    Control control;
    control.add(IPPROTO_IPV6, IPV6_PKTINFO, packet_info(7));
    control.add(IPPROTO_IPV6, IPV6_HOPLIMIT, 255);
    const Ipv6Ancillary found = read_ipv6_ancillary(control.message());
    EXPECT_EQ(found.interface_index, 7);
    EXPECT_EQ(found.hop_limit, 255);
}

TEST(Ancillary, NoControlDataMeansNothingKnown) {
    msghdr message{};
    const Ipv6Ancillary found = read_ipv6_ancillary(message);
    EXPECT_FALSE(found.interface_index);
    EXPECT_FALSE(found.hop_limit);
}

TEST(Ancillary, IgnoresOtherLevelsAndShortItems) {
    Control control;
    control.add(SOL_SOCKET, IPV6_PKTINFO, packet_info(7));
    control.add(IPPROTO_IPV6, IPV6_HOPLIMIT, 255, sizeof(std::uint8_t));
    const Ipv6Ancillary found = read_ipv6_ancillary(control.message());
    EXPECT_FALSE(found.interface_index);
    EXPECT_FALSE(found.hop_limit);
}

} // namespace
