# Helpers for 700-reload-churn.bats (sandbox side; sourced into test bodies after helpers.bash).
# The two Python tools beside this file do the work: netavark_writer.py changes network files
# exactly as netavark does (with pauses between its write() calls) and sends netavark's SIGHUPs;
# dns_checker.py asks names at a set rate and checks every answer.
#
# RELOAD_DNS_BIN is the server under test (default: CTRDNS_BIN). Setting it to Debian's
# /usr/lib/podman/aardvark-dns runs the same tests against aardvark-dns, for comparison.

RL_TOOLS=${CTRDNS_SOURCE_DIR}/tests/integration
RELOAD_DNS_BIN=${RELOAD_DNS_BIN:-${CTRDNS_BIN:-}}
# A file that really shrank must be served as it is within about 1 s of its last change; the
# tests allow 2.5 s so that a busy machine does not make them flaky.
RL_SHRINK_LIMIT=${RL_SHRINK_LIMIT:-2.5}

nv_writer() { python3 "$RL_TOOLS/netavark_writer.py" "$@"; }
dns_check() { python3 "$RL_TOOLS/dns_checker.py" "$@"; }

# rl_note TEXT: a line for the TAP stream (the bats side prints the notes after the test).
rl_note() { printf '%s\n' "$*" >>"$SANDBOX_DIR/notes"; }

# rl_start DIR PORT: starts the server as netavark does; sets RL_PID.
rl_start() {
    local rc=0
    "$RELOAD_DNS_BIN" --config "$1" -p "$2" run || rc=$?
    assert_eq "$rc" 0 "exit status of '$RELOAD_DNS_BIN --config $1 -p $2 run'"
    RL_PID=$(read_pid_file "$1")
    assert_match "$RL_PID" '^[1-9][0-9]*$' "aardvark.pid"
}

# rl_load_start TAG SERVER PORT RATE CHECKER-ARGS...: dns_checker.py load in the background
# (inside network namespace RL_NETNS when set) until rl_load_stop TAG. Every query it sends
# while running must be answered right.
rl_load_start() {
    local tag=$1 server=$2 port=$3 rate=$4
    shift 4
    local cmd=(python3 "$RL_TOOLS/dns_checker.py" load --server "$server" --port "$port"
        --rate "$rate" --duration 300 --timeout 1 --stop-file "$SANDBOX_DIR/stop-$tag" "$@")
    if [[ -n ${RL_NETNS:-} ]]; then
        cmd=(ip netns exec "$RL_NETNS" "${cmd[@]}")
    fi
    rm -f "$SANDBOX_DIR/stop-$tag"
    bg_start "load-$tag" "${cmd[@]}"
    # A moment of steady state first, so that a failure means "during the change".
    sleep 0.3
    process_alive "$(bg_pid "load-$tag")" || fail "checker $tag did not start: $(cat "$SANDBOX_DIR/logs/load-$tag.log")"
}

# rl_load_stop TAG: stops the checker and sets RL_LOAD_RC (0 = every answer right) and
# RL_LOAD_REPORT (its output). Asserting is left to the caller, so that a dead daemon is reported
# before the lost answers it caused.
rl_load_stop() {
    local tag=$1 pid
    pid=$(bg_pid "load-$tag")
    touch "$SANDBOX_DIR/stop-$tag"
    wait_until 20 process_gone "$pid" || fail "checker $tag did not stop"
    RL_LOAD_RC=0
    wait "$pid" || RL_LOAD_RC=$?
    rm -f "$SANDBOX_DIR/pids/load-$tag"
    RL_LOAD_REPORT=$(cat "$SANDBOX_DIR/logs/load-$tag.log")
    rl_note "$tag: $(head -n 1 <<<"$RL_LOAD_REPORT")"
    if [[ -n ${RL_WRITER_OUT:-} ]]; then
        rl_note "$tag: the longest half-written state the writer left: $(rl_writer_max_gap) ms"
    fi
}

# RL_WRITER_OUT: what the writer printed (tests append to it); its max_gap_ms values say how long
# the file sat half-written between two writes.
RL_WRITER_OUT=
rl_writer() { # netavark_writer.py ARGS...: its output in RL_OUT, and appended to RL_WRITER_OUT
    RL_OUT=$(nv_writer "$@")
    RL_WRITER_OUT+=$RL_OUT$'\n'
}

# The longest half-written state the writer left (ms). Pauses in the tests are 40 ms; a stall
# of the writer beyond the server's settle time (150-250 ms) makes the server right to read the
# file as it was.
rl_writer_max_gap() { # empty when no writer ran (tests driving real netavark)
    { grep -o 'max_gap_ms=[0-9]*' <<<"$RL_WRITER_OUT" || true; } | cut -d= -f2 | sort -n | tail -n 1
}

