#!/usr/bin/env bash
# Scale comparison: ctrdns vs dnsmasq 2.90 vs aardvark-dns (Debian's 1.4, optionally a newer one)
# vs a trivial echo responder (the physical limit under the same load generator), at 10, 10,000
# and 100,000 containers, in one run: answers/s per query type, memory (idle, peak during reloads,
# after the first and the last of many reloads), time from SIGHUP to a new name answering, latency
# of other queries during reloads, and start-up time. Servers are interleaved and every number is
# a median over repetitions (the machine is shared and noisy). See bench/README.md.
#
# Everything runs inside a private mount+net+pid namespace with only `lo`, and /etc/resolv.conf
# bind-mounted to a file naming a loopback address where nothing listens: no packet can leave the
# machine, and every process started here dies with the namespace.
#
# Usage (as root): bench/scale_compare.sh [--smoke] [--ctrdns PATH] [--echo PATH]
#     [--aardvark PATH] [--aardvark-new PATH] [--dnsmasq PATH] [--sizes "10 10000 100000"]
#     [--repeats R] [--duration S] [--reloads N] [--timing-reloads M] [--rate Q]
#     [--clients C] [--threads T] [--out DIR|none]
# --smoke: tiny sizes, 1 repetition, a few reloads, no files written: proves every server still
#   answers (exit status 1 if one does not). Environment: CTRDNS_BIN, ECHO_BIN, AARDVARK_BIN,
#   AARDVARK_NEW_BIN, DNSMASQ_BIN; CTRDNS_SKIP_INTEGRATION=1 skips (exit 77).

set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "${script_dir}/.." && pwd)

ctrdns_bin=${CTRDNS_BIN:-}
echo_bin=${ECHO_BIN:-}
aardvark_bin=${AARDVARK_BIN:-/usr/lib/podman/aardvark-dns}
aardvark_new_bin=${AARDVARK_NEW_BIN:-}
dnsmasq_bin=${DNSMASQ_BIN:-/usr/sbin/dnsmasq}
sizes="10 10000 100000"
repeats=3
duration=3         # seconds per dnsperf run
reloads=100        # reloads in the first repetition of each size (memory after N reloads)
timing_reloads=10  # reloads in every later repetition (only more time-to-new-name samples)
rate=1000          # queries/s of the client asking for an existing name during reloads
clients=4
threads=2          # as load_compare.sh: one dnsperf thread cannot load a server to 100% here
out_dir=${repo_dir}/bench/results
smoke=0
inner=0

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}

args=("$@")
while [[ $# -gt 0 ]]; do
    case $1 in
        --smoke) smoke=1; shift ;;
        --ctrdns) ctrdns_bin=$2; shift 2 ;;
        --echo) echo_bin=$2; shift 2 ;;
        --aardvark) aardvark_bin=$2; shift 2 ;;
        --aardvark-new) aardvark_new_bin=$2; shift 2 ;;
        --dnsmasq) dnsmasq_bin=$2; shift 2 ;;
        --sizes) sizes=$2; shift 2 ;;
        --repeats) repeats=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --reloads) reloads=$2; shift 2 ;;
        --timing-reloads) timing_reloads=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --out) out_dir=$2; shift 2 ;;
        --inner) inner=1; shift ;;
        -h | --help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
if [[ ${smoke} -eq 1 && ${inner} -eq 0 ]]; then
    # Smoke defaults; options given after --smoke on the command line still win (re-parsed below).
    sizes="10 200" repeats=1 duration=0.5 reloads=3 timing_reloads=3 out_dir=none
    set -- "${args[@]}"
    while [[ $# -gt 0 ]]; do
        case $1 in
            --sizes) sizes=$2; shift 2 ;;
            --repeats) repeats=$2; shift 2 ;;
            --duration) duration=$2; shift 2 ;;
            --reloads) reloads=$2; shift 2 ;;
            --timing-reloads) timing_reloads=$2; shift 2 ;;
            --out) out_dir=$2; shift 2 ;;
            *) shift ;;
        esac
    done
fi

die() {
    echo "scale_compare: $*" >&2
    exit 1
}

