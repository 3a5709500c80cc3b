# Real Podman inside a suite's sandbox (helpers.bash): what 900-podman.bats needs to run Debian
# 12's rootful Podman 4.3 there (the adjustments below, also listed in README "Tests"):
#  - private storage, run, tmp and network-config directories under the sandbox dir; no systemd,
#    so cgroupfs and the file events logger;
#  - cgroups: the sandbox mounts a fresh sysfs (for its network namespace), which has no cgroup
#    mounts; the host's v1 hierarchies are mounted again, but not the hybrid v2 one (crun 1.8
#    refuses hybrid mode), or cgroup2 alone on a pure v2 host;
#  - an image imported from a root filesystem holding Debian's busybox-static (no registry); the
#    .deb is downloaded once into /var/cache/ctrdns-test;
#  - /var/lib/containers (Podman's blob cache for root, not moved by --root) is a tmpfs.
# Depends on helpers.bash only. Functions named pm_*; bats-side ones say so.

PM_CACHE_DIR=${PM_CACHE_DIR:-/var/cache/ctrdns-test}
PM_DIR=${SANDBOX_DIR:-}/podman
PM_IMAGE=localhost/ctrdns-busybox:latest
# Podman refuses a run root longer than 50 characters; the sandbox's /run is a private tmpfs.
PM_RUN_DIR=/run/ctrdns-pm

# bats side: Debian's busybox-static .deb in the cache (downloaded with apt once).
pm_fetch_busybox() {
    mkdir -p "$PM_CACHE_DIR"
    if ! compgen -G "$PM_CACHE_DIR/busybox-static_*.deb" >/dev/null; then
        (cd "$PM_CACHE_DIR" && apt-get download busybox-static >/dev/null 2>&1) || {
            echo "FAIL: cannot download busybox-static into $PM_CACHE_DIR (apt-get download)" >&2
            return 1
        }
    fi
}

# bats side: the host's cgroup mounts under /sys/fs/cgroup, "MOUNTPOINT FSTYPE OPTIONS" per line.
pm_host_cgroup_mounts() {
    awk '{
        for (i = 7; $i != "-"; i++) {}
        fstype = $(i + 1); opts = $(i + 3)
        if ((fstype == "cgroup" || fstype == "cgroup2") && $5 ~ "^/sys/fs/cgroup")
            print $5, fstype, opts
    }' /proc/self/mountinfo
}

# sandbox side, once per suite: resolver address, cgroups, Podman's directories, the image.
pm_sandbox_init() {
    ip addr add "$SANDBOX_RESOLVER/32" dev lo
    pm_mount_cgroups
    mkdir -p /var/lib/containers
    mount -t tmpfs -o mode=700 tmpfs /var/lib/containers
    mkdir -p "$PM_DIR"/{root,networks,imgtmp} "$PM_RUN_DIR"/{runroot,tmp}
    pm_build_image
}

pm_mount_cgroups() {
    local mountpoint fstype opts
    if grep -q '^/sys/fs/cgroup cgroup2 ' "$SANDBOX_DIR/cgroup-mounts"; then
        mount -t cgroup2 cgroup2 /sys/fs/cgroup
        return
    fi
    mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
    while read -r mountpoint fstype opts; do
        # The hybrid layout's v2 hierarchy is what crun refuses; leave it out.
        [[ $fstype == cgroup ]] || continue
        opts=$(tr ',' '\n' <<<"$opts" | grep -vxE 'rw|ro' | paste -sd, -)
        mkdir -p "$mountpoint"
        mount -t cgroup -o "$opts" cgroup "$mountpoint"
    done <"$SANDBOX_DIR/cgroup-mounts"
    [[ -d /sys/fs/cgroup/memory || -d /sys/fs/cgroup/pids ]] || fail "no cgroup hierarchy mounted: $(cat "$SANDBOX_DIR/cgroup-mounts")"
}

# podman with the suite's private directories. CONTAINERS_CONF is set only by pm_use_helper_dir;
# without it Podman reads the system's containers.conf files (the Debian package's drop-in).
pm() {
    TMPDIR=$PM_DIR/imgtmp timeout 60 podman --root "$PM_DIR/root" --runroot "$PM_RUN_DIR/runroot" \
        --tmpdir "$PM_RUN_DIR/tmp" --network-config-dir "$PM_DIR/networks" \
        --cgroup-manager cgroupfs --events-backend file "$@"
}

pm_build_image() {
    local rootfs=$PM_DIR/rootfs applet
    mkdir -p "$rootfs"
    dpkg-deb -x "$(compgen -G "$PM_CACHE_DIR/busybox-static_*.deb" | tail -n 1)" "$rootfs"
    mkdir -p "$rootfs"/{etc,tmp,proc,sys,dev,run}
    for applet in sh nslookup sleep cat sed head grep; do
        ln -sf busybox "$rootfs/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\n' >"$rootfs/etc/group"
    tar -C "$rootfs" -cf "$PM_DIR/rootfs.tar" .
    pm import "$PM_DIR/rootfs.tar" "$PM_IMAGE" >/dev/null
}

