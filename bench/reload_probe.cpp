// bench/: reload probe for scale_compare.sh. Drives a running DNS server through a series of
// reloads the way netavark does (append one line to a file, then SIGHUP the server) and measures,
// for each, the time from the SIGHUP until the new name answers; meanwhile a second client asks
// for a name that exists throughout at a fixed rate, open loop (one query every 1/rate s whether or
// not earlier ones were answered, as independent containers would), to measure how long other
// queries wait while a reload runs. Plain POSIX only, no project code: it must build with a bare
// `g++` (the script compiles its own copy when no build tree has one).
//
// Usage: reload_probe [options] SERVER PORT SOURCE PID FILE SCRIPT EXISTING_QNAME
//   SCRIPT holds one reload per line, `QNAME<TAB>LINE`: LINE is appended to FILE (with its
//   newline, in one write, as netavark appends), then the server is sent SIGHUP and QNAME is
//   polled until it answers.
// Options: --count N (reloads; default: every line of SCRIPT), --rate Q (existing-name queries per
//   second, 1000), --gap-ms G (pause after each reload, 20), --reload-timeout-ms T (30000),
//   --latency-out PATH (one line per existing-name query sent during a reload: latency in µs,
//   or -1 when unanswered after 2 s).
// Prints `reload_ms=<ms>` per reload, then one summary line:
//   `reloads=… failed=… rss_first_kib=… rss_last_kib=… hwm_kib=… window_queries=… window_lost=…`
// rss_first/rss_last: VmRSS after the gap following the first/last reload; hwm: the peak RSS over
// the series (VmHWM, reset before the first reload through /proc/PID/clear_refs).
// Exit status 1 when any reload's name never answered.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace {

constexpr long long kUnansweredAfterMicros = 2'000'000;
// A poll of the new name waits this long for its reply before asking again (a lost datagram
// must not stall the measurement, but a server that is busy reloading answers the queued poll as
// soon as it is back, so resending sooner would only pile up work), and never asks more often
// than kPollIntervalMicros.
constexpr long long kPollResendMicros = 200'000;
constexpr long long kPollIntervalMicros = 200;

struct Reload {
    std::string qname;
    std::string line;
};

struct Packet {
    std::uint8_t bytes[300];
    std::size_t size;
};

long long now_micros() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

/// A query for `qname` type A class IN, RD set, no EDNS; the ID goes in the first two bytes.
bool build_query(const std::string& qname, Packet& out) {
    const std::uint8_t header[12] = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    std::memcpy(out.bytes, header, sizeof(header));
    out.size = sizeof(header);
    std::size_t start = 0;
    while (start < qname.size()) {
        std::size_t end = qname.find('.', start);
        if (end == std::string::npos) {
            end = qname.size();
        }
        const std::size_t length = end - start;
        if (length == 0 || length > 63 || out.size + 1 + length + 5 > sizeof(out.bytes)) {
            return false;
        }
        out.bytes[out.size++] = static_cast<std::uint8_t>(length);
        std::memcpy(out.bytes + out.size, qname.data() + start, length);
        out.size += length;
        start = end + 1;
    }
    const std::uint8_t tail[5] = {0, 0, 1, 0, 1}; // root, QTYPE A, QCLASS IN
    std::memcpy(out.bytes + out.size, tail, sizeof(tail));
    out.size += sizeof(tail);
    return true;
}

void set_id(Packet& packet, std::uint16_t id) {
    packet.bytes[0] = static_cast<std::uint8_t>(id >> 8);
    packet.bytes[1] = static_cast<std::uint8_t>(id & 0xff);
}

std::uint16_t reply_id(const std::uint8_t* bytes) {
    return static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
}

/// A reply counts when it is a response (QR), NOERROR and carries at least one answer.
bool is_positive_answer(const std::uint8_t* bytes, ssize_t length) {
    if (length < 12) {
        return false;
    }
    const bool response = (bytes[2] & 0x80) != 0;
    const int rcode = bytes[3] & 0x0f;
    const int answers = (bytes[6] << 8) | bytes[7];
    return response && rcode == 0 && answers > 0;
}

