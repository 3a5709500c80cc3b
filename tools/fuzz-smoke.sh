#!/usr/bin/env bash
# Runs every libFuzzer target of the fuzz preset for a bounded time (default 30 s each), starting
# from a copy of its committed corpus so the repository is never written to.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
build=build/fuzz/tests/fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  mkdir -p "$work/$name"
  cp -r "tests/fuzz/corpus/$name/." "$work/$name/" 2>/dev/null || true
  echo "fuzz-smoke: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -artifact_prefix="$work/" \
      "$work/$name" > "$work/$name.log" 2>&1; then
    tail -40 "$work/$name.log"
    echo "fuzz-smoke: $name FAILED"
    status=1
  else
    grep -E '^#[0-9]+.*DONE' "$work/$name.log" | tail -1 || true
  fi
done
exit $status
