#!/usr/bin/env bash
# Builds the Debian package (debian/) with `dpkg-buildpackage -b -us -uc` in a copy of the tree under
# build/deb/src, so the work tree gets no obj-*/ or debian/ctrdns/ and the .deb lands in build/deb/.
# Incremental: the copy keeps its build directory between runs, and dh's stamps are dropped so it
# re-runs cmake and ninja, which rebuild only what changed. Prints the path of the .deb on its last line.
# Usage: tools/build-deb.sh [--clean]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build/deb
src=$out/src
if [[ ${1:-} == --clean ]]; then
    rm -rf "$out"
fi
for tool in dpkg-buildpackage dh git; do
    command -v "$tool" >/dev/null || {
        echo "build-deb: $tool missing (tools/install-deps.sh build)" >&2
        exit 1
    }
done
mkdir -p "$src"
# Tracked and new (not ignored) files: what a commit of this tree would hold. A file is copied only
# when its content differs, so ninja in the copy rebuilds only what changed.
declare -A wanted=()
while IFS= read -r -d '' rel; do
    [[ -f $root/$rel ]] || continue
    wanted[$rel]=1
    if ! cmp -s "$root/$rel" "$src/$rel"; then
        mkdir -p "$(dirname "$src/$rel")"
        cp -p "$root/$rel" "$src/$rel"
    fi
done < <(git ls-files -z --cached --others --exclude-standard)
# A file deleted from the tree must not linger in the copy (obj-* and debian/ctrdns are dh's).
while IFS= read -r -d '' file; do
    rel=${file#"$src"/}
    [[ -n ${wanted[$rel]:-} ]] || rm -f "$file"
done < <(find "$src" -path "$src/obj-*" -prune -o -path "$src/debian/ctrdns" -prune -o \
    -path "$src/debian/.debhelper" -prune -o -type f -print0)
# `git rev-parse HEAD` for `ctrdns version` (src/CMakeLists.txt): the copy has no .git of its own.
git_dir=$(git rev-parse --absolute-git-dir)
rm -f "$src"/debian/debhelper-build-stamp "$src"/debian/*.debhelper.log "$src"/debian/files
rm -rf "$src"/debian/ctrdns "$src"/debian/.debhelper
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
(cd "$src" && GIT_DIR=$git_dir nice dpkg-buildpackage -b -us -uc -nc)
deb=$(ls "$out"/ctrdns_*.deb)
echo "$deb"
