#!/usr/bin/env python3
"""dns_checker.py: a UDP DNS client that checks every answer (python3, stdlib only).

  dns_checker.py load --server IP [--port P] [--rate QPS] [--duration S] [--timeout S]
                      [--sockets N] [--stop-file PATH] (--names FILE | --expect NAME=WANT ...)
  dns_checker.py wait --server IP [--port P] --expect NAME=WANT [--within S] [--since T]

WANT is an IPv4 address (the one answer expected; a name is asked for its A records) or
NXDOMAIN. A NAMES file holds "NAME WANT" per line.

load: sends A queries at QPS in total (round-robin over the names, over N non-blocking sockets,
many queries outstanding on each: pipelined), for S seconds or until PATH exists, then waits
--timeout for the last replies. Each query is counted once as
  correct  the reply matches WANT (NOERROR with only WANT's address; or NXDOMAIN when WANT is),
  wrong    any other reply: another address, an empty answer, NXDOMAIN, SERVFAIL, ...,
  lost     no reply within --timeout (a reply after that is also counted as "late", for
           information; the query stays lost).
A reply is timed by when the kernel received it (SO_TIMESTAMPNS), not when this process read
it, and the sockets are read before any query is expired: a checker that the machine stalls
for longer than --timeout does not count replies waiting in its socket as lost. The longest
such stall is printed (max_stall_ms), so a loss can be told from a checker that did not run.
It prints one summary line "checker: sent=... correct=... wrong=... lost=..." (and details of
the first failures) and exits 1 on any wrong or lost query, 0 otherwise.

wait: asks NAME every 5 ms (each query with a 250 ms timeout) until the reply matches WANT;
prints "resolved after X ms" counted from --since (a time.monotonic() value of this machine,
e.g. printed by netavark_writer.py; default: the start of the wait). Exits 0 once it matched
within --within seconds of --since, 1 otherwise.

Only the given server is ever contacted: tests point it at loopback or at gateways of their own
network namespace. This file must not depend on anything but the Python standard library.
"""

import argparse
import collections
import errno
import os
import random
import select
import socket
import struct
import sys
import time

# Linux's values (asm-generic/socket.h); Python's socket module does not name them.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
TIMESTAMP_SPACE = socket.CMSG_SPACE(16)  # struct timespec

NXDOMAIN = "NXDOMAIN"
RCODE_NAMES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_name(name):
    out = bytearray()
    for label in name.strip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError(f"bad name {name!r}")
        out.append(len(raw))
        out += raw
    out.append(0)
    return bytes(out)


