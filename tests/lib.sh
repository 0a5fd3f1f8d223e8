# Sourced by every tests/integration/*.sh. A test file defines functions named
# test_*; run_tests runs each in a subshell and prints one line per test:
#   PASS file/name | FAIL file/name: why | SKIP file/name: reason
# Every namespace a test makes is named netprof-t<pid>-<n>-* (t_netns) and is
# deleted after the test whatever happened in it.

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

t_teardown() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$T_PREFIX-$T_SEQ-" || true); do
		ip netns delete "$ns" 2>/dev/null || true
	done
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
		log=$(mktemp)
		rc=0
		( set -e; "$fn" ) >"$log" 2>&1 || rc=$?
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
