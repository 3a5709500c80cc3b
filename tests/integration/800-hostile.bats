#!/usr/bin/env bats
# Hostile input (issue 8, docs/security.md), black box, written as an attacker would:
#
#   1 check --fix in a directory owned by an unprivileged user (uid 65534) who planted symlinks
#     for every plausible temporary name: nothing outside changes; owner and mode kept; the
#     missing lock is created with the directory owner's ownership; a planted lock symlink and a
#     symlinked network file are refused
#   2 a teardown writer paused mid-file while --fix runs: no live line lost
#   3 a failed start (port taken) leaves no aardvark.pid; a start race keeps the winner's pid
#   4 upstreams on 127.0.80.53 and .54 (tests/integration/hostile_upstream.py): an 8 KiB UDP
#     answer, an answer with QDCOUNT 0, ECS queries, a CNAME chain ending in NXDOMAIN
#   5 queries: EDNS version 1 (BADVERS), QDCOUNT 2 (FORMERR)
#
# Every process a test starts is recorded by pid and stopped by pid.

load helpers

setup_file() {
    sandbox_start
}

teardown_file() {
    sandbox_stop
}

setup() {
    skip_if_disabled
}

@test "check --fix in a user-owned directory full of planted symlinks: nothing outside changes; owner, mode and lock ownership kept" {
    in_sandbox <<'EOF'
as_user() { setpriv --reuid 65534 --regid 65534 --clear-groups -- "$@"; }
# Under the sandbox's private /run, like rootless Podman's /run/user/UID (the bats temporary
# directories are not traversable by another user).
root=/run/hostile-user/networks
rm -rf /run/hostile-user
mkdir -p /run/hostile-user
chown 65534:65534 /run/hostile-user
mkdir -p "$root/aardvark-dns"
chown 65534:65534 "$root" "$root/aardvark-dns"
chmod 0700 "$root" "$root/aardvark-dns"
dir=$root/aardvark-dns
A=$(hex_id a) B=$(hex_id b)
as_user sh -c "printf '%s\n' '127.0.81.1' '$A 127.0.81.2  app' '$B 127.0.81.3  live1' '$A 127.0.81.4  app' >'$dir/net'"
as_user chmod 0640 "$dir/net"

# Victims outside the directory, root's, with known content, mode and owner.
victim=/run/victim
printf 'precious\n' >"$victim"
chmod 0600 "$victim"
victim_before=$(stat -c '%u:%g %a %s %Y' "$victim")

# The user plants symlinks to the victim for every temporary name it can guess: the old
# `.net.ctrdns-tmp.PID` for every pid this pid namespace can reach soon, and other patterns.
as_user /usr/bin/python3 - "$dir" "$victim" <<'PY'
import os, sys
directory, victim = sys.argv[1], sys.argv[2]
names = [f".net.ctrdns-tmp.{pid}" for pid in range(1, 20001)]
names += [".net.ctrdns-tmp", ".net.tmp", "net.tmp", "net~", ".net.swp", "net.new"]
for name in names:
    os.symlink(victim, os.path.join(directory, name))
# The lock file is also missing: root must create it, owned by the directory's owner.
PY
planted=$(find "$dir" -maxdepth 1 -type l | wc -l)
assert_eq "$planted" 20006 "symlinks planted"

rc=0
out=$("$CTRDNS_BIN" check --config "$dir" --fix 2>&1) || rc=$?
assert_eq "$rc" 0 "check --fix exit status ($out)"
assert_contains "$out" "removed 1 stale line" "fix output"
assert_eq "$(stat -c '%u:%g %a %s %Y' "$victim")" "$victim_before" "victim after --fix"
assert_eq "$(cat "$victim")" "precious" "victim content"
assert_eq "$(stat -c '%u:%g %a' "$dir/net")" "65534:65534 640" "network file owner and mode"
assert_eq "$(cat "$dir/net")" "127.0.81.1
$B 127.0.81.3  live1
$A 127.0.81.4  app" "repaired file"
assert_eq "$(stat -c '%F %u:%g %a' "$root/aardvark.lock")" "regular empty file 65534:65534 644" "lock created for the owner"
# Only the user's own symlinks remain besides the file: no temporary file left behind.
assert_eq "$(find "$dir" -maxdepth 1 ! -type l ! -path "$dir" | wc -l)" 1 "regular files left"
assert_eq "$(find "$dir" -maxdepth 1 -type l | wc -l)" 20006 "symlinks left untouched"
# The user can still write and lock (rootless netavark).
as_user flock "$root/aardvark.lock" sh -c "printf '%s\n' '$(hex_id c) 127.0.81.5  live2' >>'$dir/net'" ||
    fail "the owner can no longer lock or append"

# A network file that is itself a symlink to the victim: refused, victim untouched.
as_user sh -c "cp '$dir/net' '$dir/real' && ln -s '$victim' '$dir/net2'"
rc=0
out=$("$CTRDNS_BIN" check --config "$dir" --fix 2>&1) || rc=$?
assert_eq "$(stat -c '%u:%g %a %s %Y' "$victim")" "$victim_before" "victim after a symlinked network file"

# A planted lock symlink is never followed (nor created through).
rm -f "$root/aardvark.lock" "$dir/net2"
as_user ln -s /run/lock-victim "$root/aardvark.lock"
rc=0
out=$("$CTRDNS_BIN" check --config "$dir" --fix 2>&1) || rc=$?
assert_eq "$rc" 2 "check --fix with a planted lock symlink"
assert_contains "$out" "aardvark.lock is a symbolic link" "refusal"
assert_file_absent /run/lock-victim

# A directory others may write to without the sticky bit: refused, file untouched.
rm -f "$root/aardvark.lock"
chmod 0777 "$dir"
before=$(cat "$dir/net")
rc=0
out=$("$CTRDNS_BIN" check --config "$dir" --fix 2>&1) || rc=$?
assert_eq "$rc" 2 "check --fix in a world-writable directory"
assert_contains "$out" "without the sticky bit" "refusal"
assert_eq "$(cat "$dir/net")" "$before" "file in the world-writable directory"
EOF
}

