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
	tcp_transfer "$(json .server.netns)" "$(json .client.netns)" "$(json .server.ip)" 5201
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

# ---- terway-eni: the pod's eth0 is an ENI ----

terway_eni_case() {
	local n
	traced terway-eni --placement "$1"
	# Socket to NIC, NIC to socket: nothing in between, in either direction.
	for n in node1 node2; do
		echo "$REQ" | jq -e --arg n "netprof-$RUN-$n" '[.hops[] | select(.where | startswith($n))] | length == 0' \
			> /dev/null || fail "a request hop in $n: $(echo "$REQ" | jq -c '[.hops[].where]')"
	done
	jq -e '[.workloads[0].hops.paths[] | select(.share > 5) | .veth_crossings == 0 and .netfilter_hooks == 0
		and .backlog_enqueues == 0] | length >= 2 and all' "$REPORT" > /dev/null ||
		fail "veth crossings, netfilter hooks or backlog enqueues on the way: $(jq -c '[.workloads[0].hops.paths[] | {direction, share, veth_crossings, netfilter_hooks, backlog_enqueues}]' "$REPORT")"
	expect_eq "$(hops_at "pod-a eth0")" 1 "pod A's ENI hops"
	expect_eq "$(hops_at "pod-b eth0")" 1 "pod B's ENI hops"
}
test_terway_eni_cross_node() { terway_eni_case cross-node; }
test_terway_eni_same_node() { terway_eni_case same-node; }

test_terway_eni_structure() {
	local n side
	up "$RUN_PREFIX-te" --cni terway-eni
	for n in pod-a pod-b; do
		ip -n "$(ns $n)" route show | grep -q "^default via 198.18.0.254 dev eth0 onlink" ||
			fail "$n has no default route via the gateway onlink"
		[ $n = pod-a ] && side=client || side=server
		expect_eq "$(jq -r --arg n "$n" '.napi[] | select(.netns == $n) | .cpus' "$T_DIR/show.json")" \
			"$(json ".placement.${side}_cpus")" "$n's ENI NAPI thread CPUs"
	done
	for n in node1 node2; do
		[ "$(ip -n "$(ns $n)" -o link show | grep -vc ': lo:')" = 1 ] || fail "$n has more than its own NIC"
	done
	tcp_ok
	down
}

test_terway_eni_killed_keeper() { killed_keeper_cleanup "$RUN_PREFIX-tk" --cni terway-eni; }

# ---- terway and vpc-cni: veth + policy routing onto the node's ENI ----

# policy_case CNI FROM_PREF TABLE_RE: the node's rules, then the traced path.
policy_case() {
	local cni=$1 pref=$2 table_re=$3 n pod ip
	up "$RUN_PREFIX-pr" --cni "$cni"
	for n in node1 node2; do
		[ $n = node1 ] && pod=client || pod=server
		ip=$(json ".$pod.ip")
		ip -n "$(ns $n)" rule show | grep -Eq "^512:	from all to $ip lookup main" ||
			fail "$n: no 'to $ip lookup main' rule: $(ip -n "$(ns $n)" rule show)"
		ip -n "$(ns $n)" rule show | grep -Eq "^$pref:	from $ip( to [0-9./]+)? lookup $table_re\$" ||
			fail "$n: no 'from $ip lookup <ENI table>' rule at $pref: $(ip -n "$(ns $n)" rule show)"
		ip -n "$(ns $n)" route show table all | grep -Eq "^default via 198.18.0.254 dev eth1 table $table_re onlink" ||
			fail "$n: the ENI's table has no default via the gateway"
	done
	tcp_ok
	down
	traced "$cni" --fib
	# The source rule sent the packet out of the ENI (eth1), not the node's eth0.
	expect_eq "$(hops_at "node1 eth1")" 1 "node1 ENI hops"
	expect_eq "$(hops_at "node1 eth0")" 0 "node1 primary NIC hops"
	echo "$REQ" | jq -e --arg n "netprof-$RUN-node1 " '[.hops[] | select((.where | startswith($n)) and .fib_lookups_after >= 2)] | length == 1' \
		> /dev/null || fail "no policy-routed FIB lookup (rules and the ENI table) in node1: $(echo "$REQ" | jq -c '[.hops[] | {where, fib_lookups_after}]')"
	expect_eq "$(echo "$REQ" | jq .veth_crossings)" 2 "veth crossings"
	# Same node: the 'to <pod> lookup main' rule keeps it off the ENI.
	traced "$cni" --placement same-node
	expect_eq "$(hops_at "node1 eth1")" 0 "ENI hops on the same node"
}

test_terway_policy_routing() { policy_case terway 2048 '100[0-9]+'; }
test_vpc_cni_policy_routing() { policy_case vpc-cni 1536 2; }
test_vpc_cni_killed_keeper() { killed_keeper_cleanup "$RUN_PREFIX-vk" --cni vpc-cni; }

