#!/usr/bin/env bats
# `ctrdns check` as an operator uses it on a real Podman file (docs/stale-entries.md §2.1),
# end to end with Debian's real netavark 1.4 and real network namespaces. Every line carries
# Podman's short-ID alias (ST_SHORT_ID_ALIAS=1), as on a real host. A lost teardown is a
# namespace deleted without `netavark teardown` (stale.bash).
#
#   test                                     network  subnets                              server
#   1 three lost generations, --fix as root  op1      10.89.61.0/24 fd10:89:61::/64        ctrdns
#   2 a renamed live container is kept       op2      10.89.62.0/24                        ctrdns
#   3 NODATA for other types, UDP and TCP    op3      10.89.63.0/24 fd10:89:63::/64        ctrdns
#   4 check --wait                           op4      10.89.64.0/24                        ctrdns
#
# Test 1 writes the check outputs to ${CTRDNS_CHECK_REPORT:-$BATS_FILE_TMPDIR/check-report.txt}
# (the README's `check` examples) and prints them as TAP comments.

load helpers

setup_file() {
    sandbox_start || return 1
    [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]] && return 0
    require_tools "$NETAVARK" iptables dnsmasq || return 1
    export STALE_HELPERS=$BATS_TEST_DIRNAME/stale.bash
    export CHECK_REPORT=${CTRDNS_CHECK_REPORT:-$BATS_FILE_TMPDIR/check-report.txt}
    : >"$CHECK_REPORT"
    # Anything forwarded ends at this loopback dnsmasq.
    # shellcheck disable=SC2016 # expanded in the sandbox
    in_sandbox 'dnsmasq_start upstream "$SANDBOX_RESOLVER" example.test=192.0.2.53'
}

teardown_file() {
    sandbox_stop
}

setup() {
    skip_if_disabled
}

in_stale_sandbox() {
    in_sandbox "source \"\$STALE_HELPERS\""$'\n'"export ST_SHORT_ID_ALIAS=1"$'\n'"$(cat)"
}

@test "three lost generations with Podman's short-ID alias: --dry-run changes nothing; --fix (root) removes exactly them; check then exits 0" {
    local rc=0
    in_stale_sandbox <<'EOF2' || rc=$?
st_use o1 "$CTRDNS_BIN"
st_lost_generations op1 61
st_setup op1-db proj_db_1 1 op1 "10.89.61.30,fd10:89:61::30" db
file=$(st_net_file op1)
live=$(st_id proj_app_1 4)
# Podman's alias is on every line, as a real netavark writes it.
for gen in 1 2 3 4; do
    id=$(st_id proj_app_1 "$gen")
    assert_match "$(st_line op1 proj_app_1 "$gen")" " proj_app_1,app,${id:0:12}\$" "line of generation $gen"
done
cp "$file" "$SANDBOX_DIR/op1.before"
pid=$(st_daemon_pid)
report() { { printf '# ctrdns check %s\n' "$1"; printf '%s\n\n' "$CHECK_OUT"; } >>"$SANDBOX_DIR/report-check.txt"; }

st_check_expect 1
report ""
assert_eq "$(grep -c '^ *STALE ' <<<"$CHECK_OUT")" 3 "STALE lines"
for gen in 1 2 3; do
    short=$(st_id proj_app_1 "$gen" | cut -c1-12)
    assert_match "$CHECK_OUT" "STALE line $((gen + 2)): container $short shadowed: name proj_app_1 taken over by ${live:0:12} \(line 6\); no longer answers for proj_app_1,app \[--fix removes it once its container is shown gone\]" "check output"
done

# --dry-run: the decisions, with the evidence, and nothing changes.
st_check_expect 0 --dry-run
report "--dry-run"
for gen in 1 2 3; do
    short=$(st_id proj_app_1 "$gen" | cut -c1-12)
    assert_match "$CHECK_OUT" "would remove $file line $((gen + 2)): container $short shadowed: name proj_app_1 taken over by ${live:0:12} \(line 6\); container gone: no ARP/NDP answer from 10\.89\.61\.1$gen, fd10:89:61::1$gen \(4 ARP probes unanswered on cdns-op1; 4 NDP probes unanswered on cdns-op1\)" "dry-run output"
done
assert_contains "$CHECK_OUT" "dry run: would remove 3 stale lines, keep 0; nothing changed" "dry-run summary"
cmp -s "$file" "$SANDBOX_DIR/op1.before" || fail "--dry-run changed the file"

# --fix as root: exactly the three lost lines go; every other byte stays.
st_check_expect 0 --fix
report "--fix"
for gen in 1 2 3; do
    short=$(st_id proj_app_1 "$gen" | cut -c1-12)
    assert_match "$CHECK_OUT" "removed $file line $((gen + 2)): container $short shadowed: [^"$'\n'"]*container gone: no ARP/NDP answer from 10\.89\.61\.1$gen, fd10:89:61::1$gen" "fix output"
done
assert_contains "$CHECK_OUT" "removed 3 stale lines"$'\n' "fix summary"
assert_contains "$CHECK_OUT" "sent SIGHUP to the server (pid $pid)" "fix output"
sed '3,5d' "$SANDBOX_DIR/op1.before" >"$SANDBOX_DIR/op1.expected"
cmp -s "$file" "$SANDBOX_DIR/op1.expected" ||
    fail "file after --fix:"$'\n'"$(diff "$SANDBOX_DIR/op1.expected" "$file")"
assert_eq "$(find "$(st_dns_dir)" -name '*ctrdns-tmp*' | wc -l)" 0 "temporary files left"

st_check_expect 0
report ""
assert_match "$CHECK_OUT" "0 stale or shadowed entries in 1 network" "check after --fix"
process_alive "$pid" || fail "server died"
dq -n op1-client @10.89.61.1 app
expect_answer "app. 0 IN A 10.89.61.14"
expect_answer_count 1
dq -n op1-client @10.89.61.1 "${live:0:12}.dns.podman"
expect_answer "${live:0:12}.dns.podman. 0 IN A 10.89.61.14"
stop_daemon "$(st_dns_dir)"
EOF2
    if [[ -s $SANDBOX_DIR/report-check.txt ]]; then
        cat "$SANDBOX_DIR/report-check.txt" >>"$CHECK_REPORT"
        sed 's/^/# /' "$SANDBOX_DIR/report-check.txt" >&3
    fi
    return "$rc"
}

