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
    EdnsOptionReader reader(bytes);
    EdnsOption option;
    OptionStep step = OptionStep::Option;
    while (step == OptionStep::Option) {
        step = reader.next(option);
    }
    return step == OptionStep::End;
}

OptionStep EdnsOptionReader::next(EdnsOption& option) noexcept {
    if (malformed_) {
        return OptionStep::Malformed;
    }
    if (position_ == options_.size()) {
        return OptionStep::End;
    }
    WireReader reader(options_, position_);
    const std::uint16_t code = reader.read_u16();
    const std::uint16_t length = reader.read_u16();
    const auto data = reader.read_bytes(length);
    if (!reader.ok()) {
        malformed_ = true;
        return OptionStep::Malformed;
    }
    option = EdnsOption{code, data, position_};
    position_ = reader.position();
    return OptionStep::Option;
}

std::size_t udp_payload_limit(const std::optional<Edns>& edns) noexcept {
    if (!edns) {
        return kMinUdpPayload;
    }
    return std::clamp(std::size_t{edns->udp_payload_size}, kMinUdpPayload, kMaxUdpPayload);
}

} // namespace dns