# ---- --socket-bypass: sock_ops + sk_msg between same-node sockets ----

# bypass_transfer CGROUP_OR_EMPTY: 10 MiB from pod A to pod B by two
# processes (in the run's cgroup when given); prints pod A eth0's tx bytes
# during it. Fails unless every byte arrived.
bypass_transfer() {
	local cg=$1 before after got
	before=$(ip -n "$(ns pod-a)" -s -j link show eth0 | jq '.[0].stats64.tx.bytes')
	(
		[ -n "$cg" ] && echo $BASHPID > "$cg/cgroup.procs"
		exec ip netns exec "$(ns pod-b)" timeout 20 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201)); s.listen(1)
c, _ = s.accept(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
print(n)' > "$T_DIR/got"
	) &
	for _ in $(seq 50); do
		ip netns exec "$(ns pod-b)" ss -Htln 'sport = :5201' | grep -q . && break
		sleep 0.1
	done
	(
		[ -n "$cg" ] && echo $BASHPID > "$cg/cgroup.procs"
		exec ip netns exec "$(ns pod-a)" timeout 20 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 5201)); b = b"x" * 65536
for _ in range(160): s.sendall(b)
s.close()' "$(json .server.ip)"
	) || fail "the client's transfer failed"
	wait
	got=$(cat "$T_DIR/got")
	expect_eq "$got" 10485760 "bytes the server received"
	after=$(ip -n "$(ns pod-a)" -s -j link show eth0 | jq '.[0].stats64.tx.bytes')
	echo $((after - before))
}

test_socket_bypass_payload_takes_no_device() {
	local cg dev_bytes c
	need_cmd python3
	up "$RUN_PREFIX-sb" --cni calico --placement same-node --socket-bypass
	cg=$(json .cgroup)
	json '.hops[0].what' | grep -q "bpf_msg_redirect_hash" || fail "the hop list is not the payload's: $(json '.hops[0].what')"
	dev_bytes=$(bypass_transfer "$cg")
	# The handshake and the FINs only: a few hundred bytes, not 10 MiB.
	[ "$dev_bytes" -lt 65536 ] || fail "pod A's eth0 sent $dev_bytes bytes of a bypassed 10 MiB"
	c=$("$NETPROF" topo show --run "$RUN" --json | jq '.counters["bypass.bytes_redirected"] // 0')
	[ "$c" -ge 10485760 ] || fail "the sk_msg program redirected $c bytes"
	# Control: the same transfer from outside the run's cgroup is not bypassed.
	dev_bytes=$(bypass_transfer "")
	[ "$dev_bytes" -gt 10485760 ] || fail "control: pod A's eth0 sent only $dev_bytes bytes without the bypass"
	down
}

test_socket_bypass_run_follows_no_payload_packet() {
	local with without results
	traced calico --placement same-node
	without=$(jq '.workloads[0].hops.packets_followed' "$REPORT")
	[ "$without" -gt 1000 ] || fail "without the bypass the tracer followed $without packets"
	results=$(mktemp -d)
	"$NETPROF" run --cni calico --placement same-node --socket-bypass --run "$RUN" -w pingpong \
		-d 1s --warmup 200ms --no-profile --results "$results" > /dev/null 2> "$results/stderr" ||
		fail "run --socket-bypass exited $?: $(tail -3 "$results/stderr")"
	with=$(jq '.workloads[0].hops.packets_followed' "$results/report.json")
	# Thousands of round trips while traced, and only the connections'
	# handshakes and closes on a device.
	[ "$(jq '.workloads[0].explain.load.transactions_per_s > 1000' "$results/report.json")" = true ] ||
		fail "too few transactions while traced: $(jq '.workloads[0].explain.load.transactions_per_s' "$results/report.json")"
	[ "$with" -lt 100 ] || fail "with the bypass the tracer followed $with packets"
}

test_socket_bypass_bad_placement() {
	need_root
	expect_rc 2 "$NETPROF" topo up --cni calico --socket-bypass --run "$RUN_PREFIX-bad"
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"same-node"* ]] || fail "says how to fix it: $T_OUT"
	expect_rc 2 "$NETPROF" topo up --cni host --socket-bypass --run "$RUN_PREFIX-bad"
	expect_lines 1 "$T_OUT" "one line"
	ip netns list | grep -q "^netprof-$RUN_PREFIX-bad-" && fail "something was built"
	true
}

# The ids of the loaded bypass programs (this run's: the lock keeps others off).
bypass_prog_ids() {
	bpftool prog show --json | jq -r '.[] | select(.name == "bypass_sockops" or .name == "bypass_msg") | .id'
}

