// daemon/: the one loading path behind start-up and every reload: reads only the network files
// that changed, holds back files netavark is still writing (docs/reload.md), rebuilds only the
// networks that changed, and composes the store to serve. No threads, no sockets, no asio: the
// caller picks the thread and passes the time, so the rules are unit-tested with a fake clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config_dir.hpp"
#include "config/write_progress.hpp"
#include "records/record_store.hpp"

namespace lifecycle {

using ReloadClock = std::chrono::steady_clock;

struct ReloadSettings {
    /// A held-back file is applied once it has not changed for this long. Longer than netavark's
    /// pauses between two writes of one rewrite (microseconds to a few milliseconds when it is
    /// descheduled), short enough that a real shrink or deletion is applied well within a second.
    std::chrono::milliseconds settle{250};
    /// Runs after a full build walked its files and before it reads their lines back: a seam for
    /// tests to rewrite a file at that moment, as netavark may. Empty in the daemon.
    std::function<void()> before_build;
};

/// One message for the log, with its level (the engine never logs itself: it may run on a
/// worker thread, and the caller decides where lines go).
struct LogLine {
    enum class Level {
        Debug,
        Info,
        Warn
    };
    Level level = Level::Info;
    std::string text;
};

struct PassResult {
    bool directory_ok = true;
    std::string directory_error;
    /// The store to serve from now on; null when nothing changed since the last pass.
    std::shared_ptr<const records::RecordStore> store;
    std::vector<std::string> rebuilt_networks; // names whose table was rebuilt or dropped
    std::vector<LogLine> log;
    /// A file is held back: look again at this time even without a SIGHUP.
    std::optional<ReloadClock::time_point> recheck_at;
    /// No network is served and none is held back: the daemon has nothing left to do.
    bool nothing_to_serve = false;
    std::chrono::microseconds elapsed{0};
};

class ReloadEngine {
public:
    ReloadEngine(std::string directory, ReloadSettings settings = {});

    /// Looks at the directory once. `now` drives the settle rules.
    PassResult run_pass(ReloadClock::time_point now);

    /// The store composed by the last pass that changed something (empty before the first).
    const std::shared_ptr<const records::RecordStore>& current() const noexcept { return store_; }

    const ReloadSettings& settings() const noexcept { return settings_; }

private:
    struct AppliedFile {
        config::FileIdentity identity;
        std::size_t size = 0; // bytes applied
        config::LineDigest digest;
        std::uint64_t text_hash = config::kTextHashSeed; // of every byte applied
        bool verify = false; // read within the file system's timestamp granularity of a write
    };

    struct NetworkState {
        std::shared_ptr<const records::NetworkTable> table; // last applied; null: none yet
        std::map<std::string, AppliedFile> files;           // by file name, as applied
        // Single-file networks: the last full build (the root) and how the file has moved on
        // from it since: lines added (setups), root containers whose lines are gone
        // (teardowns), and root lines the rules must judge again with the added ones (stale
        // lines and their neighbours). All are applied as one small table over the root
        // (records::NetworkTable::build_overlay), so a change costs its own lines, not the
        // network's size, and never holds two full tables at once.
        std::shared_ptr<const records::NetworkTable> root;
        std::string added_lines; // entry lines beyond the root or judged again, each + '\n'
        std::vector<std::uint32_t> added_line_numbers; // their line numbers in the file
        std::vector<std::uint64_t> hidden_keys; // root containers gone, or in added_lines again
        // Root containers whose lines are judged again with the added ones (the root's
        // entangled lines and those clashing with a judged line): their lines are among
        // added_lines, in file order, so the stale-entry rules see them all together.
        std::vector<std::uint64_t> restated_keys;
        std::vector<std::uint32_t> added_line_orders; // their places among the root's lines
        std::size_t applied_lines = 0;                // '\n' in the applied file
        // The header line (with its '\n') the root was built with, and the one applied now
        // (`podman network update` changes it; the overlay then carries the new one). Empty:
        // changes take the full path.
        std::string root_header;
        std::string applied_header;
        // What an append is checked against without reading the whole file: the header, and
        // the bytes from a line start about 4 KiB before the applied end up to it (a rewrite
        // shifts or changes them).
        std::size_t window_begin = 0;
        std::uint64_t window_hash = config::kTextHashSeed;
        bool held_back = false;
        std::map<std::string, config::FileIdentity> seen; // identities at the last look
        ReloadClock::time_point last_change{};
    };

    using Candidates = std::map<std::string, config::FileIdentity>; // file name -> identity

    bool unchanged(const NetworkState& state, const Candidates& files) const;
    void evaluate(const std::string& network, const Candidates& files, NetworkState& state,
                  ReloadClock::time_point now, PassResult& result);

    struct ReadFile;

    bool apply_append(const std::string& network, const std::string& file_name,
                      const config::FileIdentity& listed, NetworkState& state, PassResult& result);
    bool apply_scanned(const std::string& network, const std::string& file_name,
                       NetworkState& state, ReloadClock::time_point now, PassResult& result);
    struct Overlay;
    std::shared_ptr<const records::NetworkTable>
    build_overlay(const std::string& file_name, const NetworkState& state, const Overlay& overlay,
                  PassResult& result, std::vector<std::uint64_t>* clashing = nullptr) const;
    enum class WriterVerdict {
        Apply,  // complete: apply now
        Wait,   // being written: keep the last content (a new network: its complete lines)
        Settled // quiet for the settle time: what is there is what the writer meant
    };
    using Incomplete = std::vector<std::pair<std::string, config::WriteState>>; // file, state
    WriterVerdict watch_writer(const Incomplete& incomplete, bool lost_a_file,
                               const std::map<std::string, config::FileIdentity>& identities,
                               NetworkState& state, ReloadClock::time_point now,
                               PassResult& result) const;
    void hold_deleted(const std::string& network, NetworkState& state, ReloadClock::time_point now,
                      PassResult& result);

    std::string directory_;
    ReloadSettings settings_;
    std::map<std::string, NetworkState> networks_; // by network name
    std::shared_ptr<const records::RecordStore> store_;
};

} // namespace lifecycle
