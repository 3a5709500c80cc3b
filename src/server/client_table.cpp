#include "server/client_table.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

namespace server {
namespace {

std::uint64_t random_word() {
    return (std::uint64_t{::arc4random()} << 32U) | ::arc4random();
}

// The finaliser of MurmurHash3: every input bit affects every output bit.
std::uint64_t mix(std::uint64_t value) {
    value ^= value >> 33U;
    value *= 0xff51afd7ed558ccdULL;
    value ^= value >> 33U;
    value *= 0xc4ceb9fe1a85ec53ULL;
    value ^= value >> 33U;
    return value;
}

std::size_t index_of(ClientResource resource) {
    return static_cast<std::size_t>(resource);
}

} // namespace

ClientTable::ClientTable(std::size_t max_clients)
    : max_used_(std::max<std::size_t>(max_clients, 1))
    , seed_{random_word(), random_word()} {
    // At least twice the clients that can be present, so probe chains stay short.
    const std::size_t capacity = std::bit_ceil(2 * max_used_);
    slots_.resize(capacity);
    mask_ = capacity - 1;
}

std::size_t ClientTable::home_of(const base::IpAddress& client) const noexcept {
    std::array<std::uint8_t, 16> padded{};
    const auto bytes = client.bytes();
    std::copy(bytes.begin(), bytes.end(), padded.begin());
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::memcpy(&high, padded.data(), sizeof(high));
    std::memcpy(&low, padded.data() + sizeof(high), sizeof(low));
    const std::uint64_t family = client.is_v4() ? 4 : 6;
    const std::uint64_t hash = mix(mix(high ^ seed_[0]) ^ low ^ seed_[1] ^ (family << 56U));
    return static_cast<std::size_t>(hash) & mask_;
}

std::size_t ClientTable::find(const base::IpAddress& client) const noexcept {
    std::size_t index = home_of(client);
    for (std::size_t probes = 0; probes < slots_.size(); ++probes) {
        const Slot& slot = slots_[index];
        if (!slot.used || slot.client == client) {
            return index;
        }
        index = (index + 1) & mask_;
    }
    return npos;
}

bool ClientTable::try_acquire(const base::IpAddress& client, ClientResource resource,
                              std::size_t limit) noexcept {
    const std::size_t index = find(client);
    if (index == npos) {
        return false;
    }
    Slot& slot = slots_[index];
    if (!slot.used) {
        if (limit == 0 || used_ >= max_used_) {
            return false;
        }
        slot.used = true;
        slot.client = client;
        slot.held = {};
        ++used_;
    }
    std::uint32_t& held = slot.held[index_of(resource)];
    if (held >= limit) {
        return false;
    }
    ++held;
    return true;
}

void ClientTable::release(const base::IpAddress& client, ClientResource resource) noexcept {
    const std::size_t index = find(client);
    if (index == npos || !slots_[index].used) {
        return;
    }
    Slot& slot = slots_[index];
    std::uint32_t& held = slot.held[index_of(resource)];
    if (held > 0) {
        --held;
    }
    if (std::all_of(slot.held.begin(), slot.held.end(), [](std::uint32_t n) { return n == 0; })) {
        erase_at(index);
    }
}

std::size_t ClientTable::held(const base::IpAddress& client,
                              ClientResource resource) const noexcept {
    const std::size_t index = find(client);
    if (index == npos || !slots_[index].used) {
        return 0;
    }
    return slots_[index].held[index_of(resource)];
}

// Backward-shift deletion: pulls later members of the probe chain into the hole so that every
// remaining client is still reachable from its home slot without tombstones.
void ClientTable::erase_at(std::size_t index) noexcept {
    slots_[index].used = false;
    --used_;
    std::size_t hole = index;
    std::size_t next = (hole + 1) & mask_;
    while (slots_[next].used) {
        const std::size_t home = home_of(slots_[next].client);
        // Distance from home to `next` versus to the hole, walking forward around the ring:
        // the entry may move into the hole only if the hole lies on its way from home.
        const std::size_t to_next = (next - home) & mask_;
        const std::size_t to_hole = (hole - home) & mask_;
        if (to_hole < to_next) {
            slots_[hole] = slots_[next];
            slots_[next].used = false;
            hole = next;
        }
        next = (next + 1) & mask_;
    }
}

} // namespace server