int udp_socket(const sockaddr_in& source, const sockaddr_in& server) {
    const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sock < 0 || bind(sock, reinterpret_cast<const sockaddr*>(&source), sizeof(source)) != 0 ||
        connect(sock, reinterpret_cast<const sockaddr*>(&server), sizeof(server)) != 0) {
        std::perror("socket");
        std::exit(1);
    }
    return sock;
}

long read_status_kib(pid_t pid, const char* field) {
    const std::string path = "/proc/" + std::to_string(pid) + "/status";
    std::FILE* file = std::fopen(path.c_str(), "r");
    if (file == nullptr) {
        return -1;
    }
    char line[256];
    long value = -1;
    const std::size_t field_length = std::strlen(field);
    while (std::fgets(line, sizeof(line), file) != nullptr) {
        if (std::strncmp(line, field, field_length) == 0 && line[field_length] == ':') {
            value = std::strtol(line + field_length + 1, nullptr, 10);
            break;
        }
    }
    std::fclose(file);
    return value;
}

/// Resets VmHWM to the current RSS (Linux >= 4.0), so the next reading is the peak of what follows.
void reset_peak_rss(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/clear_refs";
    const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)!write(fd, "5", 1);
        close(fd);
    }
}

bool append_line(const char* path, const std::string& line) {
    const std::string text = line + "\n";
    const int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    const ssize_t written = write(fd, text.data(), text.size());
    close(fd);
    return written == static_cast<ssize_t>(text.size());
}

std::vector<Reload> read_script(const char* path) {
    std::vector<Reload> reloads;
    std::FILE* file = std::fopen(path, "r");
    if (file == nullptr) {
        std::perror(path);
        std::exit(2);
    }
    char buffer[4096];
    while (std::fgets(buffer, sizeof(buffer), file) != nullptr) {
        std::string text(buffer);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
            text.pop_back();
        }
        const std::size_t tab = text.find('\t');
        if (tab == std::string::npos || tab == 0 || tab + 1 == text.size()) {
            continue;
        }
        reloads.push_back({text.substr(0, tab), text.substr(tab + 1)});
    }
    std::fclose(file);
    return reloads;
}

/// The open-loop client for the name that exists throughout. Each query's send time is kept
/// under its ID; IDs wrap after 65,536 queries, far more than are in flight within 2 s.
class SteadyClient {
public:
    SteadyClient(int sock, const Packet& query, long long interval_micros)
        : sock_(sock)
        , query_(query)
        , interval_(interval_micros)
        , sent_at_(65536, -1)
        , in_window_(65536, false) {}

    long long next_send() const { return next_send_; }

    void send_due(long long now, bool reloading) {
        if (next_send_ == 0) {
            next_send_ = now;
        }
        while (now >= next_send_) {
            expire(now);
            set_id(query_, next_id_);
            sent_at_[next_id_] = now;
            in_window_[next_id_] = reloading;
            (void)send(sock_, query_.bytes, query_.size, 0);
            ++next_id_;
            next_send_ += interval_;
        }
    }

    void receive(long long now) {
        std::uint8_t reply[1500];
        for (;;) {
            const ssize_t got = recv(sock_, reply, sizeof(reply), 0);
            if (got < 0) {
                return;
            }
            if (got < 12) {
                continue;
            }
            const std::uint16_t id = reply_id(reply);
            if (sent_at_[id] < 0) {
                continue; // late duplicate, or already counted as lost
            }
            if (in_window_[id]) {
                latencies_.push_back(now - sent_at_[id]);
            }
            sent_at_[id] = -1;
        }
    }

    /// Counts queries older than kUnansweredAfterMicros as lost and forgets them.
    void expire(long long now) {
        // Only the slot about to be reused and the oldest ones can be due; a full scan every
        // send would cost 65,536 steps, so scan the range sent at least 2 s ago lazily.
        while (oldest_ != next_id_) {
            const long long sent = sent_at_[oldest_];
            if (sent >= 0 && now - sent < kUnansweredAfterMicros) {
                break;
            }
            if (sent >= 0) {
                if (in_window_[oldest_]) {
                    latencies_.push_back(-1);
                }
                sent_at_[oldest_] = -1;
            }
            ++oldest_;
        }
    }