def question_bytes(name):
    """Everything of a query after its ID: RD flag, one question (NAME, A, IN)."""
    return struct.pack(">HHHHH", 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack(">HH", 1, 1)


def skip_name(msg, pos):
    """Position after the (possibly compressed) name at pos; raises IndexError on garbage."""
    while True:
        length = msg[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length & 0xC0:
            raise IndexError("bad label type")
        pos += 1 + length


def parse_reply(msg):
    """(id, rcode, question-bytes-lowercased, [IPv4 strings], other-record-count) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount, ancount = struct.unpack(">HHHH", msg[:8])
    if not flags & 0x8000:
        return None
    try:
        pos = 12
        qstart = pos
        for _ in range(qdcount):
            pos = skip_name(msg, pos) + 4
        question = msg[qstart:pos].lower()
        addrs, others = [], 0
        for _ in range(ancount):
            pos = skip_name(msg, pos)
            rtype, _rclass, _ttl, rdlen = struct.unpack(">HHIH", msg[pos:pos + 10])
            pos += 10
            rdata = msg[pos:pos + rdlen]
            if len(rdata) != rdlen:
                return None
            pos += rdlen
            if rtype == 1 and rdlen == 4:
                addrs.append(socket.inet_ntoa(rdata))
            else:
                others += 1
    except (IndexError, struct.error):
        return None
    return qid, flags & 0xF, question, addrs, others


def judge(want, rcode, addrs, others):
    """None when the reply is right, else a short description of what was wrong."""
    if want == NXDOMAIN:
        if rcode == 3:
            return None
        return f"{RCODE_NAMES.get(rcode, rcode)} {','.join(addrs)}".strip()
    if rcode != 0:
        return RCODE_NAMES.get(rcode, str(rcode))
    if not addrs:
        return "NOERROR, no A record"
    if any(a != want for a in addrs) or others:
        return "answer " + ",".join(addrs) + (f" +{others} other records" if others else "")
    return None


def ask_once(server, port, name, want, timeout=0.2):
    """One A query for name: None when the reply matches want, else what was wrong."""
    template = question_bytes(name)
    question = template[10:].lower()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.connect((server, port))
        sock.settimeout(timeout)
        qid = random.randrange(65536)
        deadline = time.monotonic() + timeout
        sock.send(struct.pack(">H", qid) + template)
        while True:
            parsed = parse_reply(sock.recv(4096))
            if parsed and parsed[0] == qid and parsed[2] == question:
                return judge(want, parsed[1], parsed[3], parsed[4])
            if time.monotonic() > deadline:
                return "no reply"
    except socket.timeout:
        return "no reply within %.0f ms" % (timeout * 1000)
    except ConnectionRefusedError:
        return "connection refused (nobody listens)"
    finally:
        sock.close()


def read_expectations(args):
    pairs = []
    if args.names:
        with open(args.names, encoding="ascii") as f:
            for line in f:
                fields = line.split()
                if len(fields) == 2:
                    pairs.append((fields[0], fields[1]))
                elif fields:
                    sys.exit(f"dns_checker: bad line in {args.names}: {line!r}")
    for spec in args.expect or []:
        name, sep, want = spec.partition("=")
        if not sep:
            sys.exit(f"dns_checker: --expect needs NAME=WANT, got {spec!r}")
        pairs.append((name, want))
    if not pairs:
        sys.exit("dns_checker: no names to ask (--names or --expect)")
    for _, want in pairs:
        if want != NXDOMAIN:
            socket.inet_aton(want)  # raises on a typo
    return pairs


def run_load(args):
    pairs = read_expectations(args)
    templates = [question_bytes(name) for name, _ in pairs]
    questions = [t[10:].lower() for t in templates]
    socks = []
    for _ in range(args.sockets):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.connect((args.server, args.port))
        s.setblocking(False)
        socks.append(s)
    poller = select.poll()
    by_fd = {}
    for i, s in enumerate(socks):
        poller.register(s.fileno(), select.POLLIN)
        by_fd[s.fileno()] = i
    outstanding = [dict() for _ in socks]  # id -> (send time, name index)
    next_id = [random.randrange(65536) for _ in socks]
    in_flight = collections.deque()  # (send time, socket index, id), in send order

    counts = collections.Counter()
    failures = []  # (t, name, want, what) of the first failures, at most 5 of each kind
    failure_kinds = collections.Counter()
    fail_buckets = collections.Counter()  # 100 ms bucket -> failures, for the timeline
    latencies = []
    start = time.monotonic()
    stop_at = start + args.duration
    sent = 0
    sending = True
    sending_time = 0.0
    skipped = 0
    name_index = 0

    def record_failure(t, idx, what):
        fail_buckets[int((t - start) * 10)] += 1
        kind = what.split(" ")[0]
        failure_kinds[kind] += 1
        if len(failures) < 20 and failure_kinds[kind] <= 5:
            failures.append((t - start, pairs[idx][0], pairs[idx][1], what))

    def arrival_time(ancillary, now):
        # The kernel's receive time (CLOCK_REALTIME) moved onto the monotonic clock the send
        # times use; without the timestamp, the time this process read the reply.
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(data) >= 16:
                seconds, nanoseconds = struct.unpack("qq", data[:16])
                return now - max(0.0, time.time() - (seconds + nanoseconds / 1e9))
        return now

    def receive(sock_index, now):
        sock = socks[sock_index]
        table = outstanding[sock_index]
        while True:
            try:
                msg, ancillary, _, _ = sock.recvmsg(4096, TIMESTAMP_SPACE)
            except BlockingIOError:
                return
            except ConnectionRefusedError:
                counts["refused"] += 1  # ICMP port unreachable: nobody listens (any more)
                continue
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return
                raise
            parsed = parse_reply(msg)
            if parsed is None:
                counts["garbage"] += 1
                continue
            qid, rcode, question, addrs, others = parsed
            entry = table.pop(qid, None)
            if entry is None:
                counts["late_or_stray"] += 1
                continue
            sent_at, idx = entry
            latency = arrival_time(ancillary, now) - sent_at
            latencies.append(latency)
            if latency > args.timeout:
                counts["lost"] += 1
                counts["late_or_stray"] += 1
                record_failure(sent_at, idx, "no reply within %.1f s (it came after %.0f ms)" %
                               (args.timeout, latency * 1000))
                continue
            what = None
            if question != questions[idx]:
                what = "reply for another question"
            else:
                what = judge(pairs[idx][1], rcode, addrs, others)
            if what is None:
                counts["correct"] += 1
            else:
                counts["wrong"] += 1
                record_failure(sent_at, idx, what)

    last_turn = start
    max_stall = 0.0
    while True:
        now = time.monotonic()
        max_stall = max(max_stall, now - last_turn)
        last_turn = now
        if sending and (now >= stop_at or (args.stop_file and os.path.exists(args.stop_file))):
            sending = False
            sending_time = now - start
            drain_until = now + args.timeout
        if sending:
            # Never more than 100 queries at once, and no catching up on more than 20 ms of
            # schedule: after a stall of this process, a burst could overflow the server's
            # socket buffer, and those drops would be this client's doing. Skipped sends only
            # lower the rate (the summary shows it).
            due = int((now - start) * args.rate) - sent - skipped
            if due > args.rate * 0.02:
                skipped += due - int(args.rate * 0.02)
                due = int(args.rate * 0.02)
            due = min(due, 100)
            for _ in range(max(due, 0)):
                si = sent % len(socks)
                table = outstanding[si]
                qid = next_id[si]
                while qid in table:
                    qid = (qid + 1) & 0xFFFF
                next_id[si] = (qid + 1) & 0xFFFF
                idx = name_index
                name_index = (name_index + 1) % len(pairs)
                try:
                    socks[si].send(struct.pack(">H", qid) + templates[idx])
                except (BlockingIOError, ConnectionRefusedError) as e:
                    # Not sent: a full socket buffer (we are too slow) or a pending ICMP
                    # error. Counted as lost, as the server never got a chance to answer.
                    counts["send_error_" + type(e).__name__] += 1
                    counts["lost"] += 1
                    record_failure(now, idx, "send failed: " + type(e).__name__)
                    sent += 1
                    continue
                table[qid] = (now, idx)
                in_flight.append((now, si, qid))
                sent += 1
        # Expire queries older than the timeout, after reading what is already queued: after a
        # stall of this process, replies that came in time are waiting in the sockets.
        limit = now - args.timeout
        if in_flight and in_flight[0][0] <= limit:
            for si in range(len(socks)):
                receive(si, now)
        while in_flight and in_flight[0][0] <= limit:
            sent_at, si, qid = in_flight.popleft()
            entry = outstanding[si].get(qid)
            if entry is not None and entry[0] == sent_at:
                del outstanding[si][qid]
                counts["lost"] += 1
                record_failure(sent_at, entry[1], "no reply within %.1f s" % args.timeout)
        if not sending and (not any(outstanding) or now >= drain_until):
            break
        wait_ms = 1 if sending else 20
        for fd, _ in poller.poll(wait_ms):
            receive(by_fd[fd], time.monotonic())
    for table in outstanding:  # what the drain did not see answered
        for sent_at, idx in table.values():
            counts["lost"] += 1
            record_failure(sent_at, idx, "no reply within %.1f s" % args.timeout)
    elapsed = time.monotonic() - start

    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else 0.0

    sending_time = max(sending_time, 1e-3)
    print(
        "checker: sent=%d correct=%d wrong=%d lost=%d late_or_stray=%d refused=%d garbage=%d "
        "skipped=%d rate=%.0f/s p50_ms=%.2f p99_ms=%.2f max_ms=%.1f names=%d max_stall_ms=%.0f"
        % (sent, counts["correct"], counts["wrong"], counts["lost"], counts["late_or_stray"],
           counts["refused"], counts["garbage"], skipped, sent / sending_time, pct(0.5), pct(0.99),
           (latencies[-1] * 1000 if latencies else 0.0), len(pairs), max_stall * 1000))
    if sent < 0.7 * args.rate * sending_time:
        print("checker: warning: sent only %d queries (target %.0f/s); the machine is busy" %
              (sent, args.rate))
    if failures:
        print("checker: first failures (at most 5 of a kind; t = seconds since the start, when the "
              "query was sent):")
        for t, name, want, what in failures:
            print("  t=%.3f %s want %s got %s" % (t, name, want, what))
        print("checker: failures per 100 ms: " +
              " ".join("t=%.1f:%d" % (b / 10, n) for b, n in sorted(fail_buckets.items())[:40]))
    return 1 if counts["wrong"] or counts["lost"] or sent == 0 else 0


def run_wait(args):
    (name, want), = read_expectations(args)
    since = args.since if args.since is not None else time.monotonic()
    last = "nothing asked"
    tries = 0
    while time.monotonic() - since <= args.within:
        tries += 1
        what = ask_once(args.server, args.port, name, want, timeout=0.25)
        if what is None:
            print("checker: %s -> %s resolved after %.0f ms (%d tries)" %
                  (name, want, (time.monotonic() - since) * 1000, tries))
            return 0
        last = what
        time.sleep(0.005)
    print("checker: %s did not resolve to %s within %.1f s (%d tries); last reply: %s" %
          (name, want, args.within, tries, last))
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    for mode in ("load", "wait"):
        p = sub.add_parser(mode)
        p.add_argument("--server", required=True)
        p.add_argument("--port", type=int, default=53)
        p.add_argument("--expect", action="append", metavar="NAME=WANT")
        p.add_argument("--names", metavar="FILE")
    load = sub.choices["load"]
    load.add_argument("--rate", type=float, default=1000)
    load.add_argument("--duration", type=float, default=5)
    load.add_argument("--timeout", type=float, default=1.0)
    load.add_argument("--sockets", type=int, default=4)
    load.add_argument("--stop-file")
    wait = sub.choices["wait"]
    wait.add_argument("--within", type=float, default=1.0)
    wait.add_argument("--since", type=float)
    args = parser.parse_args()
    if args.mode == "load":
        return run_load(args)
    if len(read_expectations(args)) != 1:
        parser.error("wait takes exactly one --expect")
    return run_wait(args)


if __name__ == "__main__":
    sys.exit(main())
