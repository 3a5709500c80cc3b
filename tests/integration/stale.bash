# Helpers for 500-stale-entries.bats (sandbox side; sourced into test bodies after helpers.bash).
# They reproduce the lost-teardown failure with Debian's real netavark 1.4: a "container" is a
# network namespace set up by `netavark setup`; losing its teardown means deleting the namespace
# without `netavark teardown`, so its line stays in the network file.
#
# Unlike na_setup (helpers.bash), a container here has an explicit ID, so several generations of
# one container name (new ID, new IP) can coexist, each in a namespace of its own; and the DNS
# binary netavark spawns is chosen per config directory (ctrdns or Debian's aardvark-dns).

AARDVARK_DNS=${AARDVARK_DNS:-/usr/lib/podman/aardvark-dns}

# ST_DNS_BIN: the DNS server netavark spawns (-a). ST_CONFIG: netavark's --config directory.
ST_DNS_BIN=${ST_DNS_BIN:-${CTRDNS_BIN:-}}
ST_CONFIG=${ST_CONFIG:-}

st_use() { # CONFIG-TAG DNS-BIN: every later st_* call works on $SANDBOX_DIR/na-TAG with DNS-BIN
    ST_CONFIG=$SANDBOX_DIR/na-$1
    ST_DNS_BIN=$2
    mkdir -p "$ST_CONFIG" "$NA_JSON_DIR"
}

st_dns_dir() { printf '%s' "$ST_CONFIG/aardvark-dns"; }
st_net_file() { printf '%s' "$ST_CONFIG/aardvark-dns/$1"; }
st_daemon_pid() { cat "$ST_CONFIG/aardvark-dns/aardvark.pid"; }

# st_setup NETNS CTR-NAME GENERATION NET IPS ALIASES [NET IPS ALIASES...]: creates the namespace
# NETNS and runs `netavark setup` for container CTR-NAME whose ID is the sha256 of
# "CTR-NAME#GENERATION" (a new generation = a new container with the same name).
#
# With ST_SHORT_ID_ALIAS=1, every network's aliases end with the container's short ID (its first
# 12 characters), as Podman passes them to netavark (libpod appends ID[:12] for Docker
# compatibility), so the line reads `ID IPS name,aliases...,shortid` as on a real host.
st_setup() {
    local ns=$1 cname=$2 gen=$3
    shift 3
    na_container_json "$cname" "$@" |
        jq --arg id "$(st_id "$cname" "$gen")" --argjson short "${ST_SHORT_ID_ALIAS:-0}" \
            '.container_id = $id
             | if $short == 1 then .networks |= map_values(.aliases += [$id[0:12]]) else . end' \
            >"$NA_JSON_DIR/ctr-$ns"
    [[ -e /run/netns/$ns ]] || ctr_create "$ns"
    st_run setup "$ns"
    # Pin each bridge's MAC, as na_setup does (bridge_pin_mac: netavark 1.4 does not).
    local bridge
    for bridge in $(jq -r '.network_info[].network_interface' "$NA_JSON_DIR/ctr-$ns"); do
        bridge_pin_mac "$bridge"
    done
}

st_id() { hex_id "$1#$2"; } # CTR-NAME GENERATION

# st_lose NETNS: the failure under test. The container's namespace (and with it its veth) goes
# away, but `netavark teardown` never runs, so its line stays in the network file.
st_lose() { ip netns del "$1"; }

st_run() { # setup|teardown NETNS
    local verb=$1 ns=$2 rc=0
    NETAVARK_FW=iptables timeout 30 "$NETAVARK" --config "$ST_CONFIG" -a "$ST_DNS_BIN" \
        "$verb" "/run/netns/$ns" <"$NA_JSON_DIR/ctr-$ns" \
        >"$SANDBOX_DIR/logs/netavark-$verb-$ns.out" 2>"$SANDBOX_DIR/logs/netavark-$verb-$ns.err" || rc=$?
    if ((rc != 0)); then
        fail "netavark $verb $ns exited $rc:"$'\n'"$(cat "$SANDBOX_DIR/logs/netavark-$verb-$ns".{out,err})"
    fi
}

# st_line NET CTR-NAME GENERATION: the file's line(s) of that container, verbatim.
st_line() { grep "^$(st_id "$2" "$3") " "$(st_net_file "$1")" || true; }

