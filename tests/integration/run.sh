# netprof run / compare / report: the whole pipeline (topology, load
# generator, hop tracer) on each datapath, and the structural signature of
# each in the hop paths; nothing left afterwards.
source "$(dirname "$0")/../lib.sh"

# run_json CNI ARGS...: runs a short pingpong and leaves the report in $REPORT.
run_json() {
	local cni=$1
	shift
	RESULTS=$(mktemp -d)
	"$NETPROF" run --cni "$cni" --run "t$$-$T_SEQ" -w pingpong -d 1s --warmup 200ms \
		--results "$RESULTS" "$@" >/dev/null 2>"$RESULTS/stderr" \
		|| fail "run --cni $cni exited $?: $(tail -3 "$RESULTS/stderr")"
	REPORT="$RESULTS/report.json"
	jq -e . "$REPORT" >/dev/null || fail "report.json is not JSON"
	REQ=$(jq '.workloads[0].hops.paths[] | select(.direction | startswith("Request"))' "$REPORT")
	[ -n "$REQ" ] || fail "no request path in the report"
}

nothing_left() {
	ip netns list | grep -q "^netprof-t$$-$T_SEQ-" && fail "namespaces left after run"
	local cg
	cg=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	[ -e "$cg/netprof-t$$-$T_SEQ" ] && fail "cgroup left after run"
	true
}

nf_hooks_in() { # NS-SUFFIX HOOK: count of that hook on the request path in that namespace
	echo "$REQ" | jq --arg ns "netprof-t$$-$T_SEQ-$1 netfilter" --arg h "netfilter $2" \
		'[.hops[] | select(.where == $ns and .what == $h)] | length'
}

test_cilium_bypasses_netfilter_with_one_backlog_enqueue() {
	need_root; need_cmd jq
	run_json cilium
	expect_eq "$(echo "$REQ" | jq .netfilter_hooks)" 0 "netfilter hooks on the path"
	expect_eq "$(echo "$REQ" | jq .backlog_enqueues)" 1 "backlog enqueues (besides the wire)"
	# The wire receives through NAPI (--wire napi, the default): no backlog there.
	expect_eq "$(echo "$REQ" | jq .wire_backlog_enqueues)" 0 "backlog enqueues on the wire"
	expect_eq "$(echo "$REQ" | jq .veth_crossings)" 1 "veth crossings (besides the wire)"
	echo "$REQ" | jq -e '[.hops[] | select(.what | startswith("tc ingress: redirected by BPF"))] | length == 2' \
		>/dev/null || fail "expected two BPF redirects (neigh out, peer in)"
	expect_eq "$(jq '.workloads[0].load.transactions_per_s > 0' "$REPORT")" true "transactions measured"
	nothing_left
}

test_calico_forwards_through_netfilter_on_both_nodes() {
	need_root; need_cmd jq
	run_json calico
	expect_eq "$(nf_hooks_in node1 FORWARD)" 1 "FORWARD on node1"
	expect_eq "$(nf_hooks_in node2 FORWARD)" 1 "FORWARD on node2"
	expect_eq "$(echo "$REQ" | jq .veth_crossings)" 2 "veth crossings (besides the wire)"
	expect_eq "$(echo "$REQ" | jq .backlog_enqueues)" 2 "backlog enqueues (besides the wire)"
	nothing_left
}

test_macvlan_has_no_veth_and_no_node_netfilter() {
	need_root; need_cmd jq
	run_json macvlan
	expect_eq "$(echo "$REQ" | jq .veth_crossings)" 0 "veth crossings (besides the wire)"
	expect_eq "$(echo "$REQ" | jq .macvlan_crossings)" 2 "macvlan crossings"
	expect_eq "$(echo "$REQ" | jq .netfilter_hooks)" 0 "netfilter hooks"
	nothing_left
}

