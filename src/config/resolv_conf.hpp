// config/: parsing /etc/resolv.conf the way aardvark-dns 2.0 does. No sockets, no DNS packets.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/nameserver.hpp"

namespace config {

struct ResolvConfResult {
    /// The first three `nameserver` lines, on the DNS port; an IPv6 `%zone` is resolved to its
    /// interface index.
    std::vector<base::Nameserver> servers;
    std::optional<std::string> error; // set when the file as a whole is invalid (contract §5.4)
};

/// Resolves an interface name to its index; nullopt if unknown. Injectable for tests.
using InterfaceIndexLookup = std::function<std::optional<std::uint32_t>(std::string_view)>;

/// The default lookup, if_nametoindex(3).
std::optional<std::uint32_t> system_interface_index(std::string_view name);

/// Contract §5.4: must be UTF-8; lines cut at '#' or ';'; whitespace-split; `nameserver ADDR` lines
/// only (case-sensitive keyword); `ip%zone` for IPv6 (numeric zone = scope id, else interface
/// name); keep the first 3, but any bad `nameserver` line anywhere fails the whole read.
ResolvConfResult parse_resolv_conf(std::string_view text,
                                   const InterfaceIndexLookup& lookup = system_interface_index);

/// Reads and parses `path`; a missing or unreadable file is an error.
ResolvConfResult read_resolv_conf(const std::string& path,
                                  const InterfaceIndexLookup& lookup = system_interface_index);

} // namespace config
