#!/usr/bin/env bats
# Fair sharing between clients (issue 8 item 4, docs/security.md "Fair sharing between
# clients"), black box, written as an attacker would. One daemon on 127.0.90.1:5390 serves one
# network whose "containers" are loopback source addresses:
#   127.0.90.2 greedy   tries to hold 600 TCP connections (more than the global 512), asking
#                       a local name on each every second so none idles out
#   127.0.90.4 flooder  its DNS server is 127.0.90.66, a resolver that never answers; it sends
#                       ~120 new names per second there (each waits the whole 5 s budget: ~600
#                       would wait at once, more than the 512 global UDP forward slots)
#   127.0.90.3 victim   its DNS server is a working dnsmasq on 127.0.90.53
# While both attack, every query of the victim (local names, PTR and forwarded names, over UDP
# and TCP) must be answered, and the greedy client must end up with exactly its share (64)
# of connections. Tools: tests/integration/greedy_client.py, upstreams.bash.

load helpers

setup_file() {
    sandbox_start || return 1
    [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]] && return 0
    require_tools python3 dnsmasq perl || return 1
    export UPSTREAM_HELPERS=$BATS_TEST_DIRNAME/upstreams.bash
}

teardown_file() {
    sandbox_stop
}

setup() {
    skip_if_disabled
}

# A test body whose notes (counts) are printed in the TAP stream whether it passed or not.
fair_body() {
    local rc=0
    in_sandbox "$(cat)" || rc=$?
    if [[ -s $SANDBOX_DIR/notes ]]; then
        sed 's/^/# /' "$SANDBOX_DIR/notes" >&3
        rm -f "$SANDBOX_DIR/notes"
    fi
    return "$rc"
}

@test "one client holding every TCP connection it can and another flooding a black-holed upstream: a third client's UDP and TCP queries (local, PTR, forwarded) all answer" {
    fair_body <<'EOF'
source "$UPSTREAM_HELPERS"
upstream_dnsmasq good 127.0.90.53 --address=/fair.test/192.0.2.7
upstream_sink blackhole 127.0.90.66
d=$(new_config_dir fair)
write_lines "$d/net" 127.0.90.1 \
    "$(hex_id greedy) 127.0.90.2  greedy" \
    "$(hex_id victim) 127.0.90.3  victim 127.0.90.53" \
    "$(hex_id flooder) 127.0.90.4  flooder 127.0.90.66"
"$CTRDNS_BIN" --config "$d" -p 5390 run || fail "daemon did not start"
daemon=$(read_pid_file "$d")

tools=$CTRDNS_SOURCE_DIR/tests/integration/greedy_client.py
bg_start greedy python3 "$tools" hold-tcp --server 127.0.90.1 --port 5390 --source 127.0.90.2 \
    --count 600 --name greedy.dns.podman --duration 25 --report "$SANDBOX_DIR/greedy.report"
bg_start flooder python3 "$tools" flood-udp --server 127.0.90.1 --port 5390 --source 127.0.90.4 \
    --rate 120 --zone blackhole.test --duration 20 --report "$SANDBOX_DIR/flooder.report"
# Let both reach their steady state: all 600 connections tried, >5 s of flood waiting upstream.
wait_until 15 grep -q 'open=.* closed=[1-9]' "$SANDBOX_DIR/greedy.report" 2>/dev/null ||
    fail "greedy client did not get going: $(cat "$SANDBOX_DIR/logs/greedy.log")"
sleep 6

checked=0
for round in $(seq 1 8); do
    for transport in +notcp +tcp; do
        dq @127.0.90.1 -p 5390 -b 127.0.90.3 "$transport" victim.dns.podman
        expect_status NOERROR
        expect_answer "victim.dns.podman. 0 IN A 127.0.90.3"
        dq @127.0.90.1 -p 5390 -b 127.0.90.3 "$transport" -x 127.0.90.2
        expect_status NOERROR
        expect_answer "2.90.0.127.in-addr.arpa. 0 IN PTR greedy."
        # A new name each time: the cache must not be what answers.
        dq @127.0.90.1 -p 5390 -b 127.0.90.3 "$transport" "v$round${transport#+}.fair.test"
        expect_status NOERROR
        expect_answer "v$round${transport#+}.fair.test. 0 IN A 192.0.2.7"
        checked=$((checked + 3))
    done
    sleep 0.5
done

greedy=$(cat "$SANDBOX_DIR/greedy.report")
assert_match "$greedy" "^open=64 closed=536 " "greedy client's connections (its share is 64)"
blackholed=$(grep -c blackhole.test "$SANDBOX_DIR/logs/blackhole.queries" || true)
((blackholed > 64)) || fail "the flood did not reach the black hole ($blackholed queries)"
process_alive "$daemon" || fail "daemon died"
echo "victim: $checked/$checked answered while greedy held '$greedy' and the black hole got $blackholed queries" >>"$SANDBOX_DIR/notes"
bg_stop greedy
bg_stop flooder
stop_daemon "$d"
EOF
}
