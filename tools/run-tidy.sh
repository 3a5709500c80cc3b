#!/usr/bin/env bash
# Runs clang-tidy-14 with the checks in .clang-tidy over the pure layers (src/base, src/dns,
# src/config, src/records, src/query: no asio, no sockets) and fails on any finding. The layers
# above them (asio, POSIX daemons) are not gated yet; `tools/run-tidy.sh src/server/*.cpp` runs
# the same checks on any file you name.
#
#   tools/run-tidy.sh [FILE.cpp...]      CTRDNS_TIDY_JOBS=N to change the parallelism (default nproc)
#
# Uses the `tidy` configure preset (clang-14, compile_commands.json in build/tidy); nothing is
# built. Findings in headers are reported only for headers of the gated layers.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-tidy-14 > /dev/null; then
  echo "run-tidy: clang-tidy-14 not found (tools/install-deps.sh all installs it)" >&2
  exit 2
fi

layers='base|dns|config|records|query'
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'src/*.cpp' | grep -E "^src/(${layers})/")
fi
if [ "${#files[@]}" -eq 0 ]; then
  echo "run-tidy: no files" >&2
  exit 2
fi

cmake --preset tidy > /dev/null
database=build/tidy
jobs=${CTRDNS_TIDY_JOBS:-$(nproc)}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

start=$(date +%s)
# One log per file, so parallel runs never interleave their output.
status=0
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -I{} sh -c '
  log="$2/$(printf %s "$1" | tr / _).log"
  clang-tidy-14 -p "$3" --quiet --warnings-as-errors="*" \
    --header-filter="$4" "$1" > "$log" 2>&1
' run-tidy {} "$logs" "$database" "$PWD/src/(${layers})/" || status=$?

# clang-tidy's own bookkeeping lines ("N warnings generated", "Suppressed N warnings ...") are
# not findings.
noise='^([0-9]+ warnings?( and [0-9]+ errors?)? generated\.|Suppressed [0-9]+ warnings|Use -header-filter=|Use -system-headers)'
findings=0
for log in "$logs"/*.log; do
  if grep -Eqv "$noise" "$log"; then
    grep -Ev "$noise" "$log"
    findings=$((findings + 1))
  fi
done

elapsed=$(( $(date +%s) - start ))
if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ]; then
  echo "run-tidy: findings in ${findings} of ${#files[@]} files (${elapsed}s); fix them, or, for a" \
       "check that does not fit, disable it in .clang-tidy with a reason" >&2
  exit 1
fi
echo "run-tidy: ${#files[@]} files clean (${elapsed}s, ${jobs} jobs)"
