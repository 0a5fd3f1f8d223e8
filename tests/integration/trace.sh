# The hop tracer (`netprof trace`) on a client - router - server topology:
# its counts agree with the devices' own, its paths have the topology's
# structure, its hop times fit inside the measured round trip, and nothing
# stays attached afterwards.
source "$(dirname "$0")/../lib.sh"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)

# Three namespaces: C (198.18.1.2) - R (forwards, iptables FORWARD) - S (198.18.2.2).
make_topology() {
	C=$(t_netns c); R=$(t_netns r); S=$(t_netns s)
	ip link add nptc0 netns "$C" type veth peer name nptr0 netns "$R"
	ip link add npts0 netns "$S" type veth peer name nptr1 netns "$R"
	ip -n "$C" addr add 198.18.1.2/24 dev nptc0; ip -n "$C" link set nptc0 up
	ip -n "$C" route add default via 198.18.1.1
	ip -n "$R" addr add 198.18.1.1/24 dev nptr0; ip -n "$R" link set nptr0 up
	ip -n "$R" addr add 198.18.2.1/24 dev nptr1; ip -n "$R" link set nptr1 up
	ip -n "$S" addr add 198.18.2.2/24 dev npts0; ip -n "$S" link set npts0 up
	ip -n "$S" route add default via 198.18.2.1
	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
	printf '*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -j ACCEPT\nCOMMIT\n' \
		| ip netns exec "$R" iptables-legacy-restore
}

# topo_for_test CNI: a cross-node topology of that datapath (netprof topo
# up), removed when the test ends however it ends. Its pods have the
# addresses of make_topology's ends: C is the client pod, S the server pod.
topo_for_test() {
	TOPO="t$$-$T_SEQ"
	trap '"$NETPROF" topo down --run "$TOPO" >/dev/null 2>&1 || true' EXIT
	"$NETPROF" topo up --cni "$1" --run "$TOPO" >/dev/null 2>&1 || fail "topo up --cni $1 failed"
	N1="netprof-$TOPO-node1"; N2="netprof-$TOPO-node2"
	C="netprof-$TOPO-pod-a"; S="netprof-$TOPO-pod-b"
	TRACE_NS="$N1,$N2,$C,$S"
	TRACE_WIRE="$N1/eth0,$N2/eth0"
}

# start_trace ARGS...: runs the tracer in the background until stop_trace.
start_trace() {
	TRACE_OUT=$(mktemp); TRACE_ERR=$(mktemp)
	"$NETPROF" trace --netns "${TRACE_NS:-$C,$R,$S}" ${TRACE_WIRE:+--wire "$TRACE_WIRE"} -p 7000 \
		--json "$@" >"$TRACE_OUT" 2>"$TRACE_ERR" &
	TRACE_PID=$!
	for _ in $(seq 1 200); do
		grep -q "tracing [0-9]* namespaces" "$TRACE_ERR" && return 0
		kill -0 $TRACE_PID 2>/dev/null || fail "trace exited: $(cat "$TRACE_ERR")"
		sleep 0.05
	done
	fail "trace did not attach: $(cat "$TRACE_ERR")"
}

stop_trace() {
	kill -INT $TRACE_PID
	wait $TRACE_PID || fail "trace exited $? after SIGINT: $(cat "$TRACE_ERR")"
	jq -e . "$TRACE_OUT" >/dev/null || fail "trace output is not JSON"
}

dev_stat() { # NS DEV rx|tx
	ip -n "$1" -s -j link show dev "$2" | jq ".[0].stats64.$3.packets"
}

rr_traffic() { # N round trips; prints the mean round trip in us
	ip netns exec "$S" python3 "$TOOLS/tcp_rr.py" server 7000 &
	local spid=$!
	for _ in $(seq 1 100); do
		ip netns exec "$S" ss -Hltn 'sport = :7000' | grep -q . && break
		sleep 0.05
	done
	ip netns exec "$C" python3 "$TOOLS/tcp_rr.py" client 198.18.2.2 7000 "$1" \
		|| { kill $spid; fail "rr client failed"; }
	wait $spid
}

