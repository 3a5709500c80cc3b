// bench/: start-up probe for load_compare.sh. Starts a DNS server command and measures, from the
// fork, when the command's own process exited (a daemonizing `run` returns) and when the server
// first answered a query. Plain POSIX only: it must build with a bare `g++` and no project code.
//
// Usage: startup_probe ADDRESS PORT QNAME -- COMMAND [ARG...]
// Prints one line: `exit_us=<n|-1> exit_status=<n|-1> first_answer_us=<n|-1>`.
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

constexpr long long kDeadlineMicros = 5'000'000;
constexpr int kResendMicros = 200;

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

} // namespace

int main(int argc, char** argv) {
    if (argc < 6 || std::strcmp(argv[4], "--") != 0) {
        std::fprintf(stderr, "usage: %s ADDRESS PORT QNAME -- COMMAND [ARG...]\n", argv[0]);
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
    std::uint8_t reply[4096];
    while (now_micros() - start < kDeadlineMicros && (exit_us < 0 || answer_us < 0)) {
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
        query.bytes[0] = static_cast<std::uint8_t>(next_id >> 8);
        query.bytes[1] = static_cast<std::uint8_t>(next_id & 0xff);
        ++next_id;
        // Before the server binds this fails (ECONNREFUSED from the previous ICMP): keep trying.
        (void)send(sock, query.bytes, query.size, 0);
        pollfd readable{sock, POLLIN, 0};
        const timespec wait{0, kResendMicros * 1000L};
        (void)ppoll(&readable, 1, &wait, nullptr);
        for (;;) {
            const ssize_t got = recv(sock, reply, sizeof(reply), 0);
            if (got < 0) {
                break;
            }
            if (is_positive_answer(reply, got)) {
                answer_us = now_micros() - start;
                break;
            }
        }
    }
    std::printf("exit_us=%lld exit_status=%d first_answer_us=%lld\n", exit_us, exit_status,
                answer_us);
    return answer_us >= 0 ? 0 : 1;
}