# st_line_number NET CTR-NAME GENERATION: 1-based line number in the network file.
st_line_number() { grep -n "^$(st_id "$2" "$3") " "$(st_net_file "$1")" | cut -d: -f1; }

# st_check [ARGS...]: `ctrdns check --config <dns dir> ARGS`; sets CHECK_OUT, CHECK_ERR, CHECK_RC.
st_check() {
    CHECK_RC=0
    CHECK_OUT=$(timeout 20 "$CTRDNS_BIN" check --config "$(st_dns_dir)" "$@" \
        2>"$SANDBOX_DIR/logs/check.err") || CHECK_RC=$?
    CHECK_ERR=$(cat "$SANDBOX_DIR/logs/check.err")
}

st_check_expect() { # RC ARGS...
    local want=$1
    shift
    st_check "$@"
    ((CHECK_RC == want)) ||
        fail "ctrdns check $* exited $CHECK_RC, expected $want:"$'\n'"$CHECK_OUT"$'\n'"$CHECK_ERR"
}

# dq_retry SECONDS PREDICATE DQ-ARGS...: repeats dq until PREDICATE (a function reading DQ_*)
# holds, bounded: a SIGHUP-triggered reload is asynchronous.
dq_retry() {
    local limit=$1 pred=$2
    shift 2
    local deadline=$((SECONDS + limit))
    while :; do
        dq "$@"
        "$pred" && return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# The addresses of DQ_ANSWER's A/AAAA records, in answer order, space separated.
dq_addresses() { awk '$4 == "A" || $4 == "AAAA" {printf "%s ", $5}' <<<"$DQ_ANSWER" | sed 's/ $//'; }

# The ANSWER section exactly as dig printed it (for the report).
dq_answer_section() {
    sed -n '/^;; ANSWER SECTION:$/,/^$/p' <<<"$DQ_OUT" | sed '${/^$/d}'
}

# report_dig PROMPT: appends the last dq's command line (as PROMPT, e.g. "client$ dig @GW app")
# and its ANSWER section exactly as dig printed it, or its status when there is no answer, to
# $STALE_REPORT_SECTION: the file the README's before/after outputs come from.
report_dig() {
    {
        printf '%s\n' "$1"
        if ((DQ_NANSWER > 0)); then
            dq_answer_section
        else
            printf ';; status %s, no answer\n' "${DQ_STATUS:-(no reply)}"
        fi
        printf '\n'
    } >>"$STALE_REPORT_SECTION"
}

# st_lost_generations NET OCTET: the motivating scenario (podman-compose regenerating a service
# whose teardowns failed) on a dual-stack network NET, bridge cdns-NET, 10.89.OCTET.0/24 and
# fd10:89:OCTET::/64 with gateways .1 and ::1:
#   NET-client  client      .2  ::2
#   NET-app1..3 proj_app_1  .11 .12 .13 (::11 ...), alias app: set up, then teardown lost
#   NET-app4    proj_app_1  .14 ::14, alias app: the live generation
# File lines: 1 header, 2 client, 3-5 the lost generations, 6 the live one.
st_lost_generations() {
    local net=$1 octet=$2 gen
    na_network "$net" "cdns-$net" "10.89.$octet.0/24=10.89.$octet.1" "fd10:89:$octet::/64=fd10:89:$octet::1"
    st_setup "$net-client" client 1 "$net" "10.89.$octet.2,fd10:89:$octet::2" -
    for gen in 1 2 3; do
        st_setup "$net-app$gen" proj_app_1 "$gen" "$net" "10.89.$octet.1$gen,fd10:89:$octet::1$gen" app
        st_lose "$net-app$gen"
    done
    st_setup "$net-app4" proj_app_1 4 "$net" "10.89.$octet.14,fd10:89:$octet::14" app
    [[ ! -e /run/netns/$net-app1 && ! -e /run/netns/$net-app3 ]] || fail "lost namespaces still exist"
    # The failure is reproduced: four lines for proj_app_1, one per generation, oldest first.
    assert_eq "$(grep -cE ' proj_app_1,app(,[0-9a-f]{12})?$' "$(st_net_file "$net")")" 4 "proj_app_1 lines in $net"
    for gen in 1 2 3 4; do
        assert_eq "$(st_line_number "$net" proj_app_1 "$gen")" $((gen + 2)) "line of generation $gen"
    done
}
