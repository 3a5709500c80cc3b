// config/: tells a network file that netavark is still writing from a finished one, from its
// text alone. Pure: no files, no clocks, no DNS, no sockets.
//
// Why: netavark's teardown truncates a network file and rewrites it line by line without its
// lock, `podman network update` rewrites it the same way, and the last teardown deletes it. A
// reload that lands meanwhile reads an empty, header-only, cut-off or shortened file. Serving that
// would drop or garble names that exist before and after the rewrite, so such a read is held
// back until the file has been quiet for a while (docs/reload.md).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace config {

/// The entry lines of one applied version of a file, as sorted 64-bit hashes (a multiset): what
/// "lines it had a moment ago" is checked against. Eight bytes per container.
struct LineDigest {
    std::vector<std::uint64_t> entry_hashes;
};

enum class WriteState {
    Complete,     // safe to apply at once
    Empty,        // no byte, or only blank lines: the moment after a truncate
    HeaderOnly,   // a header and no entry line: mid-rewrite (or a setup between its two writes)
    Unterminated, // the last line has no '\n': it may be cut anywhere ("10.89.0.1" of ".12")
    LostLines     // an entry line of the applied version is missing: mid-rewrite, or a teardown
};

const char* describe(WriteState state) noexcept;

/// judge_write over a file read in pieces: the lines are fed one by one (without their '\n'),
/// so a 100,000-line file is judged without being held whole.
class WriteJudge {
public:
    /// Every line in file order, '\n' removed (the last one may have had none).
    void line(std::string_view line);

    /// The verdict once every line was fed; `ends_with_newline` is whether the text's last byte
    /// was '\n' (false for an empty text). Sorts the digest, which `digest()` then holds.
    WriteState finish(bool ends_with_newline, const LineDigest* applied);

    LineDigest& digest() noexcept { return digest_; }

private:
    bool have_header_ = false;
    LineDigest digest_;
};

/// The hash a line has in a LineDigest.
std::uint64_t line_hash(std::string_view line) noexcept;

/// Judges `text` against `applied` (nullptr: nothing applied yet, so nothing can be lost) and
/// stores the text's own digest in `digest`. Lines are split on '\n'; blank lines are ignored;
/// the first non-blank line is the header and is not part of the digest.
WriteState judge_write(std::string_view text, const LineDigest* applied, LineDigest& digest);

/// Adds the lines of `entry_lines` (complete entry lines, no header) to `digest`, for an
/// append applied without judging the whole file again.
void extend_digest(LineDigest& digest, std::string_view entry_lines);

/// A hash of a file's bytes that an append extends from the bytes appended alone (a polynomial
/// over the bytes mod 2^64, so any split of them gives the same value): the engine then knows
/// the whole text it applied without reading it again. It tells versions of a file apart; it is
/// not a defence against someone choosing bytes to collide (the files are netavark's).
/// `kTextHashSeed` is the hash of no bytes.
inline constexpr std::uint64_t kTextHashSeed = 0xcbf29ce484222325ULL;

std::uint64_t extend_text_hash(std::uint64_t hash, std::string_view bytes) noexcept;

/// The part of `text` that is safe to serve when nothing was applied before: everything up to
/// and including the last '\n' (a new file's cut-off line is left out until it is complete).
std::string_view complete_lines(std::string_view text) noexcept;

} // namespace config