within_1pct() { # A B WHAT
	python3 -c "import sys; a, b = $1, $2; sys.exit(0 if abs(a - b) <= max(1, 0.01 * max(a, b)) else 1)" \
		|| fail "$3: tracer counted $1, the device $2 (more than 1% apart)"
}

# dev_counters NS...: "NS DEV RX TX" for every device but lo.
dev_counters() {
	local ns
	for ns in "$@"; do
		ip -n "$ns" -s -j link show | jq -r --arg ns "$ns" \
			'.[] | select(.ifname != "lo") | "\($ns) \(.ifname) \(.stats64.rx.packets) \(.stats64.tx.packets)"'
	done
}

# devices_agree BEFORE AFTER WHAT: every device's tc count in $TRACE_OUT is
# within 1% of what the device itself counted between the two snapshots.
# A device a BPF program redirects into with bpf_redirect_peer (cilium's
# server pod, $PEER_REDIRECTED) does not count those packets itself: there
# the tracer must count at least as many.
devices_agree() {
	local ns dev rx0 tx0 rx1 tx1 t_in t_eg checked=0
	while read -r ns dev rx1 tx1; do
		read -r rx0 tx0 < <(awk -v n="$ns" -v d="$dev" '$1 == n && $2 == d {print $3, $4}' "$1")
		t_in=$(jq --arg ns "$ns" --arg d "$dev" '.hops.devices[] | select(.netns == $ns and .device == $d) | .ingress_packets' "$TRACE_OUT")
		t_eg=$(jq --arg ns "$ns" --arg d "$dev" '.hops.devices[] | select(.netns == $ns and .device == $d) | .egress_packets' "$TRACE_OUT")
		[ -n "$t_in" ] || fail "$3: no tracer count for $ns/$dev"
		within_1pct "$t_eg" "$((tx1 - tx0))" "$3: $ns $dev egress"
		if [ "${PEER_REDIRECTED:-}" = "$ns/$dev" ]; then
			[ "$t_in" -ge "$((rx1 - rx0))" ] || fail "$3: $ns $dev ingress $t_in < the device's $((rx1 - rx0))"
		else
			within_1pct "$t_in" "$((rx1 - rx0))" "$3: $ns $dev ingress"
		fi
		checked=$((checked + 1))
	done < "$2"
	[ "$checked" -ge 6 ] || fail "$3: only $checked devices compared"
}

# tc_hops: the request path's tc hops, one "where | what" a line.
tc_hops() {
	jq -r '.hops.paths[] | select(.direction | startswith("Request")) | .hops[]
		| select(.what | startswith("tc ")) | "\(.where) | \(.what)"' "$TRACE_OUT"
}

# traced_rr CNI ARGS...: the tracer (with ARGS) around 2000 round trips from
# pod A to pod B; device counts checked against the devices' own.
traced_rr() {
	local cni=$1 before after
	shift
	before=$(mktemp); after=$(mktemp)
	start_trace "$@"
	dev_counters "$N1" "$N2" "$C" "$S" > "$before"
	rr_traffic 2000 >/dev/null
	dev_counters "$N1" "$N2" "$C" "$S" > "$after"
	stop_trace
	devices_agree "$before" "$after" "$cni $*"
	rm -f "$before" "$after"
}

