#!/usr/bin/env bash
# Load comparison: ctrdns vs aardvark-dns (Debian's 1.4) vs dnsmasq, in one run, same names, same
# queries, same measurement. Prints absolute numbers and ctrdns/other ratios (the machine is shared
# and noisy: the ratios, from runs interleaved seconds apart, are what mean something). See
# bench/README.md for what each number means. Takes about 2 minutes.
#
# Everything runs inside a private mount+net+pid namespace with only `lo`, and /etc/resolv.conf
# bind-mounted to a file naming a loopback address where nothing listens: no packet can leave the
# machine, and every process started here dies with the namespace.
#
# Usage (as root): bench/load_compare.sh [--ctrdns PATH] [--containers N] [--duration S]
#                  [--qps Q] [--clients C] [--threads T] [--rounds R] [--startup-runs K]

set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "${script_dir}/.." && pwd)

ctrdns_bin=${CTRDNS_BIN:-}
aardvark_bin=${AARDVARK_BIN:-/usr/lib/podman/aardvark-dns}
dnsmasq_bin=${DNSMASQ_BIN:-/usr/sbin/dnsmasq}
containers=200
duration=8     # seconds per dnsperf run
qps_cap=2000   # fixed-rate run: all must sustain it (aardvark-dns 1.4 tops out at 3-7k QPS here)
clients=4
threads=2      # dnsperf threads: one thread alone cannot load ctrdns or dnsmasq to 100% here
rounds=2       # runs per server and phase, interleaved across servers
startup_runs=9
inner=0

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}

while [[ $# -gt 0 ]]; do
    case $1 in
        --ctrdns) ctrdns_bin=$2; shift 2 ;;
        --containers) containers=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --qps) qps_cap=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --startup-runs) startup_runs=$2; shift 2 ;;
        --inner) inner=1; shift ;;
        -h | --help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done

die() {
    echo "load_compare: $*" >&2
    exit 1
}

