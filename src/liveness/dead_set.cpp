#include "liveness/dead_set.hpp"

#include <algorithm>
#include <utility>

namespace liveness {

DeadSet::DeadSet(std::vector<base::IpAddress> addresses)
    : addresses_(std::move(addresses)) {
    std::sort(addresses_.begin(), addresses_.end());
    addresses_.erase(std::unique(addresses_.begin(), addresses_.end()), addresses_.end());
}

bool DeadSet::contains(const base::IpAddress& address) const noexcept {
    return std::binary_search(addresses_.begin(), addresses_.end(), address);
}

} // namespace liveness
