#!/usr/bin/env bash
# Runs every libFuzzer target of the fuzz preset from a copy of its committed corpus (the
# repository is never written to). A fixed seed and a fixed number of runs make the CI run
# reproducible: a failure here fails the same way on a developer machine. The time limit (default
# 30 s each) only caps a slow machine. CTRDNS_FUZZ_SEED and CTRDNS_FUZZ_RUNS vary the exploration.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
seed=${CTRDNS_FUZZ_SEED:-1}
runs=${CTRDNS_FUZZ_RUNS:-400000}
build=build/fuzz/tests/fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  mkdir -p "$work/$name"
  cp -r "tests/fuzz/corpus/$name/." "$work/$name/" 2>/dev/null || true
  echo "fuzz-smoke: $name, seed $seed, $runs runs, at most ${seconds}s"
  if ! "$bin" -seed="$seed" -runs="$runs" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -artifact_prefix="$work/" \
      "$work/$name" > "$work/$name.log" 2>&1; then
    tail -40 "$work/$name.log"
    echo "fuzz-smoke: $name FAILED"
    status=1
  else
    grep -E '^#[0-9]+.*DONE' "$work/$name.log" | tail -1 || true
  fi
done
exit $status