if [[ -z ${ctrdns_bin} ]]; then
    # Prefer an optimised build; any build dir otherwise.
    for candidate in "${repo_dir}"/build/release/src/ctrdns \
        "${repo_dir}"/build/*/src/ctrdns; do
        if [[ -x ${candidate} ]]; then
            ctrdns_bin=${candidate}
            break
        fi
    done
fi

if [[ ${inner} -eq 0 ]]; then
    [[ $(id -u) -eq 0 ]] || die "must run as root (it creates namespaces and binds port 53)"
    [[ -n ${ctrdns_bin} && -x ${ctrdns_bin} ]] ||
        die "no ctrdns binary: build one (cmake --preset release && ninja -C build/release ctrdns) or pass --ctrdns PATH"
    for tool in "${aardvark_bin}" "${dnsmasq_bin}" dnsperf dig g++ unshare ip awk sort; do
        command -v "${tool}" > /dev/null || die "missing ${tool} (apt-get install aardvark-dns dnsmasq dnsperf bind9-dnsutils g++)"
    done
    ctrdns_bin=$(readlink -f "${ctrdns_bin}")
    exec unshare --mount --net --pid --fork --mount-proc --propagation private -- \
        bash "${BASH_SOURCE[0]}" --inner --ctrdns "${ctrdns_bin}" --containers "${containers}" \
        --duration "${duration}" --qps "${qps_cap}" --clients "${clients}" --threads "${threads}" --rounds "${rounds}" \
        --startup-runs "${startup_runs}"
fi

# ---------------------------------------------------------------------------------------------
# Inside the namespace from here on (we are pid 1 of it).

started_at=$(date +%s)
progress() { echo "[$(($(date +%s) - started_at)) s] $*" >&2; }
work=$(mktemp -d /tmp/ctrdns-load.XXXXXX)
chmod 755 "${work}" # dnsmasq reads its hosts file after dropping to nobody
cd "${work}"
servers=(ctrdns aardvark dnsmasq)
declare -A address=([ctrdns]=127.0.0.11 [aardvark]=127.0.0.12 [dnsmasq]=127.0.0.13)
declare -A label=([ctrdns]=ctrdns [aardvark]=aardvark-dns [dnsmasq]=dnsmasq)
declare -A pid=()
declare -A result=()
# Queries come from the first container's address, so ctrdns and aardvark-dns see a known
# requester (what a container does; PTR is only answered locally for known requesters).
source_address=127.1.0.2
clk_tck=$(getconf CLK_TCK)

cleanup() {
    local name
    for name in "${!pid[@]}"; do
        kill -TERM "${pid[${name}]}" 2> /dev/null || true
    done
    rm -rf "${work}"
}
trap cleanup EXIT

ip link set lo up
echo "nameserver 127.0.0.99" > "${work}/resolv.conf" # nothing listens there
mount --bind "${work}/resolv.conf" /etc/resolv.conf

progress "ctrdns load comparison: ${containers} containers, queries from ${source_address}, $(nproc) CPUs"
g++ -std=c++20 -O2 -o "${work}/startup_probe" "${script_dir}/startup_probe.cpp"

# --- configuration: the same containers for all three servers --------------------------------
container_v4() { echo "127.1.$(($1 / 250)).$(($1 % 250 + 2))"; }
container_v6() { printf 'fd10:88:a::%x\n' $(($1 + 2)); }

mkdir -p "${work}/ctrdns" "${work}/aardvark"
# One awk pass, not a subshell per address: forks are slow on a busy 2-CPU box.
awk -v n="${containers}" -v entries="${work}/entries" -v hosts="${work}/dnsmasq.hosts" 'BEGIN {
    for (i = 0; i < n; i++) {
        v4 = sprintf("127.1.%d.%d", int(i / 250), i % 250 + 2); v6 = sprintf("fd10:88:a::%x", i + 2)
        printf "%064x %s %s ctr-%d,web-%d\n", i + 1, v4, v6, i, i > entries
        printf "%s ctr-%d.dns.podman web-%d.dns.podman\n%s ctr-%d.dns.podman web-%d.dns.podman\n", v4, i, i, v6, i, i > hosts
    }
}'
# Same network file for both aardvark-format servers; only the listen address in the header differs.
{ echo "${address[ctrdns]}"; cat "${work}/entries"; } > "${work}/ctrdns/podman"
{ echo "${address[aardvark]}"; cat "${work}/entries"; } > "${work}/aardvark/podman"

cat > "${work}/dnsmasq.conf" << EOF
port=53
listen-address=${address[dnsmasq]}
bind-interfaces
no-resolv
no-hosts
addn-hosts=${work}/dnsmasq.hosts
local=/dns.podman/
domain-needed
cache-size=1000
pid-file=${work}/dnsmasq.pid
EOF

server_command() { # sets the global array `cmd`
    case $1 in
        ctrdns) cmd=("${ctrdns_bin}" --config "${work}/ctrdns" -p 53 run) ;;
        aardvark) cmd=("${aardvark_bin}" --config "${work}/aardvark" -p 53 run) ;;
        dnsmasq) cmd=("${dnsmasq_bin}" "--conf-file=${work}/dnsmasq.conf") ;;
    esac
}

pid_file() {
    case $1 in
        ctrdns) echo "${work}/ctrdns/aardvark.pid" ;;
        aardvark) echo "${work}/aardvark/aardvark.pid" ;;
        dnsmasq) echo "${work}/dnsmasq.pid" ;;
    esac
}

# --- queries: 70% A, 15% AAAA, 10% PTR, 5% NXDOMAIN; nothing is ever forwarded ---------------
awk -v n="${containers}" 'BEGIN {
    srand(42)
    for (k = 0; k < 4000; k++) {
        slot = k % 20; i = int(rand() * n)
        name = (rand() < 0.5 ? "ctr-" : "web-") i ".dns.podman"
        if (slot < 14) line = name " A"
        else if (slot < 17) line = name " AAAA"
        else if (slot == 17) line = sprintf("%d.%d.1.127.in-addr.arpa PTR", i % 250 + 2, int(i / 250))
        else if (slot == 18) {
            hex = "fd100088000a" substr(sprintf("%032x", i + 2), 13)
            rev = ""; for (c = 32; c >= 1; c--) rev = rev substr(hex, c, 1) "."
            line = rev "ip6.arpa PTR"
        } else line = "missing-" k ".dns.podman A"
        print rand() "\t" line
    }
}' | sort -g | cut -f2 > "${work}/queries.txt"

# --- process helpers --------------------------------------------------------------------------
process_gone() { # a zombie counts as gone: we are pid 1 and reap when bash gets to it
    [[ ! -e /proc/$1/stat ]] || [[ $(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2> /dev/null) == Z ]]
}

stop_server() {
    local name=$1 p=${pid[$1]:-}
    [[ -n ${p} ]] || return 0
    kill -TERM "${p}" 2> /dev/null || true
    for ((t = 0; t < 200; t++)); do
        process_gone "${p}" && break
        sleep 0.01
    done
    process_gone "${p}" || kill -KILL "${p}" 2> /dev/null || true
    unset "pid[${name}]"
    rm -f "$(pid_file "${name}")"
}

# Starts a server through the probe and records its daemon pid; sets start_exit_us and
# start_answer_us (from the fork). Not for $(...): pid[] must survive.
start_server() {
    local name=$1 line
    server_command "${name}"
    rm -f "$(pid_file "${name}")"
    line=$("${work}/startup_probe" "${address[${name}]}" 53 ctr-1.dns.podman -- "${cmd[@]}" \
        2> "${work}/${name}.stderr") ||
        die "${label[${name}]} did not answer within 5 s: ${line} $(grep -v 'failed to connect to syslog' "${work}/${name}.stderr")"
    for ((t = 0; t < 100; t++)); do
        [[ -s $(pid_file "${name}") ]] && break
        sleep 0.01
    done
    pid[${name}]=$(tr -d '\n' < "$(pid_file "${name}")")
    [[ -n ${pid[${name}]} ]] || die "${label[${name}]} wrote no pid file"
    start_exit_us=$(sed -n 's/.*exit_us=\(-\{0,1\}[0-9]*\).*/\1/p' <<< "${line}")
    start_answer_us=$(sed -n 's/.*first_answer_us=\([0-9]*\).*/\1/p' <<< "${line}")
}

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/$1/stat"; } # "utime stime", all threads

