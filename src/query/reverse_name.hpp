// query/: reverse-lookup names (in-addr.arpa, ip6.arpa) to addresses, the way aardvark-dns reads
// them (contract §4.5). Names and text only: no packets, no store, no allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/ip_address.hpp"
#include "dns/name.hpp"

namespace query {

/// The address a PTR question names, from the name's presentation text with trailing dot
/// (original case). The suffixes `.in-addr.arpa.` and `.ip6.arpa.` are matched case-sensitively
/// as aardvark does; IPv4 labels are reversed and joined with '.', IPv6 labels are reversed,
/// concatenated and grouped by four with ':' (labels are not checked to be single nibbles; the
/// address parser decides). Partial zones, escapes and garbage give nullopt.
std::optional<base::IpAddress> parse_reverse_name(std::string_view text) noexcept;

/// The address a reverse name gives when it has the canonical shape (four decimal octets, or 32
/// single hex nibbles, then the suffix in lowercase), read from its uncompressed wire form
/// (bytes after the root label are ignored). nullopt for every other shape, where only
/// parse_reverse_name decides.
std::optional<base::IpAddress>
canonical_reverse_address(std::span<const std::uint8_t> wire) noexcept;

/// The same answer as parse_reverse_name on the name's presentation text, read from its labels
/// when they have the canonical shape (four decimal octets, or 32 single hex nibbles): the form
/// every resolver sends, converted without building and parsing text. Any other shape takes the
/// text path, so odd names keep aardvark's reading.
std::optional<base::IpAddress> reverse_address(const dns::Name& name) noexcept;

} // namespace query
