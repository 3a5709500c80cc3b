// Fuzz target: the dns/response_scan functions the forwarder and its cache apply to upstream
// answers. The whole input is a response; when it parses as a message its own header and first
// question also stand in for the query it is checked against. Besides "no crash", it checks the
// invariants the cache relies on.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "dns/response_scan.hpp"
#include "dns/types.hpp"

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

void check_scan(std::span<const std::uint8_t> message) {
    std::vector<std::uint16_t> offsets(dns::max_record_count(message.size()));
    dns::MessageScan scan;
    if (!dns::scan_message(message, scan, offsets)) {
        return;
    }
    require(scan.question_end <= message.size());
    require(scan.ttl_count <= offsets.size());
    offsets.resize(scan.ttl_count);
    for (const std::uint16_t offset : offsets) {
        require(std::size_t{offset} + 4 <= message.size());
        require(offset >= dns::kHeaderSize);
    }
    require(scan.min_ttl.has_value() == (scan.ttl_count > 0));
    if (scan.min_ttl) {
        require(*scan.min_ttl <= 0x7fffffffU);
    }
    if (scan.negative_ttl && scan.min_ttl) {
        require(*scan.negative_ttl <= 0x7fffffffU);
    }

    std::vector<std::uint8_t> aged(message.begin(), message.end());
    dns::age_ttls(aged, offsets, 0);
    dns::age_ttls(aged, offsets, 100);
    dns::set_recursion_available(aged);
    require(aged.size() == message.size());

    if (scan.edns) {
        require(scan.edns->options_offset + scan.edns->options_length <= message.size());
        std::vector<std::uint8_t> stripped(message.size());
        const std::size_t size =
            dns::copy_without_edns_option(message, scan, dns::kEdnsOptionCookie, stripped);
        require(size <= message.size());
        if (size != 0 && scan.complete) {
            // The stripped copy is scanned again before the cache keeps it. It need not scan
            // like the original: a compression pointer may lead a name through the OPT bytes
            // that were just removed (corpus: crash-opt-pointer-through-cookie). The cache then
            // declines to store it; here it must only be read safely.
            stripped.resize(size);
            dns::MessageScan rescanned;
            if (dns::scan_message(stripped, rescanned)) {
                require(rescanned.question_end <= stripped.size());
            }
        }
    }

    // Checked against itself (check_response ignores the query's QR bit): a complete response
    // with a question always matches its own question section; a message with QR=0, or a reply
    // with no question at all (it cannot be matched to the query), is never accepted.
    const dns::ResponseCheck verdict = dns::check_response(message, message);
    if (!scan.header.is_response() || scan.header.qdcount == 0) {
        require(verdict == dns::ResponseCheck::Reject);
    } else if (scan.complete && scan.header.qdcount <= 32) {
        require(verdict == dns::ResponseCheck::Accept);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    check_scan(input);
    // Split form: the first two bytes give the query length, the rest is query then response.
    if (size >= 2) {
        const std::size_t query_size =
            std::min<std::size_t>((std::size_t{data[0]} << 8) | data[1], size - 2);
        const auto query = input.subspan(2, query_size);
        const auto response = input.subspan(2 + query_size);
        const dns::ResponseCheck verdict = dns::check_response(query, response);
        if (response.size() < dns::kHeaderSize) {
            require(verdict == dns::ResponseCheck::Reject);
        }
    }
    return 0;
}
