#include "dns/edns.hpp"

#include <algorithm>

#include "dns/types.hpp"
#include "dns/wire_reader.hpp"

namespace dns {

Edns Edns::from_record(std::uint16_t klass, std::uint32_t ttl, std::size_t rdata_offset,
                       std::size_t rdata_length) noexcept {
    Edns edns;
    edns.udp_payload_size = klass;
    edns.extended_rcode = static_cast<std::uint8_t>(ttl >> 24);
    edns.version = static_cast<std::uint8_t>((ttl >> 16) & 0xff);
    edns.flags = static_cast<std::uint16_t>(ttl & 0xffff);
    edns.options_offset = rdata_offset;
    edns.options_length = rdata_length;
    return edns;
}

bool Edns::options_well_formed(std::span<const std::uint8_t> message) const noexcept {
    const auto bytes = options(message);
    if (bytes.size() != options_length) {
        return false;
    }
    WireReader reader(bytes);
    while (reader.ok() && reader.remaining() > 0) {
        reader.read_u16();
        reader.skip(reader.read_u16());
    }
    return reader.ok();
}

std::size_t udp_payload_limit(const std::optional<Edns>& edns) noexcept {
    if (!edns) {
        return kMinUdpPayload;
    }
    return std::clamp(std::size_t{edns->udp_payload_size}, kMinUdpPayload, kMaxUdpPayload);
}

} // namespace dns
