#!/usr/bin/env bash
# Runs every test: format and clang-tidy gates (pure layers), gcc build with -Werror (unit,
# fuzz-corpus replay, integration with real netavark/dig/dnsmasq/podman), a 1-minute soak
# (tools/soak.sh), the same suite under ASan+UBSan, and each libFuzzer target for a bounded time.
# Needs root (network namespaces); installs its own Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "test-all: run as root (integration tests create network namespaces)" >&2
  exit 1
fi
fuzz_seconds=${CTRDNS_FUZZ_SECONDS:-30}
start=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }

step "packages"
tools/install-deps.sh all

step "format"
tools/check-format.sh

step "tidy: clang-tidy-14 over the pure layers (base, dns, config, records, query)"
tools/run-tidy.sh

step "Debian package (tools/build-deb.sh; installed by integration suite 900 in its sandbox)"
CTRDNS_DEB=$(tools/build-deb.sh | tail -n 1)
export CTRDNS_DEB

step "ci preset: gcc -Werror, unit + fuzz replay + integration"
cmake --workflow --preset ci

step "soak smoke: 60 s of netavark churn under mixed load (tools/soak.sh)"
tools/soak.sh --duration 60 --bin build/ci/src/ctrdns

step "asan preset: ASan+UBSan, unit + fuzz replay + integration"
cmake --workflow --preset asan

step "fuzz preset: libFuzzer, ${fuzz_seconds}s per target"
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz
tools/fuzz-smoke.sh "$fuzz_seconds"

step "all tests passed"