if [[ ${inner} -eq 0 ]]; then
    if [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]]; then
        echo "scale_compare: skipped (CTRDNS_SKIP_INTEGRATION=1)"
        exit 77
    fi
    [[ $(id -u) -eq 0 ]] || die "must run as root (it creates namespaces and binds port 53)"
    if [[ -z ${ctrdns_bin} ]]; then
        for candidate in "${repo_dir}"/build/release/src/ctrdns "${repo_dir}"/build/*/src/ctrdns; do
            [[ -x ${candidate} ]] && { ctrdns_bin=${candidate}; break; }
        done
    fi
    [[ -n ${ctrdns_bin} && -x ${ctrdns_bin} ]] ||
        die "no ctrdns binary: cmake --preset release && cmake --build --preset release --target ctrdns, or pass --ctrdns PATH"
    if [[ -z ${echo_bin} && -x ${repo_dir}/build/release/bench/echo_responder ]]; then
        echo_bin=${repo_dir}/build/release/bench/echo_responder
    fi
    for tool in "${aardvark_bin}" "${dnsmasq_bin}" ${aardvark_new_bin:+"${aardvark_new_bin}"} \
        dnsperf dig g++ unshare setsid ip awk sort; do
        command -v "${tool}" > /dev/null || die "missing ${tool} (tools/install-deps.sh all)"
    done
    [[ ${out_dir} == none ]] || { mkdir -p "${out_dir}" && out_dir=$(cd "${out_dir}" && pwd); }
    resolved=(--ctrdns "$(readlink -f "${ctrdns_bin}")" --aardvark "${aardvark_bin}" --dnsmasq "${dnsmasq_bin}"
        --sizes "${sizes}" --repeats "${repeats}" --duration "${duration}" --reloads "${reloads}"
        --timing-reloads "${timing_reloads}" --out "${out_dir}")
    [[ -z ${echo_bin} ]] || resolved+=(--echo "$(readlink -f "${echo_bin}")")
    [[ -z ${aardvark_new_bin} ]] || resolved+=(--aardvark-new "$(readlink -f "${aardvark_new_bin}")")
    exec unshare --mount --net --pid --fork --mount-proc --propagation private -- \
        bash "${BASH_SOURCE[0]}" "${args[@]}" "${resolved[@]}" --inner
fi

# ---------------------------------------------------------------------------------------------
# Inside the namespace from here on (we are pid 1 of it).

[[ ${SCALE_TRACE:-0} != 1 ]] || set -x # debugging the script itself
started_at=$(date +%s)
progress() { echo "[$(($(date +%s) - started_at)) s] $*" >&2; }
work=$(mktemp -d /tmp/ctrdns-scale.XXXXXX)
chmod 755 "${work}" # dnsmasq reads its hosts file after dropping to nobody
cd "${work}"

servers=(ctrdns dnsmasq aardvark)
[[ -z ${aardvark_new_bin} ]] || servers+=(aardvark_new)
servers+=(echo)
declare -A address=([ctrdns]=127.0.0.11 [aardvark]=127.0.0.12 [dnsmasq]=127.0.0.13 [echo]=127.0.0.14 [aardvark_new]=127.0.0.15)
declare -A label=([ctrdns]=ctrdns [aardvark]=aardvark-1.4 [dnsmasq]=dnsmasq [echo]=echo [aardvark_new]=aardvark-new)
declare -A pid=()
# Every query comes from the first container's address, so ctrdns and aardvark-dns see a known
# requester, as they do for a real container (PTR is only answered locally for known requesters).
source_address=127.1.0.2
start_deadline_ms=120000 # aardvark-dns 1.4 and dnsmasq need seconds for 100,000 containers
((smoke == 0)) || start_deadline_ms=10000
existing_name=ctr-1.dns.podman
samples=${work}/samples.tsv # size server metric value, one line per measurement
: > "${samples}"

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

progress "ctrdns scale comparison: sizes ${sizes}; ${repeats} repetitions; $(nproc) CPUs$([[ ${smoke} -eq 1 ]] && echo '; SMOKE')"
# The helpers need only the C++ standard library: compiled here so the script runs without a
# build tree (the CMake targets of the same names build them with the project's warnings).
g++ -std=c++20 -O2 -o "${work}/startup_probe" "${script_dir}/startup_probe.cpp"
g++ -std=c++20 -O2 -o "${work}/reload_probe" "${script_dir}/reload_probe.cpp"
if [[ -z ${echo_bin} ]]; then
    g++ -std=c++20 -O2 -o "${work}/echo_responder" "${script_dir}/echo_responder.cpp"
    echo_bin=${work}/echo_responder
fi

record() { printf '%s\t%s\t%s\t%s\n' "${size}" "$1" "$2" "$3" >> "${samples}"; }

# --- configuration for one size ----------------------------------------------------------------
# The containers, reload lines and query files: bench/scale_data.awk says what they are.
generate() {
    local count=$1 script_lines=$((reloads > timing_reloads ? reloads : timing_reloads))
    awk -v n="${count}" -v reloads="${script_lines}" -v dir="${work}" -v dnsmasq=1 -v queries=queries \
        -f "${script_dir}/scale_data.awk"
    local name
    for name in ctrdns aardvark aardvark_new; do
        mkdir -p "${work}/${name}"
        { echo "${address[${name}]}"; cat "${work}/entries"; } > "${work}/${name}.base"
    done
    cp "${work}/dnsmasq.hosts" "${work}/dnsmasq.base"
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
}

server_command() { # sets the global array `cmd`
    case $1 in
        ctrdns) cmd=("${ctrdns_bin}" --config "${work}/ctrdns" -p 53 run) ;;
        aardvark) cmd=("${aardvark_bin}" --config "${work}/aardvark" -p 53 run) ;;
        aardvark_new) cmd=("${aardvark_new_bin}" --config "${work}/aardvark_new" -p 53 run) ;;
        dnsmasq) cmd=("${dnsmasq_bin}" "--conf-file=${work}/dnsmasq.conf") ;;
        # setsid -f: the responder runs in the foreground, so detach it the way the daemons detach
        # themselves; the probe then sees the command return, as for the others.
        echo) cmd=(setsid -f "${echo_bin}" "${address[echo]}" 53 "${work}/echo.pid") ;;
    esac
}

pid_file() {
    case $1 in
        ctrdns | aardvark | aardvark_new) echo "${work}/$1/aardvark.pid" ;;
        *) echo "${work}/$1.pid" ;;
    esac
}

reloaded_file() { # the file a reload appends to
    case $1 in
        dnsmasq) echo "${work}/dnsmasq.hosts" ;;
        *) echo "${work}/$1/podman" ;;
    esac
}

# --- process helpers --------------------------------------------------------------------------
process_gone() { # a zombie counts as gone: we are pid 1 and reap when bash gets to it
    [[ ! -e /proc/$1/stat ]] || [[ $(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2> /dev/null) == Z ]]
}

stop_server() {
    local name=$1 p=${pid[$1]:-}
    [[ -n ${p} ]] || return 0
    kill -TERM "${p}" 2> /dev/null || true
    for ((t = 0; t < 500; t++)); do
        process_gone "${p}" && break
        sleep 0.01
    done
    process_gone "${p}" || kill -KILL "${p}" 2> /dev/null || true
    unset "pid[${name}]"
    rm -f "$(pid_file "${name}")"
}

# Starts a server from a fresh copy of its configuration through the probe; records the start-up
# time (fork -> first answer) and the daemon's pid.
start_server() {
    local name=$1 line flags=(--deadline-ms "${start_deadline_ms}")
    [[ ${name} == echo ]] && flags+=(--any-reply)
    case ${name} in
        dnsmasq) cp "${work}/dnsmasq.base" "${work}/dnsmasq.hosts" ;;
        echo) ;;
        *) cp "${work}/${name}.base" "$(reloaded_file "${name}")" ;;
    esac
    server_command "${name}"
    rm -f "$(pid_file "${name}")"
    # Into a file, not $(...): a server that stays in the foreground (the echo responder) would
    # hold the substitution's pipe open.
    "${work}/startup_probe" "${flags[@]}" "${address[${name}]}" 53 "${existing_name}" -- "${cmd[@]}" \
        > "${work}/probe.out" 2> "${work}/${name}.stderr" < /dev/null ||
        die "${label[${name}]} did not answer within ${start_deadline_ms} ms at ${size} containers: $(cat "${work}/probe.out") $(grep -v 'failed to connect to syslog' "${work}/${name}.stderr")"
    line=$(cat "${work}/probe.out")
    for ((t = 0; t < 500; t++)); do
        [[ -s $(pid_file "${name}") ]] && break
        sleep 0.01
    done
    pid[${name}]=$(tr -d '\n' < "$(pid_file "${name}")")
    [[ -n ${pid[${name}]} ]] || die "${label[${name}]} wrote no pid file"
    record "${name}" start_ms "$(sed -n 's/.*first_answer_us=\([0-9]*\).*/\1/p' <<< "${line}" | awk '{ printf "%.1f", $1 / 1000 }')"
}

