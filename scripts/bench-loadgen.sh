#!/usr/bin/env bash
# netprof's load generator against the tools people use today, on the same
# path: a veth pair between two netprof-bench-* namespaces (198.18.201.0/24),
# made inside the namespaces so nothing touches the root namespace.
#   stream 1 and 4 streams   vs iperf3 -c -P 1|4
#   pingpong latency         vs sockperf pp --tcp (sockperf prints HALF the round trip)
#   rr rate (1 connection)   vs the rate sockperf's round trip implies: 1 / (2 x half)
#   sweep 1 B..256 KiB x64   vs qperf -oo msg_size:1:256K:*64 tcp_bw tcp_lat
# Runs alternate (netprof, peer, netprof, peer ...) for ROUNDS rounds and the
# medians are compared. A benchmark, not a test: it prints figures and ratios.
#   sudo scripts/bench-loadgen.sh            (DUR=5 ROUNDS=3 NETPROF=./netprof)
# Targets: stream >= 1.0x iperf3; pingpong latency <= 1.05x sockperf's;
# rr rate >= the rate implied by sockperf's round trip.
set -euo pipefail
cd "$(dirname "$0")/.."
NETPROF=${NETPROF:-$PWD/netprof}
DUR=${DUR:-5}
ROUNDS=${ROUNDS:-3}
SWEEP_DUR=${SWEEP_DUR:-2}
NS_C=netprof-bench-c$$
NS_S=netprof-bench-s$$
SRV=198.18.201.2
PIDS=()

for tool in iperf3 sockperf qperf jq; do
	command -v $tool >/dev/null || { echo "bench-loadgen: needs $tool (scripts/setup.sh)" >&2; exit 2; }
done
[ -x "$NETPROF" ] || { echo "bench-loadgen: no netprof binary at $NETPROF (make, or set NETPROF)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-loadgen: needs root (network namespaces)" >&2; exit 2; }

cleanup() {
	set +e
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	ip netns delete $NS_C 2>/dev/null
	ip netns delete $NS_S 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add $NS_C
ip netns add $NS_S
ip -n $NS_C link add eth0 type veth peer name eth0 netns $NS_S
ip -n $NS_C addr add 198.18.201.1/24 dev eth0
ip -n $NS_S addr add $SRV/24 dev eth0
for ns in $NS_C $NS_S; do
	ip -n $ns link set lo up
	ip -n $ns link set eth0 up
done
C="ip netns exec $NS_C"
S="ip netns exec $NS_S"

$S "$NETPROF" serve >/dev/null 2>&1 & PIDS+=($!)
$S iperf3 -s >/dev/null 2>&1 & PIDS+=($!)
$S sockperf sr --tcp -i $SRV -p 11111 >/dev/null 2>&1 & PIDS+=($!)
$S qperf >/dev/null 2>&1 & PIDS+=($!)
sleep 1

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }

declare -A R	# R[name]="value value ..." one value per round

add() { R[$1]="${R[$1]:-} $2"; }

