// Fuzz target: config::parse_resolv_conf on arbitrary bytes, with an interface lookup that
// never touches the system (the fuzzer must not depend on the host's interfaces).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "config/resolv_conf.hpp"

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

std::optional<std::uint32_t> fake_interfaces(std::string_view name) {
    if (name == "eth0") {
        return 2;
    }
    if (name == "lo") {
        return 1;
    }
    return std::nullopt;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const config::ResolvConfResult result = config::parse_resolv_conf(text, fake_interfaces);
    require(result.servers.size() <= 3);
    if (result.error) {
        require(!result.error->empty());
        require(result.servers.empty());
    }
    for (const base::Nameserver& server : result.servers) {
        // A zone is only ever accepted on IPv6.
        require(server.address.is_v6() || server.scope_id == 0);
    }
    return 0;
}