# Waits until a server has used no CPU for 0.2 s (at most 60 s): a server slow per query
# (aardvark-dns 1.4 with many containers) still works through dnsperf's backlog after the run,
# and must not steal the CPU from the next server measured.
wait_idle() {
    local p=$1 before after idle=0
    for ((t = 0; t < 600 && idle < 2; t++)); do
        before=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/${p}/stat" 2> /dev/null || echo 0)
        sleep 0.1
        after=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/${p}/stat" 2> /dev/null || echo 0)
        if [[ ${before} == "${after}" ]]; then idle=$((idle + 1)); else idle=0; fi
    done
}

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; } # utime+stime, all threads
clk_tck=$(getconf CLK_TCK)

status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# dig checks that a server answers each query type right (not just that it answers).
check_answers() {
    local name=$1 at=${address[$1]} a aaaa ptr nx short
    [[ ${name} == echo ]] && return 0
    short=$(awk 'NR == 3 { print substr($1, 1, 12) }' "${work}/ctrdns.base")
    a=$(dig @"${at}" -b "${source_address}" +short +tries=2 +time=5 web-1.dns.podman A || true)
    aaaa=$(dig @"${at}" -b "${source_address}" +short +tries=2 +time=5 "${short}.dns.podman" AAAA || true)
    ptr=$(dig @"${at}" -b "${source_address}" +short +tries=2 +time=5 -x 127.1.0.3 | head -1 || true)
    nx=$(dig @"${at}" -b "${source_address}" +tries=2 +time=5 missing.dns.podman A | sed -n 's/.*status: \([A-Z]*\).*/\1/p' || true)
    [[ ${a} == 127.1.0.3 && ${aaaa} == fd10:88:a::3 && ${ptr} == *-1* && ${nx} == NXDOMAIN ]] ||
        die "${label[${name}]} answers wrongly at ${size} containers: A=${a} AAAA=${aaaa} PTR=${ptr} NX=${nx}"
}

