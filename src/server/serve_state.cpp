#include "server/serve_state.hpp"

namespace server {

std::vector<upstream::Server> upstream_servers_for(const query::Verdict& verdict) {
    std::vector<upstream::Server> servers;
    if (verdict.source == query::UpstreamSource::Host) {
        return servers;
    }
    servers.reserve(verdict.servers.size());
    for (const base::IpAddress& address : verdict.servers) {
        servers.push_back(upstream::Server{address, 0, 53});
    }
    return servers;
}

} // namespace server