@test "a teardown writer paused mid-file while check --fix runs: no live line lost" {
    in_sandbox <<'EOF'
dir=$(new_config_dir teardown-race)
A=$(hex_id ta) B=$(hex_id tb) C=$(hex_id tc) D=$(hex_id td) E=$(hex_id te)
write_lines "$dir/net" 127.0.82.1 "$A 127.0.82.2  app" "$B 127.0.82.3  live1" "$A 127.0.82.4  app" \
    "$C 127.0.82.5  live2" "$D 127.0.82.6  gone" "$E 127.0.82.7  live3"
# netavark's teardown of container D: read, truncate (File::create), write line by line without
# the lock, here paused for 1.5 s after the first three lines.
python3 - "$dir/net" "$D" "$SANDBOX_DIR/writer-paused" <<'PY' &
import sys, time
path, gone, flag = sys.argv[1:4]
lines = [l for l in open(path).read().splitlines(keepends=True) if gone not in l]
with open(path, "w") as out:
    for i, line in enumerate(lines):
        out.write(line)
        out.flush()
        if i == 2:
            open(flag, "w").close()
            time.sleep(1.5)
PY
writer=$!
wait_until 5 test -e "$SANDBOX_DIR/writer-paused" || fail "writer did not start"
rc=0
out=$("$CTRDNS_BIN" check --config "$dir" --fix 2>&1) || rc=$?
wait "$writer" || fail "writer failed"
assert_eq "$rc" 0 "check --fix exit status ($out)"
assert_contains "$out" "removed 1 stale line" "fix output"
assert_eq "$(cat "$dir/net")" "127.0.82.1
$B 127.0.82.3  live1
$A 127.0.82.4  app
$C 127.0.82.5  live2
$E 127.0.82.7  live3" "file after the teardown and the repair"
EOF
}

@test "a failed start (port taken) leaves no aardvark.pid; a lost start race gives the pid file back to the winner" {
    in_sandbox <<'EOF'
bg_start socat-udp socat -u UDP4-LISTEN:5381,bind=127.0.83.1 /dev/null
wait_until 5 eval 'ss -Hlnu "sport = :5381" | grep -q 5381' || fail "socat did not bind"
d=$(new_config_dir port-taken)
write_lines "$d/net1" 127.0.83.1 "$(hex_id p1) 127.0.83.2  alpha"
rc=0
err=$("$CTRDNS_BIN" --config "$d" -p 5381 run 2>&1 >/dev/null) || rc=$?
assert_eq "$rc" 1 "run exit status"
assert_contains "$err" "failed to bind udp listener on 127.0.83.1:5381" "stderr"
assert_file_absent "$d/aardvark.pid"
bg_stop socat-udp

# Same directory, two starts: the second fails to bind and must not leave its own dead pid.
"$CTRDNS_BIN" --config "$d" -p 5382 run
first=$(read_pid_file "$d")
process_alive "$first" || fail "first daemon not running"
rc=0
"$CTRDNS_BIN" --config "$d" -p 5382 run 2>/dev/null || rc=$?
assert_eq "$rc" 1 "second start exit status"
assert_eq "$(read_pid_file "$d")" "$first" "pid file after the lost race"
stop_daemon "$d"
assert_file_absent "$d/aardvark.pid"
EOF
}

