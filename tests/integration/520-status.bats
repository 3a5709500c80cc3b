#!/usr/bin/env bats
# `ctrdns status` against a running daemon (issue 9): the report over the status socket beside
# the config directory, counters that move with known queries, a listener address that another
# process answers, and the query log switched at run time (status --log-queries, SIGUSR1).
# Gateways are loopback addresses of the sandbox (127.0.5N.1); every test has its own port.
#
# Test 1 writes the outputs to ${CTRDNS_STATUS_REPORT:-$BATS_FILE_TMPDIR/status-report.txt}
# (the README's `status` examples) and prints them as TAP comments.

load helpers

setup_file() {
    sandbox_start || return 1
    [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]] && return 0
    export STATUS_REPORT=${CTRDNS_STATUS_REPORT:-$BATS_FILE_TMPDIR/status-report.txt}
    : >"$STATUS_REPORT"
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

@test "status: the JSON names the network, the live address, stale lines, counters that moved; a listener another process answers fails its self-query" {
    in_sandbox <<'EOF2'
d=$(new_config_dir status)
# An older line for web (lost teardown) and the live one: the older is shadowed.
write_lines "$d/net1" 127.0.51.1 \
    "0ld0000000000000000000000000000000000000000000000000000000000001 127.0.51.9  web" \
    "11ve000000000000000000000000000000000000000000000000000000000002 127.0.51.2  web,app"
"$CTRDNS_BIN" --config "$d" -p 5351 run

# The socket is beside the directory, never in it; owner-only.
sock=$d.ctrdns.sock
[[ -S $sock ]] || fail "no status socket at $sock"
assert_eq "$(stat -c '%a %U' "$sock")" "600 root" "status socket mode and owner"
assert_eq "$(find "$d" -type s | wc -l)" 0 "sockets inside the config directory"

before=$("$CTRDNS_BIN" status --config "$d" --json)
jq -e . <<<"$before" >/dev/null || fail "status --json is not JSON: $before"

dq @127.0.51.1 -p 5351 web.dns.podman
expect_answer "web.dns.podman. 0 IN A 127.0.51.2"
dq @127.0.51.1 -p 5351 +tcp app AAAA
expect_status NOERROR
dq @127.0.51.1 -p 5351 nobody.dns.podman
expect_status NXDOMAIN
dq @127.0.51.1 -p 5351 web.dns.podman MX
expect_status NOERROR
dq @127.0.51.1 -p 5351 www.example.test
expect_answer "www.example.test. 0 IN A 192.0.2.53"

json=$("$CTRDNS_BIN" status --config "$d" --json)
jq -e . <<<"$json" >/dev/null || fail "status --json is not JSON: $json"
assert_eq "$(jq -r '.networks[0].name' <<<"$json")" net1 "network"
assert_eq "$(jq -r '.networks[0].listen_addresses | join(",")' <<<"$json")" 127.0.51.1 "listen address"
assert_eq "$(jq -r '.names[] | select(.name == "web") | .addresses | join(",")' <<<"$json")" 127.0.51.2 "web's live address"
assert_eq "$(jq -r '.names[] | select(.name == "app") | .addresses | join(",")' <<<"$json")" 127.0.51.2 "app"
assert_eq "$(jq -r '.stale | length' <<<"$json")" 1 "stale lines"
assert_eq "$(jq -r '.stale[0].status + " " + .stale[0].container_id[0:4] + " " + (.stale[0].line | tostring)' <<<"$json")" "shadowed 0ld0 2" "stale line"
assert_eq "$(jq -r '.listeners[0] | "\(.address):\(.port) \(.bound) \(.self_check)"' <<<"$json")" "127.0.51.1:5351 true ok" "listener"
# Counters moved by exactly the queries above (5 queries; the status self-checks are apart).
delta() { echo $(($(jq -r "$1 // 0" <<<"$json") - $(jq -r "$1 // 0" <<<"$before"))); }
assert_eq "$(delta .counters.queries)" 5 "queries"
assert_eq "$(delta .counters.by_type.A)" 3 "A queries"
assert_eq "$(delta .counters.by_type.AAAA)" 1 "AAAA queries"
assert_eq "$(delta .counters.by_type.MX)" 1 "MX queries"
assert_eq "$(delta .counters.by_rcode.NXDOMAIN)" 1 "NXDOMAIN replies"
assert_eq "$(delta .counters.by_rcode.NOERROR)" 4 "NOERROR replies"
assert_eq "$(delta .counters.answered_locally)" 4 "answered locally"
assert_eq "$(delta .counters.forwarded)" 1 "forwarded"
assert_eq "$(jq -r '.upstreams[0].server + " " + (.upstreams[0].down | tostring)' <<<"$json")" "$SANDBOX_RESOLVER:53 false" "upstream health"
# dnsmasq answers with TTL 0, which is never cached: a lookup, no entry.
assert_eq "$(delta .cache.lookups)" 1 "cache lookups"
assert_eq "$(jq -r '.cache.enabled' <<<"$json")" true "cache enabled"
assert_eq "$(jq -r '.last_reload.ok' <<<"$json")" true "last reload"
assert_eq "$(jq -r '.last_reload.rebuilt_networks | join(",")' <<<"$json")" net1 "last reload rebuilt"

# Another process answers on a second network's address: ctrdns cannot bind it after a
# reload, and the self-query is answered, but not by ctrdns.
bg_start impostor socat UDP4-RECVFROM:5351,bind=127.0.52.1,fork SYSTEM:cat
wait_until 5 dig_quiet @127.0.52.1 -p 5351 probe || true
write_lines "$d/net2" 127.0.52.1 "22ee000000000000000000000000000000000000000000000000000000000003 127.0.52.5  db"
kill -HUP "$(read_pid_file "$d")"
listener_of() { jq -r '.listeners[] | select(.address == "127.0.52.1") | "\(.bound) \(.self_check)"' <<<"$("$CTRDNS_BIN" status --config "$d" --json)"; }
listener_is() { [[ $(listener_of) == "$1" ]]; }
wait_until 5 listener_is "false other-process" || fail "impostor listener: $(listener_of)"
text=$("$CTRDNS_BIN" status --config "$d")
assert_match "$text" "127\.0\.52\.1:5351  net2     NO     other-process \(another process answered\)" "text table"
assert_match "$text" "127\.0\.51\.1:5351  net1     yes    ok" "text table"
prom=$("$CTRDNS_BIN" status --config "$d" --prometheus)
assert_match "$prom" $'\nctrdns_listeners_unbound 1\n' "prometheus"
assert_match "$prom" $'\nctrdns_queries_by_type_total\\{type="A"\\} [0-9]+\n' "prometheus"
assert_match "$prom" $'\nctrdns_stale_entries 1\n' "prometheus"
# Once the impostor is gone, nothing answers there; a reload that changes the network binds
# the address and the self-query reaches ctrdns.
bg_stop impostor
wait_until 5 listener_is "false no-answer" || fail "listener after the impostor left: $(listener_of)"
write_lines "$d/net2" 127.0.52.1 "22ee000000000000000000000000000000000000000000000000000000000003 127.0.52.5  db" \
    "33ff000000000000000000000000000000000000000000000000000000000004 127.0.52.6  cache"
kill -HUP "$(read_pid_file "$d")"
wait_until 5 listener_is "true ok" || fail "listener after the impostor left: $(listener_of)"

# No daemon: a clear error, exit 1.
stop_daemon "$d"
[[ ! -e $sock ]] || fail "status socket left behind after SIGTERM"
rc=0
out=$("$CTRDNS_BIN" status --config "$d" 2>&1) || rc=$?
assert_eq "$rc" 1 "status without a daemon"
assert_contains "$out" "is the daemon running for this directory?" "status without a daemon"

{
    printf '# ctrdns status --config %s   (with the impostor on 127.0.52.1)\n%s\n\n' "$d" "$text"
    printf '# ctrdns status --config %s --json | head -40\n%s\n\n' "$d" "$(head -40 <<<"$json")"
    printf '# ctrdns status --config %s --prometheus | head -24\n%s\n\n' "$d" "$(head -24 <<<"$prom")"
} >"$SANDBOX_DIR/status-report.txt"
EOF2
    if [[ -s $SANDBOX_DIR/status-report.txt ]]; then
        cat "$SANDBOX_DIR/status-report.txt" >>"$STATUS_REPORT"
        sed 's/^/# /' "$SANDBOX_DIR/status-report.txt" >&3
    fi
}

