#!/usr/bin/env bats
# The process contract netavark relies on (contract §1, §2.1, §2.3, §8), with the daemon started
# directly as netavark starts it: `$CTRDNS_BIN --config DIR -p PORT run`. Gateways are
# loopback addresses of the sandbox (127.0.N.1); every test uses its own addresses and port and
# stops its daemons by PID.

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

@test "pid file holds the daemon's pid in decimal, no newline; argv is kept" {
    in_sandbox <<'EOF'
d=$(new_config_dir pidfile)
write_lines "$d/net1" 127.0.11.1 "id1 127.0.11.2  alpha"
rc=0
"$CTRDNS_BIN" --config "$d" -p 5311 run || rc=$?
assert_eq "$rc" 0 "run exit status"
pid=$(read_pid_file "$d")
assert_match "$pid" '^[1-9][0-9]*$' "aardvark.pid content (exact bytes)"
assert_eq "$(wc -c <"$d/aardvark.pid")" "${#pid}" "aardvark.pid size"
# Exactly one process serves this config dir, and it is the one named in the pid file.
assert_eq "$(pids_with_cmdline "--config $d ")" "$pid" "daemon pid"
assert_eq "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "$CTRDNS_BIN --config $d -p 5311 run " "cmdline"
assert_match "$(ps -o args= -p "$pid")" ".*$(basename "$CTRDNS_BIN") --config $d -p 5311 run\$" "ps args"
# Daemonized: its own session, not attached to the caller.
assert_eq "$(ps -o sid= -p "$pid" | tr -d ' ')" "$pid" "session id"
stop_daemon "$d"
EOF
}

