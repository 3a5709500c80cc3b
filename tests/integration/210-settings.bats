#!/usr/bin/env bats
# The settings file (docs/settings.md), black box. netavark starts the server with
# `--config DIR -p PORT run` and nothing else, so ctrdns-only settings come from
# /etc/containers/ctrdns.conf (rootless: also the user's file). The sandbox mounts a tmpfs over
# /etc/containers (private mount namespace: the host's directory is untouched) and writes the
# file there.
#
# Upstream: dnsmasq "up31" on 127.0.0.31 (the sandbox's resolv.conf names it) answers
# NAME.example.test with an address the test changes by restarting it, with TTL 300, so a cached
# answer is told apart from a fresh one by its address.
#
# Each test runs its own daemon on its own loopback address 127.0.5X.1 (port 53), queried from
# 127.0.5X.2 (a container of its network).

export SANDBOX_RESOLVER=127.0.0.31

load helpers

setup_file() {
    sandbox_start || return 1
    [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]] && return 0
    require_tools dnsmasq || return 1
    in_sandbox <<'EOF'
mount -t tmpfs -o mode=755 tmpfs /etc/containers
EOF
}

teardown_file() {
    sandbox_stop
}

setup() {
    skip_if_disabled
}

# in_sandbox with upstreams.bash and this suite's helpers.
st_sandbox() {
    local body
    body=$(cat)
    in_sandbox "source '$BATS_TEST_DIRNAME/upstreams.bash'"$'\n'"$(declare -f st_upstream st_network st_ask st_expect_answer st_start)"$'\n'"$body"
}

# st_upstream IP: (re)starts up31 answering *.example.test with IP (TTL 300).
st_upstream() {
    bg_stop up31
    upstream_dnsmasq up31 127.0.0.31 --address=/example.test/"$1" --local-ttl=300
}

# st_network TAG NET: a config dir with one network on 127.0.NET.1 whose container "c1" is
# 127.0.NET.2 and whose container "twin" has two addresses (probe candidates). Prints the dir.
st_network() {
    local d
    d=$(new_config_dir "$1")
    write_lines "$d/net$2" "127.0.$2.1" \
        "$(hex_id "c1-$2") 127.0.$2.2  c1" \
        "$(hex_id "t1-$2") 127.0.$2.3,127.0.$2.4  twin"
    printf '%s' "$d"
}

# st_ask NET NAME: queries the daemon on 127.0.NET.1 for NAME.example.test.
st_ask() {
    dq @127.0."$1".1 -b 127.0."$1".2 "$2".example.test
    expect_status NOERROR
}

st_expect_answer() { # NAME IP
    assert_match "$DQ_ANSWER" "^$1\.example\.test\. [0-9]+ IN A $2\$" "answer for $1"
}

# st_start TAG DIR [FLAGS...]: starts ctrdns exactly as netavark does (it forks, the parent
# exits once the child serves); the start-up stderr is kept in logs/TAG.err.
st_start() {
    local tag=$1 dir=$2
    shift 2
    local rc=0
    "$CTRDNS_BIN" --config "$dir" -p 53 "$@" run </dev/null >"$SANDBOX_DIR/logs/$tag.out" \
        2>"$SANDBOX_DIR/logs/$tag.err" || rc=$?
    ((rc == 0)) || fail "ctrdns $tag exited $rc: $(cat "$SANDBOX_DIR/logs/$tag.err")"
    process_alive "$(read_pid_file "$dir")" || fail "ctrdns $tag is not running"
}

@test "netavark's start line (no flags): /etc/containers/ctrdns.conf turns the cache off; a bad line is reported with file and line and is not fatal" {
    st_sandbox <<'EOF'
write_lines /etc/containers/ctrdns.conf \
    "# written by 210-settings" \
    "cache = false" \
    "max_tcp_connections = lots" \
    "no_such_setting = 1"
st_upstream 192.0.2.1
d=$(st_network nocache 51)
st_start nocache "$d"
err=$(cat "$SANDBOX_DIR/logs/nocache.err")
assert_contains "$err" "/etc/containers/ctrdns.conf:3: max_tcp_connections: expected a whole number, got \`lots\`; ignored"
assert_contains "$err" "/etc/containers/ctrdns.conf:4: unknown key \`no_such_setting\`"

st_ask 51 fresh
st_expect_answer fresh 192.0.2.1
st_upstream 192.0.2.2
st_ask 51 fresh
st_expect_answer fresh 192.0.2.2 # not the answer of a moment ago: nothing was cached
st_ask 51 fresh
expect_upstream_count up31 fresh.example.test 3
# The bad limit kept its default: TCP still works.
dq @127.0.51.1 -b 127.0.51.2 +tcp c1.dns.podman
expect_status NOERROR
stop_daemon "$d"
EOF
}

