#!/usr/bin/env bats
# Real Podman (Debian 12's 4.3.1, rootful, crun, conmon, netavark 1.4) end to end with ctrdns, and
# the Debian package switching Podman to ctrdns and back. Everything runs in this file's sandbox
# (helpers.bash) with the adjustments Podman needs there (podman.bash, test-environment.md):
# private storage and run directories, cgroupfs, the host's v1 cgroup hierarchies without the
# hybrid v2 one, an image imported from Debian's busybox-static (no registry).
#
#   test                                                    network   subnet          server
#   1 name, alias and PTR between two containers; ctrdns    ctr1      10.89.91.0/24   ctrdns (helper dir)
#   2 compose recreate with a lost teardown x3; check --fix ctr1      10.89.91.0/24   ctrdns
#   3 the .deb: install, Podman spawns ctrdns; remove,      deb1      10.89.92.0/24   aardvark-dns ->
#     purge: back to aardvark-dns                                                     ctrdns -> aardvark
#
# The package comes from CTRDNS_DEB, else tools/build-deb.sh builds it (incremental; the first
# build compiles the release configuration). It is installed with dpkg into overlays on /usr, /etc
# and /var inside the sandbox's mount namespace, so the machine's own dpkg database and /usr never
# see it.

# The "host" resolver Podman copies into containers must not be a loopback address (Podman then
# writes public resolvers instead): an extra address on the sandbox's lo, where nothing listens.
export SANDBOX_RESOLVER=10.254.254.53

load helpers

setup_file() {
    sandbox_start || return 1
    [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]] && return 0
    require_tools podman crun conmon dpkg dpkg-deb "$NETAVARK" /usr/lib/podman/aardvark-dns \
        iptables || return 1
    export PODMAN_HELPERS=$BATS_TEST_DIRNAME/podman.bash
    # shellcheck source=tests/integration/podman.bash
    source "$PODMAN_HELPERS"
    pm_fetch_busybox || return 1
    pm_host_cgroup_mounts >"$SANDBOX_DIR/cgroup-mounts"
    if [[ -z ${CTRDNS_DEB:-} ]]; then
        CTRDNS_DEB=$("$CTRDNS_SOURCE_DIR/tools/build-deb.sh" 2>"$BATS_FILE_TMPDIR/build-deb.log" | tail -n 1) || {
            echo "FAIL: tools/build-deb.sh failed:" >&2
            tail -n 30 "$BATS_FILE_TMPDIR/build-deb.log" >&2
            return 1
        }
    fi
    [[ -f $CTRDNS_DEB ]] || {
        echo "FAIL: no package at CTRDNS_DEB=$CTRDNS_DEB" >&2
        return 1
    }
    export CTRDNS_DEB
    in_sandbox 'source "$PODMAN_HELPERS"; pm_sandbox_init'
}

teardown_file() {
    sandbox_stop
}

setup() {
    skip_if_disabled
}

# Runs a test body with podman.bash; what the body appends to $SANDBOX_DIR/report.txt is shown
# as TAP comments (the sandbox has no fd 3).
in_pm_sandbox() {
    local rc=0
    in_sandbox "source \"\$PODMAN_HELPERS\""$'\n'"$(cat)" || rc=$?
    if [[ -s $SANDBOX_DIR/report.txt ]]; then
        sed 's/^/# /' "$SANDBOX_DIR/report.txt" >&3
        : >"$SANDBOX_DIR/report.txt"
    fi
    return "$rc"
}

