#!/usr/bin/env bats
# `--probe-liveness` (docs/liveness.md), black box: a dual-stack bridge lvbr0 with the gateway
# 10.89.60.1/24 + fd10:89:60::1/64 and two live "containers" (network namespaces with a veth):
#
#   lv-c1  10.89.60.11 fd10:89:60::11  proj_web_1,web   (live)
#   lv-c2  10.89.60.12 fd10:89:60::12  proj_web_2,web   (live)
#          10.89.60.13 fd10:89:60::13  proj_web_3,web   (a line with no namespace: dead)
#          10.89.60.21 fd10:89:60::21  proj_db_1,db     (dead; test 2 only)
#          10.89.60.22 fd10:89:60::22  proj_db_2,db     (dead; test 2 only)
#
# The daemon is started as netavark starts it (`--config DIR -p PORT ... run`) and queried with
# dig from inside lv-c1. Every loop is bounded; daemons are stopped by the pid in their pid file
# (or the recorded pid of a foreground one).

load helpers

setup_file() {
    sandbox_start
}

teardown_file() {
    sandbox_stop
}

setup() {
    skip_if_disabled
}

# ---- sandbox-side helpers (defined here, shipped into each test body by lv_body) ------------

LV_GW=10.89.60.1
LV_GW6=fd10:89:60::1
LV_WEB_ALL="10.89.60.11 10.89.60.12 10.89.60.13"
LV_WEB_LIVE="10.89.60.11 10.89.60.12"
LV_WEB6_ALL="fd10:89:60::11 fd10:89:60::12 fd10:89:60::13"
LV_WEB6_LIVE="fd10:89:60::11 fd10:89:60::12"

# The bridge and the two live containers; idempotent so that any single test can run alone.
lv_net_up() {
    if ! ip link show lvbr0 >/dev/null 2>&1; then
        ip link add lvbr0 type bridge
        ip addr add "$LV_GW/24" dev lvbr0
        # nodad: a tentative gateway is not probed from (fail open), and the test must not
        # depend on how long DAD takes.
        ip addr add "$LV_GW6/64" dev lvbr0 nodad
        ip link set lvbr0 up
    fi
    local i
    for i in 1 2; do
        [[ -e /run/netns/lv-c$i ]] && continue
        ip netns add "lv-c$i"
        ip link add "lv-veth$i" type veth peer name eth0 netns "lv-c$i"
        ip link set "lv-veth$i" master lvbr0
        ip link set "lv-veth$i" up
        ip -n "lv-c$i" link set lo up
        ip -n "lv-c$i" addr add "10.89.60.1$i/24" dev eth0
        ip -n "lv-c$i" addr add "fd10:89:60::1$i/64" dev eth0 nodad
        ip -n "lv-c$i" link set eth0 up
    done
    # Links up on both ends and no tentative address, before any daemon starts.
    for i in 1 2; do
        wait_until 10 lv_link_up "" "lv-veth$i" || fail "lv-veth$i is not up: $(ip link show "lv-veth$i")"
        wait_until 10 lv_link_up "lv-c$i" eth0 || fail "eth0 of lv-c$i is not up: $(ip -n "lv-c$i" link show eth0)"
    done
    wait_until 10 lv_link_up "" lvbr0 || fail "lvbr0 is not up: $(ip link show lvbr0)"
    if ip -6 addr show dev lvbr0 tentative | grep -qF "$LV_GW6/"; then
        fail "the gateway's IPv6 address is tentative: $(ip -6 addr show dev lvbr0)"
    fi
}

lv_link_up() { # NETNS|"" DEV: operstate UP
    local where=()
    [[ -n $1 ]] && where=(-n "$1")
    [[ $(ip "${where[@]}" -o link show dev "$2") == *" state UP "* ]]
}

lv_line() { # N NAMES: the network-file line of "container" N (10.89.60.N, fd10:89:60::N)
    printf '%s 10.89.60.%s fd10:89:60::%s %s' "$(hex_id "lv-ctr-$1")" "$1" "$1" "$2"
}

# lv_config TAG [--with-db]: a config dir with the network file "lvnet"; prints its path.
lv_config() {
    local d
    d=$(new_config_dir "$1")
    local lines=("$LV_GW,$LV_GW6" "$(lv_line 11 proj_web_1,web)" "$(lv_line 12 proj_web_2,web)"
        "$(lv_line 13 proj_web_3,web)")
    if [[ ${2:-} == --with-db ]]; then
        lines+=("$(lv_line 21 proj_db_1,db)" "$(lv_line 22 proj_db_2,db)")
    fi
    write_lines "$d/lvnet" "${lines[@]}"
    printf '%s' "$d"
}

