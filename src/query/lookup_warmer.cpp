#include "query/lookup_warmer.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

#include "dns/name.hpp"
#include "dns/types.hpp"
#include "query/lookup_key.hpp"
#include "query/reverse_name.hpp"

namespace query {

void LookupWarmer::note(std::span<const std::uint8_t> request, const Client& client,
                        const records::RecordStore& store, const Settings& settings) noexcept {
    kind_ = Kind::Nothing;
    try {
        note_lookup(request, client, store, settings);
    } catch (...) {
        // Only networks_of's first use allocates; without a note the query is answered cold.
        kind_ = Kind::Nothing;
    }
}

namespace {

struct PlainQuestion {
    std::span<const std::uint8_t> name; // wire form, root label included
    std::uint16_t type = 0;
};

// The question's name as it stands in the request, and its type, when the name is not
// compressed (a first name never needs to be). Cheaper than dns::Name::read, which handle()
// still runs with every check.
std::optional<PlainQuestion> plain_question(std::span<const std::uint8_t> request) noexcept {
    std::size_t at = dns::kHeaderSize;
    while (at < request.size() && request[at] != 0) {
        if (request[at] > dns::kMaxLabelLength) {
            return std::nullopt; // a pointer, or a reserved label type
        }
        at += 1 + std::size_t{request[at]};
        if (at - dns::kHeaderSize >= dns::kMaxNameWireLength) {
            return std::nullopt;
        }
    }
    const std::size_t end = at + 1;
    if (end + 2 > request.size()) {
        return std::nullopt;
    }
    return PlainQuestion{request.subspan(dns::kHeaderSize, end - dns::kHeaderSize),
                         static_cast<std::uint16_t>((request[end] << 8) | request[end + 1])};
}

// A byte dns::Name::format_text keeps as it is (a letter, lowercased here); anything else it
// would escape, and such a name is left unwarmed.
std::optional<char> plain_text_byte(std::uint8_t byte, bool first_in_label) noexcept {
    const auto c = static_cast<char>(byte);
    if (c >= 'A' && c <= 'Z') {
        return static_cast<char>(c - 'A' + 'a');
    }
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
        (c == '-' && !first_in_label) || (c == '*' && first_in_label)) {
        return c;
    }
    return std::nullopt;
}

} // namespace

void LookupWarmer::note_lookup(std::span<const std::uint8_t> request, const Client& client,
                               const records::RecordStore& store, const Settings& settings) {
    // Only the question is read, and only a plain one; handle() still checks everything. A
    // request it will refuse costs a wasted warm-up at worst.
    const auto question = plain_question(request);
    if (!question) {
        return;
    }
    auto networks = store.networks_of(client.source);
    if (question->type == static_cast<std::uint16_t>(dns::RecordType::Ptr)) {
        const auto address = canonical_reverse_address(question->name);
        if (!address || networks.empty()) {
            return;
        }
        address_ = *address;
        hash_ = address_.hash();
        kind_ = Kind::Address;
    } else {
        // The name's text as handle() looks it up: lowercased, labels joined by dots, with the
        // trailing dot, then the search domain and that dot taken off.
        std::size_t size = 0;
        const auto wire = question->name;
        for (std::size_t at = 0; wire[at] != 0; at += 1 + std::size_t{wire[at]}) {
            for (std::size_t k = 1; k <= wire[at]; ++k) {
                const auto c = plain_text_byte(wire[at + k], k == 1);
                if (!c || size + 2 > key_.size()) {
                    return;
                }
                key_.at(size++) = *c;
            }
            key_.at(size++) = '.';
        }
        if (size == 0) {
            key_.at(size++) = '.'; // the root
        }
        const auto key = lookup_key(std::string_view(key_.data(), size), settings.search_domain);
        key_size_ = key.size();
        hash_ = records::NetworkTable::name_hash(key);
        if (networks.empty()) {
            networks = std::span<const records::NetworkId>(&client.listener_network, 1);
        }
        kind_ = Kind::Name;
    }
    network_count_ = std::min(networks.size(), kMaxNetworks);
    networks_complete_ = network_count_ == networks.size();
    std::copy_n(networks.begin(), network_count_, networks_.begin());
    // Step 0 at once: the notes of the rest of the batch give its load time to arrive.
    warm(store, 0);
}

void LookupWarmer::warm(const records::RecordStore& store, unsigned step) const noexcept {
    switch (kind_) {
    case Kind::Nothing:
        return;
    case Kind::Name:
        store.warm_name(networks(), std::string_view(key_.data(), key_size_), hash_, step);
        return;
    case Kind::Address:
        store.warm_address(networks(), hash_, step);
        return;
    }
}

std::optional<KnownLookup> LookupWarmer::known() const noexcept {
    if (kind_ == Kind::Nothing || !networks_complete_) {
        return std::nullopt;
    }
    KnownLookup lookup{networks(), std::nullopt, std::nullopt};
    if (kind_ == Kind::Name) {
        lookup.name_key = std::string_view(key_.data(), key_size_);
    } else {
        lookup.reverse = address_;
    }
    return lookup;
}

std::optional<std::string_view> LookupWarmer::noted_name() const noexcept {
    if (kind_ != Kind::Name) {
        return std::nullopt;
    }
    return std::string_view(key_.data(), key_size_);
}

std::optional<base::IpAddress> LookupWarmer::noted_address() const noexcept {
    if (kind_ != Kind::Address) {
        return std::nullopt;
    }
    return address_;
}

} // namespace query
