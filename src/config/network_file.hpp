// config/: one aardvark network file, text -> values. Knows nothing of DNS packets or sockets.
#pragma once

#include <cstdint>
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

/// Addresses on the entry lines of `file` (IPv4 and IPv6 lists together).
std::size_t address_count(const NetworkFile& file) noexcept;

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

/// A network file kept as its text plus the place of each good entry line. Entries are parsed
/// one at a time on request, so a 100,000-line file never exists as 100,000 parsed entries at
/// once (the daemon's full reload walks it twice: stale rules, then the table).
class NetworkFileLines {
public:
    /// Name, path, internal flag, bind addresses and network DNS servers; no entries.
    const NetworkFile& header() const noexcept { return header_; }

    /// Good entry lines (bad ones were reported by index_network_file and are left out).
    std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(line_begin_.size()); }

    /// Addresses on the good lines (IPv4 and IPv6 lists together).
    std::size_t address_count() const noexcept { return address_count_; }

    /// Parses entry line `index` (file order) into `out`, reusing its storage.
    void parse(std::uint32_t index, ContainerEntry& out) const;

    /// The text and the index.
    std::size_t memory_bytes() const noexcept {
        return text_.capacity() + (line_begin_.capacity() + line_number_.capacity()) * 4;
    }

private:
    friend struct NetworkFileLinesResult
    index_network_file(std::string_view file_name, std::string_view path, std::string text);

    NetworkFile header_;
    std::string text_;
    std::vector<std::uint32_t> line_begin_;
    std::vector<std::uint32_t> line_number_;
    std::size_t address_count_ = 0;
};

struct NetworkFileLinesResult {
    std::optional<NetworkFileLines> file;
    std::vector<Problem> problems;
};

/// The same grammar and problems as parse_network_file, keeping `text` instead of entries.
NetworkFileLinesResult index_network_file(std::string_view file_name, std::string_view path,
                                          std::string text);

} // namespace config