@test "Podman: two containers resolve each other by name, alias and PTR through the ctrdns netavark spawned" {
    in_pm_sandbox <<'EOF'
pm_use_helper_dir "$CTRDNS_BIN"
pm network create --subnet 10.89.91.0/24 ctr1 >/dev/null
pm run -d --name web --network ctr1 --network-alias www "$PM_IMAGE" sleep 600 >/dev/null
pm_pin_bridge_mac ctr1
pm run -d --name client --network ctr1 --network-alias cli "$PM_IMAGE" sleep 600 >/dev/null
web_ip=$(pm_ip web ctr1)
client_ip=$(pm_ip client ctr1)
assert_match "$web_ip" '^10\.89\.91\.[0-9]+$' "web's address"

# The server netavark started is ctrdns (Podman found it through helper_binaries_dir).
pid=$(pm_server_pid)
assert_eq "$(readlink "/proc/$pid/exe")" "$CTRDNS_BIN" "program of the DNS server (pid $pid)"
assert_eq "$(pm exec client sed -n 's/^nameserver //p' /etc/resolv.conf | head -n 1)" 10.89.91.1 "client's resolver"

pm_lookup client web
assert_eq "$PM_ADDRESSES" "$web_ip" "client: web"
pm_lookup client www.dns.podman
assert_eq "$PM_ADDRESSES" "$web_ip" "client: alias www.dns.podman"
pm_lookup web client
assert_eq "$PM_ADDRESSES" "$client_ip" "web: client"
pm_lookup web cli
assert_eq "$PM_ADDRESSES" "$client_ip" "web: alias cli"
pm_lookup client "$web_ip"
assert_match "$PM_NAMES" "(^| )web( |$)" "client: PTR of $web_ip"
pm_lookup web "$client_ip"
assert_match "$PM_NAMES" "(^| )client( |$)" "web: PTR of $client_ip"
EOF
}

@test "Podman: compose recreate with a lost teardown, three times: only the live address answers; check --fix cleans the file" {
    in_pm_sandbox <<'EOF'
pm_use_helper_dir "$CTRDNS_BIN"
file=/run/containers/networks/aardvark-dns/ctr1
server=$(pm_server_pid)
lost=()
for gen in 1 2 3; do
    pm run -d --name proj_app_1 --network ctr1 --network-alias app "$PM_IMAGE" sleep 600 >/dev/null
    lost+=("$(pm_ip proj_app_1 ctr1)")
    # The teardown is lost: conmon and the container die, their network namespace goes, and
    # Podman, unable to join it, never runs netavark teardown. Podman forgets the container.
    pm_lose_teardown proj_app_1
done
pm run -d --name proj_app_1 --network ctr1 --network-alias app "$PM_IMAGE" sleep 600 >/dev/null
live=$(pm_ip proj_app_1 ctr1)
echo "lost: ${lost[*]}; live: $live" >>"$SANDBOX_DIR/report.txt"

# netavark's file holds all four generations; the server is the same ctrdns.
assert_eq "$(grep -c ' proj_app_1,app,' "$file")" 4 "proj_app_1 lines in $file"
assert_eq "$(pm_server_pid)" "$server" "server pid"
for name in proj_app_1 app app.dns.podman; do
    pm_lookup client "$name"
    assert_eq "$PM_ADDRESSES" "$live" "client: $name"$'\n'"$PM_LOOKUP_OUT"
done

# check reports the three shadowed lines (exit 1); --fix (root: ARP probes) removes exactly them.
rc=0
out=$("$CTRDNS_BIN" check) || rc=$?
assert_eq "$rc" 1 "check exit status"$'\n'"$out"
assert_eq "$(grep -c '^ *STALE ' <<<"$out")" 3 "STALE lines"$'\n'"$out"
rc=0
out=$("$CTRDNS_BIN" check --fix) || rc=$?
printf '%s\n' "$out" >>"$SANDBOX_DIR/report.txt"
assert_eq "$rc" 0 "check --fix exit status"$'\n'"$out"
assert_contains "$out" "removed 3 stale lines"
assert_eq "$(grep -c ' proj_app_1,app,' "$file")" 1 "proj_app_1 lines after --fix"
grep -q " $live  proj_app_1,app," "$file" || fail "the live line is gone: $(cat "$file")"
for ip in "${lost[@]}"; do
    if grep -q " $ip " "$file"; then fail "lost address $ip still in $file"; fi
done
rc=0
out=$("$CTRDNS_BIN" check) || rc=$?
assert_eq "$rc" 0 "check after --fix"$'\n'"$out"
pm_lookup client app
assert_eq "$PM_ADDRESSES" "$live" "client: app after --fix"
EOF
}