@test "renamed but alive: a shadowed line whose container answers ARP is kept (exit 1, says why); the lost one beside it goes" {
    local rc=0
    in_stale_sandbox <<'EOF2' || rc=$?
st_use o2 "$CTRDNS_BIN"
na_network op2 cdns-op2 10.89.62.0/24=10.89.62.1
st_setup op2-client client 1 op2 10.89.62.2 -
# Generation 1 keeps running (as after `podman rename`: its line still says proj_app_1).
st_setup op2-alive proj_app_1 1 op2 10.89.62.11 app
st_setup op2-lost proj_app_1 2 op2 10.89.62.12 app
st_lose op2-lost
st_setup op2-new proj_app_1 3 op2 10.89.62.13 app
file=$(st_net_file op2)
cp "$file" "$SANDBOX_DIR/op2.before"
alive=$(st_id proj_app_1 1) lost=$(st_id proj_app_1 2)

st_check_expect 1 --dry-run
assert_match "$CHECK_OUT" "would keep $file line 3: container ${alive:0:12} shadowed: [^"$'\n'"]*10\.89\.62\.11 answers on the bridge \(ARP answer on cdns-op2\): its container is alive" "dry-run"
assert_match "$CHECK_OUT" "would remove $file line 4: container ${lost:0:12} shadowed" "dry-run"
cmp -s "$file" "$SANDBOX_DIR/op2.before" || fail "--dry-run changed the file"

# Without CAP_NET_RAW no probe can be sent: nothing is shown gone, so nothing shadowed goes.
rc=0
out=$(setpriv --bounding-set -net_raw --inh-caps -net_raw -- \
    timeout 20 "$CTRDNS_BIN" check --config "$(st_dns_dir)" --fix 2>&1) || rc=$?
assert_eq "$rc" 1 "--fix without CAP_NET_RAW"
assert_match "$out" "kept $file line 4: container ${lost:0:12} shadowed: [^"$'\n'"]*cannot show its container is gone \(probe: 10\.89\.62\.12: probing needs root or CAP_NET_RAW; runtime: not a default Podman directory, podman not asked\)" "--fix without CAP_NET_RAW"
assert_contains "$out" "removed 0 stale lines; kept 2 stale lines (see above)" "--fix without CAP_NET_RAW"
cmp -s "$file" "$SANDBOX_DIR/op2.before" || fail "--fix without CAP_NET_RAW changed the file"

st_check_expect 1 --fix
printf '# ctrdns check --fix (a renamed live container)\n%s\n\n' "$CHECK_OUT" >"$SANDBOX_DIR/report-renamed.txt"
assert_match "$CHECK_OUT" "removed $file line 4: container ${lost:0:12} shadowed: [^"$'\n'"]*container gone" "fix output"
assert_match "$CHECK_OUT" "kept $file line 3: container ${alive:0:12} shadowed: [^"$'\n'"]*10\.89\.62\.11 answers on the bridge" "fix output"
assert_contains "$CHECK_OUT" "removed 1 stale line; kept 1 stale line (see above)" "fix summary"
sed '4d' "$SANDBOX_DIR/op2.before" >"$SANDBOX_DIR/op2.expected"
cmp -s "$file" "$SANDBOX_DIR/op2.expected" ||
    fail "file after --fix:"$'\n'"$(diff "$SANDBOX_DIR/op2.expected" "$file")"
# Still exactly that one: check keeps exiting 1, and a second --fix changes nothing.
st_check_expect 1
assert_eq "$(grep -c '^ *STALE ' <<<"$CHECK_OUT")" 1 "STALE lines"
st_check_expect 1 --fix
cmp -s "$file" "$SANDBOX_DIR/op2.expected" || fail "second --fix changed the file"
stop_daemon "$(st_dns_dir)"
EOF2
    if [[ -s $SANDBOX_DIR/report-renamed.txt ]]; then
        cat "$SANDBOX_DIR/report-renamed.txt" >>"$CHECK_REPORT"
        sed 's/^/# /' "$SANDBOX_DIR/report-renamed.txt" >&3
    fi
    return "$rc"
}

