#!/usr/bin/env bash
# Runs every test: format gate, clang-tidy gate (pure layers), gcc build with -Werror (unit, fuzz-corpus replay, integration with
# real netavark/dig/dnsmasq), the same suite under ASan+UBSan, and each libFuzzer target for a
# bounded time. Needs root (network namespaces); installs its own Debian packages.
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

step "ci preset: gcc -Werror, unit + fuzz replay + integration"
cmake --workflow --preset ci

step "asan preset: ASan+UBSan, unit + fuzz replay + integration"
cmake --workflow --preset asan

step "fuzz preset: libFuzzer, ${fuzz_seconds}s per target"
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz
tools/fuzz-smoke.sh "$fuzz_seconds"

step "all tests passed"