@test "Debian package: installing it makes Podman spawn ctrdns (a running aardvark-dns is left alone); remove and purge give aardvark-dns back" {
    in_pm_sandbox <<'EOF'
pm_fresh_state           # no server of the earlier tests, no CONTAINERS_CONF: Podman's own config
pm_overlay_system        # dpkg writes only into overlays of /usr, /etc, /var
assert_file_absent /etc/containers/containers.conf.d/50-ctrdns.conf

# Before: Podman's default, aardvark-dns.
pm network create --subnet 10.89.92.0/24 deb1 >/dev/null
pm run -d --name before --network deb1 "$PM_IMAGE" sleep 600 >/dev/null
old=$(pm_server_pid)
assert_eq "$(readlink "/proc/$old/exe")" /usr/lib/podman/aardvark-dns "server before install"

# Install: the postinst says what happens and when, and stops nothing.
out=$(dpkg -i "$CTRDNS_DEB" 2>&1)
printf '%s\n' "$out" | grep '^ctrdns:' >>"$SANDBOX_DIR/report.txt"
assert_contains "$out" "from the next time"
assert_contains "$out" "pid $old runs /usr/lib/podman/aardvark-dns"
assert_eq "$(readlink /usr/lib/ctrdns/aardvark-dns)" ../../bin/ctrdns "aardvark-dns name"
assert_file_exists /etc/containers/containers.conf.d/50-ctrdns.conf
assert_file_exists /usr/share/man/man8/ctrdns.8.gz
assert_file_exists /usr/share/bash-completion/completions/ctrdns
process_alive "$old" || fail "installing the package stopped aardvark-dns (pid $old)"
pm_lookup before before
assert_eq "$PM_ADDRESSES" "$(pm_ip before deb1)" "aardvark-dns still answers after install"

# The switch happens at the next server start: the last container goes, aardvark-dns exits.
pm rm -f -t 0 before >/dev/null
wait_until 10 process_gone "$old" || fail "aardvark-dns did not exit after the last container"
pm run -d --name after --network deb1 --network-alias aft "$PM_IMAGE" sleep 600 >/dev/null
pm_pin_bridge_mac deb1
pm run -d --name peer --network deb1 "$PM_IMAGE" sleep 600 >/dev/null
new=$(pm_server_pid)
assert_eq "$(readlink "/proc/$new/exe")" /usr/bin/ctrdns "server after install"
pm_lookup peer aft
assert_eq "$PM_ADDRESSES" "$(pm_ip after deb1)" "ctrdns from the package answers"

# Remove: the conffile drop-in stays, /usr/lib/ctrdns/aardvark-dns goes, Podman finds
# /usr/lib/podman/aardvark-dns again at the next start; the running ctrdns is not stopped.
out=$(dpkg -r ctrdns 2>&1)
printf '%s\n' "$out" | grep '^ctrdns:' >>"$SANDBOX_DIR/report.txt"
assert_contains "$out" "goes back to /usr/lib/podman/aardvark-dns"
assert_file_absent /usr/lib/ctrdns/aardvark-dns
assert_file_exists /etc/containers/containers.conf.d/50-ctrdns.conf
process_alive "$new" || fail "removing the package stopped ctrdns (pid $new)"
pm rm -f -t 0 after peer >/dev/null
wait_until 10 process_gone "$new" || fail "ctrdns did not exit after the last container"
pm run -d --name again --network deb1 "$PM_IMAGE" sleep 600 >/dev/null
back=$(pm_server_pid)
assert_eq "$(readlink "/proc/$back/exe")" /usr/lib/podman/aardvark-dns "server after remove"
pm_lookup again again
assert_eq "$PM_ADDRESSES" "$(pm_ip again deb1)" "aardvark-dns answers after remove"

# Purge removes the drop-in too.
dpkg -P ctrdns >/dev/null 2>&1
assert_file_absent /etc/containers/containers.conf.d/50-ctrdns.conf
if dpkg -s ctrdns >/dev/null 2>&1; then fail "dpkg still lists ctrdns after purge"; fi
EOF
}