test_clusterip_through_kube_proxy() {
	need_root; need_cmd jq
	run_json calico --target service --services 20
	expect_eq "$(jq '.workloads[0].load.partial' "$REPORT")" false "complete run through the ClusterIP"
	# DNAT happens in PREROUTING's nat table on the client's node.
	expect_eq "$(nf_hooks_in node1 PREROUTING)" 1 "PREROUTING on node1"
	nothing_left
}

test_duty_cycle_still_sees_the_path() {
	need_root; need_cmd jq
	local progs_before
	progs_before=$(bpftool prog show --json | jq length)
	run_json calico --duty 4 -d 2s
	expect_eq "$(nf_hooks_in node1 FORWARD)" 1 "FORWARD on node1 seen through the duty cycle"
	jq -e '.workloads[0].hops.probes[] | select(.probe == "duty cycle" and .ran)' "$REPORT" \
		>/dev/null || fail "the report does not say the probes were duty-cycled"
	expect_eq "$(bpftool prog show --json | jq length)" "$progs_before" "BPF programs after the run"
	nothing_left
}

test_report_shows_the_saved_run() {
	need_root; need_cmd jq
	run_json host
	expect_rc 0 "$NETPROF" report "$RESULTS"
	[[ "$T_OUT" == *"netprof run: host"* ]] || fail "report text: $(echo "$T_OUT" | head -2)"
	expect_rc 0 "$NETPROF" report "$RESULTS" --json
	echo "$T_OUT" | jq -e '.cni == "host"' >/dev/null || fail "report --json"
	expect_rc 1 "$NETPROF" report /nonexistent-run
	expect_lines 1 "$T_OUT" "one line"
}

test_compare_puts_datapaths_side_by_side() {
	need_root; need_cmd jq
	local out
	out=$(mktemp)
	# compare writes each datapath's full report under results/ of the
	# current directory: the test's own, not the checkout's.
	(cd "$TMPDIR" && "$NETPROF" compare --cni host,calico,cilium,macvlan --run "t$$-$T_SEQ" -w rr \
		-d 1s --warmup 200ms --json) >"$out" 2>/dev/null || fail "compare exited $?"
	[ -s "$TMPDIR/results/t$$-$T_SEQ-calico/report.json" ] || fail "no report under the current directory's results/"
	expect_eq "$(jq '.rows | length' "$out")" 4 "rows"
	expect_eq "$(jq '[.rows[] | select(.transactions_per_s > 0)] | length' "$out")" 4 "rates measured"
	expect_eq "$(jq '.rows[] | select(.cni == "cilium") | .netfilter_hooks' "$out")" 0 "cilium hooks"
	expect_eq "$(jq '(.rows[] | select(.cni == "calico") | .netfilter_hooks) > 0' "$out")" true "calico hooks"
	expect_eq "$(jq '.rows[] | select(.cni == "macvlan") | .veth_crossings' "$out")" 0 "macvlan veth"
	ip netns list | grep -q "^netprof-t$$-$T_SEQ" && fail "namespaces left after compare"
	rm -f "$out"
}

# Function timing uses what `netprof check` finds: fentry, else kprobes, else
# off with both reasons in the report (this development machine: off).
test_function_timing_follows_check() {
	need_root; need_cmd jq
	local check fentry kprobe probe
	check=$("$NETPROF" check --json --only fentry,fexit,kprobe)
	fentry=$(echo "$check" | jq -r '[.features[] | select(.name == "fentry" or .name == "fexit") | .available] | all')
	kprobe=$(echo "$check" | jq -r '.features[] | select(.name == "kprobe") | .available')
	run_json calico
	probe=$(jq -r '.workloads[0].functions.probe' "$REPORT")
	if [ "$fentry" = true ] || [ "$kprobe" = true ]; then
		expect_eq "$probe" "$([ "$fentry" = true ] && echo fentry || echo kprobe)" "probe kind"
		jq -e '.workloads[0].functions.functions[] | select(.name == "nf_hook_slow") | .calls > 0' \
			"$REPORT" >/dev/null || fail "nf_hook_slow not timed on calico"
	else
		expect_eq "$probe" off "probe kind"
		jq -r '.workloads[0].functions.why' "$REPORT" | grep -q 'fentry unavailable.*kprobes unavailable' ||
			fail "the report does not say why: $(jq -c '.workloads[0].functions' "$REPORT")"
	fi
	nothing_left
}

