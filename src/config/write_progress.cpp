#include "config/write_progress.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <utility>

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

std::uint64_t line_hash(std::string_view line) noexcept {
    return std::hash<std::string_view>{}(line);
}

void WriteJudge::line(std::string_view line) {
    if (line.empty()) {
        return;
    }
    if (!have_header_) {
        have_header_ = true;
        return;
    }
    digest_.entry_hashes.push_back(line_hash(line));
}

WriteState WriteJudge::finish(bool ends_with_newline, const LineDigest* applied) {
    auto& hashes = digest_.entry_hashes;
    std::sort(hashes.begin(), hashes.end());
    if (!have_header_) {
        return WriteState::Empty;
    }
    if (!ends_with_newline) {
        return WriteState::Unterminated;
    }
    if (hashes.empty()) {
        // Header-only stays as it is when that is what was applied (a network with no container
        // left in it); otherwise the entry lines are on their way.
        const bool was_header_only = applied != nullptr && applied->entry_hashes.empty();
        return was_header_only ? WriteState::Complete : WriteState::HeaderOnly;
    }
    if (applied != nullptr &&
        !std::includes(hashes.begin(), hashes.end(), applied->entry_hashes.begin(),
                       applied->entry_hashes.end())) {
        return WriteState::LostLines;
    }
    return WriteState::Complete;
}

WriteState judge_write(std::string_view text, const LineDigest* applied, LineDigest& digest) {
    WriteJudge judge;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t newline = text.find('\n', start);
        const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
        judge.line(text.substr(start, end - start));
        start = end + 1;
    }
    const WriteState state = judge.finish(!text.empty() && text.back() == '\n', applied);
    digest = std::move(judge.digest());
    return state;
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
            hashes.push_back(line_hash(line));
        }
    }
    std::sort(hashes.begin() + old_size, hashes.end());
    std::inplace_merge(hashes.begin(), hashes.begin() + old_size, hashes.end());
}

namespace {

// The polynomial's base: odd (so no byte's weight is ever 0 mod 2^64) and dense in bits.
constexpr std::uint64_t kTextHashBase = 0x9e3779b97f4a7c15ULL;

constexpr std::array<std::uint64_t, 9> text_hash_powers() {
    std::array<std::uint64_t, 9> powers{};
    powers[0] = 1;
    for (std::size_t i = 1; i < powers.size(); ++i) {
        powers[i] = powers[i - 1] * kTextHashBase;
    }
    return powers;
}

constexpr std::array<std::uint64_t, 9> kTextHashPowers = text_hash_powers();

} // namespace

std::uint64_t extend_text_hash(std::uint64_t hash, std::string_view bytes) noexcept {
    // hash * B^n + sum(byte_i * B^(n-1-i)) mod 2^64, eight bytes at a time: the eight
    // products are independent, so this runs near a byte per cycle where a byte-serial hash
    // (FNV) waits on a multiply per byte. Any split of the bytes gives the same value.
    std::size_t at = 0;
    constexpr std::size_t kBlock = 8;
    const auto byte = [&](std::size_t index) {
        return static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[index]));
    };
    for (; at + kBlock <= bytes.size(); at += kBlock) {
        std::uint64_t block = 0;
        for (std::size_t k = 0; k < kBlock; ++k) {
            block += byte(at + k) * kTextHashPowers[kBlock - 1 - k];
        }
        hash = hash * kTextHashPowers[kBlock] + block;
    }
    for (; at < bytes.size(); ++at) {
        hash = hash * kTextHashBase + byte(at);
    }
    return hash;
}

std::string_view complete_lines(std::string_view text) noexcept {
    const std::size_t last_newline = text.rfind('\n');
    return last_newline == std::string_view::npos ? std::string_view()
                                                  : text.substr(0, last_newline + 1);
}

} // namespace config
