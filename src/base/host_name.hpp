// base/: the plain host name rule, a property of a name's text alone. Depends on nothing but std:
// the network tables decide it once per name when they load, so no answer walks a name for it.
#pragma once

#include <cstddef>
#include <string_view>

namespace base {

/// The longest label a DNS name may hold (RFC 1035 §2.3.4).
inline constexpr std::size_t kMaxHostLabel = 63;

/// True for a name of labels of ASCII letters, digits, '-' and '_', each 1 to 63 bytes long and
/// not starting with '-', joined by single dots with none at either end; and for the empty name
/// (the root, which `a,,b` in a network file gives). Only such names are PTR targets (contract §4.5
/// step 6).
constexpr bool is_plain_host_name(std::string_view name) noexcept {
    if (name.empty()) {
        return true;
    }
    std::size_t label_size = 0;
    for (const char c : name) {
        if (c == '.') {
            if (label_size == 0) {
                return false;
            }
            label_size = 0;
            continue;
        }
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '_' || (c == '-' && label_size > 0);
        if (!plain || ++label_size > kMaxHostLabel) {
            return false;
        }
    }
    return label_size > 0;
}

} // namespace base
