// base/: an IPv4 or IPv6 address as a small value type. Depends on nothing but std.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace base {

class IpAddress {
public:
    enum class Family : std::uint8_t {
        V4,
        V6
    };

    IpAddress() = default;

    static IpAddress v4(const std::array<std::uint8_t, 4>& bytes) noexcept;
    static IpAddress v6(const std::array<std::uint8_t, 16>& bytes) noexcept;

    /// Strict text form as Rust's `IpAddr::from_str` accepts it: a dotted quad without leading
    /// zeros, or standard IPv6 text. No `%zone`, no brackets, no surrounding space.
    static std::optional<IpAddress> parse(std::string_view text) noexcept;

    /// Builds from 4 or 16 raw network-order bytes; nullopt for any other length.
    static std::optional<IpAddress> from_bytes(std::span<const std::uint8_t> bytes) noexcept;

    Family family() const noexcept { return family_; }

    bool is_v4() const noexcept { return family_ == Family::V4; }

    bool is_v6() const noexcept { return family_ == Family::V6; }

    /// 4 bytes for IPv4, 16 for IPv6, network order.
    std::span<const std::uint8_t> bytes() const noexcept {
        return {bytes_.data(), is_v4() ? std::size_t{4} : std::size_t{16}};
    }

    /// Canonical text (IPv6 compressed, lowercase), as netavark writes it.
    std::string to_string() const;

    /// `a.b.c.d:port` or `[v6]:port`, the form used in bind error messages.
    std::string to_endpoint_string(std::uint16_t port) const;

    std::size_t hash() const noexcept;

    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads the defaulted <=>'s "0"
    auto operator<=>(const IpAddress&) const noexcept = default;

    /// Two 8-byte words and the family, where the defaulted operator called memcmp: PTR answers
    /// compare addresses for every name they list.
    bool operator==(const IpAddress& other) const noexcept {
        std::array<std::uint64_t, 2> mine{};
        std::array<std::uint64_t, 2> theirs{};
        std::memcpy(mine.data(), bytes_.data(), sizeof(mine));
        std::memcpy(theirs.data(), other.bytes_.data(), sizeof(theirs));
        return ((mine[0] ^ theirs[0]) | (mine[1] ^ theirs[1])) == 0 && family_ == other.family_;
    }

private:
    std::array<std::uint8_t, 16> bytes_{};
    Family family_ = Family::V4;
};

struct IpAddressHash {
    std::size_t operator()(const IpAddress& address) const noexcept { return address.hash(); }
};

} // namespace base
