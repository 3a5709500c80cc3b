// config/: one aardvark network file, text -> values. Knows nothing of DNS packets or sockets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"

namespace config {

/// A diagnostic tied to a place: `path:line: message` (line 0 = the whole file).
struct Problem {
    std::string path;
    int line = 0;
    std::string message;

    std::string to_string() const;
};

/// One container line (contract §3.2), kept faithfully: nothing is merged or dropped here.
struct ContainerEntry {
    std::string id;                    // lowercased; may be empty
    std::vector<base::IpAddress> ipv4; // field 1
    std::vector<base::IpAddress> ipv6; // field 2
    std::vector<std::string> names;    // field 3, lowercased, in order (first = container name)
    std::optional<std::vector<base::IpAddress>> dns_servers; // field 4 (only with exactly 5 fields)
    int line = 0;                                            // 1-based line number in the file
};

struct NetworkFile {
    std::string name; // file name without the `%int` suffix
    std::string path; // as read, for diagnostics
    bool internal = false;
    std::vector<base::IpAddress> bind_ips;    // header field 0
    std::vector<base::IpAddress> dns_servers; // header field 1 (empty for internal networks)
    std::vector<ContainerEntry> entries;      // file order = age order (later = newer)
};

struct NetworkFileResult {
    std::optional<NetworkFile> file; // nullopt when the file as a whole is unusable
    std::vector<Problem> problems;   // everything wrong, with line numbers
};

/// Parses the aardvark 2.0 grammar (contract §3.2) plus the 1.4 files Debian's netavark writes:
/// split on '\n' only, fields on exactly one space, empty lines skipped, first non-empty line is
/// the header. A bad header (or no header) rejects the file. A bad entry line is reported and
/// skipped on its own; the rest of the file still serves (ctrdns is more forgiving than
/// aardvark-dns here, which drops the whole file). `file_name` may end in `%int`.
NetworkFileResult parse_network_file(std::string_view file_name, std::string_view path,
                                     std::string_view text);

} // namespace config
