#!/usr/bin/env bash
# CPU per answer, two ctrdns builds against each other and the echo responder: the A/B comparison
# behind the query-path changes (LTO, the PTR label reader, the address index, the batch warm-up).
# Both builds serve the same containers (the scale benchmark's shape) on their own loopback
# addresses; each round runs dnsperf once against each of the three, in turn, and reads the
# server's user and system CPU time from /proc. Prints every round, then medians: answers/s, CPU
# per answer (user + system) and its user part, each build's answers/s over the echo responder's.
# CPU per answer is the steadier figure on a shared machine: answers/s also depends on how the
# server and dnsperf share the CPUs. All three servers run in their own sessions (autogroups), as in
# scale_compare.sh.
#
# Everything runs inside a private mount+net+pid namespace with only `lo`, /etc/resolv.conf bind-
# mounted to a loopback address where nothing listens: no packet leaves the machine.
#
# Usage (as root): bench/cpu_per_answer.sh --ctrdns PATH [--baseline PATH] [--echo PATH]
#     [--size N] [--type A|AAAA|PTR|NX] [--rounds R] [--duration S]
# --baseline defaults to --ctrdns (then the two columns show the noise between two identical
# servers). Defaults: 10,000 containers, PTR, 8 rounds of 2 s.
set -euo pipefail
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "${script_dir}/.." && pwd)
ctrdns_bin=""
baseline_bin=""
echo_bin=${repo_dir}/build/release/bench/echo_responder
size=10000
qtype=PTR
rounds=8
duration=2
usage() {
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}
while [[ $# -gt 0 ]]; do
    case $1 in
        --ctrdns) ctrdns_bin=$2; shift 2 ;;
        --baseline) baseline_bin=$2; shift 2 ;;
        --echo) echo_bin=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --type) qtype=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --inner) shift ;;
        -h | --help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
die() {
    echo "cpu_per_answer: $*" >&2
    exit 1
}
[[ -n ${ctrdns_bin} && -x ${ctrdns_bin} ]] || die "--ctrdns PATH is required (a release build)"
baseline_bin=${baseline_bin:-${ctrdns_bin}}
[[ -x ${baseline_bin} ]] || die "no baseline binary at ${baseline_bin}"
[[ -x ${echo_bin} ]] || die "no echo responder at ${echo_bin} (cmake --build --preset release --target echo_responder)"
[[ ${qtype} =~ ^(A|AAAA|PTR|NX)$ ]] || die "--type must be A, AAAA, PTR or NX"
if [[ -z ${CPU_PER_ANSWER_INNER:-} ]]; then
    [[ $(id -u) -eq 0 ]] || die "must run as root (it creates namespaces and binds port 53)"
    for tool in dnsperf unshare ip awk; do command -v "${tool}" > /dev/null || die "${tool} missing"; done
    exec env CPU_PER_ANSWER_INNER=1 unshare --mount --net --pid --fork --mount-proc \
        --propagation private -- "$0" --ctrdns "${ctrdns_bin}" --baseline "${baseline_bin}" \
        --echo "${echo_bin}" --size "${size}" --type "${qtype}" --rounds "${rounds}" \
        --duration "${duration}" --inner
fi

ip link set lo up
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
echo "nameserver 127.0.0.99" > "${work}/resolv.conf"
mount --bind "${work}/resolv.conf" /etc/resolv.conf
mkdir "${work}/new" "${work}/old"
# The scale benchmark's containers and queries (bench/scale_data.awk); the requester 127.1.0.2 is
# container 0.
awk -v n="${size}" -v reloads=0 -v dir="${work}" -v dnsmasq=0 -v queries=q -f "${script_dir}/scale_data.awk"
{ echo 127.0.0.31; cat "${work}/entries"; } > "${work}/new/podman"
{ echo 127.0.0.33; cat "${work}/entries"; } > "${work}/old/podman"
"${ctrdns_bin}" --config "${work}/new" -p 53 run
"${baseline_bin}" --config "${work}/old" -p 53 run
# In its own session, as the daemons put themselves (setsid): with the kernel's autogroup
# scheduling, a responder left in this script's session would share dnsperf's CPU share and
# reach less than it can, flattering both builds' ratios to it.
setsid -f "${echo_bin}" 127.0.0.32 53 "${work}/echo.pid" < /dev/null > /dev/null 2>&1
for file in new/aardvark.pid old/aardvark.pid echo.pid; do
    for ((t = 0; t < 500; t++)); do [[ -s ${work}/${file} ]] && break; sleep 0.01; done
    [[ -s ${work}/${file} ]] || die "a server did not start (${file})"
done
declare -A pid=([new]=$(cat "${work}/new/aardvark.pid") [old]=$(cat "${work}/old/aardvark.pid")
    [echo]=$(cat "${work}/echo.pid"))
declare -A address=([new]=127.0.0.31 [old]=127.0.0.33 [echo]=127.0.0.32)
sleep 0.5

# One dnsperf run: "answers/s cpu_us user_us" for the server.
run_one() {
    local name=$1 before after result
    before=$(awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/${pid[${name}]}/stat")
    result=$(dnsperf -s "${address[${name}]}" -p 53 -a 127.1.0.2 -d "${work}/q.${qtype}" \
        -l "${duration}" -c 4 -T 2 2>&1 |
        awk '/Queries completed:/ { c = $3 } /Queries per second:/ { q = $4 } END { print q + 0, c + 0 }')
    after=$(awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/${pid[${name}]}/stat")
    awk -v r="${result}" -v a="${before}" -v b="${after}" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(r, R, " "); split(a, A, " "); split(b, B, " ")
        if (R[2] == 0) { print "0 0 0"; exit }
        printf "%.0f %.2f %.2f\n", R[1], (B[1] + B[2] - A[1] - A[2]) * 1e6 / hz / R[2], (B[1] - A[1]) * 1e6 / hz / R[2] }'
}

echo "cpu_per_answer: ${size} containers, ${qtype}, ${rounds} rounds of ${duration} s (dnsperf -c 4 -T 2)"
echo "  new:      ${ctrdns_bin}"
echo "  baseline: ${baseline_bin}"
samples=${work}/samples
for ((round = 1; round <= rounds; round++)); do
    line="round ${round}:"
    for name in new old echo; do
        read -r qps cpu user <<< "$(run_one "${name}")"
        echo "${name} ${qps} ${cpu} ${user}" >> "${samples}"
        line+=$(printf '  %s %7d/s cpu %5.2f us (user %4.2f)' "${name}" "${qps}" "${cpu}" "${user}")
    done
    echo "${line}"
done
awk 'function median(list,   a, n, i, j, t) {
        n = split(list, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { qps[$1] = qps[$1] " " $2; cpu[$1] = cpu[$1] " " $3; user[$1] = user[$1] " " $4 }
    END {
        for (k = 0; k < 3; k++) {
            name = k == 0 ? "new" : k == 1 ? "old" : "echo"
            printf "median %-8s answers/s %7d  cpu/answer %5.2f us  user %4.2f us", (name == "old" ? "baseline" : name), median(qps[name]), median(cpu[name]), median(user[name])
            if (name != "echo") printf "  answers/s / echo %.3f", median(qps[name]) / median(qps["echo"])
            printf "\n"
        }
    }' "${samples}"
for name in new old echo; do kill "${pid[${name}]}" 2> /dev/null || true; done
