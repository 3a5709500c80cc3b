// Test support for records/: network files written as netavark writes them, parsed by config/.
#pragma once

#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/ip_address.hpp"
#include "config/network_file.hpp"

namespace base {

// Readable failure messages for address comparisons (found by ADL).
inline void PrintTo(const IpAddress& address, std::ostream* out) {
    *out << address.to_string();
}

} // namespace base

namespace records_test {

/// Parses `text` as the file `file_name` (which may end in %int); a parse problem fails the test.
inline config::NetworkFile network_file(std::string_view file_name, std::string_view text) {
    auto result =
        config::parse_network_file(file_name, std::string("/run/test/") += file_name, text);
    for (const auto& problem : result.problems) {
        ADD_FAILURE() << problem.to_string();
    }
    if (!result.file) {
        ADD_FAILURE() << "file " << file_name << " rejected";
        return {};
    }
    return std::move(*result.file);
}

inline base::IpAddress ip(std::string_view text) {
    const auto address = base::IpAddress::parse(text);
    if (!address) {
        ADD_FAILURE() << "bad address in test: " << text;
        return {};
    }
    return *address;
}

inline std::vector<base::IpAddress> ips(std::initializer_list<std::string_view> texts) {
    std::vector<base::IpAddress> out;
    for (const auto text : texts) {
        out.push_back(ip(text));
    }
    return out;
}

} // namespace records_test
