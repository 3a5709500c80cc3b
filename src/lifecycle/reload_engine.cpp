#include "lifecycle/reload_engine.hpp"

#include <algorithm>
#include <ctime>
#include <functional>
#include <new>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "base/ascii.hpp"
#include "config/network_file.hpp"

namespace lifecycle {

namespace {

// File times come from a coarse kernel clock (a jiffy, up to 10 ms): a second write within that
// tick may leave size and times as they were. A file read that soon after its last write is
// read again at the next pass instead of being trusted by its identity.
constexpr std::int64_t kTimestampGranularityNs = 20'000'000;

std::int64_t wall_clock_ns() noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

constexpr std::size_t kMinAppendLimit = 4096;

// How many bytes before the root's end an append re-reads and compares: a teardown's rewrite
// removes a line, which shifts every byte after it, so a few KiB of unique IDs tell a rewrite
// from an append.
constexpr std::size_t kAppendWindow = 4096;

// The offset in `text` (which starts at a line start) of the last line start at least
// kAppendWindow bytes before its end, or 0.
std::size_t window_start_in(std::string_view text) {
    if (text.size() <= kAppendWindow) {
        return 0;
    }
    const std::size_t newline = text.rfind('\n', text.size() - kAppendWindow - 1);
    return newline == std::string_view::npos ? 0 : newline + 1;
}

// Appends the non-blank lines of `bytes` (complete lines) to `lines`, with their numbers in the
// file counted on from `lines_before`. Returns the number of '\n' in `bytes`.
std::size_t add_lines(std::string_view bytes, std::size_t lines_before, std::string& lines,
                      std::vector<std::uint32_t>& numbers) {
    std::size_t count = 0;
    std::size_t start = 0;
    for (std::size_t newline = bytes.find('\n'); newline != std::string_view::npos;
         newline = bytes.find('\n', start)) {
        ++count;
        if (newline > start) {
            lines.append(bytes.substr(start, newline + 1 - start));
            numbers.push_back(static_cast<std::uint32_t>(lines_before + count));
        }
        start = newline + 1;
    }
    return count;
}

// What one walk over a file's lines keeps besides its lines: the in-progress verdict, the hash
// of every byte, the line count, the first line, and the last ~4 KiB (the window an append is
// checked against), all without holding the file.
class FileWalk {
public:
    void line(std::string_view line, bool terminated) {
        ++lines_;
        nonempty_lines_ += line.empty() ? 0U : 1U;
        judge_.line(line);
        hash_ = config::extend_text_hash(hash_, line);
        if (lines_ == 1) {
            first_line_ = line;
        }
        offset_ += line.size();
        window_.append(line);
        if (terminated) {
            hash_ = config::extend_text_hash(hash_, "\n");
            ++offset_;
            complete_end_ = offset_;
            window_.push_back('\n');
            if (window_.size() > 2 * kAppendWindow) {
                const std::size_t start = window_start_in(window_);
                window_.erase(0, start);
                window_begin_ += start;
            }
        } else {
            cut_line_ = line;
        }
    }

    std::size_t complete_end() const noexcept { return complete_end_; } // after the last '\n'

    std::size_t newlines() const noexcept { return lines_ - (cut_line_ ? 1U : 0U); }

    std::uint64_t hash() const noexcept { return hash_; }

    config::WriteJudge& judge() noexcept { return judge_; }

    /// The first line with its '\n' when the text starts with a complete non-empty line (the
    /// header netavark writes first), else empty: then appends take the other paths.
    std::string header() const {
        return first_line_.empty() || cut_line_ ? std::string() : first_line_ + '\n';
    }

    /// The append window of a text that ends in '\n': its start and the hash of its bytes.
    std::pair<std::size_t, std::uint64_t> window() const {
        const std::size_t start = window_start_in(window_);
        return {window_begin_ + start,
                config::extend_text_hash(config::kTextHashSeed,
                                         std::string_view(window_).substr(start))};
    }

