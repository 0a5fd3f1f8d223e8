# The Istio-style sidecar: Istio's nat rules and netprof's proxy in two pods
# joined by a veth. A client (uid 0) in pod A talks to a server in pod B; both
# proxies must carry the connection, the server must see 127.0.0.6, the bytes
# must come back intact, and nothing may be left running afterwards.
source "$(dirname "$0")/../lib.sh"

SERVER_PORT=8080
A_ADDR=198.18.200.1
B_ADDR=198.18.200.2

# Reads everything until the client's FIN, then sends it all back and
# closes: the reply can only start once the half-close has crossed both
# proxies. Writes the peer address it saw to $2.
SERVER_PY='
import socket, sys
port, peer_file = int(sys.argv[1]), sys.argv[2]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))
ls.listen(8)
open(peer_file + ".ready", "w").close()
ls.settimeout(30)
c, peer = ls.accept()
c.settimeout(30)
with open(peer_file, "w") as f:
    f.write(peer[0] + "\n")
data = bytearray()
while True:
    d = c.recv(65536)
    if not d:
        break
    data += d
c.sendall(data)
c.close()
'

# Sends N random bytes, half-closes, reads the reply to EOF and says
# whether it is the same.
CLIENT_PY='
import os, socket, sys
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = os.urandom(size)
s = socket.create_connection((host, port), timeout=30)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
print(len(got), "same" if bytes(got) == data else "different")
'

# Connects and expects the connection to end without a byte, by a reset
# (during or after the handshake) or a FIN; a timeout is a failure.
CLOSED_PY='
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    d = s.recv(1)
except ConnectionResetError:
    d = b""
assert d == b"", d
'

# Accepts one connection and reads nothing for $3 seconds.
SLOW_SERVER_PY='
import socket, sys, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1])))
ls.listen(8)
open(sys.argv[2], "w").close()
ls.settimeout(30)
c, peer = ls.accept()
time.sleep(float(sys.argv[3]))
c.close()
'

# Sends without blocking until $3 bytes are gone or nothing more is taken
# for a second; prints how many bytes were taken.
FLOOD_PY='
import select, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.setblocking(False)
chunk = b"x" * (1 << 20)
limit, total = int(sys.argv[3]), 0
while total < limit:
    r, w, x = select.select([], [s], [], 1.0)
    if not w:
        break
    try:
        total += s.send(chunk)
    except BlockingIOError:
        pass
print(total)
'

# Two pods on one veth, each with lo up.
make_pods() {
	POD_A=$(t_netns pod-a)
	POD_B=$(t_netns pod-b)
	ip -n "$POD_A" link add eth0 type veth peer name eth0 netns "$POD_B" || fail "veth"
	ip -n "$POD_A" addr add $A_ADDR/24 dev eth0
	ip -n "$POD_B" addr add $B_ADDR/24 dev eth0
	ip -n "$POD_A" link set eth0 up
	ip -n "$POD_B" link set eth0 up
	T_DIR=$(mktemp -d)
}

# start_sidecar NETNS NAME [options]: `netprof proxy --sidecar` in the
# background; waits until it says the proxy listens.
start_sidecar() {
	local ns=$1 name=$2 _
	shift 2
	"$NETPROF" proxy --sidecar "$ns" --json "$@" >"$T_DIR/$name.json" 2>"$T_DIR/$name.err" &
	echo $! >"$T_DIR/$name.pid"
	for _ in $(seq 100); do
		grep -q "listening on" "$T_DIR/$name.err" 2>/dev/null && return 0
		kill -0 "$(cat "$T_DIR/$name.pid")" 2>/dev/null ||
			fail "sidecar $name exited: $(cat "$T_DIR/$name.err")"
		sleep 0.05
	done
	fail "sidecar $name did not start: $(cat "$T_DIR/$name.err")"
}

