#include "lifecycle/reload_engine.hpp"

#include <algorithm>
#include <ctime>
#include <functional>
#include <new>
#include <string_view>
#include <utility>

#include <fmt/format.h>

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

// A line start at least kAppendWindow bytes before `end` (or the first line after the header).
std::size_t window_begin_of(std::string_view text, std::size_t end, std::size_t header_end) {
    if (end <= header_end + 1 + kAppendWindow) {
        return header_end + 1;
    }
    return text.rfind('\n', end - kAppendWindow - 1) + 1;
}

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
        state.files.clear();
        state.held_back = false;
    }
}

void ReloadEngine::evaluate(const std::string& network, const Candidates& files,
                            NetworkState& state, ReloadClock::time_point now, PassResult& result) {
    // The common change, a setup, costs the appended lines only: not even the file is read whole.
    if (files.size() == 1 &&
        apply_append(network, files.begin()->first, files.begin()->second, state, result)) {
        return;
    }
    // Read every file of the network (`x` and `x%int`): a table is built from all of them.
    std::vector<ReadFile> reads;
    std::map<std::string, config::FileIdentity> identities;
    for (const auto& [name, listed_identity] : files) {
        ReadFile read;
        read.name = name;
        read.text = config::read_network_file(directory_, name);
        if (!read.text.text) {
            if (read.text.problem) {
                result.log.push_back({LogLine::Level::Warn, read.text.problem->to_string()});
            }
            continue;
        }
        identities.emplace(name, read.text.identity);
        // A file that was gone at the last look is a new file (a setup after the last
        // teardown): nothing of the old one can be "lost" from it.
        const bool reappeared = state.held_back && !state.seen.contains(name);
        const auto applied = state.files.find(name);
        read.state = config::judge_write(
            *read.text.text,
            applied == state.files.end() || reappeared ? nullptr : &applied->second.digest,
            read.digest);
        reads.push_back(std::move(read));
    }

    // A file seen again with the very text applied (re-read only to rule out a write within
    // one timestamp tick) changes nothing.
    const auto same_text = [&](const ReadFile& read) {
        const auto applied = state.files.find(read.name);
        return applied != state.files.end() &&
               applied->second.text_hash == text_hash(*read.text.text);
    };
    if (state.table && !state.held_back && reads.size() == state.files.size() &&
        std::all_of(reads.begin(), reads.end(), same_text)) {
        for (const ReadFile& read : reads) {
            AppliedFile& applied = state.files[read.name];
            applied.identity = read.text.identity;
            applied.verify =
                wall_clock_ns() - read.text.identity.mtime_ns < kTimestampGranularityNs;
        }
        return;
    }

    const bool every_file_complete =
        std::all_of(reads.begin(), reads.end(), [](const ReadFile& read) {
            return read.state == config::WriteState::Complete;
        });
    // A file of the network that was applied and is gone now is a deletion in progress too.
    const bool lost_a_file =
        std::any_of(state.files.begin(), state.files.end(),
                    [&](const auto& f) { return !identities.contains(f.first); });
    const bool complete = every_file_complete && !lost_a_file;

    if (!complete) {
        if (!state.held_back || state.seen != identities) {
            if (!state.held_back) {
                for (const ReadFile& read : reads) {
                    if (read.state != config::WriteState::Complete) {
                        result.log.push_back(
                            {LogLine::Level::Info,
                             fmt::format(
                                 "{}/{}: being written ({}); {} until it is quiet for {} ms",
                                 directory_, read.name, config::describe(read.state),
                                 state.table ? "serving its last content"
                                             : "serving its complete lines",
                                 settings_.settle.count())});
                    }
                }
            }
            state.held_back = true;
            state.seen = identities;
            state.last_change = now;
            if (state.table) {
                return; // keep the last good content
            }
            // Nothing applied yet: its complete lines are better than nothing; looked at again.
        } else if (now - state.last_change < settings_.settle) {
            if (state.table) {
                return;
            }
        } else {
            // Quiet for the settle time: what is there now is what the writer meant.
            state.held_back = false;
        }
    } else {
        state.held_back = false;
    }

    // Build from what was read (for a held-back new network: its complete lines only).
    std::vector<config::NetworkFileLines> indexed;
    std::map<std::string, AppliedFile> applied_files;
    std::size_t text_size = 0;
    std::size_t text_lines = 0;
    std::string header;
    std::size_t window_begin = 0;
    std::uint64_t window_hash = config::kTextHashSeed;
    for (ReadFile& read : reads) {
        const std::string path = fmt::format("{}/{}", directory_, read.name);
        std::string& text = *read.text.text;
        AppliedFile applied;
        applied.identity = read.text.identity;
        applied.size = text.size();
        applied.text_hash = text_hash(text);
        applied.verify = state.held_back ||
                         wall_clock_ns() - read.text.identity.mtime_ns < kTimestampGranularityNs;
        text_size = text.size();
        text_lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
        // The root's text starts with its header line (netavark writes no blank line before
        // it); otherwise appends take the full path.
        const std::size_t header_end = text.find('\n');
        header.clear();
        if (header_end != 0 && header_end != std::string::npos && text.back() == '\n') {
            header = text.substr(0, header_end + 1);
            window_begin = window_begin_of(text, text.size(), header_end);
            window_hash = text_hash(std::string_view(text).substr(window_begin));
        }
        if (state.held_back) {
            // Judged against what is served: the cut-off line must not count as "lost" later.
            text.resize(config::complete_lines(text).size());
            config::judge_write(text, nullptr, read.digest);
            if (text.empty()) {
                continue;
            }
        }
        applied.digest = std::move(read.digest);
        // The text is kept, not parsed into entries: the table is built from it line by line.
        try {
            config::NetworkFileLinesResult file =
                config::index_network_file(read.name, path, std::move(text));
            for (const config::Problem& problem : file.problems) {
                result.log.push_back({LogLine::Level::Warn, problem.to_string()});
            }
            if (file.file) {
                indexed.push_back(std::move(*file.file));
            }
        } catch (const std::bad_alloc&) {
            result.log.push_back(
                {LogLine::Level::Warn,
                 fmt::format("{}: out of memory while parsing; file skipped", path)});
            continue;
        }
        applied_files.emplace(read.name, std::move(applied));
    }
    // `x` before `x%int`, as config::load_directory orders them.
    std::sort(indexed.begin(), indexed.end(),
              [](const config::NetworkFileLines& a, const config::NetworkFileLines& b) {
                  return !a.header().internal && b.header().internal;
              });
    result.rebuilt_networks.push_back(network);
    state.files = std::move(applied_files);
    if (indexed.empty()) {
        state.table.reset();
        return;
    }
    std::vector<const config::NetworkFileLines*> pointers;
    for (const auto& file : indexed) {
        pointers.push_back(&file);
    }
    state.table = records::NetworkTable::build(pointers);
    indexed.clear();
    state.root.reset();
    if (reads.size() == 1 && !state.held_back) {
        state.root = state.table;
        state.root_size = text_size;
        state.root_lines = text_lines;
        state.root_header = std::move(header);
        state.window_begin = window_begin;
        state.window_hash = window_hash;
    }
    for (const records::Finding& finding : state.table->findings()) {
        result.log.push_back({LogLine::Level::Warn, finding_text(finding)});
    }
}