# One dnsperf run of one query type against one server: answers/s, and the response codes.
run_dnsperf() {
    local name=$1 qtype=$2 out="${work}/dnsperf.out" completed codes expected=NOERROR ticks_before ticks_after
    ticks_before=$(cpu_ticks "${pid[${name}]}")
    dnsperf -s "${address[${name}]}" -p 53 -a "${source_address}" -d "${work}/queries.${qtype}" \
        -l "${duration}" -c "${clients}" -T "${threads}" > "${out}" 2>&1 || true
    completed=$(awk '/Queries completed:/ { print $3 }' "${out}")
    [[ -n ${completed} && ${completed} -gt 0 ]] ||
        die "dnsperf ${qtype} against ${label[${name}]} at ${size} containers got no answer: $(cat "${out}")"
    ticks_after=$(cpu_ticks "${pid[${name}]}")
    record "${name}" "qps_${qtype}" "$(awk '/Queries per second:/ { printf "%.0f", $4 }' "${out}")"
    record "${name}" "lost_${qtype}" "$(awk '/Queries lost:/ { print $3 }' "${out}")"
    # The server's own CPU per answer: less noisy than answers/s, which the generator sharing
    # the CPUs also limits.
    record "${name}" "cpu_us_${qtype}" "$(awk -v t=$((ticks_after - ticks_before)) -v hz="${clk_tck}" -v n="${completed}" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
    wait_idle "${pid[${name}]}"
    codes=$(sed -n 's/^ *Response codes: *//p' "${out}")
    [[ ${qtype} == NX ]] && expected=NXDOMAIN
    # Wrong answers make the rate meaningless: say so (the echo responder answers NOERROR to all).
    if [[ ${name} != echo ]] && ! awk -v want="${expected}" -F', *' '{ for (i = 1; i <= NF; i++) { split($i, f, " "); n[f[1]] = f[2]; t += f[2] } }
        END { exit !(t > 0 && n[want] >= 0.99 * t) }' <<< "${codes}"; then
        echo "WARNING: ${label[${name}]} ${qtype} at ${size} containers: response codes ${codes} (expected ${expected})" | tee -a "${work}/warnings" >&2
    fi
}

