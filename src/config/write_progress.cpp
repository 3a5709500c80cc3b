#include "config/write_progress.hpp"

#include <algorithm>
#include <functional>

namespace config {

const char* describe(WriteState state) noexcept {
    switch (state) {
    case WriteState::Complete:
        return "complete";
    case WriteState::Empty:
        return "empty";
    case WriteState::HeaderOnly:
        return "header only";
    case WriteState::Unterminated:
        return "last line without newline";
    case WriteState::LostLines:
        return "lines of the applied version missing";
    }
    return "unknown";
}

WriteState judge_write(std::string_view text, const LineDigest* applied, LineDigest& digest) {
    digest.entry_hashes.clear();
    bool have_header = false;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t newline = text.find('\n', start);
        const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        if (line.empty()) {
            continue;
        }
        if (!have_header) {
            have_header = true;
            continue;
        }
        digest.entry_hashes.push_back(std::hash<std::string_view>{}(line));
    }
    std::sort(digest.entry_hashes.begin(), digest.entry_hashes.end());
    if (!have_header) {
        return WriteState::Empty;
    }
    if (text.back() != '\n') {
        return WriteState::Unterminated;
    }
    if (digest.entry_hashes.empty()) {
        // Header-only stays as it is when that is what was applied (a network with no container
        // left in it); otherwise the entry lines are on their way.
        const bool was_header_only = applied != nullptr && applied->entry_hashes.empty();
        return was_header_only ? WriteState::Complete : WriteState::HeaderOnly;
    }
    if (applied != nullptr &&
        !std::includes(digest.entry_hashes.begin(), digest.entry_hashes.end(),
                       applied->entry_hashes.begin(), applied->entry_hashes.end())) {
        return WriteState::LostLines;
    }
    return WriteState::Complete;
}

void extend_digest(LineDigest& digest, std::string_view entry_lines) {
    auto& hashes = digest.entry_hashes;
    const auto old_size = static_cast<std::ptrdiff_t>(hashes.size());
    std::size_t start = 0;
    while (start < entry_lines.size()) {
        const std::size_t newline = entry_lines.find('\n', start);
        const std::size_t end = newline == std::string_view::npos ? entry_lines.size() : newline;
        const std::string_view line = entry_lines.substr(start, end - start);
        start = end + 1;
        if (!line.empty()) {
            hashes.push_back(std::hash<std::string_view>{}(line));
        }
    }
    std::sort(hashes.begin() + old_size, hashes.end());
    std::inplace_merge(hashes.begin(), hashes.begin() + old_size, hashes.end());
}

std::uint64_t extend_text_hash(std::uint64_t hash, std::string_view bytes) noexcept {
    for (const char c : bytes) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

std::string_view complete_lines(std::string_view text) noexcept {
    const std::size_t last_newline = text.rfind('\n');
    return last_newline == std::string_view::npos ? std::string_view()
                                                  : text.substr(0, last_newline + 1);
}

} // namespace config
