#include "config/settings_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "base/ascii.hpp"
#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "config/text_input.hpp"

namespace config {
namespace {

constexpr std::size_t kMaxSettingsFileSize =
    std::size_t{64} * 1024;                  // a handful of lines; refuse anything huge
constexpr std::size_t kMaxEchoedLength = 40; // of a key or value quoted in a message
constexpr std::string_view kSection = "ctrdns";
constexpr std::uint64_t kKibibyte = 1024;

enum class Kind {
    Bool,
    Count,    // a plain number
    Bytes,    // a number with an optional K/M/G suffix
    LogLevel, // error|warn|info|debug|trace
};

struct KeySpec {
    std::string_view name;
    Kind kind;
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    std::optional<bool> SettingsValues::*bool_field = nullptr;
    std::optional<std::uint64_t> SettingsValues::*number_field = nullptr;
};

constexpr KeySpec bool_key(std::string_view name, std::optional<bool> SettingsValues::*field) {
    return {name, Kind::Bool, 0, 0, field, nullptr};
}

constexpr KeySpec number_key(std::string_view name, Kind kind, std::uint64_t min, std::uint64_t max,
                             std::optional<std::uint64_t> SettingsValues::*field) {
    return {name, kind, min, max, nullptr, field};
}

// Bounds keep a typo (an extra zero, a value in the wrong unit) from starving or flooding the
// server; docs/settings.md lists them.
constexpr std::array kKeys{
    bool_key("probe_liveness", &SettingsValues::probe_liveness),
    bool_key("cache", &SettingsValues::cache),
    number_key("cache_max_entries", Kind::Count, 1, 10'000'000, &SettingsValues::cache_max_entries),
    number_key("cache_max_bytes", Kind::Bytes, 64 * kKibibyte,
               16 * kKibibyte * kKibibyte * kKibibyte, &SettingsValues::cache_max_bytes),
    number_key("cache_max_ttl", Kind::Count, 1, std::uint64_t{7} * 24 * 3600,
               &SettingsValues::cache_max_ttl),
    number_key("max_tcp_connections", Kind::Count, 1, 1'000'000,
               &SettingsValues::max_tcp_connections),
    number_key("max_udp_forwards", Kind::Count, 1, 1'000'000, &SettingsValues::max_udp_forwards),
    number_key("tcp_idle_timeout_ms", Kind::Count, 100, 3'600'000,
               &SettingsValues::tcp_idle_timeout_ms),
    number_key("max_forwards_in_flight", Kind::Count, 1, 1'000'000,
               &SettingsValues::max_forwards_in_flight),
    number_key("health_probe_timeout_ms", Kind::Count, 1000, 3'600'000,
               &SettingsValues::health_probe_timeout_ms),
    number_key("health_max_tracked", Kind::Count, 1, 1'000'000,
               &SettingsValues::health_max_tracked),
    bool_key("query_log", &SettingsValues::query_log),
    KeySpec{"log_level", Kind::LogLevel},
};

const KeySpec* find_key(std::string_view name) noexcept {
    const auto* found = std::find_if(kKeys.begin(), kKeys.end(),
                                     [name](const KeySpec& spec) { return spec.name == name; });
    return found == kKeys.end() ? nullptr : found;
}

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) noexcept {
    while (!text.empty() && is_blank(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_blank(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

// Untrusted text quoted back in a log line: printable ASCII only, and short.
std::string echo(std::string_view text) {
    std::string shown;
    for (const char c : text.substr(0, kMaxEchoedLength)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            shown += c;
        } else {
            shown += fmt::format("\\x{:02x}", byte);
        }
    }
    if (text.size() > kMaxEchoedLength) {
        shown += "...";
    }
    return shown;
}

bool equals_ignoring_case(std::string_view text, std::string_view lower_word) noexcept {
    return text.size() == lower_word.size() &&
           std::equal(text.begin(), text.end(), lower_word.begin(),
                      [](char a, char b) { return base::ascii_lower(a) == b; });
}

std::optional<bool> parse_bool(std::string_view text) noexcept {
    for (const std::string_view word : {"true", "yes", "on", "1"}) {
        if (equals_ignoring_case(text, word)) {
            return true;
        }
    }
    for (const std::string_view word : {"false", "no", "off", "0"}) {
        if (equals_ignoring_case(text, word)) {
            return false;
        }
    }
    return std::nullopt;
}

// Decimal digits only (no sign, no blanks); nullopt on anything else or on overflow.
std::optional<std::uint64_t> parse_decimal(std::string_view text) noexcept {
    if (text.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (kMax - digit) / 10) {
            return std::nullopt;
        }
        value = value * 10 + digit;
    }
    return value;
}

std::optional<std::uint64_t> parse_bytes(std::string_view text) noexcept {
    std::uint64_t multiplier = 1;
    if (!text.empty()) {
        switch (base::ascii_lower(text.back())) {
        case 'k':
            multiplier = kKibibyte;
            break;
        case 'm':
            multiplier = kKibibyte * kKibibyte;
            break;
        case 'g':
            multiplier = kKibibyte * kKibibyte * kKibibyte;
            break;
        default:
            break;
        }
        if (multiplier != 1) {
            text.remove_suffix(1);
        }
    }
    const std::optional<std::uint64_t> number = parse_decimal(text);
    if (!number || *number > std::numeric_limits<std::uint64_t>::max() / multiplier) {
        return std::nullopt;
    }
    return *number * multiplier;
}

// A value wrapped in matching quotes loses them; an unmatched quote is an error (nullopt).
std::optional<std::string_view> unquote(std::string_view value) noexcept {
    if (value.empty() || (value.front() != '"' && value.front() != '\'')) {
        if (!value.empty() && (value.back() == '"' || value.back() == '\'')) {
            return std::nullopt;
        }
        return value;
    }
    if (value.size() < 2 || value.back() != value.front()) {
        return std::nullopt;
    }
    return value.substr(1, value.size() - 2);
}

class Parser {
public:
    Parser(std::string_view path, SettingsFileResult& result)
        : path_(path)
        , result_(result) {}

    void line(int number, std::string_view text) {
        line_ = number;
        if (!text.empty() && text.back() == '\r') {
            text.remove_suffix(1);
        }
        const std::size_t comment = text.find('#');
        if (comment != std::string_view::npos) {
            text = text.substr(0, comment);
        }
        text = trim(text);
        if (text.empty()) {
            return;
        }
        if (text.front() == '[') {
            section(text);
            return;
        }
        const std::size_t equals = text.find('=');
        if (equals == std::string_view::npos) {
            problem(fmt::format("expected `key = value`, got `{}`", echo(text)));
            return;
        }
        const std::string_view key = trim(text.substr(0, equals));
        const std::string_view raw_value = trim(text.substr(equals + 1));
        if (in_other_section_) {
            problem(fmt::format("`{}` is in section [{}], not [{}]; ignored", echo(key),
                                echo(other_section_), kSection));
            return;
        }
        const KeySpec* spec = find_key(key);
        if (spec == nullptr) {
            problem(key.empty() ? std::string("a key is missing before `=`")
                                : fmt::format("unknown key `{}`", echo(key)));
            return;
        }
        const std::optional<std::string_view> value = unquote(raw_value);
        if (!value) {
            reject(*spec,
                   fmt::format("{}: unbalanced quotes in `{}`", spec->name, echo(raw_value)));
            return;
        }
        if (value->empty()) {
            reject(*spec, fmt::format("{}: no value after `=`", spec->name));
            return;
        }
        assign(*spec, *value);
    }

private:
    void section(std::string_view text) {
        if (text.back() != ']') {
            problem(fmt::format("expected `[{}]`, got `{}`", kSection, echo(text)));
            return;
        }
        const std::string_view name = trim(text.substr(1, text.size() - 2));
        in_other_section_ = name != kSection;
        if (in_other_section_) {
            other_section_ = std::string(name);
            problem(fmt::format("unknown section [{}]; its keys are ignored", echo(name)));
        }
    }

    void assign(const KeySpec& spec, std::string_view value) {
        SettingsValues& values = result_.values;
        switch (spec.kind) {
        case Kind::Bool: {
            const std::optional<bool> parsed = parse_bool(value);
            if (!parsed) {
                reject(spec,
                       fmt::format("{}: expected true or false, got `{}`", spec.name, echo(value)));
                return;
            }
            note_repeat(spec);
            values.*spec.bool_field = *parsed;
            return;
        }
        case Kind::Count:
        case Kind::Bytes: {
            const std::optional<std::uint64_t> parsed =
                spec.kind == Kind::Bytes ? parse_bytes(value) : parse_decimal(value);
            if (!parsed) {
                reject(spec,
                       fmt::format("{}: expected a whole number{}, got `{}`", spec.name,
                                   spec.kind == Kind::Bytes ? " (bytes, or with K, M or G)" : "",
                                   echo(value)));
                return;
            }
            if (*parsed < spec.min || *parsed > spec.max) {
                reject(spec, fmt::format("{}: {} is outside {}..{}", spec.name, *parsed, spec.min,
                                         spec.max));
                return;
            }
            note_repeat(spec);
            values.*spec.number_field = *parsed;
            return;
        }
        case Kind::LogLevel: {
            const std::optional<base::log::Level> parsed = base::log::parse_level(value);
            if (!parsed) {
                reject(spec, fmt::format("{}: expected error, warn, info, debug or trace, got `{}`",
                                         spec.name, echo(value)));
                return;
            }
            note_repeat(spec);
            values.log_level = parsed;
            return;
        }
        }
    }

    void note_repeat(const KeySpec& spec) {
        const auto index = static_cast<std::size_t>(&spec - kKeys.data());
        if (set_on_line_[index] != 0) {
            problem(fmt::format("{} is already set on line {}; this line wins", spec.name,
                                set_on_line_[index]));
        }
        set_on_line_[index] = line_;
    }

    void reject(const KeySpec& spec, std::string message) {
        problem(std::move(message) + "; ignored");
        auto& rejected = result_.rejected_keys;
        if (std::find(rejected.begin(), rejected.end(), spec.name) == rejected.end()) {
            rejected.emplace_back(spec.name);
        }
    }

    void problem(std::string message) {
        result_.problems.push_back(Problem{std::string(path_), line_, std::move(message)});
    }

    std::string_view path_;
    SettingsFileResult& result_;
    int line_ = 0;
    bool in_other_section_ = false;
    std::string other_section_;
    std::array<int, kKeys.size()> set_on_line_{};
};

} // namespace

namespace {

void copy_field(const KeySpec& spec, SettingsValues& to, const SettingsValues& from) {
    if (spec.bool_field != nullptr) {
        to.*spec.bool_field = from.*spec.bool_field;
    } else if (spec.number_field != nullptr) {
        to.*spec.number_field = from.*spec.number_field;
    } else {
        to.log_level = from.log_level;
    }
}

bool is_set(const KeySpec& spec, const SettingsValues& values) {
    if (spec.bool_field != nullptr) {
        return (values.*spec.bool_field).has_value();
    }
    if (spec.number_field != nullptr) {
        return (values.*spec.number_field).has_value();
    }
    return values.log_level.has_value();
}

} // namespace

void SettingsValues::overlay(const SettingsValues& later) {
    for (const KeySpec& spec : kKeys) {
        if (is_set(spec, later)) {
            copy_field(spec, *this, later);
        }
    }
}

void SettingsValues::copy_key(std::string_view key, const SettingsValues& from) {
    if (const KeySpec* spec = find_key(key)) {
        copy_field(*spec, *this, from);
    }
}

SettingsFileResult parse_settings_file(std::string_view path, std::string_view text) {
    SettingsFileResult result;
    Parser parser(path, result);
    int number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        if (number < std::numeric_limits<int>::max()) {
            ++number;
        }
        parser.line(number, line);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    return result;
}

SettingsFileRead read_settings_file(const std::string& path) {
    SettingsFileRead read;
    const auto fail = [&](std::string message) {
        read.result.problems.push_back(Problem{path, 0, std::move(message) + "; file ignored"});
        return read;
    };
    // O_NONBLOCK: a FIFO put in place of the file must not hang a start or a reload.
    const base::UniqueFd fd(
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): POSIX open has no other form
        ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd.valid()) {
        const int error = errno;
        if (error == ENOENT || error == ENOTDIR) {
            return read; // no file is the normal case: every setting keeps its default
        }
        read.found = true;
        return fail(fmt::format("cannot open: {}", base::os_error_text(error)));
    }
    read.found = true;

    struct stat info {};

    if (::fstat(fd.get(), &info) != 0) {
        return fail(fmt::format("cannot stat: {}", base::os_error_text(errno)));
    }
    // A character device is allowed so that CTRDNS_CONF=/dev/null means "no settings".
    if (!S_ISREG(info.st_mode) && !S_ISCHR(info.st_mode)) {
        return fail("not a regular file");
    }
    const base::Result<std::string> text =
        read_capped(fd.get(), kMaxSettingsFileSize, static_cast<std::size_t>(info.st_size));
    if (!text && text.error().os_error() == kTooLarge) {
        return fail(fmt::format("larger than {} KiB", kMaxSettingsFileSize / 1024));
    }
    if (!text) {
        return fail(fmt::format("cannot read: {}", text.error()));
    }
    if (!is_valid_utf8(*text)) {
        return fail("not valid UTF-8");
    }
    read.result = parse_settings_file(path, *text);
    return read;
}

std::vector<std::string> settings_file_paths(uid_t euid, const SettingsEnvironment& environment) {
    const auto non_empty = [](const char* value) {
        return value != nullptr && *value != '\0';
    };
    if (non_empty(environment.ctrdns_conf)) {
        return {environment.ctrdns_conf};
    }
    std::vector<std::string> paths{kSystemSettingsPath};
    const bool rootless = euid != 0 || non_empty(environment.containers_userns);
    if (!rootless) {
        return paths;
    }
    // As Podman finds the user's containers.conf: $XDG_CONFIG_HOME, else $HOME/.config.
    std::filesystem::path config_home;
    if (non_empty(environment.xdg_config_home)) {
        config_home = environment.xdg_config_home;
    } else if (non_empty(environment.home)) {
        config_home = std::filesystem::path(environment.home) / ".config";
    } else {
        return paths; // no home to look in: the system file only
    }
    paths.push_back((config_home / "containers" / "ctrdns.conf").string());
    return paths;
}

} // namespace config
