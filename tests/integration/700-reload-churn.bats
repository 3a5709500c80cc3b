#!/usr/bin/env bats
# Reload that never goes deaf (issue 7): while netavark rewrites a network file, the server keeps
# answering every name that exists before and after the change, with the right address, at every
# instant. The rules under test (docs/ of the reload work):
#  - a network file that is empty, holds only its header, ends in a line without "\n", or lost
#    entry lines it had at the previous successful read is being written: its last good content
#    is served until the file has been quiet for a settle time; a file that really shrank is
#    applied within about 1 s of its last change (the tests allow RL_SHRINK_LIMIT = 2.5 s);
#  - a deleted file is served until the same bound; the server exits (and removes aardvark.pid)
#    only if the directory still has no network file then; a new file in that window keeps it;
#  - reloads run beside the serving thread; SIGHUP storms coalesce.
#
# netavark's write patterns come from tests/integration/netavark_writer.py (setup: append under
# the lock; teardown: truncate and rewrite line by line without the lock; update: truncate and
# rewrite with a new header; deletion of the last container's file), answers are checked by
# tests/integration/dns_checker.py. Servers are started as netavark starts them, on loopback
# gateways 127.0.7x.1 of the sandbox; the real-netavark tests use bridges in the sandbox.
#
# Run: sudo CTRDNS_BIN=build/ci/src/ctrdns bats tests/integration/700-reload-churn.bats (about
# 45 s; ctest -R integration_700 does the same). RELOAD_DNS_BIN=/usr/lib/podman/aardvark-dns runs
# the same tests against aardvark-dns; NETAVARK_NEW=/path/to/netavark skips
# tools/fetch-netavark.sh in the last test. Timing limits are generous (a busy 2-core machine must
# pass), and when a failure could come from this machine stalling the writer past the server's
# settle time the failure message says so.

load helpers

setup_file() {
    sandbox_start || return 1
    [[ ${CTRDNS_SKIP_INTEGRATION:-0} == 1 ]] && return 0
    require_tools python3 "$NETAVARK" iptables || return 1
    export RELOAD_HELPERS=$BATS_TEST_DIRNAME/reload.bash
    export RELOAD_DNS_BIN=${RELOAD_DNS_BIN:-$CTRDNS_BIN}
}

teardown_file() {
    sandbox_stop
}

setup() {
    skip_if_disabled
}

# A test body with reload.bash sourced too; its notes (measured times, checker summaries) are
# printed in the TAP stream whether it passed or not.
rl_body() {
    local rc=0
    in_sandbox "source \"\$RELOAD_HELPERS\""$'\n'"$(cat)" || rc=$?
    if [[ -s $SANDBOX_DIR/notes ]]; then
        sed 's/^/# /' "$SANDBOX_DIR/notes" >&3
        rm -f "$SANDBOX_DIR/notes"
    fi
    return "$rc"
}

