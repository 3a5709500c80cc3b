#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests, the demo and the benchmarks use.
# Usage: tools/install-deps.sh [build|all]   (build = just enough to compile and run ctrdns and
# to build its .deb with tools/build-deb.sh; all adds the tests', demo's and benchmarks' needs)
set -euo pipefail
what=${1:-all}
build_pkgs=(cmake ninja-build g++ pkg-config libasio-dev libcli11-dev libfmt-dev
            bind9-dnsutils iproute2 util-linux procps debhelper dpkg-dev)
test_pkgs=(clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14 libgtest-dev libgmock-dev googletest
           libbenchmark-dev bats netavark aardvark-dns dnsmasq-base iptables jq socat dnsperf
           python3 psmisc podman crun conmon gnuplot-nox)
pkgs=("${build_pkgs[@]}")
[ "$what" = all ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
