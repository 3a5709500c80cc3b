// ctrdns executable: the command line (spec §1) and nothing else. The only file that includes
// CLI11; all behaviour lives in daemon/ and below.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/log.hpp"
#include "build_info.hpp"
#include "check/check.hpp"
#include "daemon/daemon.hpp"
#include "daemon/detach.hpp"

namespace {

constexpr int kUsageExitCode = 2; // clap's, which netavark and scripts may rely on

// Rootful Podman's directory: netavark runs with --config /run/containers/networks.
constexpr const char* kDefaultCheckDir = "/run/containers/networks/aardvark-dns";

std::string_view program_name(const char* argv0) {
    const std::string_view path = argv0 == nullptr ? "ctrdns" : argv0;
    const std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

int print_version_json() {
    // Exactly aardvark's layout (two-space indent, this key order, one trailing newline).
    fmt::print("{{\n  \"version\": \"{}\",\n  \"commit\": \"{}\",\n  \"build_time\": \"{}\",\n"
               "  \"target\": \"{}\"\n}}\n",
               build_info::kVersion, build_info::kCommit, build_info::kBuildTime,
               build_info::kTarget);
    return 0;
}

/// A subcommand and what it does once the command line parsed. Adding one (e.g. `check`)
/// means adding an entry here.
struct Command {
    CLI::App* parser;
    std::function<int()> action;
};

} // namespace

int main(int argc, char** argv) {
    // Before anything opens an fd of its own: the caller's fds (netavark's, a test's fd 9) must
    // not leak into the daemon.
    lifecycle::close_inherited_fds();
    logging::set_level(logging::level_from_environment());
    const std::string_view name = program_name(argc > 0 ? argv[0] : nullptr);
    // Installed as aardvark-dns (what netavark runs), log under aardvark's tag.
    logging::open_syslog(name == "aardvark-dns" ? "aardvark-dns" : "ctrdns");

    lifecycle::Options options;
    CLI::App app{"DNS server for container networks, a drop-in for aardvark-dns",
                 std::string(name)};
    app.set_version_flag("-V,--version", fmt::format("ctrdns {}", build_info::kVersion));
    app.require_subcommand(1);
    app.add_option("-c,--config", options.config_dir, "path to configuration directory");
    app.add_option("-p,--port", options.port, "port to listen on (default 5533)");
    app.add_option("-f,--filter-search-domain", options.search_domain,
                   "search domain answered locally (default .dns.podman)");
    app.add_flag("--foreground", options.foreground,
                 "do not fork or detach; log to stderr (ctrdns extension)");
    app.add_flag("--probe-liveness", options.probe_liveness,
                 "probe container addresses with ARP/NDP and leave out dead ones while another "
                 "address remains (needs CAP_NET_RAW; ctrdns extension)");
    bool no_cache = false;
    app.add_flag("--no-cache", no_cache, "do not cache upstream answers (ctrdns extension)");

    check::Options check_options;
    CLI::App* check_parser = app.add_subcommand(
        "check", "Show what would be served and which entries are stale; --fix removes them.");
    check_parser->add_option("-c,--config", check_options.config_dir,
                             fmt::format("configuration directory (default {})", kDefaultCheckDir));
    check_parser->add_flag("--json", check_options.json, "print the report as JSON");
    check_parser->add_flag("--fix", check_options.fix,
                           "remove stale lines (under netavark's lock) and SIGHUP the server");

    const std::vector<Command> commands{
        {app.add_subcommand(
             "run", "Runs the aardvark dns server with the specified configuration directory."),
         [&] {
             options.cache_enabled = !no_cache;
             return lifecycle::run(options);
         }},
        {app.add_subcommand("version", "Display info about aardvark."), print_version_json},
        {check_parser,
         [&] {
             // `ctrdns -c DIR check` and `ctrdns check --config DIR` both work; the latter wins.
             if (check_options.config_dir.empty()) {
                 check_options.config_dir =
                     options.config_dir.empty() ? kDefaultCheckDir : options.config_dir;
             }
             return check::run(check_options);
         }},
    };

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version end up here too, with a success exit code.
        const int exit_code = app.exit(e);
        return exit_code == 0 ? 0 : kUsageExitCode;
    }

    for (const Command& command : commands) {
        if (command.parser->parsed()) {
            return command.action();
        }
    }
    return kUsageExitCode;
}
