# The published setups beyond calico/cilium/macvlan/sidecar (bridge, terway,
# terway-eni, vpc-cni, the sockmap bypass): each builds, carries TCP, shows
# its structural signature in the hop tracer, leaves the root namespace as
# it was, and goes away after its keeper is SIGKILLed. Topologies here are
# named netprof-su<pid>-*.
source "$(dirname "$0")/../lib.sh"

RUN_PREFIX="su$$"

# Everything in the root namespace a topology could touch.
root_state() {
	ip -d link show
	ip route show table all
	ip rule show
	iptables-legacy-save 2>/dev/null | grep -v '^#'
	nft list ruleset 2>/dev/null
	tc qdisc show
	sysctl -a 2>/dev/null | grep -E '^net\.(ipv4\.(ip_forward|conf\.(all|default))|bridge)'
}

# up RUN ARGS...: `topo up`, its show JSON in $T_DIR/show.json.
up() {
	local run=$1
	shift
	need_root; need_cmd jq; need_cmd iperf3
	T_DIR=$(mktemp -d)
	root_state > "$T_DIR/root.before"
	RUN=$run
	t_defer "$NETPROF" topo down --run "$run"
	expect_rc 0 "$NETPROF" topo up --run "$run" "$@"
	"$NETPROF" topo show --run "$run" --json > "$T_DIR/show.json" || fail "topo show failed"
}

json() { jq -r "$1" "$T_DIR/show.json"; }
ns() { echo "netprof-$RUN-$1"; }

# down [--killed]: removes the topology (after its keeper was SIGKILLed:
# by name) and checks nothing of it is left and the root is as it was.
down() {
	expect_rc 0 "$NETPROF" topo down --run "$RUN"
	[ -z "$(ip netns list | grep "^netprof-$RUN-" || true)" ] || fail "namespaces left: $(ip netns list | grep "netprof-$RUN-")"
	[ ! -e "/run/netprof/$RUN.json" ] || fail "state file left"
	[ ! -e "$(cgroup2_root)/netprof-$RUN" ] || fail "cgroup left"
	root_state > "$T_DIR/root.after"
	diff -u "$T_DIR/root.before" "$T_DIR/root.after" > "$T_DIR/root.diff" ||
		fail "root namespace changed: $(head -20 "$T_DIR/root.diff")"
}

# tcp_ok: one second of iperf3 from the client pod to the server pod.
tcp_ok() {
	local srv cli dst bytes spid
	srv=$(json .server.netns); cli=$(json .client.netns); dst=$(json .server.ip)
	ip netns exec "$srv" timeout 15 iperf3 -s -1 -p 5201 > /dev/null 2>&1 &
	spid=$!
	for _ in $(seq 50); do
		ip netns exec "$srv" ss -Htln 'sport = :5201' | grep -q . && break
		sleep 0.1
	done
	bytes=$(ip netns exec "$cli" timeout 15 iperf3 -c "$dst" -p 5201 -t 1 -J 2>/dev/null |
		jq -r '.end.sum_received.bytes // 0')
	wait $spid || true
	[ "${bytes:-0}" -gt 1000000 ] || fail "TCP $cli -> $dst moved ${bytes:-0} bytes"
}

# traced CNI ARGS...: a short traced pingpong (`netprof run`); the request
# path of its hop report in $REQ, the report in $REPORT.
traced() {
	local cni=$1 results
	shift
	need_root; need_cmd jq
	results=$(mktemp -d)
	RUN="$RUN_PREFIX-$T_SEQ"
	"$NETPROF" run --cni "$cni" --run "$RUN" -w pingpong -d 1s --warmup 200ms --no-profile \
		--results "$results" "$@" > "$results/stdout" 2> "$results/stderr" ||
		fail "run --cni $cni $* exited $?: $(tail -3 "$results/stderr")"
	REPORT=$results/report.json
	REQ=$(jq '.workloads[0].hops.paths[] | select(.direction | startswith("Request"))' "$REPORT")
	[ -n "$REQ" ] || fail "no request path in the hop report"
	echo "$REQ" | jq -e '.hops[-1].what | startswith("delivered to a TCP socket")' > /dev/null ||
		fail "the request path does not end in a socket: $(echo "$REQ" | jq -c '.hops[-1]')"
}

# hops_at WHERE: how many request hops are at "<netprof-RUN-WHERE>" exactly.
hops_at() {
	echo "$REQ" | jq --arg w "netprof-$RUN-$1" '[.hops[] | select(.where == $w)] | length'
}

# killed_keeper_cleanup RUN ARGS...: a `topo up` whose keeper is SIGKILLed
# is still removed whole by `topo down`.
killed_keeper_cleanup() {
	local keeper
	up "$@"
	keeper=$(json .keeper)
	[ "$keeper" -gt 0 ] 2>/dev/null || fail "no keeper pid in topo show: $keeper"
	kill -KILL "$keeper"
	for _ in $(seq 50); do kill -0 "$keeper" 2>/dev/null || break; sleep 0.1; done
	down
}

# ---- bridge ----

test_bridge_cross_node() {
	local n
	up "$RUN_PREFIX-br" --cni bridge
	for n in node1 node2; do
		ip -n "$(ns $n)" -d link show cni0 | grep -q "bridge" || fail "no bridge cni0 in $n"
		[ "$(ip -n "$(ns $n)" -o link show master cni0 | grep -c ' veth')" = 1 ] ||
			fail "$n: not one veth port on cni0: $(ip -n "$(ns $n)" -o link show master cni0)"
	done
	tcp_ok
	down
	traced bridge
	# Up through the bridge device on node1, down through it on node2.
	expect_eq "$(hops_at node1\ cni0)" 1 "node1 bridge hops"
	expect_eq "$(hops_at node2\ cni0)" 1 "node2 bridge hops"
	expect_eq "$(echo "$REQ" | jq .veth_crossings)" 2 "veth crossings"
}

test_bridge_same_node() {
	traced bridge --placement same-node
	# Bridged from port to port: no hop on the bridge device itself.
	expect_eq "$(hops_at node1\ cni0)" 0 "bridge device hops on the same node"
	expect_eq "$(echo "$REQ" | jq --arg n "netprof-$RUN-node1 veth" \
		'[.hops[] | select(.where | startswith($n))] | map(.where) | unique | length')" 2 \
		"node1 port hops (pod A's port in, pod B's port out)"
	expect_eq "$(echo "$REQ" | jq .veth_crossings)" 2 "veth crossings"
}

test_bridge_killed_keeper() { killed_keeper_cleanup "$RUN_PREFIX-bk" --cni bridge; }

run_tests
