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

# start_trace ARGS...: runs the tracer in the background until stop_trace.
start_trace() {
	TRACE_OUT=$(mktemp); TRACE_ERR=$(mktemp)
	"$NETPROF" trace --netns "$C,$R,$S" -p 7000 --json "$@" >"$TRACE_OUT" 2>"$TRACE_ERR" &
	TRACE_PID=$!
	for _ in $(seq 1 200); do
		grep -q "tracing 3 namespaces" "$TRACE_ERR" && return 0
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
	sleep 0.3
	ip netns exec "$C" python3 "$TOOLS/tcp_rr.py" client 198.18.2.2 7000 "$1" \
		|| { kill $spid; fail "rr client failed"; }
	wait $spid
}

within_1pct() { # A B WHAT
	python3 -c "import sys; a, b = $1, $2; sys.exit(0 if abs(a - b) <= max(1, 0.01 * max(a, b)) else 1)" \
		|| fail "$3: tracer counted $1, the device $2 (more than 1% apart)"
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
	req=$(jq '[.hops.paths[] | select(.direction | startswith("Request"))][0].mean_end_to_end_us' "$TRACE_OUT")
	resp=$(jq '[.hops.paths[] | select(.direction | startswith("Response"))][0].mean_end_to_end_us' "$TRACE_OUT")
	echo "round trip $rtt us; request path $req us; response path $resp us"
	python3 -c "
import sys
rtt, req, resp = $rtt, $req, $resp
# Both one-way kernel paths are parts of the round trip; the rest is the
# applications and the socket layer, which on this path is the smaller part.
sys.exit(0 if 0.2 * rtt <= req + resp <= rtt else 1)" \
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
}

run_tests
