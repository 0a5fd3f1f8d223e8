# netprof topo: every emulated datapath, both placements. Pod A reaches pod B
# over TCP (and the ClusterIP where the datapath has one), each datapath's
# structural signature holds, and the root namespace is the same before `up`
# and after `down`. Topologies here are named netprof-tp<pid>-*.
source "$(dirname "$0")/../lib.sh"

RUN_PREFIX="tp$$"
VIP=198.19.0.10

# Everything in the root namespace a topology could touch.
root_snapshot() {
	ip -d link show
	ip route show table all
	ip rule show
	iptables-legacy-save 2>/dev/null | grep -v '^#'
	iptables-nft-save 2>/dev/null | grep -v '^#'
	nft list ruleset 2>/dev/null
	tc qdisc show
	sysctl net.ipv4.ip_forward net.ipv4.conf.all net.ipv4.conf.default \
		net.ipv6.conf.all.disable_ipv6 net.ipv6.conf.default.disable_ipv6 2>/dev/null
}

# topo_up RUN ARGS...: builds, remembers the root snapshot and the run.
topo_up() {
	local run=$1
	shift
	need_root
	need_cmd iperf3
	root_snapshot > "$T_DIR/root.before"
	expect_rc 0 "$NETPROF" topo up --run "$run" "$@"
	TOPO_RUN=$run
	"$NETPROF" topo show --run "$run" --json > "$T_DIR/show.json" || fail "topo show failed"
	jq -r '[.namespaces[].bpf[]?.id, .cgroup_bpf[]?.id] | .[]' "$T_DIR/show.json" \
		> "$T_DIR/prog_ids"
}

# The wire's NAPI threads (--wire napi, the default): one per wire end (four
# with the macvlan gateway's two legs), each where show says it is pinned.
check_napi_threads() {
	local want=2 pid
	[ -n "$(json '.namespaces[] | select(.name|endswith("-gw")) | .name')" ] && want=4
	expect_eq "$(json '.napi | length')" "$want" "NAPI threads of the wire"
	for pid in $(json '.napi[].pid'); do
		expect_eq "$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/$pid/status")" \
			"$(json ".napi[] | select(.pid == $pid) | .cpus")" "CPUs of NAPI thread $pid"
	done
}

# Every task in pod NS (its processes: the sidecar proxies) on CPUs.
check_pod_cpus() {
	local ino t n=0 got
	ino=$(stat -L -c %i "/run/netns/$(ns "$1")")
	for t in /proc/[0-9]*/task/[0-9]*; do
		[ "$(stat -L -c %i "$t/ns/net" 2>/dev/null)" = "$ino" ] || continue
		got=$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status" 2>/dev/null)
		[ -n "$got" ] || continue	# the task ended since the walk
		n=$((n + 1))
		expect_eq "$got" "$2" "CPUs of $1's task $t"
	done
	[ "$n" -gt 0 ] || fail "no process in $1"
}

# topo_down: removes the topology and checks nothing of it is left.
topo_down() {
	local run=$TOPO_RUN id
	expect_rc 0 "$NETPROF" topo down --run "$run"
	TOPO_RUN=
	[ -z "$(ip netns list | grep "^netprof-$run-" || true)" ] || fail "namespaces left: $(ip netns list | grep "netprof-$run-")"
	[ ! -e "/run/netprof/$run.json" ] || fail "state file left"
	[ -z "$(find / -maxdepth 5 -path '/sys/fs/cgroup*' -name "netprof-$run" 2>/dev/null)" ] || fail "cgroup left"
	for id in $(cat "$T_DIR/prog_ids"); do
		bpftool prog show id "$id" >/dev/null 2>&1 && fail "BPF program $id still loaded"
	done
	root_snapshot > "$T_DIR/root.after"
	diff -u "$T_DIR/root.before" "$T_DIR/root.after" > "$T_DIR/root.diff" ||
		fail "root namespace changed: $(head -20 "$T_DIR/root.diff")"
}

json() { jq -r "$1" "$T_DIR/show.json"; }
ns() { echo "netprof-$TOPO_RUN-$1"; }

