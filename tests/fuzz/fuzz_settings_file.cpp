// Fuzz target: config::parse_settings_file on arbitrary bytes. Besides not crashing, every value
// it accepts must be inside its documented bounds and every problem must point at a real line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/settings_file.hpp"

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

void require_within(const std::optional<std::uint64_t>& value, std::uint64_t min,
                    std::uint64_t max) {
    require(!value || (*value >= min && *value <= max));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const config::SettingsFileResult result = config::parse_settings_file("fuzz.conf", text);
    const config::SettingsValues& values = result.values;
    require_within(values.cache_max_entries, 1, 10'000'000);
    require_within(values.cache_max_bytes, 64 * 1024, std::uint64_t{16} << 30U);
    require_within(values.cache_max_ttl, 1, 7 * 24 * 3600);
    require_within(values.max_tcp_connections, 1, 1'000'000);
    require_within(values.max_udp_forwards, 1, 1'000'000);
    require_within(values.tcp_idle_timeout_ms, 100, 3'600'000);
    require_within(values.max_forwards_in_flight, 1, 1'000'000);
    require_within(values.health_probe_timeout_ms, 1000, 3'600'000);
    require_within(values.health_max_tracked, 1, 1'000'000);
    std::size_t lines = 1;
    for (const char c : text) {
        lines += c == '\n' ? 1 : 0;
    }
    for (const config::Problem& problem : result.problems) {
        require(problem.line >= 1 && static_cast<std::size_t>(problem.line) <= lines);
        require(!problem.message.empty());
        // Messages quote input only as printable ASCII, so a log line stays one line.
        for (const char c : problem.message) {
            require(c >= 0x20 && c < 0x7f);
        }
    }
    // Layering is idempotent: laying the values over themselves changes nothing.
    config::SettingsValues again = values;
    again.overlay(values);
    require(again == values);
    return 0;
}