test_device_counts_agree_with_ip_link() {
	need_root; need_cmd jq; need_cmd python3
	make_topology
	start_trace
	local rx0 tx0 rx1 tx1 rx_before tx_before
	rx0=$(dev_stat "$R" nptr0 rx); tx0=$(dev_stat "$R" nptr0 tx)
	rx_before=$(dev_stat "$S" npts0 rx); tx_before=$(dev_stat "$S" npts0 tx)
	rr_traffic 3000 >/dev/null
	rx1=$(dev_stat "$R" nptr0 rx); tx1=$(dev_stat "$R" nptr0 tx)
	local srx=$(( $(dev_stat "$S" npts0 rx) - rx_before )) stx=$(( $(dev_stat "$S" npts0 tx) - tx_before ))
	stop_trace
	local t_in t_eg
	t_in=$(jq --arg ns "$R" '.hops.devices[] | select(.netns == $ns and .device == "nptr0") | .ingress_packets' "$TRACE_OUT")
	t_eg=$(jq --arg ns "$R" '.hops.devices[] | select(.netns == $ns and .device == "nptr0") | .egress_packets' "$TRACE_OUT")
	[ $((rx1 - rx0)) -ge 3000 ] || fail "too little traffic: $((rx1 - rx0)) packets"
	within_1pct "$t_in" "$((rx1 - rx0))" "R nptr0 ingress"
	within_1pct "$t_eg" "$((tx1 - tx0))" "R nptr0 egress"
	t_in=$(jq --arg ns "$S" '.hops.devices[] | select(.netns == $ns and .device == "npts0") | .ingress_packets' "$TRACE_OUT")
	t_eg=$(jq --arg ns "$S" '.hops.devices[] | select(.netns == $ns and .device == "npts0") | .egress_packets' "$TRACE_OUT")
	within_1pct "$t_in" "$srx" "S npts0 ingress"
	within_1pct "$t_eg" "$stx" "S npts0 egress"
}

test_paths_have_the_topology_structure() {
	need_root; need_cmd jq; need_cmd python3
	make_topology
	start_trace
	rr_traffic 2000 >/dev/null
	stop_trace
	local req resp
	req=$(jq '.hops.paths[] | select(.direction | startswith("Request"))' "$TRACE_OUT")
	resp=$(jq '.hops.paths[] | select(.direction | startswith("Response"))' "$TRACE_OUT")
	[ -n "$req" ] && [ -n "$resp" ] || fail "no request or response path"
	for p in "$req" "$resp"; do
		expect_eq "$(echo "$p" | jq .veth_crossings)" 2 "veth crossings"
		expect_eq "$(echo "$p" | jq .backlog_enqueues)" 2 "backlog enqueues"
		expect_eq "$(echo "$p" | jq .macvlan_crossings)" 0 "macvlan crossings"
		# Only the router has rules: PREROUTING, FORWARD, POSTROUTING there;
		# the ends have none, so netfilter does no work (and no hop shows).
		expect_eq "$(echo "$p" | jq .netfilter_hooks)" 3 "netfilter hooks"
		echo "$p" | jq -e --arg ns "$R" '[.hops[] | select(.where == ($ns + " netfilter") and .what == "netfilter FORWARD")] | length == 1' >/dev/null \
			|| fail "no FORWARD hook on the router"
		echo "$p" | jq -e '.hops[-1].what | startswith("delivered to a TCP socket")' >/dev/null \
			|| fail "path does not end in a socket: $(echo "$p" | jq -c '.hops[-1]')"
		echo "$p" | jq -e '.hops[0].what | startswith("sent")' >/dev/null \
			|| fail "path does not start where the packet is sent: $(echo "$p" | jq -c '.hops[0]')"
	done
	# Most packets of each direction took that one path.
	expect_eq "$(echo "$req" | jq '.share > 80')" true "request path share"
	expect_eq "$(jq '.hops.lost.packet_map_full' "$TRACE_OUT")" 0 "packets lost to a full map"
}

test_hop_times_fit_the_round_trip() {
	need_root; need_cmd jq; need_cmd python3
	make_topology
	start_trace
	local rtt
	rtt=$(rr_traffic 3000)
	stop_trace
	local req resp
	# The round trip was timed while traced: the paths as traced go with it.
	req=$(jq '[.hops.paths[] | select(.direction | startswith("Request"))][0].raw_mean_end_to_end_us' "$TRACE_OUT")
	resp=$(jq '[.hops.paths[] | select(.direction | startswith("Response"))][0].raw_mean_end_to_end_us' "$TRACE_OUT")
	jq -e '[.hops.paths[] | .mean_end_to_end_us <= .raw_mean_end_to_end_us] | all' "$TRACE_OUT" >/dev/null \
		|| fail "a path's time with the probes' cost out is above its raw time"
	echo "round trip $rtt us; request path $req us; response path $resp us"
	python3 -c "
import sys
rtt, req, resp = $rtt, $req, $resp
# Both one-way kernel paths are parts of the round trip; the rest is the
# Python applications and the socket layer, whose share swings with the
# machine's load (a busy machine's Python takes 90% of it): only a floor.
sys.exit(0 if 0.05 * rtt <= req + resp <= rtt else 1)" \
		|| fail "request $req + response $resp us does not fit in the round trip of $rtt us"
}

