#!/usr/bin/env bash
# Bounded soak run (issue 8): real netavark creates and removes networks and containers in a
# loop while mixed DNS load runs against ctrdns; every answer is checked, and ctrdns's RSS and
# fd count are sampled over time and must stay flat.
#
# usage: sudo tools/soak.sh [--duration SECONDS] [--bin PATH] [--rate QPS] [--report FILE] [--keep]
#   --duration  length of the load phase (default 600; the CI smoke uses 60)
#   --bin       the ctrdns binary (default: build/release/src/ctrdns, else build/ci/src/ctrdns)
#   --rate      UDP queries per second of the checker (default 300)
#   --report    also write the report to FILE
#   --keep      keep the sandbox directory (logs) even when the run passed
#
# Everything runs inside one private sandbox (tests/integration/helpers.bash: unshare --mount
# --net --pid, /etc/resolv.conf naming only 127.0.0.53): Debian's netavark 1.4
# (/usr/lib/podman/netavark) starts ctrdns as it would aardvark-dns, containers are network
# namespaces on bridges of the sandbox, and the only upstream is a dnsmasq on 127.0.0.53.
#
#   stable network soak 10.89.200.0/24: containers s1..s10 (aliases alias1..alias10) stay up;
#   churn: each cycle sets up two containers on one of four networks c0..c3 (10.89.201-204.0/24;
#          the network's file appears with its first container and goes with its last) and one
#          more on soak, checks that a new name resolves within 2 s, then tears all three down.
#   load:  tests/integration/dns_checker.py from s1 over UDP at --rate: names, aliases, bare
#          names, an unknown name (NXDOMAIN) and 50 forwarded names (dnsmasq, TTL 5, so the
#          cache fills and expires); a dig loop from s2: A over TCP, PTR over UDP and TCP,
#          forwarded names over TCP.
#   samples: ctrdns VmRSS and open fds every few seconds.
#
# Fails (exit 1) on any lost or wrong answer, a netavark failure, a daemon restart, RSS after
# the warm-up (the first sixth of the run, 10..120 s) growing more than 10% above its value at
# the end of the warm-up, or more fds open once everything is quiet again than before the load.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
duration=600 bin= rate=300 report= keep=0
while (($#)); do
    case $1 in
    --duration) duration=$2; shift ;;
    --bin) bin=$2; shift ;;
    --rate) rate=$2; shift ;;
    --report) report=$2; shift ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $duration =~ ^[0-9]+$ ]] && ((duration >= 20)) || { echo "soak: --duration must be >= 20 s" >&2; exit 2; }
if [[ -z $bin ]]; then
    bin=$root/build/release/src/ctrdns
    [[ -x $bin ]] || bin=$root/build/ci/src/ctrdns
fi
export CTRDNS_BIN=$bin CTRDNS_SOURCE_DIR=$root
export SOAK_DURATION=$duration SOAK_RATE=$rate
export SOAK_WARMUP=$((duration / 6 < 10 ? 10 : duration / 6 > 120 ? 120 : duration / 6))

# shellcheck source=../tests/integration/helpers.bash
source "$root/tests/integration/helpers.bash"
require_tools python3 dnsmasq dig "$NETAVARK" iptables
sandbox_start
finish() {
    local rc=$?
    sandbox_stop || true
    if ((rc == 0 && keep == 0)); then
        rm -rf "$SANDBOX_DIR"
    else
        echo "soak: logs kept in $SANDBOX_DIR" >&2
    fi
    exit "$rc"
}
trap finish EXIT

rc=0
in_sandbox <<'EOF' || rc=$?
source "$CTRDNS_SOURCE_DIR/tests/integration/upstreams.bash"
tools=$CTRDNS_SOURCE_DIR/tests/integration
gw=10.89.200.1
note() { printf '%s\n' "$*" >>"$SANDBOX_DIR/soak.report"; }
: >"$SANDBOX_DIR/soak.report"

upstream_dnsmasq upstream "$SANDBOX_RESOLVER" --address=/soak.test/192.0.2.53 --local-ttl=5
na_network soak cdns-soak 10.89.200.0/24=$gw
for k in 0 1 2 3; do
    na_network "c$k" "cdns-c$k" "10.89.$((201 + k)).0/24=10.89.$((201 + k)).1"
done
names=$SANDBOX_DIR/names
: >"$names"
for i in $(seq 1 10); do
    ip=10.89.200.$((10 + i))
    na_setup "s$i" soak "$ip" "alias$i"
    printf '%s %s\n' "s$i.dns.podman" "$ip" "alias$i.dns.podman" "$ip" "s$i" "$ip" >>"$names"
