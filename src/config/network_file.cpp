#include "config/network_file.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "base/ascii.hpp"

namespace config {

namespace {

constexpr std::string_view kInternalSuffix = "%int";

// Quoted text in messages is cut so one absurd field cannot make a megabyte log line.
constexpr std::size_t kMaxQuoted = 80;

// Field counts that matter: a header uses fields 0-1, an entry 0-4, and "6 or more" only
// needs to be told apart from "exactly 5".
constexpr std::size_t kMaxFields = 6;

struct Fields {
    std::array<std::string_view, kMaxFields> values{};
    std::size_t count = 0; // saturates at kMaxFields
};

// split(' ') as aardvark does: every single space is a separator, so "a  b" has an empty middle.
Fields split_fields(std::string_view line) noexcept {
    Fields fields;
    std::size_t start = 0;
    while (fields.count < kMaxFields) {
        const std::size_t space = line.find(' ', start);
        if (space == std::string_view::npos) {
            fields.values[fields.count++] = line.substr(start);
            break;
        }
        fields.values[fields.count++] = line.substr(start, space - start);
        start = space + 1;
    }
    return fields;
}

// Calls `visit(element)` for every ','-separated element (empty ones included) until it
// returns false; returns whether all were accepted.
template <typename Visit>
bool for_each_element(std::string_view list, Visit&& visit) {
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = list.find(',', start);
        const std::string_view element = list.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (!visit(element)) {
            return false;
        }
        if (comma == std::string_view::npos) {
            return true;
        }
        start = comma + 1;
    }
}

// Control characters are escaped so a stray '\r' or binary garbage cannot garble a log line.
std::string quoted(std::string_view text) {
    std::string out = "'";
    const bool cut = text.size() > kMaxQuoted;
    for (const char c : text.substr(0, kMaxQuoted)) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c == '\'') {
            out += "\\'";
        } else if (byte < 0x20 || byte == 0x7f) {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out += c;
        }
    }
    out += cut ? "'..." : "'";
    return out;
}

int clamp_line(std::size_t line) noexcept {
    return line > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(line);
}

enum class FamilyRule {
    Any,
    V4Only,
    V6Only
};

bool family_matches(const base::IpAddress& address, FamilyRule rule) noexcept {
    switch (rule) {
    case FamilyRule::V4Only:
        return address.is_v4();
    case FamilyRule::V6Only:
        return address.is_v6();
    case FamilyRule::Any:
        break;
    }
    return true;
}

// Parses a ','-list; on failure returns the offending element.
std::optional<std::string_view> parse_address_list(std::string_view list, FamilyRule rule,
                                                   std::vector<base::IpAddress>& out) {
    std::optional<std::string_view> bad;
    for_each_element(list, [&](std::string_view element) {
        const auto address = base::IpAddress::parse(element);
        if (!address || !family_matches(*address, rule)) {
            bad = element;
            return false;
        }
        out.push_back(*address);
        return true;
    });
    return bad;
}

void assign_lowercase(std::string& out, std::string_view text) {
    out.assign(text);
    for (char& c : out) {
        c = base::ascii_lower(c);
    }
}

// One entry line into `out`, reusing its storage (the daemon parses a 100,000-line file one
// line at a time into the same object). Returns the problem when the line is bad.
std::optional<std::string> parse_entry_into(std::string_view line, std::size_t number,
                                            ContainerEntry& out) {
    const Fields fields = split_fields(line);
    if (fields.count < 4) {
        return fmt::format("too few fields ({}, need 4)", fields.count);
    }
    out.line = clamp_line(number);
    out.ipv4.clear();
    out.ipv6.clear();
    out.dns_servers.reset();
    if (!fields.values[1].empty()) {
        if (const auto bad = parse_address_list(fields.values[1], FamilyRule::V4Only, out.ipv4)) {
            return fmt::format("bad IPv4 address {}", quoted(*bad));
        }
    }
    if (!fields.values[2].empty()) {
        if (const auto bad = parse_address_list(fields.values[2], FamilyRule::V6Only, out.ipv6)) {
            return fmt::format("bad IPv6 address {}", quoted(*bad));
        }
    }
    // Exactly 5 fields: with a 6th (a trailing space after the servers) aardvark ignores them.
    if (fields.count == 5 && !fields.values[4].empty()) {
        std::vector<base::IpAddress> servers;
        if (const auto bad = parse_address_list(fields.values[4], FamilyRule::Any, servers)) {
            return fmt::format("bad DNS server address {}", quoted(*bad));
        }
        out.dns_servers = std::move(servers);
    }
    assign_lowercase(out.id, fields.values[0]);
    std::size_t count = 0;
    for_each_element(fields.values[3], [&](std::string_view name) {
        if (count == out.names.size()) {
            out.names.emplace_back();
        }
        assign_lowercase(out.names[count++], name);
        return true;
    });
    out.names.resize(count);
    return std::nullopt;
}

class Parser {
public:
    Parser(std::string_view path, NetworkFileResult& result)
        : path_(path)
        , result_(result) {}

    void add_problem(std::size_t line, std::string message) {
        result_.problems.push_back(Problem{path_, clamp_line(line), std::move(message)});
    }