@test "MX, TXT, SRV of a container's name: NOERROR with no answers (NODATA) over UDP and TCP; unknown names still NXDOMAIN" {
    in_stale_sandbox <<'EOF2'
st_use o3 "$CTRDNS_BIN"
na_network op3 cdns-op3 10.89.63.0/24=10.89.63.1 fd10:89:63::/64=fd10:89:63::1
st_setup op3-client client 1 op3 "10.89.63.2,fd10:89:63::2" -
st_setup op3-web proj_web_1 1 op3 "10.89.63.5,fd10:89:63::5" web
short=$(st_id proj_web_1 1 | cut -c1-12)
for server in 10.89.63.1 fd10:89:63::1; do
    for transport in +notcp +tcp; do
        for type in MX TXT SRV; do
            for name in web web.dns.podman proj_web_1.dns.podman "$short"; do
                dq -n op3-client "@$server" "$name" "$type" "$transport"
                expect_status NOERROR
                expect_answer_count 0
            done
            dq -n op3-client "@$server" nobody.dns.podman "$type" "$transport"
            expect_status NXDOMAIN
        done
        # A and AAAA are as before.
        dq -n op3-client "@$server" web.dns.podman A "$transport"
        expect_answer "web.dns.podman. 0 IN A 10.89.63.5"
        expect_answer_count 1
        dq -n op3-client "@$server" web.dns.podman AAAA "$transport"
        expect_answer "web.dns.podman. 0 IN AAAA fd10:89:63::5"
        expect_answer_count 1
    done
done
stop_daemon "$(st_dns_dir)"
EOF2
}

@test "check --wait NAME: exits 0 once the running server answers NAME, 1 on timeout" {
    local rc=0
    in_stale_sandbox <<'EOF2' || rc=$?
st_use o4 "$CTRDNS_BIN"
na_network op4 cdns-op4 10.89.64.0/24=10.89.64.1
st_setup op4-client client 1 op4 10.89.64.2 -
dir=$(st_dns_dir)
# Already answered: at once.
out=$(timeout 20 "$CTRDNS_BIN" check --config "$dir" --wait client --timeout 5) || fail "--wait client failed: $out"
assert_match "$out" "^client A answered by 10\.89\.64\.1 port 53 after [0-9.]+ s: 10\.89\.64\.2$" "--wait output"
printf '# ctrdns check --wait client --timeout 5\n%s\n\n' "$out" >"$SANDBOX_DIR/report-wait.txt"
# Not there: exit 1 after the timeout, saying what the server said.
rc=0
start=$SECONDS
out=$(timeout 20 "$CTRDNS_BIN" check --config "$dir" --wait nobody.dns.podman --timeout 1) || rc=$?
assert_eq "$rc" 1 "--wait exit status on timeout"
((SECONDS - start <= 5)) || fail "--wait --timeout 1 took $((SECONDS - start)) s"
assert_contains "$out" "timed out after 1.0 s: nobody.dns.podman not answered" "--wait output"
assert_contains "$out" "10.89.64.1 A: NXDOMAIN" "--wait output"
printf '# ctrdns check --wait nobody.dns.podman --timeout 1   (exit 1)\n%s\n\n' "$out" >>"$SANDBOX_DIR/report-wait.txt"
# A wrong port: nothing listens there; still a clean timeout.
rc=0
out=$(timeout 20 "$CTRDNS_BIN" check --config "$dir" --wait client --timeout 1 --port 5399) || rc=$?
assert_eq "$rc" 1 "--wait on a port nobody serves"
# Started before the container: returns once its setup made the name resolvable.
timeout 30 "$CTRDNS_BIN" check --config "$dir" --wait web --timeout 20 >"$SANDBOX_DIR/wait.out" 2>&1 &
waiter=$!
sleep 1
process_alive "$waiter" || fail "--wait returned before the container existed: $(cat "$SANDBOX_DIR/wait.out")"
st_setup op4-web proj_web_1 1 op4 10.89.64.5 web
rc=0
wait "$waiter" || rc=$?
assert_eq "$rc" 0 "--wait exit status once web exists"
assert_match "$(cat "$SANDBOX_DIR/wait.out")" "^web A answered by 10\.89\.64\.1 port 53 after [0-9.]+ s: 10\.89\.64\.5$" "--wait output"
stop_daemon "$(st_dns_dir)"
EOF2
    if [[ -s $SANDBOX_DIR/report-wait.txt ]]; then
        cat "$SANDBOX_DIR/report-wait.txt" >>"$CHECK_REPORT"
        sed 's/^/# /' "$SANDBOX_DIR/report-wait.txt" >&3
    fi
    return "$rc"
}