# A series of reloads as netavark causes them; the probe reports each SIGHUP -> new-name time,
# memory, and writes the latency of existing-name queries sent during the reloads.
# The existing-name client asks at --rate, but at most at a fifth of the rate the server answered
# A queries in this repetition: a server overloaded by the client itself would measure its backlog,
# not its reload.
run_reloads() {
    local name=$1 count=$2 first=$3 script=${work}/reload.aardvark out steady_rate capacity
    [[ ${name} == dnsmasq ]] && script=${work}/reload.dnsmasq
    capacity=$(awk -F'\t' -v s="${size}" -v n="${name}" '$1 == s && $2 == n && $3 == "qps_A" { v = $4 } END { print v + 0 }' "${samples}")
    steady_rate=$(awk -v r="${rate}" -v c="${capacity}" 'BEGIN { c = int(c / 5); if (c < 1) c = 1; print (c < r ? c : r) }')
    record "${name}" steady_rate "${steady_rate}"
    out=$("${work}/reload_probe" --count "${count}" --rate "${steady_rate}" --reload-timeout-ms 60000 \
        --latency-out "${work}/latency.${size}.${name}" "${address[${name}]}" 53 "${source_address}" \
        "${pid[${name}]}" "$(reloaded_file "${name}")" "${script}" "${existing_name}") ||
        die "${label[${name}]} at ${size} containers: a new name never answered after its SIGHUP: $(tail -3 <<< "${out}")"
    sed -n 's/^reload_ms=//p' <<< "${out}" | while read -r ms; do record "${name}" reload_ms "${ms}"; done
    if [[ ${first} -eq 1 ]]; then
        local summary
        summary=$(tail -1 <<< "${out}")
        field() { sed -n "s/.*$1=\\([-0-9]*\\).*/\\1/p" <<< "${summary}"; }
        record "${name}" rss_reload_first_kib "$(field rss_first_kib)"
        record "${name}" rss_reload_last_kib "$(field rss_last_kib)"
        record "${name}" hwm_reload_kib "$(field hwm_kib)"
    fi
}

# --- the run: per size, R repetitions; in each, every phase runs over all servers in an order
# rotated by one per repetition, so a burst of noise from the rest of the machine lands on all.
reload_servers=()
for name in "${servers[@]}"; do [[ ${name} == echo ]] || reload_servers+=("${name}"); done
for size in ${sizes}; do
    progress "size ${size}: generating"
    generate "${size}"
    for ((rep = 0; rep < repeats; rep++)); do
        order=("${servers[@]:rep % ${#servers[@]}}" "${servers[@]:0:rep % ${#servers[@]}}")
        progress "size ${size}, repetition $((rep + 1))/${repeats}: start-up (order ${order[*]})"
        for name in "${order[@]}"; do start_server "${name}"; done
        for name in "${order[@]}"; do wait_idle "${pid[${name}]}"; done
        for name in "${order[@]}"; do
            check_answers "${name}"
            record "${name}" rss_idle_kib "$(status_kib "${pid[${name}]}" VmRSS)"
            record "${name}" hwm_start_kib "$(status_kib "${pid[${name}]}" VmHWM)"
        done
        # The query types take turns going first too: the first run after start-up met colder
        # caches on a shared machine, and was always A's before.
        qtypes=(A AAAA PTR NX)
        qtypes=("${qtypes[@]:rep % 4}" "${qtypes[@]:0:rep % 4}")
        progress "size ${size}, repetition $((rep + 1))/${repeats}: dnsperf ${qtypes[*]}, ${duration} s each"
        # ctrdns and the echo responder run back to back, the one first alternating: the noise
        # of this shared machine drifts over seconds, and their ratio is what is compared.
        paired=()
        if [[ -n ${pid[ctrdns]:-} && -n ${pid[echo]:-} ]]; then
            paired=(ctrdns echo)
            ((rep % 2 == 0)) || paired=(echo ctrdns)
        fi
        for qtype in "${qtypes[@]}"; do
            for name in "${paired[@]}"; do run_dnsperf "${name}" "${qtype}"; done
            for name in "${order[@]}"; do
                [[ " ${paired[*]} " == *" ${name} "* ]] || run_dnsperf "${name}" "${qtype}"
            done
        done
        count=${timing_reloads}
        ((rep == 0)) && count=${reloads}
        for name in "${order[@]}"; do
            [[ ${name} == echo ]] && continue
            progress "size ${size}, repetition $((rep + 1))/${repeats}: ${count} reloads of ${label[${name}]}"
            run_reloads "${name}" "${count}" $((rep == 0 ? 1 : 0))
        done
        for name in "${order[@]}"; do stop_server "${name}"; done
    done
