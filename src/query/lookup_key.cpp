#include "query/lookup_key.hpp"

#include <algorithm>

#include "base/ascii.hpp"

namespace query {

namespace {

bool ends_with_ignoring_case(std::string_view text, std::string_view suffix) noexcept {
    if (suffix.size() > text.size()) {
        return false;
    }
    const auto tail = text.substr(text.size() - suffix.size());
    return std::equal(tail.begin(), tail.end(), suffix.begin(), suffix.end(),
                      [](char a, char b) { return base::ascii_lower(a) == base::ascii_lower(b); });
}

} // namespace

std::string_view lookup_key(std::string_view lowered, std::string_view search_domain) noexcept {
    if (ends_with_ignoring_case(lowered, search_domain)) {
        lowered.remove_suffix(search_domain.size());
    }
    if (lowered.ends_with('.')) {
        lowered.remove_suffix(1);
    }
    return lowered;
}

} // namespace query