@test "SIGHUP storm: 100/s for 10 s with all four netavark write patterns, 1,000 containers, 5,000 qps checked: 0 lost, 0 wrong, alive" {
    rl_body <<'EOF'
d=$(new_config_dir storm)
nv_writer --dir "$d" populate storm 127.0.70.1 ctr 10.70.0.10 1000 |
    awk '{ print $1 ".dns.podman", $2 }' >"$d.names"
rl_start "$d" 5370
pid=$RL_PID
rl_load_start storm 127.0.70.1 5370 5000 --names "$d.names"
# Each cycle: append churn-K (lock), tear down churn-(K-1) (truncate + per-line rewrite), network
# update (new header), create and delete the side network's file; a pause every 50 writes; a
# thread sends SIGHUP 100 times a second on top of netavark's own. Then the last change.
rc=0
nv_writer --dir "$d" --pause-ms 0.5 --pause-at every:50 \
    churn storm 127.0.70.1 side 127.0.71.1 --duration 10 --hup-rate 100 \
    >"$SANDBOX_DIR/storm-writer.out" 2>"$SANDBOX_DIR/storm-writer.err" || rc=$?
out=$(cat "$SANDBOX_DIR/storm-writer.out")
RL_WRITER_OUT=$(cat "$SANDBOX_DIR/storm-writer.err")
rl_note "storm: $RL_WRITER_OUT"
((rc == 0)) || fail "the writer failed ($rc): $out $(cat "$SANDBOX_DIR/storm-writer.err")"
hup_at=$(rl_hup_at "$out")
read -r removed removed_addr < <(sed -n 's/.* removed=\([^ ]*\) \([^ ]*\) .*/\1 \2/p' <<<"$out")
# The last change (a new container) resolves within 1 s of its SIGHUP, under the same load.
final_rc=0
final=$(dns_check wait --server 127.0.70.1 --port 5370 --expect final.dns.podman=127.0.70.250 \
    --since "$hup_at" --within 1.0) || final_rc=$?
rl_note "storm: $final"
rl_load_stop storm
rl_assert_alive "$pid" "$d"
rl_assert_load_clean
((final_rc == 0)) || fail "the last change did not resolve within 1 s of its SIGHUP: $final"
# The container torn down just before is gone once the file has been quiet.
rl_expect_within storm "$RL_SHRINK_LIMIT" "$hup_at" 127.0.70.1 5370 "$removed.dns.podman=NXDOMAIN"
dq @127.0.70.1 -p 5370 ctr999.dns.podman
expect_answer "ctr999.dns.podman. 0 IN A 10.70.3.241"
stop_daemon "$d"
EOF
}

@test "half-written: an empty file (teardown right after its truncating open) is not served; the teardown applies" {
    rl_body <<'EOF'
d=$(new_config_dir empty)
hw_prepare "$d" 127.0.72.1
rl_start "$d" 5372
pid=$RL_PID
rl_load_start empty 127.0.72.1 5372 1000 --names "$d.names"
# A parallel netavark's SIGHUP lands while the file is empty, 40 ms long.
rl_writer --dir "$d" --pause-ms 40 --pause-at truncate --hup-in-pause teardown hw "$(hex_id ctr-gone)"
out=$RL_OUT
hup_at=$(rl_hup_at "$out")
rl_expect_within empty "$RL_SHRINK_LIMIT" "$hup_at" 127.0.72.1 5372 gone.dns.podman=NXDOMAIN
rl_load_stop empty
rl_assert_alive "$pid" "$d"
rl_assert_load_clean
stop_daemon "$d"
EOF
}

@test "half-written: a file holding only its header (teardown, then network update) is not served" {
    rl_body <<'EOF'
d=$(new_config_dir header)
hw_prepare "$d" 127.0.73.1
rl_start "$d" 5373
pid=$RL_PID
rl_load_start header 127.0.73.1 5373 1000 --names "$d.names"
rl_writer --dir "$d" --pause-ms 40 --pause-at header --hup-in-pause teardown hw "$(hex_id ctr-gone)"
# podman network update: the header is rewritten with new DNS servers, then every line.
rl_writer --dir "$d" --pause-ms 40 --pause-at header --hup-in-pause update hw 127.0.0.93
hup_at=$(rl_hup_at "$RL_OUT")
assert_eq "$(head -n 1 "$d/hw")" "127.0.73.1 127.0.0.93" "header after the update"
rl_expect_within header "$RL_SHRINK_LIMIT" "$hup_at" 127.0.73.1 5373 gone.dns.podman=NXDOMAIN
rl_load_stop header
rl_assert_alive "$pid" "$d"
rl_assert_load_clean
stop_daemon "$d"
EOF
}