for round in $(seq "$ROUNDS"); do
	echo "== round $round of $ROUNDS" >&2
	# Odd rounds run netprof first, even rounds the peer first, so a
	# slow drift of the machine's load favours neither.
	for p in 1 4; do
		[ $((round % 2)) = 0 ] && w=$($C iperf3 -c $SRV -P $p -t "$DUR" -O 1 -J | jq '.end.sum_received.bits_per_second / 1e9')
		v=$($C "$NETPROF" load stream -s $SRV -P $p -t "$DUR" -w 1 --json | jq .throughput_gbit_s)
		[ $((round % 2)) = 1 ] && w=$($C iperf3 -c $SRV -P $p -t "$DUR" -O 1 -J | jq '.end.sum_received.bits_per_second / 1e9')
		add np_stream$p "$v"
		add ip_stream$p "$w"
		echo "   stream -P $p: netprof $v Gbit/s, iperf3 $w Gbit/s" >&2
	done
	[ $((round % 2)) = 0 ] && sp=$($C sockperf pp --tcp -i $SRV -p 11111 -t "$DUR" 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
	out=$($C "$NETPROF" load pingpong -s $SRV -t "$DUR" -w 1 --json)
	add np_pp_mean "$(jq .latency_half_round_trip_us.mean_us <<<"$out")"
	add np_pp_p50 "$(jq .latency_half_round_trip_us.p50_us <<<"$out")"
	add np_pp_tps "$(jq .transactions_per_s <<<"$out")"
	[ $((round % 2)) = 1 ] && sp=$($C sockperf pp --tcp -i $SRV -p 11111 -t "$DUR" 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
	add sp_pp_mean "$(grep -oP 'avg-latency=\K[0-9.]+' <<<"$sp")"
	add sp_pp_p50 "$(grep -oP 'percentile 50.000 =\s*\K[0-9.]+' <<<"$sp")"
	echo "   half round trip mean: netprof $(jq .latency_half_round_trip_us.mean_us <<<"$out") us, sockperf $(grep -oP 'avg-latency=\K[0-9.]+' <<<"$sp") us" >&2
	v=$($C "$NETPROF" load rr -s $SRV -t "$DUR" -w 1 --json | jq .transactions_per_s)
	add np_rr "$v"
	echo "   rr (100 B/100 B, 1 connection): $v transactions/s" >&2
	q=$($C qperf -t "$SWEEP_DUR" $SRV -uu -oo msg_size:1:256K:*64 tcp_bw tcp_lat 2>&1)
	i=0
	for b in $(grep -oP 'bw\s*=\s*\K[0-9.]+' <<<"$q"); do
		add qp_bw$i "$(awk -v b="$b" 'BEGIN { print b * 8 / 1e9 }')"
		i=$((i + 1))
	done
	i=0
	for l in $(grep -oP 'latency\s*=\s*\K[0-9.]+' <<<"$q"); do
		add qp_lat$i "$(awk -v l="$l" 'BEGIN { print l / 1000 }')"
		i=$((i + 1))
	done
	out=$($C "$NETPROF" load sweep -s $SRV -t "$SWEEP_DUR" -w 500ms --json)
	for i in 0 1 2 3; do
		add np_bw$i "$(jq ".sweep[$i].throughput_gbit_s" <<<"$out")"
		add np_lat$i "$(jq ".sweep[$i].latency_half_round_trip_mean_us" <<<"$out")"
	done
done

m() { echo "${R[$1]:-}" | median; }
echo
echo "netprof load vs iperf3 / sockperf / qperf, veth between two namespaces, medians of $ROUNDS rounds, ${DUR}s runs"
printf '%-44s %12s %12s %8s  %s\n' "figure" "netprof" "peer" "ratio" "target"
row() { printf '%-44s %12.3f %12.3f %8s  %s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"; }
row "stream 1 stream, Gbit/s (vs iperf3)" "$(m np_stream1)" "$(m ip_stream1)" ">= 1.0"
row "stream 4 streams, Gbit/s (vs iperf3)" "$(m np_stream4)" "$(m ip_stream4)" ">= 1.0"
row "pingpong RTT/2 mean, us (vs sockperf avg)" "$(m np_pp_mean)" "$(m sp_pp_mean)" "<= 1.05"
row "pingpong RTT/2 p50, us (vs sockperf p50)" "$(m np_pp_p50)" "$(m sp_pp_p50)" "<= 1.05"
implied=$(awk -v h="$(m sp_pp_mean)" 'BEGIN { print 1e6 / (2 * h) }')
row "rr 1 conn 100 B, trans/s (vs 1/sockperf RTT)" "$(m np_rr)" "$implied" ">= 1.0"
row "pingpong 14 B, trans/s (vs 1/sockperf RTT)" "$(m np_pp_tps)" "$implied" ">= 1.0"
sizes=(1 64 4096 262144)
for i in 0 1 2 3; do
	row "sweep ${sizes[$i]} B bandwidth, Gbit/s (vs qperf)" "$(m np_bw$i)" "$(m qp_bw$i)" "(info)"
done
for i in 0 1 2 3; do
	row "sweep ${sizes[$i]} B RTT/2, us (vs qperf)" "$(m np_lat$i)" "$(m qp_lat$i)" "(info)"
done
echo
echo "per-round values:"
for k in $(echo "${!R[@]}" | tr ' ' '\n' | sort); do
	echo "  $k:${R[$k]}"
done