@test "query log: off by default; status --log-queries on|off and SIGUSR1 switch it at run time; a flood is rate-limited with a summary" {
    in_sandbox <<'EOF2'
d=$(new_config_dir qlog)
write_lines "$d/net1" 127.0.54.1 "id1 127.0.54.2  web"
bg_start qlog "$CTRDNS_BIN" --config "$d" -p 5354 --foreground run
log=$SANDBOX_DIR/logs/qlog.log
wait_until 5 dig_quiet @127.0.54.1 -p 5354 web || fail "daemon did not come up: $(cat "$log")"
lines() { grep -c '^\[info\] query client=' "$log" || true; }

dq @127.0.54.1 -p 5354 web.dns.podman
assert_eq "$(lines)" 0 "query lines while the log is off"

out=$("$CTRDNS_BIN" status --config "$d" --log-queries on)
assert_eq "$out" "query log on" "--log-queries on"
assert_eq "$("$CTRDNS_BIN" status --config "$d" --json | jq -r .query_log)" true "status shows the log on"
dq @127.0.54.1 -p 5354 web.dns.podman
dq @127.0.54.1 -p 5354 +tcp nobody.dns.podman AAAA
dq @127.0.54.1 -p 5354 www.example.test
lines_at_least() { (($(lines) >= $1)); }
wait_until 3 lines_at_least 3 || fail "query lines: $(cat "$log")"
assert_match "$(cat "$log")" $'\n\\[info\\] query client=127\\.0\\.0\\.1:[0-9]+ network=net1 udp name=web\\.dns\\.podman\\. type=A rcode=NOERROR answers=127\\.0\\.54\\.2 us=[0-9]+\n' "local answer line"
assert_match "$(cat "$log")" $'\n\\[info\\] query client=127\\.0\\.0\\.1:[0-9]+ network=net1 tcp name=nobody\\.dns\\.podman\\. type=AAAA rcode=NXDOMAIN us=[0-9]+\n' "NXDOMAIN line"
assert_match "$(cat "$log")" $'\n\\[info\\] query client=127\\.0\\.0\\.1:[0-9]+ network=net1 udp name=www\\.example\\.test\\. type=A rcode=NOERROR upstream=host us=[0-9]+(\n|$)' "forwarded line"

out=$("$CTRDNS_BIN" status --config "$d" --log-queries off)
assert_eq "$out" "query log off" "--log-queries off"
count=$(lines)
dq @127.0.54.1 -p 5354 web.dns.podman
sleep 0.2
assert_eq "$(lines)" "$count" "query lines after the log was switched off"

# SIGUSR1 toggles it (and does not kill the daemon).
pid=$(read_pid_file "$d")
kill -USR1 "$pid"
wait_until 3 grep -q 'query log on' <(tail -n 1 "$log") || true
dq @127.0.54.1 -p 5354 web.dns.podman
wait_until 3 lines_at_least $((count + 1)) || fail "SIGUSR1 did not switch the log on: $(tail -n 5 "$log")"
process_alive "$pid" || fail "SIGUSR1 killed the daemon"

# A flood: 400 queries at once give at most the burst of 100 lines; the next line that gets
# through first says how many were suppressed.
count=$(lines)
python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
q = bytes.fromhex("abcd0100000100000000000003776562000001 0001".replace(" ", ""))
for i in range(400):
    s.sendto(q, ("127.0.54.1", 5354))
PY
sleep 1.2
dq @127.0.54.1 -p 5354 web.dns.podman
wait_until 3 grep -q 'line(s) suppressed' "$log" || fail "no suppressed summary: $(tail -n 3 "$log")"
flood=$(($(lines) - count))
((flood <= 110 && flood >= 90)) || fail "$flood query lines for a flood of 400 (+1)"
suppressed=$(grep -o 'query log: [0-9]* line(s) suppressed' "$log" | tail -n 1 | grep -o '[0-9]*')
# The socket buffer may drop some of the 400 before ctrdns reads them; none is counted twice.
((suppressed > 0 && suppressed + flood <= 401)) || fail "suppressed $suppressed, written $flood"
kill -USR1 "$pid"
wait_until 3 grep -q 'query log off' "$log" || fail "SIGUSR1 did not switch the log off"
bg_stop qlog
EOF2
}