    /// Takes the cut-off last line (no '\n') out of the digest (the judge's verdict is kept).
    void drop_cut_line_from_digest() {
        auto& hashes = judge_.digest().entry_hashes;
        // The header is not in the digest: only a cut-off entry line is.
        if (!cut_line_ || cut_line_->empty() || nonempty_lines_ < 2) {
            return;
        }
        const auto at =
            std::lower_bound(hashes.begin(), hashes.end(), config::line_hash(*cut_line_));
        if (at != hashes.end() && *at == config::line_hash(*cut_line_)) {
            hashes.erase(at);
        }
    }

private:
    config::WriteJudge judge_;
    std::uint64_t hash_ = config::kTextHashSeed;
    std::size_t lines_ = 0;
    std::size_t nonempty_lines_ = 0;
    std::uint64_t offset_ = 0;
    std::size_t complete_end_ = 0;
    std::string first_line_;
    std::optional<std::string> cut_line_;
    std::string window_;
    std::size_t window_begin_ = 0;
};

// The status words are `ctrdns check`'s (records::status_name), so a log line and check's report
// name an entry the same way.
std::string finding_text(const records::Finding& finding) {
    return fmt::format("{}:{}: {} entry of container {} in network {}: {}", finding.path,
                       finding.line, records::status_name(finding.status), finding.container_id,
                       finding.network, finding.reason);
}

std::uint64_t text_hash(std::string_view text) noexcept {
    return config::extend_text_hash(config::kTextHashSeed, text);
}

} // namespace

// One file of a full build as its first walk judged it.
struct ReloadEngine::ReadFile {
    ReadFile(std::string file_name, std::string file_path)
        : name(std::move(file_name))
        , path(std::move(file_path)) {}

