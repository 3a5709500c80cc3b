// bench/: start-up probe for load_compare.sh. Starts a DNS server command and measures, from the
// fork, when the command's own process exited (a daemonizing `run` returns) and when the server
// first answered a query. Plain POSIX only: it must build with a bare `g++` and no project code.
//
// Usage: startup_probe [--deadline-ms MS] [--any-reply] ADDRESS PORT QNAME -- COMMAND [ARG...]
//   --deadline-ms: give up after MS (5000); a server loading 100,000 containers may need longer.
//   --any-reply: any response counts as the first answer (for scale_compare.sh's echo responder,
//   which answers without records).
// Prints one line: `exit_us=<n|-1> exit_status=<n|-1> first_answer_us=<n|-1>`.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Only C headers: the script compiles this on every run, on a machine that may be busy.

namespace {

constexpr long long kDefaultDeadlineMicros = 5'000'000;
constexpr int kResendMicros = 200;
// Once a query is neither refused nor answered, the server has bound its socket and the query
// waits in its queue: the first answer comes when the server gets to it, so more copies would not
// make it earlier, only leave a backlog that a server slow per query (aardvark-dns 1.4 with
// 100,000 containers) works through for seconds after the start.
constexpr long long kQueuedResendMicros = 100'000;

struct Packet {
    std::uint8_t bytes[300];
    std::size_t size;
};

/// A query for `qname` type A class IN, RD set, no EDNS; the ID goes in the first two bytes.
bool build_query(const char* qname, Packet& out) {
    const std::uint8_t header[12] = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    std::memcpy(out.bytes, header, sizeof(header));
    out.size = sizeof(header);
    const std::size_t total = std::strlen(qname);
    std::size_t start = 0;
    while (start < total) {
        const char* dot = std::strchr(qname + start, '.');
        const std::size_t end = dot != nullptr ? static_cast<std::size_t>(dot - qname) : total;
        const std::size_t length = end - start;
        if (length == 0 || length > 63 || out.size + 1 + length + 5 > sizeof(out.bytes)) {
            return false;
        }
        out.bytes[out.size++] = static_cast<std::uint8_t>(length);
        std::memcpy(out.bytes + out.size, qname + start, length);
        out.size += length;
        start = end + 1;
    }
    const std::uint8_t tail[5] = {0, 0, 1, 0, 1}; // root, QTYPE A, QCLASS IN
    std::memcpy(out.bytes + out.size, tail, sizeof(tail));
    out.size += sizeof(tail);
    return true;
}

long long now_micros() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

/// A reply counts when it is a response (QR), NOERROR and carries at least one answer; with
/// `any_reply`, when it is a response.
bool is_positive_answer(const std::uint8_t* bytes, ssize_t length, bool any_reply) {
    if (length < 12) {
        return false;
    }
    const bool response = (bytes[2] & 0x80) != 0;
    if (any_reply) {
        return response;
    }
    const int rcode = bytes[3] & 0x0f;
    const int answers = (bytes[6] << 8) | bytes[7];
    return response && rcode == 0 && answers > 0;
}

} // namespace

int main(int argc, char** argv) {
    long long deadline_micros = kDefaultDeadlineMicros;
    bool any_reply = false;
    const char* program = argv[0];
    while (argc > 1 && std::strncmp(argv[1], "--", 2) == 0 && argv[1][2] != '\0') {
        if (std::strcmp(argv[1], "--deadline-ms") == 0 && argc > 2) {
            deadline_micros = std::atoll(argv[2]) * 1000;
            argc -= 2;
            argv += 2;
        } else if (std::strcmp(argv[1], "--any-reply") == 0) {
            any_reply = true;
            argc -= 1;
            argv += 1;
        } else {
            break;
        }
    }
    if (argc < 6 || std::strcmp(argv[4], "--") != 0) {
        std::fprintf(stderr,
                     "usage: %s [--deadline-ms MS] [--any-reply] ADDRESS PORT QNAME -- COMMAND "
                     "[ARG...]\n",
                     program);
        return 2;
    }
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
        std::fprintf(stderr, "bad IPv4 address %s\n", argv[1]);
        return 2;
    }
    Packet query{};
    if (!build_query(argv[3], query)) {
        std::fprintf(stderr, "bad name %s\n", argv[3]);
        return 2;
    }

    const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sock < 0 ||
        connect(sock, reinterpret_cast<const sockaddr*>(&server), sizeof(server)) != 0) {
        std::perror("socket");
        return 1;
    }

    const long long start = now_micros();
    const pid_t child = fork();
    if (child < 0) {
        std::perror("fork");
        return 1;
    }
    if (child == 0) {
        execvp(argv[5], argv + 5);
        std::perror("execvp");
        _exit(127);
    }

    long long exit_us = -1;
    int exit_status = -1;
    long long answer_us = -1;
    std::uint16_t next_id = 1;
    long long last_send = -1;
    bool queued = false;
    std::uint8_t reply[4096];
    while (now_micros() - start < deadline_micros && (exit_us < 0 || answer_us < 0)) {
        if (exit_us < 0) {
            int status = 0;
            if (waitpid(child, &status, WNOHANG) == child) {
                exit_us = now_micros() - start;
                exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
        }
        if (answer_us >= 0) {
            usleep(kResendMicros);
            continue;
        }
        if (!queued || now_micros() - last_send >= kQueuedResendMicros) {
            query.bytes[0] = static_cast<std::uint8_t>(next_id >> 8);
            query.bytes[1] = static_cast<std::uint8_t>(next_id & 0xff);
            ++next_id;
            // Before the server binds this fails (ECONNREFUSED from the previous ICMP): keep
            // trying.
            (void)send(sock, query.bytes, query.size, 0);
            last_send = now_micros();
        }
        pollfd readable{sock, POLLIN, 0};
        const timespec wait{0, kResendMicros * 1000L};
        (void)ppoll(&readable, 1, &wait, nullptr);
        queued = true;
        for (;;) {
            const ssize_t got = recv(sock, reply, sizeof(reply), 0);
            if (got < 0) {
                if (errno == ECONNREFUSED) {
                    queued = false; // nothing bound yet
                }
                break;
            }
            if (is_positive_answer(reply, got, any_reply)) {
                answer_us = now_micros() - start;
                break;
            }
            queued = false; // answered, but not yet with the name: ask again
        }
    }
    std::printf("exit_us=%lld exit_status=%d first_answer_us=%lld\n", exit_us, exit_status,
                answer_us);
    return answer_us >= 0 ? 0 : 1;
}
