#!/usr/bin/env bats
# Forwarding (issue 3), black box: ctrdns spawned by Debian's real netavark 1.4 (-a $CTRDNS_BIN)
# relays what it does not answer itself to REAL dnsmasq upstreams on sandbox loopback addresses
# (contract §5; docs/forwarding.md). Internal networks use tools/netavark2-sim
# (1.4 has no %int); --no-cache runs the daemon directly.
#
# Upstreams, all on port 53 inside the sandbox (tests/integration/upstreams.bash):
#   127.0.0.21 up21  resolv.conf's nameserver: example.test -> 192.0.2.21 (TTL 0), nx.test NXDOMAIN,
#                    big.example.test TXT of ~870 bytes (TC over UDP without EDNS)
#   127.0.0.22 dead  reads UDP and TCP queries, never answers
#   127.0.0.29 deadfo  the same, asked by the failover test only (127.0.0.30 the same, for TCP)
#   127.0.0.23 up23  nothing configured: REFUSED for every name
#   127.0.0.24 up24  example.test -> 192.0.2.24   (resolv.conf after the run-time change)
#   127.0.0.25 up25  example.test -> 192.0.2.25   (network DNS servers)
#   127.0.0.26 up26  example.test -> 192.0.2.26   (container DNS servers)
#   127.0.0.27 up27  example.test -> 192.0.2.27 with TTL 3 (cache), the same big TXT
#
# netavark 1.4 networks (one daemon serves them all) and containers (network namespaces):
#   neta 10.89.41.0/24            a1 .2 | a2 .3 dns .26 | a3 .4 dns .23,.21 | d1 .5 dns .22 | m1 .6
#   netn 10.89.42.0/24 dns .25,.26  n1 .2 | n2 .3 dns .26 | m1 .4 (m1 is on neta and netn)
#   netf 10.89.43.0/24 dns .29,.21  f1 .2 | f2 .3 dns .30,.21   (the failover test's alone)
#   netc 10.89.45.0/24 dns .27      c1 .2
#   netl 10.89.46.0/24 dns 10.89.46.1(its own gateway),.25   l1 .2 | l2 .3 dns 10.89.46.1
#
# The tests share the daemon but not their order: each may run alone (bats --filter) or in any
# order. The daemon's health memory is the state that matters: only the failover test asks
# deadfo (its first answer waits for the dead server), and the upstream counts each test checks
# are of names no other test asks. Tests that rewrite resolv.conf put it back and wait until the
# daemon uses 127.0.0.21 again.

# The sandbox's bind-mounted /etc/resolv.conf names the good dnsmasq.
export SANDBOX_RESOLVER=127.0.0.21

load helpers

export GW_A=10.89.41.1 GW_N=10.89.42.1 GW_F=10.89.43.1 GW_C=10.89.45.1 GW_L=10.89.46.1

setup_file() {
    sandbox_start || return 1
    [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]] && return 0
    require_tools "$NETAVARK" iptables dnsmasq ss || return 1
    fwd_sandbox <<'EOF'
big=
for i in 1 2 3 4; do big+=",$(printf 'chunk%d-%0195d' "$i" 0)"; done
upstream_dnsmasq up21 127.0.0.21 --address=/example.test/192.0.2.21 --address=/nx.test/ \
    "--txt-record=big.example.test$big"
upstream_sink dead 127.0.0.22
upstream_sink deadfo 127.0.0.29 127.0.0.30
upstream_dnsmasq up23 127.0.0.23
upstream_dnsmasq up24 127.0.0.24 --address=/example.test/192.0.2.24
upstream_dnsmasq up25 127.0.0.25 --address=/example.test/192.0.2.25
upstream_dnsmasq up26 127.0.0.26 --address=/example.test/192.0.2.26
upstream_dnsmasq up27 127.0.0.27 --address=/example.test/192.0.2.27 --local-ttl=3 \
    "--txt-record=big.example.test$big"
