#include "config/network_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include <unistd.h>

#include <fmt/format.h>

#include "base/ascii.hpp"
#include "config/write_progress.hpp"

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

// The grammar's line rules, one line at a time: the first non-empty line is the header (into
// `file`), every later non-empty line an entry (to `on_entry(line, begin, number)`); lines are
// numbered from 1, blank ones included. line() returns false once the header rejected the file.
class LineRules {
public:
    LineRules(Parser& parser, NetworkFile& file)
        : parser_(parser)
        , file_(file) {}

    template <typename OnEntry>
    bool line(std::string_view line, std::size_t begin, OnEntry&& on_entry) {
        ++number_;
        if (line.empty()) {
            return true;
        }
        if (!have_header_) {
            if (!parser_.parse_header(line, number_, file_)) {
                return false;
            }
            have_header_ = true;
            return true;
        }
        on_entry(line, begin, number_);
        return true;
    }

    // Forgets the header (it was the cut-off last line of a file not to be served yet).
    void forget_header() noexcept { have_header_ = false; }

    /// Returns false when the file as a whole is rejected (problems say why).
    bool finish() {
        if (!have_header_) {
            parser_.add_problem(0,
                                "no bind addresses (the file has no non-empty line); file skipped");
            return false;
        }
        // aardvark validates these fields for internal networks too (a bad one still rejects the
        // line), and only then disregards them: internal networks never forward.
        if (file_.internal) {
            file_.dns_servers.clear();
        }
        return true;
    }

private:
    Parser& parser_;
    NetworkFile& file_;
    bool have_header_ = false;
    std::size_t number_ = 0;
};

// Walks the lines of `text` through LineRules. Returns false when the file as a whole is rejected.
template <typename OnEntry>
bool walk_network_file(std::string_view text, Parser& parser, NetworkFile& file,
                       OnEntry&& on_entry) {
    LineRules rules(parser, file);
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t newline = text.find('\n', start);
        const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
        if (!rules.line(text.substr(start, end - start), start, on_entry)) {
            return false;
        }
        start = end + 1;
    }
    return rules.finish();
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

// The indexer's state: the same Parser and LineRules as index_network_file, fed line by line.
struct NetworkFileIndexer::State {
    State(std::string_view file_name, std::string_view path)
        : parser(path, problems)
        , rules(parser, lines.header_) {
        lines.header_ = file_named(file_name, path);
    }

    NetworkFileResult problems;
    Parser parser;
    NetworkFileLines lines;
    LineRules rules;
    bool rejected = false;
    ContainerEntry scratch;
    // The last line when it had no '\n': what drop_unterminated() takes back.
    enum class Cut {
        None,
        Header,
        Entry,
        Other
    } cut = Cut::None;
    std::size_t cut_addresses = 0;
};

NetworkFileIndexer::NetworkFileIndexer(std::string_view file_name, std::string_view path)
    : state_(std::make_unique<State>(file_name, path)) {}

NetworkFileIndexer::~NetworkFileIndexer() = default;
NetworkFileIndexer::NetworkFileIndexer(NetworkFileIndexer&&) noexcept = default;
NetworkFileIndexer& NetworkFileIndexer::operator=(NetworkFileIndexer&&) noexcept = default;

void NetworkFileIndexer::line(std::string_view line, std::uint64_t offset, bool terminated) {
    State& state = *state_;
    if (state.rejected) {
        return;
    }
    State::Cut kind = State::Cut::Header;
    auto& lines = state.lines;
    state.rejected =
        !state.rules.line(line, 0, [&](std::string_view entry, std::size_t, std::size_t number) {
            kind = State::Cut::Other;
            if (!state.parser.parse_entry(entry, number, state.scratch)) {
                return;
            }
            kind = State::Cut::Entry;
            state.cut_addresses = state.scratch.ipv4.size() + state.scratch.ipv6.size();
            lines.line_begin_.push_back(static_cast<std::uint32_t>(offset));
            lines.line_number_.push_back(static_cast<std::uint32_t>(number));
            lines.line_hash_.push_back(NetworkFileLines::line_hash_of(entry));
            lines.address_count_ += state.cut_addresses;
        });
    if (line.empty()) {
        kind = State::Cut::Other;
    }
    state.cut = terminated ? State::Cut::None : kind;
}