    std::string name;
    std::string path;
    FileWalk walk;
    config::FileIdentity identity;
    std::size_t size = 0;
    config::WriteState state = config::WriteState::Complete;
};

ReloadEngine::ReloadEngine(std::string directory, ReloadSettings settings)
    : directory_(std::move(directory))
    , settings_(settings)
    , store_(records::RecordStore::compose({})) {}

bool ReloadEngine::unchanged(const NetworkState& state, const Candidates& files) const {
    if (state.held_back || !state.table || state.files.size() != files.size()) {
        return false;
    }
    auto applied = state.files.begin();
    for (const auto& [name, identity] : files) {
        if (applied->first != name || !(applied->second.identity == identity) ||
            applied->second.verify) {
            return false;
        }
        ++applied;
    }
    return true;
}

PassResult ReloadEngine::run_pass(ReloadClock::time_point now) {
    const auto started = ReloadClock::now();
    PassResult result;
    config::DirectoryListing listing = config::list_directory(directory_);
    if (!listing.ok) {
        // A directory error keeps everything as it was (contract §2.3).
        result.directory_ok = false;
        result.directory_error = std::move(listing.error);
        return result;
    }
    for (const config::Problem& problem : listing.problems) {
        result.log.push_back({LogLine::Level::Warn, problem.to_string()});
    }

    std::map<std::string, Candidates> candidates; // network name -> its files
    for (const config::DirectoryEntry& entry : listing.entries) {
        if (entry.problem) {
            result.log.push_back({LogLine::Level::Warn, entry.problem->to_string()});
            continue;
        }
        candidates[std::string(config::network_name_of(entry.name))].emplace(entry.name,
                                                                             *entry.identity);
    }

    bool changed = false;
    // Networks on disk, then networks we serve whose files are gone.
    for (auto& [network, files] : candidates) {
        NetworkState& state = networks_[network];
        if (unchanged(state, files)) {
            continue;
        }
        const auto before = state.table;
        evaluate(network, files, state, now, result);
        changed = changed || state.table != before;
    }
    for (auto it = networks_.begin(); it != networks_.end();) {
        if (candidates.contains(it->first)) {
            ++it;
            continue;
        }
        const auto before = it->second.table;
        hold_deleted(it->first, it->second, now, result);
        changed = changed || it->second.table != before;
        if (!it->second.table && !it->second.held_back) {
            it = networks_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = networks_.begin(); it != networks_.end();) {
        it = (!it->second.table && !it->second.held_back) ? networks_.erase(it) : std::next(it);
    }

    bool any_held_back = false;
    for (const auto& [network, state] : networks_) {
        if (state.held_back) {
            any_held_back = true;
            const auto at = state.last_change + settings_.settle;
            if (!result.recheck_at || at < *result.recheck_at) {
                result.recheck_at = at;
            }
        }
    }
    if (changed) {
        std::vector<std::shared_ptr<const records::NetworkTable>> tables;
        for (const auto& [network, state] : networks_) {
            if (state.table) {
                tables.push_back(state.table);
            }
        }
        store_ = records::RecordStore::compose(std::move(tables));
        result.store = store_;
    }
    result.nothing_to_serve = store_->networks().empty() && !any_held_back;
    result.elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(ReloadClock::now() - started);
    return result;
}

void ReloadEngine::hold_deleted(const std::string& network, NetworkState& state,
                                ReloadClock::time_point now, PassResult& result) {
    if (!state.table) {
        state.held_back = false;
        return;
    }
    if (!state.held_back || !state.seen.empty()) {
        if (!state.held_back) {
            result.log.push_back(
                {LogLine::Level::Info,
                 fmt::format("network {}: its file is gone; serving its last content until it "
                             "stays away for {} ms",
                             network, settings_.settle.count())});
        }
        state.held_back = true;
        state.seen.clear();
        state.last_change = now;
        return;
    }
    if (now - state.last_change >= settings_.settle) {
        result.log.push_back(
            {LogLine::Level::Info, fmt::format("network {}: removed (its file is gone)", network)});
        result.rebuilt_networks.push_back(network);
        state.table.reset();
        state.root.reset();
        state.files.clear();
        state.held_back = false;
    }
}

ReloadEngine::WriterVerdict
ReloadEngine::watch_writer(const Incomplete& incomplete, bool lost_a_file,
                           const std::map<std::string, config::FileIdentity>& identities,
                           NetworkState& state, ReloadClock::time_point now,
                           PassResult& result) const {
    if (incomplete.empty() && !lost_a_file) {
        return WriterVerdict::Apply;
    }
    if (!state.held_back || state.seen != identities) {
        if (!state.held_back) {
            for (const auto& [name, write_state] : incomplete) {
                result.log.push_back(
                    {LogLine::Level::Info,
                     fmt::format("{}/{}: being written ({}); {} until it is quiet for {} ms",
                                 directory_, name, config::describe(write_state),
                                 state.table ? "serving its last content"
                                             : "serving its complete lines",
                                 settings_.settle.count())});
            }
        }
        state.held_back = true;
        state.seen = identities;
        state.last_change = now;
        return WriterVerdict::Wait;
    }
    return now - state.last_change < settings_.settle ? WriterVerdict::Wait
                                                      : WriterVerdict::Settled;
}

void ReloadEngine::evaluate(const std::string& network, const Candidates& files,
                            NetworkState& state, ReloadClock::time_point now, PassResult& result) {
    // The common changes cost their own lines: a setup reads the file's tail only, a teardown
    // walks the file once in pieces, and neither rebuilds the network.
    if (files.size() == 1 &&
        (apply_append(network, files.begin()->first, files.begin()->second, state, result) ||
         apply_scanned(network, files.begin()->first, state, now, result))) {
        return;
    }
    // Walk every file of the network (`x` and `x%int`) once, in pieces: a table is built from
    // all of them, reading their lines back from the files (never holding a file whole).
    std::vector<ReadFile> reads;
    std::map<std::string, config::FileIdentity> identities;
    for (const auto& [name, listed_identity] : files) {
        ReadFile read(name, fmt::format("{}/{}", directory_, name));
        // Judged first, indexed only if it is built: a file being written is walked at every
        // SIGHUP until it is done, and parsing its lines each time would be wasted.
        const config::FileScan scan = config::scan_network_file(
            directory_, name, [&](std::string_view line, bool terminated) {
                read.walk.line(line, terminated);
                return true;
            });
        if (scan.problem) {
            result.log.push_back({LogLine::Level::Warn, scan.problem->to_string()});
            continue;
        }
        read.identity = scan.identity;
        read.size = scan.size;
        identities.emplace(name, read.identity);
        // A file that was gone at the last look is a new file (a setup after the last
        // teardown): nothing of the old one can be "lost" from it.
        const bool reappeared = state.held_back && !state.seen.contains(name);
        const auto applied = state.files.find(name);
        read.state = read.walk.judge().finish(
            scan.ends_with_newline,
            applied == state.files.end() || reappeared ? nullptr : &applied->second.digest);
        reads.push_back(std::move(read));
    }

    // A file seen again with the very text applied (re-read only to rule out a write within
    // one timestamp tick) changes nothing.
    const auto same_text = [&](const ReadFile& read) {
        const auto applied = state.files.find(read.name);
        return applied != state.files.end() && applied->second.text_hash == read.walk.hash();
    };
    if (state.table && !state.held_back && reads.size() == state.files.size() &&
        std::all_of(reads.begin(), reads.end(), same_text)) {
        for (const ReadFile& read : reads) {
            AppliedFile& applied = state.files[read.name];
            applied.identity = read.identity;
            applied.verify = wall_clock_ns() - read.identity.mtime_ns < kTimestampGranularityNs;
        }
        return;
    }

    Incomplete incomplete;
    for (const ReadFile& read : reads) {
        if (read.state != config::WriteState::Complete) {
            incomplete.emplace_back(read.name, read.state);
        }
    }
    // A file of the network that was applied and is gone now is a deletion in progress too.
    const bool lost_a_file =
        std::any_of(state.files.begin(), state.files.end(),
                    [&](const auto& f) { return !identities.contains(f.first); });
    const WriterVerdict verdict =
        watch_writer(incomplete, lost_a_file, identities, state, now, result);
    if (verdict == WriterVerdict::Wait && state.table) {
        return; // keep the last good content
    }
    // Nothing applied yet: while it is written, its complete lines are better than nothing.
    state.held_back = verdict == WriterVerdict::Wait;

    // A file that changed while it was read is held back as any file being written: judged
    // again against what was applied (not as a new file, which any cut-off version would pass),
    // and applied once complete or quiet.
    const auto hold_changed = [&]() {
        result.log.push_back(
            {LogLine::Level::Info,
             fmt::format("network {}: a file changed while it was read; looking again", network)});
        state.held_back = true;
        state.seen = identities;
        state.last_change = now;
    };

    // Build from what was read (for a held-back new network: its complete lines only).
    std::vector<config::NetworkFileLines> indexed;
    std::map<std::string, AppliedFile> applied_files;
    std::size_t text_lines = 0;
    std::string header;
    std::pair<std::size_t, std::uint64_t> window{0, config::kTextHashSeed};
    for (ReadFile& read : reads) {
        AppliedFile applied;
        applied.identity = read.identity;
        applied.size = read.size;
        applied.text_hash = read.walk.hash();
        applied.verify =
            state.held_back || wall_clock_ns() - read.identity.mtime_ns < kTimestampGranularityNs;
        text_lines = read.walk.newlines();
        // The root's text starts with its header line (netavark writes no blank line before
        // it); otherwise later changes take the full path.
        header = read.walk.header();
        if (!header.empty()) {
            window = read.walk.window();
        }
        if (state.held_back) {
            // Judged against what is served: the cut-off line must not count as "lost" later.
            if (read.walk.complete_end() == 0) {
                continue;
            }
            read.walk.drop_cut_line_from_digest();
        }
        applied.digest = std::move(read.walk.judge().digest());
        try {
            config::NetworkFileIndexer indexer(read.name, read.path);
            base::UniqueFd fd;
            std::uint64_t hash = config::kTextHashSeed;
            std::uint64_t offset = 0;
            const config::FileScan scan = config::scan_network_file(
                directory_, read.name,
                [&](std::string_view line, bool terminated) {
                    indexer.line(line, offset, terminated);
                    hash = config::extend_text_hash(hash, line);
                    hash = terminated ? config::extend_text_hash(hash, "\n") : hash;
                    offset += line.size() + (terminated ? 1U : 0U);
                    return true;
                },
                &fd);
            // Not the text judged: it changed between the two walks.
            if (scan.problem || hash != read.walk.hash()) {
                hold_changed();
                return;
            }
            if (state.held_back) {
                indexer.drop_unterminated();
            }
            config::NetworkFileLinesResult file = indexer.finish(std::move(fd));
            for (const config::Problem& problem : file.problems) {
                result.log.push_back({LogLine::Level::Warn, problem.to_string()});
            }
            if (file.file) {
                indexed.push_back(std::move(*file.file));
            }
        } catch (const std::bad_alloc&) {
            result.log.push_back(
                {LogLine::Level::Warn,
                 fmt::format("{}: out of memory while parsing; file skipped", read.path)});
            continue;
        }
        applied_files.emplace(read.name, std::move(applied));
    }
    // `x` before `x%int`, as config::load_directory orders them.
    std::sort(indexed.begin(), indexed.end(),
              [](const config::NetworkFileLines& a, const config::NetworkFileLines& b) {
                  return !a.header().internal && b.header().internal;
              });
    std::shared_ptr<const records::NetworkTable> table;
    if (!indexed.empty()) {
        if (settings_.before_build) {
            settings_.before_build();
        }
        std::vector<const config::NetworkFileLines*> pointers;
        pointers.reserve(indexed.size());
        for (const auto& file : indexed) {
            pointers.push_back(&file);
        }
        table = records::NetworkTable::build(pointers);
        // A line read back that was not the line walked: the file changed under the build (a
        // rewrite that began after the walk). What was built is dropped, and the file is
        // looked at again at the next pass or once it has been quiet.
        if (std::any_of(indexed.begin(), indexed.end(),
                        [](const config::NetworkFileLines& file) { return file.changed(); })) {
            hold_changed();
            return;
        }
        indexed.clear();
    }
    result.rebuilt_networks.push_back(network);
    state.files = std::move(applied_files);
    state.root.reset();
    state.added_lines.clear();
    state.added_line_numbers.clear();
    state.hidden_keys.clear();
    state.restated_keys.clear();
    state.added_line_orders.clear();
    state.table = std::move(table);
    if (!state.table) {
        return;
    }
    if (reads.size() == 1 && !state.held_back) {
        state.root = state.table;
        state.applied_lines = text_lines;
        state.root_header = header;
        state.applied_header = std::move(header);
        state.window_begin = window.first;
        state.window_hash = window.second;
    }
    for (const records::Finding& finding : state.table->findings()) {
        result.log.push_back({LogLine::Level::Warn, finding_text(finding)});
    }
}

// The lines a change leaves to judge again and the root containers it hides, before they
// become a table.
struct ReloadEngine::Overlay {
    std::string header; // the file's header line, with its '\n'
    std::string lines;  // entry lines, each with its '\n'
    std::vector<std::uint32_t> line_numbers;
    std::vector<std::uint64_t> hidden_keys; // sorted: root containers gone or judged again
    std::vector<std::uint32_t> orders;      // parallel to line_numbers, see build_overlay
};

std::shared_ptr<const records::NetworkTable>
ReloadEngine::build_overlay(const std::string& file_name, const NetworkState& state,
                            const Overlay& overlay, PassResult& result,
                            std::vector<std::uint64_t>* clashing) const {
    if (overlay.lines.empty() && overlay.hidden_keys.empty() &&
        overlay.header == state.root_header) {
        return state.root; // the file is the root's text again
    }
    // The header again, so the added lines parse as a file of their own (and a new header,
    // after `podman network update`, is checked and carried by the overlay).
    std::string piece;
    piece.reserve(overlay.header.size() + overlay.lines.size());
    piece.append(overlay.header);
    piece.append(overlay.lines);
    const std::string path = fmt::format("{}/{}", directory_, file_name);
    config::NetworkFileResult parsed;
    try {
        parsed = config::parse_network_file(file_name, path, piece);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
    if (!parsed.file) {
        return nullptr;
    }
    // Line 2 of the piece is the first added line: each gets its line number in the file.
    const auto file_line = [&](int piece_line) {
        const auto at = static_cast<std::size_t>(piece_line - 2);
        return piece_line >= 2 && at < overlay.line_numbers.size()
                   ? static_cast<int>(overlay.line_numbers[at])
                   : piece_line;
    };
    for (auto& entry : parsed.file->entries) {
        entry.line = file_line(entry.line);
    }
    auto table = records::NetworkTable::build_overlay(state.root, *parsed.file, overlay.hidden_keys,
                                                      overlay.orders, clashing);
    if (!table) {
        return nullptr;
    }
    for (config::Problem& problem : parsed.problems) {
        problem.line = file_line(problem.line);
        result.log.push_back({LogLine::Level::Warn, problem.to_string()});
    }
    for (const records::Finding& finding : table->findings()) {
        result.log.push_back({LogLine::Level::Warn, finding_text(finding)});
    }
    return table;
}

bool ReloadEngine::apply_append(const std::string& network, const std::string& file_name,
                                const config::FileIdentity& listed, NetworkState& state,
                                PassResult& result) {
    if (state.held_back || !state.root || state.applied_header.empty() || state.files.size() != 1 ||
        state.files.begin()->first != file_name) {
        return false;
    }
    AppliedFile& applied = state.files.begin()->second;
    if (listed.device != applied.identity.device || listed.inode != applied.identity.inode ||
        static_cast<std::size_t>(listed.size) <= applied.size) {
        return false;
    }
    config::FilePieces pieces = config::read_network_file_pieces(
        directory_, file_name, state.applied_header.size(), state.window_begin);
    if (!pieces.tail) {
        return false; // the full path reads it again and reports any problem
    }
    const std::string_view tail = *pieces.tail; // [window_begin, end of file)
    const auto& identity = pieces.identity;
    const std::size_t checked = applied.size - state.window_begin;
    // Only a file that grew in place, still holds the header and the bytes before the applied
    // end as applied, and ends with a complete line is an append; anything else takes the other
    // paths with their in-progress rules.
    if (identity.device != applied.identity.device || identity.inode != applied.identity.inode ||
        tail.size() <= checked || tail.back() != '\n' || pieces.head != state.applied_header ||
        text_hash(tail.substr(0, checked)) != state.window_hash) {
        return false;
    }
    const std::string_view new_bytes = tail.substr(checked);
    Overlay overlay{state.applied_header, state.added_lines, state.added_line_numbers,
                    state.hidden_keys, state.added_line_orders};
    const std::size_t new_lines =
        add_lines(new_bytes, state.applied_lines, overlay.lines, overlay.line_numbers);
    overlay.orders.resize(overlay.line_numbers.size(), records::NetworkTable::kNewest);
    const std::size_t limit = std::max(kMinAppendLimit, state.root->entry_count() / 4);
    if (overlay.line_numbers.size() + overlay.hidden_keys.size() > limit) {
        return false; // time for a full build to become the new root
    }
    auto table = build_overlay(file_name, state, overlay, result);
    if (!table) {
        return false;
    }
    config::extend_digest(applied.digest, new_bytes);
    applied.text_hash = config::extend_text_hash(applied.text_hash, new_bytes);
    applied.identity = identity;
    applied.size = state.window_begin + tail.size();
    applied.verify = wall_clock_ns() - identity.mtime_ns < kTimestampGranularityNs;
    const std::size_t window_start = window_start_in(tail);
    state.window_begin += window_start;
    state.window_hash = text_hash(tail.substr(window_start));
    state.applied_lines += new_lines;
    state.added_lines = std::move(overlay.lines);
    state.added_line_numbers = std::move(overlay.line_numbers);
    state.table = std::move(table);
    result.rebuilt_networks.push_back(network);
    return true;
}

bool ReloadEngine::apply_scanned(const std::string& network, const std::string& file_name,
                                 NetworkState& state, ReloadClock::time_point now,
                                 PassResult& result) {
    if (!state.root || !state.table || !state.root->can_carry_overlay() ||
        state.applied_header.empty() || state.files.size() != 1 ||
        state.files.begin()->first != file_name ||
        (state.held_back && !state.seen.contains(file_name))) {
        return false;
    }
    const AppliedFile& applied = state.files.begin()->second;
    const auto& applied_hashes = applied.digest.entry_hashes;
    const std::size_t limit = std::max(kMinAppendLimit, state.root->entry_count() / 4);

    // First walk: the verdict on the write, the text's hash, the window an append is checked
    // against. A file being written is walked like this at every SIGHUP until it is done, so
    // nothing more is done per line until it is to be applied.
    FileWalk walk;
    std::optional<std::string> header; // a `podman network update` may have changed it
    const config::FileScan scan = config::scan_network_file(
        directory_, file_name, [&](std::string_view line, bool terminated) {
            walk.line(line, terminated);
            if (!header && !line.empty() && terminated) {
                header = std::string(line) + '\n';
            }
            return true;
        });
    if (scan.problem || !header) {
        return false; // the full path reads it again, judges it and reports any problem
    }
    const config::WriteState write_state =
        walk.judge().finish(scan.ends_with_newline, &applied.digest);
    const std::map<std::string, config::FileIdentity> identities{{file_name, scan.identity}};
    Incomplete incomplete;
    if (write_state != config::WriteState::Complete) {
        incomplete.emplace_back(file_name, write_state);
    }
    const WriterVerdict verdict = watch_writer(incomplete, false, identities, state, now, result);
    if (verdict == WriterVerdict::Wait) {
        return true; // the last good content serves
    }
    if (write_state == config::WriteState::Unterminated) {
        return false; // settled with a cut-off line: the full path leaves it out
    }
    const bool was_held_back = state.held_back;
    const bool verify =
        was_held_back || wall_clock_ns() - scan.identity.mtime_ns < kTimestampGranularityNs;
    if (walk.hash() == applied.text_hash) {
        // The very text applied (re-read only to rule out a write within one timestamp tick).
        AppliedFile& same = state.files.begin()->second;
        same.identity = scan.identity;
        same.verify = verify;
        state.held_back = false;
        return true;
    }

    // Second walk, a few bytes per line: which root containers are still there as applied,
    // and the lines to judge again: those beyond the root, and those of the containers in
    // `again` (the root's entangled lines, and lines that clash with a judged one). Any other
    // line that is not a root line as applied, or comes after a line beyond the root, stops it:
    // only a full build gets that right; so does a text that is not the one judged.
    std::vector<std::uint64_t> again;
    const auto judge_again = [&](std::span<const std::uint64_t> keys) {
        again.insert(again.end(), keys.begin(), keys.end());
        std::sort(again.begin(), again.end());
        again.erase(std::unique(again.begin(), again.end()), again.end());
    };
    for (const records::EntangledLine& line : state.root->entangled_lines()) {
        again.push_back(line.key);
    }
    judge_again(state.restated_keys);
    Overlay overlay;
    // A line that clashes with a judged one is found once the judged ones are parsed: then the
    // file is walked once more with its container among `again` (a root line clashes with no
    // other root line unless it is entangled, so one more walk finds them all).
    const records::NetworkTable& root = *state.root;
    for (int round = 0;; ++round) {
        std::vector<bool> kept(root.serving_lines(), false);
        std::vector<std::uint64_t> kept_hashes; // checked against the applied lines at the end
        overlay = Overlay{*header, {}, {}, {}, {}};
        std::uint32_t last_kept = 0; // 1 + position of the last root line left as it is
        std::size_t next_position = 0;
        bool past_root = false;
        std::size_t line_number = 0;
        bool past_header = false;
        std::string id;
        // Kept lines come in the root's order: the next one is nearly always the line expected
        // next, or a few after it (the lines between were torn down).
        const auto position_of = [&](std::uint64_t key) -> std::optional<std::size_t> {
            constexpr std::size_t kLookAhead = 8;
            const std::size_t end = std::min(root.serving_lines(), next_position + kLookAhead);
            for (std::size_t position = next_position; position < end; ++position) {
                if (root.key_at(position) == key) {
                    return position;
                }
            }
            return root.position_of(key);
        };
        const config::FileScan scan_again = config::scan_network_file(
            directory_, file_name, [&](std::string_view line, bool terminated) {
                ++line_number;
                if (line.empty() || !terminated || !past_header) {
                    // Blank, the cut-off last line, or the header (checked by the first walk).
                    past_header = past_header || (!line.empty() && terminated);
                    return true;
                }
                // IDs are matched as the parser stores them: lowercased.
                id.assign(line.substr(0, line.find(' ')));
                for (char& c : id) {
                    c = base::ascii_lower(c);
                }
                const std::uint64_t key = records::container_key(id);
                // Stale root lines serve no container, so their keys are found in `again`
                // only. A root container whose line went away and came back (the same ID set
                // up again) has a new line, judged like any other.
                const bool judged_again = std::binary_search(again.begin(), again.end(), key);
                const std::optional<std::size_t> position =
                    judged_again ? std::nullopt : position_of(key);
                const bool beyond_root =
                    !judged_again &&
                    (!position ||
                     std::binary_search(state.hidden_keys.begin(), state.hidden_keys.end(), key));
                if (judged_again || beyond_root) {
                    past_root = past_root || beyond_root;
                    overlay.orders.push_back(past_root ? records::NetworkTable::kNewest
                                                       : last_kept);
                    overlay.lines.append(line).push_back('\n');
                    overlay.line_numbers.push_back(static_cast<std::uint32_t>(line_number));
                    return overlay.line_numbers.size() <= limit;
                }
                // A root line left as it is must come before every line beyond the root, once,
                // in the root's order, and as it was applied (its hash, checked at the end).
                if (past_root || *position < last_kept) {
                    return false;
                }
                kept[*position] = true;
                kept_hashes.push_back(config::line_hash(line));
                last_kept = static_cast<std::uint32_t>(*position + 1);
                next_position = *position + 1;
                return true;
            });
        // The very text judged: nothing wrote between the first walk's open and this walk's end
        // (a write within the file system's timestamp granularity is looked at again at the
        // next pass: `verify`).
        if (scan_again.problem || scan_again.stopped || scan_again.identity != scan.identity ||
            scan_again.identity_after != scan.identity) {
            return false;
        }
        // Sorted and merged: a lookup per line would cost a cache miss per step.
        std::sort(kept_hashes.begin(), kept_hashes.end());
        if (!std::includes(applied_hashes.begin(), applied_hashes.end(), kept_hashes.begin(),
                           kept_hashes.end())) {
            return false;
        }
        for (std::size_t position = 0; position < kept.size(); ++position) {
            if (!kept[position]) {
                overlay.hidden_keys.push_back(root.key_at(position)); // gone, or judged again
            }
        }
        std::sort(overlay.hidden_keys.begin(), overlay.hidden_keys.end());
        if (overlay.line_numbers.size() + overlay.hidden_keys.size() > limit) {
            return false; // time for a full build to become the new root
        }
        std::vector<std::uint64_t> clashing;
        auto table = build_overlay(file_name, state, overlay, result, &clashing);
        if (table) {
            AppliedFile& updated = state.files.begin()->second;
            updated.identity = scan.identity;
            updated.size = scan.size;
            updated.digest = std::move(walk.judge().digest());
            updated.text_hash = walk.hash();
            updated.verify = verify;
            state.applied_lines = walk.newlines();
            std::tie(state.window_begin, state.window_hash) = walk.window();
            state.applied_header = std::move(overlay.header);
            state.added_lines = std::move(overlay.lines);
            state.added_line_numbers = std::move(overlay.line_numbers);
            state.hidden_keys = std::move(overlay.hidden_keys);
            state.restated_keys = std::move(again);
            state.added_line_orders = std::move(overlay.orders);
            state.held_back = false;
            state.table = std::move(table);
            result.rebuilt_networks.push_back(network);
            return true;
        }
        if (clashing.empty() || round > 0) {
            return false;
        }
        judge_again(clashing);
    }
}

} // namespace lifecycle