test_nothing_stays_attached() {
	need_root; need_cmd jq
	make_topology
	local progs_before
	progs_before=$(bpftool prog show --json | jq length)
	start_trace
	tc -n "$R" filter show dev nptr0 ingress | grep -q hop_tc_ingress || fail "tc program not attached while tracing"
	stop_trace
	for ns_dev in "$C nptc0" "$R nptr0" "$R nptr1" "$S npts0"; do
		set -- $ns_dev
		[ -z "$(tc -n "$1" filter show dev "$2" ingress)" ] || fail "tc filter left on $2"
		[ -z "$(tc -n "$1" filter show dev "$2" egress)" ] || fail "tc filter left on $2 egress"
		tc -n "$1" qdisc show dev "$2" | grep -q clsact && fail "clsact left on $2"
	done
	expect_eq "$(bpftool prog show --json | jq length)" "$progs_before" "BPF programs after the trace"
}

# The fallback for kernels without bpf_cast_to_kern_ctx (Debian 12's 6.1),
# forced here with --tc-key flow: the tc hops find each packet through the
# flow index, and show what the skb-keyed ones show.
flow_key_same_as_skb_key() { # CNI
	need_root; need_cmd jq; need_cmd python3
	topo_for_test "$1"
	local skb_hops flow_hops
	traced_rr "$1"
	expect_eq "$(jq -r .hops.tc_key "$TRACE_OUT")" skb "tc key by default on this kernel"
	skb_hops=$(tc_hops)
	[ "$(echo "$skb_hops" | wc -l)" -ge 4 ] || fail "too few tc hops with the skb key: $skb_hops"
	traced_rr "$1" --tc-key flow
	expect_eq "$(jq -r .hops.tc_key "$TRACE_OUT")" flow "tc key reported"
	jq -e '.hops.probes[] | select(.probe == "tc key" and (.detail | startswith("flow")))' \
		"$TRACE_OUT" >/dev/null || fail "the probes list does not say the tc key"
	flow_hops=$(tc_hops)
	[ "$flow_hops" = "$skb_hops" ] || fail "tc hops differ: skb key: $skb_hops; flow key: $flow_hops"
	expect_eq "$(jq '.hops.lost.packet_map_full + .hops.lost.flow_index_full' "$TRACE_OUT")" 0 \
		"packets lost to full maps"
}

test_flow_key_same_as_skb_key_calico() { flow_key_same_as_skb_key calico; }

test_flow_key_same_as_skb_key_cilium() {
	PEER_REDIRECTED="netprof-t$$-$T_SEQ-pod-b/eth0" flow_key_same_as_skb_key cilium
}