# stop_sidecar NAME: SIGTERM, as a run's teardown or a ^C would; its
# counters are then in $T_DIR/NAME.json.
stop_sidecar() {
	local pid rc=0
	pid=$(cat "$T_DIR/$1.pid")
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "sidecar $1 exited $rc: $(cat "$T_DIR/$1.err")"
}

stat_of() { jq -r ".$2" "$T_DIR/$1.json"; }

# The proxies running in a pod namespace (the test's python helpers are
# there too).
proxy_pids() {
	local pid
	for pid in $(ip netns pids "$1"); do
		[ "$(cat /proc/"$pid"/comm 2>/dev/null)" = netprof-proxy ] && echo "$pid"
	done
	return 0
}

stop_all() {
	local f
	for f in "$T_DIR"/*.pid; do
		if [ -e "$f" ]; then kill -TERM "$(cat "$f")" 2>/dev/null || true; fi
	done
	wait 2>/dev/null || true
	rm -rf "$T_DIR"
}

run_server() {
	ip netns exec "$POD_B" timeout 40 python3 -c "$SERVER_PY" $SERVER_PORT "$T_DIR/peer" &
	SERVER_PID=$!
	for _ in $(seq 100); do
		[ -e "$T_DIR/peer.ready" ] && return 0
		sleep 0.05
	done
	fail "server did not start"
}

# nat_packets NETNS BACKEND CHAIN: packets that went through CHAIN's rules.
nat_packets() {
	ip netns exec "$1" "iptables-$2" -w 10 -t nat -L "$3" -v -x -n |
		awk 'NR > 2 { n += $1 } END { print n + 0 }'
}

sidecar_round_trip() {
	local backend=$1 size=$2 out
	need_root
	need_cmd python3
	need_cmd jq
	need_cmd "iptables-$backend-restore"
	make_pods
	trap stop_all EXIT
	start_sidecar "$POD_A" a --iptables "$backend"
	start_sidecar "$POD_B" b --iptables "$backend"

	# The proxies run as 1337 (so the owner rules let their traffic out).
	for ns in "$POD_A" "$POD_B"; do
		pid=$(proxy_pids "$ns")
		[ -n "$pid" ] || fail "no proxy in $ns"
		expect_eq "$(ps -o uid= -p "$pid" | tr -d ' ')" 1337 "proxy uid in $ns"
		expect_eq "$(ps -o comm= -p "$pid")" netprof-proxy "proxy name in $ns"
	done

	run_server
	out=$(ip netns exec "$POD_A" timeout 40 python3 -c "$CLIENT_PY" $B_ADDR $SERVER_PORT "$size") ||
		fail "client failed: $out"
	expect_eq "$out" "$size same" "bytes echoed through both sidecars"
	wait $SERVER_PID || fail "server failed"
	expect_eq "$(cat "$T_DIR/peer")" 127.0.0.6 "peer address the server saw"

	# Istio's chains took the connection: outbound in A, inbound in B.
	[ "$(nat_packets "$POD_A" "$backend" ISTIO_REDIRECT)" -ge 1 ] ||
		fail "ISTIO_REDIRECT unused in pod A"
	[ "$(nat_packets "$POD_B" "$backend" ISTIO_IN_REDIRECT)" -ge 1 ] ||
		fail "ISTIO_IN_REDIRECT unused in pod B"

	stop_sidecar a
	stop_sidecar b
	[ "$(stat_of a outbound_conns)" -ge 1 ] || fail "proxy A outbound_conns: $(cat "$T_DIR/a.json")"
	[ "$(stat_of b inbound_conns)" -ge 1 ] || fail "proxy B inbound_conns: $(cat "$T_DIR/b.json")"
	expect_eq "$(stat_of a inbound_conns)" 0 "proxy A inbound_conns"
	expect_eq "$(stat_of b outbound_conns)" 0 "proxy B outbound_conns"
	for p in a b; do
		expect_eq "$(stat_of $p bytes_to_upstream)" "$size" "proxy $p bytes to upstream"
		expect_eq "$(stat_of $p bytes_to_downstream)" "$size" "proxy $p bytes to downstream"
		expect_eq "$(stat_of $p upstream_connect_errors)" 0 "proxy $p connect errors"
		expect_eq "$(stat_of $p resets)" 0 "proxy $p resets"
		expect_eq "$(stat_of $p active_conns)" 0 "proxy $p connections left open"
	done
	# Nothing of the sidecars is left: no process at all in the pods.
	expect_eq "$(ip netns pids "$POD_A")$(ip netns pids "$POD_B")" "" "processes left in the pods"
}

test_sidecar_round_trip_legacy() { sidecar_round_trip legacy 1048576; }
test_sidecar_round_trip_nft() { sidecar_round_trip nft 1048576; }

# A task that has exited leaves its cgroup a moment later: retry for 2 s.
remove_cgroup() {
	local _
	for _ in $(seq 40); do
		rmdir "$1" 2>/dev/null && return 0
		[ -d "$1" ] || return 0
		sleep 0.05
	done
	echo "cannot remove $1" >&2
}

test_sidecar_in_cgroup() {
	local root pid
	need_root
	need_cmd jq
	root=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	[ -n "$root" ] || skip "no cgroup2 mount"
	make_pods
	cg="$root/$T_PREFIX-$T_SEQ-sc"	# global: the EXIT trap runs after return
	mkdir "$cg" || fail "cannot create $cg"
	trap 'stop_all; remove_cgroup "$cg"' EXIT
	start_sidecar "$POD_A" a --cgroup "$cg"
	pid=$(proxy_pids "$POD_A")
	grep -qx "$pid" "$cg/cgroup.procs" || fail "proxy $pid not in $cg: $(cat "$cg/cgroup.procs")"
	stop_sidecar a
	expect_eq "$(cat "$cg/cgroup.procs")" "" "cgroup empty after stop"
}

# A connection straight to a listener was not redirected: the proxy must
# refuse it rather than connect to itself.
test_proxy_refuses_unredirected() {
	need_root
	need_cmd python3
	make_pods
	trap stop_all EXIT
	start_sidecar "$POD_A" a
	ip netns exec "$POD_A" timeout 10 python3 -c "$CLOSED_PY" 127.0.0.1 15001 ||
		fail "direct connection not refused"
	sleep 0.6
	stop_sidecar a
	expect_eq "$(stat_of a no_original_dst)" 1 "connections without an original destination"
	expect_eq "$(stat_of a outbound_conns)" 0 "nothing proxied"
}

# No server behind pod B's port: proxy B's upstream connect is refused and
# counted; the client sees its connection end.
test_proxy_counts_connect_errors() {
	need_root
	need_cmd python3
	make_pods
	trap stop_all EXIT
	start_sidecar "$POD_A" a
	start_sidecar "$POD_B" b
	ip netns exec "$POD_A" timeout 10 python3 -c "$CLOSED_PY" $B_ADDR 9 ||
		fail "client to a closed port"
	stop_sidecar a
	stop_sidecar b
	expect_eq "$(stat_of b upstream_connect_errors)" 1 "proxy B connect errors"
	expect_eq "$(stat_of b inbound_conns)" 1 "proxy B took the connection"
	expect_eq "$(stat_of a outbound_conns)" 1 "proxy A took the connection"
}

# A server that does not read must stall the client: each proxy stops
# reading a side while its buffer towards the other is full, so what the
# client can push is bounded by socket buffers, and the proxies' memory
# stays small. A proxy without backpressure would take all 256 MiB.
test_proxy_backpressure() {
	local taken limit=268435456 ns pid rss
	need_root
	need_cmd python3
	make_pods
	trap stop_all EXIT
	start_sidecar "$POD_A" a
	start_sidecar "$POD_B" b
	ip netns exec "$POD_B" timeout 20 python3 -c "$SLOW_SERVER_PY" $SERVER_PORT "$T_DIR/slow.ready" 5 &
	for _ in $(seq 100); do
		[ -e "$T_DIR/slow.ready" ] && break
		sleep 0.05
	done
	taken=$(ip netns exec "$POD_A" timeout 20 python3 -c "$FLOOD_PY" $B_ADDR $SERVER_PORT $limit) ||
		fail "flood client failed"
	[ "$taken" -gt 0 ] || fail "nothing sent"
	[ "$taken" -lt $limit ] || fail "the client never stalled: $taken bytes taken"
	for ns in "$POD_A" "$POD_B"; do
		pid=$(proxy_pids "$ns")
		rss=$(awk '/^VmRSS:/ {print $2}' /proc/"$pid"/status)
		[ "$rss" -lt 16384 ] || fail "proxy in $ns holds $rss KiB with a stalled reader"
	done
	echo "client stalled after $taken bytes"
}

# `netprof proxy` on its own: the stats file appears once it listens, is
# rewritten while it runs (here a connection made straight to the listener,
# which has no original destination), and says running=false after SIGTERM.
test_proxy_stats_file() {
	local pod stats rc=0 _
	need_root
	need_cmd python3
	need_cmd jq
	pod=$(t_netns pod)
	T_DIR=$(mktemp -d)
	stats=$T_DIR/stats.json
	trap 'kill -TERM $PROXY_PID 2>/dev/null || true; rm -rf "$T_DIR"' EXIT
	# uid 0 stays root (the directory is root's); the drop itself is
	# covered by the sidecar tests.
	ip netns exec "$pod" "$NETPROF" proxy --uid 0 --gid 0 --stats "$stats" 2>"$T_DIR/err" &
	PROXY_PID=$!	# global: the EXIT trap needs it
	for _ in $(seq 100); do
		[ -e "$stats" ] && break
		sleep 0.05
	done
	[ -e "$stats" ] || fail "no stats file: $(cat "$T_DIR/err")"
	expect_eq "$(jq -r .running "$stats")" true "running while up"
	expect_eq "$(jq -r .no_original_dst "$stats")" 0 "no connection yet"
	ip netns exec "$pod" timeout 10 python3 -c "$CLOSED_PY" 127.0.0.1 15006 || fail "direct connection"
	for _ in $(seq 30); do
		[ "$(jq -r .no_original_dst "$stats")" = 1 ] && break
		sleep 0.1
	done
	expect_eq "$(jq -r .no_original_dst "$stats")" 1 "counted within 3 s while running"
	kill -TERM $PROXY_PID
	wait $PROXY_PID || rc=$?
	expect_eq "$rc" 0 "exit status after SIGTERM"
	expect_eq "$(jq -r .running "$stats")" false "running after exit"
	[ ! -e "$stats.tmp" ] || fail "temporary file left"
}

# An upstream that never answers the SYN: the connect is bounded by
# --connect-timeout, counted, and the client's connection reset. The proxy
# runs alone here, with one REDIRECT rule, to have a short timeout.
test_proxy_connect_timeout() {
	local stats rc=0 start elapsed
	need_root
	need_cmd python3
	need_cmd jq
	make_pods
	chown 1337:1337 "$T_DIR"
	stats=$T_DIR/stats.json
	trap 'kill -TERM $PROXY_PID 2>/dev/null || true; rm -rf "$T_DIR"' EXIT
	ip netns exec "$POD_B" iptables-legacy -w 10 -A INPUT -p tcp --dport 9 -j DROP
	ip netns exec "$POD_A" iptables-legacy -w 10 -t nat -A OUTPUT -p tcp -d $B_ADDR --dport 9 \
		-m owner ! --uid-owner 1337 -j REDIRECT --to-ports 15001
	ip netns exec "$POD_A" "$NETPROF" proxy --stats "$stats" --connect-timeout 300ms \
		2>"$T_DIR/err" &
	PROXY_PID=$!	# global: the EXIT trap needs it
	for _ in $(seq 100); do
		[ -e "$stats" ] && break
		sleep 0.05
	done
	[ -e "$stats" ] || fail "proxy did not start: $(cat "$T_DIR/err")"
	start=$(date +%s%N)
	ip netns exec "$POD_A" timeout 10 python3 -c "$CLOSED_PY" $B_ADDR 9 || fail "client"
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ $elapsed -lt 250 ] || [ $elapsed -ge 3000 ]; then
		fail "connection ended after $elapsed ms"
	fi
	kill -TERM $PROXY_PID
	wait $PROXY_PID || rc=$?
	expect_eq "$rc" 0 "proxy exit status"
	expect_eq "$(jq -r .upstream_connect_timeouts "$stats")" 1 "connect timeouts"
	expect_eq "$(jq -r .upstream_connect_errors "$stats")" 1 "connect errors"
	expect_eq "$(jq -r .active_conns "$stats")" 0 "open connections"
}

# netprof killed outright: its proxy must not outlive it.
test_proxy_dies_with_netprof() {
	local launcher pid dir _
	need_root
	make_pods
	trap stop_all EXIT
	start_sidecar "$POD_A" a
	pid=$(proxy_pids "$POD_A")
	dir=$(tr '\0' '\n' </proc/"$pid"/cmdline | grep -m1 '^/tmp/netprof-sidecar-')
	dir=${dir%/*}
	launcher=$(cat "$T_DIR/a.pid")
	kill -KILL "$launcher"
	wait "$launcher" 2>/dev/null || true
	for _ in $(seq 40); do
		[ -z "$(proxy_pids "$POD_A")" ] && break
		sleep 0.05
	done
	expect_eq "$(proxy_pids "$POD_A")" "" "proxy left after netprof was SIGKILLed"
	# SIGKILL skips the teardown: remove the stats directory it left.
	[ -n "$dir" ] && rm -rf "$dir"
}

test_proxy_bad_input() {
	local args
	for args in "--outbound-port 0" "--outbound-port 65536" "--inbound-port http" \
		"--inbound-port 15001" "--uid -5" "--gid 4294967295" "--max-conns 0" \
		"--buffer 1" "--connect-timeout 0" "--sidecar x --stats /tmp/x" "--iptables nft" \
		"--cgroup /x" "--sidecar x --iptables iptables" "--frobnicate" "stray"; do
		# shellcheck disable=SC2086
		expect_rc 2 "$NETPROF" proxy $args
		expect_lines 1 "$T_OUT" "'proxy $args' says one line"
	done
	expect_rc 2 "$NETPROF" proxy --outbound-port 99999
	[[ "$T_OUT" == *"--outbound-port"*"65535"* ]] || fail "names the option and range: $T_OUT"
	expect_rc 0 "$NETPROF" proxy -h
	[[ "$T_OUT" == *"Examples:"* ]] || fail "help has examples"
	"$NETPROF" -h | grep -q '^  proxy ' && fail "proxy is listed in 'netprof -h'"
	return 0
}

# A second sidecar in the same pod is refused before it changes anything:
# the first one's rules stay single and its proxy keeps running.
test_sidecar_one_per_pod() {
	local pid jumps
	need_root
	need_cmd jq
	make_pods
	trap stop_all EXIT
	start_sidecar "$POD_A" a
	pid=$(proxy_pids "$POD_A")
	expect_rc 1 "$NETPROF" proxy --sidecar "$POD_A"
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"already has Istio's chains"* ]] || fail "says why: $T_OUT"
	jumps=$(ip netns exec "$POD_A" iptables-legacy-save -t nat | grep -c -- '-j ISTIO_INBOUND$')
	expect_eq "$jumps" 1 "jumps to ISTIO_INBOUND"
	expect_eq "$(proxy_pids "$POD_A")" "$pid" "proxies in the pod"
	stop_sidecar a
}

test_sidecar_missing_netns() {
	need_root
	expect_rc 1 "$NETPROF" proxy --sidecar netprof-t$$-no-such-ns
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"no-such-ns"* ]] || fail "names the namespace: $T_OUT"
}

run_tests
