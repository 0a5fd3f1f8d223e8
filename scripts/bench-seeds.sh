#!/usr/bin/env bash
# The seeds' workloads (docs reference.md §1, the Spiderpool write-up; §2,
# Cilium's CNI benchmark) on netprof's emulated datapaths, clean figures
# only (no probe attached), each wire capped at 10 Gbit/s as the write-up's
# ConnectX-5 links were: sockperf pp as pingpong, netperf TCP_RR 100/100 as
# rr, iperf3 -P 1/2/4 as stream, TCP_CRR as crr; host, calico, cilium,
# cilium-legacy, macvlan (one and two subnets), to a pod and to a ClusterIP.
# Rounds alternate between the datapaths. Prints each figure as a ratio to
# node-to-node beside the published ratio, then whether each published
# ordering held; for one that did not, a traced run of the datapaths
# involved and netprof's own hop, netfilter and cycle figures for them.
# A benchmark, not a test: its figures are this machine's.
#
#   scripts/bench-seeds.sh [--rounds 3] [--duration 3s] [--quick]
#
# Every netprof run takes the shared lock (/tmp/netprof-itest.lock, or
# $NETPROF_LOCK) for itself, so other users of the machine get it between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
NETPROF=${NETPROF:-./netprof}
LOCK=${NETPROF_LOCK:-/tmp/netprof-itest.lock}
ROUNDS=3 DURATION=3s WARMUP=500ms
# crr to a ClusterIP at the default cluster's 100 services, and at this many.
MANY_SERVICES=5000
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--quick) ROUNDS=1 DURATION=1s WARMUP=300ms; shift ;;
	*) echo "usage: $0 [--rounds N] [--duration D] [--quick]" >&2; exit 2 ;;
	esac
done
case $ROUNDS in '' | *[!0-9]* | 0) echo "$0: --rounds '$ROUNDS': give a number of rounds, 1 or more" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "$0: needs root (it builds network namespaces)" >&2; exit 1; }
for cmd in jq flock awk; do
	command -v $cmd >/dev/null || { echo "$0: needs $cmd (scripts/setup.sh)" >&2; exit 1; }
done
[ -x "$NETPROF" ] || { echo "$0: no $NETPROF: build it first (make)" >&2; exit 1; }

OUT=$(mktemp -d /tmp/netprof-bench-seeds.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
FIGURES=$OUT/figures.tsv	# round, setup, figure, value
: >"$FIGURES"

# The published figures, as data: setup figure value source. Latencies are
# sockperf's half round trip in us; rr and crr per second; streams Gbit/s.
PUBLISHED=$(cat <<'EOF'
host          pingpong   32.2   reference.md §1 (Spiderpool: 2 bare-metal nodes, 10 Gbit/s ConnectX-5, kernel 6.2)
host          rr         47561  reference.md §1
host          stream1    9.41   reference.md §1
host          stream2    9.40   reference.md §1
host          stream4    9.42   reference.md §1
calico        pingpong   51.3   reference.md §1
calico        rr         9986   reference.md §1
calico        stream1    3.26   reference.md §1
calico        stream2    4.56   reference.md §1
calico        stream4    8.05   reference.md §1
cilium        pingpong   29.1   reference.md §1
cilium        rr         17571  reference.md §1
cilium        stream1    9.35   reference.md §1
cilium        stream2    9.36   reference.md §1
cilium        stream4    9.39   reference.md §1
macvlan       pingpong   24.3   reference.md §1
macvlan       rr         19794  reference.md §1
macvlan       stream1    9.36   reference.md §1
macvlan       stream2    9.37   reference.md §1
macvlan       stream4    9.38   reference.md §1
macvlan-2sub  pingpong   26.2   reference.md §1
macvlan-2sub  rr         19215  reference.md §1
macvlan-2sub  stream1    9.36   reference.md §1
macvlan-2sub  stream2    9.37   reference.md §1
macvlan-2sub  stream4    9.38   reference.md §1
calico-svc    pingpong   51.9   reference.md §1 (through a ClusterIP)
calico-svc    rr         9782   reference.md §1
calico-svc    stream1    3.06   reference.md §1
cilium-svc    pingpong   30.2   reference.md §1
cilium-svc    rr         17237  reference.md §1
macvlan-lb-svc pingpong  27.7   reference.md §1 (macvlan with eBPF service handling)
macvlan-lb-svc rr        18993  reference.md §1
macvlan-lb-svc stream1   9.36   reference.md §1
EOF
)

# The setups: name, then netprof's topology options.
SETUPS=$(cat <<'EOF'
host           --cni host
calico         --cni calico
cilium         --cni cilium
cilium-legacy  --cni cilium-legacy
macvlan        --cni macvlan
macvlan-2sub   --cni macvlan --subnets 2
calico-svc     --cni calico --target service
cilium-svc     --cni cilium --target service
cilium-legacy-svc --cni cilium-legacy --target service
macvlan-lb-svc --cni macvlan --target service --socket-lb
EOF
)

# run_setup ROUND NAME OPTIONS...: the workload sets of one setup; figures
# into $FIGURES. A run that fails leaves its figures out (shown as "-").
# A run id of its own for every run, so that what a failed run left behind
# (it is removed at once) never stops the next one.
RUN_SEQ=0
run_set() { # ROUND NAME TAG ARGS...
	local round=$1 name=$2 tag=$3 json id
	shift 3
	json=$OUT/$round-$name-$tag.json
	RUN_SEQ=$((RUN_SEQ + 1))
	id=bs$$-$RUN_SEQ
	# Clean figures: no hop tracer, no function timing, no sampler.
	if ! flock "$LOCK" "$NETPROF" run --run "$id" "$@" -d "$DURATION" --warmup "$WARMUP" \
		--link-rate 10gbit --no-trace --func-probe off --no-profile --json \
		--results "$OUT/results" >"$json" 2>"$json.err"; then
		echo "  $name $tag (run $id): failed: $(grep -m1 -E 'warning|error' "$json.err" ||
			tail -1 "$json.err")" >&2
		flock "$LOCK" "$NETPROF" topo down --run "$id" >/dev/null 2>&1 || true
		return 0
	fi
	jq -r --arg r "$round" --arg n "$name" --arg tag "$tag" '.workloads[] |
		(.load.workload) as $w |
		if $w == "pingpong" then [$r, $n, "pingpong", .load.latency_half_round_trip_us.mean_us]
		elif $w == "stream" then [$r, $n, "stream" + ($tag | ltrimstr("stream")), .load.throughput_gbit_s]
		else [$r, $n, $w, .load.transactions_per_s] end | @tsv' "$json" >>"$FIGURES"
}

