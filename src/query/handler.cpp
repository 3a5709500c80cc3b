#include "query/handler.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include "dns/name.hpp"
#include "dns/response.hpp"
#include "dns/types.hpp"
#include "liveness/filter.hpp"
#include "query/lookup_key.hpp"
#include "query/reverse_name.hpp"

namespace query {

namespace {

using NameText = std::array<char, dns::kMaxNameTextLength>;

// The largest reply this transport carries (RFC 1035 §4.2.1 and RFC 6891 for UDP, the
// 2-byte length prefix for TCP), never more than the caller's buffer.
std::size_t size_limit(const dns::Query& query, dns::Transport transport,
                       std::span<const std::uint8_t> out) noexcept {
    const std::size_t limit =
        transport == dns::Transport::Udp ? query.udp_response_limit() : dns::kMaxMessageSize;
    return std::min(limit, out.size());
}

class Decision {
public:
    // qname_buffer_ is left uninitialised on purpose: zeroing it would cost every query.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
    Decision(std::span<const std::uint8_t> request, const Client& client,
             const records::RecordStore& store, const Settings& settings,
             std::span<std::uint8_t> out, Verdict& verdict, const KnownLookup* known) noexcept
        : request_(request)
        , client_(client)
        , store_(store)
        , settings_(settings)
        , out_(out)
        , verdict_(verdict)
        , known_(known) {}

    void run() {
        const dns::Query& query = verdict_.query;
        switch (dns::parse_query(request_, verdict_.query)) {
        case dns::ParseStatus::Drop:
            return;
        case dns::ParseStatus::FormErr:
            reply_header_only(dns::Rcode::FormErr);
            return;
        case dns::ParseStatus::Ok:
            verdict_.parsed = true;
            break;
        }
        // RFC 6891 §6.1.3: a version we do not implement gets BADVERS, answered here for
        // forwarded names too (an upstream's EDNS version is not ours to promise).
        if (query.edns && query.edns->version > dns::kEdnsVersion) {
            reply(dns::Rcode::BadVers);
            return;
        }
        if (query.header.opcode() != dns::Opcode::Query) {
            reply(dns::Rcode::NotImp);
            return;
        }
        const auto qtype = static_cast<dns::RecordType>(query.question.type);
        if (qtype == dns::RecordType::Ptr && answer_ptr()) {
            return;
        }
        if ((qtype == dns::RecordType::A || qtype == dns::RecordType::Aaaa) &&
            answer_address(qtype)) {
            return;
        }
        if (qtype != dns::RecordType::A && qtype != dns::RecordType::Aaaa &&
            qtype != dns::RecordType::Ptr && answer_no_data()) {
            return;
        }
        not_answered_locally();
    }

    void fail() noexcept {
        verdict_.servers.clear();
        reply_header_only(dns::Rcode::ServFail);
    }

private:
    std::string_view qname_text() noexcept {
        if (!qname_text_) {
            qname_text_ = verdict_.query.question.name.format_text(qname_buffer_, false);
        }
        return *qname_text_;
    }

    void finish_reply(std::size_t size) noexcept {
        verdict_.reply_size = size;
        verdict_.action = size == 0 ? Verdict::Action::Drop : Verdict::Action::Reply;
    }

    void reply_header_only(dns::Rcode rcode) noexcept {
        finish_reply(dns::build_header_only_reply(request_, rcode, out_));
    }

    void reply(dns::Rcode rcode) noexcept {
        dns::ResponseBuilder builder(out_, request_, verdict_.query,
                                     size_limit(verdict_.query, client_.transport, out_));
        builder.set_rcode(rcode);
        finish_reply(builder.finish());
    }

    // Contract §4.5. Only known containers get local PTR answers; the first of their networks
    // that knows the address answers.
    bool answer_ptr() noexcept {
        std::optional<base::IpAddress> address;
        std::span<const records::NetworkId> networks;
        if (known_ != nullptr && known_->reverse) {
            address = known_->reverse;
            networks = known_->networks;
        } else {
            address = reverse_address(verdict_.query.question.name);
            if (!address) {
                return false;
            }
            networks = store_.networks_of(client_.source);
            if (networks.empty()) {
                return false;
            }
        }
        // Kept per thread so its capacity survives between queries: no steady-state allocation.
        thread_local std::vector<std::string_view> names;
        // Step 6: aardvark skips PTR targets that are not plain ASCII host names; an empty name
        // (from `a,,b`) is the root. The tables know which names are, since they were built.
        if (!store_.names_for(networks, *address, names, records::NameFilter::PlainHostNames)) {
            return false;
        }
        dns::ResponseBuilder builder(out_, request_, verdict_.query,
                                     size_limit(verdict_.query, client_.transport, out_));
        builder.set_rcode(dns::Rcode::NoError);
        for (const std::string_view name : names) {
            builder.add_ptr(name);
        }
        finish_reply(builder.finish());
        return true;
    }

