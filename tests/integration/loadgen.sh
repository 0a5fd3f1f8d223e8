# The load generator: every workload between two namespaces joined by a veth,
# against `netprof serve` in the second one. Both sides' counts must agree,
# the JSON must carry every figure, bad input must exit 2 with one line, and a
# server that dies or never answers must end the client quickly with a result
# marked partial.
source "$(dirname "$0")/../lib.sh"

LG_SRV=198.18.200.2
LG_CLI=198.18.200.1
SHORT=(-t 1 -w 200ms)

# Two namespaces and a veth made inside them (never in the root namespace),
# then `netprof serve` in the server's, killed when the test ends.
lg_setup() {
	need_root
	need_cmd jq
	NS_C=$(t_netns lgc)
	NS_S=$(t_netns lgs)
	ip -n "$NS_C" link add eth0 type veth peer name eth0 netns "$NS_S" || fail "veth"
	ip -n "$NS_C" addr add $LG_CLI/24 dev eth0
	ip -n "$NS_S" addr add $LG_SRV/24 dev eth0
	ip -n "$NS_C" link set eth0 up
	ip -n "$NS_S" link set eth0 up
	ip netns exec "$NS_S" "$NETPROF" serve >"$(mktemp)" 2>&1 &
	SERVER_PID=$!
	# A frozen server (SIGSTOP) must still go: continue it, then kill it.
	trap 'set +e; kill -CONT $SERVER_PID 2>/dev/null; kill $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null; true' EXIT
	for _ in $(seq 50); do
		ip netns exec "$NS_S" ss -Hltn 'sport = :12865' | grep -q . && return 0
		sleep 0.1
	done
	fail "netprof serve did not listen on 12865"
}

# load ARGS...: runs `netprof load` in the client namespace, JSON in $J.
load() {
	local rc=0
	J=$(ip netns exec "$NS_C" "$NETPROF" load "$@" -s $LG_SRV --json 2>"$T_ERR") || rc=$?
	[ $rc = 0 ] || fail "'netprof load $*' exited $rc: $(head -2 "$T_ERR")"
	jv() { jq -r "$1" <<<"$J"; }
	expect_eq "$(jv .partial)" false "partial"
	[ "$1" = sweep ] || expect_eq "$(jv .server.reported)" true "server report arrived"
}
T_ERR=$(mktemp)

jv() { jq -r "$1" <<<"$J"; }
positive() { awk -v v="$1" 'BEGIN { exit !(v > 0) }' || fail "$2: '$1' is not positive"; }

# Round trip percentiles must never decrease: min <= p50 <= ... <= max.
expect_monotone() {
	local key=$1 prev=-1 v
	for p in min_us p50_us p90_us p99_us p99_9_us max_us; do
		v=$(jv ".$key.$p")
		awk -v a="$prev" -v b="$v" 'BEGIN { exit !(a <= b) }' ||
			fail "$key: $p=$v below the previous percentile $prev"
		prev=$v
	done
	positive "$(jv ".$key.samples")" "$key samples"
}

test_stream_bytes_agree() {
	lg_setup
	load stream "${SHORT[@]}" -P 2
	positive "$(jv .throughput_gbit_s)" "throughput"
	expect_eq "$(jv .client.bytes_sent)" "$(jv .server.bytes_received)" "client sent = server received"
	positive "$(jv .client.bytes_sent)" "bytes sent"
	expect_eq "$(jv '.streams | length')" 2 "one entry per stream"
	expect_eq "$(jv '[.streams[] | has("retransmits") and has("rtt_us") and has("cwnd_segments")] | all')" true "TCP_INFO per stream"
	positive "$(jv '.streams[0].rtt_us')" "sender's RTT from TCP_INFO"
	positive "$(jv .client.service_demand_ms_per_gbit)" "service demand"
}

test_stream_reverse_bytes_agree() {
	lg_setup
	load stream "${SHORT[@]}" -R
	expect_eq "$(jv .config.direction)" server-to-client "direction"
	expect_eq "$(jv .server.bytes_sent)" "$(jv .client.bytes_received)" "server sent = client received"
	positive "$(jv .streams[0].bytes)" "per-stream bytes"
}

test_rr_transactions_agree() {
	lg_setup
	load rr "${SHORT[@]}" -P 4
	positive "$(jv .transactions_per_s)" "transactions/s"
	expect_eq "$(jv .client.transactions)" "$(jv .server.transactions)" "transactions both sides"
	expect_eq "$(jv .client.bytes_sent)" "$(jv .server.bytes_received)" "requests"
	expect_eq "$(jv .server.bytes_sent)" "$(jv .client.bytes_received)" "responses"
	expect_eq "$(( $(jv .client.transactions) * 100 ))" "$(jv .client.bytes_received)" "100 B per response"
	expect_monotone latency_round_trip_us
	positive "$(jv .client.service_demand_us_per_transaction)" "service demand"
}