na_network neta cdns-fa 10.89.41.0/24=$GW_A
na_network netn cdns-fn 10.89.42.0/24=$GW_N --dns 127.0.0.25,127.0.0.26
na_network netf cdns-ff 10.89.43.0/24=$GW_F --dns 127.0.0.29,127.0.0.21
na_network netc cdns-fc 10.89.45.0/24=$GW_C --dns 127.0.0.27
na_network netl cdns-fl 10.89.46.0/24=$GW_L --dns $GW_L,127.0.0.25
na_setup a1 neta 10.89.41.2 -
na_setup a2 --dns 127.0.0.26 neta 10.89.41.3 -
na_setup a3 --dns 127.0.0.23,127.0.0.21 neta 10.89.41.4 -
na_setup d1 --dns 127.0.0.22 neta 10.89.41.5 -
na_setup m1 neta 10.89.41.6 - netn 10.89.42.4 -
na_setup n1 netn 10.89.42.2 -
na_setup n2 --dns 127.0.0.26 netn 10.89.42.3 -
na_setup f1 netf 10.89.43.2 -
na_setup f2 --dns 127.0.0.30,127.0.0.21 netf 10.89.43.3 -
na_setup c1 netc 10.89.45.2 -
na_setup l1 netl 10.89.46.2 -
na_setup l2 --dns $GW_L netl 10.89.46.3 -
cat "$(na_pid_file)" >"$SANDBOX_DIR/fwd-daemon-pid"
EOF
}

teardown_file() {
    sandbox_stop
}

setup() {
    skip_if_disabled
}

# in_sandbox with upstreams.bash sourced too.
fwd_sandbox() {
    local body
    body=$(cat)
    in_sandbox "source '$BATS_TEST_DIRNAME/upstreams.bash'"$'\n'"$body"
}

@test "netavark 1.4 wrote the network and container DNS servers; one daemon serves every network" {
    fwd_sandbox <<'EOF'
dir=$NA_CONFIG/aardvark-dns
assert_eq "$(head -n 1 "$dir/neta")" "$GW_A" "neta header"
assert_eq "$(head -n 1 "$dir/netn")" "$GW_N 127.0.0.25,127.0.0.26" "netn header"
assert_eq "$(head -n 1 "$dir/netl")" "$GW_L $GW_L,127.0.0.25" "netl header"
assert_match "$(cat "$dir/neta")" "$(hex_id ctr-a3) 10\.89\.41\.4  a3 127\.0\.0\.23,127\.0\.0\.21" "a3 entry"
assert_match "$(cat "$dir/netf")" "$(hex_id ctr-f2) 10\.89\.43\.3  f2 127\.0\.0\.30,127\.0\.0\.21" "f2 entry"
pid=$(cat "$SANDBOX_DIR/fwd-daemon-pid")
process_alive "$pid" || fail "daemon $pid not running"
assert_eq "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "$CTRDNS_BIN --config $dir -p 53 run " "daemon argv"
EOF
}

@test "resolv.conf nameserver: a container's upstream name is resolved through its gateway; flags and rcode relayed" {
    fwd_sandbox <<'EOF'
assert_eq "$(cat /etc/resolv.conf)" "nameserver 127.0.0.21" "sandbox resolv.conf"
dq -n a1 @$GW_A www.example.test
expect_status NOERROR
# aa is dnsmasq's: ctrdns never sets it on its own answers, so this answer was relayed.
expect_flags "qr aa rd ra"
expect_answer "www.example.test. 0 IN A 192.0.2.21"
expect_answer_count 1
# Byte-for-byte relay: the same header flags and rcode as asking dnsmasq directly.
for q in "nx.test A" "sub.nx.test AAAA" "txt.example.test TXT" "other.test A" \
    "1.2.0.192.in-addr.arpa PTR"; do
    set -- $q
    dq @127.0.0.21 "$1" "$2"
    direct_status=$DQ_STATUS direct_flags=$DQ_FLAGS
    dq -n a1 @$GW_A "$1" "$2"
    expect_status "$direct_status"
    expect_flags "$direct_flags"
done
dq -n a1 @$GW_A nx.test
expect_status NXDOMAIN
dq -n a1 @$GW_A other.test
expect_status REFUSED
# Without RD: relayed as the upstream sent it (ctrdns adds RA only when RD is set).
dq @127.0.0.21 +nordflag nord.example.test
direct_flags=$DQ_FLAGS
dq -n a1 @$GW_A +nordflag nord.example.test
expect_status NOERROR
expect_flags "$direct_flags"
expect_answer "nord.example.test. 0 IN A 192.0.2.21"
# The client's case is kept on the way out and back.
dq -n a1 @$GW_A WwW.ExAmPlE.TeSt
expect_answer "WwW.ExAmPlE.TeSt. 0 IN A 192.0.2.21"
# Nobody else was asked.
expect_upstream_counts www.example.test up21=1 up23=0 up24=0 up25=0 up26=0 up27=0
EOF
}

