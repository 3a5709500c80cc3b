# bench/: the scale benchmark's containers and queries, for scale_compare.sh and cpu_per_answer.sh.
# One awk pass writes everything: forks are slow on a busy 2-CPU box, and 100,000 containers must
# not take minutes to generate. Plain POSIX awk (Debian's default is mawk).
#
# Variables (awk -v):
#   n        containers. Container I: a 64-hex ID, names ctr-I and web-I plus Podman's 12-character
#            short-ID alias, IPv4 127.x.y.z counting up from 127.1.0.2, IPv6 fd10:88:a::… .
#            Their lines, in netavark's format without the header, go to DIR/entries.
#   dir      where the files go.
#   dnsmasq  1: the same containers as a dnsmasq hosts file, DIR/dnsmasq.hosts.
#   reloads  R > 0: reload R appends new-R with addresses in 127.4.0.0/16 and fd10:88:b::/64;
#            "NAME<TAB>LINE" per reload in DIR/reload.aardvark and DIR/reload.dnsmasq.
#   queries  prefix of the query files DIR/PREFIX.{A,AAAA,PTR,NX}, looped by dnsperf: 5,000
#            existing names drawn from all three kinds (half the reverse names IPv4, half IPv6),
#            and 5,000 missing names.
function hex_id(   s, k) {
    s = ""; for (k = 0; k < 16; k++) s = s sprintf("%04x", int(rand() * 65536)); return s
}
function v4(n) { return sprintf("127.%d.%d.%d", int(n / 65536), int(n / 256) % 256, n % 256) }
function v6(prefix, n) {
    return int(n / 65536) == 0 ? sprintf("%s::%x", prefix, n) : sprintf("%s::%x:%x", prefix, int(n / 65536), n % 65536)
}
function v6_ptr(n,   hex, rev, c) {
    hex = "fd100088000a000000000000" sprintf("%04x%04x", int(n / 65536), n % 65536); rev = ""
    for (c = 32; c >= 1; c--) rev = rev substr(hex, c, 1) "."
    return rev "ip6.arpa"
}
BEGIN {
    srand(7)
    for (i = 0; i < n; i++) {
        id = hex_id(); short[i] = substr(id, 1, 12); host = i + 65538
        printf "%s %s %s ctr-%d,web-%d,%s\n", id, v4(host), v6("fd10:88:a", i + 2), i, i, short[i] > (dir "/entries")
        if (dnsmasq) {
            names = sprintf("ctr-%d.dns.podman web-%d.dns.podman %s.dns.podman", i, i, short[i])
            printf "%s %s\n%s %s\n", v4(host), names, v6("fd10:88:a", i + 2), names > (dir "/dnsmasq.hosts")
        }
    }
    for (r = 0; r < reloads; r++) {
        id = hex_id(); q = sprintf("new-%d.dns.podman", r)
        printf "%s\t%s %s %s new-%d,%s\n", q, id, v4(r + 2 + 4 * 65536), v6("fd10:88:b", r + 2), r, substr(id, 1, 12) > (dir "/reload.aardvark")
        printf "%s\t%s %s %s.dns.podman\n", q, v4(r + 2 + 4 * 65536), q, substr(id, 1, 12) > (dir "/reload.dnsmasq")
    }
    for (k = 0; k < 5000; k++) {
        i = int(rand() * n); pick = int(rand() * 3)
        name = (pick == 0 ? "ctr-" i : pick == 1 ? "web-" i : short[i]) ".dns.podman"
        print name " A" > (dir "/" queries ".A")
        print name " AAAA" > (dir "/" queries ".AAAA")
        host = i + 65538
        if (k % 2 == 0) print sprintf("%d.%d.%d.127.in-addr.arpa PTR", host % 256, int(host / 256) % 256, int(host / 65536)) > (dir "/" queries ".PTR")
        else print v6_ptr(i + 2) " PTR" > (dir "/" queries ".PTR")
        print "missing-" k ".dns.podman A" > (dir "/" queries ".NX")
    }
}