test_bad_input_builds_nothing() {
	local before
	before=$(ip netns list | grep -c '^netprof-' || true)
	expect_rc 2 "$NETPROF" run --cni calico --subnets 2
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" run --cni cilium -w frobnicate
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" run --cni cilium -d 0s
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" compare -w rr
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" compare --cni calico,nosuch
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" run --cni cilium --overhead --no-trace
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" run --cni cilium --func-probe kretprobe
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" run --cni cilium --func-only
	expect_lines 1 "$T_OUT" "one line"
	expect_rc 2 "$NETPROF" run --cni cilium --func 'ip_rcv;reboot'
	expect_lines 1 "$T_OUT" "one line"
	expect_eq "$(ip netns list | grep -c '^netprof-' || true)" "$before" "namespaces"
}

# The phases: the headline figures come from a run with nothing of netprof's
# attached, the profile from the sampler alone, the hops from the explain
# phase, whose own rate is reported beside the clean one.
test_phases_measure_clean_profile_alone_explain_traced() {
	need_root; need_cmd jq; need_cmd bpftool
	local err progs_before w
	progs_before=$(bpftool prog show --json | jq '[.[].id]')
	RESULTS=$(mktemp -d)
	err=$RESULTS/stderr
	"$NETPROF" run --cni calico --run "t$$-$T_SEQ" -w rr -d 2s --warmup 300ms \
		--profile-duration 3s --explain-duration 1s --results "$RESULTS" >/dev/null 2>"$err" &
	local pid=$! seen_measure=no seen_profile=no seen_traced=no
	t_defer kill -TERM $pid
	# What is loaded, newly, in each phase: nothing in measure (calico has no
	# BPF of its own), the sampler alone in profile.
	while kill -0 $pid 2>/dev/null; do
		local new
		new=$(bpftool prog show --json | jq -r --argjson old "$progs_before" \
			'[.[] | select(.id as $i | $old | index($i) | not) | .name] | sort | join(",")')
		if grep -q 'measure: rr' "$err" && ! grep -q 'profile: rr' "$err"; then
			[ -z "$new" ] || fail "programs loaded during the measure phase: $new"
			seen_measure=yes
		elif grep -q 'profile: rr' "$err" && ! grep -q 'attaching probes' "$err"; then
			[ -z "$new" ] || [ "$new" = profile_sample ] \
				|| fail "programs besides the sampler during the profile phase: $new"
			seen_profile=yes
		elif grep -q 'explain: rr' "$err"; then
			# Priced in the calibration window, then traced unclocked.
			[ "$(cat /proc/sys/kernel/bpf_stats_enabled)" = 0 ] \
				|| fail "BPF run-time statistics on after the calibration window"
			seen_traced=yes
		fi
		sleep 0.2
	done
	wait $pid || fail "run exited $?: $(tail -3 "$err")"
	expect_eq $seen_measure yes "the measure phase was watched"
	expect_eq $seen_profile yes "the profile phase was watched"
	expect_eq $seen_traced yes "the traced part of the explain phase was watched"
	grep -q 'explain: pricing the probes' "$err" || fail "no calibration window: $(cat "$err")"
	w=$(jq '.workloads[0]' "$RESULTS/report.json")
	echo "$w" | jq -e '.load.transactions_per_s > 0' >/dev/null || fail "no clean rate"
	echo "$w" | jq -e '.explain.load.transactions_per_s > 0' >/dev/null || fail "no traced rate"
	# The default probes cost calico's rr a few percent, within this shared
	# machine's noise (test_full_detail_probes_slow_calico_rr shows a cost);
	# the report prints the ratio either way.
	echo "$w" | jq -e '.explain.ratio > 0' >/dev/null \
		|| fail "no traced/clean ratio: $(echo "$w" | jq .explain)"
	echo "$w" | jq -e '(.explain.ratio - .explain.load.transactions_per_s / .load.transactions_per_s) | fabs < 0.001' \
		>/dev/null || fail "the ratio is not traced over clean"
	echo "$w" | jq -e '.explain.seconds > 0.5 and .profile.seconds > 2' >/dev/null \
		|| fail "phase lengths: explain $(echo "$w" | jq .explain.seconds), profile $(echo "$w" | jq .profile.seconds)"
	# With no probe attached while sampling, netprof's own category is small.
	local share
	share=$(echo "$w" | jq '[.profile.categories[] | select(.category == "netprof") | .share_pct] | add // 0')
	echo "$w" | jq -e '[.profile.categories[] | select(.category == "netprof") | .share_pct] | (add // 0) < 3' \
		>/dev/null || fail "netprof category at $share% of the profile's samples"
	echo "$w" | jq -e '.hops.paths | length > 0' >/dev/null || fail "no hop paths from the explain phase"
	# What the probes cost, as the kernel counted and clocked them; calico
	# runs tc, netfilter and tracepoint programs for every packet.
	echo "$w" | jq -e '.hops.probe_cost | .measured and .runs_per_packet > 3
		and .cost_ns.tc > 0 and .cost_ns.netfilter > 0 and .cost_ns.tracepoint > 0
		and .us_per_packet > 0' >/dev/null \
		|| fail "probe cost: $(echo "$w" | jq -c .hops.probe_cost)"
	# At the 3 hooks of each node a packet crosses: PREROUTING's last slot
	# (its entry is the tc ingress hop), FORWARD's first and last,
	# POSTROUTING's last (FORWARD's last marks its entry); and the origin
	# probe in the client pod (it has no rules): 9 netfilter runs.
	echo "$w" | jq -e '.hops.probe_cost.runs_per_packet_by_kind.netfilter | . > 8.5 and . < 9.5' \
		>/dev/null || fail "netfilter runs per packet: $(echo "$w" | jq -c .hops.probe_cost.runs_per_packet_by_kind)"
	# The scheduler's figures come from the load generator's own getrusage,
	# so no scheduler, softirq or FIB tracepoint runs by default.
	echo "$w" | jq -e '.hops.context.from_getrusage and .hops.context.context_switches > 0
		and .hops.fib.counted == false' >/dev/null \
		|| fail "context switches / FIB: $(echo "$w" | jq -c '[.hops.context, .hops.fib]')"
	echo "$w" | jq -e '[.hops.probes[] | select(.probe == "tracepoints") | .detail
		| test("scheduler|softirq|FIB")] == [false]' >/dev/null \
		|| fail "tracepoints attached: $(echo "$w" | jq -c '[.hops.probes[] | select(.probe == "tracepoints")]')"
	# Hop times with the probes' cost taken out: never above the raw ones,
	# and the request path fits in the clean half round trip.
	echo "$w" | jq -e '[.hops.paths[] | .hops[] | select(.raw_p50_us != null)
		| .p50_us <= .raw_p50_us and .mean_us <= .raw_mean_us and .probe_us > 0] | length > 0 and all' \
		>/dev/null || fail "corrected hop times above raw: $(echo "$w" | jq -c '[.hops.paths[0].hops[] | [.p50_us, .raw_p50_us]]')"
	echo "$w" | jq -e '[.hops.paths[] | .mean_end_to_end_us < .raw_mean_end_to_end_us] | all' \
		>/dev/null || fail "corrected paths not below raw"
	echo "$w" | jq -e '.explain.request_path_us < .explain.clean_half_rtt_us' >/dev/null \
		|| fail "corrected request path $(echo "$w" | jq .explain.request_path_us) us over the clean half round trip $(echo "$w" | jq .explain.clean_half_rtt_us) us (raw $(echo "$w" | jq .explain.raw_request_path_us))"
	# The kernel's statistics were on for the explain phase only.
	expect_eq "$(cat /proc/sys/kernel/bpf_stats_enabled)" 0 "BPF run-time statistics after the run"
	nothing_left
}