    bool outstanding() const { return oldest_ != next_id_; }

    const std::vector<long long>& latencies() const { return latencies_; }

private:
    int sock_;
    Packet query_;
    long long interval_;
    long long next_send_ = 0;
    std::uint16_t next_id_ = 1;
    std::uint16_t oldest_ = 1;
    std::vector<long long> sent_at_;
    std::vector<bool> in_window_;
    std::vector<long long> latencies_;
};

[[noreturn]] void usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s [--count N] [--rate Q] [--gap-ms G] [--reload-timeout-ms T] "
                 "[--latency-out PATH] SERVER PORT SOURCE PID FILE SCRIPT EXISTING_QNAME\n",
                 program);
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    long count = -1;
    long rate = 1000;
    long gap_ms = 20;
    long reload_timeout_ms = 30'000;
    const char* latency_out = nullptr;
    int arg = 1;
    for (; arg + 1 < argc && std::strncmp(argv[arg], "--", 2) == 0; arg += 2) {
        const char* value = argv[arg + 1];
        if (std::strcmp(argv[arg], "--count") == 0) {
            count = std::atol(value);
        } else if (std::strcmp(argv[arg], "--rate") == 0) {
            rate = std::atol(value);
        } else if (std::strcmp(argv[arg], "--gap-ms") == 0) {
            gap_ms = std::atol(value);
        } else if (std::strcmp(argv[arg], "--reload-timeout-ms") == 0) {
            reload_timeout_ms = std::atol(value);
        } else if (std::strcmp(argv[arg], "--latency-out") == 0) {
            latency_out = value;
        } else {
            usage(argv[0]);
        }
    }
    if (argc - arg != 7 || rate <= 0) {
        usage(argv[0]);
    }
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[arg + 1])));
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[arg], &server.sin_addr) != 1 ||
        inet_pton(AF_INET, argv[arg + 2], &source.sin_addr) != 1) {
        std::fprintf(stderr, "bad IPv4 address\n");
        return 2;
    }
    const pid_t pid = static_cast<pid_t>(std::atol(argv[arg + 3]));
    const char* file = argv[arg + 4];
    std::vector<Reload> reloads = read_script(argv[arg + 5]);
    if (count >= 0 && static_cast<std::size_t>(count) < reloads.size()) {
        reloads.resize(static_cast<std::size_t>(count));
    }
    Packet steady_query{};
    if (reloads.empty() || !build_query(argv[arg + 6], steady_query)) {
        std::fprintf(stderr, "nothing to do, or a bad name\n");
        return 2;
    }

    const int steady_sock = udp_socket(source, server);
    const int poll_sock = udp_socket(source, server);
    SteadyClient steady(steady_sock, steady_query, 1'000'000 / rate);

    // Runs the steady client (and, while `reloading`, the new-name poll) until `until` or until
    // the poll is answered; returns the answer's time, or -1.
    std::uint16_t poll_id = 1;
    auto run_until = [&](long long until, const Packet* poll_query) -> long long {
        long long poll_sent = -1;
        const std::uint16_t first_poll_id = static_cast<std::uint16_t>(poll_id + 1);
        Packet query{};
        if (poll_query != nullptr) {
            query = *poll_query;
        }
        for (;;) {
            long long now = now_micros();
            if (now >= until) {
                return -1;
            }
            steady.send_due(now, poll_query != nullptr);
            if (poll_query != nullptr && (poll_sent < 0 || now - poll_sent >= kPollResendMicros)) {
                set_id(query, ++poll_id);
                (void)send(poll_sock, query.bytes, query.size, 0);
                poll_sent = now;
            }
            long long wake = std::min(until, steady.next_send());
            pollfd fds[2] = {{steady_sock, POLLIN, 0}, {poll_sock, POLLIN, 0}};
            const long long wait = wake - now_micros();
            timespec timeout{0, wait > 0 ? static_cast<long>(wait) * 1000L : 0L};
            (void)ppoll(fds, poll_query != nullptr ? 2 : 1, &timeout, nullptr);
            now = now_micros();
            if ((fds[0].revents & POLLIN) != 0) {
                steady.receive(now);
            }
            if (poll_query == nullptr || (fds[1].revents & POLLIN) == 0) {
                continue;
            }
            std::uint8_t reply[1500];
            ssize_t got = 0;
            while ((got = recv(poll_sock, reply, sizeof(reply), 0)) >= 0 || errno == ECONNREFUSED) {
                if (got < 0) {
                    // Nothing bound (aardvark-dns 1.4 rebinds its sockets on reload): ask again.
                    poll_sent = now - kPollResendMicros + kPollIntervalMicros;
                    continue;
                }
                // Any poll of this reload may bring the news; polls of earlier reloads may not.
                if (got < 12 || static_cast<std::uint16_t>(reply_id(reply) - first_poll_id) >
                                    static_cast<std::uint16_t>(poll_id - first_poll_id)) {
                    continue;
                }
                if (is_positive_answer(reply, got)) {
                    return now;
                }
                if (reply_id(reply) == poll_id) {
                    // Answered from the old data: ask again, but not in a tight loop.
                    poll_sent = now - kPollResendMicros + kPollIntervalMicros;
                }
            }
        }
    };

    // Warm up: the steady client runs a moment before the first reload.
    run_until(now_micros() + 100'000, nullptr);
    reset_peak_rss(pid);
    long rss_first = -1;
    long rss_last = -1;
    int failed = 0;
    for (std::size_t i = 0; i < reloads.size(); ++i) {
        Packet poll_query{};
        if (!build_query(reloads[i].qname, poll_query) || !append_line(file, reloads[i].line)) {
            std::fprintf(stderr, "reload %zu: bad name or cannot append to %s\n", i, file);
            return 2;
        }
        const long long signalled = now_micros();
        if (kill(pid, SIGHUP) != 0) {
            std::perror("kill");
            return 1;
        }
        const long long answered = run_until(signalled + reload_timeout_ms * 1000, &poll_query);
        if (answered < 0) {
            ++failed;
            std::printf("reload_ms=-1\n");
        } else {
            std::printf("reload_ms=%.3f\n", static_cast<double>(answered - signalled) / 1000.0);
        }
        std::fflush(stdout);
        run_until(now_micros() + gap_ms * 1000, nullptr);
        if (i == 0) {
            rss_first = read_status_kib(pid, "VmRSS");
        }
    }
    rss_last = read_status_kib(pid, "VmRSS");
    const long hwm = read_status_kib(pid, "VmHWM");
    // Let the last queries come back (or expire) before counting.
    const long long drain_until = now_micros() + kUnansweredAfterMicros + 100'000;
    while (now_micros() < drain_until && steady.outstanding()) {
        pollfd readable{steady_sock, POLLIN, 0};
        const timespec tick{0, 10'000'000};
        (void)ppoll(&readable, 1, &tick, nullptr);
        const long long now = now_micros();
        steady.receive(now);
        steady.expire(now);
        if (!steady.outstanding()) {
            break;
        }
    }
    long lost = 0;
    for (const long long latency : steady.latencies()) {
        lost += latency < 0 ? 1 : 0;
    }
    if (latency_out != nullptr) {
        std::FILE* out = std::fopen(latency_out, "a");
        if (out != nullptr) {
            for (const long long latency : steady.latencies()) {
                std::fprintf(out, "%lld\n", latency);
            }
            std::fclose(out);
        }
    }
    std::printf("reloads=%zu failed=%d rss_first_kib=%ld rss_last_kib=%ld hwm_kib=%ld "
                "window_queries=%zu window_lost=%ld\n",
                reloads.size(), failed, rss_first, rss_last, hwm, steady.latencies().size(), lost);
    return failed == 0 ? 0 : 1;
}