# A fresh look at the topology's counters (the keeper answers `show`).
counter() {
	"$NETPROF" topo show --run "$TOPO_RUN" --json | jq -r ".counters[\"$1\"] // 0"
}

# sum_packets CHAIN_REGEX: packets of the matching rules in `iptables-save -c` input.
sum_packets() {
	sed -n "s/^\[\([0-9]*\):[0-9]*\] -A $1\( .*\)\{0,1\}\$/\1/p" | awk '{s += $1} END {print s + 0}'
}

# Packets the FORWARD chain's rules matched in a node.
forward_packets() {
	ip netns exec "$(ns "$1")" iptables-legacy-save -c -t filter | sum_packets FORWARD
}

setup_test_dir() {
	T_DIR=$(mktemp -d)
	TOPO_RUN=
	trap '[ -n "$TOPO_RUN" ] && "$NETPROF" topo down --run "$TOPO_RUN" >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT
}

# pod -> pod, and pod -> ClusterIP when the topology has one.
check_reachability() {
	local cg=${1:-}
	tcp_transfer "$(json .server.netns)" "$(json .client.netns)" "$(json .server.ip)" 5201 "$cg"
	if [ "$(json .target)" = service ]; then
		tcp_transfer "$(json .server.netns)" "$(json .client.netns)" $VIP 80 "$cg"
	fi
}

check_kube_proxy_dnat() {
	# The client's node NATed the ClusterIP: its conntrack entry says so.
	ip netns exec "$(ns node1)" conntrack -L 2>/dev/null |
		grep "dst=$VIP .* src=$(json .server.ip) " > /dev/null ||
		fail "no DNAT entry for $VIP in node1's conntrack"
}

check_socket_lb() {
	local before=$1 after
	after=$(counter socklb.rewrites)
	[ "$after" -gt "$before" ] || fail "socket-LB rewrote nothing ($before -> $after)"
	for n in node1 node2; do
		ip netns exec "$(ns $n)" conntrack -L 2>/dev/null | grep -q "$VIP" &&
			fail "$n's conntrack has a NAT entry for $VIP"
	done
	return 0
}

calico_case() {
	local placement=$1 cg f1 f2
	setup_test_dir
	topo_up "$RUN_PREFIX-ca" --cni calico --placement "$placement" --target service --services 20
	f1=$(forward_packets node1)
	check_reachability
	f2=$(forward_packets node1)
	[ "$f2" -gt $((f1 + 1000)) ] || fail "node1 FORWARD counters did not grow ($f1 -> $f2)"
	check_kube_proxy_dnat
	topo_down
}
test_calico_cross_node() { calico_case cross-node; }
test_calico_same_node() { calico_case same-node; }

cilium_case() {
	local cni=$1 placement=$2 cg f1 f2 lb r1 r2 key
	setup_test_dir
	topo_up "$RUN_PREFIX-ci" --cni "$cni" --placement "$placement" --target service
	cg=$(json .cgroup)
	# conntrack in the client's node, so that a NAT entry would show.
	ip netns exec "$(ns node1)" iptables-legacy -t mangle -A PREROUTING -m conntrack --ctstate NEW
	if [ "$cni" = cilium-legacy ]; then key=node1.to_stack
	elif [ "$placement" = same-node ]; then key=node1.redirect_peer
	else key=node2.redirect_peer; fi
	f1=$(forward_packets node1)
	r1=$(counter $key)
	lb=$(counter socklb.rewrites)
	check_reachability "$cg"
	f2=$(forward_packets node1)
	r2=$(counter $key)
	[ "$r2" -gt $((r1 + 1000)) ] || fail "$key did not grow ($r1 -> $r2)"
	if [ "$cni" = cilium ]; then
		[ "$f2" = "$f1" ] || fail "FORWARD counters grew on node1 ($f1 -> $f2)"
		[ "$(counter node1.to_stack)" -lt 50 ] || fail "host-routing handed packets to the stack"
		check_socket_lb "$lb"
	else
		[ "$f2" -gt $((f1 + 1000)) ] || fail "legacy: node1 FORWARD counters did not grow ($f1 -> $f2)"
		# Legacy keeps kube-proxy: the ClusterIP is its DNAT, in conntrack.
		check_kube_proxy_dnat
	fi
	topo_down
}
test_cilium_cross_node() { cilium_case cilium cross-node; }
test_cilium_same_node() { cilium_case cilium same-node; }
test_cilium_legacy_cross_node() { cilium_case cilium-legacy cross-node; }
test_cilium_legacy_same_node() { cilium_case cilium-legacy same-node; }

