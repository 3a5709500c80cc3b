#include "dns/name.hpp"

#include <algorithm>
#include <optional>

#include "base/ascii.hpp"
#include "dns/wire_reader.hpp"
#include "dns/wire_writer.hpp"

namespace dns {

namespace {

constexpr std::uint8_t kPointerMask = 0xc0;

bool is_ascii_letter(std::uint8_t byte) noexcept {
    return (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z');
}

bool is_ascii_digit(std::uint8_t byte) noexcept {
    return byte >= '0' && byte <= '9';
}

// hickory's `is_safe_ascii` (contract §4.2): these are written as is, everything else is escaped.
bool is_plain(std::uint8_t byte, bool first_in_label) noexcept {
    if (is_ascii_letter(byte) || is_ascii_digit(byte) || byte == '_') {
        return true;
    }
    return first_in_label ? byte == '*' : byte == '-';
}

} // namespace

namespace {

// Where a name read ends and what it holds, without its bytes.
struct NameExtent {
    std::size_t resume = 0;      // one past the name's in-place bytes
    std::size_t label_count = 0; // 0 is the root
};

// The one decoder behind Name::read and skip_name, so the copying and the validating read
// cannot drift apart: follows the possibly compressed name at `cursor` and hands each label
// (offset of its length byte, and its length) to `on_label`. Nullopt on any malformation.
template <typename OnLabel>
std::optional<NameExtent> follow_name(std::span<const std::uint8_t> packet, std::size_t cursor,
                                      OnLabel&& on_label) noexcept {
    NameExtent extent;
    bool jumped = false;
    // Every pointer must point before the label run that contains it (hickory's rule, stricter
    // than RFC 1035 §4.1.4's "prior occurrence"), so hops strictly decrease and always end; the
    // hop cap is a second guard.
    std::size_t run_start = cursor;
    std::size_t hops = 0;
    std::size_t wire_size = 0;

    for (;;) {
        if (cursor >= packet.size()) {
            return std::nullopt;
        }
        const std::uint8_t length = packet[cursor];
        if ((length & kPointerMask) == kPointerMask) {
            if (packet.size() - cursor < 2) {
                return std::nullopt;
            }
            const std::size_t target =
                (std::size_t{length & 0x3FU} << 8) | std::size_t{packet[cursor + 1]};
            if (target >= run_start || ++hops > kMaxLabels) {
                return std::nullopt;
            }
            if (!jumped) {
                extent.resume = cursor + 2;
                jumped = true;
            }
            cursor = target;
            run_start = target;
            continue;
        }
        // RFC 1035 reserves the 10 prefix and RFC 6891 §5 deprecates 01 (extended label types).
        if ((length & kPointerMask) != 0) {
            return std::nullopt;
        }
        if (length == 0) {
            if (!jumped) {
                extent.resume = cursor + 1;
            }
            return extent;
        }
        // The label, its length byte and the final root byte must fit in 255 (RFC 1035 §2.3.4).
        if (wire_size + 1 + length + 1 > kMaxNameWireLength) {
            return std::nullopt;
        }
        if (extent.label_count >= kMaxLabels || packet.size() - cursor - 1 < length) {
            return std::nullopt;
        }
        on_label(cursor, length);
        ++extent.label_count;
        wire_size += std::size_t{length} + 1;
        cursor += std::size_t{length} + 1;
    }
}

} // namespace

bool Name::read(WireReader& reader) noexcept {
    size_ = 0;
    label_count_ = 0;
    if (!reader.ok()) {
        return false;
    }
    const auto packet = reader.whole();
    // Labels that lie back to back in the packet (all of them, unless a pointer intervenes) are
    // copied together: a reverse IPv6 name has 34 labels of one or two bytes, and a copy per
    // label cost more than the walk.
    std::size_t run_from = 0; // packet offset of the labels walked but not yet copied
    std::size_t run_size = 0;
    const auto copy_run = [&]() noexcept {
        std::copy_n(packet.begin() + static_cast<std::ptrdiff_t>(run_from), run_size,
                    wire_.begin() + static_cast<std::ptrdiff_t>(size_));
        size_ += run_size;
        run_size = 0;
    };
    const auto extent =
        follow_name(packet, reader.position(), [&](std::size_t at, std::uint8_t length) {
            if (run_size != 0 && run_from + run_size != at) {
                copy_run();
            }
            if (run_size == 0) {
                run_from = at;
            }
            label_offsets_[label_count_++] = static_cast<std::uint8_t>(size_ + run_size);
            run_size += std::size_t{length} + 1;
        });
    if (!extent) {
        wire_[0] = 0;
        size_ = 1;
        label_count_ = 0;
        reader.fail();
        return false;
    }
    copy_run();
    // follow_name kept room for this byte (the 255-byte check counts it).
    wire_[size_++] = 0;
    reader.seek(extent->resume);
    return true;
}

std::optional<std::size_t> skip_name(WireReader& reader) noexcept {
    if (!reader.ok()) {
        return std::nullopt;
    }
    // The root (every OPT owner) is one zero byte: no need for the general walk.
    if (reader.remaining() > 0 && reader.whole()[reader.position()] == 0) {
        reader.skip(1);
        return 0;
    }
    const auto extent =
        follow_name(reader.whole(), reader.position(), [](std::size_t, std::uint8_t) noexcept {});
    if (!extent) {
        reader.fail();
        return std::nullopt;
    }
    reader.seek(extent->resume);
    return extent->label_count;
}

std::size_t encode_text(std::string_view text,
                        std::span<std::uint8_t, kMaxNameWireLength> out) noexcept {
    if (!text.empty() && text.back() == '.') {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        out[0] = 0;
        return 1;
    }
    // Every dot becomes the next label's length byte, so the wire form is the text plus a
    // leading length byte and the root byte.
    if (text.size() + 2 > kMaxNameWireLength) {
        return 0;
    }
    std::size_t length_at = 0; // where the current label's length byte goes
    std::size_t at = 1;
    for (const char c : text) {
        if (c == '.') {
            const std::size_t length = at - length_at - 1;
            if (length == 0 || length > kMaxLabelLength) {
                return 0; // "a..b", ".a", or a label over 63 bytes
            }
            out[length_at] = static_cast<std::uint8_t>(length);
            length_at = at++;
            continue;
        }
        out[at++] = static_cast<std::uint8_t>(c);
    }
    const std::size_t length = at - length_at - 1;
    if (length == 0 || length > kMaxLabelLength) {
        return 0; // "a.." ends in an empty label
    }
    out[length_at] = static_cast<std::uint8_t>(length);
    out[at++] = 0;
    return at;
}

bool Name::assign_text(std::string_view text) noexcept {
    size_ = encode_text(text, wire_);
    label_count_ = 0;
    if (size_ == 0) {
        wire_[size_++] = 0;
        return false;
    }
    for (std::size_t at = 0; wire_[at] != 0; at += 1 + std::size_t{wire_[at]}) {
        label_offsets_[label_count_++] = static_cast<std::uint8_t>(at);
    }
    return true;
}

std::string_view Name::label(std::size_t index) const noexcept {
    if (index >= label_count_) {
        return {};
    }
    const std::size_t offset = label_offsets_[index];
    // The label's bytes, viewed as the characters they are; no copy on the lookup path.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    return {reinterpret_cast<const char*>(wire_.data() + offset + 1), wire_[offset]};
}

std::string_view Name::format_text(std::span<char, kMaxNameTextLength> buffer,
                                   bool lowercase) const noexcept {
    std::size_t out = 0;
    if (label_count_ == 0) {
        buffer[out++] = '.';
        return {buffer.data(), out};
    }
    for (std::size_t i = 0; i < label_count_; ++i) {
        const auto text = label(i);
        for (std::size_t j = 0; j < text.size(); ++j) {
            const auto byte = static_cast<std::uint8_t>(text[j]);
            if (is_plain(byte, j == 0)) {
                buffer[out++] = static_cast<char>(lowercase ? base::ascii_lower(byte) : byte);
            } else if (byte > 0x20 && byte < 0x7f) {
                buffer[out++] = '\\';
                buffer[out++] = static_cast<char>(byte);
            } else {
                // hickory writes `\` and three octal digits (contract §4.2), not RFC 1035's
                // decimal.
                buffer[out++] = '\\';
                buffer[out++] = static_cast<char>('0' + ((byte >> 6) & 7));
                buffer[out++] = static_cast<char>('0' + ((byte >> 3) & 7));
                buffer[out++] = static_cast<char>('0' + (byte & 7));
            }
        }
        buffer[out++] = '.';
    }
    return {buffer.data(), out};
}

void Name::write(WireWriter& writer) const noexcept {
    if (size_ == 0) {
        // A default-constructed name is the root.
        writer.write_u8(0);
        return;
    }
    writer.write_bytes(wire());
}

} // namespace dns