# The NAPI wire merges a stream's segments as a NIC's GRO does: the wire
# end the data reaches took in more segments than its tc ingress saw
# packets, shown from the device's own count (no probe per segment).
# Every probe at its most detailed (9 netfilter slots a hook, FIB lookups,
# softirq passes) costs calico's rr a share of its rate the report shows,
# and counts what the default leaves out.
test_full_detail_probes_slow_calico_rr() {
	need_root; need_cmd jq
	RESULTS=$(mktemp -d)
	"$NETPROF" run --cni calico --run "t$$-$T_SEQ" -w rr -d 2s --warmup 300ms --no-profile \
		--explain-duration 2s --nf-detail --fib --softirq --json --results "$RESULTS" \
		>"$RESULTS/out.json" 2>/dev/null || fail "run failed"
	local w
	w=$(jq '.workloads[0]' "$RESULTS/out.json")
	echo "$w" | jq -e '.explain.ratio > 0 and .explain.ratio < 1' >/dev/null \
		|| fail "traced/clean ratio $(echo "$w" | jq .explain.ratio) not below 1"
	# 9 slots at each of the 6 hooks a packet crosses, and the origin probe.
	echo "$w" | jq -e '.hops.probe_cost.runs_per_packet_by_kind.netfilter | . > 54.5 and . < 55.5' \
		>/dev/null || fail "netfilter runs per packet: $(echo "$w" | jq -c .hops.probe_cost.runs_per_packet_by_kind)"
	echo "$w" | jq -e '.hops.fib.counted and .hops.fib.lookups_for_followed_packets > 0
		and ([.hops.paths[] | .softirq_passes] | all(. >= 1))' >/dev/null \
		|| fail "FIB lookups or softirq passes not counted: $(echo "$w" | jq -c '[.hops.fib, [.hops.paths[] | .softirq_passes]]')"
	nothing_left
}