memory_kib() { # "rss pss anonymous threads"
    local rss pss anon threads
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
    threads=$(awk '/^Threads:/ { print $2 }' "/proc/$1/status")
    pss=$(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2> /dev/null || echo "n/a")
    anon=$(awk '/^Anonymous:/ { print $2 }' "/proc/$1/smaps_rollup" 2> /dev/null || echo "n/a")
    echo "${rss} ${pss:-n/a} ${anon:-n/a} ${threads}"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Runs dnsperf once against one server; keeps the raw numbers under result[name.phase.round.*]
# and, with -v, appends every answer's latency to ${work}/name.phase.lat.
run_load() {
    local name=$1 phase=$2 round=$3
    shift 3
    local key="${name}.${phase}.${round}" out="${work}/${name}.${phase}.${round}.out"
    local user_before sys_before user_after sys_after
    progress "  dnsperf -> ${label[${name}]} $*"
    read -r user_before sys_before <<< "$(cpu_ticks "${pid[${name}]}")"
    dnsperf -s "${address[${name}]}" -p 53 -a "${source_address}" -d "${work}/queries.txt" \
        -l "${duration}" -c "${clients}" -T "${threads}" "$@" > "${out}" 2> "${out}.err" || true
    read -r user_after sys_after <<< "$(cpu_ticks "${pid[${name}]}")"
    local completed
    completed=$(awk '/Queries completed:/ { print $3 }' "${out}")
    [[ -n ${completed} && ${completed} -gt 0 ]] ||
        die "dnsperf against ${label[${name}]} completed nothing: $(cat "${out}" "${out}.err")"
    result[${key}.completed]=${completed}
    result[${key}.ticks]=$((user_after + sys_after - user_before - sys_before))
    result[${key}.user_ticks]=$((user_after - user_before))
    result[${key}.lost]=$(awk '/Queries lost:/ { print $3 }' "${out}")
    result[${key}.qps]=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "${out}")
    result[${key}.avg_s]=$(awk '/Average Latency \(s\):/ { print $4 }' "${out}")
    # "NOERROR 19000 (95.00%), NXDOMAIN 1000 (5.00%)" -> counted per code over all runs
    local code count
    while read -r code count; do
        result[${name}.rcode.${code}]=$((${result[${name}.rcode.${code}]:-0} + count))
        [[ " ${result[${name}.rcodes]:-} " == *" ${code} "* ]] || result[${name}.rcodes]+=" ${code}"
    done < <(sed -n 's/^ *Response codes: *//p' "${out}" | tr ',' '\n' | awk 'NF >= 2 { print $1, $2 }')
    awk '/^> / { print $NF }' "${out}" >> "${work}/${name}.${phase}.lat" # only with -v
    rm -f "${out}" "${out}.err"
}

