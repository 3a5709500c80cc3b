// Fuzz target: config::parse_network_file on arbitrary bytes, as a normal and as a `%int` file.
// Besides "no crash", it checks the invariants the records layer relies on, and that the
// daemon's line-by-line path (config::index_network_file, then records::NetworkTable::build over
// the text) gives exactly what the parsed path gives: the same entries, problems, findings,
// names and answers.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/network_file.hpp"
#include "records/network_table.hpp"

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

bool has_ascii_upper(std::string_view text) {
    for (const char c : text) {
        if (c >= 'A' && c <= 'Z') {
            return true;
        }
    }
    return false;
}

void check(const config::NetworkFileResult& result, std::string_view text, bool internal) {
    for (const config::Problem& problem : result.problems) {
        require(problem.line >= 0);
        require(!problem.message.empty());
        require(problem.message.find('\n') == std::string::npos);
        require(problem.message.find('\r') == std::string::npos);
    }
    if (!result.file) {
        require(!result.problems.empty());
        return;
    }
    const config::NetworkFile& file = *result.file;
    require(file.internal == internal);
    require(!file.bind_ips.empty());
    if (internal) {
        require(file.dns_servers.empty());
    }
    int previous_line = 1; // the header is at line 1 or later; entries come after it
    for (const config::ContainerEntry& entry : file.entries) {
        require(entry.line > previous_line);
        previous_line = entry.line;
        require(!has_ascii_upper(entry.id));
        require(!entry.names.empty());
        for (const auto& name : entry.names) {
            require(!has_ascii_upper(name));
            require(name.find(',') == std::string::npos);
            require(name.find(' ') == std::string::npos);
            require(name.find('\n') == std::string::npos);
        }
        for (const auto& address : entry.ipv4) {
            require(address.is_v4());
        }
        for (const auto& address : entry.ipv6) {
            require(address.is_v6());
        }
        if (internal) {
            require(!entry.dns_servers.has_value());
        } else if (entry.dns_servers) {
            require(!entry.dns_servers->empty());
        }
    }
    // Every entry and every problem comes from a distinct non-empty line.
    std::size_t lines = 1;
    for (const char c : text) {
        lines += c == '\n' ? 1 : 0;
    }
    require(file.entries.size() + result.problems.size() <= lines);
}

bool same_entry(const config::ContainerEntry& a, const config::ContainerEntry& b) {
    return a.id == b.id && a.ipv4 == b.ipv4 && a.ipv6 == b.ipv6 && a.names == b.names &&
           a.dns_servers == b.dns_servers && a.line == b.line;
}

std::vector<std::string> names_of(const records::NetworkTable& table) {
    std::vector<std::string> names;
    table.for_each_name([&](std::string_view name) { names.emplace_back(name); });
    return names;
}

void check_line_by_line(const config::NetworkFileResult& parsed, std::string_view file_name,
                        std::string_view text) {
    const config::NetworkFileLinesResult indexed =
        config::index_network_file(file_name, "/fuzz/podman", std::string(text));
    require(indexed.problems.size() == parsed.problems.size());
    for (std::size_t i = 0; i < parsed.problems.size(); ++i) {
        require(indexed.problems[i].to_string() == parsed.problems[i].to_string());
    }
    require(indexed.file.has_value() == parsed.file.has_value());
    if (!parsed.file) {
        return;
    }
    const config::NetworkFile& file = *parsed.file;
    const config::NetworkFileLines& lines = *indexed.file;
    require(lines.header().bind_ips == file.bind_ips);
    require(lines.header().dns_servers == file.dns_servers);
    require(lines.header().internal == file.internal && lines.header().name == file.name);
    require(lines.size() == file.entries.size());
    // One scratch object for every line, as the daemon parses: no field may leak between lines.
    config::ContainerEntry scratch;
    for (std::uint32_t i = lines.size(); i-- > 0;) {
        lines.parse(i, scratch);
        require(same_entry(scratch, file.entries[i]));
    }

    const std::array parsed_files{&file};
    const std::array text_files{&lines};
    const auto from_entries = records::NetworkTable::build(parsed_files);
    const auto from_text = records::NetworkTable::build(text_files);
    const auto a = from_entries->findings();
    const auto b = from_text->findings();
    require(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        require(a[i].line == b[i].line && a[i].status == b[i].status &&
                a[i].container_id == b[i].container_id && a[i].newer_id == b[i].newer_id &&
                a[i].reason == b[i].reason && a[i].shadowed_names == b[i].shadowed_names &&
                a[i].removable == b[i].removable);
    }
    const std::vector<std::string> names = names_of(*from_entries);
    require(names == names_of(*from_text));
    std::vector<base::IpAddress> expected;
    std::vector<base::IpAddress> got;
    for (const std::string& name : names) {
        expected.clear();
        got.clear();
        from_entries->append_addresses(name, 0, expected);
        from_text->append_addresses(name, 0, got);
        require(expected == got);
    }
    require(from_entries->entry_count() == from_text->entry_count());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto normal = config::parse_network_file("podman", "/fuzz/podman", text);
    check(normal, text, false);
    check_line_by_line(normal, "podman", text);
    const auto internal = config::parse_network_file("podman%int", "/fuzz/podman", text);
    check(internal, text, true);
    check_line_by_line(internal, "podman%int", text);
    return 0;
}