# The daemon and the fake upstreams for the DNS edge tests; idempotent per test. Queries come
# from 127.0.80.2, the container hone, so the network's servers are its upstreams.
hostile_dns_up='
hx_up() {
    HX_DIR=$SANDBOX_DIR/cfg-hostile-dns
    HX_LOG=$SANDBOX_DIR/logs/hostile-upstream.queries
    if [[ ! -e $SANDBOX_DIR/pids/hostile-upstream ]]; then
        : >"$HX_LOG"
        bg_start hostile-upstream python3 "$CTRDNS_SOURCE_DIR/tests/integration/hostile_upstream.py" \
            "$HX_LOG" 127.0.80.53 127.0.80.54
        wait_until 5 grep -q ready "$HX_LOG" || fail "fake upstream did not start"
    fi
    if [[ ! -e $HX_DIR/aardvark.pid ]]; then
        mkdir -p "$HX_DIR"
        write_lines "$HX_DIR/net" "127.0.80.1 127.0.80.53,127.0.80.54" "$(hex_id h1) 127.0.80.2  hone"
        "$CTRDNS_BIN" --config "$HX_DIR" -p 5380 run || fail "daemon did not start"
    fi
}
hx_count() { grep -c " $1 " "$HX_LOG" || true; } # queries the upstreams saw for QNAME
'

@test "an upstream answering 8 KiB over UDP: the client gets TC, then the whole answer over TCP; the upstream is not marked down" {
    in_sandbox <<EOF
$hostile_dns_up
hx_up
dq @127.0.80.1 -p 5380 -b 127.0.80.2 +ignore big.hostile.test
expect_status NOERROR
[[ \$DQ_FLAGS == *tc* ]] || fail "no TC on the oversized answer: \$(dq_context)"
dq @127.0.80.1 -p 5380 -b 127.0.80.2 big.hostile.test
expect_status NOERROR
expect_answer_count 520
# The same upstream still comes first: nothing went to the second one.
assert_eq "\$(grep -c '^127.0.80.54 ' "\$HX_LOG" || true)" 0 "queries to the second upstream"
EOF
}

@test "a relayed upstream reply with QDCOUNT 0 is rejected: the next upstream answers" {
    in_sandbox <<EOF
$hostile_dns_up
hx_up
dq @127.0.80.1 -p 5380 -b 127.0.80.2 noq.hostile.test
expect_status NOERROR
expect_answer "noq.hostile.test. 60 IN A 192.0.2.80"
expect_no_answer_with "192.0.2.66"
EOF
}

@test "ECS queries are never cached; plain ones are; a CNAME chain ending in NXDOMAIN is cached only for the chain's TTL" {
    in_sandbox <<EOF
$hostile_dns_up
hx_up
for i in 1 2 3; do
    dq @127.0.80.1 -p 5380 -b 127.0.80.2 +subnet=10.1.\$i.0/24 ecs.hostile.test
    expect_status NOERROR
done
assert_eq "\$(hx_count ecs.hostile.test)" 3 "upstream queries for ECS queries"
for i in 1 2 3; do
    dq @127.0.80.1 -p 5380 -b 127.0.80.2 plain.hostile.test
    expect_status NOERROR
done
assert_eq "\$(hx_count plain.hostile.test)" 1 "upstream queries for plain queries"

dq @127.0.80.1 -p 5380 -b 127.0.80.2 cnamenx.hostile.test
expect_status NXDOMAIN
dq @127.0.80.1 -p 5380 -b 127.0.80.2 cnamenx.hostile.test
assert_eq "\$(hx_count cnamenx.hostile.test)" 1 "cached within the CNAME's TTL"
sleep 2.2
dq @127.0.80.1 -p 5380 -b 127.0.80.2 cnamenx.hostile.test
expect_status NXDOMAIN
assert_eq "\$(hx_count cnamenx.hostile.test)" 2 "asked again once the CNAME (TTL 1) expired, not after 300 s"
EOF
}

@test "EDNS version 1 gets BADVERS (local and forwarded names, nothing forwarded); QDCOUNT 2 gets FORMERR" {
    in_sandbox <<EOF
$hostile_dns_up
hx_up
dq @127.0.80.1 -p 5380 -b 127.0.80.2 +edns=1 +noednsnegotiation hone.dns.podman
expect_status BADVERS
assert_match "\$DQ_OUT" "EDNS: version: 0" "OPT in the reply"
dq @127.0.80.1 -p 5380 -b 127.0.80.2 +edns=1 +noednsnegotiation v1.hostile.test
expect_status BADVERS
assert_eq "\$(hx_count v1.hostile.test)" 0 "forwarded with an unknown EDNS version"
dq @127.0.80.1 -p 5380 -b 127.0.80.2 +edns=0 hone.dns.podman
expect_status NOERROR

# Two questions (hone.dns.podman A twice), raw over UDP.
q=\$(dns_query_hex 4660 hone.dns.podman 1)
two=\${q:0:8}0002\${q:12:12}\${q:24}\${q:24}
reply=\$(hex_to_bytes "\$two" | timeout 5 socat -t 2 - UDP:127.0.80.1:5380 | od -An -v -tx1 | tr -d ' \n')
assert_eq "\${reply:0:4}" 1234 "reply id"
assert_eq "\$((0x\${reply:7:1}))" 1 "rcode (FORMERR)"
assert_eq "\${reply:12:4}" 0000 "ANCOUNT"
EOF
}
