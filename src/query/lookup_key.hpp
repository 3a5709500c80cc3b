// query/: the key a name is looked up under in the record store. Depends on std only.
#pragma once

#include <string_view>

namespace query {

/// Contract §4.4 steps 1-3 on an already lowercased name: strip the search domain (compared
/// case-insensitively), then one trailing dot. A view into `lowered`.
std::string_view lookup_key(std::string_view lowered, std::string_view search_domain) noexcept;

} // namespace query
