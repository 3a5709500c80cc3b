#!/usr/bin/env bash
# Fails when any tracked C++ file is not clang-format-14 clean (the pinned formatter).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.hpp' '*.cpp')
if [ "${#files[@]}" -eq 0 ]; then
  echo "check-format: no C++ files"
  exit 0
fi
clang-format-14 --dry-run --Werror "${files[@]}"
echo "check-format: ${#files[@]} files clean"