run_setup() {
	local round=$1 name=$2
	shift 2
	run_set "$round" "$name" ppcrr "$@" -w pingpong,crr
	run_set "$round" "$name" rr "$@" -w rr -r 100,100
	run_set "$round" "$name" stream1 "$@" -w stream -P 1
	case $name in *-svc) return 0 ;; esac	# the write-up's ClusterIP runs: one stream
	run_set "$round" "$name" stream2 "$@" -w stream -P 2
	run_set "$round" "$name" stream4 "$@" -w stream -P 4
}

echo "bench-seeds: $ROUNDS round(s) of $DURATION a workload, --link-rate 10gbit, clean figures" \
	"(no probe attached); the default cluster (100 services, 30 pods a node)" >&2
for round in $(seq 1 "$ROUNDS"); do
	echo "round $round of $ROUNDS" >&2
	while read -r name opts; do
		# shellcheck disable=SC2086
		run_setup "$round" "$name" $opts
	done <<<"$SETUPS"
	for cni in calico cilium; do
		run_set "$round" "$cni-svc-many" crr --cni $cni --target service \
			--services $MANY_SERVICES -w crr
	done
done

# mean SETUP FIGURE: the mean over the rounds, rounded as the figure is
# read (0.1 us, 1 per s, 0.01 Gbit/s), or "" when no round has it.
mean() {
	awk -F'\t' -v s="$1" -v f="$2" '$2 == s && $3 == f && $4 != "" && $4 != "null" { t += $4; n++ }
		END { if (n) printf(f == "pingpong" ? "%.1f" : f ~ /^stream/ ? "%.2f" : "%.0f", t / n) }' "$FIGURES"
}
published() { echo "$PUBLISHED" | awk -v s="$1" -v f="$2" '$1 == s && $2 == f { print $3 }'; }
# ratio VALUE BASE: VALUE / BASE, or "-".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
# The node-to-node figure a setup's figure is compared to (a ClusterIP's too).
base_of() { mean host "$1"; }
pub_base_of() { published host "$1"; }

unit_of() {
	case $1 in pingpong) echo "us half RTT" ;; rr | crr) echo "per s" ;; *) echo "Gbit/s" ;; esac
}

