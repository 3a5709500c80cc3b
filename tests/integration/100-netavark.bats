#!/usr/bin/env bats
# Debian's real netavark 1.4 drives ctrdns (-a $CTRDNS_BIN): four "containers" (network
# namespaces) on a dual-stack network A and an IPv4-only network B. Queries are sent with dig
# from inside the containers to their gateways, over UDP and TCP.
#
#   a1  A  10.89.1.2 fd10:89:1::2  aliases web,WebAlias
#   a2  A  10.89.1.3 fd10:89:1::3  alias  db
#   b1  B  10.89.2.2               alias  bonly
#   ab  A  10.89.1.4 fd10:89:1::4 ; B 10.89.2.4 alias both
#
# The tests run in file order and share this state; the last ones tear everything down.

load helpers

export GW_A=10.89.1.1 GW_A6=fd10:89:1::1 GW_B=10.89.2.1

setup_file() {
    sandbox_start || return 1
    [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]] && return 0
    require_tools "$NETAVARK" iptables dnsmasq || return 1
    in_sandbox <<'EOF'
# The test resolv.conf's upstream: the only place a forwarded query may go.
dnsmasq_start upstream "$SANDBOX_RESOLVER" example.test=192.0.2.53
na_network neta cdns-a 10.89.1.0/24=$GW_A fd10:89:1::/64=$GW_A6
na_network netb cdns-b 10.89.2.0/24=$GW_B
na_setup a1 neta 10.89.1.2,fd10:89:1::2 web,WebAlias
na_setup a2 neta 10.89.1.3,fd10:89:1::3 db
na_setup b1 netb 10.89.2.2 bonly
na_setup ab neta 10.89.1.4,fd10:89:1::4 - netb 10.89.2.4 both
EOF
}

teardown_file() {
    sandbox_stop
}

setup() {
    skip_if_disabled
}

@test "netavark setup writes the network files and starts one daemon with netavark's argv" {
    in_sandbox <<'EOF'
dir=$NA_CONFIG/aardvark-dns
assert_eq "$(head -n 1 "$dir/neta")" "$GW_A,$GW_A6" "header of neta"
assert_eq "$(head -n 1 "$dir/netb")" "$GW_B" "header of netb"
assert_match "$(cat "$dir/neta")" "$(hex_id ctr-a1) 10\.89\.1\.2 fd10:89:1::2 a1,web,WebAlias" "neta"
assert_match "$(cat "$dir/netb")" "$(hex_id ctr-b1) 10\.89\.2\.2  b1,bonly" "netb"
pid=$(cat "$(na_pid_file)")
assert_match "$pid" '^[0-9]+$' "aardvark.pid"
process_alive "$pid" || fail "daemon $pid not running"
cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
assert_eq "$cmdline" "$CTRDNS_BIN --config $dir -p 53 run " "daemon argv"
# Four setups, one daemon: later setups only sent SIGHUP.
assert_eq "$(pids_with_cmdline "--config $dir ")" "$pid" "daemons serving $dir"
echo "$pid" >"$SANDBOX_DIR/first-daemon-pid"
EOF
}

@test "A: container name, alias and name.dns.podman, TTL 0, flags qr rd ra (UDP)" {
    in_sandbox <<'EOF'
dq -n a1 @$GW_A a2
expect_status NOERROR
expect_flags "qr rd ra"
expect_answer "a2. 0 IN A 10.89.1.3"
expect_answer_count 1
dq -n a1 @$GW_A db
expect_status NOERROR
expect_answer "db. 0 IN A 10.89.1.3"
expect_answer_count 1
dq -n a2 @$GW_A a1.dns.podman
expect_status NOERROR
expect_flags "qr rd ra"
expect_answer "a1.dns.podman. 0 IN A 10.89.1.2"
expect_answer_count 1
dq -n a2 @$GW_A web.dns.podman
expect_answer "web.dns.podman. 0 IN A 10.89.1.2"
expect_answer_count 1
EOF
}

@test "AAAA on the dual-stack network, asked on the IPv6 gateway" {
    in_sandbox <<'EOF'
dq -n a1 @$GW_A6 a2.dns.podman AAAA
expect_status NOERROR
expect_flags "qr rd ra"
expect_answer "a2.dns.podman. 0 IN AAAA fd10:89:1::3"
expect_answer_count 1
dq -n a2 @$GW_A6 webalias AAAA
expect_answer "webalias. 0 IN AAAA fd10:89:1::2"
expect_answer_count 1
EOF
}

@test "names match in any case; the owner keeps the case asked" {
    in_sandbox <<'EOF'
dq -n a1 @$GW_A A2.DNS.PODMAN
expect_status NOERROR
expect_answer "A2.DNS.PODMAN. 0 IN A 10.89.1.3"
dq -n a1 @$GW_A Db.Dns.Podman
expect_answer "Db.Dns.Podman. 0 IN A 10.89.1.3"
# The alias was written as WebAlias by netavark.
dq -n a2 @$GW_A WEBALIAS
expect_answer "WEBALIAS. 0 IN A 10.89.1.2"
dq -n a2 @$GW_A webalias.dns.podman
expect_answer "webalias.dns.podman. 0 IN A 10.89.1.2"
EOF
}