bool ReloadEngine::apply_append(const std::string& network, const std::string& file_name,
                                const config::FileIdentity& listed, NetworkState& state,
                                PassResult& result) {
    if (state.held_back || !state.root || state.root_header.empty() || state.files.size() != 1 ||
        state.files.begin()->first != file_name) {
        return false;
    }
    AppliedFile& applied = state.files.begin()->second;
    if (listed.device != applied.identity.device || listed.inode != applied.identity.inode ||
        static_cast<std::size_t>(listed.size) <= applied.size) {
        return false;
    }
    config::FilePieces pieces = config::read_network_file_pieces(
        directory_, file_name, state.root_header.size(), state.window_begin);
    if (!pieces.tail) {
        return false; // the full path reads it again and reports any problem
    }
    const std::string_view tail = *pieces.tail; // [window_begin, end of file)
    const auto& identity = pieces.identity;
    const std::size_t checked = applied.size - state.window_begin;
    // Only a file that grew in place, still holds the header and the bytes before the applied
    // end as applied, and ends with a complete line is an append; anything else takes the full
    // path with its in-progress rules.
    if (identity.device != applied.identity.device || identity.inode != applied.identity.inode ||
        tail.size() <= checked || tail.back() != '\n' || pieces.head != state.root_header ||
        text_hash(tail.substr(0, checked)) != state.window_hash) {
        return false;
    }
    const std::string_view since_root = tail.substr(state.root_size - state.window_begin);
    // The header again, so the lines since the root parse as a file of their own.
    std::string piece;
    piece.reserve(state.root_header.size() + since_root.size());
    piece.append(state.root_header);
    piece.append(since_root);
    const std::string path = fmt::format("{}/{}", directory_, file_name);
    config::NetworkFileResult parsed;
    try {
        parsed = config::parse_network_file(file_name, path, piece);
    } catch (const std::bad_alloc&) {
        return false;
    }
    if (!parsed.file) {
        return false;
    }
    const std::size_t limit = std::max(kMinAppendLimit, state.root->entry_count() / 4);
    if (parsed.file->entries.size() > limit) {
        return false; // time for a full build to become the new root
    }
    // Line 2 of the piece is the first line after the root's text.
    const auto shift = static_cast<int>(state.root_lines) - 1;
    for (auto& entry : parsed.file->entries) {
        entry.line += shift;
    }
    auto table = records::NetworkTable::build_appended(state.root, *parsed.file);
    if (!table) {
        return false;
    }
    for (config::Problem& problem : parsed.problems) {
        problem.line += problem.line > 1 ? shift : 0;
        result.log.push_back({LogLine::Level::Warn, problem.to_string()});
    }
    for (const records::Finding& finding : table->findings()) {
        result.log.push_back({LogLine::Level::Warn, finding_text(finding)});
    }
    const std::string_view new_bytes = tail.substr(checked);
    config::extend_digest(applied.digest, new_bytes);
    applied.text_hash = config::extend_text_hash(applied.text_hash, new_bytes);
    applied.identity = identity;
    applied.size = state.window_begin + tail.size();
    applied.verify = wall_clock_ns() - identity.mtime_ns < kTimestampGranularityNs;
    state.window_hash = text_hash(tail);
    state.table = std::move(table);
    result.rebuilt_networks.push_back(network);
    return true;
}

} // namespace lifecycle