done
elapsed=$(($(date +%s) - started_at))
progress "done"

# --- report ------------------------------------------------------------------------------------
# Medians per size, server and metric; the latency percentiles pool every query of every
# repetition (lost queries count as slower than any answer).
awk -F'\t' '{ key = $1 "\t" $2 "\t" $3; v[key] = v[key] " " $4 }
    END { for (k in v) print k "\t" v[k] }' "${samples}" |
    while IFS=$'\t' read -r s n m values; do
        read -ra list <<< "${values}"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${s}" "${n}" "${m}" \
            "$(printf '%s\n' "${list[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }')" \
            "$(printf '%s\n' "${list[@]}" | sort -g | head -1)" "$(printf '%s\n' "${list[@]}" | sort -g | tail -1)" "${#list[@]}"
    done > "${work}/medians.tsv"
for size in ${sizes}; do
    for name in "${reload_servers[@]}"; do
        lat=${work}/latency.${size}.${name}
        [[ -s ${lat} ]] || continue
        awk '{ print ($1 < 0 ? 1e18 : $1) }' "${lat}" | sort -g > "${lat}.sorted"
        total=$(wc -l < "${lat}.sorted")
        for q in 0.50:lat_p50_ms 0.99:lat_p99_ms; do
            value=$(awk -v n="${total}" -v q="${q%:*}" 'NR == int(n * q) + 1 { if ($1 >= 1e18) print "lost"; else printf "%.2f", $1 / 1000; exit }' "${lat}.sorted")
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${size}" "${name}" "${q#*:}" "${value}" "" "" "${total}" >> "${work}/medians.tsv"
        done
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${size}" "${name}" lat_lost "$(grep -c '^-1$' "${lat}" || true)" "" "" "${total}" >> "${work}/medians.tsv"
    done
done

value() { awk -F'\t' -v s="$1" -v n="$2" -v m="$3" -v c="${4:-4}" '$1 == s && $2 == n && $3 == m { print $c; exit }' "${work}/medians.tsv"; }
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "lost" || b == "lost" || b + 0 == 0) print "-"; else if (a / b >= 0.1 || a == 0) printf "%.2fx", a / b; else printf "%.2gx", a / b }'
}
mib() { awk -v k="$1" 'BEGIN { if (k == "") print ""; else printf "%.1f", k / 1024 }'; }
# Answers/s ratios: the median over repetitions of ctrdns's rate over the other server's in the
# same repetition. Both ran back to back, so the machine's slow and fast phases (other tenants)
# cancel out instead of landing in one median and not the other.
paired_ratio() { # size other-server metric
    local ratios
    ratios=$(awk -F'\t' -v s="$1" -v o="$2" -v k="$3" '
        $1 == s && $3 == k && $2 == "ctrdns" { c[++nc] = $4 }
        $1 == s && $3 == k && $2 == o { x[++nx] = $4 }
        END { n = nc < nx ? nc : nx; for (i = 1; i <= n; i++) if (x[i] > 0) print c[i] / x[i] }' "${samples}" | sort -g)
    [[ -n ${ratios} ]] || { echo "-"; return; }
    awk '{ a[NR] = $1 } END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2fx", m }' <<< "${ratios}"
}

report() {
    local ctrdns_version shown_bin
    ctrdns_version=$("${ctrdns_bin}" version 2> /dev/null | tr -s ' \n' ' ' || echo "?")
    # Relative to the repository, so committed results name no machine's paths.
    shown_bin=$(realpath --relative-to="${script_dir}/.." "${ctrdns_bin}" 2> /dev/null || echo "${ctrdns_bin}")
    echo "== ctrdns scale comparison =="
    echo "host: $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ); run took ${elapsed} s"
    echo "ctrdns:       ${shown_bin} ${ctrdns_version}"
    echo "dnsmasq:      ${dnsmasq_bin} ($("${dnsmasq_bin}" --version | head -1 | awk '{ print $3 }'))"
    echo "aardvark-1.4: ${aardvark_bin} ($("${aardvark_bin}" --version 2> /dev/null | tr -d '\n'))"
    [[ -z ${aardvark_new_bin} ]] || echo "aardvark-new: ${aardvark_new_bin} ($("${aardvark_new_bin}" --version 2> /dev/null | tr -d '\n'))"
    echo "echo:         $(realpath --relative-to="${script_dir}/.." "${echo_bin}" 2> /dev/null || echo "${echo_bin}") (recvmmsg/sendmmsg, QR flipped, no parsing: the limit)"
    echo "medians of ${repeats} repetitions, servers and query types interleaved; dnsperf -l ${duration} -c ${clients} -T ${threads} from ${source_address};"
    echo "reloads: ${reloads} in the first repetition, ${timing_reloads} in each later one; existing-name client open loop at"
    echo "  ${rate} q/s or a fifth of the server's A answers/s if lower"
    local header=(metric)
    for name in "${servers[@]}"; do header+=("${label[${name}]}"); done
    header+=(ctrdns/dnsmasq ctrdns/aardvark-1.4)
    [[ -z ${aardvark_new_bin} ]] || header+=(ctrdns/aardvark-new)
    header+=(ctrdns/echo)
    local format="%-34s" column
    for column in "${header[@]:1}"; do format+=" %14s"; done
    format+="\n"
    local rows=(
        "answers/s A|qps_A" "answers/s AAAA|qps_AAAA" "answers/s PTR|qps_PTR" "answers/s NXDOMAIN|qps_NX"
        "server CPU per answer A (us)|cpu_us_A" "server CPU per answer AAAA (us)|cpu_us_AAAA"
        "server CPU per answer PTR (us)|cpu_us_PTR" "server CPU per answer NXDOMAIN (us)|cpu_us_NX"
        "dnsperf queries lost, A (median)|lost_A"
        "start: exec -> first answer (ms)|start_ms"
        "SIGHUP -> new name, median (ms)|reload_ms" "SIGHUP -> new name, max (ms)|reload_ms|6"
        "other queries in reload: p50 (ms)|lat_p50_ms" "other queries in reload: p99 (ms)|lat_p99_ms"
        "other queries: rate (q/s)|steady_rate"
        "other queries in reload: lost|lat_lost" "other queries in reload: sent|lat_lost|7"
        "RSS idle after start (MiB)|rss_idle_kib" "peak RSS at start, VmHWM (MiB)|hwm_start_kib"
        "peak RSS during reloads (MiB)|hwm_reload_kib" "RSS after 1st reload (MiB)|rss_reload_first_kib"
        "RSS after ${reloads} reloads (MiB)|rss_reload_last_kib"
    )
    for size in ${sizes}; do
        echo
        echo "-- ${size} containers --"
        # shellcheck disable=SC2059
        printf "${format}" "${header[@]}"
        local row metric key col cells c d a n e
        for row in "${rows[@]}"; do
            IFS='|' read -r metric key col <<< "${row}"
            cells=()
            for name in "${servers[@]}"; do
                v=$(value "${size}" "${name}" "${key}" "${col:-4}")
                [[ ${key} == *_kib ]] && v=$(mib "${v}")
                cells+=("${v:--}")
            done
            c=$(value "${size}" ctrdns "${key}" "${col:-4}")
            d=$(value "${size}" dnsmasq "${key}" "${col:-4}")
            a=$(value "${size}" aardvark "${key}" "${col:-4}")
            n=$(value "${size}" aardvark_new "${key}" "${col:-4}")
            e=$(value "${size}" echo "${key}" "${col:-4}")
            if [[ ${key} == qps_* ]]; then
                cells+=("$(paired_ratio "${size}" dnsmasq "${key}")" "$(paired_ratio "${size}" aardvark "${key}")")
                [[ -z ${aardvark_new_bin} ]] || cells+=("$(paired_ratio "${size}" aardvark_new "${key}")")
                cells+=("$(paired_ratio "${size}" echo "${key}")")
            else
                cells+=("$(ratio "${c}" "${d}")" "$(ratio "${c}" "${a}")")
                [[ -z ${aardvark_new_bin} ]] || cells+=("$(ratio "${c}" "${n}")")
                cells+=("$(ratio "${c}" "${e}")")
            fi
            # shellcheck disable=SC2059
            printf "${format}" "${metric}" "${cells[@]}"
        done
    done
    echo
    [[ ! -s ${work}/warnings ]] || cat "${work}/warnings"
    echo "notes: answers/s from dnsperf (same generator for every server, sharing the $(nproc) CPUs); the echo"
    echo "  responder answers without parsing, so ctrdns/echo is the share of the machine's limit reached."
    echo "  Answers/s ratios are medians of per-repetition ratios (servers run back to back in each); the"
    echo "  other ratios divide medians."
    echo "  Server CPU per answer = utime+stime of the server over a dnsperf run / answers (${clk_tck} Hz ticks)."
    echo "  Peak RSS during reloads is VmHWM after the series, reset through clear_refs before it; 'lost' are"
    echo "  existing-name queries sent during a reload and unanswered after 2 s."
    echo "reproduce (as root, from the repository root):"
    echo "  cmake --preset release && nice cmake --build --preset release --target ctrdns echo_responder"
    echo "  bench/scale_compare.sh --ctrdns ${shown_bin}$([[ -z ${aardvark_new_bin} ]] || echo " --aardvark-new ${aardvark_new_bin}") --sizes \"${sizes}\" --repeats ${repeats} --duration ${duration} --reloads ${reloads} --timing-reloads ${timing_reloads} --rate ${rate}"
}

report | tee "${work}/report.txt"

if [[ ${out_dir} != none ]]; then
    {
        echo "# ctrdns scale comparison, $(date -u +%Y-%m-%dT%H:%M:%SZ): size server metric median min max samples"
        sort -t$'\t' -k1,1n -k2,2 -k3,3 "${work}/medians.tsv"
    } > "${out_dir}/scale.tsv"
    # gnuplot wants one block per server, one row per size.
    {
        echo "# one block per server (gnuplot index = block order below): size qps_A qps_AAAA qps_PTR qps_NX start_ms reload_ms rss_idle_mib peak_reload_mib rss_last_mib lat_p99_ms"
        for name in "${servers[@]}"; do
            echo "# ${label[${name}]}"
            for size in ${sizes}; do
                printf '%s' "${size}"
                for key in qps_A qps_AAAA qps_PTR qps_NX start_ms reload_ms rss_idle_kib hwm_reload_kib rss_reload_last_kib lat_p99_ms; do
                    v=$(value "${size}" "${name}" "${key}")
                    [[ ${key} == *_kib ]] && v=$(mib "${v}")
                    [[ ${v} == lost ]] && v=""
                    printf ' %s' "${v:-NaN}"
                done
                echo
            done
            printf '\n\n'
        done
    } > "${out_dir}/scale.dat"
    cp "${work}/report.txt" "${out_dir}/scale.txt"
    # Every single measurement (one line per reload, per dnsperf run...), for a closer look.
    { echo "# size server metric value"; cat "${samples}"; } > "${out_dir}/scale-samples.tsv"
    if command -v gnuplot > /dev/null; then
        plot_lines() { # column title-suffix; one line per server (echo only where it has data)
            local column=$1 i=0 parts=() name
            for name in "${servers[@]}"; do
                parts+=("'${out_dir}/scale.dat' index ${i} using 1:${column} with linespoints lw 2 title '${label[${name}]}'")
                i=$((i + 1))
            done
            local IFS=,
            echo "${parts[*]}"
        }
        gnuplot << EOF
set terminal pngcairo size 1400,1000 font ",11"
set output '${out_dir}/scale.png'
set multiplot layout 2,2 title "ctrdns scale comparison ($(date -u +%Y-%m-%d), $(nproc) CPUs, medians of ${repeats})"
set logscale x
set xlabel "containers"
set key left bottom
set grid
set title "answers/s, A queries (dnsperf)"
set logscale y
plot $(plot_lines 2)
set title "SIGHUP (one line appended) -> new name answers (ms)"
set key left top
plot $(plot_lines 7)
set title "peak RSS during reloads (MiB)"
plot $(plot_lines 9)
set title "start-up: exec -> first answer (ms)"
plot $(plot_lines 6)
unset multiplot
EOF
        progress "wrote ${out_dir}/scale.{tsv,dat,txt,png} and scale-samples.tsv"
    else
        progress "wrote ${out_dir}/scale.{tsv,dat,txt}; no gnuplot, no plot (tools/install-deps.sh all)"
    fi
fi