test_stream_gro_on_the_wire() {
	need_root; need_cmd jq
	RESULTS=$(mktemp -d)
	"$NETPROF" run --cni calico --run "t$$-$T_SEQ" -w stream -d 1s --warmup 300ms --no-profile \
		--explain-duration 1s --json --results "$RESULTS" >"$RESULTS/out.json" 2>/dev/null \
		|| fail "run failed"
	local w
	w=$(jq '.workloads[0].hops' "$RESULTS/out.json")
	echo "$w" | jq -e '[.wire_receive[] | .segments_per_packet] | max > 1.5' >/dev/null \
		|| fail "no GRO on the wire: $(echo "$w" | jq -c .wire_receive)"
	echo "$w" | jq -e '.probe_cost.runs.tracepoint > 0 and ([.probes[] | select(.probe == "device tps")
		| .detail | contains("napi_gro_receive_entry")] | length == 1)' >/dev/null \
		|| fail "GRO's tracepoint not said off: $(echo "$w" | jq -c .probes)"
	nothing_left
}

test_unwritable_results_refused_before_building() {
	need_root
	expect_rc 2 "$NETPROF" run --cni calico --run "t$$-$T_SEQ" -w rr -d 1s --results /proc/x
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"--results /proc/x"* ]] || fail "the line does not name --results: $T_OUT"
	ip netns list | grep -q "^netprof-t$$-$T_SEQ" && fail "a namespace was made"
	expect_rc 2 "$NETPROF" compare --cni calico,cilium -w rr -d 1s --results /proc/x
	expect_lines 1 "$T_OUT" "one line (compare)"
	true
}

run_tests
