# Placement and the wire (issue #14): each node's CPUs hold for its pods'
# threads and its wire end's NAPI thread, the wire receives through NAPI
# (threads that work under a stream) unless --wire backlog, --link-rate caps
# a stream, and bad values build nothing. The nodes carry a real node's
# rules: kube-proxy's chains are crossed on host and cilium-legacy, absent on
# cilium, and --services 0 --pods 0 leaves bare nodes. Runs are named
# netprof-fd<pid>-*.
source "$(dirname "$0")/../lib.sh"

RUN_PREFIX="fd$$"

# The CPUs this shell may use, one per line, and the default split of them.
usable_cpus() {
	awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status | tr ',' '\n' |
		awk -F- '{ hi = NF > 1 ? $2 : $1; for (c = $1; c <= hi; c++) print c }'
}
# cpulist N...: the kernel's list format of the given CPUs.
cpulist() {
	printf '%s\n' "$@" | sort -n | awk '
		NR == 1 { lo = hi = $1; next }
		$1 == hi + 1 { hi = $1; next }
		{ out = out (out ? "," : "") (lo == hi ? lo : lo "-" hi); lo = hi = $1 }
		END { out = out (out ? "," : "") (lo == hi ? lo : lo "-" hi); print out }'
}
default_split() {
	local cpus n first
	mapfile -t cpus < <(usable_cpus)
	n=${#cpus[@]}
	first=$(( (n + 1) / 2 ))
	NODE1=$(cpulist "${cpus[@]:0:$first}")
	if [ "$n" -gt 1 ]; then NODE2=$(cpulist "${cpus[@]:$first}"); else NODE2=$NODE1; fi
}

cpus_allowed() { awk '/^Cpus_allowed_list/ {print $2}' "$1/status" 2>/dev/null; }
# napi/<dev>-* kernel threads now: "pid comm" lines.
napi_threads() {
	local f c
	for f in /proc/[0-9]*/comm; do
		c=$(cat "$f" 2>/dev/null) || continue
		case $c in napi/*) f=${f%/comm}; echo "${f#/proc/} $c" ;; esac
	done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Every task whose network namespace is NS: its /proc/<pid>/task/<tid> path.
tasks_in_netns() {
	local ino t
	ino=$(stat -L -c %i "/run/netns/$1") || return
	for t in /proc/[0-9]*/task/[0-9]*; do
		[ "$(stat -L -c %i "$t/ns/net" 2>/dev/null)" = "$ino" ] && echo "$t"
	done
	true
}

# start_stream_run RUN ARGS...: a `netprof run` stream in the background
# (pid in $RUN_PID), back once its measure phase is under way.
start_stream_run() {
	local run=$1
	shift
	RESULTS=$(mktemp -d)
	"$NETPROF" run --cni calico --run "$run" -w stream -d 3s --warmup 300ms --no-trace \
		--no-profile --results "$RESULTS" "$@" >"$RESULTS/stdout" 2>"$RESULTS/stderr" &
	RUN_PID=$!
	t_defer kill "$RUN_PID"
	for _ in $(seq 1 300); do
		grep -q "measure: stream" "$RESULTS/stderr" 2>/dev/null && break
		kill -0 "$RUN_PID" 2>/dev/null || fail "run exited early: $(tail -3 "$RESULTS/stderr")"
		sleep 0.1
	done
	sleep 0.8	# past the warm-up: the stream is flowing
}

test_node_cpus_hold_for_pod_threads_and_napi() {
	need_root; need_cmd jq
	default_split
	local run="$RUN_PREFIX-$T_SEQ" before t want ns n=0 new pid comm got
	before=$(napi_threads)
	start_stream_run "$run"
	for ns in pod-a pod-b; do
		want=$NODE1
		[ "$ns" = pod-b ] && want=$NODE2
		for t in $(tasks_in_netns "netprof-$run-$ns"); do
			got=$(cpus_allowed "$t")
			[ -n "$got" ] || continue	# the thread ended since the walk
			n=$((n + 1))
			expect_eq "$got" "$want" "CPUs of $ns's thread $t"
		done
	done
	[ "$n" -ge 4 ] || fail "only $n threads found in the pods (client and server workers expected)"
	# The wire's NAPI threads: one per end, on the receiving node's CPUs,
	# and both at work (data one way, ACKs the other).
	new=$(napi_threads | grep -vxF "$before" || true)
	expect_eq "$(echo "$new" | grep -c ' napi/eth0-')" 2 "new napi/eth0-* threads"
	local ticks0 ticks1 sets=""
	while read -r pid comm; do
		sets="$sets $(cat /proc/$pid/status | awk '/^Cpus_allowed_list/ {print $2}')"
		ticks0=$(cpu_ticks "$pid")
		sleep 0.5
		ticks1=$(cpu_ticks "$pid")
		[ "$ticks1" -gt "$ticks0" ] || fail "$comm (pid $pid) did no work under the stream"
	done <<<"$new"
	echo "$sets" | tr ' ' '\n' | grep -qxF "$NODE1" || fail "no NAPI thread on node1's CPUs ($NODE1):$sets"
	echo "$sets" | tr ' ' '\n' | grep -qxF "$NODE2" || fail "no NAPI thread on node2's CPUs ($NODE2):$sets"
	wait "$RUN_PID" || fail "run exited $?: $(tail -3 "$RESULTS/stderr")"
	[ -z "$(napi_threads | grep -vxF "$before" || true)" ] || fail "NAPI threads left after the run"
}

test_node_cpus_option_overrides_the_split() {
	need_root; need_cmd jq
	local cpus run="$RUN_PREFIX-$T_SEQ" t got
	mapfile -t cpus < <(usable_cpus)
	[ "${#cpus[@]}" -ge 2 ] || skip "needs 2 CPUs to swap the nodes' sets"
	# The reverse of the default: node1 on the last CPU, node2 on the first.
	start_stream_run "$run" --node-cpus "${cpus[-1]},${cpus[0]}"
	# A thread that ended since the walk has no status left: skipped.
	for t in $(tasks_in_netns "netprof-$run-pod-a"); do
		got=$(cpus_allowed "$t")
		[ -z "$got" ] || expect_eq "$got" "${cpus[-1]}" "client thread $t"
	done
	for t in $(tasks_in_netns "netprof-$run-pod-b"); do
		got=$(cpus_allowed "$t")
		[ -z "$got" ] || expect_eq "$got" "${cpus[0]}" "server thread $t"
	done
	wait "$RUN_PID" || fail "run exited $?"
}

# topo_up RUN ARGS...: a topology of this test, removed afterwards.
topo_up() {
	local run=$1
	shift
	expect_rc 0 "$NETPROF" topo up --run "$run" "$@"
	t_defer "$NETPROF" topo down --run "$run"
	SHOW=$("$NETPROF" topo show --run "$run" --json) || fail "topo show failed"
}

test_topo_show_records_placement_and_wire() {
	need_root; need_cmd jq; need_cmd ethtool
	default_split
	local run="$RUN_PREFIX-$T_SEQ" pid
	topo_up "$run" --cni calico
	expect_eq "$(echo "$SHOW" | jq -r .placement.node1_cpus)" "$NODE1" "node1's CPUs"
	expect_eq "$(echo "$SHOW" | jq -r .placement.node2_cpus)" "$NODE2" "node2's CPUs"
	expect_eq "$(echo "$SHOW" | jq -r .placement.wire)" napi "wire"
	expect_eq "$(echo "$SHOW" | jq '.napi | length')" 2 "NAPI threads listed"
	for pid in $(echo "$SHOW" | jq -r '.napi[].pid'); do
		expect_eq "$(cat /proc/$pid/comm)" "$(echo "$SHOW" | jq -r ".napi[] | select(.pid == $pid) | .thread")" "thread $pid's name"
		expect_eq "$(cpus_allowed /proc/$pid)" "$(echo "$SHOW" | jq -r ".napi[] | select(.pid == $pid) | .cpus")" "thread $pid's CPUs"
	done
	for ns in node1 node2; do
		ip netns exec "netprof-$run-$ns" ethtool -k eth0 | grep -qx 'generic-receive-offload: on' \
			|| fail "GRO is not on on $ns's wire end"
		# The TSO veth's NAPI test looks at (6.18 lists AccECN's apart).
		ip netns exec "netprof-$run-$ns" ethtool -k eth0 | grep -qx $'\ttx-tcp-segmentation: off' \
			|| fail "TSO is not off on $ns's wire end"
		expect_eq "$(ip netns exec "netprof-$run-$ns" cat /sys/class/net/eth0/threaded)" 1 "$ns eth0 threaded"
	done
}

test_same_node_puts_both_pods_on_node1s_cpus() {
	need_root; need_cmd jq
	local run="$RUN_PREFIX-$T_SEQ"
	topo_up "$run" --cni calico --placement same-node
	expect_eq "$(echo "$SHOW" | jq -r .placement.server_cpus)" \
		"$(echo "$SHOW" | jq -r .placement.node1_cpus)" "the server on node1's CPUs"
}

test_backlog_wire_has_no_napi_threads() {
	need_root; need_cmd jq; need_cmd iperf3
	local run="$RUN_PREFIX-$T_SEQ" before
	before=$(napi_threads)
	topo_up "$run" --cni calico --wire backlog
	expect_eq "$(echo "$SHOW" | jq -r .placement.wire)" backlog "wire"
	expect_eq "$(echo "$SHOW" | jq '.napi | length')" 0 "NAPI threads listed"
	ip netns exec "netprof-$run-pod-b" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	t_defer kill $!
	sleep 0.3
	ip netns exec "netprof-$run-pod-a" iperf3 -c 198.18.2.2 -p 5201 -t 1 >/dev/null \
		|| fail "no stream over the backlog wire"
	[ -z "$(napi_threads | grep -vxF "$before" || true)" ] || fail "NAPI threads with --wire backlog: $(napi_threads | grep -vxF "$before")"
	expect_eq "$(ip netns exec "netprof-$run-node2" cat /sys/class/net/eth0/threaded)" 0 "node2 eth0 threaded"
}

test_link_rate_caps_a_stream() {
	need_root; need_cmd jq
	local run="$RUN_PREFIX-$T_SEQ" gbps
	RESULTS=$(mktemp -d)
	"$NETPROF" run --cni calico --run "$run" -w stream -d 2s --no-trace --no-profile \
		--link-rate 1gbit --json --results "$RESULTS" >"$RESULTS/out.json" 2>"$RESULTS/stderr" \
		|| fail "run exited $?: $(tail -3 "$RESULTS/stderr")"
	gbps=$(jq '.workloads[0].load.throughput_gbit_s' "$RESULTS/out.json")
	# Below the cap, and not so far below that nothing flowed.
	jq -e --argjson g "$gbps" -n '$g < 1.0 and $g > 0.3' >/dev/null \
		|| fail "stream at $gbps Gbit/s with --link-rate 1gbit"
}

test_link_rate_is_a_tbf_on_both_ends() {
	need_root; need_cmd jq
	local run="$RUN_PREFIX-$T_SEQ" ns
	topo_up "$run" --cni host --link-rate 500mbit
	for ns in node1 node2; do
		ip netns exec "netprof-$run-$ns" tc qdisc show dev eth0 | grep -q 'tbf .*rate 500Mbit' \
			|| fail "no 500mbit tbf on $ns's eth0: $(ip netns exec "netprof-$run-$ns" tc qdisc show dev eth0)"
	done
}

# The hop tracer's view (netif_rx on the wire device): the NAPI wire has no
# backlog enqueue, the backlog wire one per packet.
test_hop_tracer_sees_the_wire_receive() {
	need_root; need_cmd jq
	local wire want req
	for wire in napi backlog; do
		RESULTS=$(mktemp -d)
		"$NETPROF" run --cni cilium --run "$RUN_PREFIX-$T_SEQ" -w pingpong -d 1s --warmup 200ms \
			--no-profile --wire "$wire" --results "$RESULTS" >/dev/null 2>"$RESULTS/stderr" \
			|| fail "run --wire $wire exited $?: $(tail -3 "$RESULTS/stderr")"
		req=$(jq '.workloads[0].hops.paths[] | select(.direction | startswith("Request"))' \
			"$RESULTS/report.json")
		want=0
		[ "$wire" = backlog ] && want=1
		expect_eq "$(echo "$req" | jq .wire_backlog_enqueues)" "$want" "--wire $wire: backlog enqueues on the wire"
	done
}

test_help_documents_the_options() {
	local cmd opt
	# compare's help refers to run's for every option.
	for cmd in run topo; do
		for opt in --node-cpus --wire --link-rate; do
			"$NETPROF" $cmd -h | grep -q -- "$opt" || fail "'netprof $cmd -h' does not document $opt"
		done
	done
}

test_bad_values_exit_2_and_build_nothing() {
	need_root
	local last bad run="$RUN_PREFIX-$T_SEQ"
	last=$(usable_cpus | tail -1)
	for bad in "--link-rate foo" "--link-rate 0" "--node-cpus $((last + 1))" \
		"--node-cpus 0,1,2" "--node-cpus x" "--wire fast"; do
		# shellcheck disable=SC2086
		expect_rc 2 "$NETPROF" run --cni calico --run "$run" -d 1s $bad
		expect_lines 1 "$T_OUT" "run $bad"
		# shellcheck disable=SC2086
		expect_rc 2 "$NETPROF" topo up --cni calico --run "$run" $bad
		expect_lines 1 "$T_OUT" "topo up $bad"
		[ -z "$(ip netns list | grep "^netprof-$run-" || true)" ] || fail "$bad built namespaces"
	done
}

# kube_packets NS TABLE: packets counted by the rules of TABLE in NS that sit
# in a KUBE-* chain or jump to one.
kube_packets() {
	ip netns exec "$1" iptables-legacy-save -c -t "$2" |
		sed -n 's/^\[\([0-9]*\):[0-9]*\] /\1 /p' |
		awk '/ -A KUBE-| -j KUBE-/ { s += $1 } END { print s + 0 }'
}
# rule_packets NS TABLE RULE: the packet count of the rule that ends with RULE.
rule_packets() {
	ip netns exec "$1" iptables-legacy-save -c -t "$2" | grep -F -- "$3" |
		sed -n 's/^\[\([0-9]*\):.*/\1/p' | head -1
}
# iperf_second SERVER_NS CLIENT_NS DST: one second of TCP from CLIENT_NS to DST:5201.
iperf_second() {
	ip netns exec "$1" timeout 15 iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	t_defer kill $!
	for _ in $(seq 50); do
		ip netns exec "$1" ss -Htln 'sport = :5201' | grep -q . && break
		sleep 0.1
	done
	ip netns exec "$2" timeout 15 iperf3 -c "$3" -p 5201 -t 1 >/dev/null || fail "no stream to $3"
}

test_host_run_crosses_kube_proxy_chains() {
	need_root; need_cmd jq; need_cmd iperf3; need_cmd conntrack
	local run="$RUN_PREFIX-$T_SEQ" n1 n2 nat1 nat2 in1 in2 all1 all2
	topo_up "$run" --cni host
	n1="netprof-$run-node1"
	n2="netprof-$run-node2"
	# The default cluster, as show and the run report state it.
	expect_eq "$(echo "$SHOW" | jq -r .rules.kube_proxy)" true "kube-proxy on host nodes"
	expect_eq "$(echo "$SHOW" | jq -r .rules.services)" 100 "services"
	expect_eq "$(echo "$SHOW" | jq -r .rules.nodeports)" 10 "NodePort services"
	expect_eq "$(echo "$SHOW" | jq -r .rules.pods_per_node)" 30 "pods per node"
	for ns in "$n1" "$n2"; do
		expect_eq "$(ip netns exec "$ns" iptables-legacy-save -t nat | grep -c -- '-A KUBE-SERVICES -d 198.19.')" 100 "$ns ClusterIP rules"
		expect_eq "$(ip netns exec "$ns" iptables-legacy-save -t nat | grep -c -- '-A KUBE-NODEPORTS -p tcp')" 10 "$ns NodePort rules"
		ip netns exec "$ns" iptables-legacy-save -t nat | grep -q -- '-j MASQUERADE --random-fully' ||
			fail "$ns has no kube-proxy masquerade"
	done
	nat1=$(rule_packets "$n1" nat '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
	in1=$(rule_packets "$n2" filter '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS')
	all1=$(kube_packets "$n2" filter)
	iperf_second "$n2" "$n1" 198.18.0.2
	nat2=$(rule_packets "$n1" nat '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
	in2=$(rule_packets "$n2" filter '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS')
	all2=$(kube_packets "$n2" filter)
	# New connections (iperf3's control and data) walk nat KUBE-SERVICES on
	# the sender; every packet the receiver takes in crosses KUBE-NODEPORTS.
	[ "$nat2" -ge $((nat1 + 2)) ] || fail "node1's nat OUTPUT -> KUBE-SERVICES did not count the new connections ($nat1 -> $nat2)"
	[ "$in2" -gt $((in1 + 1000)) ] || fail "node2's INPUT -> KUBE-NODEPORTS did not count the stream ($in1 -> $in2)"
	[ "$all2" -gt "$all1" ] || fail "node2's KUBE-* filter counters did not move ($all1 -> $all2)"
	ip netns exec "$n2" conntrack -L 2>/dev/null | grep -q "src=198.18.0.1 dst=198.18.0.2 .*dport=5201" ||
		fail "node2's conntrack has no entry for the stream"
}

test_cilium_crosses_no_kube_proxy_chain() {
	need_root; need_cmd jq; need_cmd iperf3
	local run="$RUN_PREFIX-$T_SEQ" ns f1 f2
	topo_up "$run" --cni cilium
	expect_eq "$(echo "$SHOW" | jq -r .rules.kube_proxy)" false "kube-proxy on cilium nodes"
	for ns in node1 node2; do
		ip netns exec "netprof-$run-$ns" iptables-legacy-save | grep -q 'KUBE-' &&
			fail "cilium's $ns has KUBE-* chains"
	done
	iperf_second "netprof-$run-pod-b" "netprof-$run-pod-a" 198.18.2.2
	for ns in node1 node2; do
		ip netns exec "netprof-$run-$ns" iptables-legacy-save | grep -q 'KUBE-' &&
			fail "cilium's $ns has KUBE-* chains after traffic"
	done
	# The contrast: cilium-legacy keeps kube-proxy, and the new connections
	# of its pods walk the node's nat PREROUTING -> KUBE-SERVICES (Cilium's
	# feeder accepts them in FORWARD ahead of KUBE-FORWARD, as on a node
	# where Cilium prepends its rules).
	run="$RUN_PREFIX-$T_SEQ-l"
	topo_up "$run" --cni cilium-legacy
	expect_eq "$(echo "$SHOW" | jq -r .rules.kube_proxy)" true "kube-proxy on cilium-legacy nodes"
	f1=$(rule_packets "netprof-$run-node1" nat '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
	iperf_second "netprof-$run-pod-b" "netprof-$run-pod-a" 198.18.2.2
	f2=$(rule_packets "netprof-$run-node1" nat '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
	[ "$f2" -ge $((f1 + 2)) ] || fail "cilium-legacy's node1 nat PREROUTING -> KUBE-SERVICES did not count the new connections ($f1 -> $f2)"
}

test_no_services_no_pods_gives_bare_nodes() {
	need_root; need_cmd jq
	local run="$RUN_PREFIX-$T_SEQ" ns
	topo_up "$run" --cni host --services 0 --pods 0
	expect_eq "$(echo "$SHOW" | jq -r .rules.kube_proxy)" false "kube-proxy with --services 0"
	for ns in node1 node2; do
		expect_eq "$(ip netns exec "netprof-$run-$ns" iptables-legacy-save | grep -c '^-A' || true)" 0 "rules in the bare $ns"
		expect_eq "$(ip netns exec "netprof-$run-$ns" iptables-nft-save 2>/dev/null | grep -c '^-A' || true)" 0 "nft rules in the bare $ns"
	done
	# Calico's bare node: felix's chains only.
	run="$RUN_PREFIX-$T_SEQ-c"
	topo_up "$run" --cni calico --services 0 --pods 0
	ip netns exec "netprof-$run-node1" iptables-legacy-save | grep -q 'KUBE-' && fail "KUBE-* chains on calico --services 0"
	ip netns exec "netprof-$run-node1" iptables-legacy-save | grep -q 'cali-FORWARD' || fail "no Calico chains"
}

test_help_states_the_cluster_defaults() {
	local cmd
	for cmd in run topo; do
		"$NETPROF" $cmd -h | grep -q -- '--pods N .*default 30' || fail "'netprof $cmd -h' does not state --pods' default"
		"$NETPROF" $cmd -h | grep -q -- '--services N .*default 100' || fail "'netprof $cmd -h' does not state --services' default"
	done
}

run_tests
