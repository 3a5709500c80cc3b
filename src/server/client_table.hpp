// server/: per-client (source address) counts of held resources, for fair sharing of the global
// limits (docs/security.md, "Fair sharing between clients"). Depends on base/ and std only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/ip_address.hpp"

namespace server {

/// What one client can hold; each has its own per-client cap.
enum class ClientResource : std::uint8_t {
    TcpConnection, // an open TCP connection
    Forward        // a UDP or TCP query waiting for an upstream
};

/// Counts, per source address, how many of each resource a client holds right now.
///
/// Fixed capacity, chosen at construction from the most clients that can hold anything at once
/// (every held unit also holds a global slot, so there are never more distinct clients than
/// global slots). The slot array is allocated once: acquire and release never allocate, and
/// are O(1) expected (open addressing, linear probing, load factor at most 1/2, backward-shift
/// deletion so no tombstones pile up). The hash is keyed with a per-table random seed so that
/// a client choosing its (UDP, spoofable) source addresses cannot aim them at one probe chain;
/// even then a chain is bounded by the capacity.
///
/// Not thread-safe: lives on the io_context thread, as ServeState does.
class ClientTable {
public:
    /// `max_clients`: the most distinct clients that may hold something at the same time.
    explicit ClientTable(std::size_t max_clients);

    /// Takes one unit of `resource` for `client` unless it already holds `limit` of them (or,
    /// which the sizing rules out, the table is full). True when taken.
    bool try_acquire(const base::IpAddress& client, ClientResource resource,
                     std::size_t limit) noexcept;

    /// Gives back one unit taken by try_acquire; a client holding nothing is forgotten.
    void release(const base::IpAddress& client, ClientResource resource) noexcept;

    /// Units of `resource` that `client` holds now.
    std::size_t held(const base::IpAddress& client, ClientResource resource) const noexcept;

    /// Clients holding at least one unit of anything.
    std::size_t clients() const noexcept { return used_; }

    std::size_t capacity() const noexcept { return slots_.size(); }

private:
    static constexpr std::size_t kResources = 2;

    struct Slot {
        base::IpAddress client;
        std::array<std::uint32_t, kResources> held{};
        bool used = false;
    };

    std::size_t home_of(const base::IpAddress& client) const noexcept;
    /// Index of `client`'s slot, or of the empty slot where it would go; npos when the table
    /// is full and the client is not in it.
    std::size_t find(const base::IpAddress& client) const noexcept;
    void erase_at(std::size_t index) noexcept;

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::size_t max_used_ = 0;
    std::size_t used_ = 0;
    std::array<std::uint64_t, 2> seed_{};
};

} // namespace server
