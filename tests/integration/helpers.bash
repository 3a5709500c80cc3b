# Shared harness for the black-box suites (bats). Every .bats file gets ONE private sandbox:
# `unshare --mount --net --pid --fork --mount-proc --propagation private`, started by
# sandbox_start (setup_file) and entered by in_sandbox (nsenter) for every test body.
# Inside the sandbox: only `lo` (plus what the test creates), a tmpfs on /run (so /run/netns is
# private), and /etc/resolv.conf bind-mounted to a test file naming a loopback address only.
# Nothing here may send a packet outside the sandbox's own network namespace.
#
# Two halves:
#  - bats side (sandbox_start, sandbox_stop, in_sandbox, require_root): runs in the bats process;
#  - sandbox side (everything else): sourced into the bash that runs a test body in the sandbox.
# This file is sourced in both places; it only defines functions and variables.

CTRDNS_HELPERS_FILE=${CTRDNS_HELPERS_FILE:-${BASH_SOURCE[0]}}
if [[ $CTRDNS_HELPERS_FILE != /* ]]; then
    CTRDNS_HELPERS_FILE=$(cd "$(dirname "$CTRDNS_HELPERS_FILE")" && pwd)/$(basename "$CTRDNS_HELPERS_FILE")
fi
export CTRDNS_HELPERS_FILE
if [[ -z ${CTRDNS_SOURCE_DIR:-} ]]; then
    CTRDNS_SOURCE_DIR=$(cd "$(dirname "$CTRDNS_HELPERS_FILE")/../.." && pwd)
fi
export CTRDNS_SOURCE_DIR

NETAVARK=${NETAVARK:-/usr/lib/podman/netavark}
export NETAVARK

# The loopback address the test resolv.conf names. 100/300 may run a dnsmasq there; otherwise
# nothing listens on it, so a forwarder under test can only reach the sandbox's own lo.
export SANDBOX_RESOLVER=${SANDBOX_RESOLVER:-127.0.0.53}

# ---------------------------------------------------------------------------------------------
# bats side
# ---------------------------------------------------------------------------------------------

# Integration suites need root for namespaces, veths and firewall rules. Not being root is a
# FAILURE, not a skip: a CI run that silently skips these proves nothing.
require_root() {
    if [[ $EUID -ne 0 ]]; then
        echo "FAIL: the integration suites must run as root (uid is $EUID)" >&2
        return 1
    fi
}

# Tools the sandbox needs; missing ones are a failure, with their names.
require_tools() {
    local missing=() tool
    for tool in "$@"; do
        if [[ $tool == /* ]]; then
            [[ -x $tool ]] || missing+=("$tool")
        else
            command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
        fi
    done
    if ((${#missing[@]})); then
        echo "FAIL: missing tools: ${missing[*]}" >&2
        return 1
    fi
}

require_ctrdns_bin() {
    if [[ -z ${CTRDNS_BIN:-} || ! -x ${CTRDNS_BIN} ]]; then
        echo "FAIL: CTRDNS_BIN must name the ctrdns binary (got '${CTRDNS_BIN:-}')" >&2
        return 1
    fi
    CTRDNS_BIN=$(readlink -f "$CTRDNS_BIN")
    export CTRDNS_BIN
}

# CTRDNS_SKIP_INTEGRATION=1 skips on purpose (documented in tests/CMakeLists.txt). bats 1.8
# cannot skip from setup_file, so every suite's setup() calls this.
skip_if_disabled() {
    if [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]]; then
        skip "CTRDNS_SKIP_INTEGRATION=1"
    fi
}

# Starts the sandbox holder. Its pid-1 bash sets up the namespaces' contents, then reaps orphans
# (daemons whose parent exited) until the bats process closes the lifeline FIFO or
# sandbox_stop kills it. Exports SANDBOX_PID (host pid of the sandbox's pid 1) and SANDBOX_DIR.
sandbox_start() {
    if [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]]; then
        return 0
    fi
    require_root || return 1
    require_tools unshare nsenter ip dig jq socat perl flock timeout || return 1
    require_ctrdns_bin || return 1

    SANDBOX_DIR=$(mktemp -d "${BATS_FILE_TMPDIR:-/tmp}/sbx.XXXXXX")
    chmod 755 "$SANDBOX_DIR"
    export SANDBOX_DIR
    mkdir -p "$SANDBOX_DIR/pids" "$SANDBOX_DIR/logs"
    printf 'nameserver %s\n' "$SANDBOX_RESOLVER" >"$SANDBOX_DIR/resolv.conf"
    mkfifo "$SANDBOX_DIR/lifeline"

    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    unshare --mount --net --pid --fork --mount-proc --propagation private -- \
        bash --norc --noprofile -c 'source "$1" && sandbox_init_main' _ "$CTRDNS_HELPERS_FILE" \
        </dev/null >"$SANDBOX_DIR/logs/sandbox-init.log" 2>&1 3>&- &
    SANDBOX_UNSHARE_PID=$!
    export SANDBOX_UNSHARE_PID
    # Read-write open never blocks; the holder sees EOF once every writer (this bats process
    # and its test children) is gone, so a killed bats run cannot leak the sandbox.
    exec {SANDBOX_LIFELINE_FD}<>"$SANDBOX_DIR/lifeline"
    export SANDBOX_LIFELINE_FD

    local i
    for ((i = 0; i < 200; i++)); do # at most 10 s
        [[ -e $SANDBOX_DIR/ready ]] && break
        if ! kill -0 "$SANDBOX_UNSHARE_PID" 2>/dev/null; then
            echo "FAIL: sandbox did not start:" >&2
            cat "$SANDBOX_DIR/logs/sandbox-init.log" >&2
            return 1
        fi
        sleep 0.05
    done
    if [[ ! -e $SANDBOX_DIR/ready ]]; then
        echo "FAIL: sandbox not ready after 10 s" >&2
        cat "$SANDBOX_DIR/logs/sandbox-init.log" >&2
        return 1
    fi
    SANDBOX_PID=$(cat /proc/"$SANDBOX_UNSHARE_PID"/task/*/children 2>/dev/null | awk '{print $1; exit}')
    if [[ -z $SANDBOX_PID ]]; then
        SANDBOX_PID=$(ps -o pid= --ppid "$SANDBOX_UNSHARE_PID" | awk '{print $1; exit}')
    fi
    if [[ -z $SANDBOX_PID ]]; then
        echo "FAIL: cannot find the sandbox's pid 1" >&2
        return 1
    fi
    export SANDBOX_PID
}