@test "without the file's cache = false the same start caches; a flag (--no-cache) wins over cache = true" {
    st_sandbox <<'EOF'
write_lines /etc/containers/ctrdns.conf "cache = true"
st_upstream 192.0.2.1
d=$(st_network cached 52)
st_start cached "$d"
assert_eq "$(cat "$SANDBOX_DIR/logs/cached.err")" "" "start-up stderr of a clean file"
st_ask 52 kept
st_upstream 192.0.2.2
st_ask 52 kept
st_expect_answer kept 192.0.2.1 # cached
expect_upstream_count up31 kept.example.test 1
stop_daemon "$d"

st_upstream 192.0.2.1
d=$(st_network flag 53)
st_start flag "$d" --no-cache
st_ask 53 flagged
st_upstream 192.0.2.2
st_ask 53 flagged
st_expect_answer flagged 192.0.2.2
# Still after a SIGHUP re-read the file.
kill -HUP "$(read_pid_file "$d")"
sleep 0.3
st_upstream 192.0.2.3
st_ask 53 flagged
st_expect_answer flagged 192.0.2.3
expect_upstream_count up31 flagged.example.test 3
stop_daemon "$d"
EOF
}

@test "SIGHUP re-reads the file (CTRDNS_CONF): cache and probing change at run time; a bad value keeps the previous one" {
    st_sandbox <<'EOF'
conf=$SANDBOX_DIR/hup.conf
write_lines "$conf" "log_level = debug"
st_upstream 192.0.2.1
d=$(st_network hup 54)
# --foreground only to see the log (a detached daemon logs to syslog).
CTRDNS_CONF=$conf bg_start ctrdns-hup "$CTRDNS_BIN" --config "$d" -p 53 --foreground run
log=$SANDBOX_DIR/logs/ctrdns-hup.log
wait_until 5 dig_quiet @127.0.54.1 -b 127.0.54.2 c1.dns.podman || fail "no start: $(cat "$log")"
assert_contains "$(cat "$log")" "settings from $conf"
assert_not_match "$(cat "$log")" "liveness:" "log before probing is on"
st_ask 54 one
st_upstream 192.0.2.2
st_ask 54 one
st_expect_answer one 192.0.2.1 # cached

write_lines "$conf" "log_level = debug" "cache = off" "probe_liveness = true"
kill -HUP "$(bg_pid ctrdns-hup)"
wait_until 5 grep -q "settings changed: cache: on -> off" "$log" || fail "no change logged: $(cat "$log")"
assert_contains "$(cat "$log")" "settings changed: probe_liveness: off -> on"
wait_until 5 grep -q "liveness: 2 probe target(s)" "$log" || fail "probing did not start: $(cat "$log")"
st_ask 54 one
st_expect_answer one 192.0.2.2 # the cache is off (and was dropped)

# A typo keeps the value in effect, and says where it is.
write_lines "$conf" "log_level = debug" "cache = of" "probe_liveness = true"
kill -HUP "$(bg_pid ctrdns-hup)"
wait_until 5 grep -qF "$conf:2: cache: expected true or false, got \`of\`; ignored" "$log" ||
    fail "no warning: $(cat "$log")"
st_upstream 192.0.2.3
st_ask 54 one
st_expect_answer one 192.0.2.3
assert_not_match "$(cat "$log")" "cache: off -> on" "log after the typo"
process_alive "$(bg_pid ctrdns-hup)" || fail "ctrdns died: $(cat "$log")"
bg_stop ctrdns-hup
EOF
}

@test "rootless (Podman's user namespace): the user's ctrdns.conf overrides the system file key by key" {
    st_sandbox <<'EOF'
write_lines /etc/containers/ctrdns.conf "cache = false" "log_level = debug"
home=$SANDBOX_DIR/home
mkdir -p "$home/.config/containers"
write_lines "$home/.config/containers/ctrdns.conf" "cache = true"
st_upstream 192.0.2.1
d=$(st_network rootless 55)
_CONTAINERS_USERNS_CONFIGURED=done HOME=$home XDG_CONFIG_HOME= \
    bg_start ctrdns-rootless "$CTRDNS_BIN" --config "$d" -p 53 --foreground run
log=$SANDBOX_DIR/logs/ctrdns-rootless.log
wait_until 5 dig_quiet @127.0.55.1 -b 127.0.55.2 c1.dns.podman || fail "no start: $(cat "$log")"
assert_contains "$(cat "$log")" "settings from /etc/containers/ctrdns.conf, $home/.config/containers/ctrdns.conf"
assert_contains "$(cat "$log")" "[debug]" "log level from the system file"
st_ask 55 user
st_upstream 192.0.2.2
st_ask 55 user
st_expect_answer user 192.0.2.1 # cached: the user's cache = true won
bg_stop ctrdns-rootless
EOF
}