# rl_drop_counters PID|NETNS: the network counters that are not zero (but TCP's) and each interface's
# drops, in PID's network namespace or the named one. Whether the kernel dropped a datagram, and
# where, tells a query the server never saw, or answered into a lost reply, from one it did not
# answer.
rl_drop_counters() {
    local run=(ip netns exec "$1")
    [[ $1 =~ ^[0-9]+$ ]] && run=(nsenter -t "$1" -n)
    { "${run[@]}" nstat -asz 2>/dev/null || true; } |
        awk '$2 != 0 && ($1 !~ /^Tcp/ || $1 ~ /ReversePath|Drop/) { printf "%s=%s ", $1, $2 }'
    { "${run[@]}" ip -j -s link 2>/dev/null || echo '[]'; } | python3 -c '
import json, sys
for link in json.load(sys.stdin):
    stats = link.get("stats64", {})
    print("%s:rx_dropped=%s,tx_dropped=%s" % (link["ifname"], stats.get("rx", {}).get("dropped"),
                                            stats.get("tx", {}).get("dropped")), end=" ")'
}

rl_assert_load_clean() { # [SERVER_PID [CONFIG_DIR [CHECKER_NETNS]]], after rl_load_stop
    ((RL_LOAD_RC == 0)) && return 0
    local gap hint=
    gap=$(rl_writer_max_gap)
    if [[ -n $gap ]] && ((gap >= 140)); then
        hint=$'\n'"NOTE: the writer stalled $gap ms between two writes (longer than the settle time): the machine was too busy for this run to judge the server; rerun."
    fi
    if [[ -n ${1:-} ]]; then
        hint+=$'\n'"the server's network namespace: $(rl_drop_counters "$1")"
        [[ -z ${3:-} ]] || hint+=$'\n'"the checker's network namespace ($3): $(rl_drop_counters "$3")"
    fi
    if [[ -n ${2:-} ]]; then
        hint+=$'\n'"the server's own counters (status):"$'\n'"$({ "$CTRDNS_BIN" --config "$2" status 2>&1 || true; } | sed -n '1,60p')"
    fi
    fail "the checker found wrong or lost answers (exit $RL_LOAD_RC):"$'\n'"$RL_LOAD_REPORT$hint"
}

# rl_hup_at TEXT: the last "hup_at=T" value in the writer's output.
rl_hup_at() {
    local t
    t=$(grep -o 'hup_at=[0-9.]*' <<<"$1" | tail -n 1 | cut -d= -f2)
    [[ -n $t && $t != 0.000000 ]] || fail "the writer sent no SIGHUP:"$'\n'"$1"
    printf '%s' "$t"
}

# rl_expect_within TAG SECONDS SINCE SERVER PORT NAME=WANT: the name must resolve to WANT
# within SECONDS of SINCE (a time.monotonic() value printed by the writer).
rl_expect_within() {
    local tag=$1 within=$2 since=$3 server=$4 port=$5 spec=$6 out rc=0
    out=$(dns_check wait --server "$server" --port "$port" --expect "$spec" --since "$since" --within "$within") || rc=$?
    rl_note "$tag: $out"
    ((rc == 0)) || fail "$out"
}

rl_assert_alive() { # PID DIR
    if ! process_alive "$1"; then
        fail "the server $1 died (aardvark.pid: '$(read_pid_file "$2" 2>/dev/null || echo absent)')"
    fi
    assert_eq "$(read_pid_file "$2")" "$1" "aardvark.pid"
}

# hw_prepare DIR GW: the network file "hw" as netavark leaves it after these setups: 50
# containers keep0..keep49 (10.72.0.10-59), then gone (10.72.9.1), gone2 (10.72.9.2) and app
# (10.89.0.12, the last line). Writes DIR.names for the checker: every name that stays, with
# its address, and "ap" (a prefix of app) as NXDOMAIN.
hw_prepare() {
    local d=$1 gw=$2
    nv_writer --dir "$d" populate hw "$gw" keep 10.72.0.10 50 |
        awk '{ print $1 ".dns.podman", $2 }' >"$d.names"
    nv_writer --dir "$d" --no-hup setup hw "$(hex_id ctr-gone)" 10.72.9.1 - gone >/dev/null
    nv_writer --dir "$d" --no-hup setup hw "$(hex_id ctr-gone2)" 10.72.9.2 - gone2 >/dev/null
    nv_writer --dir "$d" --no-hup setup hw "$(hex_id ctr-app)" 10.89.0.12 - app >/dev/null
    printf '%s\n' "app.dns.podman 10.89.0.12" "ap.dns.podman NXDOMAIN" >>"$d.names"
}