@test "PTR for IPv4 and IPv6 addresses: bare name. targets, TTL 0, owner = qname" {
    in_sandbox <<'EOF'
dq -n a1 @$GW_A -x 10.89.1.3
expect_status NOERROR
expect_flags "qr rd ra"
expect_answer "3.1.89.10.in-addr.arpa. 0 IN PTR a2."
expect_answer "3.1.89.10.in-addr.arpa. 0 IN PTR db."
expect_answer_count 2
v6owner=3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.9.8.0.0.0.1.d.f.ip6.arpa.
dq -n a1 @$GW_A6 -x fd10:89:1::3
expect_status NOERROR
expect_answer "$v6owner 0 IN PTR a2."
expect_answer "$v6owner 0 IN PTR db."
expect_answer_count 2
# Container name first, then aliases.
dq -n a2 @$GW_A -x 10.89.1.2
assert_eq "$(awk '{print $5}' <<<"$DQ_ANSWER" | tr '\n' ' ')" "a1. web. webalias. " "PTR targets in order"
EOF
}

@test "TCP: A, AAAA and PTR answered like UDP" {
    in_sandbox <<'EOF'
dq -n a1 @$GW_A +tcp a2.dns.podman
expect_status NOERROR
expect_flags "qr rd ra"
expect_answer "a2.dns.podman. 0 IN A 10.89.1.3"
expect_answer_count 1
assert_contains "$DQ_OUT" "(TCP)" "dig transport"
dq -n a1 @$GW_A6 +tcp db AAAA
expect_answer "db. 0 IN AAAA fd10:89:1::3"
expect_answer_count 1
dq -n a1 @$GW_A +tcp -x 10.89.1.3
expect_answer "3.1.89.10.in-addr.arpa. 0 IN PTR a2."
expect_answer_count 2
dq -n a1 @$GW_A +tcp nosuch.dns.podman
expect_status NXDOMAIN
EOF
}

@test "TCP: several queries on one connection are all answered, in order" {
    in_sandbox <<'EOF'
dq -n a1 @$GW_A +tcp +keepopen a2.dns.podman db.dns.podman ab.dns.podman
assert_eq "$(tr '\n' ' ' <<<"$DQ_STATUSES")" "NOERROR NOERROR NOERROR " "statuses"
expect_answer "a2.dns.podman. 0 IN A 10.89.1.3"
expect_answer "db.dns.podman. 0 IN A 10.89.1.3"
expect_answer "ab.dns.podman. 0 IN A 10.89.1.4"
# The same, byte for byte, pipelined on one socket: three framed queries written at once.
q=$(tcp_frame_hex "$(dns_query_hex 4660 a2.dns.podman 1)")
q+=$(tcp_frame_hex "$(dns_query_hex 4661 nosuch.dns.podman 1)")
q+=$(tcp_frame_hex "$(dns_query_hex 4662 db 1)")
reply=$(tcp_exchange -n a1 "$GW_A" 53 "$q")
# "id rcode ancount" per reply
assert_eq "$(tcp_split_replies "$reply" | tr '\n' ' ')" "4660 0 1 4661 3 0 4662 0 1 " "pipelined replies"
EOF
}

@test "a container on both networks resolves names of both, through either gateway" {
    in_sandbox <<'EOF'
dq -n ab @$GW_A b1.dns.podman
expect_status NOERROR
expect_answer "b1.dns.podman. 0 IN A 10.89.2.2"
expect_answer_count 1
dq -n ab @$GW_B a1
expect_answer "a1. 0 IN A 10.89.1.2"
expect_answer_count 1
dq -n ab @$GW_B bonly
expect_answer "bonly. 0 IN A 10.89.2.2"
# Its own name: one address per network it shares with the asker.
dq -n b1 @$GW_B ab.dns.podman
expect_answer "ab.dns.podman. 0 IN A 10.89.2.4"
expect_answer_count 1
dq -n a1 @$GW_A ab.dns.podman
expect_answer "ab.dns.podman. 0 IN A 10.89.1.4"
expect_answer_count 1
dq -n a1 @$GW_A both.dns.podman
expect_status NXDOMAIN
dq -n b1 @$GW_B both.dns.podman
expect_answer "both.dns.podman. 0 IN A 10.89.2.4"
EOF
}