@test "half-written: a last line without its newline ('10.89.0.1' of '10.89.0.12', 'ap' of 'app') is never answered" {
    rl_body <<'EOF'
d=$(new_config_dir unterminated)
hw_prepare "$d" 127.0.74.1
rl_start "$d" 5374
pid=$RL_PID
rl_load_start unterminated 127.0.74.1 5374 1000 --names "$d.names"
# The cut line's names get a checker of their own: among 52 names at 1,000 qps each is asked
# only every 52 ms, so a 40 ms window could fall between two of its queries.
rl_load_start unterminated-app 127.0.74.1 5374 1000 --expect app.dns.podman=10.89.0.12 \
    --expect ap.dns.podman=NXDOMAIN
app=$(hex_id ctr-app)
# app's line is "<64-hex id> 10.89.0.12  app": cut after "10.89.0.1" (74 bytes), then after
# "ap" (79 bytes), as a reader sees a write that is not complete yet.
rl_writer --dir "$d" --pause-ms 40 --pause-at split --hup-in-pause --split "$app:74" \
    teardown hw "$(hex_id ctr-gone)"
grep -qx "$app 10.89.0.12  app" "$d/hw" || fail "app's line was not rewritten whole: $(tail -n 2 "$d/hw")"
rl_writer --dir "$d" --pause-ms 40 --pause-at split --hup-in-pause --split "$app:79" \
    teardown hw "$(hex_id ctr-gone2)"
out=$RL_OUT
hup_at=$(rl_hup_at "$out")
rl_expect_within unterminated "$RL_SHRINK_LIMIT" "$hup_at" 127.0.74.1 5374 gone2.dns.podman=NXDOMAIN
rl_load_stop unterminated-app
app_rc=$RL_LOAD_RC app_report=$RL_LOAD_REPORT
rl_load_stop unterminated
rl_assert_alive "$pid" "$d"
rl_assert_load_clean
RL_LOAD_RC=$app_rc RL_LOAD_REPORT=$app_report
rl_assert_load_clean
stop_daemon "$d"
EOF
}

@test "half-written: a file that lost lines mid-rewrite keeps them; a file that really shrank is applied within the bound" {
    rl_body <<'EOF'
d=$(new_config_dir shrunk)
hw_prepare "$d" 127.0.75.1
rl_start "$d" 5375
pid=$RL_PID
rl_load_start shrunk 127.0.75.1 5375 1000 --names "$d.names"
# SIGHUPs after 10, 30 and all but the last entry lines were rewritten.
rl_writer --dir "$d" --pause-ms 40 --pause-at line:10,line:30,line:-2 --hup-in-pause \
    teardown hw "$(hex_id ctr-gone)"
out=$RL_OUT
hup_at=$(rl_hup_at "$out")
# Really shrunk: gone is removed within the bound, with no other SIGHUP.
rl_expect_within shrunk "$RL_SHRINK_LIMIT" "$hup_at" 127.0.75.1 5375 gone.dns.podman=NXDOMAIN
rl_load_stop shrunk
rl_assert_alive "$pid" "$d"
rl_assert_load_clean
stop_daemon "$d"
EOF
}

@test "deleted file recreated within the settle time (last container's teardown, then a setup): the server stays and keeps answering" {
    rl_body <<'EOF'
d=$(new_config_dir recreate)
id=$(hex_id ctr-only)
nv_writer --dir "$d" --no-hup setup solo "$id" 10.72.2.2 - only --gw 127.0.76.1 >/dev/null
rl_start "$d" 5376
pid=$RL_PID
rl_load_start recreate 127.0.76.1 5376 1000 --expect only.dns.podman=10.72.2.2
# One process, so the gap is what it says: teardown (the file is deleted, SIGHUP), 30 ms,
# setup of the same container (O_EXCL + header + line, SIGHUP).
rl_writer --dir "$d" seq "teardown solo $id" "sleep 30" \
    "setup solo $id 10.72.2.2 - only --gw 127.0.76.1"
out=$RL_OUT
# done_at: when each step's file operation ended (the deletion; the new file, complete).
gap_ms=$(grep -o 'done_at=[0-9.]*' <<<"$out" | cut -d= -f2 | tr '\n' ' ' |
    awk '{ printf "%d", ($2 - $1) * 1000 }')
rl_note "recreate: the file was absent for $gap_ms ms"
((gap_ms < 140)) || rl_note "recreate: WARNING: the machine is so busy that the gap exceeded the settle time; the result says little"
# Past every settle bound: still the same server, still serving.
sleep "$RL_SHRINK_LIMIT"
rl_load_stop recreate
rl_assert_alive "$pid" "$d"
rl_assert_load_clean
assert_file_exists "$d/solo"
stop_daemon "$d"
EOF
}

