#!/usr/bin/env bash
# fetch-netavark.sh: a real newer netavark (and its aardvark-dns, as a peer to compare with) from
# a newer Debian release, without touching the system's apt state or installing anything.
#
#   tools/fetch-netavark.sh [SUITE]          SUITE: trixie (default; stable, for tests) or sid
#
# A private apt configuration (sources.list naming SUITE on the same mirror as the system's own
# sources, private lists and cache dirs) downloads netavark, aardvark-dns, libc6 and libgcc-s1;
# each .deb is unpacked with dpkg-deb -x. netavark needs a newer glibc than the system's, so the
# wrapper CACHE/SUITE/bin/netavark runs it through that release's own loader. The programs it
# starts (the DNS server, nft, iptables) run with the system's libraries as usual.
#
# Cache: $CTRDNS_TEST_CACHE (default /var/cache/ctrdns-test)/SUITE. A complete cache is reused
# without any network access, so reruns are fast and work offline.
# Prints the wrapper's path on stdout. Exit status: 0 ready; 3 the archive could not be reached
# (callers skip); 1 anything else (a real failure).
set -euo pipefail

suite=${1:-trixie}
case $suite in
trixie | sid | unstable | testing) ;;
*)
    echo "fetch-netavark: unknown suite '$suite'" >&2
    exit 1
    ;;
esac
cache=${CTRDNS_TEST_CACHE:-/var/cache/ctrdns-test}/$suite
wrapper=$cache/bin/netavark
packages=(netavark aardvark-dns libc6 libgcc-s1)

if [[ -x $wrapper && -e $cache/complete ]]; then
    printf '%s\n' "$wrapper"
    exit 0
fi

# The system's own Debian mirror: the first http(s) URI of the main archive in its sources
# (deb822 .sources files or a one-line sources.list). No host is named here.
system_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -e $f ]] || continue
        awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -e $f ]] || continue
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' "$f"
    done
}
mirror=$(system_mirror | grep -E '^https?://' | grep -v -- '-security' | grep -E '/debian/?$' | head -n 1 || true)
if [[ -z $mirror ]]; then
    echo "fetch-netavark: no Debian mirror found in the system's apt sources" >&2
    exit 3
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
printf 'deb %s %s main\n' "$mirror" "$suite" >"$work/sources.list"
apt_opts=(-q -o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
    -o Debug::NoLocking=1 -o APT::Sandbox::User=root)

if ! timeout 300 apt-get "${apt_opts[@]}" update >"$work/update.log" 2>&1 ||
    grep -qE '^(W|E): (Failed to fetch|Some index files failed)' "$work/update.log"; then
    echo "fetch-netavark: the archive for '$suite' cannot be reached:" >&2
    tail -n 5 "$work/update.log" >&2
    exit 3
fi
if ! (cd "$work/debs" && timeout 300 apt-get "${apt_opts[@]}" download "${packages[@]}") >"$work/download.log" 2>&1; then
    if grep -qE 'Failed to fetch|Could not resolve|Temporary failure|Connection' "$work/download.log"; then
        echo "fetch-netavark: downloading from the '$suite' archive failed:" >&2
        tail -n 5 "$work/download.log" >&2
        exit 3
    fi
    echo "fetch-netavark: apt-get download failed:" >&2
    cat "$work/download.log" >&2
    exit 1
fi

root=$work/root
mkdir -p "$root"
for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$root"
done
libdir=usr/lib/x86_64-linux-gnu
# netavark and aardvark-dns live in /usr/libexec/podman in newer packages, /usr/lib/podman before.
program_path() {
    local dir
    for dir in usr/libexec/podman usr/lib/podman; do
        if [[ -x $1/$dir/$2 ]]; then
            printf '%s' "$dir/$2"
            return 0
        fi
    done
    return 1
}
for prog in netavark aardvark-dns; do
    program_path "$root" "$prog" >/dev/null || {
        echo "fetch-netavark: $prog is missing from the unpacked packages" >&2
        exit 1
    }
done
[[ -e $root/$libdir/ld-linux-x86-64.so.2 ]] || {
    echo "fetch-netavark: the loader is missing from the unpacked libc6" >&2
    exit 1
}

# Replace the previous cache only once the new one is whole.
rm -rf "${cache:?}/root" "${cache:?}/bin" "${cache:?}/complete"
mv "$root" "$cache/root"
(cd "$work/debs" && ls) >"$cache/packages"
mkdir -p "$cache/bin"
for prog in netavark aardvark-dns; do
    path=$cache/root/$(program_path "$cache/root" "$prog")
    cat >"$cache/bin/$prog" <<EOF
#!/bin/sh
exec "$cache/root/$libdir/ld-linux-x86-64.so.2" --library-path "$cache/root/$libdir" "$path" "\$@"
EOF
    chmod 755 "$cache/bin/$prog"
done
"$wrapper" --version >"$cache/version" 2>&1 || {
    echo "fetch-netavark: the unpacked netavark does not run:" >&2
    cat "$cache/version" >&2
    exit 1
}
touch "$cache/complete"
printf '%s\n' "$wrapper"
