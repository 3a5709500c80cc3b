#!/usr/bin/env python3
"""greedy_client.py: a container that takes all it can from a DNS server (python3, stdlib only).

  greedy_client.py hold-tcp --server IP --port P --source IP --count N --name NAME
                            --duration S --report FILE
  greedy_client.py flood-udp --server IP --port P --source IP --rate QPS --zone ZONE
                             --duration S --report FILE

hold-tcp: opens N TCP connections from SOURCE, asks NAME on each at once and again every
second on every connection still open (well within the server's 3 s idle timeout), so each
connection the server accepts is kept for the whole run. Every second it rewrites REPORT with
"open=X closed=Y answered=Z": X connections still open, Y closed by the server (or never
connected), Z replies received.

flood-udp: sends QPS queries per second from SOURCE, each for a new name under ZONE (so no
cache can absorb them), for S seconds, and writes "sent=X answered=Y" to REPORT.

Only the given server is ever contacted: tests point it at loopback. Depends on nothing but the
Python standard library (and dns_checker.py beside it for the query bytes).
"""

import argparse
import os
import selectors
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dns_checker import question_bytes  # noqa: E402


def query(qid, name):
    return struct.pack(">H", qid & 0xFFFF) + question_bytes(name)


def write_report(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        out.write(text + "\n")
    os.replace(tmp, path)


def hold_tcp(args):
    selector = selectors.DefaultSelector()
    buffers = {}
    closed = 0
    answered = 0
    qid = 0
    for _ in range(args.count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((args.source, 0))
            sock.settimeout(2)
            sock.connect((args.server, args.port))
            sock.setblocking(False)
        except OSError:
            sock.close()
            closed += 1
            continue
        selector.register(sock, selectors.EVENT_READ)
        buffers[sock] = b""

    def ask_all():
        nonlocal qid, closed
        for sock in list(buffers):
            qid += 1
            message = query(qid, args.name)
            try:
                sock.send(struct.pack(">H", len(message)) + message)
            except OSError:
                selector.unregister(sock)
                del buffers[sock]
                sock.close()
                closed += 1

    end = time.monotonic() + args.duration
    next_round = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= next_round:
            ask_all()
            write_report(args.report, f"open={len(buffers)} closed={closed} answered={answered}")
            next_round = now + 1.0
        if now >= end:
            break
        for key, _ in selector.select(timeout=max(0.0, min(next_round, end) - now)):
            sock = key.fileobj
            try:
                data = sock.recv(65535)
            except OSError:
                data = b""
            if not data:
                selector.unregister(sock)
                del buffers[sock]
                sock.close()
                closed += 1
                continue
            buffers[sock] += data
            while len(buffers[sock]) >= 2:
                length = struct.unpack(">H", buffers[sock][:2])[0]
                if len(buffers[sock]) < 2 + length:
                    break
                buffers[sock] = buffers[sock][2 + length:]
                answered += 1
    write_report(args.report, f"open={len(buffers)} closed={closed} answered={answered}")
    for sock in buffers:
        sock.close()
    return 0


def flood_udp(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.source, 0))
    sock.setblocking(False)
    start = time.monotonic()
    sent = 0
    answered = 0
    while True:
        now = time.monotonic()
        if now - start >= args.duration:
            break
        due = int((now - start) * args.rate)
        while sent < due:
            sent += 1
            try:
                sock.sendto(query(sent, f"q{sent}.{args.zone}"), (args.server, args.port))
            except BlockingIOError:
                pass
        try:
            while sock.recv(65535):
                answered += 1
        except BlockingIOError:
            pass
        time.sleep(0.005)
    write_report(args.report, f"sent={sent} answered={answered}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    for mode in ("hold-tcp", "flood-udp"):
        p = sub.add_parser(mode)
        p.add_argument("--server", required=True)
        p.add_argument("--port", type=int, default=53)
        p.add_argument("--source", required=True)
        p.add_argument("--duration", type=float, required=True)
        p.add_argument("--report", required=True)
    sub.choices["hold-tcp"].add_argument("--count", type=int, required=True)
    sub.choices["hold-tcp"].add_argument("--name", required=True)
    sub.choices["flood-udp"].add_argument("--rate", type=float, required=True)
    sub.choices["flood-udp"].add_argument("--zone", required=True)
    args = parser.parse_args()
    return hold_tcp(args) if args.mode == "hold-tcp" else flood_udp(args)


if __name__ == "__main__":
    sys.exit(main())
