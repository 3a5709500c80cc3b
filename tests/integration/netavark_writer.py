#!/usr/bin/env python3
"""netavark_writer.py: changes an aardvark-dns network file exactly as netavark does, with
pauses between the individual write() calls (python3, stdlib only).

What netavark does (src/dns/aardvark.rs, the same from 1.4 to today's main):
  setup     flock(LOCK_EX) on CONFIG/../aardvark.lock (opened create+truncate); a new network
            file is open(O_CREAT|O_EXCL) and gets its header in one write; an existing one is
            opened O_APPEND; then the entry line (with its "\\n") in one write. Lock released,
            then SIGHUP (or, with no running server, a new one is started: not done here).
  teardown  no lock. Reads the file, then File::create (O_WRONLY|O_CREAT|O_TRUNC) and writes
            every line that does not contain the container ID as write(line) then write("\\n").
            If at most the header was left, the file is deleted. Then SIGHUP.
  update    (`podman network update`) no lock. Reads, File::create, writes the header's first
            field plus the new DNS servers, then every other line, each as write(line) then
            write("\\n"). SIGHUP only if the new server list is not empty.
The SIGHUP goes to the pid in CONFIG/aardvark.pid, read as netavark reads it.

  netavark_writer.py --dir DIR [pacing] setup NET ID V4S V6S NAMES [--gw GW[,GW]] [--net-dns D,..]
  netavark_writer.py --dir DIR [pacing] teardown NET ID
  netavark_writer.py --dir DIR [pacing] update NET [D[,D..]]
  netavark_writer.py --dir DIR populate NET GW PREFIX FIRST-IP COUNT
  netavark_writer.py --dir DIR [pacing] churn NET CHURN-GW SIDE-NET SIDE-GW [--duration S]
                         [--hup-rate R] [--dns-a IP] [--dns-b IP]

DIR is the daemon's directory (netavark's --config plus /aardvark-dns). V4S/V6S/NAMES are comma
lists ("" or "-" = none). populate writes (under the lock, in netavark's format, without
SIGHUP) a file of COUNT containers PREFIX0..PREFIX<COUNT-1> with consecutive addresses from
FIRST-IP and prints "NAME ADDRESS" lines for dns_checker.py on stdout.

Pacing (what happens between writes):
  --pause-ms MS      length of each pause (default 0: none)
  --pause-at WHERE   comma list: truncate (right after the truncating open: the file is empty),
                     header (after the header's "\\n"), split (between the two halves of a split
                     line), line:K (after the K-th entry line's "\\n"; K < 0 counts from the end),
                     every:N (after every N-th write call)
  --hup-in-pause     send SIGHUP at the start of every pause, as a parallel netavark (another
                     container's setup or teardown) would while this one is mid-write
  --split ID:BYTES   write the entry line of container ID in two write() calls, the first of
                     BYTES bytes (what a reader sees of a short or not-yet-complete write)
  --no-hup           do not send netavark's own SIGHUP after the change

churn: the storm of issue 7, for S seconds: every cycle (1) appends container churn-K to NET
under the lock, (2) tears down churn-(K-1) (the truncate and per-line rewrite), (3) rewrites NET's
header with DNS server A or B in turn (network update), (4) sets up SIDE-NET's only container (a
new file: O_EXCL + header) and tears it down (the file is deleted). Each change is followed by
netavark's SIGHUP, and a thread sends SIGHUPs at R per second throughout, landing mid-write.
At the end it appends the container "final" (address CHURN-GW's network .250) and prints
  hup_at=<time.monotonic() of that last SIGHUP> removed=<last torn-down name> <its address>
  final=final <address>
so the test can time how long the daemon takes to serve it.

Exit status 0, 1 on failure (message on stderr), 2 on usage errors. Stdlib only; nothing here
may depend on the daemon under test.
"""

import argparse
import fcntl
import hashlib
import ipaddress
import os
import shlex
import signal
import sys
import threading
import time


def container_id(name):
    """A 64-hex-digit ID like podman's, derived from the name so tests can recompute it."""
    return hashlib.sha256(("ctr-" + name).encode()).hexdigest()


def entry_line(cid, v4s, v6s, names, dns=None):
    """netavark's line: ID ipv4s ipv6s names[ dns], comma lists, with its newline."""
    line = f"{cid} {v4s} {v6s} {names}"
    if dns:
        line += " " + dns
    return line + "\n"