done
printf '%s %s\n' nothere.dns.podman NXDOMAIN >>"$names"
for j in $(seq 1 50); do printf '%s %s\n' "f$j.soak.test" 192.0.2.53 >>"$names"; done
pid=$(cat "$(na_pid_file)")
process_alive "$pid" || fail "ctrdns did not start"
fds() { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
sleep 1
fds_quiet_start=$(fds)
stop=$SANDBOX_DIR/stop-soak
rm -f "$stop"

# --- load: UDP checker ---
bg_start checker ip netns exec s1 python3 "$tools/dns_checker.py" load --server "$gw" \
    --rate "$SOAK_RATE" --duration "$SOAK_DURATION" --timeout 2 --sockets 4 --names "$names"

# --- load: TCP and PTR with dig ---
dig_loop() {
    local n=0 answered=0 wrong=0 lost=0 i ip want out code
    local -a q
    while [[ ! -e $stop ]]; do
        i=$((n % 10 + 1)) ip=10.89.200.$((10 + n % 10 + 1))
        case $((n % 4)) in
        0) q=(+tcp "s$i.dns.podman") want=$ip ;;
        1) q=(+tcp -x "$ip") want=s$i. ;;
        2) q=(+notcp -x "$ip") want=s$i. ;;
        3) q=(+tcp "f$((n % 50 + 1)).soak.test") want=192.0.2.53 ;;
        esac
        code=0
        out=$(ip netns exec s2 dig +time=2 +tries=1 +short @"$gw" "${q[@]}" 2>&1) || code=$?
        if ((code == 9)); then
            lost=$((lost + 1))
            echo "lost: ${q[*]}" >>"$SANDBOX_DIR/logs/dig-failures"
        elif ((code == 0)) && [[ ${out%%$'\n'*} == "$want" ]]; then
            answered=$((answered + 1))
        else
            wrong=$((wrong + 1))
            echo "wrong: ${q[*]} -> rc $code: $out" >>"$SANDBOX_DIR/logs/dig-failures"
        fi
        n=$((n + 1))
        echo "asked=$n answered=$answered wrong=$wrong lost=$lost" >"$SANDBOX_DIR/dig.counts"
    done
}
bg_start dig-loop dig_loop

# --- churn: real netavark setups and teardowns ---
churn_loop() {
    local c=0 k failures=0 resolved=0 late=0 ctr
    while [[ ! -e $stop ]]; do
        c=$((c + 1)) k=$((c % 4))
        local ctrs=("t$c-a" "t$c-b" "u$c")
        (na_setup "t$c-a" "c$k" "10.89.$((201 + k)).2" "web$c") || failures=$((failures + 1))
        (na_setup "t$c-b" "c$k" "10.89.$((201 + k)).3" -) || failures=$((failures + 1))
        (na_setup "u$c" soak "10.89.200.$((100 + c % 100))" -) || failures=$((failures + 1))
        if ip netns exec "t$c-b" python3 "$tools/dns_checker.py" wait --server "10.89.$((201 + k)).1" \
            --expect "web$c.dns.podman=10.89.$((201 + k)).2" --within 2 >/dev/null 2>&1; then
            resolved=$((resolved + 1))
        else
            late=$((late + 1))
            echo "cycle $c: web$c.dns.podman not answered within 2 s" >>"$SANDBOX_DIR/logs/churn-failures"
        fi
        for ctr in "${ctrs[@]}"; do
            (na_teardown "$ctr") || failures=$((failures + 1))
            ip netns del "$ctr" 2>/dev/null || true
        done
        echo "cycles=$c netavark_failures=$failures new_names_resolved=$resolved new_names_late=$late" >"$SANDBOX_DIR/churn.counts"
    done
}
bg_start churn churn_loop

# --- samples ---
interval=$((SOAK_DURATION / 60 > 1 ? SOAK_DURATION / 60 : 1))
samples=$SANDBOX_DIR/samples
: >"$samples"
start=$SECONDS
while ((SECONDS - start < SOAK_DURATION)); do
    process_alive "$pid" || break
    printf '%d %d %d\n' $((SECONDS - start)) "$(rss)" "$(fds)" >>"$samples"
    sleep "$interval"
done
touch "$stop"
checker_rc=0
wait_until 30 process_gone "$(bg_pid checker)" || true
wait "$(bg_pid checker)" || checker_rc=$?
wait_until 60 process_gone "$(bg_pid churn)" || fail "churn loop did not stop"
wait_until 10 process_gone "$(bg_pid dig-loop)" || fail "dig loop did not stop"
alive=yes
process_alive "$pid" || alive=no
daemons=$(pids_with_cmdline "--config $NA_CONFIG/aardvark-dns " | tr '\n' ' ')
# Quiet again: idle TCP connections closed (3 s), forwards finished (5 s budget).
sleep 6
fds_quiet_end=$(fds)

