// Fuzz target for dns/: parse_query on arbitrary bytes, then the reply built from it. Checks the
// response invariants (size limit, ID, QR, question echo) and that the reply parses back.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/ip_address.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/response.hpp"

namespace {

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

base::IpAddress address_for(std::size_t index) {
    const auto byte = static_cast<std::uint8_t>(index);
    if (index % 3 == 2) {
        return base::IpAddress::v6({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte});
    }
    return base::IpAddress::v4({10, 0, 0, byte});
}

void check_formerr_reply(std::span<const std::uint8_t> request) {
    std::array<std::uint8_t, dns::kHeaderSize> out{};
    const std::size_t length = dns::build_header_only_reply(request, dns::Rcode::FormErr, out);
    check(length == dns::kHeaderSize);
    check(out[0] == request[0] && out[1] == request[1]);
    check((out[2] & 0x80) != 0);
    check((out[3] & 0x0f) == static_cast<std::uint8_t>(dns::Rcode::FormErr));
}

void check_reply(std::span<const std::uint8_t> request, const dns::Query& query) {
    std::array<char, dns::kMaxNameTextLength> text{};
    const auto qname = query.question.name.format_text(text, true);
    check(!qname.empty() && qname.back() == '.');

    std::array<std::uint8_t, dns::kMaxUdpPayload> out{};
    const std::size_t limit = query.udp_response_limit();
    check(limit >= dns::kMinUdpPayload && limit <= dns::kMaxUdpPayload);
    dns::ResponseBuilder builder(out, request, query, limit);
    // A few answers of every kind; the qname's first byte varies how many, so the truncation
    // path is reached too.
    const std::size_t count = query.question.name.wire()[0] % 64;
    for (std::size_t i = 0; i < count; ++i) {
        builder.add_address(address_for(i));
    }
    builder.add_ptr("atwo.");
    builder.add_ptr("bad..target");
    const std::size_t length = builder.finish();

    // The header and a question of at most 259 bytes always fit in 512.
    check(length >= dns::kHeaderSize + 5 && length <= limit);
    const auto reply = std::span<const std::uint8_t>(out).first(length);
    check(reply[0] == request[0] && reply[1] == request[1]);
    check((reply[2] & 0x80) != 0);
    check(reply[4] == 0 && reply[5] == 1);

    // With QR cleared, the reply is itself a query for the same question.
    std::array<std::uint8_t, dns::kMaxUdpPayload> again{};
    std::copy(reply.begin(), reply.end(), again.begin());
    again[2] = static_cast<std::uint8_t>(again[2] & 0x7f);
    dns::Query reparsed;
    check(dns::parse_query(std::span<const std::uint8_t>(again).first(length), reparsed) ==
          dns::ParseStatus::Ok);
    check(reparsed.header.id == query.header.id);
    check(reparsed.question.type == query.question.type);
    check(reparsed.question.klass == query.question.klass);
    const auto original = query.question.name.wire();
    const auto echoed = reparsed.question.name.wire();
    check(std::equal(original.begin(), original.end(), echoed.begin(), echoed.end()));
    check(reparsed.edns.has_value() == query.edns.has_value());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> request(data, size);
    dns::Query query;
    switch (dns::parse_query(request, query)) {
    case dns::ParseStatus::Ok:
        check_reply(request, query);
        break;
    case dns::ParseStatus::FormErr:
        check_formerr_reply(request);
        break;
    case dns::ParseStatus::Drop:
        check(size < dns::kHeaderSize || (data[2] & 0x80) != 0);
        break;
    }
    return 0;
}
