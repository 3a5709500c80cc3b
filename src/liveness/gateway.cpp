#include "liveness/gateway.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>

namespace liveness {
namespace {

unsigned common_prefix_bits(const base::IpAddress& a, const base::IpAddress& b) noexcept {
    const auto left = a.bytes();
    const auto right = b.bytes();
    unsigned bits = 0;
    for (std::size_t i = 0; i < left.size() && i < right.size(); ++i) {
        const auto differ = static_cast<std::uint8_t>(left[i] ^ right[i]);
        if (differ != 0) {
            return bits + static_cast<unsigned>(std::countl_zero(differ));
        }
        bits += 8;
    }
    return bits;
}

} // namespace

std::optional<base::IpAddress> gateway_for(const base::IpAddress& address,
                                           std::span<const base::IpAddress> gateways) noexcept {
    std::optional<base::IpAddress> best;
    unsigned best_bits = 0;
    for (const auto& gateway : gateways) {
        if (gateway == address) {
            return std::nullopt;
        }
        if (gateway.family() != address.family()) {
            continue;
        }
        const unsigned bits = common_prefix_bits(address, gateway);
        if (!best || bits > best_bits) {
            best = gateway;
            best_bits = bits;
        }
    }
    return best;
}

} // namespace liveness