@test "isolation: names of a network the asker is not on are NXDOMAIN" {
    in_sandbox <<'EOF'
dq -n a1 @$GW_A b1.dns.podman
expect_status NXDOMAIN
expect_flags "qr rd ra"
expect_answer_count 0
dq -n a1 @$GW_A bonly.dns.podman
expect_status NXDOMAIN
dq -n b1 @$GW_B a1.dns.podman
expect_status NXDOMAIN
dq -n b1 @$GW_B db.dns.podman AAAA
expect_status NXDOMAIN
# Reverse lookups are scoped the same way: b1 gets no local PTR for a2.
dq -n b1 @$GW_B -x 10.89.1.3
expect_no_answer_with "PTR a2."
EOF
}

@test "AAAA of an IPv4-only container is NODATA (NOERROR, no answer)" {
    in_sandbox <<'EOF'
dq -n ab @$GW_A b1.dns.podman AAAA
expect_status NOERROR
expect_flags "qr rd ra"
expect_answer_count 0
dq -n b1 @$GW_B bonly AAAA
expect_status NOERROR
expect_answer_count 0
dq -n b1 @$GW_B +tcp b1.dns.podman AAAA
expect_status NOERROR
expect_answer_count 0
EOF
}

@test "an unknown name under dns.podman is NXDOMAIN and not forwarded" {
    in_sandbox <<'EOF'
before=$(dnsmasq_query_count upstream nosuch.dns.podman)
dq -n a1 @$GW_A nosuch.dns.podman
expect_status NXDOMAIN
expect_flags "qr rd ra"
expect_answer_count 0
dq -n a1 @$GW_A6 nosuch.dns.podman AAAA
expect_status NXDOMAIN
assert_eq "$(dnsmasq_query_count upstream nosuch.dns.podman)" "$before" "upstream queries for nosuch.dns.podman"
EOF
}

@test "a bare unknown name goes to the resolv.conf upstream (or REFUSED while forwarding is missing)" {
    in_sandbox <<'EOF'
dq -n a1 @$GW_A www.example.test
case $DQ_STATUS in
REFUSED)
    expect_answer_count 0
    assert_eq "$(dnsmasq_query_count upstream www.example.test)" 0 "upstream queries"
    ;;
NOERROR)
    expect_answer "www.example.test. 0 IN A 192.0.2.53"
    [[ $(dnsmasq_query_count upstream www.example.test) -ge 1 ]] || fail "upstream dnsmasq never saw the query"
    ;;
*) fail "expected REFUSED (no forwarding yet) or the upstream's answer:"$'\n'"$(dq_context)" ;;
esac
EOF
}

@test "netavark teardown removes the container's names; the daemon keeps running" {
    in_sandbox <<'EOF'
na_teardown a2
grep -q "$(hex_id ctr-a2)" "$NA_CONFIG/aardvark-dns/neta" && fail "a2's entry still in neta"
pid=$(cat "$(na_pid_file)")
assert_eq "$pid" "$(cat "$SANDBOX_DIR/first-daemon-pid")" "daemon pid after teardown"
# The reload follows the SIGHUP asynchronously: allow it a few tries.
log=
for try in 1 2 3 4 5; do
    dq -n a1 @$GW_A a2.dns.podman
    [[ $DQ_STATUS == NXDOMAIN ]] && break
    log+="try $try at $(date +%T.%N): status '$DQ_STATUS' (dig rc $DQ_RC)"$'\n'"$(daemon_diagnostics "$pid")"$'\n'
    sleep 0.2
done
[[ $DQ_STATUS == NXDOMAIN ]] || fail "a2.dns.podman after teardown:"$'\n'"$log$(dq_context)"
# The bare alias is no longer a local name: it goes the forwarding way (REFUSED by the test
# upstream, or REFUSED while forwarding is missing), never the old address.
dq -n a1 @$GW_A db
expect_no_answer_with 10.89.1.3
assert_ne "$DQ_STATUS" "" "status for db"
assert_ne "$DQ_STATUS" NOERROR "status for db"
dq -n a1 @$GW_A -x 10.89.1.3
expect_no_answer_with "PTR a2."
# Others are still served.
dq -n a1 @$GW_A ab.dns.podman
expect_answer "ab.dns.podman. 0 IN A 10.89.1.4"
EOF
}

@test "the last teardown makes the daemon exit and remove aardvark.pid" {
    in_sandbox <<'EOF'
pid=$(cat "$(na_pid_file)")
na_teardown a1
na_teardown b1
# ab still has an entry in both files.
process_alive "$pid" || fail "daemon exited while networks still have a container"
assert_file_exists "$NA_CONFIG/aardvark-dns/neta"
assert_file_exists "$NA_CONFIG/aardvark-dns/netb"
na_teardown ab
assert_file_absent "$NA_CONFIG/aardvark-dns/neta"
assert_file_absent "$NA_CONFIG/aardvark-dns/netb"
wait_until 5 process_gone "$pid" || fail "daemon $pid still running after the last teardown"
wait_until 2 test ! -e "$(na_pid_file)" || fail "aardvark.pid left behind: $(cat "$(na_pid_file)")"
EOF
}