checker=$(grep -m1 '^checker:' "$SANDBOX_DIR/logs/checker.log" || echo "checker: no summary")
digs=$(cat "$SANDBOX_DIR/dig.counts" 2>/dev/null || echo "asked=0 answered=0 wrong=0 lost=0")
churn=$(cat "$SANDBOX_DIR/churn.counts" 2>/dev/null || echo "cycles=0 netavark_failures=0 new_names_resolved=0 new_names_late=0")
field() { sed -n "s/.*\\b$2=\\([0-9]*\\).*/\\1/p" <<<"$1"; }
rss_first=$(awk 'NR == 1 {print $2}' "$samples")
rss_warm=$(awk -v w="$SOAK_WARMUP" '$1 >= w {print $2; exit}' "$samples")
rss_max=$(awk -v w="$SOAK_WARMUP" '$1 >= w && $2 > m {m = $2} END {print m + 0}' "$samples")
rss_last=$(awk 'END {print $2}' "$samples")
fd_range=$(awk 'NR == 1 {lo = hi = $3} $3 < lo {lo = $3} $3 > hi {hi = $3} END {print lo "-" hi}' "$samples")
growth=$(awk -v a="${rss_warm:-0}" -v b="$rss_max" 'BEGIN {printf "%.1f", a ? (b - a) * 100 / a : 0}')

note "soak: ${SOAK_DURATION} s, binary $CTRDNS_BIN, netavark $("$NETAVARK" --version 2>/dev/null | head -n 1)"
note "udp ($SOAK_RATE qps: local names, aliases, bare names, NXDOMAIN, 50 forwarded): $checker"
note "tcp/ptr (dig: A over TCP, PTR over UDP and TCP, forwarded over TCP): $digs"
note "churn (real netavark, 3 setups + 3 teardowns per cycle, networks c0..c3 created and removed): $churn"
note "answered=$(($(field "$checker" correct) + $(field "$digs" answered))) wrong=$(($(field "$checker" wrong) + $(field "$digs" wrong))) lost=$(($(field "$checker" lost) + $(field "$digs" lost)))"
note "rss_kib: first=$rss_first end_of_warmup(${SOAK_WARMUP}s)=$rss_warm max_after_warmup=$rss_max last=$rss_last growth_after_warmup=${growth}%"
note "fds: quiet_before_load=$fds_quiet_start quiet_after_load=$fds_quiet_end range_under_load=$fd_range"
note "daemon: pid $pid alive=$alive, daemons serving the directory: ${daemons:-none}"
note "samples (s rss_kib fds): $(awk -v n="$(wc -l <"$samples")" 'NR == 1 || NR % int(n / 10 + 1) == 0 {printf "%s%d:%d:%d", sep, $1, $2, $3; sep = " "}' "$samples")"

problems=()
((checker_rc == 0)) || problems+=("the UDP checker found wrong or lost answers (exit $checker_rc)")
(($(field "$digs" wrong) + $(field "$digs" lost) == 0)) || problems+=("dig loop: $digs ($(head -n 3 "$SANDBOX_DIR/logs/dig-failures"))")
(($(field "$digs" answered) > 0)) || problems+=("the dig loop asked nothing")
(($(field "$churn" netavark_failures) == 0)) || problems+=("netavark failed: $(grep -h -m3 . "$SANDBOX_DIR"/logs/netavark-*.err 2>/dev/null | head -n 3)")
(($(field "$churn" new_names_late) == 0)) || problems+=("new names not answered within 2 s: $(head -n 3 "$SANDBOX_DIR/logs/churn-failures")")
(($(field "$churn" cycles) > 0)) || problems+=("no churn cycle completed")
[[ $alive == yes && $daemons == "$pid " ]] || problems+=("the daemon did not stay the same process (pid $pid alive=$alive; now: ${daemons:-none})")
awk -v g="$growth" 'BEGIN {exit !(g > 10)}' && problems+=("RSS grew ${growth}% after the warm-up (limit 10%)")
((fds_quiet_end <= fds_quiet_start)) || problems+=("fds grew: $fds_quiet_start before the load, $fds_quiet_end after")
for p in "${problems[@]}"; do note "FAIL: $p"; done
((${#problems[@]} == 0)) && note "PASS" || true
((${#problems[@]} == 0))
EOF
cat "$SANDBOX_DIR/soak.report" 2>/dev/null || true
if [[ -n $report && -e $SANDBOX_DIR/soak.report ]]; then
    cp "$SANDBOX_DIR/soak.report" "$report"
fi
exit "$rc"
