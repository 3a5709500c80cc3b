// config/: one aardvark network file, text -> values. Knows nothing of DNS packets or sockets.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "base/unique_fd.hpp"

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

    /// How lines kept in their file are asked for: in the order of a walk from the newest line
    /// to the oldest, or aside from such a walk (a look back at one line).
    enum class Read {
        InOrder,
        Aside
    };

    /// Parses entry line `index` (file order) into `out`, reusing its storage.
    void parse(std::uint32_t index, ContainerEntry& out, Read how = Read::InOrder) const;

    /// For lines kept in their file (NetworkFileIndexer): true once a line read back was not
    /// the line indexed. The file changed after it was walked, and whatever was built from
    /// these lines must be dropped (parse() gave an empty entry for such a line).
    bool changed() const noexcept { return changed_; }

    /// The text (or the read-back window) and the index.
    std::size_t memory_bytes() const noexcept {
        return text_.capacity() + walk_window_.bytes.capacity() + aside_window_.bytes.capacity() +
               (line_begin_.capacity() + line_number_.capacity()) * 4 + line_hash_.capacity() * 8;
    }

private:
    friend struct NetworkFileLinesResult
    index_network_file(std::string_view file_name, std::string_view path, std::string text);
    friend class NetworkFileIndexer;

    // A line longer than this cannot be in a file under the size cap.
    static constexpr std::size_t kMaxLineRead = std::size_t{32} * 1024 * 1024;

    // Bytes of the file from `begin`; `at_end` when the file ended within them.
    struct Window {
        std::string bytes;
        std::size_t begin = 0;
        bool at_end = false;

        bool find(std::size_t line_begin, std::string_view& line) const;
    };

    static std::uint64_t line_hash_of(std::string_view line) noexcept;
    bool read_back(std::uint32_t index, Read how, std::string_view& line) const;

    NetworkFile header_;
    std::string text_; // empty when the lines are kept in their file
    std::vector<std::uint32_t> line_begin_;
    std::vector<std::uint32_t> line_number_;
    std::size_t address_count_ = 0;
    // Lines kept in their file: read back through fd_, in windows of the file, and checked
    // against the hash each had when the file was walked.
    base::UniqueFd fd_;
    std::vector<std::uint64_t> line_hash_;
    mutable Window walk_window_;
    mutable Window aside_window_;
    mutable bool changed_ = false;
};

struct NetworkFileLinesResult {
    std::optional<NetworkFileLines> file;
    std::vector<Problem> problems;
};

/// The same grammar and problems as parse_network_file, keeping `text` instead of entries.
NetworkFileLinesResult index_network_file(std::string_view file_name, std::string_view path,
                                          std::string text);

/// The same again for a file walked in pieces (config::scan_network_file) that is never held
/// whole: per good line only its offset, number and a hash are kept (16 bytes), and
/// NetworkFileLines::parse reads the line back through the file's descriptor. At 100,000
/// containers a full build then holds 1.6 MB of index instead of the 13 MB text.
class NetworkFileIndexer {
public:
    NetworkFileIndexer(std::string_view file_name, std::string_view path);
    ~NetworkFileIndexer();
    NetworkFileIndexer(NetworkFileIndexer&& other) noexcept;
    NetworkFileIndexer& operator=(NetworkFileIndexer&& other) noexcept;
    NetworkFileIndexer(const NetworkFileIndexer&) = delete;
    NetworkFileIndexer& operator=(const NetworkFileIndexer&) = delete;

    /// Every line in file order, without its '\n', with the file offset of its first byte;
    /// `terminated` is false for a last line that had no '\n'.
    void line(std::string_view line, std::uint64_t offset, bool terminated);

    /// Takes back the last line if it had no '\n' (a new file that is still being written
    /// serves its complete lines only).
    void drop_unterminated();

    /// All lines were given; `fd` (the descriptor they were read through) is kept for reading
    /// them back.
    NetworkFileLinesResult finish(base::UniqueFd fd);

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace config