test_rr_open_loop_rate() {
	lg_setup
	load rr "${SHORT[@]}" -P 2 --rate 5000
	expect_eq "$(jv .latency_from_scheduled_send)" true "coordinated-omission correction on"
	awk -v t="$(jv .transactions_per_s)" 'BEGIN { exit !(t > 4500 && t < 5500) }' ||
		fail "open loop at 5000/s ran at $(jv .transactions_per_s)/s"
	expect_eq "$(jv .client.transactions)" "$(jv .server.transactions)" "transactions both sides"
	expect_monotone latency_round_trip_us
}

test_pingpong_labels_half_round_trip() {
	lg_setup
	load pingpong "${SHORT[@]}"
	expect_eq "$(jv .config.request_bytes)" 14 "sockperf's message size"
	expect_eq "$(jv .client.transactions)" "$(jv .server.transactions)" "transactions both sides"
	expect_monotone latency_round_trip_us
	expect_monotone latency_half_round_trip_us
	awk -v rt="$(jv .latency_round_trip_us.mean_us)" -v h="$(jv .latency_half_round_trip_us.mean_us)" \
		'BEGIN { exit !(h * 2 > rt * 0.999 && h * 2 < rt * 1.001) }' || fail "half is not half the round trip"
}

test_crr_connections_agree() {
	lg_setup
	load crr "${SHORT[@]}" -P 2
	expect_eq "$(jv .client.transactions)" "$(jv .server.transactions)" "transactions both sides"
	positive "$(jv .server.window_connects)" "server accepted connections"
	expect_monotone connect_latency_us
	expect_monotone latency_round_trip_us
}

test_udp_counts_loss() {
	lg_setup
	load udp "${SHORT[@]}" --rate 20000
	positive "$(jv .udp.packets_received_per_s)" "received pkt/s"
	local sent recv
	sent=$(jv .client.packets_sent)
	recv=$(jv .server.packets_received)
	[ "$recv" -le "$sent" ] || fail "server received $recv of $sent"
	awk -v l="$(jv .udp.loss_percent)" 'BEGIN { exit !(l >= 0 && l < 1) }' ||
		fail "loss at 20000 pkt/s on a veth: $(jv .udp.loss_percent) %"
	expect_eq "$(( $(jv .client.packets_sent) * 16 ))" "$(jv .client.bytes_sent)" "16 B datagrams"
}

test_push_hundred_connections() {
	lg_setup
	load push "${SHORT[@]}"
	expect_eq "$(jv '.streams | length')" 100 "100 connections"
	expect_eq "$(jv .server.bytes_sent)" "$(jv .client.bytes_received)" "server sent = client received"
	positive "$(jv .throughput_gbit_s)" "throughput"
}

test_http_keepalive() {
	lg_setup
	load http "${SHORT[@]}" -P 16
	expect_eq "$(jv .client.transactions)" "$(jv .server.transactions)" "requests both sides"
	expect_eq "$(jv '[.client.errors[]] | add')" 0 "no errors of any kind"
	expect_eq "$(jv '.client.errors | keys | sort | join(",")')" "connect,parse,read,status,timeout,write" "errors by kind"
	expect_monotone latency_round_trip_us
}

test_sweep_sizes() {
	lg_setup
	load sweep -t 300ms -w 100ms
	expect_eq "$(jv '[.sweep[].size_bytes] | join(",")')" "1,64,4096,262144" "sizes by x64"
	expect_eq "$(jv '[.sweep[] | .throughput_gbit_s > 0 and .latency_round_trip_mean_us > 0] | all')" true "figures per size"
}