# pm_use_helper_dir BINARY: Podman finds BINARY as its aardvark-dns (first in helper_binaries_dir).
pm_use_helper_dir() {
    mkdir -p "$PM_DIR/helpers"
    ln -sfn "$1" "$PM_DIR/helpers/aardvark-dns"
    printf '[engine]\nhelper_binaries_dir = ["%s", "/usr/lib/podman"]\n' "$PM_DIR/helpers" \
        >"$PM_DIR/containers.conf"
    export CONTAINERS_CONF=$PM_DIR/containers.conf
}

# pm_ip CONTAINER NETWORK: its IPv4 address on NETWORK.
pm_ip() {
    pm inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

# pm_pin_bridge_mac NETWORK: pins the network's bridge MAC (bridge_pin_mac, helpers.bash).
pm_pin_bridge_mac() {
    bridge_pin_mac "$(pm network inspect -f '{{.NetworkInterface}}' "$1")"
}

# The pid of the DNS server netavark started for rootful Podman (waits up to 5 s for the file).
pm_server_pid() {
    local file=/run/containers/networks/aardvark-dns/aardvark.pid pid
    wait_until 5 test -s "$file" || fail "no $file"
    pid=$(tr -cd 0-9 <"$file")
    process_alive "$pid" || fail "server pid $pid (from $file) is not running"
    printf '%s' "$pid"
}

# pm_lookup CONTAINER NAME-OR-ADDRESS: busybox nslookup in CONTAINER (its resolv.conf, i.e. the
# network's DNS server). Sets PM_ADDRESSES (answered addresses, sorted, space separated),
# PM_NAMES (PTR names), PM_LOOKUP_OUT.
pm_lookup() {
    PM_LOOKUP_OUT=$(pm exec "$1" nslookup "$2" 2>&1) || true
    PM_ADDRESSES=$(awk '/^Name:/ {n = 1} n && /^Address: / {print $2}' <<<"$PM_LOOKUP_OUT" | sort -V | paste -sd' ' -)
    PM_NAMES=$(sed -n 's/.*[[:space:]]name = //p' <<<"$PM_LOOKUP_OUT" | sed 's/\.$//' | paste -sd' ' -)
}

# pm_lose_teardown CONTAINER: conmon and the container's process are killed and its network
# namespace removed, so Podman cannot join it and never runs `netavark teardown`; then Podman
# forgets the container. Its line stays in netavark's file: the lost teardown of a crash.
pm_lose_teardown() {
    local name=$1 conmon pid netns
    conmon=$(pm inspect -f '{{.State.ConmonPid}}' "$name")
    pid=$(pm inspect -f '{{.State.Pid}}' "$name")
    netns=$(pm inspect -f '{{.NetworkSettings.SandboxKey}}' "$name")
    [[ $conmon =~ ^[0-9]+$ && $pid =~ ^[0-9]+$ && $netns == /run/netns/* ]] ||
        fail "cannot inspect $name: conmon '$conmon' pid '$pid' netns '$netns'"
    kill -KILL "$conmon" "$pid"
    wait_until 5 process_gone "$pid" || fail "container process $pid of $name did not die"
    umount "$netns" 2>/dev/null || true
    rm -f "$netns"
    # The first rm can find the container mid-transition ("could not be stopped ... state
    # improper: stopped"); the next one removes the stopped container.
    local try
    for try in 1 2 3; do
        pm rm -f -t 0 "$name" >>"$SANDBOX_DIR/logs/lose-teardown-$name.log" 2>&1 && break
        sleep 0.2
    done
    if pm container exists "$name"; then
        fail "podman still knows $name: $(cat "$SANDBOX_DIR/logs/lose-teardown-$name.log")"
    fi
}

# Every container gone, the suite's networks removed, no DNS server left running.
pm_fresh_state() {
    local file=/run/containers/networks/aardvark-dns/aardvark.pid pid= net
    [[ -s $file ]] && pid=$(tr -cd 0-9 <"$file")
    pm rm -a -f -t 0 >/dev/null 2>&1 || true
    for net in $(pm network ls -q); do
        [[ $net == podman ]] || pm network rm -f "$net" >/dev/null 2>&1 || true
    done
    if [[ -n $pid ]] && ! wait_until 5 process_gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf /run/containers/networks/aardvark-dns
    unset CONTAINERS_CONF
}

# Overlays (upper layers on a tmpfs) on /usr, /etc and /var, so dpkg installs into this mount
# namespace only; /etc/resolv.conf is bound again over the overlay.
pm_overlay_system() {
    local dir base=$PM_DIR/overlay target
    mkdir -p "$base"
    mount -t tmpfs -o mode=755 tmpfs "$base"
    for dir in /usr /etc /var; do
        mkdir -p "$base$dir"/{upper,work}
        mount -t overlay overlay -o "lowerdir=$dir,upperdir=$base$dir/upper,workdir=$base$dir/work" "$dir"
    done
    target=$(readlink -f /etc/resolv.conf || echo /etc/resolv.conf)
    mount --bind "$SANDBOX_DIR/resolv.conf" "$target"
    grep -q "^nameserver $SANDBOX_RESOLVER\$" /etc/resolv.conf || fail "resolv.conf not the sandbox's after the overlay"
}