    // Every address of the asked name in the requester's networks (the listener's network for
    // an unknown source), into `addresses`; false when no container holds the name.
    bool lookup_asked_name(std::vector<base::IpAddress>& addresses) {
        if (known_ != nullptr && known_->name_key) {
            return store_.lookup_name(known_->networks, *known_->name_key, addresses);
        }
        NameText lowered_buffer;
        const auto lowered = verdict_.query.question.name.format_text(lowered_buffer, true);
        const auto key = lookup_key(lowered, settings_.search_domain);
        auto networks = store_.networks_of(client_.source);
        if (networks.empty()) {
            networks = std::span<const records::NetworkId>(&client_.listener_network, 1);
        }
        return store_.lookup_name(networks, key, addresses);
    }

    // Contract §4.4. A known name answers even with no address of the asked family (NODATA).
    bool answer_address(dns::RecordType qtype) {
        // Kept per thread so its capacity survives between queries: no steady-state allocation.
        thread_local std::vector<base::IpAddress> addresses;
        if (!lookup_asked_name(addresses)) {
            return false;
        }
        dns::ResponseBuilder builder(out_, request_, verdict_.query,
                                     size_limit(verdict_.query, client_.transport, out_));
        builder.set_rcode(dns::Rcode::NoError);
        const bool want_v4 = qtype == dns::RecordType::A;
        std::erase_if(addresses, [want_v4](const base::IpAddress& address) {
            return address.is_v4() != want_v4;
        });
        liveness::drop_dead(addresses, settings_.dead_addresses.get());
        for (const auto& address : addresses) {
            builder.add_address(address);
        }
        finish_reply(builder.finish());
        return true;
    }

    // Any other type (MX, TXT, SRV, ANY...) of a name a container holds: NOERROR with no
    // records, as A/AAAA get for a missing family. NXDOMAIN would tell the client the name does
    // not exist at all and poison its cache for A too (aardvark#679); Docker answers NODATA.
    bool answer_no_data() {
        thread_local std::vector<base::IpAddress> addresses;
        if (!lookup_asked_name(addresses)) {
            return false;
        }
        reply(dns::Rcode::NoError);
        return true;
    }

    // Contract §4.3 tail and §5.2.
    void not_answered_locally() {
        const auto& source = client_.source;
        if (settings_.no_proxy || store_.is_internal_only(source) ||
            qname_text().ends_with(settings_.search_domain)) {
            reply(dns::Rcode::NxDomain);
            return;
        }
        if (!settings_.forwarding_enabled) {
            reply(dns::Rcode::Refused);
            return;
        }
        verdict_.action = Verdict::Action::Forward;
        if (const auto own = store_.container_dns_servers(source); !own.empty()) {
            verdict_.source = UpstreamSource::Container;
            verdict_.servers.clear();
            for (const base::IpAddress& address : own) {
                verdict_.servers.push_back(base::Nameserver{address});
            }
            return;
        }
        store_.network_dns_servers(store_.networks_of(source), verdict_.servers);
        verdict_.source = verdict_.servers.empty() ? UpstreamSource::Host : UpstreamSource::Network;
    }

    std::span<const std::uint8_t> request_;
    const Client& client_;
    const records::RecordStore& store_;
    const Settings& settings_;
    std::span<std::uint8_t> out_;
    Verdict& verdict_;
    const KnownLookup* known_;
    NameText qname_buffer_; // written by format_text before any read
    // The question's presentation form as asked, inside qname_buffer_: formatted on first use,
    // since names answered locally are looked up without it.
    std::optional<std::string_view> qname_text_;
};

} // namespace

void handle(std::span<const std::uint8_t> request, const Client& client,
            const records::RecordStore& store, const Settings& settings,
            std::span<std::uint8_t> out, Verdict& verdict, const KnownLookup* known) noexcept {
    verdict.action = Verdict::Action::Drop;
    verdict.reply_size = 0;
    verdict.parsed = false;
    verdict.source = UpstreamSource::Host;
    verdict.servers.clear();
    Decision decision(request, client, store, settings, out, verdict, known);
    try {
        decision.run();
    } catch (...) {
        // Only allocation can throw here (a first-use scratch vector or the server list);
        // answer SERVFAIL rather than take the listener down.
        decision.fail();
    }
}

} // namespace query
