#!/usr/bin/env bash
# bench/: peak memory of a teardown's reload at scale, the case bench/scale_compare.sh does not
# cover (its reloads are setups, which ctrdns applies from the file's tail). netavark's teardown
# rewrites the file without one line; ctrdns walks the file once in pieces and applies the
# removal over its last full build, while the old table still serves. Prints, for ctrdns and
# dnsmasq on the same containers: RSS idle, peak at start, peak over N teardowns, over one
# `network update`, over a setup that makes a line stale and a teardown beside it, over the
# seed's case (a container recreated under its old name while its old line stays), and over a
# full build for comparison (VmHWM reset through clear_refs before each; dnsmasq's column is its
# peak over the same moments). The seed's case also prints the time from SIGHUP to the name
# answering only its new address.
#
# Usage (as root): bench/teardown_peak.sh [--ctrdns PATH] [--dnsmasq PATH] [--size N] [--teardowns N]
# Runs inside a private mount+net+pid namespace with only `lo` and a resolv.conf naming nothing.
set -euo pipefail

repo_dir=$(cd "$(dirname "$0")/.." && pwd)
ctrdns_bin=${repo_dir}/build/release/src/ctrdns
dnsmasq_bin=/usr/sbin/dnsmasq
size=100000
teardowns=5
while [[ $# -gt 0 ]]; do
    case $1 in
        --ctrdns) ctrdns_bin=$2; shift 2 ;;
        --dnsmasq) dnsmasq_bin=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --teardowns) teardowns=$2; shift 2 ;;
        --inner) inner=1; shift ;;
        *) echo "usage: $0 [--ctrdns PATH] [--dnsmasq PATH] [--size N] [--teardowns N]" >&2; exit 2 ;;
    esac
done
ctrdns_bin=$(realpath "${ctrdns_bin}")

if [[ -z ${inner:-} ]]; then
    [[ $(id -u) -eq 0 ]] || { echo "teardown_peak: run as root (namespaces)" >&2; exit 2; }
    exec unshare --mount --net --pid --fork --mount-proc --propagation private -- \
        "$0" --inner --ctrdns "${ctrdns_bin}" --dnsmasq "${dnsmasq_bin}" --size "${size}" \
        --teardowns "${teardowns}"
fi

ip link set lo up
work=$(mktemp -d /tmp/ctrdns-teardown.XXXXXX)
trap 'rm -rf "${work}"' EXIT
chmod 755 "${work}" # dnsmasq reads its hosts file after dropping to nobody
echo "nameserver 127.0.0.99" > "${work}/resolv.conf" # nothing listens there
mount --bind "${work}/resolv.conf" /etc/resolv.conf
mkdir "${work}/ctrdns"

# The scale benchmark's containers: a 64-hex ID, IPv4 and IPv6, two names and the short-ID alias.
awk -v n="${size}" -v dir="${work}" 'BEGIN {
    srand(7); print "127.0.0.31" > (dir "/ctrdns/podman")
    for (i = 0; i < n; i++) {
        id = ""; for (k = 0; k < 16; k++) id = id sprintf("%04x", int(rand() * 65536))
        host = i + 65538
        v4 = sprintf("127.%d.%d.%d", int(host / 65536), int(host / 256) % 256, host % 256)
        v6 = sprintf("fd10:88:a::%x:%x", int((i + 2) / 65536), (i + 2) % 65536)
        printf "%s %s %s ctr-%d,web-%d,%s\n", id, v4, v6, i, i, substr(id, 1, 12) > (dir "/ctrdns/podman")
        names = sprintf("ctr-%d.dns.podman web-%d.dns.podman %s.dns.podman", i, i, substr(id, 1, 12))
        printf "%s %s\n%s %s\n", v4, names, v6, names > (dir "/hosts")
    }
}'
cat > "${work}/dnsmasq.conf" << EOF
port=53
listen-address=127.0.0.32
bind-interfaces
no-resolv
no-hosts
addn-hosts=${work}/hosts
local=/dns.podman/
cache-size=1000
pid-file=${work}/dnsmasq.pid
EOF