printf '\n%-10s %-18s %12s %-12s %10s %10s %10s\n' figure setup measured unit ratio published "pub ratio"
for fig in pingpong rr stream1 stream2 stream4 crr; do
	while read -r name _; do
		m=$(mean "$name" "$fig")
		p=$(published "$name" "$fig")
		[ -z "$m" ] && [ -z "$p" ] && continue
		printf '%-10s %-18s %12s %-12s %10s %10s %10s\n' "$fig" "$name" "${m:--}" "$(unit_of "$fig")" \
			"$(ratio "$m" "$(base_of "$fig")")" "${p:--}" "$(ratio "$p" "$(pub_base_of "$fig")")"
	done <<<"$SETUPS"
done
for cni in calico cilium; do
	m=$(mean "$cni-svc-many" crr)
	printf '%-10s %-18s %12s %-12s %10s %10s %10s\n' crr "$cni-svc ${MANY_SERVICES}s" "${m:--}" "per s" \
		"$(ratio "$m" "$(mean "$cni-svc" crr)")" - -
done
echo "(ratios: to node-to-node's figure, a ClusterIP's too; crr with $MANY_SERVICES services: to the same"
echo " datapath's crr with 100; published: reference.md §1, whose ratios are to its node-to-node row)"

# ---- the published orderings ----
FAILED=()
verdict() { # NAME EXPR(awk, true/false) DETAIL
	if [ "$(awk "BEGIN { print ($2) ? 1 : 0 }")" = 1 ]; then
		printf '  held          %s  (%s)\n' "$1" "$3"
	else
		printf '  did not hold  %s  (%s)\n' "$1" "$3"
		FAILED+=("$1")
	fi
}
have() { for v in "$@"; do [ -n "$v" ] || return 1; done; }

echo
echo "Published orderings (reference.md §1, §2):"
pm=$(mean macvlan pingpong) pc=$(mean cilium pingpong) pl=$(mean cilium-legacy pingpong)
pk=$(mean calico pingpong) ph=$(mean host pingpong)
rm_=$(mean macvlan rr) rc=$(mean cilium rr) rl=$(mean cilium-legacy rr) rk=$(mean calico rr)
sh=$(mean host stream1) sc=$(mean cilium stream1) sm=$(mean macvlan stream1) sk=$(mean calico stream1)
ck=$(mean calico-svc crr) ckm=$(mean calico-svc-many crr) cc=$(mean cilium-svc crr) ccm=$(mean cilium-svc-many crr)
if have "$pm" "$pc" "$pl" "$pk"; then
	verdict "pingpong: macvlan <= cilium < cilium-legacy < calico" \
		"$pm <= $pc && $pc < $pl && $pl < $pk" "half RTT us: $pm, $pc, $pl, $pk"
else echo "  not measured  pingpong ordering (a run failed)"; fi
if have "$rm_" "$rc" "$rl" "$rk"; then
	verdict "rr: macvlan <= cilium < cilium-legacy < calico in cost" \
		"$rm_ >= $rc && $rc > $rl && $rl > $rk" "transactions/s: $rm_, $rc, $rl, $rk"
else echo "  not measured  rr ordering (a run failed)"; fi
# "No worse": within 5 %, the spread of this machine's alternating rounds.
if have "$pc" "$ph" "$sc" "$sh"; then
	verdict "cilium no worse than node-to-node (pingpong, one stream; 5 % allowed)" \
		"$pc <= 1.05 * $ph && $sc >= 0.95 * $sh" "half RTT $pc vs $ph us; $sc vs $sh Gbit/s"
else echo "  not measured  cilium vs node-to-node (a run failed)"; fi
# Line rate: what node-to-node reaches through the same 10gbit cap here.
if have "$sh" "$sc" "$sm" "$sk"; then
	verdict "10 Gbit/s, one stream: cilium and macvlan at line rate (>= 0.95 of node-to-node's), calico below" \
		"$sc >= 0.95 * $sh && $sm >= 0.95 * $sh && $sk < 0.95 * $sh" \
		"Gbit/s: node-to-node $sh, cilium $sc, macvlan $sm, calico $sk"
else echo "  not measured  one-stream line rate (a run failed)"; fi
echo "  not measured  ClusterIP: macvlan with kube-proxy worse than macvlan with socket-LB (netprof does not"
echo "                emulate Spiderpool's veth0 to the node's kube-proxy: 'topo up --cni macvlan --target"
echo "                service' needs --socket-lb; the write-up's figure: 36.8 vs 27.7 us)"
if have "$ck" "$ckm" "$cc" "$ccm"; then
	verdict "crr to a ClusterIP collapses on calico as services grow (<= 0.8 at $MANY_SERVICES), cilium flat (>= 0.9)" \
		"$ckm <= 0.8 * $ck && $ccm >= 0.9 * $cc" \
		"connections/s at 100 -> $MANY_SERVICES services: calico $ck -> $ckm, cilium $cc -> $ccm"