void NetworkFileIndexer::drop_unterminated() {
    State& state = *state_;
    auto& lines = state.lines;
    switch (state.cut) {
    case State::Cut::Entry:
        lines.line_begin_.pop_back();
        lines.line_number_.pop_back();
        lines.line_hash_.pop_back();
        lines.address_count_ -= state.cut_addresses;
        break;
    case State::Cut::Header:
        state.rules.forget_header();
        lines.header_.bind_ips.clear();
        lines.header_.dns_servers.clear();
        break;
    case State::Cut::None:
    case State::Cut::Other:
        break;
    }
    state.cut = State::Cut::None;
}

NetworkFileLinesResult NetworkFileIndexer::finish(base::UniqueFd fd) {
    State& state = *state_;
    NetworkFileLinesResult result;
    const bool ok = !state.rejected && state.rules.finish();
    result.problems = std::move(state.problems.problems);
    if (!ok) {
        return result;
    }
    NetworkFileLines& lines = state.lines;
    lines.line_begin_.shrink_to_fit();
    lines.line_number_.shrink_to_fit();
    lines.line_hash_.shrink_to_fit();
    lines.fd_ = std::move(fd);
    result.file = std::move(lines);
    return result;
}

std::uint64_t NetworkFileLines::line_hash_of(std::string_view line) noexcept {
    return extend_text_hash(kTextHashSeed, line);
}

// The walks from the newest line to the oldest read the file back in 64 KiB windows that end a
// little after the line asked for, so the lines before it come with it; a line looked up aside
// (the stale rules re-reading a newer line) is read on its own, so the walk's window stays.
constexpr std::size_t kWalkWindow = std::size_t{64} * 1024;
constexpr std::size_t kWalkAhead = std::size_t{4} * 1024;
constexpr std::size_t kAsideWindow = 1024;

bool NetworkFileLines::Window::find(std::size_t line_begin, std::string_view& line) const {
    if (line_begin < begin || line_begin >= begin + bytes.size()) {
        return false;
    }
    const std::string_view held = std::string_view(bytes).substr(line_begin - begin);
    const std::size_t newline = held.find('\n');
    if (newline == std::string_view::npos && !at_end) {
        return false;
    }
    line = held.substr(0, newline);
    return true;
}

bool NetworkFileLines::read_back(std::uint32_t index, Read how, std::string_view& line) const {
    const std::size_t line_begin = line_begin_[index];
    Window& window = how == Read::InOrder ? walk_window_ : aside_window_;
    if (walk_window_.find(line_begin, line) || window.find(line_begin, line)) {
        return true;
    }
    const std::size_t behind = how == Read::InOrder ? kWalkWindow - kWalkAhead : 0;
    std::size_t want = how == Read::InOrder ? kWalkWindow : kAsideWindow;
    window.begin = line_begin > behind ? line_begin - behind : 0;
    for (;;) {
        window.bytes.resize(want);
        std::size_t got = 0;
        while (got < want) {
            const ssize_t n = ::pread(fd_.get(), &window.bytes[got], want - got,
                                      static_cast<off_t>(window.begin + got));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            got += static_cast<std::size_t>(n);
        }
        window.bytes.resize(got);
        window.at_end = got < want;
        if (window.find(line_begin, line)) {
            return true;
        }
        if (window.at_end) {
            return false; // the file is shorter than it was: it changed
        }
        // A line longer than the window: read from its start, twice as much.
        window.begin = line_begin;
        want = std::min<std::size_t>(want * 2, kMaxLineRead);
        if (want == kMaxLineRead && window.bytes.size() == want) {
            return false;
        }
    }
}

void NetworkFileLines::parse(std::uint32_t index, ContainerEntry& out, Read how) const {
    std::string_view line;
    if (fd_.valid()) {
        // Read back from the file: it must be the line that was indexed, or the file changed.
        if (!read_back(index, how, line) || line_hash_of(line) != line_hash_[index]) {
            changed_ = true;
            out = ContainerEntry();
            out.line = static_cast<int>(line_number_[index]);
            return;
        }
    } else {
        const std::string_view text = text_;
        const std::size_t begin = line_begin_[index];
        const std::size_t newline = text.find('\n', begin);
        line = text.substr(begin, newline == std::string_view::npos ? std::string_view::npos
                                                                    : newline - begin);
    }
    // Indexed lines parsed once already: no problem can come back.
    parse_entry_into(line, line_number_[index], out);
    if (header_.internal) {
        out.dns_servers.reset();
    }
}

} // namespace config
