// ctrdns executable: the command line (contract §1) and nothing else. The only file that includes
// CLI11; all behaviour lives in lifecycle/ and below.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/log.hpp"
#include "base/nameserver.hpp"
#include "build_info.hpp"
#include "check/check.hpp"
#include "check/default_dir.hpp"
#include "config/settings_file.hpp"
#include "inspect/live_evidence.hpp"
#include "inspect/wait_name.hpp"
#include "lifecycle/daemon.hpp"
#include "lifecycle/detach.hpp"
#include "status/client.hpp"

namespace {

constexpr int kUsageExitCode = 2; // clap's, which netavark and scripts may rely on

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
    base::log::set_level(base::log::level_from_environment());
    lifecycle::Options options;
    // A RUST_LOG that names a level is as explicit as a flag; anything else (unset, or Podman's
    // `netavark=info` filter) leaves the level to the settings file.
    if (const char* rust_log = std::getenv("RUST_LOG")) {
        options.command_line.log_level = base::log::parse_level(rust_log);
    }
    const std::string_view name = program_name(argc > 0 ? argv[0] : nullptr);
    // Installed as aardvark-dns (what netavark runs), log under aardvark's tag.
    base::log::open_syslog(name == "aardvark-dns" ? "aardvark-dns" : "ctrdns");

    CLI::App app{"DNS server for container networks, a drop-in for aardvark-dns",
                 std::string(name)};
    app.set_version_flag("-V,--version", fmt::format("ctrdns {}", build_info::kVersion));
    app.require_subcommand(1);
    auto* global_config =
        app.add_option("-c,--config", options.config_dir, "path to configuration directory");
    app.add_option("-p,--port", options.port, "port to listen on (default 5533)");
    app.add_option("-f,--filter-search-domain", options.search_domain,
                   "search domain answered locally (default .dns.podman)");
    app.add_flag("--foreground", options.foreground,
                 "do not fork or detach; log to stderr (ctrdns extension)");
    // The settings file (docs/settings.md) can set both; a flag given here wins over it.
    bool probe_liveness_flag = false;
    app.add_flag("--probe-liveness", probe_liveness_flag,
                 "probe container addresses with ARP/NDP and leave out dead ones while another "
                 "address remains (needs CAP_NET_RAW; ctrdns extension; settings: probe_liveness)");
    bool no_cache_flag = false;
    app.add_flag("--no-cache", no_cache_flag,
                 "do not cache upstream answers (ctrdns extension; settings: cache)");

    check::Options check_options;
    std::string wait_name;
    double wait_timeout_seconds = 30;
    std::uint16_t wait_port = base::kDnsPort;
    CLI::App* check_parser = app.add_subcommand(
        "check", "Show what would be served and which entries are stale; --fix removes them.");
    check_parser->add_option("-c,--config", check_options.config_dir,
                             "configuration directory (default: Podman's, as netavark finds it: "
                             "/run/containers/networks/aardvark-dns for root, "
                             "$XDG_RUNTIME_DIR/containers/networks/aardvark-dns otherwise)");
    check_parser->add_flag("--json", check_options.json, "print the report as JSON");
    auto* fix_flag = check_parser->add_flag(
        "--fix", check_options.fix,
        "remove stale lines (under netavark's lock) and SIGHUP the server; a shadowed line only "
        "once its container is shown gone (ARP/NDP, podman)");
    check_parser->add_flag("--dry-run", check_options.dry_run,
                           "show what --fix would remove or keep, and why; change nothing");
    auto* wait_option = check_parser->add_option(
        "--wait", wait_name, "exit 0 once the running server answers NAME, 1 on timeout");
    wait_option->type_name("NAME");
    check_parser->add_option("--timeout", wait_timeout_seconds, "seconds --wait waits (default 30)")
        ->check(CLI::NonNegativeNumber);
    check_parser->add_option("--port", wait_port,
                             "port the server listens on, for --wait (default 53, as netavark "
                             "passes it)");
    wait_option->excludes(fix_flag);