# kube-proxy's DNAT at node1's PREROUTING changes the tuple under the flow
# index: the skb-seeing hops move the entry, so the tc hops after it (node1's
# wire end onwards) still find the packet.
test_flow_key_follows_kube_proxy_dnat() {
	need_root; need_cmd jq
	local key results hops hops_skb=""
	for key in skb flow; do
		results=$(mktemp -d)
		"$NETPROF" run --cni calico --run "t$$-$T_SEQ" --target service --services 20 -w pingpong \
			-d 1s --warmup 200ms --no-profile --tc-key $key --results "$results" >/dev/null \
			2>"$results/stderr" || fail "run --tc-key $key exited $?: $(tail -3 "$results/stderr")"
		expect_eq "$(jq -r '.workloads[0].hops.tc_key' "$results/report.json")" $key "tc key reported"
		hops=$(jq -r '.workloads[0].hops.paths[] | .direction as $d | .hops[] | select(.what | startswith("tc "))
			| "\($d): \(.where | sub("^netprof-[^-]+-[0-9]+-"; "") | sub("cali[0-9a-f]+"; "cali")) \(.what)"' \
			"$results/report.json")
		[ "$(echo "$hops" | grep -c '^Request')" = 6 ] || fail "--tc-key $key: not 6 tc hops on the request path: $hops"
		[ -z "$hops_skb" ] && hops_skb=$hops
		rm -rf "$results"
	done
	[ "$hops" = "$hops_skb" ] || fail "tc hops through the ClusterIP differ: skb key: $hops_skb; flow key: $hops"
}

# Without netfilter programs (kernels before 6.4) nothing marks where a
# packet is born: the pod's tc egress picks it up by its flow key and the
# next hop with the skb (net_dev_queue) adopts it.
test_flow_key_without_netfilter_adopts_at_the_next_hop() {
	need_root; need_cmd jq; need_cmd python3
	topo_for_test calico
	traced_rr calico --tc-key flow --no-netfilter
	local req
	req=$(jq '.hops.paths[] | select(.direction | startswith("Request"))' "$TRACE_OUT")
	echo "$req" | jq -e --arg c "$C eth0" '.hops[0].where == $c and .hops[0].what == "tc egress"' \
		>/dev/null || fail "the path does not start at the pod's tc egress: $(echo "$req" | jq -c '.hops[0]')"
	echo "$req" | jq -e '.hops[1].what | startswith("queued for transmit")' >/dev/null \
		|| fail "net_dev_queue does not follow: $(echo "$req" | jq -c '.hops[1]')"
	echo "$req" | jq -e '.hops[-1].what | startswith("delivered to a TCP socket")' >/dev/null \
		|| fail "path does not end in a socket"
	python3 -c "
import json, sys
lost = json.load(open('$TRACE_OUT'))['hops']['lost']
# Every packet picked up without its skb is adopted (the last few may not be).
sys.exit(0 if lost['flow_pending'] >= 4000 and lost['flow_not_adopted'] <= 0.01 * lost['flow_pending'] else 1)" \
		|| fail "pending packets not adopted: $(jq -c .hops.lost "$TRACE_OUT")"
}

# no_xdp_left NS...: no XDP program on any device of these namespaces.
no_xdp_left() {
	local ns
	for ns in "$@"; do
		ip -n "$ns" -d link show | grep -q "prog/xdp" && fail "XDP program left in $ns"
	done
	true
}

test_xdp_hops_on_calico_receiving_veths() {
	need_root; need_cmd jq; need_cmd python3
	topo_for_test calico
	local progs_before req where
	progs_before=$(bpftool prog show --json | jq -r '.[].id')
	traced_rr calico --xdp
	expect_eq "$(jq .hops.xdp "$TRACE_OUT")" true "XDP reported on"
	jq -e '.hops.probes[] | select(.probe == "xdp" and .ran and (.detail | contains("NAPI")))' \
		"$TRACE_OUT" >/dev/null || fail "the report does not say XDP is on and veth uses NAPI"
	req=$(jq '.hops.paths[] | select(.direction | startswith("Request"))' "$TRACE_OUT")
	# Each veth the request enters: node1's cali*, node2's wire end, pod B's eth0.
	for where in "$N1 cali" "$N2 eth0" "$S eth0"; do
		echo "$req" | jq -e --arg w "$where" '[.hops[] | select((.where | startswith($w)) and (.what | startswith("XDP")))] | length == 1' \
			>/dev/null || fail "no XDP hop at $where: $(echo "$req" | jq -c '[.hops[].where]')"
	done
	expect_eq "$(echo "$req" | jq .veth_crossings)" 2 "veth crossings (besides the wire)"
	expect_eq "$(echo "$req" | jq .backlog_enqueues)" 0 "backlog enqueues (NAPI instead)"
	echo "$req" | jq -e '.hops[-1].what | startswith("delivered to a TCP socket")' >/dev/null \
		|| fail "path does not end in a socket"
	no_xdp_left "$N1" "$N2" "$C" "$S"
	# Other programs may come and go meanwhile (other tools): none of ours stays.
	expect_eq "$(bpftool prog show --json | jq -r --arg before "$progs_before" \
		'[.[] | select((.name // "" | startswith("hop_")) and ((.id | tostring) as $i | $before | split("\n") | index($i) | not))] | length')" \
		0 "the tracer's BPF programs after the trace"
	# Off by default, and the report says why.
	traced_rr calico
	jq -e '.hops.probes[] | select(.probe == "xdp" and (.ran | not) and (.detail | contains("NAPI")))' \
		"$TRACE_OUT" >/dev/null || fail "the report does not say why XDP is off"
}

test_xdp_keeps_cilium_datapath_working() {
	need_root; need_cmd jq; need_cmd python3
	topo_for_test cilium
	local filters_before req
	filters_before=$(tc -n "$N1" filter show dev eth0 ingress; tc -n "$N2" filter show dev eth0 ingress)
	PEER_REDIRECTED="$S/eth0" traced_rr cilium --xdp
	req=$(jq '.hops.paths[] | select(.direction | startswith("Request"))' "$TRACE_OUT")
	# Cilium's own tc programs still redirect: neigh out of node1, peer into pod B.
	echo "$req" | jq -e '[.hops[] | select(.what | startswith("tc ingress: redirected by BPF"))] | length == 2' \
		>/dev/null || fail "cilium's redirects are gone with XDP: $(echo "$req" | jq -c '[.hops[].what]')"
	echo "$req" | jq -e '[.hops[] | select(.what | startswith("XDP"))] | length == 2' >/dev/null \
		|| fail "expected XDP hops at node1's lxc and node2's wire end: $(echo "$req" | jq -c '[.hops[].what]')"
	no_xdp_left "$N1" "$N2" "$C" "$S"
	expect_eq "$(tc -n "$N1" filter show dev eth0 ingress; tc -n "$N2" filter show dev eth0 ingress)" \
		"$filters_before" "cilium's tc filters after the trace"
}

test_xdp_detached_on_sigint() {
	need_root; need_cmd jq
	topo_for_test calico
	start_trace --xdp --tc-key flow
	ip -n "$S" -d link show eth0 | grep -q "prog/xdp" || fail "XDP not attached while tracing"
	tc -n "$N1" filter show dev eth0 ingress | grep -q hop_tcf || fail "flow-keyed tc not attached"
	stop_trace
	no_xdp_left "$N1" "$N2" "$C" "$S"
	for ns_dev in "$N1 eth0" "$S eth0"; do
		set -- $ns_dev
		tc -n "$1" filter show dev "$2" ingress | grep -q hop_tc && fail "tc filter left on $1 $2"
		tc -n "$1" filter show dev "$2" egress | grep -q hop_tc && fail "tc filter left on $1 $2 egress"
	done
	true
}

# ^C in the middle of `netprof run --xdp`: the run's own teardown removes
# the XDP programs with everything else.
test_run_with_xdp_interrupted_leaves_nothing() {
	need_root; need_cmd jq
	local run="t$$-$T_SEQ" progs_before err pid
	progs_before=$(bpftool prog show --json | jq -r '.[].id')
	err=$(mktemp)
	"$NETPROF" run --cni calico --run "$run" --xdp -w rr -d 20s --warmup 200ms --no-profile \
		--results "$(mktemp -d)" >/dev/null 2>"$err" &
	pid=$!
	for _ in $(seq 1 300); do
		ip -n "netprof-$run-pod-b" -d link show eth0 2>/dev/null | grep -q "prog/xdp" && break
		kill -0 $pid 2>/dev/null || fail "run exited early: $(tail -3 "$err")"
		sleep 0.1
	done
	ip -n "netprof-$run-pod-b" -d link show eth0 | grep -q "prog/xdp" || fail "XDP never attached"
	sleep 1
	kill -INT $pid
	wait $pid || true
	ip netns list | grep -q "^netprof-$run-" && fail "namespaces left after ^C"
	expect_eq "$(bpftool prog show --json | jq -r --arg before "$progs_before" \
		'[.[] | select((.name // "" | startswith("hop_")) and ((.id | tostring) as $i | $before | split("\n") | index($i) | not))] | length')" \
		0 "the tracer's BPF programs after ^C"
}

# FIB lookups per packet: a forwarding node routes each packet (and checks
# its source: rp_filter); cilium's host routing makes one bpf_fib_lookup on
# the sending node and none on the receiving one (an endpoint-map lookup).
test_fib_lookups_calico_on_both_nodes() {
	need_root; need_cmd jq; need_cmd python3
	topo_for_test calico
	traced_rr calico --fib
	local req node
	for node in "$N1" "$N2"; do
		jq -e --arg n "$node" '.hops.fib.namespaces[] | select(.netns == $n) | .per_packet >= 1' \
			"$TRACE_OUT" >/dev/null || fail "less than one FIB lookup per packet on $node: $(jq -c .hops.fib "$TRACE_OUT")"
	done
	req=$(jq '.hops.paths[] | select(.direction | startswith("Request"))' "$TRACE_OUT")
	# Not quite 1 on node2: the NAPI wire hands packets polled together up as a
	# list, and ip_list_rcv reuses a route for the next packet of the batch
	# (a route hint) instead of looking it up, as with a NIC.
	for node in "$N1" "$N2"; do
		echo "$req" | jq -e --arg n "$node netfilter" '[.hops[] | select(.where == $n and .what == "netfilter PREROUTING" and .fib_lookups_after >= 0.99)] | length == 1' \
			>/dev/null || fail "not one FIB lookup per packet after PREROUTING on $node: $(echo "$req" | jq -c '[.hops[] | select(.fib_lookups_after > 0)]')"
	done
	expect_eq "$(echo "$req" | jq '.fib_lookups >= 2')" true "FIB lookups on the request path"
}

test_fib_lookups_cilium_on_the_sending_node() {
	need_root; need_cmd jq; need_cmd python3
	topo_for_test cilium
	PEER_REDIRECTED="$S/eth0" traced_rr cilium --fib
	local dir sender path
	for dir in Request Response; do
		[ $dir = Request ] && sender="$N1 lxc" || sender="$N2 lxc"
		path=$(jq --arg d $dir '.hops.paths[] | select(.direction | startswith($d))' "$TRACE_OUT")
		python3 -c "import sys; sys.exit(0 if abs($(echo "$path" | jq .fib_lookups) - 1) < 0.05 else 1)" \
			|| fail "$dir: $(echo "$path" | jq .fib_lookups) FIB lookups per packet, expected 1"
		echo "$path" | jq -e --arg n "$sender" '[.hops[] | select(.fib_lookups_after >= 0.5)] | length == 1 and (.[0].where | startswith($n))' \
			>/dev/null || fail "$dir: the lookup is not at $sender: $(echo "$path" | jq -c '[.hops[] | select(.fib_lookups_after > 0)]')"
	done
}

# compare puts FIB lookups per packet beside the other hop figures: calico's
# request is routed on both nodes (each also checks the source), cilium's
# once, by its bpf_fib_lookup on the sending node.
test_compare_shows_fib_lookups_per_packet() {
	need_root; need_cmd jq
	local out
	out=$(mktemp)
	"$NETPROF" compare --cni calico,cilium --run "t$$-$T_SEQ" -w pingpong -d 1s --warmup 200ms \
		--no-profile --fib --json >"$out" 2>/dev/null || fail "compare exited $?"
	expect_eq "$(jq '.rows[] | select(.cni == "cilium") | .fib_lookups > 0.95 and .fib_lookups < 1.05' "$out")" \
		true "cilium FIB lookups (about 1)"
	expect_eq "$(jq '.rows[] | select(.cni == "calico") | .fib_lookups >= 2' "$out")" true "calico FIB lookups"
	"$NETPROF" compare --cni calico --run "t$$-$T_SEQ" -w pingpong -d 1s --warmup 200ms \
		--no-profile --fib >"$out" 2>/dev/null || fail "compare (text) exited $?"
	grep -q " fib " "$out" || fail "no fib column in the compare table: $(head -5 "$out")"
	rm -f "$out"
}

test_refuses_foreign_or_missing_namespaces() {
	expect_rc 2 "$NETPROF" trace --netns notours -d 1s
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"netprof-"* ]] || fail "says which namespaces are allowed: $T_OUT"
	expect_rc 2 "$NETPROF" trace --netns netprof-does-not-exist -d 1s
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" trace -d 1s
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" trace --netns netprof-x --sample 0
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" trace --netns netprof-x --tc-key frob
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"skb or flow"* ]] || fail "says which keys there are: $T_OUT"
}

run_tests
