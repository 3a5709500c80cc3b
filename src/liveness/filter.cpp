#include "liveness/filter.hpp"

#include <algorithm>

namespace liveness {

std::size_t drop_dead(std::vector<base::IpAddress>& answer, const DeadSet* dead) {
    if (dead == nullptr || dead->empty() || answer.empty()) {
        return 0;
    }
    const auto is_dead = [dead](const base::IpAddress& address) {
        return dead->contains(address);
    };
    if (std::all_of(answer.begin(), answer.end(), is_dead)) {
        return 0;
    }
    const auto removed = std::remove_if(answer.begin(), answer.end(), is_dead);
    const auto count = static_cast<std::size_t>(answer.end() - removed);
    answer.erase(removed, answer.end());
    return count;
}

} // namespace liveness