@test "precedence (spec 5.2): container servers, then network servers, then resolv.conf" {
    fwd_sandbox <<'EOF'
# check CONTAINER GATEWAY QNAME EXPECTED-UPSTREAM [DIG-ARGS]: answered by that upstream only.
check() {
    local ctr=$1 gw=$2 qname=$3 up=$4 other counts=()
    shift 4
    dq -n "$ctr" @"$gw" "$@" "$qname"
    expect_status NOERROR
    expect_answer "$qname. 0 IN A 192.0.2.${up#up}"
    expect_answer_count 1
    for other in up21 up23 up24 up25 up26 up27; do
        if [[ $other == "$up" ]]; then counts+=("$other=1"); else counts+=("$other=0"); fi
    done
    expect_upstream_counts "$qname" "${counts[@]}"
}
check a1 $GW_A prec-a1.example.test up21                # nothing set: resolv.conf
check n1 $GW_N prec-n1.example.test up25                # network servers [.25,.26]: the first
check n2 $GW_N prec-n2.example.test up26                # container servers beat network servers
check a2 $GW_A prec-a2.example.test up26                # container servers beat resolv.conf
check m1 $GW_A prec-m1.example.test up25                # on neta (none) and netn: netn's, from either gateway
check m1 $GW_N prec-m1n.example.test up25
check n2 $GW_N prec-n2t.example.test up26 +tcp          # the same over TCP
check n1 $GW_N prec-n1t.example.test up25 +tcp
check a1 $GW_A prec-a1t.example.test up21 +tcp
EOF
}

@test "TCP queries are forwarded over TCP and relayed with their flags" {
    fwd_sandbox <<'EOF'
dq -n a1 @$GW_A +tcp tcp.example.test
expect_status NOERROR
expect_flags "qr aa rd ra"
expect_answer "tcp.example.test. 0 IN A 192.0.2.21"
assert_contains "$DQ_OUT" "(TCP)" "dig transport"
expect_upstream_count up21 tcp.example.test 1
dq -n a1 @$GW_A +tcp nx.test
expect_status NXDOMAIN
# Several forwarded queries on one connection, each answered.
dq -n a2 @$GW_A +tcp +keepopen k1.example.test k2.example.test k3.example.test
assert_eq "$(tr '\n' ' ' <<<"$DQ_STATUSES")" "NOERROR NOERROR NOERROR " "statuses"
expect_answer "k1.example.test. 0 IN A 192.0.2.26"
expect_answer "k3.example.test. 0 IN A 192.0.2.26"
# Pipelined on one socket: local, forwarded and local again, replies matched by ID.
q=$(tcp_frame_hex "$(dns_query_hex 4660 a2.dns.podman 1)")
q+=$(tcp_frame_hex "$(dns_query_hex 4661 pipe.example.test 1)")
q+=$(tcp_frame_hex "$(dns_query_hex 4662 a1 1)")
reply=$(tcp_exchange -n a1 "$GW_A" 53 "$q")
replies=$(tcp_split_replies "$reply" | sort | tr '\n' ' ')
assert_eq "$replies" "4660 0 1 4661 0 1 4662 0 1 " "pipelined replies (id rcode ancount)"
expect_upstream_count up21 pipe.example.test 1
EOF
}