class Pacer:
    """Counts the write() calls of one change and pauses where asked."""

    def __init__(self, args, notify):
        self.pause = (args.pause_ms or 0) / 1000.0
        self.hup_in_pause = args.hup_in_pause
        self.notify = notify
        self.points = set()
        self.lines_at = []
        self.every = 0
        for spec in (args.pause_at or "").split(","):
            spec = spec.strip()
            if not spec:
                continue
            if spec in ("truncate", "header", "split"):
                self.points.add(spec)
            elif spec.startswith("line:"):
                self.lines_at.append(int(spec[5:]))
            elif spec.startswith("every:"):
                self.every = int(spec[6:])
            else:
                raise SystemExit(f"netavark_writer: bad --pause-at {spec!r}")
        self.split = {}
        for spec in args.split or []:
            cid, _, nbytes = spec.rpartition(":")
            self.split[cid] = int(nbytes)
        self.writes = 0
        self.pauses = 0
        self.entry_lines = 0
        # The longest time the file sat half-written between two write() calls of one change:
        # if the machine stalled this process past the server's settle time, the server was
        # right to read the file as it was, and a test failure says nothing about the server.
        self.max_gap = 0.0
        self.last_write = None

    def begin(self, entry_count):
        """A new rewrite of entry_count entry lines starts."""
        self.writes = 0
        self.entry_lines = 0
        self.total_entries = entry_count
        self.last_write = time.monotonic()

    def end(self):
        self.last_write = None

    def _pause(self):
        if self.pause <= 0:
            return
        self.pauses += 1
        if self.hup_in_pause:
            self.notify()
        time.sleep(self.pause)

    def at(self, point):
        if point in self.points:
            self._pause()

    def write(self, fd, data):
        """One write_all: normally one write() syscall."""
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        now = time.monotonic()
        if self.last_write is not None:
            self.max_gap = max(self.max_gap, now - self.last_write)
        self.last_write = now
        self.writes += 1
        if self.every and self.writes % self.every == 0:
            self._pause()

    def write_line(self, fd, line, is_header, cid=None):
        """write(line) then write("\\n"), as delete_entry and modify_network_dns_servers do."""
        raw = line.encode()
        if cid is not None and cid in self.split and 0 < self.split[cid] < len(raw):
            cut = self.split[cid]
            self.write(fd, raw[:cut])
            self.at("split")
            self.write(fd, raw[cut:])
        else:
            self.write(fd, raw)
        self.write(fd, b"\n")
        if is_header:
            self.at("header")
        else:
            self.entry_lines += 1
            for k in self.lines_at:
                if k == self.entry_lines or (k < 0 and self.total_entries + 1 + k == self.entry_lines):
                    self._pause()