@test "deleted for good (last container's teardown): served during the settle time, then the server exits and removes aardvark.pid" {
    rl_body <<'EOF'
d=$(new_config_dir deleted)
id=$(hex_id ctr-only)
nv_writer --dir "$d" --no-hup setup solo "$id" 10.72.3.2 - only --gw 127.0.77.1 >/dev/null
rl_start "$d" 5377
pid=$RL_PID
dq @127.0.77.1 -p 5377 only.dns.podman
expect_answer "only.dns.podman. 0 IN A 10.72.3.2"
# 60 ms after the SIGHUP the file is still inside its settle time: the name answers.
rl_writer --dir "$d" seq "teardown solo $id" "sleep 60" "ask 127.0.77.1:5377 only.dns.podman=10.72.3.2"
out=$RL_OUT
assert_contains "$out" "deleted" "teardown"
ask=$(grep '^ask:' <<<"$out")
rl_note "deleted: $ask"
sent_ms=$(sed -n 's/.* sent \(-\?[0-9]*\) ms after.*/\1/p' <<<"$ask")
if ((sent_ms <= 120)); then
    [[ $ask == *": ok" ]] || fail "the name was not served during the settle time: $ask"
else
    rl_note "deleted: WARNING: the query went out $sent_ms ms after the SIGHUP (busy machine); not judged"
fi
# Then, with no network file left, the server exits and removes its pid file.
wait_until 5 process_gone "$pid" || fail "the server $pid did not exit 5 s after its last network file was deleted"
assert_file_absent "$d/aardvark.pid"
EOF
}