@test "the caller's fd 9 is not inherited, /dev/null is on 0,1,2, the caller's stderr pipe is released" {
    in_sandbox <<'EOF'
d=$(new_config_dir fds)
write_lines "$d/net1" 127.0.12.1 "id1 127.0.12.2  alpha"
echo marker >"$SANDBOX_DIR/fd9-marker"
# stdout and stderr are pipes read to EOF by $(...), exactly like netavark's Command::output():
# this only returns when the daemon no longer holds them.
rc=0
out=$(timeout 10 "$CTRDNS_BIN" --config "$d" -p 5312 run 9<"$SANDBOX_DIR/fd9-marker" 2>&1) || rc=$?
assert_eq "$rc" 0 "run exit status (124 = daemon kept the caller's stderr pipe)"
assert_eq "$out" "" "run output"
pid=$(read_pid_file "$d")
for fd in 0 1 2; do
    assert_eq "$(readlink "/proc/$pid/fd/$fd")" /dev/null "fd $fd"
done
# The daemon may reuse the number 9 for a socket of its own; what must not be there is the
# caller's open file description.
for f in /proc/$pid/fd/*; do
    [[ $(readlink "$f") != *fd9-marker* ]] || fail "the caller's file is open as $f"
done
stop_daemon "$d"
EOF
}

@test "the parent exits 0 only once every socket is bound: an immediate query is answered" {
    in_sandbox <<'EOF'
d=$(new_config_dir ready)
for n in 1 2 3 4; do
    write_lines "$d/net$n" "127.0.13.$n" "id$n 127.0.14.$n  name$n"
done
for round in 1 2 3; do
    rc=0
    "$CTRDNS_BIN" --config "$d" -p 5313 run || rc=$?
    assert_eq "$rc" 0 "run exit status"
    # No sleep, no retry: the first datagram and the first connect must succeed.
    dq @127.0.13.4 -p 5313 name4.dns.podman
    expect_status NOERROR
    expect_answer "name4.dns.podman. 0 IN A 127.0.14.4"
    dq @127.0.13.3 -p 5313 +tcp name3
    expect_answer "name3. 0 IN A 127.0.14.3"
    stop_daemon "$d"
done
EOF
}

@test "empty config directory: exit 1, 'Error from child process', no pid file left" {
    in_sandbox <<'EOF'
d=$(new_config_dir empty)
rc=0
err=$("$CTRDNS_BIN" --config "$d" -p 5314 run 2>&1 >/dev/null) || rc=$?
assert_eq "$rc" 1 "run exit status"
assert_contains "$err" "Error from child process" "stderr"
assert_file_absent "$d/aardvark.pid"
assert_eq "$(pids_with_cmdline "--config $d ")" "" "processes left"
# Only invalid files count as empty too.
write_lines "$d/bad" "not-an-ip"
rc=0
err=$("$CTRDNS_BIN" --config "$d" -p 5314 run 2>&1 >/dev/null) || rc=$?
assert_eq "$rc" 1 "run exit status with only an invalid file"
assert_contains "$err" "Error from child process" "stderr"
assert_file_absent "$d/aardvark.pid"
# A missing directory fails too.
rc=0
"$CTRDNS_BIN" --config "$d/missing" -p 5314 run 2>/dev/null || rc=$?
assert_eq "$rc" 1 "run exit status with a missing config dir"
EOF
}

@test "bind failure (port held by socat, or by a second instance): exit 1, 'failed to bind udp listener on ip:port'" {
    in_sandbox <<'EOF'
# socat holds the UDP wildcard address on the port.
bg_start socat-udp socat -u UDP4-LISTEN:5315 /dev/null
wait_until 5 eval 'ss -Hlnu "sport = :5315" | grep -q 5315' || fail "socat did not bind"
d=$(new_config_dir bind-socat)
write_lines "$d/net1" 127.0.15.1 "id1 127.0.15.2  alpha"
rc=0
err=$("$CTRDNS_BIN" --config "$d" -p 5315 run 2>&1 >/dev/null) || rc=$?
assert_eq "$rc" 1 "run exit status"
assert_contains "$err" "failed to bind udp listener on 127.0.15.1:5315" "stderr"
assert_contains "$err" "Error from child process" "stderr"
assert_eq "$(pids_with_cmdline "--config $d ")" "" "processes left"
bg_stop socat-udp

# Same for TCP: socat holds the TCP wildcard address.
bg_start socat-tcp socat -u TCP4-LISTEN:5316 /dev/null
wait_until 5 eval 'ss -Hlnt "sport = :5316" | grep -q 5316' || fail "socat did not listen"
d=$(new_config_dir bind-socat-tcp)
write_lines "$d/net1" 127.0.15.1 "id1 127.0.15.2  alpha"
rc=0
err=$("$CTRDNS_BIN" --config "$d" -p 5316 run 2>&1 >/dev/null) || rc=$?
assert_eq "$rc" 1 "run exit status (tcp)"
assert_contains "$err" "failed to bind tcp listener on 127.0.15.1:5316" "stderr"
bg_stop socat-tcp

# A second instance on the same gateway and port.
d1=$(new_config_dir bind-first)
d2=$(new_config_dir bind-second)
write_lines "$d1/net1" 127.0.16.1 "id1 127.0.16.2  first"
write_lines "$d2/net1" 127.0.16.1 "id2 127.0.16.3  second"
"$CTRDNS_BIN" --config "$d1" -p 5317 run
first=$(read_pid_file "$d1")
rc=0
err=$("$CTRDNS_BIN" --config "$d2" -p 5317 run 2>&1 >/dev/null) || rc=$?
assert_eq "$rc" 1 "second instance exit status"
assert_contains "$err" "failed to bind udp listener on 127.0.16.1:5317" "stderr"
process_alive "$first" || fail "the first instance died"
dq @127.0.16.1 -p 5317 first.dns.podman
expect_answer "first.dns.podman. 0 IN A 127.0.16.2"
stop_daemon "$d1"
EOF
}

@test "usage errors exit 2: options after 'run', no subcommand, unknown option, bad port" {
    in_sandbox <<'EOF'
d=$(new_config_dir usage)
write_lines "$d/net1" 127.0.17.1 "id1 127.0.17.2  alpha"
check_usage() {
    local rc=0 err
    err=$("$CTRDNS_BIN" "$@" 2>&1 >/dev/null) || rc=$?
    assert_eq "$rc" 2 "exit status of: ctrdns $*"
    [[ -n $err ]] || fail "no message on stderr for: ctrdns $*"
}
check_usage run --config "$d" -p 5318
check_usage run -p 5318
check_usage --config "$d" -p 5318
check_usage --config "$d" --no-such-option run
check_usage --config "$d" -p 70000 run
check_usage --config "$d" -p notaport run
assert_file_absent "$d/aardvark.pid"
assert_eq "$(pids_with_cmdline "--config $d ")" "" "processes started"
EOF
}

@test "'version' prints aardvark's JSON layout; --version and -V print the same version" {
    in_sandbox <<'EOF'
rc=0
out=$("$CTRDNS_BIN" version) || rc=$?
assert_eq "$rc" 0 "version exit status"
re='^\{'$'\n''  "version": "[0-9]+\.[0-9]+\.[0-9]+[^"]*",'$'\n''  "commit": "[0-9a-f]*",'$'\n''  "build_time": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[^"]*",'$'\n''  "target": "[^"]+"'$'\n''\}$'
assert_match "$out" "$re" "version output"
assert_eq "$(jq -c 'keys_unsorted' <<<"$out")" '["version","commit","build_time","target"]' "keys"
# Exactly one newline after the closing brace.
assert_eq "$("$CTRDNS_BIN" version | tail -c 2 | od -An -c | tr -d ' ')" '}\n' "last bytes"
version=$(jq -r .version <<<"$out")
for flag in --version -V; do
    rc=0
    line=$("$CTRDNS_BIN" "$flag") || rc=$?
    assert_eq "$rc" 0 "$flag exit status"
    assert_match "$line" "^(ctrdns|aardvark-dns) ${version//./\\.}\$" "$flag output"
    assert_eq "$("$CTRDNS_BIN" "$flag" | wc -l)" 1 "$flag line count"
done
EOF
}

@test "installed as a symlink named aardvark-dns it works the same" {
    in_sandbox <<'EOF'
mkdir -p "$SANDBOX_DIR/libexec"
ln -sf "$CTRDNS_BIN" "$SANDBOX_DIR/libexec/aardvark-dns"
bin=$SANDBOX_DIR/libexec/aardvark-dns
assert_eq "$("$bin" version)" "$("$CTRDNS_BIN" version)" "version via the symlink"
d=$(new_config_dir symlink)
write_lines "$d/net1" 127.0.18.1 "id1 127.0.18.2  alpha,al"
rc=0
"$bin" --config "$d" -p 5319 run || rc=$?
assert_eq "$rc" 0 "run exit status"
pid=$(read_pid_file "$d")
assert_match "$(ps -o args= -p "$pid")" ".*aardvark-dns --config $d -p 5319 run\$" "ps args"
dq @127.0.18.1 -p 5319 al.dns.podman
expect_answer "al.dns.podman. 0 IN A 127.0.18.2"
dq @127.0.18.1 -p 5319 +tcp alpha
expect_answer "alpha. 0 IN A 127.0.18.2"
stop_daemon "$d"
EOF
}

@test "SIGHUP adds a new network's listener and names without a restart (same pid)" {
    in_sandbox <<'EOF'
d=$(new_config_dir reload)
write_lines "$d/net1" 127.0.19.1 "id1 127.0.19.2  old"
"$CTRDNS_BIN" --config "$d" -p 5320 run
pid=$(read_pid_file "$d")
dq @127.0.20.1 -p 5320 new.dns.podman
expect_no_reply
write_lines "$d/net2" 127.0.20.1 "id2 127.0.20.2  new"
printf '%s\n' "id3 127.0.19.3  added" >>"$d/net1"
kill -HUP "$pid"
wait_until 5 eval 'dq @127.0.20.1 -p 5320 new.dns.podman; [[ $DQ_STATUS == NOERROR ]]' || true
expect_answer "new.dns.podman. 0 IN A 127.0.20.2"
dq @127.0.20.1 -p 5320 +tcp new
expect_answer "new. 0 IN A 127.0.20.2"
dq @127.0.19.1 -p 5320 added.dns.podman
expect_answer "added.dns.podman. 0 IN A 127.0.19.3"
dq @127.0.19.1 -p 5320 old.dns.podman
expect_answer "old.dns.podman. 0 IN A 127.0.19.2"
assert_eq "$(read_pid_file "$d")" "$pid" "pid after reload"
process_alive "$pid" || fail "daemon restarted or died"
# A removed network loses its listener on the next SIGHUP.
rm "$d/net2"
kill -HUP "$pid"
wait_until 5 eval 'dq @127.0.20.1 -p 5320 new.dns.podman; [[ -z $DQ_STATUS ]]' || true
expect_no_reply
dq @127.0.19.1 -p 5320 old.dns.podman
expect_answer "old.dns.podman. 0 IN A 127.0.19.2"
stop_daemon "$d"
EOF
}

@test "queries keep being answered while SIGHUPs arrive (bounded loop, UDP and TCP)" {
    in_sandbox <<'EOF'
d=$(new_config_dir storm)
write_lines "$d/net1" 127.0.21.1 "id1 127.0.21.2  steady"
write_lines "$d/net2" 127.0.22.1 "id2 127.0.22.2  other"
"$CTRDNS_BIN" --config "$d" -p 5321 run
pid=$(read_pid_file "$d")
# 200 SIGHUPs, one every 20 ms (4 s or more); queries run only while they are being sent.
bg_start hupper bash -c 'for i in $(seq 200); do kill -HUP "$1" || exit 1; sleep 0.02; done' _ "$pid"
hupper=$(bg_pid hupper)
failures=0 n=0
while ((n < 80)) && process_alive "$hupper"; do
    n=$((n + 1))
    if ((n % 4 == 0)); then
        dq @127.0.21.1 -p 5321 +tcp steady.dns.podman
    else
        dq @127.0.21.1 -p 5321 steady.dns.podman
    fi
    if [[ $'\n'$DQ_ANSWER$'\n' != *$'\n'"steady.dns.podman. 0 IN A 127.0.21.2"$'\n'* ]]; then
        failures=$((failures + 1))
        echo "query $n: status '$DQ_STATUS' $(dq_context | tail -n 3)"
        ((failures < 3)) || break
    fi
done
wait_until 10 process_gone "$hupper" || fail "SIGHUP loop did not finish"
assert_eq "$failures" 0 "queries without the right answer during reloads"
((n >= 8)) || fail "only $n queries were sent during the SIGHUPs"
process_alive "$pid" || fail "daemon died under SIGHUPs"
assert_eq "$(read_pid_file "$d")" "$pid" "pid"
stop_daemon "$d"
EOF
}

@test "removing the last file then SIGHUP: the daemon exits 0 and removes aardvark.pid" {
    in_sandbox <<'EOF'
d=$(new_config_dir last)
write_lines "$d/net1" 127.0.23.1 "id1 127.0.23.2  alpha"
write_lines "$d/net2" 127.0.24.1 "id2 127.0.24.2  beta"
run_reaped last "$CTRDNS_BIN" --config "$d" -p 5323 run
out=$SANDBOX_DIR/reap-last
assert_eq "$(cat "$out/parent.rc")" 0 "run exit status"
pid=$(read_pid_file "$d")
rm "$d/net1"
kill -HUP "$pid"
sleep 0.3
process_alive "$pid" || fail "daemon exited while net2 remains"
assert_file_exists "$d/aardvark.pid"
rm "$d/net2"
kill -HUP "$pid"
wait_until 5 grep -q "^$pid " "$out/reaped" 2>/dev/null || fail "daemon $pid did not exit"
assert_eq "$(grep "^$pid " "$out/reaped")" "$pid 0" "daemon exit status"
assert_file_absent "$d/aardvark.pid"
EOF
}

@test "a bad line is skipped and the rest of the file still answers; a bad file does not hurt others" {
    in_sandbox <<'EOF'
d=$(new_config_dir badline)
write_lines "$d/net1" 127.0.25.1 \
    "id1 127.0.25.2  good1" \
    "id2 not-an-ip  broken" \
    "id3 127.0.25.4" \
    "id4 127.0.25.5  good2"
write_lines "$d/net2" "999.1.1.1" "id5 127.0.26.2  inbadfile"
write_lines "$d/net3" 127.0.27.1 "id6 127.0.27.2  good3"
rc=0
"$CTRDNS_BIN" --config "$d" -p 5325 run || rc=$?
assert_eq "$rc" 0 "run exit status"
dq @127.0.25.1 -p 5325 good1.dns.podman
expect_answer "good1.dns.podman. 0 IN A 127.0.25.2"
dq @127.0.25.1 -p 5325 good2.dns.podman
expect_answer "good2.dns.podman. 0 IN A 127.0.25.5"
dq @127.0.25.1 -p 5325 broken.dns.podman
expect_status NXDOMAIN
dq @127.0.27.1 -p 5325 good3.dns.podman
expect_answer "good3.dns.podman. 0 IN A 127.0.27.2"
# The same after a reload.
kill -HUP "$(read_pid_file "$d")"
sleep 0.3
dq @127.0.25.1 -p 5325 good2.dns.podman
expect_answer "good2.dns.podman. 0 IN A 127.0.25.5"
stop_daemon "$d"
EOF
}

@test "garbage datagrams and broken TCP streams do not kill the daemon" {
    in_sandbox <<'EOF'
d=$(new_config_dir garbage)
write_lines "$d/net1" 127.0.28.1 "id1 127.0.28.2  alive"
"$CTRDNS_BIN" --config "$d" -p 5328 run
pid=$(read_pid_file "$d")
send_udp() { hex_to_bytes "$1" | timeout 3 socat -u - UDP4-SENDTO:127.0.28.1:5328 || true; }
send_udp 00
send_udp 000000000000000000000000
send_udp ffffffffffffffffffffffffffffffffffffffff
send_udp "$(head -c 600 /dev/urandom | od -An -v -tx1 | tr -d ' \n')"
# Header claiming 1 question, then a name with a label running past the end.
send_udp 1234010000010000000000003f6162
# Compression pointer loop.
send_udp 12340100000100000000000000c00c00010001
# TCP: length 60 then EOF; a framed non-DNS message; an oversized length.
hex_to_bytes 003c | timeout 5 socat -u - TCP4:127.0.28.1:5328 || true
hex_to_bytes 0004deadbeef | timeout 5 socat -t 1 - TCP4:127.0.28.1:5328 >/dev/null || true
hex_to_bytes ffff0000 | timeout 5 socat -u - TCP4:127.0.28.1:5328 || true
process_alive "$pid" || fail "daemon died"
dq @127.0.28.1 -p 5328 alive.dns.podman
expect_answer "alive.dns.podman. 0 IN A 127.0.28.2"
dq @127.0.28.1 -p 5328 +tcp alive.dns.podman
expect_answer "alive.dns.podman. 0 IN A 127.0.28.2"
# Not spinning: a few hundred ms of CPU at most for all of the above.
ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
(( ticks < 100 )) || fail "daemon used $ticks clock ticks of CPU"
stop_daemon "$d"
EOF
}

@test "RUST_LOG=bogus prints aardvark's parse message and still starts" {
    in_sandbox <<'EOF'
d=$(new_config_dir rustlog)
write_lines "$d/net1" 127.0.29.1 "id1 127.0.29.2  logged"
rc=0
err=$(RUST_LOG=bogus "$CTRDNS_BIN" --config "$d" -p 5329 run 2>&1 >/dev/null) || rc=$?
assert_eq "$rc" 0 "run exit status"
assert_contains "$err" "failed to parse RUST_LOG level: attempted to convert a string that doesn't match an existing log level" "stderr"
dq @127.0.29.1 -p 5329 logged.dns.podman
expect_answer "logged.dns.podman. 0 IN A 127.0.29.2"
stop_daemon "$d"
# Valid levels, any case, print nothing.
for level in error WARN Info debug TRACE; do
    err=$(RUST_LOG=$level "$CTRDNS_BIN" version 2>&1 >/dev/null)
    assert_eq "$err" "" "stderr with RUST_LOG=$level"
done
err=$(RUST_LOG=OFF "$CTRDNS_BIN" version 2>&1 >/dev/null)
assert_contains "$err" "failed to parse RUST_LOG level" "stderr with RUST_LOG=OFF"
EOF
}
