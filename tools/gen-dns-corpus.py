#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz_query_parse target (tests/fuzz/corpus/fuzz_query_parse/).

Every seed is hand-assembled here, so the corpus is ours and reproducible: run this script again
after changing it and commit the result. Files it does not name (e.g. minimised crash inputs
added as regressions) are left alone. Seeds cover the shapes parse_query must handle: what dig
sends, compressed names, EDNS variations, and the malformed cases that must not crash.
"""
import pathlib
import struct
import sys

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fuzz/corpus/fuzz_query_parse"

A, PTR, MX, AAAA, OPT = 1, 12, 15, 28, 41
DIG_COOKIE = bytes.fromhex("000a0008") + bytes.fromhex("5c1e9a417b02d366")


def header(ident, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)


def name(text):
    out = b""
    for label in filter(None, text.split(".")):
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def question(text, qtype, qclass=1):
    return name(text) + struct.pack(">HH", qtype, qclass)


def opt(payload=1232, ttl=0, options=b""):
    return b"\0" + struct.pack(">HHIH", OPT, payload, ttl, len(options)) + options


def record(owner, rtype, rdata, ttl=0):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


SEEDS = {
    # What dig 9.18 sends by default: RD+AD, EDNS 1232, client cookie.
    "dig-a-cookie": header(0x1D2C, 0x0120, ar=1) + question("aone.dns.podman", A) + opt(options=DIG_COOKIE),
    "dig-aaaa-mixed-case": header(0x0002, 0x0120, ar=1) + question("AOne.DNS.podman", AAAA) + opt(options=DIG_COOKIE),
    "ptr-v4-norec": header(0x0003, 0x0020) + question("53.117.187.10.in-addr.arpa", PTR),
    "ptr-v6": header(0x0004, 0x0100) + question(".".join("0" * 31 + "1") + ".0.0.d.f.ip6.arpa", PTR),
    "plain-a-no-edns": header(0x0005, 0x0100) + question("atwo", A),
    "mx-do-bit": header(0x0006, 0x0100, ar=1) + question("example.com", MX) + opt(4096, 0x8000),
    "edns-payload-100": header(0x0007, 0x0100, ar=1) + question("a", A) + opt(100),
    "root-question": header(0x0008, 0x0100) + question(".", 2),
    # Second question compressed against the first: legal.
    "two-questions-compressed": header(0x0009, 0x0100, qd=2) + question("aone.dns.podman", A)
    + b"\x04atwo\xc0\x11" + struct.pack(">HH", A, 1),
    # Answer and authority sections in a query, then a non-OPT additional record.
    "stray-sections": header(0x000A, 0x0100, an=1, ns=1, ar=2) + question("a.b", A)
    + record(b"\xc0\x0c", A, bytes([10, 0, 0, 1])) + record(name("b"), 2, b"")
    + record(name("glue"), A, bytes([1, 2, 3, 4])) + opt(),
    # Malformed: each must be FORMERR or dropped, never a crash.
    "pointer-loop": header(0x000B, 0x0100) + b"\x01a\xc0\x0c" + struct.pack(">HH", A, 1),
    "pointer-forward": header(0x000C, 0x0100) + b"\xc0\x12" + struct.pack(">HH", A, 1) + name("x"),
    "label-64": header(0x000D, 0x0100) + b"\x40" + b"a" * 64 + b"\0" + struct.pack(">HH", A, 1),
    "two-opts": header(0x000E, 0x0100, ar=2) + question("a", A) + opt() + opt(),
    "opt-owner-not-root": header(0x000F, 0x0100, ar=1) + question("a", A) + name("x")
    + struct.pack(">HHIH", OPT, 1232, 0, 0),
    "qdcount-zero": header(0x0010, 0x0100, qd=0),
    "response-bit": header(0x0011, 0x8180) + question("a", A),
    "truncated-question": (header(0x0012, 0x0100) + question("aone.dns.podman", A))[:-3],
    "short-header": header(0x0013, 0x0100)[:7],
    # Many answers: the reply must truncate at 512 without EDNS, and fit with EDNS 4096.
    "long-name-no-edns": header(0x0014, 0x0100) + question(".".join(["x" * 63] * 3), A),
    "long-name-edns-4096": header(0x0015, 0x0100, ar=1) + question(".".join(["x" * 63] * 3), A) + opt(4096),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for seed, data in SEEDS.items():
        (OUT / seed).write_bytes(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