@test "real netavark 1.4: 30 parallel setups and teardowns on one network; names that stay up never fail" {
    rl_body <<'EOF'
na_network churn cdns-churn 10.89.0.0/16=10.89.0.1
# 2,000 containers already on the network (written under netavark's lock in its format), so a
# rewrite takes as long as on a busy host; then the two that stay up and are asked.
mkdir -p "$NA_CONFIG/aardvark-dns"
nv_writer --dir "$NA_CONFIG/aardvark-dns" populate churn 10.89.0.1 bg 10.89.100.0 2000 >/dev/null
CTRDNS_BIN=$RELOAD_DNS_BIN na_setup stay1 churn 10.89.78.2 web
CTRDNS_BIN=$RELOAD_DNS_BIN na_setup stay2 churn 10.89.78.3 db
pid=$(cat "$(na_pid_file)")
RL_NETNS=stay1 rl_load_start na14 10.89.0.1 53 500 \
    --expect stay2.dns.podman=10.89.78.3 --expect db.dns.podman=10.89.78.3 \
    --expect stay1.dns.podman=10.89.78.2 --expect web.dns.podman=10.89.78.2 \
    --expect bg0.dns.podman=10.89.100.0 --expect bg1999.dns.podman=10.89.107.207
# Setups run all at once (they take netavark's lock), and so do teardowns beside them, but two
# teardowns never overlap: netavark's teardown takes no lock, and one that reads the file while
# another has just truncated it writes back an empty file and deletes it (seen with 30 at once),
# which no server could survive. One teardown rewriting the file while the server still handles
# the SIGHUP of the previous one is what podman-compose down does, and that stays.
workers=()
for i in $(seq 1 30); do
    (CTRDNS_BIN=$RELOAD_DNS_BIN na_setup "p$i" churn "10.89.78.$((10 + i))" - &&
        flock "$SANDBOX_DIR/teardowns.lock" bash -c 'source "$CTRDNS_HELPERS_FILE" && na_teardown "$1"' _ "p$i") \
        >"$SANDBOX_DIR/logs/worker-$i.log" 2>&1 &
    workers+=($!)
done
failed=()
for i in "${!workers[@]}"; do
    wait "${workers[$i]}" || failed+=("p$((i + 1)): $(grep -m1 -E 'FAIL|rror' "$SANDBOX_DIR/logs/worker-$((i + 1)).log")")
done
sleep 0.5
rl_load_stop na14
file=$NA_CONFIG/aardvark-dns/churn
[[ -e $file ]] || fail "netavark deleted the network file $file (its own race; not the server's doing)"
rl_note "na14: file after the churn: $(($(wc -l <"$file") - 1)) entries (2,002 expected)"
rl_assert_alive "$pid" "$NA_CONFIG/aardvark-dns"
((${#failed[@]} == 0)) || fail "netavark failed ${#failed[@]} times:"$'\n'"$(printf '%s\n' "${failed[@]}")"
# netavark's teardowns race each other without the lock; if one read a file another was
# rewriting, the stay lines are gone from the file itself and no server could answer them.
for c in stay1 stay2; do
    grep -q "^$(hex_id "ctr-$c") " "$file" || fail "netavark's own teardown race removed $c's line from the file (not the server's fault; rerun):"$'\n'"$(cat "$file")"
done
rl_assert_load_clean "$pid" "$NA_CONFIG/aardvark-dns" stay1
EOF
}

@test "real netavark 1.14 (Debian trixie): 20,000 containers, six compose-style cycles (8 setups, 8 teardowns): 0 unanswered" {
    local wrapper=${NETAVARK_NEW:-} rc=0
    if [[ -z $wrapper ]]; then
        wrapper=$("$BATS_TEST_DIRNAME/../../tools/fetch-netavark.sh" trixie) || rc=$?
        if ((rc == 3)); then
            skip "Debian's archive cannot be reached, so there is no netavark 1.14 (tools/fetch-netavark.sh)"
        fi
        ((rc == 0)) || {
            echo "tools/fetch-netavark.sh failed ($rc)" >&2
            return 1
        }
    fi
    export NETAVARK_NEW=$wrapper
    rl_body <<'EOF'
NA_CONFIG=$SANDBOX_DIR/netavark-new
NETAVARK=$NETAVARK_NEW
mkdir -p "$NA_CONFIG/aardvark-dns"
rl_note "new: $("$NETAVARK" --version)"
na_network big cdns-big 10.75.0.0/16=10.75.0.1
# 20,000 containers already on the network, in netavark's format, written under its lock.
nv_writer --dir "$NA_CONFIG/aardvark-dns" populate big 10.75.0.1 pre 10.75.100.0 20000 >/dev/null
CTRDNS_BIN=$RELOAD_DNS_BIN na_setup stay big 10.75.1.2 app
pid=$(cat "$(na_pid_file)")
RL_NETNS=stay rl_load_start new 10.75.0.1 53 50 \
    --expect pre0.dns.podman=10.75.100.0 --expect pre10000.dns.podman=10.75.139.16 \
    --expect pre19999.dns.podman=10.75.178.31 --expect app.dns.podman=10.75.1.2
start=$SECONDS
failed=()
for cycle in 1 2 3 4 5 6; do
    for i in 1 2 3 4 5 6 7 8; do
        (CTRDNS_BIN=$RELOAD_DNS_BIN na_setup "c$cycle-$i" big "10.75.2.$((cycle * 10 + i))" -) >/dev/null 2>&1 ||
            failed+=("setup c$cycle-$i: $(cat "$SANDBOX_DIR/logs/netavark-setup-c$cycle-$i.err" | tail -n 1)")
    done
    for i in 1 2 3 4 5 6 7 8; do
        (na_teardown "c$cycle-$i") >/dev/null 2>&1 ||
            failed+=("teardown c$cycle-$i: $(cat "$SANDBOX_DIR/logs/netavark-teardown-c$cycle-$i.err" | tail -n 1)")
        ip netns del "c$cycle-$i"
    done
done
rl_note "new: 96 netavark runs in $((SECONDS - start)) s"
sleep 0.5
rl_load_stop new
rl_assert_alive "$pid" "$NA_CONFIG/aardvark-dns"
((${#failed[@]} == 0)) || fail "netavark failed ${#failed[@]} times:"$'\n'"$(printf '%s\n' "${failed[@]}")"
rl_assert_load_clean "$pid" "$NA_CONFIG/aardvark-dns" stay
EOF
}
