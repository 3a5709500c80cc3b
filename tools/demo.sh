#!/usr/bin/env bash
# README quick-start demo: installs the build dependencies (Debian 12), builds the `release`
# preset, then, inside a private mount+network namespace where only `lo` exists, serves
# examples/demo-network/ with ctrdns on 127.0.0.1:5533 and shows A, AAAA, PTR, TCP and
# NXDOMAIN answers with dig. Run as root:   tools/demo.sh
# DEMO_SKIP_APT=1 skips the package step; CTRDNS_BIN=/path uses an existing binary (no build).
# Nothing is sent outside loopback: the namespace has no other interface, and its
# /etc/resolv.conf names a dnsmasq on 127.0.0.53 that only knows example.test.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=5533

if [[ ${1:-} != --inside ]]; then
    if [[ $EUID -ne 0 ]]; then
        echo "demo.sh: run as root (it installs packages and creates a network namespace)" >&2
        exit 1
    fi
    packages=(cmake ninja-build g++ pkg-config libasio-dev libcli11-dev libfmt-dev
        libgtest-dev libgmock-dev libbenchmark-dev bind9-dnsutils iproute2 dnsmasq-base util-linux)
    if [[ ${DEMO_SKIP_APT:-0} != 1 ]]; then
        missing=()
        for p in "${packages[@]}"; do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
        done
        if ((${#missing[@]})); then
            echo "+ apt-get install ${missing[*]}"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
        fi
    fi
    if [[ -z ${CTRDNS_BIN:-} ]]; then
        cd "$repo"
        echo "+ cmake --preset release && cmake --build --preset release --target ctrdns"
        cmake --preset release >/dev/null
        cmake --build --preset release --target ctrdns
        CTRDNS_BIN=$repo/build/release/src/ctrdns
    fi
    export CTRDNS_BIN
    exec unshare --mount --net --pid --fork --mount-proc --propagation private -- \
        bash "$repo/tools/demo.sh" --inside
fi

# ---- inside the private namespaces ----
work=$(mktemp -d /tmp/ctrdns-demo.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

show() { # prints the command, then runs it
    echo
    echo "\$ $*"
    "$@"
}

ask() { # dig, showing only the status line and the answers
    echo
    echo "\$ dig $*"
    dig +time=2 +tries=1 +nocookie +noall +comments +answer "$@" |
        grep -E -e '->>HEADER' -e '^[^;[:space:]]' | sed -e 's/^;; ->>HEADER<<- /;; /'
}

ip link set lo up
# The "containers": their addresses live on lo, so dig can ask FROM a container (-b), which is
# what makes reverse lookups local (the daemon answers PTR only to known containers).
ip addr add 10.88.0.2/32 dev lo
ip addr add fd00:88::2/128 dev lo nodad

# Upstream for forwarded names: a dnsmasq on 127.0.0.53 that knows only example.test.
printf 'nameserver 127.0.0.53\n' >"$work/resolv.conf"
mount --bind "$work/resolv.conf" /etc/resolv.conf
if command -v dnsmasq >/dev/null; then
    dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --listen-address=127.0.0.53 \
        --bind-interfaces --port 53 --pid-file= --user=root --address=/example.test/192.0.2.10 \
        </dev/null >"$work/dnsmasq.log" 2>&1 &
    pids+=($!)
fi

cp -r "$repo/examples/demo-network" "$work/config"
echo "Network file $work/config/demo (copy of examples/demo-network/demo):"
sed 's/^/    /' "$work/config/demo"

echo
echo "\$ $CTRDNS_BIN --config $work/config -p $port --foreground run &"
"$CTRDNS_BIN" --config "$work/config" -p "$port" --foreground run </dev/null 2>"$work/ctrdns.log" &
pids+=($!)
ctrdns_pid=$!
for ((i = 0; i < 100; i++)); do # at most 5 s
    dig +time=1 +tries=1 @127.0.0.1 -p "$port" web.dns.podman >/dev/null 2>&1 && break
    kill -0 "$ctrdns_pid" 2>/dev/null || {
        echo "ctrdns exited:" >&2
        cat "$work/ctrdns.log" >&2
        exit 1
    }
    sleep 0.05
done

ask @127.0.0.1 -p "$port" web.dns.podman A
ask @127.0.0.1 -p "$port" www.dns.podman AAAA
ask @127.0.0.1 -p "$port" DB A
ask @127.0.0.1 -p "$port" -b 10.88.0.2 -x 10.88.0.3
ask @127.0.0.1 -p "$port" -b 10.88.0.2 -x fd00:88::2
ask @127.0.0.1 -p "$port" +tcp web.dns.podman A
ask @127.0.0.1 -p "$port" nosuch.dns.podman A
ask @127.0.0.1 -p "$port" www.example.test A

show kill "$ctrdns_pid"
wait "$ctrdns_pid" 2>/dev/null || true
echo
echo "ctrdns log (stderr):"
sed 's/^/    /' "$work/ctrdns.log"