kib() { sed -n "s/^$2:[[:space:]]*\\([0-9]*\\) kB/\\1/p" "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
wait_answer() { # address name
    local deadline=$((SECONDS + 120))
    until dig +time=1 +tries=1 +short "@$1" "$2" A | grep -q .; do
        ((SECONDS < deadline)) || { echo "teardown_peak: no answer from $1" >&2; exit 1; }
        sleep 0.05
    done
}

declare -A idle start peak update stale seed full
"${ctrdns_bin}" --config "${work}/ctrdns" -p 53 run
pid_ctrdns=$(cat "${work}/ctrdns/aardvark.pid")
"${dnsmasq_bin}" --conf-file="${work}/dnsmasq.conf"
pid_dnsmasq=$(cat "${work}/dnsmasq.pid")
wait_answer 127.0.0.31 ctr-1.dns.podman
wait_answer 127.0.0.32 ctr-1.dns.podman
for name in ctrdns dnsmasq; do
    pid_var=pid_${name}
    idle[${name}]=$(kib "${!pid_var}" VmRSS)
    start[${name}]=$(kib "${!pid_var}" VmHWM)
    echo 5 > "/proc/${!pid_var}/clear_refs"
done

# netavark's teardown of container K in ctrdns's file: truncated and rewritten in place.
rewrite_without() { # K
    grep -v " ctr-$1,web-$1," "${work}/ctrdns/podman" > "${work}/rewrite"
    cat "${work}/rewrite" > "${work}/ctrdns/podman"
}
wait_gone() { # label address name dig-timeout poll-interval
    local deadline=$((SECONDS + 60))
    while dig +time="$4" +tries=1 +short "@$2" "$3" A | grep -q .; do
        ((SECONDS < deadline)) || { echo "teardown_peak: $1 still answers $3" >&2; exit 1; }
        sleep "$5"
    done
}
reset_peaks() {
    local name pid_var
    for name in ctrdns dnsmasq; do
        pid_var=pid_${name}
        echo 5 > "/proc/${!pid_var}/clear_refs"
    done
}
read_peaks() { # array to fill
    local -n into=$1
    local name pid_var
    for name in ctrdns dnsmasq; do
        pid_var=pid_${name}
        into[${name}]=$(kib "${!pid_var}" VmHWM)
    done
}

# Teardown k removes container k's line as netavark does, then SIGHUP; ctrdns holds a lost line
# back for its settle time (250 ms) and applies the removal over its last full build on the next
# look.
for ((k = 0; k < teardowns; k++)); do
    rewrite_without "${k}"
    sed -i "/ ctr-${k}\.dns\.podman /d" "${work}/hosts"
    kill -HUP "${pid_ctrdns}" "${pid_dnsmasq}"
    sleep 0.4
    kill -HUP "${pid_ctrdns}"
    wait_gone ctrdns 127.0.0.31 "ctr-${k}.dns.podman" 1 0.05
    wait_gone dnsmasq 127.0.0.32 "ctr-${k}.dns.podman" 2 0.1
done
read_peaks peak
reset_peaks

# `podman network update`: the header rewritten (another DNS server), every line kept, in place.
# dnsmasq has no such change; its column is its peak over the same second.
{ echo "127.0.0.31 127.0.0.53"; tail -n +2 "${work}/ctrdns/podman"; } > "${work}/rewrite"
cat "${work}/rewrite" > "${work}/ctrdns/podman"
kill -HUP "${pid_ctrdns}"
sleep 1
wait_answer 127.0.0.31 "ctr-$((size - 1)).dns.podman"
read_peaks update

# A stale line (a newer container took ctr-(teardowns+1)'s address, as after a lost teardown),
# then the next teardown: both are applied over the last full build, the lines the stale-entry
# rules must judge again (the stale line and its taker) with them.
host=$((teardowns + 1 + 65538)) # ctr-(teardowns+1), still there
echo "$(printf '%064x' 7) 127.$((host / 65536)).$((host / 256 % 256)).$((host % 256))  stale-taker" \
    >> "${work}/ctrdns/podman"
kill -HUP "${pid_ctrdns}"
wait_answer 127.0.0.31 stale-taker.dns.podman
reset_peaks
rewrite_without "${teardowns}"
kill -HUP "${pid_ctrdns}"
sleep 0.4
kill -HUP "${pid_ctrdns}"
wait_gone ctrdns 127.0.0.31 "ctr-${teardowns}.dns.podman" 1 0.05
read_peaks stale

# The seed's case: ctr-K recreated under a new ID and address with its names, while its old line
# stays (its teardown never ran). The old line becomes shadowed: ctr-K answers the new address
# only, from the SIGHUP that follows netavark's append.
k=$((teardowns + 2))
host=$((size + 65538 + 10))
new_address="127.$((host / 65536)).$((host / 256 % 256)).$((host % 256))"
reset_peaks
echo "$(printf '%064x' 8) ${new_address}  ctr-${k},web-${k},$(printf '%012x' 8)" \
    >> "${work}/ctrdns/podman"
start_ns=$(date +%s%N)
kill -HUP "${pid_ctrdns}"
deadline=$((SECONDS + 60))
until [[ $(dig +time=1 +tries=1 +short @127.0.0.31 "ctr-${k}.dns.podman" A) == "${new_address}" ]]; do
    ((SECONDS < deadline)) || { echo "teardown_peak: ctr-${k} never answered alone" >&2; exit 1; }
done
seed_ms=$(awk -v ns="$(($(date +%s%N) - start_ns))" 'BEGIN { printf "%.1f", ns / 1e6 }')
read_peaks seed

# For comparison, a full build: ctr-(teardowns+3)'s line repeated at the end (a second line of
# a container the last full build serves as it is), which only a full build judges. It holds
# the old table, which serves until the swap, and the new one.
reset_peaks
grep " ctr-$((teardowns + 3)),web-" "${work}/ctrdns/podman" > "${work}/repeat"
cat "${work}/repeat" >> "${work}/ctrdns/podman"
kill -HUP "${pid_ctrdns}"
sleep 2
read_peaks full
kill "${pid_ctrdns}" "${pid_dnsmasq}"

echo "== teardown reloads at ${size} containers (${teardowns} teardowns) =="
echo "ctrdns: $("${ctrdns_bin}" version | tr -d '\n ' | cut -c1-120)"
echo "dnsmasq: $("${dnsmasq_bin}" --version | head -1)"
printf '%-36s %10s %10s %14s\n' metric ctrdns dnsmasq ctrdns/dnsmasq
row() { # label, ctrdns KiB, dnsmasq KiB
    printf '%-36s %10s %10s %13sx\n' "$1" "$(mib "$2")" "$(mib "$3")" \
        "$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", a / b }')"
}
row "RSS idle after start (MiB)" "${idle[ctrdns]}" "${idle[dnsmasq]}"
row "peak RSS at start (MiB)" "${start[ctrdns]}" "${start[dnsmasq]}"
row "peak RSS over the teardowns (MiB)" "${peak[ctrdns]}" "${peak[dnsmasq]}"
row "peak RSS over a network update (MiB)" "${update[ctrdns]}" "${update[dnsmasq]}"
row "peak, stale line + teardown (MiB)" "${stale[ctrdns]}" "${stale[dnsmasq]}"
row "peak, recreated under old name (MiB)" "${seed[ctrdns]}" "${seed[dnsmasq]}"
row "peak, a full build (MiB)" "${full[ctrdns]}" "${full[dnsmasq]}"
echo "recreated under its old name: SIGHUP to its new address alone: ${seed_ms} ms (dig polls included)"
echo "reproduce (as root): bench/teardown_peak.sh --ctrdns ${ctrdns_bin#"${repo_dir}"/} --size ${size} --teardowns ${teardowns}"
