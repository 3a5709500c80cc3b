// query/: warms the memory a batch of queries will read before handle() answers them, so the
// batch's cache misses overlap. Depends on dns/ and records/; decides nothing and answers nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/ip_address.hpp"
#include "query/handler.hpp"
#include "records/network_table.hpp"
#include "records/record_store.hpp"

namespace query {

/// One query of a batch. Usage: note() every query (which runs step 0), then warm() every query
/// for step 1, then for step 2, ... up to kSteps - 1, then handle() them: each step reads what
/// the step before loaded and asks for what the next reads, while the other queries' loads are
/// under way.
class LookupWarmer {
public:
    static constexpr unsigned kSteps = records::NetworkTable::kWarmSteps;

    /// Notes the lookup handle() will make for `request` (the name of A, AAAA and other types,
    /// the address of a reverse name for PTR) and in which networks. Anything else, a malformed
    /// request included, is noted as nothing to warm.
    void note(std::span<const std::uint8_t> request, const Client& client,
              const records::RecordStore& store, const Settings& settings) noexcept;

    void warm(const records::RecordStore& store, unsigned step) const noexcept;

    /// What note() worked out, for handle() to use instead of working it out again: nullopt when
    /// nothing was noted or the requester is in more networks than were kept. Valid until the
    /// next note().
    std::optional<KnownLookup> known() const noexcept;

    /// What note() found, for tests: the key of a name to look up, or the address of a reverse
    /// name (nullopt for the other kind, or when nothing is warmed).
    std::optional<std::string_view> noted_name() const noexcept;
    std::optional<base::IpAddress> noted_address() const noexcept;

private:
    // A requester in more networks than this is rare, and so is a longer name: those are
    // looked up cold.
    static constexpr std::size_t kMaxNetworks = 4;
    static constexpr std::size_t kMaxKey = 255;

    enum class Kind : std::uint8_t {
        Nothing,
        Name,
        Address
    };

    void note_lookup(std::span<const std::uint8_t> request, const Client& client,
                     const records::RecordStore& store, const Settings& settings);

    std::span<const records::NetworkId> networks() const noexcept {
        return std::span<const records::NetworkId>(networks_).first(network_count_);
    }

    Kind kind_ = Kind::Nothing;
    std::size_t network_count_ = 0;
    bool networks_complete_ = false; // all of the requester's networks fit in networks_
    std::size_t key_size_ = 0;
    std::uint64_t hash_ = 0; // of the key or the address, for every step
    std::array<records::NetworkId, kMaxNetworks> networks_{};
    base::IpAddress address_;
    std::array<char, kMaxKey> key_{}; // the name's lookup key, key_size_ bytes
};

} // namespace query
