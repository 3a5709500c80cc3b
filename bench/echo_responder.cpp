// bench/: the physical limit for scale_compare.sh. A UDP "DNS server" that does no DNS: it turns
// each datagram into a reply by setting the QR bit and sends it back, reading and writing in
// batches with recvmmsg/sendmmsg, single-threaded like ctrdns. Whatever rate the load generator
// reaches against it is the most any server can reach on this machine with that generator.
// Plain POSIX only, no project code: it must build with a bare `g++` (the script compiles its own
// copy when no build tree has one).
//
// Usage: echo_responder ADDRESS PORT [PID_FILE]
// Runs in the foreground until SIGTERM/SIGINT; writes its pid to PID_FILE once it is bound.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

// The same batch size as ctrdns's DatagramBatch, so both pay the same syscalls per query.
constexpr unsigned kBatch = 32;
// Queries from a stub resolver are small; a larger datagram is echoed truncated to this size,
// which no benchmark query reaches.
constexpr std::size_t kDatagramSize = 1232;
constexpr std::size_t kHeaderSize = 12;
constexpr std::uint8_t kQrBit = 0x80;

struct Batch {
    std::uint8_t buffers[kBatch][kDatagramSize];
    iovec vectors[kBatch];
    sockaddr_in senders[kBatch];
    mmsghdr messages[kBatch];
};

bool write_pid_file(const char* path) {
    std::FILE* file = std::fopen(path, "w");
    if (file == nullptr) {
        return false;
    }
    std::fprintf(file, "%ld\n", static_cast<long>(getpid()));
    return std::fclose(file) == 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: %s ADDRESS PORT [PID_FILE]\n", argv[0]);
        return 2;
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
    if (inet_pton(AF_INET, argv[1], &local.sin_addr) != 1) {
        std::fprintf(stderr, "bad IPv4 address %s\n", argv[1]);
        return 2;
    }
    const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || bind(sock, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
        std::perror("bind");
        return 1;
    }
    if (argc == 4 && !write_pid_file(argv[3])) {
        std::perror("pid file");
        return 1;
    }

    static Batch batch; // 40 KiB: not on the stack
    for (;;) {
        for (unsigned i = 0; i < kBatch; ++i) {
            batch.vectors[i] = {batch.buffers[i], kDatagramSize};
            batch.messages[i] = {};
            batch.messages[i].msg_hdr.msg_name = &batch.senders[i];
            batch.messages[i].msg_hdr.msg_namelen = sizeof(batch.senders[i]);
            batch.messages[i].msg_hdr.msg_iov = &batch.vectors[i];
            batch.messages[i].msg_hdr.msg_iovlen = 1;
        }
        // Blocks for the first datagram, then takes whatever else is already queued.
        const int received = recvmmsg(sock, batch.messages, kBatch, MSG_WAITFORONE, nullptr);
        if (received < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::perror("recvmmsg");
            return 1;
        }
        // Replies are compacted to the front: a datagram too short for a DNS header (or from a
        // peer whose address did not fit) gets none, as a real server would drop it.
        unsigned replies = 0;
        for (unsigned i = 0; i < static_cast<unsigned>(received); ++i) {
            mmsghdr& message = batch.messages[i];
            if (message.msg_len < kHeaderSize ||
                message.msg_hdr.msg_namelen != sizeof(sockaddr_in)) {
                continue;
            }
            batch.buffers[i][2] = static_cast<std::uint8_t>(batch.buffers[i][2] | kQrBit);
            batch.vectors[i].iov_len = message.msg_len;
            if (replies != i) {
                batch.messages[replies] = message;
            }
            ++replies;
        }
        unsigned next = 0;
        while (next < replies) {
            const int sent = sendmmsg(sock, batch.messages + next, replies - next, 0);
            if (sent < 0) {
                if (errno == EINTR) {
                    continue;
                }
                // One reply the kernel refuses (e.g. ECONNREFUSED from an earlier ICMP) must not
                // stop the others: skip it, the client retries.
                ++next;
                continue;
            }
            next += static_cast<unsigned>(sent);
        }
    }
}