class Netavark:
    def __init__(self, directory, args):
        self.dir = directory
        self.lock_path = os.path.join(directory, "..", "aardvark.lock")
        self.hups = 0
        self.hup_lock = threading.Lock()
        self.send_own_hup = not args.no_hup
        self.pacer = Pacer(args, self.sighup)
        self.last_hup_at = None

    def path(self, net):
        return os.path.join(self.dir, net)

    def sighup(self):
        """netavark's notify(): the pid in aardvark.pid, parsed as a whole."""
        try:
            with open(os.path.join(self.dir, "aardvark.pid"), encoding="ascii") as f:
                pid = int(f.read())
        except (OSError, ValueError):
            return False
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            return False
        with self.hup_lock:
            self.hups += 1
        self.last_hup_at = time.monotonic()
        return True

    def notify(self):
        if self.send_own_hup:
            self.sighup()

    def locked(self):
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def setup(self, net, line, header):
        """commit_entries + notify for one network."""
        lock = self.locked()
        try:
            self.pacer.begin(1)
            try:
                fd = os.open(self.path(net), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
                self.pacer.write(fd, (header + "\n").encode())
                self.pacer.at("header")
            except FileExistsError:
                fd = os.open(self.path(net), os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
            try:
                self.pacer.write(fd, line.encode())
            finally:
                os.close(fd)
                self.pacer.end()
        finally:
            os.close(lock)
        self.notify()

    def teardown(self, net, cid):
        """delete_entry + notify: returns True when the file was deleted."""
        with open(self.path(net), encoding="utf-8") as f:
            content = f.read()
        lines = content.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # split_terminator
        kept = [line for line in lines if cid not in line]
        fd = os.open(self.path(net), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            self.pacer.begin(max(len(kept) - 1, 0))
            self.pacer.at("truncate")
            for idx, line in enumerate(kept):
                self.pacer.write_line(fd, line, idx == 0, line.split(" ", 1)[0])
        finally:
            os.close(fd)
            self.pacer.end()
        deleted = len(kept) <= 1
        if deleted:
            os.remove(self.path(net))
        self.notify()
        return deleted

    def update(self, net, dns_servers):
        """modify_network_dns_servers: header = first field + new servers, rest unchanged."""
        try:
            with open(self.path(net), encoding="utf-8") as f:
                content = f.read()
        except FileNotFoundError:
            return
        lines = content.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        fd = os.open(self.path(net), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            self.pacer.begin(max(len(lines) - 1, 0))
            self.pacer.at("truncate")
            for idx, line in enumerate(lines):
                if idx == 0:
                    line = line.split(" ")[0] + (" " + dns_servers if dns_servers else "")
                self.pacer.write_line(fd, line, idx == 0, None if idx == 0 else line.split(" ", 1)[0])
        finally:
            os.close(fd)
            self.pacer.end()
        if dns_servers:
            self.notify()

    def populate(self, net, gw, prefix, first_ip, count):
        first = ipaddress.IPv4Address(first_ip)
        out = []
        chunks = [gw + "\n"]
        for i in range(count):
            name = f"{prefix}{i}"
            addr = str(first + i)
            chunks.append(entry_line(container_id(name), addr, "", name))
            out.append(f"{name} {addr}\n")
        lock = self.locked()
        try:
            fd = os.open(self.path(net), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            try:
                self.pacer.write(fd, "".join(chunks).encode())
            finally:
                os.close(fd)
        finally:
            os.close(lock)
        sys.stdout.write("".join(out))


def host_in(gw, last_octet):
    parts = gw.split(".")
    return ".".join(parts[:3] + [str(last_octet)])


def churn(nv, args):
    stop = threading.Event()
    background_hups = [0]

    def hupper():
        interval = 1.0 / args.hup_rate
        next_at = time.monotonic()
        while not stop.is_set():
            next_at += interval
            if nv.sighup():
                background_hups[0] += 1
            delay = next_at - time.monotonic()
            if delay > 0:
                stop.wait(delay)
            else:
                next_at = time.monotonic()

    thread = None
    if args.hup_rate > 0:
        thread = threading.Thread(target=hupper, daemon=True)
        thread.start()
    start = time.monotonic()
    cycle = 0
    previous = None
    changes = 0
    side_cid = container_id("side")
    try:
        while time.monotonic() - start < args.duration:
            name = f"churn-{cycle}"
            addr = host_in(args.net_gw, 200 + cycle % 40)
            nv.setup(args.net, entry_line(container_id(name), addr, "", name), args.net_gw)
            if previous is not None:
                nv.teardown(args.net, container_id(previous[0]))
            previous = (name, addr)
            nv.update(args.net, args.dns_a if cycle % 2 == 0 else args.dns_b)
            nv.setup(args.side_net, entry_line(side_cid, host_in(args.side_gw, 2), "", "side"), args.side_gw)
            if not nv.teardown(args.side_net, side_cid):
                raise SystemExit("netavark_writer: the side network file was not deleted")
            changes += 5
            cycle += 1
    finally:
        stop.set()
        if thread:
            thread.join()
    # The last change: a teardown of the last churn container, then a new container.
    nv.teardown(args.net, container_id(previous[0]))
    final_addr = host_in(args.net_gw, 250)
    nv.send_own_hup = True
    nv.setup(args.net, entry_line(container_id("final"), final_addr, "", "final"), args.net_gw)
    elapsed = time.monotonic() - start
    print(f"hup_at={nv.last_hup_at:.6f} removed={previous[0]} {previous[1]} final=final {final_addr}")
    print(f"writer: {cycle} cycles, {changes + 2} changes, {nv.hups} SIGHUPs "
          f"({background_hups[0]} from the storm thread) in {elapsed:.1f} s "
          f"= {nv.hups / elapsed:.0f}/s, {nv.pacer.pauses} pauses, longest half-written state "
          f"max_gap_ms={nv.pacer.max_gap * 1000:.0f}", file=sys.stderr)


def ask(nv, target, spec):
    """One A query, sent now; prints how long after the last SIGHUP it was sent and the verdict."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    import dns_checker  # pylint: disable=import-outside-toplevel

    server, _, port = target.rpartition(":")
    name, _, want = spec.partition("=")
    sent_at = time.monotonic()
    verdict = dns_checker.ask_once(server, int(port), name, want, timeout=0.2)
    since = (sent_at - nv.last_hup_at) * 1000 if nv.last_hup_at is not None else -1
    print(f"ask: {name} sent {since:.0f} ms after the last SIGHUP: {verdict or 'ok'}")


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--pause-ms", type=float, default=0)
    parser.add_argument("--pause-at")
    parser.add_argument("--hup-in-pause", action="store_true")
    parser.add_argument("--split", action="append", metavar="ID:BYTES")
    parser.add_argument("--no-hup", action="store_true")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup")
    for a in ("net", "id", "v4s", "v6s", "names"):
        p.add_argument(a)
    p.add_argument("--gw")
    p.add_argument("--net-dns")
    p.add_argument("--ctr-dns")
    p = sub.add_parser("teardown")
    p.add_argument("net")
    p.add_argument("id")
    p = sub.add_parser("update")
    p.add_argument("net")
    p.add_argument("dns", nargs="?", default="")
    p = sub.add_parser("populate")
    for a in ("net", "gw", "prefix", "first_ip"):
        p.add_argument(a)
    p.add_argument("count", type=int)
    p = sub.add_parser("churn")
    for a in ("net", "net_gw", "side_net", "side_gw"):
        p.add_argument(a)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--hup-rate", type=float, default=100)
    p.add_argument("--dns-a", default="127.0.0.91")
    p.add_argument("--dns-b", default="127.0.0.92")
    p = sub.add_parser("seq")
    p.add_argument("steps", nargs="+", metavar="STEP")
    return parser


def execute(parser, nv, args):
    nv.pacer = Pacer(args, nv.sighup)
    nv.send_own_hup = not args.no_hup
    if args.cmd == "setup":
        dash = lambda v: "" if v in ("-", None) else v  # noqa: E731
        if not os.path.exists(nv.path(args.net)) and not args.gw:
            parser.error("setup of a new network file needs --gw")
        header = args.gw or ""
        if args.net_dns:
            header += " " + args.net_dns
        nv.setup(args.net, entry_line(args.id, dash(args.v4s), dash(args.v6s), args.names, args.ctr_dns), header)
        print(f"setup {args.net} {args.id[:12]}: done_at={time.monotonic():.6f} hup_at={nv.last_hup_at or 0:.6f} "
              f"max_gap_ms={nv.pacer.max_gap * 1000:.0f}")
    elif args.cmd == "teardown":
        deleted = nv.teardown(args.net, args.id)
        print(f"teardown {args.net} {args.id[:12]}: {'deleted' if deleted else 'rewritten'} "
              f"done_at={time.monotonic():.6f} hup_at={nv.last_hup_at or 0:.6f} "
              f"max_gap_ms={nv.pacer.max_gap * 1000:.0f}")
    elif args.cmd == "update":
        nv.update(args.net, args.dns)
        print(f"update {args.net}: hup_at={nv.last_hup_at or 0:.6f} max_gap_ms={nv.pacer.max_gap * 1000:.0f}")
    elif args.cmd == "populate":
        nv.populate(args.net, args.gw, args.prefix, args.first_ip, args.count)
    elif args.cmd == "churn":
        churn(nv, args)
    elif args.cmd == "seq":
        # Steps run in this one process, so the time between them is what they say: "sleep MS",
        # "ask SERVER:PORT NAME=WANT", or any other command with its own pacing options.
        for step in args.steps:
            tokens = shlex.split(step)
            if tokens and tokens[0] == "sleep" and len(tokens) == 2:
                time.sleep(float(tokens[1]) / 1000)
            elif tokens and tokens[0] == "ask" and len(tokens) == 3:
                ask(nv, tokens[1], tokens[2])
            else:
                step_args = parser.parse_args(["--dir", args.dir] + tokens)
                if step_args.cmd == "seq":
                    parser.error("seq steps cannot nest")
                execute(parser, nv, step_args)
            sys.stdout.flush()


def main():
    parser = build_parser()
    args = parser.parse_args()
    nv = Netavark(args.dir, args)
    execute(parser, nv, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
