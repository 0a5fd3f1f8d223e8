# Sourced by every tests/integration/*.sh. A test file defines functions named
# test_*; run_tests runs each in a subshell and prints one line per test:
#   PASS file/name | FAIL file/name: why | SKIP file/name: reason
# Whatever happened in a test (passed, failed part-way, skipped), what it made
# goes afterwards, so one failure never becomes a leftover failure elsewhere:
# - namespaces (t_netns) and cgroups (t_cgroup) named netprof-t<pid>-<n>-*;
# - its temporary files: TMPDIR is a directory of its own, so plain mktemp
#   calls land there;
# - a bpffs it mounted (t_bpffs);
# - whatever it registered with t_defer (run last-in, first-out).

set -u
NETPROF=${NETPROF:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/netprof}
TEST_FILE=$(basename "$0" .sh)
T_PREFIX="netprof-t$$"
T_SEQ=0

fail() { echo "FAILED: $*" >&2; exit 1; }
skip() { echo "$*" > "$T_SKIP_FILE"; exit 77; }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
# expect_rc CODE CMD...: runs CMD, its output in $T_OUT, and checks its exit code.
expect_rc() {
	local want=$1 rc=0
	shift
	T_OUT=$("$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want; output: $(echo "$T_OUT" | head -3)"
}
# expect_lines N TEXT WHAT: TEXT has exactly N lines.
expect_lines() {
	local n
	n=$(printf '%s\n' "$2" | wc -l)
	[ "$n" = "$1" ] || fail "$3: $n lines, expected $1: $(printf '%s' "$2" | head -3)"
}

# t_netns SUFFIX: makes a namespace unique to this test and prints its name.
t_netns() {
	local name="$T_PREFIX-$T_SEQ-$1"
	ip netns add "$name" || fail "cannot create namespace $name"
	ip -n "$name" link set lo up
	echo "$name"
}

# t_defer CMD...: runs CMD after the test, on every path, before the sweeps below.
t_defer() {
	printf '%q ' "$@" >>"$T_DEFER_FILE"
	printf '\n' >>"$T_DEFER_FILE"
}

cgroup2_root() { awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts; }

# t_cgroup SUFFIX: makes a cgroup v2 directory unique to this test and prints
# its path; its processes are killed and it is removed after the test.
t_cgroup() {
	local root
	root=$(cgroup2_root)
	[ -n "$root" ] || fail "no cgroup v2 mount in /proc/mounts"
	mkdir "$root/$T_PREFIX-$T_SEQ-$1" || fail "cannot create cgroup $1"
	echo "$root/$T_PREFIX-$T_SEQ-$1"
}

# t_bpffs: mounts a BPF filesystem of the test's own and prints its path, so a
# test that pins needs no bpffs on the machine and leaves none mounted.
t_bpffs() {
	local dir="$TMPDIR/bpffs"
	mkdir -p "$dir"
	mount -t bpf bpf "$dir" || fail "cannot mount a BPF filesystem on $dir"
	echo "$dir"
}

t_teardown() {
	local ns cg pid mnt
	if [ -s "$T_DEFER_FILE" ]; then
		tac "$T_DEFER_FILE" | while read -r cmd; do
			eval "$cmd" >/dev/null 2>&1 || true
		done
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$T_PREFIX-$T_SEQ-" || true); do
		ip netns delete "$ns" 2>/dev/null || true
	done
	cg=$(cgroup2_root)
	for cg in ${cg:+"$cg"/$T_PREFIX-$T_SEQ-*}; do
		[ -d "$cg" ] || continue
		for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		for _ in $(seq 1 50); do
			rmdir "$cg" 2>/dev/null && break
			sleep 0.1
		done
	done
	for mnt in $(awk -v d="$T_TMP/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
		umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	done
	rm -rf "$T_TMP" "$T_DEFER_FILE"
}

need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip "needs $1 (run scripts/setup.sh)"; }

run_tests() {
	local fn rc log
	for fn in $(declare -F | awk '{print $3}' | grep '^test_'); do
		if [ -n "${TEST_FILTER:-}" ] && [[ "$fn" != *$TEST_FILTER* ]]; then
			continue
		fi
		T_SEQ=$((T_SEQ + 1))
		T_SKIP_FILE=$(mktemp)
		T_DEFER_FILE=$(mktemp)
		T_TMP=$(mktemp -d /tmp/netprof-test.XXXXXX)
		# Searchable by all, as /tmp is: tests hand directories to other uids.
		chmod 755 "$T_TMP"
		log=$(mktemp)
		rc=0
		( set -e; export TMPDIR=$T_TMP; "$fn" ) >"$log" 2>&1 || rc=$?
		t_teardown
		case $rc in
		0) echo "PASS $TEST_FILE/${fn#test_}" ;;
		77) echo "SKIP $TEST_FILE/${fn#test_}: $(cat "$T_SKIP_FILE")" ;;
		*) echo "FAIL $TEST_FILE/${fn#test_}: $(grep -m1 FAILED: "$log" || tail -1 "$log")"
		   sed 's/^/    /' "$log" | tail -15 ;;
		esac
		rm -f "$T_SKIP_FILE" "$log"
	done
}

# tcp_transfer SERVER_NS CLIENT_NS DST PORT [CGROUP]: one second of iperf3.
tcp_transfer() {
	local srv=$1 cli=$2 dst=$3 port=$4 cg=${5:-} bytes spid
	ip netns exec "$srv" timeout 15 iperf3 -s -1 -p 5201 > /dev/null 2>&1 &
	spid=$!
	for _ in $(seq 50); do
		ip netns exec "$srv" ss -Htln 'sport = :5201' | grep -q . && break
		sleep 0.1
	done
	bytes=$(
		[ -n "$cg" ] && echo $BASHPID > "$cg/cgroup.procs"
		ip netns exec "$cli" timeout 15 iperf3 -c "$dst" -p "$port" -t 1 -J 2>/dev/null |
			jq -r '.end.sum_received.bytes // 0'
	)
	wait $spid || true
	[ "${bytes:-0}" -gt 1000000 ] || fail "TCP $cli -> $dst:$port moved ${bytes:-0} bytes"
}
