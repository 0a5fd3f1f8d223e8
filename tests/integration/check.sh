# `netprof check` agrees with the kernel: what it says works really attaches
# with an independent loader (iproute2's tc, bpftool), and what it says is
# refused really fails.
source "$(dirname "$0")/../lib.sh"
OBJS=${OUTPUT:-.output}/tests

check_json() {
	CHECK_JSON=$("$NETPROF" check --json) || fail "netprof check --json exited $?"
	echo "$CHECK_JSON" | jq -e . >/dev/null || fail "check --json is not JSON"
}
feature() { echo "$CHECK_JSON" | jq -r --arg n "$1" '.features[] | select(.name == $n) | .state'; }

test_json_parses_and_is_complete() {
	need_cmd jq
	check_json
	local n keys
	n=$(echo "$CHECK_JSON" | jq '.features | length')
	[ "$n" -ge 30 ] || fail "only $n features"
	# Every feature has a verdict and a detail; every missing one says what netprof does instead.
	keys=$(echo "$CHECK_JSON" | jq -r '.features[] | select(.state == null or .detail == null or .detail == "") | .name')
	[ -z "$keys" ] || fail "features without verdict or detail: $keys"
	keys=$(echo "$CHECK_JSON" | jq -r '.features[] | select(.state != "yes" and (.instead // "") == "") | .name')
	[ -z "$keys" ] || fail "missing features without a fallback: $keys"
	for f in btf_vmlinux tracefs tc tcx xdp_native xdp_generic sock_ops netfilter_link \
		 cast_to_kern_ctx tp_btf raw_tp fentry fexit kprobe kprobe_multi perf_cycles \
		 perf_cpu_clock ringbuf redirect_peer redirect_neigh fib_lookup sockmap veth macvlan \
		 ipvlan vxlan bridge iptables_legacy iptables_nft conntrack nat_redirect statistic; do
		[ -n "$(feature $f)" ] || fail "feature $f not reported"
	done
	expect_eq "$(echo "$CHECK_JSON" | jq '[.features[] | select(.available)] | length')" \
		  "$(echo "$CHECK_JSON" | jq '.available + .partial')" "available count"
}

test_tc_verdict_matches_a_real_attach() {
	need_cmd jq; need_cmd tc
	check_json
	local ns rc=0
	ns=$(t_netns tc)
	ip -n "$ns" link add nptc0 type veth peer name nptc1
	ip -n "$ns" link set nptc0 up
	tc -n "$ns" qdisc add dev nptc0 clsact
	tc -n "$ns" filter add dev nptc0 ingress bpf direct-action obj "$OBJS/tc_count.bpf.o" sec tc \
		>/dev/null 2>&1 || rc=$?
	if [ "$(feature tc)" = yes ]; then
		[ $rc = 0 ] || fail "check says tc works but iproute2 could not attach (rc $rc)"
		tc -n "$ns" filter show dev nptc0 ingress | grep -q test_tc_count || fail "filter not listed"
	else
		[ $rc != 0 ] || fail "check says tc is missing but iproute2 attached a program"
	fi
}

test_fentry_verdict_matches_a_real_load() {
	need_cmd jq; need_cmd bpftool
	check_json
	local pin rc=0
	# bpftool pins what it loads: on a bpffs of the test's own, so that a
	# machine without one neither fails the load for that reason nor gets
	# /sys/fs/bpf mounted behind its back.
	pin=$(t_bpffs)/netprof-test-fentry
	bpftool prog load "$OBJS/fentry_ip_rcv.bpf.o" "$pin" >/dev/null 2>&1 || rc=$?
	rm -f "$pin"
	if [ "$(feature fentry)" = yes ]; then
		[ $rc = 0 ] || fail "check says fentry works but bpftool could not load it"
	else
		[ $rc != 0 ] || fail "check says fentry is refused but bpftool loaded it"
		echo "$CHECK_JSON" | jq -r '.features[] | select(.name == "fentry") | .detail' | grep -q . \
			|| fail "no reason given for fentry"
	fi
}

test_kprobe_verdict_matches_the_kernel() {
	need_cmd jq
	check_json
	# A kernel with kprobes has the kprobe PMU or tracefs kprobe_events.
	local has=no
	[ -e /sys/bus/event_source/devices/kprobe/type ] && has=yes
	[ -e /sys/kernel/tracing/kprobe_events ] && has=yes
	[ -e /sys/kernel/debug/tracing/kprobe_events ] && has=yes
	if [ $has = yes ]; then
		[ "$(feature kprobe)" = yes ] || fail "kernel has kprobes but check says $(feature kprobe)"
	else
		expect_eq "$(feature kprobe)" no "kprobe verdict on a kernel without kprobes"
	fi
}

test_text_table_lists_every_feature_once() {
	local text n_json n_text
	check_json
	text=$("$NETPROF" check) || fail "check exited $?"
	n_json=$(echo "$CHECK_JSON" | jq '.features | length')
	n_text=$(echo "$text" | grep -cE '^  .{26} (yes|no|partly) ')
	expect_eq "$n_text" "$n_json" "table rows"
	echo "$text" | tail -1 | grep -qE '^[0-9]+ available, [0-9]+ partly, [0-9]+ missing$' \
		|| fail "summary line: $(echo "$text" | tail -1)"
}

test_check_leaves_nothing_behind() {
	local ns_before ns_after mounts_before mounts_after cg
	cg=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	ns_before=$(ip netns list | grep -c '^netprof-check-' || true)
	mounts_before=$(grep -c ' tracefs ' /proc/mounts || true)
	"$NETPROF" check >/dev/null || fail "check exited $?"
	ns_after=$(ip netns list | grep -c '^netprof-check-' || true)
	mounts_after=$(grep -c ' tracefs ' /proc/mounts || true)
	expect_eq "$ns_after" "$ns_before" "netprof-check namespaces after check"
	expect_eq "$mounts_after" "$mounts_before" "tracefs mounts after check (netprof unmounts what it mounted)"
	expect_eq "$(ls "$cg" | grep -c '^netprof-check-' || true)" 0 "netprof-check cgroups after check"
}

test_sigterm_during_check_cleans_up() {
	local pid i
	"$NETPROF" check >/dev/null 2>&1 &
	pid=$!
	# Wait until its namespaces exist, then stop it.
	for i in $(seq 1 100); do
		ip netns list | grep -q "^netprof-check-$pid-" && break
		sleep 0.01
	done
	kill -TERM $pid 2>/dev/null || true
	wait $pid || true
	ip netns list | grep -q "^netprof-check-$pid-" && fail "namespaces of the stopped check remain"
	ls "$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)" | grep -q "^netprof-check-$pid" \
		&& fail "cgroup of the stopped check remains"
	true
}

test_usage_errors() {
	expect_rc 2 "$NETPROF" check --only nosuchprobe
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" check extra
	expect_lines 1 "$T_OUT" "one line"
}

run_tests