test_json_carries_every_field() {
	lg_setup
	load rr -t 1 -w 200ms -i 250ms
	local k
	for k in workload server_address partial error config.connections config.request_bytes \
		config.response_bytes config.duration_s config.warmup_s measured_s transactions_per_s \
		latency_round_trip_us.p50_us latency_round_trip_us.p99_9_us client.cpu.machine_user_cores \
		client.cpu.machine_system_cores client.cpu.machine_softirq_cores \
		client.cpu.process_user_cores client.cpu.process_system_cores server.cpu.machine_busy_cores \
		client.service_demand_us_per_transaction server.service_demand_us_per_transaction \
		client.window_transactions intervals; do
		jq -e "getpath(\"$k\" | split(\".\")) != null" <<<"$J" >/dev/null || fail "JSON lacks $k"
	done
	[ "$(jv '.intervals | length')" -ge 3 ] || fail "interval reports: $(jv '.intervals | length')"
	# Every number's key names its unit, or is a count.
	local bad
	bad=$(jq -r '[paths(numbers) | map(tostring) | join(".")] | .[]' <<<"$J" |
		grep -vE '(_s|_us|_bytes|_cores|_percent|_segments|_port|_per_transaction|_per_gbit|bytes_[a-z]+|packets_[a-z]+|transactions|connects|connections|threads|samples|cpus|retransmits|errors\.[a-z]+)$' |
		grep -vE '^intervals\.[0-9]+\.' || true)
	[ -z "$bad" ] || fail "JSON numbers without a unit: $bad"
}

test_bad_input_one_line_exit_2() {
	local args
	while IFS= read -r args; do
		# shellcheck disable=SC2086
		expect_rc 2 "$NETPROF" $args
		expect_lines 1 "$T_OUT" "'$args': one line"
	done <<'EOF_CASES'
load
load warp -s 198.18.0.2
load rr
load rr -s not-an-address
load rr -s 198.18.0.2 -l 0
load rr -s 198.18.0.2 -t 0
load rr -s 198.18.0.2 -t 10x
load rr -s 198.18.0.2 -P 0
load rr -s 198.18.0.2 -P many
load stream -s 198.18.0.2 --rate 100
load pingpong -s 198.18.0.2 -P 2
load udp -s 198.18.0.2 -l 70000
load rr -s 198.18.0.2 -p 70000
load rr -s 198.18.0.2 extra
serve -p 0
serve -B nowhere
serve extra
EOF_CASES
}

test_server_killed_mid_test_is_partial() {
	lg_setup
	local rc=0 start end
	(sleep 1.5; kill -9 $SERVER_PID) &
	local killer=$!
	start=$(date +%s%N)
	J=$(ip netns exec "$NS_C" "$NETPROF" load rr -s $LG_SRV -t 10 -w 200ms --timeout 2s --json 2>"$T_ERR") || rc=$?
	end=$(date +%s%N)
	wait $killer
	expect_eq "$rc" 1 "exit status of a failed test"
	[ $(( (end - start) / 1000000 )) -lt 5000 ] || fail "took $(( (end - start) / 1000000 )) ms to notice"
	expect_eq "$(jv .partial)" true "marked partial"
	[[ "$(jv .error)" == *server* ]] || fail "error names the server: $(jv .error)"
	positive "$(jv .client.transactions)" "figures until the failure are kept"
	expect_lines 1 "$(cat "$T_ERR")" "one line on stderr"
}

test_server_frozen_mid_test_times_out() {
	lg_setup
	local rc=0 start end
	(sleep 1.2; kill -STOP $SERVER_PID) &
	local killer=$!
	start=$(date +%s%N)
	J=$(ip netns exec "$NS_C" "$NETPROF" load stream -s $LG_SRV -t 10 -w 200ms --timeout 1s --json 2>"$T_ERR") || rc=$?
	end=$(date +%s%N)
	wait $killer
	kill -CONT $SERVER_PID
	expect_eq "$rc" 1 "exit status of a failed test"
	[ $(( (end - start) / 1000000 )) -lt 5000 ] || fail "took $(( (end - start) / 1000000 )) ms to notice"
	expect_eq "$(jv .partial)" true "marked partial"
}

test_unreachable_server_within_timeout() {
	lg_setup
	local rc=0 start end
	start=$(date +%s%N)
	ip netns exec "$NS_C" "$NETPROF" load rr -s 198.18.200.3 --timeout 1s -t 1 >/dev/null 2>"$T_ERR" || rc=$?
	end=$(date +%s%N)
	expect_eq "$rc" 1 "exit status"
	[ $(( (end - start) / 1000000 )) -lt 2500 ] || fail "took $(( (end - start) / 1000000 )) ms"
	grep -q "cannot reach netprof serve at 198.18.200.3" "$T_ERR" || fail "message: $(cat "$T_ERR")"
	rc=0
	ip netns exec "$NS_C" "$NETPROF" load rr -s $LG_SRV -p 9 -t 1 >/dev/null 2>"$T_ERR" || rc=$?
	expect_eq "$rc" 1 "exit status, port closed"
	grep -q "Connection refused" "$T_ERR" || fail "message: $(cat "$T_ERR")"
}

run_tests