@test "REFUSED from an upstream is relayed as REFUSED, without failing over to the next server" {
    fwd_sandbox <<'EOF'
# a3's servers are [.23 (REFUSED for everything), .21 (good)].
for transport in +notcp +tcp; do
    name=refused${transport#+}.example.test
    dq -n a3 @$GW_A $transport "$name"
    expect_status REFUSED
    expect_flags "qr rd ra"
    expect_answer_count 0
    expect_upstream_counts "$name" up23=1 up21=0
done
EOF
}

@test "TC: a truncated UDP answer is relayed with tc; the same query over TCP gets the full answer" {
    fwd_sandbox <<'EOF'
dq -n a1 @$GW_A +noedns +ignore big.example.test TXT
expect_status NOERROR
expect_flags "qr aa tc rd ra"
expect_answer_count 0
dq -n a1 @$GW_A +noedns +tcp big.example.test TXT
expect_status NOERROR
expect_flags "qr aa rd ra"
expect_answer_count 1
assert_contains "$DQ_ANSWER" '"chunk1-' "TXT answer"
assert_contains "$DQ_ANSWER" '"chunk4-' "TXT answer"
assert_match "$DQ_OUT" 'MSG SIZE +rcvd: ([89][0-9]{2})' "TCP answer size"
# dig's default (EDNS, 1232 bytes) gets it whole over UDP.
dq -n a1 @$GW_A big.example.test TXT
expect_flags "qr aa rd ra"
expect_answer_count 1
assert_contains "$DQ_ANSWER" '"chunk4-' "TXT answer over UDP with EDNS"
# Without +ignore dig itself retries a TC answer over TCP: that works end to end too.
dq -n a1 @$GW_A +noedns big.example.test TXT
expect_answer_count 1
assert_contains "$DQ_OUT" "(TCP)" "dig's retry transport"
# 3 queries above, then this one's UDP try and its TCP retry: TC answers are not cached.
expect_upstream_count up21 big.example.test 5
EOF
}

@test "failover [dead, good]: first answer after ~2.5 s (5 s / 2), later names in < 100 ms (health memory)" {
    fwd_sandbox <<'EOF'
# f1: network servers [.29 (dead), .21]. UDP.
dq -n f1 @$GW_F +time=5 fo-first.example.test
expect_status NOERROR
expect_answer "fo-first.example.test. 0 IN A 192.0.2.21"
expect_query_time_between 2000 3500
# The dead server really was asked: the first send and the re-sends at 333 and 666 ms.
assert_eq "$(sink_count deadfo udp 127.0.0.29 fo-first.example.test)" 3 "UDP sends to the dead server"
for i in 1 2 3 4; do
    dq -n f1 @$GW_F +time=5 fo-next$i.example.test
    expect_status NOERROR
    expect_answer "fo-next$i.example.test. 0 IN A 192.0.2.21"
    expect_query_time_between 0 99
done
# f2: container servers [.30 (dead), .21]. TCP: the dead server accepts and never answers.
dq -n f2 @$GW_F +tcp +time=5 fo-tcp-first.example.test
expect_status NOERROR
expect_answer "fo-tcp-first.example.test. 0 IN A 192.0.2.21"
expect_query_time_between 2000 3500
assert_eq "$(sink_count deadfo tcp 127.0.0.30 fo-tcp-first.example.test)" 1 "TCP queries to the dead server"
for i in 1 2 3; do
    dq -n f2 @$GW_F +tcp +time=5 fo-tcp-next$i.example.test
    expect_answer "fo-tcp-next$i.example.test. 0 IN A 192.0.2.21"
    expect_query_time_between 0 99
done
EOF
}

@test "all upstreams dead: no reply at all (the client times out), and the daemon keeps serving" {
    fwd_sandbox <<'EOF'
pid=$(cat "$SANDBOX_DIR/fwd-daemon-pid")
# d1's only server is .22 (dead). UDP and TCP at once: ctrdns spends its 5 s budget and sends
# nothing (no SERVFAIL), so dig, waiting 6 s, gets no reply.
out=$SANDBOX_DIR/alldead
ip netns exec d1 dig +time=6 +tries=1 @$GW_A alldead-udp.example.test >"$out.udp" 2>&1 &
udp_pid=$!
ip netns exec d1 dig +tcp +time=6 +tries=1 @$GW_A alldead-tcp.example.test >"$out.tcp" 2>&1 &
tcp_pid=$!
# Meanwhile ctrdns waits on sockets connected to the dead server.
wait_until 3 eval '[[ -n $(sockets_to "$pid" 127.0.0.22) ]]' ||
    fail "no ctrdns socket towards 127.0.0.22: $(ss -Hanp)"
udp_rc=0 tcp_rc=0
wait $udp_pid || udp_rc=$?
wait $tcp_pid || tcp_rc=$?
for t in udp tcp; do
    text=$(cat "$out.$t")
    assert_not_match "$text" 'status:' "dig over $t"
done
assert_ne "$udp_rc" 0 "dig exit status over UDP"
assert_ne "$tcp_rc" 0 "dig exit status over TCP"
assert_contains "$(cat "$out.udp")" "timed out" "dig over UDP"
# (At least: once its back-off ends, a background probe may add a copy.)
(($(sink_count dead udp 127.0.0.22 alldead-udp.example.test) >= 3)) || fail "fewer than 3 UDP sends to the dead server"
(($(sink_count dead tcp 127.0.0.22 alldead-tcp.example.test) >= 1)) || fail "no TCP query to the dead server"
process_alive "$pid" || fail "daemon $pid died"
assert_eq "$(cat "$(na_pid_file)")" "$pid" "daemon pid"
dq -n d1 @$GW_A a1.dns.podman
expect_answer "a1.dns.podman. 0 IN A 10.89.41.2"
dq -n a1 @$GW_A after-alldead.example.test
expect_answer "after-alldead.example.test. 0 IN A 192.0.2.21"
EOF
}

@test "cache: an answer with TTL 3 is served from the cache, and fetched again once it expired" {
    fwd_sandbox <<'EOF'
# c1's network server is .27, which answers with TTL 3.
dq -n c1 @$GW_C cached.example.test
expect_status NOERROR
expect_answer "cached.example.test. 3 IN A 192.0.2.27"
asked_ns=$(date +%s%N)
dq -n c1 @$GW_C cached.example.test
expect_status NOERROR
expect_flags "qr aa rd ra"
ttl=$(dq_first_ttl)
((ttl >= 2 && ttl <= 3)) || fail "TTL of the cached answer: $ttl"$'\n'"$(dq_context)"
# Another spelling hits the same entry and gets its own spelling back.
dq -n c1 @$GW_C CACHED.example.TEST
assert_match "$DQ_ANSWER" '^CACHED\.example\.TEST\. [1-3] IN A 192\.0\.2\.27$' "answer from the cache"
expect_upstream_count up27 cached.example.test 1
# Past the TTL the upstream is asked again, and its answer cached anew.
# 3.3 s after the first answer: the entry (lifetime 3 s) has expired.
sleep "$(awk -v t0="$asked_ns" -v now="$(date +%s%N)" 'BEGIN { w = 3.3 - (now - t0) / 1e9; printf "%.3f", (w > 0 ? w : 0) }')"
dq -n c1 @$GW_C cached.example.test
expect_answer "cached.example.test. 3 IN A 192.0.2.27"
expect_upstream_count up27 cached.example.test 2
dq -n c1 @$GW_C +tcp cached.example.test
expect_status NOERROR
expect_answer_count 1
expect_upstream_count up27 cached.example.test 2
# A cached answer too big for a UDP client without EDNS (512 bytes) is not sent to it: the query
# is forwarded, and the upstream's TC answer relayed (and not cached).
dq -n c1 @$GW_C +noedns +tcp big.example.test TXT
expect_answer_count 1
expect_upstream_count up27 big.example.test 1
dq -n c1 @$GW_C +noedns +ignore big.example.test TXT
expect_status NOERROR
expect_flags "qr aa tc rd ra"
expect_answer_count 0
expect_upstream_count up27 big.example.test 2
dq -n c1 @$GW_C +noedns +tcp big.example.test TXT
expect_answer_count 1
assert_contains "$DQ_ANSWER" '"chunk4-' "TXT answer from the cache"
expect_upstream_count up27 big.example.test 2
# dnsmasq answers TTL 0 for resolv.conf's names: never cached.
for i in 1 2 3; do
    dq -n a1 @$GW_A ttl0.example.test
    expect_answer "ttl0.example.test. 0 IN A 192.0.2.21"
done
expect_upstream_count up21 ttl0.example.test 3
EOF
}

@test "--no-cache (daemon run directly in the foreground): every query goes to the upstream" {
    fwd_sandbox <<'EOF'
d=$(new_config_dir nocache)
write_lines "$d/ncnet" "127.0.52.1 127.0.0.27" "$(hex_id nc1) 127.0.52.2  nc1"
for mode in nocache withcache; do
    flags=()
    [[ $mode == nocache ]] && flags=(--no-cache)
    bg_start "ctrdns-$mode" "$CTRDNS_BIN" --config "$d" -p 53 --foreground "${flags[@]}" run
    wait_until 5 dig_quiet @127.0.52.1 -b 127.0.52.2 nc1.dns.podman ||
        fail "ctrdns $mode did not come up: $(cat "$SANDBOX_DIR/logs/ctrdns-$mode.log")"
    for i in 1 2 3; do
        dq @127.0.52.1 -b 127.0.52.2 $mode.example.test
        expect_status NOERROR
        # TTL 3 from the upstream, maybe a second less from the cache.
        assert_match "$DQ_ANSWER" "^$mode\.example\.test\. [23] IN A 192\.0\.2\.27\$" "answer $i"
    done
    pid=$(bg_pid "ctrdns-$mode")
    process_alive "$pid" || fail "ctrdns $mode died: $(cat "$SANDBOX_DIR/logs/ctrdns-$mode.log")"
    bg_stop "ctrdns-$mode"
done
expect_upstream_count up27 nocache.example.test 3
# The same daemon without the flag: one upstream query for three client queries.
expect_upstream_count up27 withcache.example.test 1
EOF
}

@test "resolv.conf rewritten in place at run time: the new nameserver is used within 10 s, without SIGHUP" {
    fwd_sandbox <<'EOF'
pid=$(cat "$SANDBOX_DIR/fwd-daemon-pid")
ino=$(stat -c %i /etc/resolv.conf)
trap 'resolv_conf_write "nameserver 127.0.0.21"' EXIT
dq -n a1 @$GW_A before.example.test
expect_answer "before.example.test. 0 IN A 192.0.2.21"
# switch_to ADDR ANSWER-IP: rewrite, then poll with fresh names until the answer changes.
switch_to() {
    resolv_conf_write "# rewritten by the test" "nameserver $1"
    assert_eq "$(stat -c %i /etc/resolv.conf)" "$ino" "resolv.conf inode"
    local start=$SECONDS i=0
    while :; do
        i=$((i + 1))
        dq -n a1 @$GW_A +time=1 switch$i-$1.example.test
        [[ $DQ_ANSWER == *" $2" ]] && break
        ((SECONDS - start < 10)) || fail "still not using $1 after $((SECONDS - start)) s:"$'\n'"$(dq_context)"
        sleep 0.2
    done
    expect_answer "switch$i-$1.example.test. 0 IN A $2"
}
switch_to 127.0.0.24 192.0.2.24
dq -n a1 @$GW_A +tcp after.example.test
expect_answer "after.example.test. 0 IN A 192.0.2.24"
expect_upstream_count up21 after.example.test 0
# Container and network servers are unaffected.
dq -n n1 @$GW_N after-n1.example.test
expect_answer "after-n1.example.test. 0 IN A 192.0.2.25"
switch_to 127.0.0.21 192.0.2.21
assert_eq "$(cat "$SANDBOX_DIR/fwd-daemon-pid")" "$pid" "daemon pid"
process_alive "$pid" || fail "daemon died"
EOF
}

@test "loop guard: a DNS server that is ctrdns's own gateway is skipped, no query loops through ctrdns" {
    fwd_sandbox <<'EOF'
pid=$(cat "$SANDBOX_DIR/fwd-daemon-pid")
trap 'resolv_conf_write "nameserver 127.0.0.21"' EXIT
# l1: network servers [its own gateway, .25]. Forwarding to the gateway would come back to
# ctrdns from an unknown source and go out to resolv.conf's .21: the answer would be .21's.
dq -n l1 @$GW_L loop1.example.test
expect_status NOERROR
expect_answer "loop1.example.test. 0 IN A 192.0.2.25"
expect_query_time_between 0 999
expect_upstream_counts loop1.example.test up25=1 up21=0
dq -n l1 @$GW_L +tcp loop1t.example.test
expect_answer "loop1t.example.test. 0 IN A 192.0.2.25"
expect_upstream_count up21 loop1t.example.test 0
# l2: container servers = its own gateway only. Nothing is left to forward to, and the
# container's own list is not silently replaced by the host's: no reply. A loop would instead
# resolve through the host servers (the looped query comes from an unknown source).
dq -n l2 @$GW_L +time=1 loop2.example.test
expect_no_reply
dq -n l2 @$GW_L +time=1 +tcp loop2t.example.test
expect_no_reply
assert_eq "$(sockets_to "$pid" $GW_L)" "" "ctrdns sockets towards its own gateway"
expect_upstream_count up21 loop2.example.test 0
expect_upstream_count up21 loop2t.example.test 0
# resolv.conf naming a gateway first (aardvark#248): skipped, the next nameserver answers.
resolv_conf_write "nameserver $GW_L" "nameserver 127.0.0.24"
wait_until 10 eval 'dq -n a1 @$GW_A +time=1 loop3-$RANDOM.example.test; [[ $DQ_ANSWER == *192.0.2.24 ]]' || true
expect_status NOERROR
expect_query_time_between 0 999
# resolv.conf naming only the gateway: nothing to forward to, no reply, and ctrdns holds no
# socket towards its own gateway (a loop would keep several for up to 5 s each).
resolv_conf_write "nameserver $GW_L"
wait_until 10 eval 'dq -n a1 @$GW_A +time=1 loop4-$RANDOM.example.test; [[ -z $DQ_STATUS ]]' || true
expect_no_reply
dq -n a1 @$GW_A +time=1 loop5.example.test
expect_no_reply
assert_eq "$(sockets_to "$pid" $GW_L)" "" "ctrdns sockets towards its own gateway"
resolv_conf_write "nameserver 127.0.0.21"
wait_until 10 eval 'dq -n a1 @$GW_A +time=1 loop6-$RANDOM.example.test; [[ $DQ_ANSWER == *192.0.2.21 ]]' || true
expect_status NOERROR
process_alive "$pid" || fail "daemon died"
dq -n l1 @$GW_L l2.dns.podman
expect_answer "l2.dns.podman. 0 IN A 10.89.46.3"
EOF
}

@test "internal network (netavark2-sim %int): external names are NXDOMAIN and no upstream sees them" {
    fwd_sandbox <<'EOF'
cfg=$SANDBOX_DIR/nv2-internal
sim_ok --config "$cfg" setup intn "$(hex_id i1)" 127.0.51.2 i1 --internal --gw 127.0.51.1 \
    --net-dns 127.0.0.25 --ctr-dns 127.0.0.26
sim_ok --config "$cfg" setup intn "$(hex_id i2)" 127.0.51.3 i2 --internal
assert_file_exists "$cfg/aardvark-dns/intn%int"
pid=$(read_pid_file "$cfg/aardvark-dns")
for src in 127.0.51.2 127.0.51.3; do
    for q in "int.example.test A" "int.example.test MX" "int-single AAAA"; do
        set -- $q
        dq @127.0.51.1 -b $src "$1" "$2"
        expect_status NXDOMAIN
        expect_flags "qr rd ra"
        dq @127.0.51.1 -b $src +tcp "$1" "$2"
        expect_status NXDOMAIN
    done
done
expect_upstream_counts int.example.test up21=0 up25=0 up26=0
expect_upstream_counts int-single up21=0 up25=0 up26=0
# Names on the internal network still resolve.
dq @127.0.51.1 -b 127.0.51.2 i2.dns.podman
expect_answer "i2.dns.podman. 0 IN A 127.0.51.3"
# A source that is not a container (the host) is not "internal": forwarded to resolv.conf's.
dq @127.0.51.1 -b 127.0.0.1 int-host.example.test
expect_answer "int-host.example.test. 0 IN A 192.0.2.21"
sim_ok --config "$cfg" teardown intn "$(hex_id i1)"
sim_ok --config "$cfg" teardown intn "$(hex_id i2)"
wait_until 5 process_gone "$pid" || fail "internal daemon $pid still running"
EOF
}

@test "AARDVARK_NO_PROXY in netavark's environment: NXDOMAIN, no upstream contacted" {
    fwd_sandbox <<'EOF'
NA_CONFIG=$SANDBOX_DIR/netavark-noproxy
na_network netp cdns-fp 10.89.47.0/24=10.89.47.1 --dns 127.0.0.25
AARDVARK_NO_PROXY=1 na_setup p1 --dns 127.0.0.26 netp 10.89.47.2 -
na_setup p2 netp 10.89.47.3 -
pid=$(cat "$(na_pid_file)")
assert_ne "$pid" "$(cat "$SANDBOX_DIR/fwd-daemon-pid")" "no-proxy daemon"
tr '\0' '\n' <"/proc/$pid/environ" | grep -qx 'AARDVARK_NO_PROXY=1' ||
    fail "the daemon did not inherit AARDVARK_NO_PROXY"
for ctr in p1 p2; do
    for q in "noproxy.example.test TXT" "noproxy-single A" "9.2.0.192.in-addr.arpa PTR"; do
        set -- $q
        dq -n $ctr @10.89.47.1 "$1" "$2"
        expect_status NXDOMAIN
        expect_flags "qr rd ra"
        expect_answer_count 0
        dq -n $ctr @10.89.47.1 +tcp "$1" "$2"
        expect_status NXDOMAIN
    done
done
expect_upstream_counts noproxy.example.test up21=0 up25=0 up26=0
expect_upstream_counts noproxy-single up21=0 up25=0 up26=0
expect_upstream_counts 9.2.0.192.in-addr.arpa up21=0 up25=0 up26=0
dq -n p1 @10.89.47.1 p2.dns.podman
expect_answer "p2.dns.podman. 0 IN A 10.89.47.3"
na_teardown p1
na_teardown p2
wait_until 5 process_gone "$pid" || fail "no-proxy daemon $pid still running"
EOF
}

@test "the daemon netavark started survives the other tests and still forwards on two networks" {
    fwd_sandbox <<'EOF'
pid=$(cat "$SANDBOX_DIR/fwd-daemon-pid")
process_alive "$pid" || fail "daemon $pid died"
assert_eq "$(cat "$(na_pid_file)")" "$pid" "aardvark.pid"
dq -n a1 @$GW_A last.example.test
expect_answer "last.example.test. 0 IN A 192.0.2.21"
# n1, not f1: asking f1 would teach the daemon that deadfo is dead before the failover test.
dq -n n1 @$GW_N last-n1.example.test
expect_answer "last-n1.example.test. 0 IN A 192.0.2.25"
EOF
}
