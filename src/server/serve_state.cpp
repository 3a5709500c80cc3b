#include "server/serve_state.hpp"

namespace server {

bool ServeState::try_admit(Admission kind, const base::IpAddress& client) noexcept {
    switch (kind) {
    case Admission::TcpConnection:
        if (clients_.held(client, ClientResource::TcpConnection) >=
            limits_.max_tcp_connections_per_client) {
            ++shed_tcp_per_client;
            return false;
        }
        if (tcp_connections >= limits_.max_tcp_connections ||
            !clients_.try_acquire(client, ClientResource::TcpConnection,
                                  limits_.max_tcp_connections_per_client)) {
            ++shed_tcp_global;
            return false;
        }
        ++tcp_connections;
        return true;
    case Admission::UdpForward:
    case Admission::TcpForward:
        if (clients_.held(client, ClientResource::Forward) >= limits_.max_forwards_per_client) {
            ++shed_forward_per_client;
            return false;
        }
        if ((kind == Admission::UdpForward && udp_forwards >= limits_.max_udp_forwards) ||
            !clients_.try_acquire(client, ClientResource::Forward,
                                  limits_.max_forwards_per_client)) {
            ++shed_forward_global;
            return false;
        }
        if (kind == Admission::UdpForward) {
            ++udp_forwards;
        }
        return true;
    }
    return false;
}

void ServeState::release(Admission kind, const base::IpAddress& client) noexcept {
    switch (kind) {
    case Admission::TcpConnection:
        --tcp_connections;
        clients_.release(client, ClientResource::TcpConnection);
        return;
    case Admission::UdpForward:
        --udp_forwards;
        clients_.release(client, ClientResource::Forward);
        return;
    case Admission::TcpForward:
        clients_.release(client, ClientResource::Forward);
        return;
    }
}

std::vector<base::Nameserver> upstream_servers_for(const query::Verdict& verdict) {
    if (verdict.source == query::UpstreamSource::Host) {
        return {};
    }
    return verdict.servers;
}

} // namespace server
