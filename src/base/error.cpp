#include "base/error.hpp"

#include <array>
#include <cstring>

namespace base {

std::string strerror_text(int error_number) {
    std::array<char, 256> buffer{};
    // The GNU strerror_r may return a static string instead of filling the buffer.
    return ::strerror_r(error_number, buffer.data(), buffer.size());
}

std::string os_error_text(int error_number) {
    return fmt::format("{} (os error {})", strerror_text(error_number), error_number);
}

} // namespace base