    std::string status_config_dir;
    bool status_json = false;
    bool status_prometheus = false;
    std::string status_log_queries;
    CLI::App* status_parser = app.add_subcommand(
        "status", "Ask the running server what it serves and does (over its status socket).");
    status_parser->add_option("-c,--config", status_config_dir,
                              "configuration directory of the server to ask (default: Podman's, "
                              "as for check)");
    auto* json_flag = status_parser->add_flag("--json", status_json, "print the report as JSON");
    status_parser
        ->add_flag("--prometheus", status_prometheus,
                   "print the counters in the Prometheus text format (node_exporter textfile "
                   "collector)")
        ->excludes(json_flag);
    status_parser
        ->add_option("--log-queries", status_log_queries,
                     "switch the query log on or off at run time (SIGUSR1 toggles it too)")
        ->check(CLI::IsMember({"on", "off"}));

    const std::vector<Command> commands{
        {app.add_subcommand(
             "run", "Runs the aardvark dns server with the specified configuration directory."),
         [&] {
             if (probe_liveness_flag) {
                 options.command_line.probe_liveness = true;
             }
             if (no_cache_flag) {
                 options.command_line.cache = false;
             }
             config::SettingsEnvironment environment;
             environment.ctrdns_conf = std::getenv("CTRDNS_CONF");
             environment.xdg_config_home = std::getenv("XDG_CONFIG_HOME");
             environment.home = std::getenv("HOME");
             environment.containers_userns = std::getenv("_CONTAINERS_USERNS_CONFIGURED");
             options.settings_paths = config::settings_file_paths(::geteuid(), environment);
             return lifecycle::run(options);
         }},
        {app.add_subcommand("version", "Display info about aardvark."), print_version_json},
        {check_parser,
         [&] {
             // `ctrdns -c DIR check` and `ctrdns check --config DIR` both work; the latter wins.
             // Without either, Podman's directory, not `run`'s /dev/stdin default.
             if (check_options.config_dir.empty() && global_config->count() > 0) {
                 check_options.config_dir = options.config_dir;
             }
             const uid_t euid = ::geteuid();
             const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
             const auto choice =
                 check_options.config_dir.empty()
                     ? check::default_config_dir(euid, runtime_dir)
                     : check::explicit_config_dir(check_options.config_dir, euid, runtime_dir);
             check_options.config_dir = choice.path;
             check_options.config_origin = choice.origin;
             if (!wait_name.empty()) {
                 inspect::WaitOptions wait;
                 wait.config_dir = choice.path;
                 wait.name = wait_name;
                 wait.port = wait_port;
                 wait.timeout = std::chrono::milliseconds(
                     static_cast<std::int64_t>(wait_timeout_seconds * 1000.0));
                 return inspect::wait_for_name(wait);
             }
             inspect::LiveEvidenceOptions evidence_options;
             evidence_options.mode = choice.mode;
             inspect::LiveEvidence evidence(evidence_options);
             return check::run(check_options, evidence);
         }},
        {status_parser,
         [&] {
             if (status_config_dir.empty() && global_config->count() > 0) {
                 status_config_dir = options.config_dir;
             }
             const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
             const auto choice =
                 status_config_dir.empty()
                     ? check::default_config_dir(::geteuid(), runtime_dir)
                     : check::explicit_config_dir(status_config_dir, ::geteuid(), runtime_dir);
             std::string request = "status text";
             if (!status_log_queries.empty()) {
                 request = "log-queries " + status_log_queries;
             } else if (status_json) {
                 request = "status json";
             } else if (status_prometheus) {
                 request = "status prometheus";
             }
             const status::Response response = status::send_request(
                 status::socket_path(choice.path), request, std::chrono::seconds(10));
             if (!response.ok) {
                 fmt::print(stderr, "ctrdns status: {}\n", response.error);
                 return 1;
             }
             std::fwrite(response.body.data(), 1, response.body.size(), stdout);
             return 0;
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