else echo "  not measured  crr ordering (a run failed)"; fi

[ ${#FAILED[@]} -eq 0 ] && exit 0

# ---- why: netprof's own figures for the datapaths of each ordering that did not hold ----
# traced "CNI-OPTS" "WORKLOAD-OPTS": one traced and profiled run (once per
# pair: orderings share datapaths); prints its report's JSON file.
traced() {
	local json
	json=$OUT/traced-$(echo "$1 $2" | md5sum | cut -c1-12).json
	if [ ! -s "$json" ]; then
		# shellcheck disable=SC2086
		flock "$LOCK" "$NETPROF" run --run "bs$$-tr" $1 $2 -d 1s --warmup 300ms \
			--explain-duration 2s --profile-duration 2s --link-rate 10gbit --json \
			--results "$OUT/results" >"$json" 2>/dev/null || echo "{}" >"$json"
	fi
	echo "$json"
}
explain_line() { # SETUP JSON
	jq -r --arg s "$1" '.workloads[0] as $w | ($w.hops.paths // [] | map(select(.direction | startswith("Request"))) | .[0]) as $p |
		if $p == null then "    \($s): no traced path (the run failed)" else
		"    \($s): clean \(if $w.load.workload == "stream" then "\($w.load.throughput_gbit_s * 100 | round / 100) Gbit/s" elif $w.load.workload == "pingpong" then "half RTT \($w.load.latency_half_round_trip_us.mean_us * 10 | round / 10) us" else "\($w.load.transactions_per_s | round)/s" end)," +
		" machine busy \($w.load.client.cpu.machine_busy_cores // 0 | . * 100 | round / 100) of \($w.load.client.cpu.cpus // "?") CPUs;" +
		" request path \($p.nr_hops) hops, \($p.veth_crossings) veth, \($p.macvlan_crossings) macvlan, \($p.backlog_enqueues) backlog enqueues," +
		" \($p.netfilter_hooks) netfilter hooks \($p.netfilter_us * 100 | round / 100) us, kernel path \($w.explain.request_path_us // $p.mean_end_to_end_us | . * 10 | round / 10) us;" +
		" cycles: \([$w.profile.categories[]? | select(.share_pct >= 5)] | sort_by(-.share_pct) | map("\(.category) \(.share_pct | round)%") | join(", "))" end' "$2"
}
# order_by_kernel_path NAME=JSON...: the datapaths ordered by their traced
# kernel request path, to set beside the published order and the clean one.
order_by_kernel_path() {
	local pair
	for pair in "$@"; do
		jq -r --arg s "${pair%%=*}" '.workloads[0]? // empty | select(.explain.request_path_us != null)
			| "\(.explain.request_path_us)\t\($s)"' "${pair#*=}"
	done | sort -n | awk -F'\t' '{ printf "%s%s %.1f us", (NR > 1 ? " < " : ""), $2, $1 } END { if (NR) print "" }'
}

echo
echo "Why, in netprof's own figures (one traced, profiled run of each datapath involved, pod to pod unless"
echo "named; 'kernel path' = the hop tracer's request path, first to last hop, the probes' cost taken out):"
for name in "${FAILED[@]}"; do
	echo "  $name:"
	case $name in
	pingpong*) set -- "--cni host" "--cni macvlan" "--cni cilium" "--cni cilium-legacy" "--cni calico"; wl="-w pingpong" ;;
	"cilium no worse"*) set -- "--cni host" "--cni cilium"; wl="-w pingpong" ;;
	rr*) set -- "--cni macvlan" "--cni cilium" "--cni cilium-legacy" "--cni calico"; wl="-w rr -r 100,100" ;;
	"10 Gbit/s"*) set -- "--cni host" "--cni cilium" "--cni macvlan" "--cni calico"; wl="-w stream -P 1" ;;
	crr*) set -- "--cni calico --target service" "--cni calico --target service --services $MANY_SERVICES" \
		"--cni cilium --target service" "--cni cilium --target service --services $MANY_SERVICES"; wl="-w crr" ;;
	*) set -- ;;
	esac
	pairs=()
	for setup in "$@"; do
		json=$(traced "$setup" "$wl")
		explain_line "${setup#--cni }" "$json"
		pairs+=("${setup#--cni }=$json")
	done
	order=$(order_by_kernel_path "${pairs[@]}")
	[ -z "$order" ] || echo "    by the kernel path alone: $order"
done