# The rdata of the last dq, sorted, space separated.
lv_rdata() {
    [[ -n $DQ_ANSWER ]] || return 0
    local line out=()
    while IFS= read -r line; do
        out+=("${line##* }")
    done <<<"$DQ_ANSWER"
    printf '%s\n' "${out[@]}" | sort | paste -sd' '
}

# lv_answers_are PORT NAME TYPE EXPECTED: one query from lv-c1 to the IPv4 gateway; true when
# the status is NOERROR and the rdata are exactly EXPECTED (sorted, spaces). Sets LV_GOT.
lv_answers_are() {
    dq -n lv-c1 "@$LV_GW" -p "$1" "$2" "$3"
    LV_GOT=$(lv_rdata)
    [[ $DQ_STATUS == NOERROR && $LV_GOT == "$4" ]]
}

lv_mismatch() { # WHAT EXPECTED
    fail "$1: expected [$2], got [$LV_GOT] status ${DQ_STATUS:-none}:"$'\n'"$(dq_context)"
}

# lv_expect PORT NAME TYPE EXPECTED [WHAT]: asserts the answer now.
lv_expect() {
    lv_answers_are "$1" "$2" "$3" "$4" || lv_mismatch "${5:-$2 $3}" "$4"
}

# lv_wait PORT NAME TYPE EXPECTED SECONDS WHAT: polls (bounded) until the answer is exactly that.
lv_wait() {
    wait_until "$5" lv_answers_are "$1" "$2" "$3" "$4" || lv_mismatch "$6 (polled $5 s)" "$4"
}

lv_body() { # runs stdin in the sandbox with the helpers above defined
    local body
    body=$(cat)
    in_sandbox "$(declare -p LV_GW LV_GW6 LV_WEB_ALL LV_WEB_LIVE LV_WEB6_ALL LV_WEB6_LIVE)
$(declare -f lv_net_up lv_link_up lv_line lv_config lv_rdata lv_answers_are lv_mismatch lv_expect lv_wait)
$body"
}

# ---- tests -----------------------------------------------------------------------------------

@test "--probe-liveness: a dead replica is left out of a shared name (A and AAAA), not of its own" {
    lv_body <<'EOF'
lv_net_up
d=$(lv_config probe)
rc=0
"$CTRDNS_BIN" --config "$d" -p 53 --probe-liveness run || rc=$?
assert_eq "$rc" 0 "run exit status"
pid=$(read_pid_file "$d")
assert_match "$pid" '^[1-9][0-9]*$' "aardvark.pid"

# Until its first check ends (3 probes 1 s apart) an address is unknown, and unknown counts
# as alive: right after start-up every replica is answered.
lv_expect 53 web.dns.podman A "$LV_WEB_ALL" "web right after start-up"

# Bounded poll: .13 (no namespace) misses 3 probes and is left out; the live ones stay.
lv_wait 53 web.dns.podman A "$LV_WEB_LIVE" 15 "web A with a dead replica"
lv_wait 53 web.dns.podman AAAA "$LV_WEB6_LIVE" 15 "web AAAA with a dead replica"
expect_answer_count 2
# Over TCP as well, and the bare name (no search domain).
dq -n lv-c1 "@$LV_GW" -p 53 +tcp web A
expect_status NOERROR
assert_eq "$(lv_rdata)" "$LV_WEB_LIVE" "web A over TCP, bare name"
# And when asked on the IPv6 gateway.
dq -n lv-c2 "@$LV_GW6" -p 53 web.dns.podman AAAA
assert_eq "$(lv_rdata)" "$LV_WEB6_LIVE" "web AAAA asked on $LV_GW6"

# A name with one address is never emptied: proj_web_3 still answers its (dead) address.
lv_expect 53 proj_web_3.dns.podman A 10.89.60.13 "proj_web_3 A (single address, dead)"
lv_expect 53 proj_web_3.dns.podman AAAA fd10:89:60::13 "proj_web_3 AAAA (single address, dead)"
# PTR answers are never changed.
dq -n lv-c1 "@$LV_GW" -p 53 -x 10.89.60.13
expect_status NOERROR
assert_contains "$DQ_ANSWER" "proj_web_3" "PTR of the dead address"

# The verdict is kept, not a one-off answer (the recheck is 30 s away, so this is no recheck test).
sleep 2
lv_expect 53 web.dns.podman A "$LV_WEB_LIVE" "web A two seconds later"
# The daemon is still the one we started.
assert_eq "$(read_pid_file "$d")" "$pid" "daemon pid"
process_alive "$pid" || fail "the daemon died"
stop_daemon "$d"
EOF
}

