#!/usr/bin/env python3
"""A misbehaving upstream resolver for 800-hostile.bats, on loopback addresses only.

usage: hostile_upstream.py LOG ADDR... (port 53, UDP and TCP on each ADDR)

Every query is logged to LOG as "ADDR PROTO QNAME ecs=0|1". Answers by QNAME (lowercase):
  big.hostile.test     520 A records (8 KiB) over UDP whatever the EDNS size asked; whole over TCP
  noq.hostile.test     on the FIRST address: QDCOUNT 0 with an A record; elsewhere a normal answer
  cnamenx.hostile.test NXDOMAIN: a CNAME (TTL 1) to gone.hostile.test, SOA TTL 300 MINIMUM 300
  anything else        one A record 192.0.2.80, TTL 60
"""
import socket
import struct
import sys
import threading

LOG = sys.argv[1]
ADDRESSES = sys.argv[2:]
log_lock = threading.Lock()


def log(line):
    with log_lock, open(LOG, "a") as out:
        out.write(line + "\n")


def parse_question(query):
    """(qname text, end of the question, question bytes, has ECS)."""
    pos = 12
    labels = []
    while query[pos] != 0:
        length = query[pos]
        labels.append(query[pos + 1:pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    end = pos + 5
    arcount = struct.unpack("!H", query[10:12])[0]
    ecs = False
    if arcount and len(query) >= end + 11 and query[end + 1:end + 3] == b"\x00\x29":
        rdlen = struct.unpack("!H", query[end + 9:end + 11])[0]
        opts = query[end + 11:end + 11 + rdlen]
        i = 0
        while i + 4 <= len(opts):
            code, olen = struct.unpack("!HH", opts[i:i + 4])
            ecs = ecs or code == 8
            i += 4 + olen
    return ".".join(labels).lower(), end, query[12:end], ecs


def a_record(ttl, last_octet):
    return struct.pack("!HHHIH", 0xC00C, 1, 1, ttl, 4) + bytes([192, 0, 2, last_octet])


def answer(query, addr, proto):
    qname, _, question, ecs = parse_question(query)
    log(f"{addr} {proto} {qname} ecs={int(ecs)}")
    qid = query[:2]
    flags = 0x8180 | (query[2] << 8 & 0x0100)
    if qname == "big.hostile.test":
        count = 520
        records = b"".join(a_record(60, i % 250 + 1) for i in range(count))
        return qid + struct.pack("!HHHHH", flags, 1, count, 0, 0) + question + records
    if qname == "noq.hostile.test" and addr == ADDRESSES[0]:
        return qid + struct.pack("!HHHHH", flags, 0, 1, 0, 0) + a_record(60, 66)
    if qname == "cnamenx.hostile.test":
        target = b"\x04gone\x07hostile\x04test\x00"
        cname = struct.pack("!HHHIH", 0xC00C, 5, 1, 1, len(target)) + target
        soa_rdata = struct.pack("!HH", 0xC00C, 0xC00C) + struct.pack("!IIIII", 1, 7200, 900, 86400, 300)
        soa = struct.pack("!HHHIH", 0xC00C, 6, 1, 300, len(soa_rdata)) + soa_rdata
        return qid + struct.pack("!HHHHH", flags | 3, 1, 1, 1, 0) + question + cname + soa
    return qid + struct.pack("!HHHHH", flags, 1, 1, 0, 0) + question + a_record(60, 80)


def serve_udp(addr):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, 53))
    while True:
        query, peer = sock.recvfrom(65535)
        try:
            sock.sendto(answer(query, addr, "udp"), peer)
        except Exception as error:  # a test fake: report and keep serving
            log(f"{addr} error {error}")


def serve_tcp_client(conn, addr):
    with conn:
        data = b""
        while True:
            chunk = conn.recv(65535)
            if not chunk:
                return
            data += chunk
            while len(data) >= 2 and len(data) >= 2 + struct.unpack("!H", data[:2])[0]:
                length = struct.unpack("!H", data[:2])[0]
                reply = answer(data[2:2 + length], addr, "tcp")
                data = data[2 + length:]
                conn.sendall(struct.pack("!H", len(reply)) + reply)


def serve_tcp(addr):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((addr, 53))
    listener.listen(16)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_tcp_client, args=(conn, addr), daemon=True).start()


for address in ADDRESSES:
    threading.Thread(target=serve_udp, args=(address,), daemon=True).start()
    threading.Thread(target=serve_tcp, args=(address,), daemon=True).start()
log("ready")
threading.Event().wait()
