#!/usr/bin/env bash
# What netprof's own probes cost: the same workload with and without the hop
# tracer, alternating rounds in one run (netprof run --overhead, the tracer
# priced in its calibration window and then traced as the explain phase
# traces), and the probe runs per followed packet the kernel counted. Prints
# ratios against the clean peer measured in the same run; a benchmark, not a
# test (timings).
#
#   scripts/bench-overhead.sh [--rounds 3] [--duration 5s]
# Targets (issue #13): at most 20 probe runs per followed packet on calico;
# every packet followed keeps >= 0.75 of the clean rr rate on calico and
# >= 0.95 of the clean stream on cilium; --duty 8 keeps >= 0.95 on rr.
set -euo pipefail
cd "$(dirname "$0")/.."
NETPROF=${NETPROF:-./netprof}
ROUNDS=5 DURATION=5s
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	*) echo "usage: $0 [--rounds N] [--duration D]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 1; }
command -v jq >/dev/null || { echo "$0: needs jq (scripts/setup.sh)" >&2; exit 1; }

meets() { python3 -c "import sys; sys.exit(0 if $1 else 1)" && echo met || echo missed; }

ratio() { # CNI WORKLOAD MODE -> "ratio without with"
	"$NETPROF" run --cni "$1" -w "$2" -d "$DURATION" --overhead --rounds "$ROUNDS" \
		$3 --json --results "$(mktemp -d)" 2>/dev/null |
		jq -r '.workloads[0].overhead | "\(.ratio) \(.without_probes) \(.with_probes)"'
}

runs_per_packet() { # CNI WORKLOAD -> runs and us per followed packet, by kind
	"$NETPROF" run --cni "$1" -w "$2" -d 1s --explain-duration 2s --no-profile --json \
		--results "$(mktemp -d)" 2>/dev/null |
		jq -r '.workloads[0].hops.probe_cost | "\(.runs_per_packet) \(.us_per_packet) \((.runs_per_packet_by_kind // {}) | to_entries | map(select(.value > 0) | "\(.key) \(.value * 10 | round / 10)") | join(", "))"'
}

read -r runs us kinds < <(runs_per_packet calico rr)
printf 'probe runs per followed packet, calico rr: %.1f (%.2f us; %s)  target <= 20: %s\n' \
	"$runs" "$us" "$kinds" "$(meets "$runs <= 20")"
read -r runs us kinds < <(runs_per_packet cilium stream)
printf 'probe runs per followed packet, cilium stream: %.1f (%.2f us; %s)\n\n' "$runs" "$us" "$kinds"

printf '%-8s %-8s %-10s %8s %14s %14s %8s\n' cni workload mode ratio without with target
while read -r cni w mode target; do
	read -r r without with < <(ratio "$cni" "$w" "$mode")
	printf '%-8s %-8s %-10s %8.3f %14.2f %14.2f %8s %s\n' "$cni" "$w" "${mode#--}" "$r" "$without" \
		"$with" "$target" "$(meets "$r >= $target")"
done <<'MODES'
calico rr --sample=1 0.75
cilium stream --sample=1 0.95
calico rr --duty=8 0.95
cilium rr --sample=1 0.75
MODES
echo "(stream figures in Gbit/s, rr in transactions/s; $ROUNDS alternating rounds of $DURATION each)"