macvlan_case() {
	local cg lb n c
	setup_test_dir
	topo_up "$RUN_PREFIX-mv" --cni macvlan "$@"
	check_napi_threads
	cg=$(json .cgroup)
	for n in pod-a pod-b; do
		ip -n "$(ns $n)" -d link show | grep -q "veth" && fail "a veth in $n"
		ip -n "$(ns $n)" -d link show eth0 | grep -q "macvlan mode bridge" || fail "$n eth0 is not a bridge-mode macvlan"
	done
	# Count what reaches each node's netfilter hooks.
	for n in node1 node2; do
		ip netns exec "$(ns $n)" iptables-legacy -t raw -A PREROUTING
		ip netns exec "$(ns $n)" iptables-legacy -t mangle -A POSTROUTING
	done
	lb=$(counter socklb.rewrites)
	check_reachability "$cg"
	for n in node1 node2; do
		c=$(ip netns exec "$(ns $n)" iptables-legacy-save -c | sum_packets '[A-Z]*')
		[ "$c" = 0 ] || fail "$n's netfilter saw $c packets"
	done
	[ "$(json .target)" = service ] && check_socket_lb "$lb"
	# The counting rules do count host traffic (node1 -> node2 over the wire).
	if [ -z "$(json '.namespaces[] | select(.name|endswith("-gw")) | .name')" ]; then
		ip netns exec "$(ns node1)" timeout 2 bash -c 'echo > /dev/tcp/198.18.0.2/9' 2>/dev/null || true
		c=$(ip netns exec "$(ns node2)" iptables-legacy-save -c -t raw | sum_packets PREROUTING)
		[ "$c" -gt 0 ] || fail "control: node2's raw PREROUTING counted nothing from node1"
	fi
	topo_down
}
test_macvlan_cross_node() { macvlan_case --target service --socket-lb; }
test_macvlan_same_node() { macvlan_case --placement same-node --target service --socket-lb; }
test_macvlan_two_subnets() { macvlan_case --subnets 2; }

sidecar_case() {
	local placement=$1 peer
	setup_test_dir
	need_cmd python3
	topo_up "$RUN_PREFIX-sc" --cni sidecar --placement "$placement" --target service
	# The proxies are the pods' processes: on their nodes' CPUs.
	check_pod_cpus pod-a "$(json .placement.client_cpus)"
	check_pod_cpus pod-b "$(json .placement.server_cpus)"
	for dst in "$(json .server.ip):5201" "$VIP:80"; do
		ip netns exec "$(ns pod-b)" timeout 10 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201)); s.listen(1)
c, a = s.accept(); c.sendall(c.recv(64)); print(a[0]); c.close()' > "$T_DIR/peer" &
		for _ in $(seq 50); do
			ip netns exec "$(ns pod-b)" ss -Htln 'sport = :5201' | grep -q . && break
			sleep 0.1
		done
		ip netns exec "$(ns pod-a)" timeout 10 python3 -c '
import socket, sys
h, p = sys.argv[1].split(":")
s = socket.create_connection((h, int(p)), timeout=5); s.sendall(b"ping")
assert s.recv(64) == b"ping"' "$dst" || fail "no echo through the sidecars to $dst"
		wait
		peer=$(cat "$T_DIR/peer")
		expect_eq "$peer" 127.0.0.6 "the server's peer via $dst"
	done
	sleep 0.7	# the proxies write their counters every 0.5 s
	[ "$(counter client_proxy.outbound_conns)" -ge 2 ] || fail "pod-a's proxy carried no outbound connection"
	[ "$(counter server_proxy.inbound_conns)" -ge 2 ] || fail "pod-b's proxy carried no inbound connection"
	check_kube_proxy_dnat
	topo_down
}
test_sidecar_cross_node() { sidecar_case cross-node; }
test_sidecar_same_node() { sidecar_case same-node; }

