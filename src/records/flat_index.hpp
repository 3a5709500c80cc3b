// records/: an open-addressing index from a 64-bit hash to 32-bit values, for the network
// tables. Depends on std and base/prefetch.hpp only.
//
// Why not std::unordered_map: at 100,000 containers its nodes cost more than the data. Here a
// key costs 7.5 bytes at most (1.5 slots of a 32-bit value and an 8-bit tag, packed together so
// a hit reads one cache line, not one for the tag and one for the value), the table size is not
// rounded up to a power of two (it maps the hash onto the size by a multiplication), and the tags
// keep a miss from touching the data the values point to.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "base/prefetch.hpp"

namespace records {

class FlatIndex {
public:
    /// Empties the index and sizes it for at most `keys` values: the callers know their key
    /// counts (a file's lines, names, addresses) before they insert.
    void reset(std::size_t keys) {
        const std::size_t size = std::max<std::size_t>(8, keys + keys / 2 + 1);
        slots_.assign(size, Slot{});
        limit_ = keys;
        count_ = 0;
    }

    std::size_t capacity() const noexcept { return slots_.size(); }

    /// Stores `value` under `hash`; a probe for the hash meets values in insertion order.
    void insert(std::uint64_t hash, std::uint32_t value) {
        // Past the announced count the last empty slot could fill, and every probe for an
        // absent key would then loop: a caller's miscount must stop here, not hang the reload.
        if (count_ >= limit_) {
            std::abort();
        }
        ++count_;
        hash = mix(hash);
        std::size_t slot = home(hash);
        while (slots_[slot].value != 0) {
            slot = next(slot);
        }
        slots_[slot] = Slot{value + 1, tag_of(hash)};
    }

    /// Calls `visit(value)` for each value stored under a hash with the same tag as `hash`, in
    /// insertion order, until it returns false. Returns false when a visit did.
    template <typename Visit>
    bool for_each(std::uint64_t hash, Visit&& visit) const {
        if (slots_.empty()) {
            return true;
        }
        hash = mix(hash);
        const std::uint8_t tag = tag_of(hash);
        for (std::size_t slot = home(hash);; slot = next(slot)) {
            const Slot found = slots_[slot];
            if (found.value == 0) {
                return true;
            }
            if (found.tag == tag && !visit(found.value - 1)) {
                return false;
            }
        }
    }

    /// Asks the CPU to load the slot a probe for `hash` starts at: a batch of lookups issues
    /// these first, so their cache misses overlap instead of following one another.
    void prefetch(std::uint64_t hash) const noexcept {
        if (!slots_.empty()) {
            base::prefetch(&slots_[home(mix(hash))]);
        }
    }

    std::size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(Slot); }

private:
    // Callers' hashes (std::hash of a name, IpAddress::hash) need not spread over every bit.
    static std::uint64_t mix(std::uint64_t hash) noexcept {
        hash ^= hash >> 31;
        hash *= 0xbf58476d1ce4e5b9ULL;
        hash ^= hash >> 29;
        return hash;
    }

    // The high half picks the slot, the low byte is the tag: independent bits of a mixed hash.
    std::size_t home(std::uint64_t hash) const noexcept {
        return static_cast<std::size_t>(((hash >> 32) * slots_.size()) >> 32);
    }

    std::size_t next(std::size_t slot) const noexcept {
        return slot + 1 == slots_.size() ? 0 : slot + 1;
    }

    static std::uint8_t tag_of(std::uint64_t hash) noexcept {
        return static_cast<std::uint8_t>(hash);
    }

    // Five bytes, unaligned: read and written whole, never through a pointer to a member.
    struct [[gnu::packed]] Slot {
        std::uint32_t value = 0; // value + 1; 0 = empty
        std::uint8_t tag = 0;
    };

    static_assert(sizeof(Slot) == 5);

    std::vector<Slot> slots_;
    std::size_t limit_ = 0;
    std::size_t count_ = 0;
};

} // namespace records
