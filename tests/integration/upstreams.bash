# Upstream resolvers for the forwarding suite (400-forwarding.bats): real dnsmasq instances and a
# "dead" resolver that reads queries and never answers, all on 127.x addresses inside the
# sandbox. Sourced into test bodies after helpers.bash; defines functions only.

# upstream_dnsmasq NAME ADDR [DNSMASQ-ARGS...]: a dnsmasq on ADDR:53 (UDP and TCP) with no
# upstream of its own, so it answers only what ARGS configure and REFUSES everything else. Every
# query is logged to logs/NAME.queries (see upstream_count).
upstream_dnsmasq() {
    local name=$1 addr=$2
    shift 2
    bg_start "$name" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
        --listen-address="$addr" --bind-interfaces --port 53 --pid-file= --user=root \
        --log-queries --log-facility="$SANDBOX_DIR/logs/$name.queries" "$@"
    wait_until 5 dig_quiet "@$addr" ready-probe.invalid ||
        fail "dnsmasq $name on $addr did not come up: $(cat "$SANDBOX_DIR/logs/$name.log")"
}

# How many queries for exactly QNAME (any type, UDP or TCP) the dnsmasq NAME logged.
upstream_count() { # name qname
    grep -csF -- "] $2 from " "$SANDBOX_DIR/logs/$1.queries" || true
}

# expect_upstream_counts QNAME NAME=N...: each dnsmasq NAME logged exactly N queries for QNAME.
# dnsmasq writes a log line before it answers, but a query ctrdns sends concurrently may still be
# on its way: wait (bounded) until every NAME logged at least its N, then compare exactly. One
# grep per round: forks are what makes a loaded machine slow.
expect_upstream_counts() {
    local qname=$1 spec line name ok deadline=$((SECONDS + 3))
    shift
    local -a files=()
    local -A want got
    for spec in "$@"; do
        want[${spec%%=*}]=${spec#*=}
        files+=("$SANDBOX_DIR/logs/${spec%%=*}.queries")
    done
    while :; do
        got=()
        while IFS= read -r line; do
            name=${line%:*}
            name=${name##*/}
            got[${name%.queries}]=${line##*:}
        # grep exits 1 when nothing matched: that must not reach the ERR trap of the body.
        done < <(grep -csF -- "] $qname from " "${files[@]}" /dev/null || true)
        ok=1
        for name in "${!want[@]}"; do
            ((${got[$name]:-0} >= want[$name])) || ok=0
        done
        ((ok)) && break
        ((SECONDS < deadline)) || break
        sleep 0.05
    done
    for name in "${!want[@]}"; do
        [[ ${got[$name]:-0} == "${want[$name]}" ]] ||
            fail "upstream $name saw ${got[$name]:-0} queries for $qname, expected ${want[$name]}"
    done
}

expect_upstream_count() { expect_upstream_counts "$2" "$1=$3"; } # name qname n

# The dead resolver: reads every UDP datagram and accepts every TCP connection on ADDR:53 for
# each ADDR, logs "udp|tcp ADDR QNAME" per query to logs/NAME.queries, and never answers.
# shellcheck disable=SC2016 # perl source
CTRDNS_SINK_PL='
use strict; use warnings; use IO::Socket::INET; use IO::Select;
my ($log, @addrs) = @ARGV;
open(my $out, ">>", $log) or die "$log: $!"; $out->autoflush(1);
my $sel = IO::Select->new; my (%udp, %listen, %conn);
for my $a (@addrs) {
    my $u = IO::Socket::INET->new(LocalAddr => $a, LocalPort => 53, Proto => "udp") or die "udp $a: $!";
    my $t = IO::Socket::INET->new(LocalAddr => $a, LocalPort => 53, Proto => "tcp", Listen => 64,
                                  ReuseAddr => 1) or die "tcp $a: $!";
    $udp{fileno $u} = $a; $listen{fileno $t} = $a; $sel->add($u, $t);
}
sub qname { my ($m) = @_; my ($i, @l) = (12);
    while ($i < length $m) { my $n = ord substr($m, $i, 1); last if $n == 0 || $n > 63;
        push @l, substr($m, $i + 1, $n); $i += $n + 1; }
    return join(".", @l) . "."; }
open(my $ready, ">", "$log.ready") or die; close $ready;
while (1) {
    for my $s ($sel->can_read) {
        my $fd = fileno $s;
        if (exists $udp{$fd}) { my $m = ""; $s->recv($m, 65535); print $out "udp $udp{$fd} ", qname($m), "\n"; }
        elsif (exists $listen{$fd}) { my $c = $s->accept or next; $conn{fileno $c} = [$listen{$fd}, ""]; $sel->add($c); }
        else { my $buf = ""; my $n = sysread($s, $buf, 65535);
            if (!$n) { delete $conn{$fd}; $sel->remove($s); close $s; next; }
            $conn{$fd}[1] .= $buf;
            while (length($conn{$fd}[1]) >= 2) { my $len = unpack("n", $conn{$fd}[1]);
                last if length($conn{$fd}[1]) < 2 + $len;
                print $out "tcp $conn{$fd}[0] ", qname(substr($conn{$fd}[1], 2, $len)), "\n";
                substr($conn{$fd}[1], 0, 2 + $len) = ""; } }
    }
}
'

# upstream_sink NAME ADDR...: starts the dead resolver on every ADDR.
upstream_sink() {
    local name=$1
    shift
    rm -f "$SANDBOX_DIR/logs/$name.queries.ready"
    bg_start "$name" perl -e "$CTRDNS_SINK_PL" "$SANDBOX_DIR/logs/$name.queries" "$@"
    wait_until 5 test -e "$SANDBOX_DIR/logs/$name.queries.ready" ||
        fail "sink $name did not come up: $(cat "$SANDBOX_DIR/logs/$name.log")"
}

# How many queries for QNAME (no trailing dot) over PROTO (udp|tcp) the sink NAME got at ADDR.
sink_count() { # name proto addr qname
    local file=$SANDBOX_DIR/logs/$1.queries
    [[ -e $file ]] || {
        echo 0
        return
    }
    grep -cxF "$2 $3 $4." "$file" || true
}

# dig's "Query time" of the last dq, in ms (empty when there was no reply).
dq_query_time() {
    local re=';; Query time: ([0-9]+) msec'
    [[ $DQ_OUT =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"
}

expect_query_time_between() { # MIN-MS MAX-MS
    local ms
    ms=$(dq_query_time) || true
    [[ -n $ms ]] || fail "no query time (no reply?):"$'\n'"$(dq_context)"
    ((ms >= $1 && ms <= $2)) || fail "query time $ms ms, expected $1..$2 ms:"$'\n'"$(dq_context)"
}

# The TTL of the first answer record of the last dq.
dq_first_ttl() {
    local -a fields
    read -ra fields <<<"${DQ_ANSWER%%$'\n'*}"
    printf '%s' "${fields[1]:-}"
}

# resolv_conf_write LINE...: rewrites the sandbox's /etc/resolv.conf IN PLACE (same inode, as
# test 100:333 does), so the daemon sees IN_CLOSE_WRITE on the file it watches.
resolv_conf_write() {
    printf '%s\n' "$@" >/etc/resolv.conf
}

# Sockets of PID connected to ADDR:53 (UDP or TCP), one per line; empty when there are none.
sockets_to() { # pid addr
    ss -Hanp "dst $2:53" 2>/dev/null | grep "pid=$1," || true
}
