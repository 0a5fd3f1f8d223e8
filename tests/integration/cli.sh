# The command line: usage errors exit 2 with one line, help and version exit 0.
source "$(dirname "$0")/../lib.sh"

test_no_command_is_usage_error() {
	expect_rc 2 "$NETPROF"
	expect_lines 1 "$T_OUT" "one line"
}

test_unknown_command_is_usage_error() {
	expect_rc 2 "$NETPROF" frobnicate
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"unknown command 'frobnicate'"* ]] || fail "names the command: $T_OUT"
}

test_unknown_option_is_usage_error() {
	expect_rc 2 "$NETPROF" cleanup --frobnicate
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"--frobnicate"* ]] || fail "names the option: $T_OUT"
	expect_rc 2 "$NETPROF" --frobnicate
	expect_lines 1 "$T_OUT" "one line"
}

test_stray_argument_is_usage_error() {
	expect_rc 2 "$NETPROF" cleanup extra
	expect_lines 1 "$T_OUT" "one line"
}

test_help_and_version() {
	expect_rc 0 "$NETPROF" -h
	[[ "$T_OUT" == *"Commands:"* ]] || fail "help lists commands"
	expect_rc 0 "$NETPROF" --version
	[[ "$T_OUT" =~ ^netprof\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version line: $T_OUT"
	for cmd in $("$NETPROF" -h | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} /^$/{on=0}'); do
		if "$NETPROF" -h | grep -q "^  $cmd .*not in this build yet"; then
			expect_rc 2 "$NETPROF" "$cmd" -h
			[[ "$T_OUT" == *"not in this build yet"* ]] || fail "$cmd says it has not landed"
		else
			expect_rc 0 "$NETPROF" "$cmd" -h
			[[ "$T_OUT" == *"Examples:"* ]] || fail "'$cmd -h' has examples"
		fi
	done
}

test_missing_capability_named() {
	need_cmd setpriv
	for cmd in $("$NETPROF" -h | awk '/^Commands:/{on=1; next} on && /^  [a-z]/ && !/not in this build/{print $1} /^$/{on=0}'); do
		case $cmd in check) caps="bpf net_admin perfmon" ;; cleanup) caps="net_admin" ;; *) continue ;; esac
		for cap in $caps; do
			# Root without that capability: netprof must name what is missing.
			expect_rc 1 setpriv --inh-caps=-$cap --bounding-set=-$cap "$NETPROF" "$cmd"
			expect_lines 1 "$T_OUT" "one line"
			[[ "$T_OUT" == *"CAP_${cap^^}"* ]] || fail "$cmd names CAP_${cap^^}: $T_OUT"
		done
	done
}

run_tests