# Kills every background process and daemon the suite recorded (by PID, inside the sandbox),
# then the sandbox's pid 1, which ends whatever is left in its pid namespace.
sandbox_stop() {
    [[ -n ${SANDBOX_PID:-} ]] || return 0
    in_sandbox 'kill_recorded_processes' || true
    kill -KILL "$SANDBOX_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do # at most 5 s
        kill -0 "$SANDBOX_UNSHARE_PID" 2>/dev/null || break
        sleep 0.05
    done
    wait "$SANDBOX_UNSHARE_PID" 2>/dev/null || true
    if [[ -n ${SANDBOX_LIFELINE_FD:-} ]]; then
        exec {SANDBOX_LIFELINE_FD}>&-
    fi
    unset SANDBOX_PID
}

# Runs a command inside the sandbox. Closes bats' TAP fd 3 and the lifeline so that no process
# started in the sandbox holds them.
sbx() {
    nsenter -t "$SANDBOX_PID" -m -n -p -- "$@" 3>&- {SANDBOX_LIFELINE_FD}>&-
}

# Runs a test body (the argument, or stdin when there is none) inside the sandbox with this
# file sourced, `set -eEuo pipefail`, and an xtrace kept aside: on failure the failing command and
# the last traced lines are printed, which bats shows under the failed test.
in_sandbox() {
    local body
    if (($#)); then
        body="$*"
    else
        body=$(cat)
    fi
    local dir=${BATS_TEST_TMPDIR:-${SANDBOX_DIR}}
    local script
    script=$(mktemp "$dir/body.XXXXXX")
    printf '%s\n' "$body" >"$script"
    # shellcheck disable=SC2016 # $1 and $2 are expanded by the inner bash
    sbx bash --norc --noprofile -c 'source "$1" && sandbox_run_body "$2"' _ \
        "$CTRDNS_HELPERS_FILE" "$script"
}

# ---------------------------------------------------------------------------------------------
# sandbox side: set-up of the namespaces (pid 1)
# ---------------------------------------------------------------------------------------------

sandbox_init_main() {
    set -eu
    ip link set lo up
    # resolv.conf may be a symlink into /run (systemd-resolved); bind over its target, which
    # must exist in the fresh /run first.
    local target
    target=$(readlink -f /etc/resolv.conf || echo /etc/resolv.conf)
    mount -t tmpfs -o mode=755 tmpfs /run
    # A sysfs of this network namespace (the inherited one shows the host's interfaces).
    mount -t sysfs sysfs /sys || true
    mkdir -p /run/netns /run/lock
    if [[ ! -e $target ]]; then
        mkdir -p "$(dirname "$target")"
        touch "$target"
    fi
    mount --bind "$SANDBOX_DIR/resolv.conf" "$target"
    grep -q "^nameserver $SANDBOX_RESOLVER\$" /etc/resolv.conf
    touch "$SANDBOX_DIR/ready"
    set +e
    exec 4<"$SANDBOX_DIR/lifeline"
    # pid 1 of the namespace: bash reaps every orphan (exited daemons) while it waits here, so
    # "process gone" checks see no zombies. EOF on the lifeline = bats is gone.
    local rc
    while :; do
        read -r -t 0.2 -u 4 _
        rc=$?
        if ((rc > 0 && rc <= 128)); then
            break
        fi
    done
}

sandbox_run_body() {
    local script=$1
    set -eEuo pipefail
    local trace=${script}.trace
    exec {CTRDNS_XTRACE_FD}>"$trace"
    BASH_XTRACEFD=$CTRDNS_XTRACE_FD
    trap 'sandbox_on_error $? "$BASH_COMMAND" "${BASH_SOURCE[0]:-?}" "$LINENO" "'"$trace"'"' ERR
    cd "$SANDBOX_DIR"
    set -x
    # shellcheck disable=SC1090
    source "$script"
    set +x
}

sandbox_on_error() {
    local rc=$1 cmd=$2 src=$3 line=$4 trace=$5
    set +x
    trap - ERR
    echo "# command failed (rc=$rc) at $(basename "$src"):$line: $cmd"
    echo "# ---- last trace lines ----"
    tail -n 25 "$trace" | sed 's/^/#   /'
    exit "$rc"
}

# ---------------------------------------------------------------------------------------------
# sandbox side: assertions (they print what differed and exit the body with status 1)
# ---------------------------------------------------------------------------------------------

fail() {
    set +x
    echo "FAIL: $*"
    exit 1
}

assert_eq() { # actual expected [what]
    [[ $1 == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"
}

assert_ne() { # actual unexpected [what]
    [[ $1 != "$2" ]] || fail "${3:-value}: did not expect '$2'"
}

assert_match() { # text regex [what]
    [[ $1 =~ $2 ]] || fail "${3:-text} does not match /$2/:"$'\n'"$1"
}

assert_not_match() { # text regex [what]
    if [[ $1 =~ $2 ]]; then
        fail "${3:-text} unexpectedly matches /$2/:"$'\n'"$1"
    fi
}

assert_contains() { # text fixed-string [what]
    [[ $1 == *"$2"* ]] || fail "${3:-text} does not contain '$2':"$'\n'"$1"
}

assert_file_exists() { [[ -e $1 ]] || fail "file $1 does not exist"; }
assert_file_absent() { [[ ! -e $1 ]] || fail "file $1 exists (content: $(head -c 200 "$1" 2>/dev/null))"; }

# wait_until SECONDS CMD...: polls CMD every 50 ms, bounded by SECONDS. Returns CMD's last status.
wait_until() {
    local limit=$1
    shift
    local deadline=$((SECONDS + limit)) i
    for ((i = 0; i < limit * 20 + 1; i++)); do
        if "$@"; then
            return 0
        fi
        ((SECONDS < deadline)) || break
        sleep 0.05
    done
    "$@"
}

process_alive() { # pid: alive and not a zombie
    local state
    [[ -r /proc/$1/stat ]] || return 1
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

process_gone() { ! process_alive "$1"; }

# ---------------------------------------------------------------------------------------------
# sandbox side: background processes, always recorded by PID
# ---------------------------------------------------------------------------------------------

# bg_start NAME CMD...: starts CMD in the background (stdin /dev/null, output to logs/NAME.log)
# and records its pid in pids/NAME.
bg_start() {
    local name=$1
    shift
    "$@" </dev/null >"$SANDBOX_DIR/logs/$name.log" 2>&1 &
    echo $! >"$SANDBOX_DIR/pids/$name"
}

bg_pid() { cat "$SANDBOX_DIR/pids/$1"; }

bg_stop() {
    local file=$SANDBOX_DIR/pids/$1 pid
    [[ -e $file ]] || return 0
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    wait_until 3 process_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$file"
}

# Every recorded background process and every daemon named by an aardvark.pid under the
# sandbox dir, killed by PID (teardown).
kill_recorded_processes() {
    local f pid
    for f in "$SANDBOX_DIR"/pids/*; do
        [[ -e $f ]] || continue
        pid=$(cat "$f")
        if [[ $pid =~ ^[0-9]+$ ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    while IFS= read -r f; do
        pid=$(cat "$f" 2>/dev/null || true)
        if [[ $pid =~ ^[0-9]+$ ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    done < <(find "$SANDBOX_DIR" -name aardvark.pid 2>/dev/null)
}

# dnsmasq_start NAME LISTEN_ADDR DOMAIN=IP...: a loopback upstream answering the given domains
# (and their subdomains) and REFUSING everything else; queries are logged to logs/NAME.queries.
dnsmasq_start() {
    local name=$1 addr=$2
    shift 2
    local args=() spec
    for spec in "$@"; do
        args+=("--address=/${spec%%=*}/${spec#*=}")
    done
    bg_start "$name" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
        --listen-address="$addr" --bind-interfaces --port 53 --pid-file= --user=root \
        --log-queries --log-facility="$SANDBOX_DIR/logs/$name.queries" "${args[@]}"
    # The readiness probe asks a name of its own, so query counts of test names stay exact.
    wait_until 5 dig_quiet "@$addr" "ready-probe.${1%%=*}" || fail "dnsmasq $name on $addr did not come up: $(cat "$SANDBOX_DIR/logs/$name.log")"
}

dig_quiet() { dig +time=1 +tries=1 "$@" >/dev/null 2>&1; }

# How many queries for NAME the dnsmasq NAME saw.
dnsmasq_query_count() { # dnsmasq-name qname
    grep -c "query\[[A-Z]*\] $2 from" "$SANDBOX_DIR/logs/$1.queries" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# sandbox side: DNS queries with dig, parsed into DQ_* variables
# ---------------------------------------------------------------------------------------------

# dq [-n NETNS] DIG-ARGS...: one dig run (+time=2 +tries=1 +noadflag unless overridden) from
# NETNS (a "container") or from the sandbox's root namespace. Sets:
#   DQ_OUT     full dig output           DQ_RC     dig's exit status
#   DQ_STATUS  rcode of the 1st reply    DQ_STATUSES all rcodes, one per line
#   DQ_FLAGS   flags of the 1st reply    DQ_ANSWER answer records, "owner ttl class type rdata"
#   DQ_NANSWER number of answer records
# Never fails by itself; assert on the variables.
dq() {
    local ns=
    if [[ ${1:-} == -n ]]; then
        ns=$2
        shift 2
    fi
    local cmd=(dig +time=2 +tries=1 +noadflag "$@")
    if [[ -n $ns ]]; then
        cmd=(ip netns exec "$ns" "${cmd[@]}")
    fi
    DQ_CMD="${cmd[*]}"
    DQ_RC=0
    DQ_OUT=$("${cmd[@]}" 2>&1) || DQ_RC=$? # bounded by +time/+tries
    # Parsed with builtins only: forks are what makes a loaded CI machine slow.
    DQ_STATUSES='' DQ_STATUS='' DQ_FLAGS='' DQ_ANSWER='' DQ_NANSWER=0
    local line in_answer=0 re_status='->>HEADER<<-.* status: ([A-Z]+),' re_flags='^;; flags: ([^;]*);'
    local -a fields
    while IFS= read -r line; do
        if [[ $line =~ $re_status ]]; then
            DQ_STATUSES+=${BASH_REMATCH[1]}$'\n'
            [[ -n $DQ_STATUS ]] || DQ_STATUS=${BASH_REMATCH[1]}
        elif [[ -z $DQ_FLAGS && $line =~ $re_flags ]]; then
            DQ_FLAGS=${BASH_REMATCH[1]}
        elif [[ $line == ';; ANSWER SECTION:' ]]; then
            in_answer=1
        elif [[ -z $line ]]; then
            in_answer=0
        elif ((in_answer)); then
            read -ra fields <<<"$line"
            DQ_ANSWER+="${fields[*]}"$'\n'
            DQ_NANSWER=$((DQ_NANSWER + 1))
        fi
    done <<<"$DQ_OUT"
    DQ_STATUSES=${DQ_STATUSES%$'\n'}
    DQ_ANSWER=${DQ_ANSWER%$'\n'}
}

dq_context() { printf '%s\n%s' "[$DQ_CMD]" "$DQ_OUT"; }

expect_status() { # RCODE
    [[ $DQ_STATUS == "$1" ]] || fail "expected status $1, got '${DQ_STATUS}' (dig rc $DQ_RC):"$'\n'"$(dq_context)"
}

expect_flags() { # exact flag list as dig prints it, e.g. "qr rd ra"
    [[ $DQ_FLAGS == "$1" ]] || fail "expected flags '$1', got '$DQ_FLAGS':"$'\n'"$(dq_context)"
}

expect_answer() { # "owner ttl class type rdata" (single spaces) must be one of the answers
    [[ $'\n'$DQ_ANSWER$'\n' == *$'\n'"$1"$'\n'* ]] || fail "answer '$1' missing:"$'\n'"$(dq_context)"
}

expect_no_answer_with() { # fixed string that no answer line may contain
    if [[ $DQ_ANSWER == *"$1"* ]]; then
        fail "unexpected answer containing '$1':"$'\n'"$(dq_context)"
    fi
}

expect_answer_count() { # N
    [[ $DQ_NANSWER -eq $1 ]] || fail "expected $1 answer records, got $DQ_NANSWER:"$'\n'"$(dq_context)"
}

expect_no_reply() {
    [[ -z $DQ_STATUS ]] || fail "expected no reply, got status $DQ_STATUS:"$'\n'"$(dq_context)"
}

# ---------------------------------------------------------------------------------------------
# sandbox side: raw DNS over TCP (several messages on one connection)
# ---------------------------------------------------------------------------------------------

# dns_query_bytes ID NAME QTYPE-NUMBER: a plain RD query, as printf-escaped bytes (\xHH).
dns_query_hex() {
    local id=$1 name=$2 qtype=$3 out label
    out=$(printf '%04x01000001000000000000' "$id")
    local IFS=.
    for label in $name; do
        [[ -n $label ]] || continue
        out+=$(printf '%02x' "${#label}")
        out+=$(printf '%s' "$label" | od -An -tx1 | tr -d ' \n')
    done
    out+=$(printf '00%04x0001' "$qtype")
    printf '%s' "$out"
}

# tcp_frame HEX: prepends the 2-byte length.
tcp_frame_hex() { printf '%04x%s' $((${#1} / 2)) "$1"; }

hex_to_bytes() { printf '%s' "$1" | sed 's/../\\x&/g' | xargs -0 printf '%b'; }

# tcp_exchange [-n NETNS] SERVER PORT HEX: writes the bytes on one TCP connection, half-closes,
# reads until the server closes (bounded by 5 s). Prints the reply as hex.
tcp_exchange() {
    local ns=
    if [[ $1 == -n ]]; then
        ns=$2
        shift 2
    fi
    local server=$1 port=$2 hex=$3
    local target="TCP:$server:$port"
    [[ $server == *:* ]] && target="TCP6:[$server]:$port"
    local cmd=(timeout 8 socat -t 5 -T 5 - "$target")
    [[ -n $ns ]] && cmd=(ip netns exec "$ns" "${cmd[@]}")
    hex_to_bytes "$hex" | "${cmd[@]}" | od -An -v -tx1 | tr -d ' \n'
}

# tcp_split_replies HEX: one line per framed message: "ID RCODE ANCOUNT".
tcp_split_replies() {
    local hex=$1 len msg
    while ((${#hex} >= 4)); do
        len=$((16#${hex:0:4}))
        msg=${hex:4:len*2}
        ((${#msg} == len * 2)) || {
            echo "truncated"
            return
        }
        printf '%d %d %d\n' "$((16#${msg:0:4}))" "$((16#${msg:7:1}))" "$((16#${msg:12:4}))"
        hex=${hex:4+len*2}
    done
}

# ---------------------------------------------------------------------------------------------
# sandbox side: "containers" (network namespaces) and netavark 1.4
# ---------------------------------------------------------------------------------------------

NA_CONFIG=${NA_CONFIG:-${SANDBOX_DIR:-}/netavark}
NA_JSON_DIR=${SANDBOX_DIR:-}/netavark-json

ctr_create() { ip netns add "$1"; }
ctr_exec() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

hex_id() { printf '%s' "$1" | sha256sum | cut -c1-64; }

# na_network NAME BRIDGE SUBNET=GW [SUBNET=GW...] [--internal] [--dns A,B]: a netavark 1.4
# network definition (the JSON podman passes as network_info), kept in netavark-json/net-NAME.
na_network() {
    local name=$1 bridge=$2
    shift 2
    local subnets='[]' internal=false dns='[]' v6=false spec
    while (($#)); do
        case $1 in
        --internal) internal=true ;;
        --dns)
            dns=$(jq -cn --arg l "$2" '$l | split(",")')
            shift
            ;;
        *=*)
            spec=$1
            [[ $spec == *:* ]] && v6=true
            subnets=$(jq -c --arg s "${spec%%=*}" --arg g "${spec#*=}" '. + [{subnet: $s, gateway: $g}]' <<<"$subnets")
            ;;
        *) fail "na_network: bad argument $1" ;;
        esac
        shift
    done
    mkdir -p "$NA_JSON_DIR"
    jq -n --arg name "$name" --arg id "$(hex_id "net-$name")" --arg br "$bridge" \
        --argjson subnets "$subnets" --argjson v6 "$v6" --argjson internal "$internal" \
        --argjson dns "$dns" \
        '{name: $name, id: $id, driver: "bridge", network_interface: $br, subnets: $subnets,
          ipv6_enabled: $v6, internal: $internal, dns_enabled: true,
          ipam_options: {driver: "host-local"}}
         + (if ($dns | length) > 0 then {network_dns_servers: $dns} else {} end)' \
        >"$NA_JSON_DIR/net-$name"
}

# na_container_json CTR-NAME [--dns A,B] NET IPS ALIASES [NET IPS ALIASES...]
# IPS and ALIASES are comma lists ("-" = no aliases). Container id = sha256 of the name.
na_container_json() {
    local cname=$1
    shift
    local dns='[]'
    if [[ ${1:-} == --dns ]]; then
        dns=$(jq -cn --arg l "$2" '$l | split(",")')
        shift 2
    fi
    local networks='{}' info='{}' idx=0 net ips aliases
    while (($# >= 3)); do
        net=$1 ips=$2 aliases=$3
        shift 3
        [[ $aliases == - ]] && aliases=
        networks=$(jq -c --arg n "$net" --arg ifn "eth$idx" --arg ips "$ips" --arg al "$aliases" \
            '. + {($n): {interface_name: $ifn, static_ips: ($ips | split(",")),
                         aliases: ($al | split(",") | map(select(length > 0)))}}' <<<"$networks")
        info=$(jq -c --arg n "$net" --slurpfile netdef "$NA_JSON_DIR/net-$net" '. + {($n): $netdef[0]}' <<<"$info")
        idx=$((idx + 1))
    done
    (($# == 0)) || fail "na_container_json: trailing arguments $*"
    jq -n --arg id "$(hex_id "ctr-$cname")" --arg name "$cname" --argjson networks "$networks" \
        --argjson info "$info" --argjson dns "$dns" \
        '{container_id: $id, container_name: $name, networks: $networks, network_info: $info,
          port_mappings: []} + (if ($dns | length) > 0 then {dns_servers: $dns} else {} end)'
}

# na_setup CTR-NAME [--dns A,B] NET IPS ALIASES...: creates the netns CTR-NAME and runs
# `netavark setup` on it with ctrdns as the aardvark binary. The JSON is kept for na_teardown.
na_setup() {
    local cname=$1
    mkdir -p "$NA_CONFIG" "$NA_JSON_DIR"
    na_container_json "$@" >"$NA_JSON_DIR/ctr-$cname"
    [[ -e /run/netns/$cname ]] || ctr_create "$cname"
    na_run setup "$cname"
    local bridge
    for bridge in $(jq -r '.network_info[].network_interface' "$NA_JSON_DIR/ctr-$cname"); do
        bridge_pin_mac "$bridge"
    done
}

# bridge_pin_mac BRIDGE: a Linux bridge without an explicitly set MAC takes the lowest MAC of its
# ports, so it changes when a container's veth comes or goes, and the other containers' ARP
# entries for the gateway go stale: their queries time out for seconds (netavark 1.4 does not pin
# the MAC; later versions do). Setting it to its current value pins it. Only once: setting it
# again, even to the same value, makes the kernel flush the bridge's ARP entries
# (NETDEV_CHANGEADDR), and a reply waiting for its neighbour to resolve is dropped with them (one
# lost answer in about one run in six of 30 parallel setups, the server having sent it).
bridge_pin_mac() {
    local mac
    # 3: NET_ADDR_SET, an address set by hand.
    [[ $(cat "/sys/class/net/$1/addr_assign_type" 2>/dev/null) == 3 ]] && return 0
    mac=$(ip -o link show dev "$1" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    ip link set dev "$1" address "$mac"
}

na_teardown() { na_run teardown "$1"; }

na_run() { # setup|teardown CTR-NAME
    local verb=$1 cname=$2 rc=0
    NETAVARK_FW=iptables timeout 30 "$NETAVARK" --config "$NA_CONFIG" -a "$CTRDNS_BIN" \
        "$verb" "/run/netns/$cname" <"$NA_JSON_DIR/ctr-$cname" \
        >"$SANDBOX_DIR/logs/netavark-$verb-$cname.out" 2>"$SANDBOX_DIR/logs/netavark-$verb-$cname.err" || rc=$?
    if ((rc != 0)); then
        fail "netavark $verb $cname exited $rc:"$'\n'"$(cat "$SANDBOX_DIR/logs/netavark-$verb-$cname".{out,err})"
    fi
}

na_pid_file() { printf '%s' "$NA_CONFIG/aardvark-dns/aardvark.pid"; }

# ---------------------------------------------------------------------------------------------
# sandbox side: running the daemon directly, as netavark does
# ---------------------------------------------------------------------------------------------

# new_config_dir TAG: a fresh, empty config directory under the sandbox dir.
new_config_dir() {
    local d=$SANDBOX_DIR/cfg-$1
    rm -rf "$d"
    mkdir -p "$d"
    printf '%s' "$d"
}

# write_lines FILE LINE...: one line each, '\n'-terminated (as netavark writes them).
write_lines() {
    local file=$1
    shift
    printf '%s\n' "$@" >"$file"
}

# Pids (in the sandbox) whose command line contains STRING. Reads /proc only; used to find
# the daemon a test started, never to signal processes by name.
pids_with_cmdline() {
    local p cmd
    for p in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
        [[ $cmd == *"$1"* ]] && process_alive "${p#/proc/}" && echo "${p#/proc/}"
    done
    return 0
}

# Reads DIR/aardvark.pid exactly (no trimming).
read_pid_file() {
    local raw=
    IFS= read -r -d '' raw <"$1/aardvark.pid" || true
    printf '%s' "$raw"
}

# stop_daemon DIR: SIGTERM to the pid in DIR/aardvark.pid, waits until it is gone.
stop_daemon() {
    local pid
    pid=$(read_pid_file "$1" 2>/dev/null) || return 0
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait_until 5 process_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
}

# The perl subreaper used by run_reaped: it runs the command (the daemon's parent), writes
# its exit code to OUT/parent.rc, then adopts the daemon (PR_SET_CHILD_SUBREAPER) and writes
# "pid exit-code" to OUT/reaped for every descendant that exits, so a test can see the
# daemon's own exit status.
# shellcheck disable=SC2016 # perl source
CTRDNS_REAPER_PL='
use strict; use warnings; use Config;
my $out = shift @ARGV;
my %prctl = (x86_64 => 157, aarch64 => 167, i386 => 172, i686 => 172, ppc64le => 171, s390x => 172);
my ($arch) = $Config{archname} =~ /^([^-]+)/;
my $nr = $prctl{$arch} // die "no prctl syscall number for $arch\n";
syscall($nr, 36, 1, 0, 0, 0) == 0 or die "prctl(PR_SET_CHILD_SUBREAPER): $!\n";
sub code { my $s = shift; return ($s & 127) ? 128 + ($s & 127) : $s >> 8; }
sub put { my ($f, $t, $mode) = @_; open(my $h, $mode, $f) or die "$f: $!"; print $h $t; close $h; }
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
    open(STDOUT, ">", "$out/stdout") or die; open(STDERR, ">", "$out/stderr") or die;
    exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!";
}
waitpid($pid, 0);
put("$out/parent.rc.tmp", code($?) . "\n", ">");
rename("$out/parent.rc.tmp", "$out/parent.rc");
while ((my $p = waitpid(-1, 0)) > 0) { put("$out/reaped", "$p " . code($?) . "\n", ">>"); }
'

# run_reaped TAG CMD...: runs CMD under the subreaper, waits (bounded) for CMD itself to exit.
# Results in $SANDBOX_DIR/reap-TAG/{stdout,stderr,parent.rc,reaped}.
run_reaped() {
    local tag=$1
    shift
    local out=$SANDBOX_DIR/reap-$tag
    rm -rf "$out"
    mkdir -p "$out"
    bg_start "reaper-$tag" perl -e "$CTRDNS_REAPER_PL" "$out" "$@"
    wait_until 15 test -e "$out/parent.rc" || fail "$1 did not exit within 15 s: $(cat "$SANDBOX_DIR/logs/reaper-$tag.log")"
}

process_reaped() { [[ ! -e /proc/$1 ]]; } # gone entirely, not even a zombie

# ---------------------------------------------------------------------------------------------
# sandbox side: tools/netavark2-sim (what netavark 2.x does to the config directory)
# ---------------------------------------------------------------------------------------------

NV2_CONFIG=${NV2_CONFIG:-${SANDBOX_DIR:-}/nv2}

# shellcheck disable=SC2034 # SIM_OUT is for the suites
# sim [--config DIR] COMMAND...: netavark2-sim with ctrdns as the binary; output in SIM_OUT,
# SIM_ERR, status in SIM_RC (never fails by itself).
sim() {
    local config=$NV2_CONFIG
    if [[ $1 == --config ]]; then
        config=$2
        shift 2
    fi
    SIM_RC=0
    SIM_OUT=$("$CTRDNS_SOURCE_DIR/tools/netavark2-sim" --config "$config" -a "$CTRDNS_BIN" "$@" \
        2>"$SANDBOX_DIR/logs/sim.err") || SIM_RC=$?
    SIM_ERR=$(cat "$SANDBOX_DIR/logs/sim.err")
}

sim_ok() { # like sim, but any failure fails the test
    sim "$@"
    ((SIM_RC == 0)) || fail "netavark2-sim $* exited $SIM_RC: $SIM_ERR"
}

# What a daemon is doing, for failure messages: thread states, and its sockets with queues (a
# growing Recv-Q means it stopped reading).
daemon_diagnostics() {
    local pid=$1 t
    echo "--- daemon $pid: $(grep -E '^(State|Threads):' "/proc/$pid/status" 2>/dev/null | tr '\n' ' ')"
    for t in /proc/"$pid"/task/*; do
        echo "    task ${t##*/} $(cut -d' ' -f3 "$t/stat" 2>/dev/null) $(cat "$t/wchan" 2>/dev/null)"
    done
    ss -Hanup 2>/dev/null | grep "pid=$pid," | sed 's/^/    /'
    ss -Hlntp 2>/dev/null | grep "pid=$pid," | sed 's/^/    /'
}