    // Returns false when the header rejects the file.
    bool parse_header(std::string_view line, std::size_t number, NetworkFile& file) {
        const Fields fields = split_fields(line);
        if (const auto bad = parse_address_list(fields.values[0], FamilyRule::Any, file.bind_ips)) {
            add_problem(number, fmt::format("bad bind address {} in the header; file skipped",
                                            quoted(*bad)));
            return false;
        }
        if (fields.count >= 2) {
            const std::string_view servers = fields.values[1];
            if (servers.empty()) {
                add_problem(number, "empty network DNS server field in the header (trailing "
                                    "space?); file skipped");
                return false;
            }
            if (const auto bad = parse_address_list(servers, FamilyRule::Any, file.dns_servers)) {
                add_problem(number, fmt::format("bad network DNS server address {} in the header; "
                                                "file skipped",
                                                quoted(*bad)));
                return false;
            }
        }
        return true;
    }

    // A bad line is reported and skipped on its own (false).
    bool parse_entry(std::string_view line, std::size_t number, ContainerEntry& out) {
        if (auto problem = parse_entry_into(line, number, out)) {
            add_problem(number, std::move(*problem));
            return false;
        }
        return true;
    }

private:
    std::string path_;
    NetworkFileResult& result_;
};

// Walks the lines of `text`: the header into `file`, then every entry line through
// `on_entry(line, number)`. Returns false when the file as a whole is rejected (problems say why).
template <typename OnEntry>
bool walk_network_file(std::string_view text, Parser& parser, NetworkFile& file,
                       OnEntry&& on_entry) {
    bool have_header = false;
    std::size_t number = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t newline = text.find('\n', start);
        const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
        const std::string_view line = text.substr(start, end - start);
        ++number;
        const std::size_t line_start = start;
        start = end + 1;
        if (line.empty()) {
            continue;
        }
        if (!have_header) {
            if (!parser.parse_header(line, number, file)) {
                return false;
            }
            have_header = true;
            continue;
        }
        on_entry(line, line_start, number);
    }
    if (!have_header) {
        parser.add_problem(0, "no bind addresses (the file has no non-empty line); file skipped");
        return false;
    }
    // aardvark validates these fields for internal networks too (a bad one still rejects the
    // line), and only then disregards them: internal networks never forward.
    if (file.internal) {
        file.dns_servers.clear();
    }
    return true;
}

NetworkFile file_named(std::string_view file_name, std::string_view path) {
    NetworkFile file;
    file.path = std::string(path);
    file.internal = file_name.ends_with(kInternalSuffix);
    file.name = std::string(
        file.internal ? file_name.substr(0, file_name.size() - kInternalSuffix.size()) : file_name);
    return file;
}

} // namespace

std::string Problem::to_string() const {
    if (line == 0) {
        return fmt::format("{}: {}", path, message);
    }
    return fmt::format("{}:{}: {}", path, line, message);
}

std::size_t address_count(const NetworkFile& file) noexcept {
    std::size_t count = 0;
    for (const ContainerEntry& entry : file.entries) {
        count += entry.ipv4.size() + entry.ipv6.size();
    }
    return count;
}

NetworkFileResult parse_network_file(std::string_view file_name, std::string_view path,
                                     std::string_view text) {
    NetworkFileResult result;
    Parser parser(path, result);
    NetworkFile file = file_named(file_name, path);
    // One allocation for the entry list instead of a doubling series at 100,000 lines.
    file.entries.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')));
    ContainerEntry entry;
    const bool ok = walk_network_file(text, parser, file,
                                      [&](std::string_view line, std::size_t, std::size_t number) {
                                          if (parser.parse_entry(line, number, entry)) {
                                              file.entries.push_back(std::move(entry));
                                              entry = ContainerEntry();
                                          }
                                      });
    if (!ok) {
        return result;
    }
    if (file.internal) {
        for (ContainerEntry& parsed : file.entries) {
            parsed.dns_servers.reset();
        }
    }
    result.file = std::move(file);
    return result;
}

NetworkFileLinesResult index_network_file(std::string_view file_name, std::string_view path,
                                          std::string text) {
    NetworkFileLinesResult result;
    NetworkFileResult parse_problems;
    Parser parser(path, parse_problems);
    NetworkFileLines lines;
    lines.header_ = file_named(file_name, path);
    ContainerEntry scratch;
    const bool ok =
        walk_network_file(text, parser, lines.header_,
                          [&](std::string_view line, std::size_t begin, std::size_t number) {
                              if (parser.parse_entry(line, number, scratch)) {
                                  lines.line_begin_.push_back(static_cast<std::uint32_t>(begin));
                                  lines.line_number_.push_back(static_cast<std::uint32_t>(number));
                                  lines.address_count_ += scratch.ipv4.size() + scratch.ipv6.size();
                              }
                          });
    result.problems = std::move(parse_problems.problems);
    if (!ok) {
        return result;
    }
    lines.line_begin_.shrink_to_fit();
    lines.line_number_.shrink_to_fit();
    lines.text_ = std::move(text);
    result.file = std::move(lines);
    return result;
}

void NetworkFileLines::parse(std::uint32_t index, ContainerEntry& out) const {
    const std::string_view text = text_;
    const std::size_t begin = line_begin_[index];
    const std::size_t newline = text.find('\n', begin);
    const std::string_view line = text.substr(
        begin, newline == std::string_view::npos ? std::string_view::npos : newline - begin);
    // Indexed lines parsed once already: no problem can come back.
    parse_entry_into(line, line_number_[index], out);
    if (header_.internal) {
        out.dns_servers.reset();
    }
}

} // namespace config
