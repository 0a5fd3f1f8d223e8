#!/usr/bin/env bash
# The whole suite: unit tests (no root needed), then integration tests (root),
# then a check that nothing netprof-* was left behind. Ends with the line
#   N passed, N failed, N skipped
# and every skip's reason listed above it. Exit status 1 on any failure.
#   TEST_FILTER=substring tests/run.sh   runs matching integration tests only
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-.output}
export NETPROF=${NETPROF:-$PWD/netprof}
results=$(mktemp)
trap 'rm -f "$results"' EXIT

bpf_prog_ids() {
	bpftool prog show --json 2>/dev/null | jq -r '.[].id' 2>/dev/null | sort -n
}

echo "== unit tests"
"$OUTPUT"/unit-tests 2>/dev/null | tee -a "$results" | grep -v '^[0-9]* passed' || true

echo "== integration tests"
is_root=0
[ "$(id -u)" = 0 ] && is_root=1
progs_before=$( [ $is_root = 1 ] && bpf_prog_ids )
for t in tests/integration/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ $is_root = 0 ]; then
		echo "SKIP $name: integration tests need root (sudo make test)" | tee -a "$results"
		continue
	fi
	start=$(date +%s)
	bash "$t" 2>&1 | tee -a "$results"
	echo "   ($name: $(( $(date +%s) - start ))s)"
done

if [ $is_root = 1 ]; then
	echo "== leftovers"
	left=""
	ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep '^netprof-' || true)
	[ -n "$ns" ] && left="$left namespaces: $(echo $ns);"
	links=$(ls /sys/class/net | grep '^netprof-' || true)
	[ -n "$links" ] && left="$left links: $(echo $links);"
	cg=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	cgs=$( [ -n "$cg" ] && ls "$cg" | grep '^netprof-' || true)
	[ -n "$cgs" ] && left="$left cgroups: $(echo $cgs);"
	pins=$(awk '$3 == "bpf" {print $2}' /proc/mounts | while read -r m; do
		ls -d "$m"/netprof "$m"/netprof-* 2>/dev/null; done || true)
	[ -n "$pins" ] && left="$left pinned: $(echo $pins);"
	mnts=$(awk 'index($2, "/tmp/netprof-test.") == 1 {print $2}' /proc/mounts)
	[ -n "$mnts" ] && left="$left test mounts: $(echo $mnts);"
	tmps=$(ls -d /tmp/netprof-test.* 2>/dev/null || true)
	[ -n "$tmps" ] && left="$left test directories: $(echo $tmps);"
	new_progs=$(comm -13 <(echo "$progs_before") <(bpf_prog_ids) | grep . || true)
	[ -n "$new_progs" ] && left="$left BPF programs still loaded: $(echo $new_progs);"
	if [ -z "$left" ]; then
		echo "PASS suite/no-leftovers" | tee -a "$results"
	else
		echo "FAIL suite/no-leftovers:$left" | tee -a "$results"
	fi
fi

passed=$(grep -c '^PASS ' "$results")
failed=$(grep -c '^FAIL ' "$results")
skipped=$(grep -c '^SKIP ' "$results")
echo
if [ "$failed" -gt 0 ]; then
	echo "Failed:"
	grep '^FAIL ' "$results" | sed 's/^FAIL /  /'
fi
if [ "$skipped" -gt 0 ]; then
	echo "Skipped:"
	grep '^SKIP ' "$results" | sed 's/^SKIP /  /'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