# Folds the rounds of one phase into result[name.phase.*]: QPS is the mean of the rounds, latency
# and CPU are pooled over every answered query.
aggregate() {
    local name=$1 phase=$2 r qps_list="" completed=0 ticks=0 user_ticks=0 lost=0 latency_sum=0
    for ((r = 0; r < rounds; r++)); do
        local key="${name}.${phase}.${r}"
        qps_list+=" ${result[${key}.qps]}"
        completed=$((completed + ${result[${key}.completed]}))
        ticks=$((ticks + ${result[${key}.ticks]}))
        user_ticks=$((user_ticks + ${result[${key}.user_ticks]}))
        lost=$((lost + ${result[${key}.lost]}))
        latency_sum=$(awk -v s="${latency_sum}" -v a="${result[${key}.avg_s]}" -v n="${result[${key}.completed]}" 'BEGIN { printf "%.6f", s + a * n }')
    done
    local prefix="${name}.${phase}"
    result[${prefix}.qps_all]=${qps_list# }
    result[${prefix}.qps]=$(awk -v v="${qps_list}" 'BEGIN { n = split(v, a, " "); for (i = 1; i <= n; i++) s += a[i]; printf "%.0f", s / n }')
    result[${prefix}.lost]=${lost}
    result[${prefix}.avg_us]=$(awk -v s="${latency_sum}" -v n="${completed}" 'BEGIN { printf "%.0f", s * 1e6 / n }')
    result[${prefix}.cpu_us_per_query]=$(awk -v t="${ticks}" -v hz="${clk_tck}" -v n="${completed}" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
    result[${prefix}.user_us_per_query]=$(awk -v t="${user_ticks}" -v hz="${clk_tck}" -v n="${completed}" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
    result[${prefix}.cpu_share]=$(awk -v t="${ticks}" -v hz="${clk_tck}" -v d=$((rounds * duration)) 'BEGIN { printf "%.0f", 100 * t / hz / d }')
    # What one core would serve if the server were the only bottleneck.
    result[${prefix}.qps_per_core]=$(awk -v t="${ticks}" -v hz="${clk_tck}" -v n="${completed}" 'BEGIN { printf "%.0f", (t > 0 ? n * hz / t : 0) }')
    local lat="${work}/${prefix}.lat"
    if [[ -s ${lat} ]]; then
        sort -g -o "${lat}" "${lat}"
        local count quantile field
        count=$(wc -l < "${lat}")
        for quantile in 0.50:p50 0.99:p99 0.999:p999; do
            field=${quantile#*:}
            result[${prefix}.${field}_us]=$(awk -v n="${count}" -v q="${quantile%:*}" \
                'NR == int(n * q) + 1 { printf "%.0f", $1 * 1e6; exit }' "${lat}")
        done
    fi
}

# Every phase runs `rounds` times, servers interleaved and the order reversed every other round,
# so a burst of noise from the rest of the machine lands on all three alike.
run_phase() {
    local phase=$1 r name
    shift
    for ((r = 0; r < rounds; r++)); do
        local order=("${servers[@]}")
        ((r % 2 == 1)) && order=(dnsmasq aardvark ctrdns)
        for name in "${order[@]}"; do
            run_load "${name}" "${phase}" "${r}" "$@"
        done
    done
    for name in "${servers[@]}"; do
        aggregate "${name}" "${phase}"
    done
}

# --- 1. start-up time, interleaved so drift hits all servers alike -----------------------------
progress "1/4 start-up time (${startup_runs} starts each)"
declare -A exits=() answers=()
for ((r = 0; r < startup_runs; r++)); do
    for name in "${servers[@]}"; do
        start_server "${name}"
        exits[${name}]+=" ${start_exit_us}"
        answers[${name}]+=" ${start_answer_us}"
        stop_server "${name}"
    done
done
for name in "${servers[@]}"; do
    result[${name}.start_answer_ms]=$(median <<< "${answers[${name}]}" | awk '{ printf "%.1f", $1 / 1000 }')
    result[${name}.start_exit_ms]=$(median <<< "${exits[${name}]}" | awk '{ printf "%.1f", $1 / 1000 }')
done

# --- 2. long-lived instances: correctness check and idle memory --------------------------------
for name in "${servers[@]}"; do
    start_server "${name}"
done
sleep 0.5
progress "2/4 answers check and idle memory"
for name in "${servers[@]}"; do
    a=$(dig @"${address[${name}]}" -b "${source_address}" +short +tries=1 +time=2 web-7.dns.podman A)
    aaaa=$(dig @"${address[${name}]}" -b "${source_address}" +short +tries=1 +time=2 ctr-7.dns.podman AAAA)
    ptr=$(dig @"${address[${name}]}" -b "${source_address}" +short +tries=1 +time=2 -x "$(container_v4 7)" | head -1)
    nx=$(dig @"${address[${name}]}" -b "${source_address}" +tries=1 +time=2 missing.dns.podman A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
    [[ ${a} == "$(container_v4 7)" && ${aaaa} == "$(container_v6 7)" && ${ptr} == ctr-7* && ${nx} == NXDOMAIN ]] ||
        die "${label[${name}]} answers wrongly: A=${a} AAAA=${aaaa} PTR=${ptr} NX=${nx}"
    read -r rss pss anon thread_count <<< "$(memory_kib "${pid[${name}]}")"
    result[${name}.rss_idle]=${rss}
    result[${name}.pss_idle]=${pss}
    result[${name}.anon_idle]=${anon}
    result[${name}.threads]=${thread_count}
done

# --- 3. fixed rate: latency distribution and CPU per query at the same load --------------------
progress "3/4 fixed rate ${qps_cap} QPS, ${rounds} x ${duration} s each"
run_phase fixed -Q "${qps_cap}" -v

# --- 4. saturation: no rate limit --------------------------------------------------------------
progress "4/4 saturation, ${rounds} x ${duration} s each"
run_phase max
for name in "${servers[@]}"; do
    read -r rss pss anon thread_count <<< "$(memory_kib "${pid[${name}]}")"
    result[${name}.rss_load]=${rss}
    result[${name}.pss_load]=${pss}
    result[${name}.anon_load]=${anon}
    result[${name}.hwm]=$(awk '/^VmHWM:/ { print $2 }' "/proc/${pid[${name}]}/status")
done
for name in "${servers[@]}"; do
    stop_server "${name}"
done
elapsed=$(($(date +%s) - started_at))
progress "done"

# --- report ------------------------------------------------------------------------------------
ratio() { # ctrdns / other, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'
}
row() { # metric key better-direction
    local metric=$1 key=$2 better=$3
    local c=${result[ctrdns.${key}]:-n/a} a=${result[aardvark.${key}]:-n/a} d=${result[dnsmasq.${key}]:-n/a}
    printf '%-38s %12s %12s %12s %10s %10s  %s\n' "${metric}" "${c}" "${a}" "${d}" \
        "$(ratio "${c}" "${a}")" "$(ratio "${c}" "${d}")" "${better}"
}

rcode_summary() {
    local code out=""
    for code in ${result[$1.rcodes]:-}; do out+=" ${code} ${result[$1.rcode.${code}]}"; done
    echo "${out:- none}"
}

warnings=""
for name in "${servers[@]}"; do
    if awk -v q="${result[${name}.fixed.qps]}" -v cap="${qps_cap}" 'BEGIN { exit !(q < 0.98 * cap) }'; then
        warnings+="WARNING: ${label[${name}]} sustained only ${result[${name}.fixed.qps]} of ${qps_cap} QPS: its fixed-rate rows were measured in overload (rerun with a lower --qps)."$'\n'
    fi
done

ctrdns_version=$("${ctrdns_bin}" version 2> /dev/null | tr -s " \n" " " || echo "?")
cat << EOF

== ctrdns load comparison ==
host: $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ); run took ${elapsed} s
ctrdns:       ${ctrdns_bin} ${ctrdns_version}
aardvark-dns: ${aardvark_bin} ($("${aardvark_bin}" --version 2> /dev/null | tr -d '\n'))
dnsmasq:      ${dnsmasq_bin} ($("${dnsmasq_bin}" --version | head -1 | awk '{ print $3 }'))
setup: ${containers} containers (name + alias, IPv4 + IPv6) in one network; ctrdns and aardvark-dns
  read the same aardvark-format file, dnsmasq the same names from an addn-hosts file
  (--no-resolv --no-hosts --local=/dns.podman/ --domain-needed, cache-size=1000).
queries: $(wc -l < "${work}/queries.txt") in a loop, 70% A / 15% AAAA / 10% PTR (v4+v6) / 5% NXDOMAIN, all
  local (nothing forwarded); dnsperf -c ${clients} -T ${threads} over UDP from ${source_address} (a container of the network).
threads: ctrdns is single-threaded; aardvark-dns 1.4 serves each network from one thread (tokio
  runtime per listen address, ${result[aardvark.threads]} threads in the process); dnsmasq is single-threaded.
  dnsperf shares the same $(nproc) CPUs, so "saturation" means server + load generator on this box.

ratio columns: ctrdns value / other value (see last column for which way is better)
$(printf '%-38s %12s %12s %12s %10s %10s  %s' metric ctrdns aardvark-dns dnsmasq vs-aardv vs-dnsmasq better)
$(row "start: exec -> first answer (ms)" start_answer_ms lower)
$(row "start: exec -> 'run' returns (ms)" start_exit_ms "lower (see note)")
$(row "fixed ${qps_cap} QPS: achieved QPS" fixed.qps "= cap")
$(row "fixed: latency avg (us)" fixed.avg_us lower)
$(row "fixed: latency p50 (us)" fixed.p50_us lower)
$(row "fixed: latency p99 (us)" fixed.p99_us lower)
$(row "fixed: latency p99.9 (us)" fixed.p999_us lower)
$(row "fixed: server CPU per query (us)" fixed.cpu_us_per_query lower)
$(row "fixed:   of which user space (us)" fixed.user_us_per_query lower)
$(row "fixed: queries lost" fixed.lost lower)
$(row "saturation: QPS (mean of rounds)" max.qps higher)
$(row "saturation: latency avg (us)" max.avg_us lower)
$(row "saturation: server CPU per query (us)" max.cpu_us_per_query lower)
$(row "saturation:   of which user space (us)" max.user_us_per_query lower)
$(row "saturation: server CPU use (% of 1 CPU)" max.cpu_share "")
$(row "saturation: QPS per core (1e6 / CPU us)" max.qps_per_core higher)
$(row "saturation: queries lost" max.lost lower)
$(row "memory idle: RSS (KiB)" rss_idle lower)
$(row "memory idle: PSS (KiB)" pss_idle lower)
$(row "memory idle: anonymous (KiB)" anon_idle lower)
$(row "memory after load: RSS (KiB)" rss_load lower)
$(row "memory after load: PSS (KiB)" pss_load lower)
$(row "memory after load: anonymous (KiB)" anon_load lower)
$(row "memory peak: VmHWM (KiB)" hwm lower)
$(row "threads" threads "")

saturation QPS per round: ctrdns ${result[ctrdns.max.qps_all]}; aardvark-dns ${result[aardvark.max.qps_all]}; dnsmasq ${result[dnsmasq.max.qps_all]}
${warnings}response codes over all load runs:
  ctrdns:      $(rcode_summary ctrdns)
  aardvark-dns:$(rcode_summary aardvark)
  dnsmasq:     $(rcode_summary dnsmasq)
notes:
  - every load phase ran ${rounds} x ${duration} s per server, servers interleaved; latency and CPU are
    pooled over all answered queries of a phase, QPS is the mean of its rounds.
  - start-up is the median of ${startup_runs} starts, measured from fork by bench/startup_probe.cpp polling
    every 0.2 ms. aardvark-dns 1.4 returns from 'run' before it has read its config or bound a socket;
    ctrdns (like aardvark-dns 2.x) returns only once it is serving; dnsmasq returns after binding.
  - latency percentiles come from dnsperf -v (one line per answer) in the fixed-rate runs; they
    include dnsperf's own scheduling on the shared CPUs.
  - when a server's CPU use stays well under 100% in the saturation run, the load generator (which
    shares the CPUs) was the limit, not the server: compare "QPS per core", which is derived from
    the CPU it spent per answered query.
  - CPU per query = (utime+stime of the server process over the run) / answered queries, from
    /proc/PID/stat (all threads, ${clk_tck} Hz ticks, sampled: +-10%); "user space" is the utime
    part, the rest is the kernel's (receive, send, wait for the next datagram, wake-ups).
  - aardvark-dns 1.4 also forwards every PTR query after answering it (its double-reply bug, contract
    §4.5); the forward goes to a dead loopback resolver and its cost is part of its CPU numbers.
reproduce (as root, from the repository root):
  cmake --preset release && cmake --build --preset release --target ctrdns
  bench/load_compare.sh --ctrdns ${ctrdns_bin} --containers ${containers} --duration ${duration} --qps ${qps_cap} --clients ${clients} --threads ${threads} --rounds ${rounds} --startup-runs ${startup_runs}
EOF