@test "--probe-liveness: a name whose every address is dead still answers all of them" {
    lv_body <<'EOF'
lv_net_up
d=$(lv_config alldead --with-db)
# In the foreground (in the background here) so its log shows the verdicts it reached.
bg_start lv-alldead env RUST_LOG=info "$CTRDNS_BIN" --config "$d" -p 5360 --probe-liveness --foreground run
log=$SANDBOX_DIR/logs/lv-alldead.log
wait_until 10 dig_quiet -p 5360 "@$LV_GW" proj_web_1.dns.podman ||
    fail "the foreground daemon does not answer: $(cat "$log")"

# The prober works in this daemon: web loses its dead replica...
lv_wait 5360 web.dns.podman A "$LV_WEB_LIVE" 15 "web A (control)"
# ...and both db addresses reach the dead verdict (bounded wait on the log lines).
for a in 10.89.60.21 10.89.60.22 fd10:89:60::21 fd10:89:60::22; do
    wait_until 15 grep -q "liveness: $a did not answer" "$log" ||
        fail "no dead verdict logged for $a:"$'\n'"$(cat "$log")"
done
# No live address was ever declared dead.
for a in 10.89.60.11 10.89.60.12 fd10:89:60::11 fd10:89:60::12; do
    if grep -q "liveness: $a did not answer" "$log"; then
        fail "live address $a was marked dead:"$'\n'"$(cat "$log")"
    fi
done

# Every address of db is dead: a heuristic never empties a known name, both are returned.
lv_expect 5360 db.dns.podman A "10.89.60.21 10.89.60.22" "db A (all dead)"
lv_expect 5360 db.dns.podman AAAA "fd10:89:60::21 fd10:89:60::22" "db AAAA (all dead)"
lv_expect 5360 proj_db_1.dns.podman A 10.89.60.21 "proj_db_1 A"
# web is still filtered at the same moment.
lv_expect 5360 web.dns.podman AAAA "$LV_WEB6_LIVE" "web AAAA"
bg_stop lv-alldead
EOF
}

@test "without --probe-liveness every address is answered, while a probing daemon drops the dead one" {
    lv_body <<'EOF'
lv_net_up
plain=$(lv_config plain)
probing=$(lv_config probing)
"$CTRDNS_BIN" --config "$plain" -p 5361 run
"$CTRDNS_BIN" --config "$probing" -p 5362 --probe-liveness run
pid_plain=$(read_pid_file "$plain")
assert_match "$pid_plain" '^[1-9][0-9]*$' "plain daemon pid"
# No probing flag on the plain daemon's command line (the check is on what we started).
assert_not_match "$(tr '\0' ' ' <"/proc/$pid_plain/cmdline")" "probe-liveness" "plain daemon cmdline"

# Once the probing daemon has reached its verdict for .13, the plain one still answers it.
lv_wait 5362 web.dns.podman A "$LV_WEB_LIVE" 15 "probing daemon: web A"
lv_wait 5362 web.dns.podman AAAA "$LV_WEB6_LIVE" 15 "probing daemon: web AAAA"
lv_expect 5361 web.dns.podman A "$LV_WEB_ALL" "plain daemon: web A"
lv_expect 5361 web.dns.podman AAAA "$LV_WEB6_ALL" "plain daemon: web AAAA"
# Well past the time a probing daemon needs (3 misses at 1 s), still all three.
sleep 4
lv_expect 5361 web.dns.podman A "$LV_WEB_ALL" "plain daemon: web A after 4 s more"
lv_expect 5361 web.dns.podman AAAA "$LV_WEB6_ALL" "plain daemon: web AAAA after 4 s more"
stop_daemon "$plain"
stop_daemon "$probing"

# Restarting the same configuration without the flag: all three again.
"$CTRDNS_BIN" --config "$probing" -p 5362 run
sleep 4
lv_expect 5362 web.dns.podman A "$LV_WEB_ALL" "restarted without the flag: web A"
lv_expect 5362 web.dns.podman AAAA "$LV_WEB6_ALL" "restarted without the flag: web AAAA"
stop_daemon "$probing"
EOF
}