test_socket_bypass_killed_keeper() {
	local ids id
	need_cmd bpftool
	up "$RUN_PREFIX-sk" --cni calico --placement same-node --socket-bypass
	ids=$(bypass_prog_ids)
	[ -n "$ids" ] || fail "no bypass program loaded"
	kill -KILL "$(json .keeper)"
	down
	for id in $ids; do
		for _ in $(seq 50); do bpftool prog show id "$id" > /dev/null 2>&1 || break; sleep 0.1; done
		bpftool prog show id "$id" > /dev/null 2>&1 && fail "bypass program $id still loaded"
	done
	true
}

# ---- kata: tc mirred between eth0 and tap0_kata, a VMM relay to the guest ----

# mirred_packets NS DEV: packets the mirred action of DEV's ingress filter moved.
mirred_packets() {
	tc -n "$1" -s filter show dev "$2" ingress | awk '/mirred/ {m = 1} m && /Sent/ {print $4; exit}'
}

test_kata_structure() {
	local side pod pid n
	up "$RUN_PREFIX-ka" --cni kata
	for side in client server; do
		[ $side = client ] && pod=pod-a || pod=pod-b
		tc -n "$(ns $pod)" filter show dev eth0 ingress | grep -q "mirred (Egress Redirect to device tap0_kata)" ||
			fail "$pod: eth0's ingress does not redirect to tap0_kata"
		tc -n "$(ns $pod)" filter show dev tap0_kata ingress | grep -q "mirred (Egress Redirect to device eth0)" ||
			fail "$pod: tap0_kata's ingress does not redirect to eth0"
		expect_eq "$(json ".$side.netns")" "$(ns $pod)-vm" "$side runs in the guest"
		ip -n "$(ns $pod)-vm" -d link show eth0 | grep -q "tun type tap" || fail "the guest's eth0 is not a tap"
		expect_eq "$(ip -n "$(ns $pod)-vm" -j link show eth0 | jq -r '.[0].address')" \
			"$(ip -n "$(ns $pod)" -j link show eth0 | jq -r '.[0].address')" "the guest NIC's MAC"
	done
	tcp_ok
	"$NETPROF" topo show --run "$RUN" --json > "$T_DIR/after.json"
	for side in client server; do
		[ $side = client ] && pod=pod-a || pod=pod-b
		# Both redirects in both directions: the CNI's frames to the tap, the tap's to the CNI.
		for dev in eth0 tap0_kata; do
			n=$(mirred_packets "$(ns $pod)" $dev)
			[ "${n:-0}" -gt 1000 ] || fail "$pod $dev's mirred moved ${n:-0} packets"
		done
		for dir in to_guest from_guest; do
			n=$(jq ".counters[\"${side}_relay.frames_$dir\"] // 0" "$T_DIR/after.json")
			[ "$n" -gt 1000 ] || fail "the $side relay moved $n frames $dir"
		done
		pid=$(jq ".counters[\"${side}_relay.pid\"]" "$T_DIR/after.json")
		expect_eq "$(awk '/^Cpus_allowed_list/ {print $2}' /proc/$pid/status)" \
			"$(json ".placement.${side}_cpus")" "the $side relay's CPUs"
		grep -q "netprof-$RUN" /proc/$pid/cgroup || fail "the $side relay is not in the run's cgroup"
	done
	down
}

test_kata_killed_keeper() {
	local pids pid
	up "$RUN_PREFIX-kk" --cni kata
	pids=$("$NETPROF" topo show --run "$RUN" --json | jq '.counters["client_relay.pid"], .counters["server_relay.pid"]')
	kill -KILL "$(json .keeper)"
	down
	for pid in $pids; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && fail "relay $pid outlived its keeper"
	done
	true
}

# The issue's "done when": every datapath side by side, end to end.
test_compare_every_setup() {
	local out
	need_root; need_cmd jq
	out=$(mktemp)
	"$NETPROF" compare --cni host,calico,cilium,macvlan,kata,terway-eni,bridge,vpc-cni,sidecar \
		--run "$RUN_PREFIX-cmp" -w pingpong -d 1s --warmup 200ms --no-profile --json > "$out" 2> "$out.err" ||
		fail "compare exited $?: $(tail -3 "$out.err")"
	expect_eq "$(jq -r '[.rows[].cni] | join(",")' "$out")" \
		"host,calico,cilium,macvlan,kata,terway-eni,bridge,vpc-cni,sidecar" "the rows"
	jq -e '[.rows[] | .veth_crossings] | length == 9' "$out" > /dev/null || fail "rows without hop figures"
	expect_eq "$(jq '.rows[] | select(.cni == "terway-eni") | .veth_crossings' "$out")" 0 "terway-eni veth crossings"
}

run_tests
