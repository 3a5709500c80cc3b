// Fuzz target: config::parse_network_file on arbitrary bytes, as a normal and as a `%int` file.
// Besides "no crash", it checks the invariants the records layer relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/network_file.hpp"

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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check(config::parse_network_file("podman", "/fuzz/podman", text), text, false);
    check(config::parse_network_file("podman%int", "/fuzz/podman%int", text), text, true);
    return 0;
}