test_host_baseline() {
	setup_test_dir
	topo_up "$RUN_PREFIX-ho" --cni host
	check_napi_threads
	expect_eq "$(json .client.netns)" "$(ns node1)" "host: the client is node1"
	check_reachability
	topo_down
}

test_show_lists_structure() {
	setup_test_dir
	# --services 0: Calico's ruleset alone (no kube-proxy beside it).
	topo_up "$RUN_PREFIX-sh" --cni calico --pods 100 --policies 3 --services 0
	local rules
	rules=$(jq '[.namespaces[] | select(.name|endswith("node1")) | .iptables[].rules] | add' "$T_DIR/show.json")
	# ~20 rules per pod, +2 per policy per endpoint: 100 pods, 3 policies ~ 2.9k.
	[ "$rules" -gt 2700 ] && [ "$rules" -lt 3200 ] || fail "node1 has $rules rules for 100 pods x 3 policies"
	json '.hops[].what' | grep -q "cali-FORWARD" || fail "the hop list names cali-FORWARD"
	json '.namespaces[].devices[] | select(.kind=="veth" and .role=="pod-veth-host") | .name' | grep -q '^cali' ||
		fail "no cali* host veth listed"
	expect_rc 0 "$NETPROF" topo show --run "$RUN_PREFIX-sh"
	[[ "$T_OUT" == *"Namespace netprof-$RUN_PREFIX-sh-node1"* ]] || fail "text show lists the node"
	topo_down
}

test_bad_input_creates_nothing() {
	need_root
	local before after
	before=$(ip netns list | sort)
	expect_rc 2 "$NETPROF" topo up --cni frobnicate --run "$RUN_PREFIX-bad"
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"frobnicate"* ]] || fail "names the datapath: $T_OUT"
	expect_rc 2 "$NETPROF" topo up --cni calico --subnets 2 --run "$RUN_PREFIX-bad"
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"--subnets"* ]] || fail "names --subnets: $T_OUT"
	expect_rc 2 "$NETPROF" topo up --cni calico --socket-lb --run "$RUN_PREFIX-bad"
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" topo up --cni host --target service --run "$RUN_PREFIX-bad"
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" topo up --run "$RUN_PREFIX-bad"
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" topo show --run "$RUN_PREFIX-none"
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" topo down --run "$RUN_PREFIX-bad" --cni calico
	expect_lines 1 "$T_OUT" "one line"
	after=$(ip netns list | sort)
	expect_eq "$after" "$before" "namespaces"
	[ ! -e "/run/netprof/$RUN_PREFIX-bad.json" ] || fail "state file created"
}

test_sigterm_during_up_leaves_nothing() {
	need_root
	local run="$RUN_PREFIX-sig" pid rc=0
	T_DIR=$(mktemp -d)
	root_snapshot > "$T_DIR/root.before"
	# A big ruleset makes the build last long enough to be interrupted.
	"$NETPROF" topo up --cni calico --pods 240 --policies 60 --run "$run" > /dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		ip netns list | grep -q "^netprof-$run-pod-b" && break
		sleep 0.05
	done
	kill -TERM $pid
	wait $pid || rc=$?
	[ "$rc" != 0 ] || fail "topo up finished before SIGTERM: make its build longer"
	sleep 0.5
	[ -z "$(ip netns list | grep "^netprof-$run-" || true)" ] || fail "namespaces left: $(ip netns list | grep "netprof-$run-")"
	[ ! -e "/run/netprof/$run.json" ] || fail "state file left"
	[ -z "$(find / -maxdepth 5 -path '/sys/fs/cgroup*' -name "netprof-$run" 2>/dev/null)" ] || fail "cgroup left"
	pgrep -f "netprof topo up .*--run $run" > /dev/null && fail "a builder is still running"
	root_snapshot > "$T_DIR/root.after"
	diff -u "$T_DIR/root.before" "$T_DIR/root.after" || fail "root namespace changed"
	rm -rf "$T_DIR"
}

run_tests
