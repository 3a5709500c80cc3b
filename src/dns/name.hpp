// dns/: a domain name held as uncompressed wire labels, case preserved. No I/O, no asio.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dns/types.hpp"

namespace dns {

class WireReader;
class WireWriter;

/// Longest presentation text `format_text` can produce: 255 wire bytes, each escaped as `\ddd`.
inline constexpr std::size_t kMaxNameTextLength = 4 * kMaxNameWireLength + 1;

class Name {
public:
    /// No name yet: empty wire form, no labels. The label storage is left uninitialised on
    /// purpose: every path writes the bytes it later reads (size_ and label_count_ bound them),
    /// and zeroing its 400 bytes cost every query, once for the question and once per PTR target.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init,modernize-use-equals-default)
    Name() noexcept {}

    /// Reads a possibly compressed name at the reader's position (RFC 1035 §4.1.4), following
    /// pointers only backwards-or-anywhere within the packet but at most `kMaxLabels` hops, and
    /// rejecting names longer than 255 bytes. On success the reader sits after the name's
    /// in-place bytes. Returns false on any malformation (and fails the reader).
    bool read(WireReader& reader) noexcept;

    /// Builds a name from presentation text without escapes, e.g. `web.dns.podman` or
    /// `atwo.` (labels split on '.'; a trailing dot is optional; "" and "." are the root).
    /// False when a label is empty or longer than 63 bytes, or the whole exceeds 255 bytes.
    bool assign_text(std::string_view text) noexcept;

    /// Uncompressed wire form including the terminating zero byte.
    std::span<const std::uint8_t> wire() const noexcept { return {wire_.data(), size_}; }

    std::size_t label_count() const noexcept { return label_count_; }

    /// The i-th label's raw bytes (0 = leftmost), i < label_count().
    std::string_view label(std::size_t index) const noexcept;

    /// Presentation form with a trailing dot ("." for the root), as hickory prints it (contract
    /// §4.2): letters, digits, '_', '-' (not first in a label) and '*' (first only) are kept;
    /// other bytes are escaped as `\c` (printable) or `\ddd` (three octal digits). With
    /// `lowercase`, ASCII letters are lowercased. Returns the text inside `buffer`.
    std::string_view format_text(std::span<char, kMaxNameTextLength> buffer,
                                 bool lowercase) const noexcept;

    void write(WireWriter& writer) const noexcept;

private:
    std::array<std::uint8_t, kMaxNameWireLength> wire_;  // [0, size_) written
    std::array<std::uint8_t, kMaxLabels> label_offsets_; // [0, label_count_) written
    std::size_t size_ = 0;
    std::size_t label_count_ = 0;
};

/// The wire form of presentation text by the rules of `Name::assign_text`, written to `out`
/// (which has room for the longest name). Returns its size, root byte included, or 0 when the
/// text is not a valid name. One pass, no Name: a PTR answer writes its targets with it.
std::size_t encode_text(std::string_view text,
                        std::span<std::uint8_t, kMaxNameWireLength> out) noexcept;

/// Checks the name at the reader's position by exactly the rules of `Name::read` without copying
/// it (a record walk only needs to pass over most owners). On success the reader sits after the
/// name's in-place bytes and the result is its label count (0 for the root); nullopt on any
/// malformation, which fails the reader.
std::optional<std::size_t> skip_name(WireReader& reader) noexcept;

} // namespace dns
