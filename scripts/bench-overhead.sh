#!/usr/bin/env bash
# What netprof's own probes cost: the same workload with and without the hop
# tracer, alternating rounds in one run (netprof run --overhead), for a bulk
# stream and for request/response, then the same with 1-in-N sampling to find
# the N that meets the targets. Prints the ratios; not a test (timings).
#
#   scripts/bench-overhead.sh [--cni calico] [--rounds 3] [--duration 5s]
# Targets (issue #5): stream >= 0.97 of the uninstrumented throughput,
# rr >= 0.90 of the uninstrumented rate.
set -euo pipefail
cd "$(dirname "$0")/.."
NETPROF=${NETPROF:-./netprof}
CNI=calico ROUNDS=3 DURATION=5s
# Each mode is netprof run's tracer options: every packet; 1-in-N packets
# (every probe still runs, unsampled packets leave at once); a duty cycle
# (the probes attached one 100 ms window in N).
MODES="--sample=1 --sample=64 --duty=4 --duty=8 --duty=16"
while [ $# -gt 0 ]; do
	case $1 in
	--cni) CNI=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--modes) MODES=$2; shift 2 ;;
	*) echo "usage: $0 [--cni NAME] [--rounds N] [--duration D] [--modes '--sample=1 --duty=8']" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 1; }
command -v jq >/dev/null || { echo "$0: needs jq (scripts/setup.sh)" >&2; exit 1; }

ratio() { # WORKLOAD MODE -> prints the ratio and both figures
	"$NETPROF" run --cni "$CNI" -w "$1" -d "$DURATION" --overhead --rounds "$ROUNDS" \
		"$2" --json --results "$(mktemp -d)" 2>/dev/null |
		jq -r '.workloads[0].overhead | "\(.ratio) \(.without_probes) \(.with_probes)"'
}

printf '%-8s %-12s %8s %14s %14s %8s\n' workload mode ratio without with target
for w in ${WORKLOADS:-stream rr}; do
	target=$([ $w = stream ] && echo 0.97 || echo 0.90)
	for m in $MODES; do
		read -r r without with < <(ratio "$w" "$m")
		met=$(python3 -c "print('met' if $r >= $target else 'missed')")
		printf '%-8s %-12s %8.3f %14.2f %14.2f %8s %s\n' "$w" "${m#--}" "$r" "$without" "$with" "$target" "$met"
	done
done
echo "(stream figures in Gbit/s, rr in transactions/s; $ROUNDS alternating rounds of $DURATION each, --cni $CNI)"
