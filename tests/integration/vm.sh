#!/usr/bin/env bash
# netprof on a second, real kernel: Debian 12's own linux-image-6.1.0-*-amd64
# booted under qemu with TCG (issue #7). This proves that the CO-RE objects
# built against the host's BTF load and run on 6.1, and that what 6.1 lacks
# (netfilter BPF links, tcx, bpf_cast_to_kern_ctx) is reported, not fatal.
#
# The VM boots ONCE for this file (about 1-2 minutes under TCG: see the
# "(vm: ...)" line) and runs VM_COMMANDS; each test_vm_* asserts on one
# command's files in $VM_DIR (NAME.out, NAME.err, NAME.rc: see tests/vm/lib.sh).
# To assert on a new command (e.g. function timing with kprobes forced), add a
# NAME 'command' pair to VM_COMMANDS and a test_vm_NAME that reads
# "$VM_DIR/NAME.out" (vm_section / vm_workload cut the report into parts).
#
#   TEST_FILTER=vm tests/run.sh            this file alone
#   tests/vm/run-vm.sh 'netprof check'     any command in the guest, by hand
# The kernel, modules and base initramfs are cached in $OUTPUT/vm/ (first run:
# one 70 MB download); the results of the last run stay in $OUTPUT/vm/test/.
# Skipped, with the reason, where qemu or the kernel package cannot be had.
cd "$(dirname "$0")" || exit 1
source ../lib.sh
source ../vm/lib.sh

OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$(cd .. && cd .. && pwd)/$OUTPUT ;; esac
export OUTPUT
VM_DIR=$OUTPUT/vm/test

# Short runs: every workload of the default set (pingpong, then stream) for
# one second, no warm-up; each report also saved as JSON for jq. veth_poll
# is timed beside the default functions because the wire receives through
# NAPI: in its thread no process_backlog tells whose packets the receive
# core's calls were, veth_poll's napi (the wire end) does.
VM_COMMANDS=(
	check 'netprof check --json'
	calico 'netprof run --cni calico -d 1s --warmup 0s --func veth_poll --results /tmp/work/calico'
	calico_json 'cat /tmp/work/calico/report.json'
	cilium 'netprof run --cni cilium -d 1s --warmup 0s --func veth_poll --results /tmp/work/cilium'
	cilium_json 'cat /tmp/work/cilium/report.json'
	calico_kprobe 'netprof run --cni calico -w pingpong -d 1s --warmup 0s --no-profile --func-probe kprobe --func-only --func nf_hook_slow,nf_conntrack_in,veth_xmit,ipt_do_table --results /tmp/work/calico_kprobe'
	calico_kprobe_json 'cat /tmp/work/calico_kprobe/report.json'
	cilium_kprobe 'netprof run --cni cilium -w pingpong -d 1s --warmup 0s --no-profile --func-probe kprobe --func-only --func veth_xmit,tcp_v4_rcv,ipt_do_table,ip_forward --results /tmp/work/cilium_kprobe'
	cilium_kprobe_json 'cat /tmp/work/cilium_kprobe/report.json'
	leftovers 'ip netns list; ls /sys/class/net /sys/fs/cgroup /sys/fs/bpf | grep netprof-; true'
)

VM_STATUS=1
# Boots once, after the test functions are defined, and only when one of them
# is selected (TEST_FILTER).
vm_boot() {
	local fn wanted=0 start=$SECONDS
	for fn in $(declare -F | awk '{print $3}' | grep '^test_vm_'); do
		if [ -z "${TEST_FILTER:-}" ] || [[ "$fn" == *$TEST_FILTER* ]]; then
			wanted=1
		fi
	done
	[ $wanted = 1 ] || return 0
	mkdir -p "$VM_DIR"
	if [ "$(id -u)" != 0 ]; then
		VM_STATUS=77
		echo "needs root" > "$VM_DIR/skip"
		return 0
	fi
	VM_STATUS=0
	vm_run "$VM_DIR" "${VM_COMMANDS[@]}" || VM_STATUS=$?
	echo "   (vm: $((SECONDS - start))s in all, guest boot to poweroff $(cat "$VM_DIR/boot-seconds" 2>/dev/null || echo -)s, kernel $(cat "$VM_DIR/kernel" 2>/dev/null || echo -))"
}

# Every test needs the guest to have run; a test stops here otherwise.
need_vm() {
	case $VM_STATUS in
	0) ;;
	77) skip "VM cannot run here: $(cat "$VM_DIR/skip" 2>/dev/null || echo unknown)" ;;
	*) fail "the VM did not finish (see $VM_DIR/console.log): $(tail -3 "$VM_DIR/harness.log" | tr '\n' ' ')" ;;
	esac
}

# need_cmd_ok NAME: the guest command NAME exited 0.
need_cmd_ok() {
	local rc
	rc=$(cat "$VM_DIR/$1.rc" 2>/dev/null || echo none)
	[ "$rc" = 0 ] || fail "'$(cat "$VM_DIR/$1.cmd")' exited $rc in the guest: $(grep -m3 -i 'warn\|error\|fail\|cannot' "$VM_DIR/$1.err" | tr '\n' ' ')"
}

# kernel_at_least MAJOR MINOR: the guest's kernel is that version or newer.
kernel_at_least() {
	local k major minor
	k=$(cat "$VM_DIR/kernel")
	major=${k%%.*}
	minor=${k#*.}
	minor=${minor%%[.-]*}
	[ "$major" -gt "$1" ] || { [ "$major" = "$1" ] && [ "$minor" -ge "$2" ]; }
}

# expect_feature KEY STATE: netprof check in the guest found KEY in STATE.
expect_feature() {
	local got
	got=$(vm_feature "$VM_DIR/check.out" "$1")
	[ "${got%% *}" = "$2" ] ||
		fail "check: $1 is '${got%% *}', expected $2: $(jq -r --arg k "$1" '.features[] | select(.name == $k) | .detail' "$VM_DIR/check.out")"
}

test_vm_boot() {
	need_vm
	local k loaded failed
	k=$(cat "$VM_DIR/kernel")
	[[ "$k" == 6.1.* ]] || fail "guest kernel is '$k', expected Debian 12's 6.1"
	loaded=$(grep -c '^loaded ' "$VM_DIR/modules.log" || true)
	failed=$(grep '^FAILED ' "$VM_DIR/modules.log" || true)
	[ -z "$failed" ] || fail "modules not loaded: $(echo "$failed" | head -3 | tr '\n' ' ')"
	[ "$loaded" -ge 10 ] || fail "only $loaded modules loaded"
	for m in veth macvlan nf_conntrack ip_tables sch_ingress; do
		grep -q "/$m.ko\$" "$VM_DIR/modules.log" || fail "module $m not loaded"
	done
}

test_vm_check() {
	need_vm
	need_cmd_ok check
	jq -e '.features | length > 20' "$VM_DIR/check.out" >/dev/null ||
		fail "check --json printed no feature list: $(head -c 200 "$VM_DIR/check.out")"
	# What function timing and the hop tracer stand on: all there on 6.1.
	for key in btf_vmlinux tracefs fentry fexit kprobe tp_btf raw_tp tc sock_ops \
		   redirect_peer fib_lookup veth macvlan bridge iptables_legacy conntrack \
		   nat_redirect owner; do
		expect_feature "$key" yes
	done
	# Module BTF: veth, nf_conntrack ... are modules on a distribution kernel
	# and the guest loaded them, so their BTF must be there.
	expect_feature btf_modules yes
	# What 6.1 lacks is reported as missing (with what is done instead).
	if kernel_at_least 6 4; then expect_feature netfilter_link yes; else expect_feature netfilter_link no; fi
	if kernel_at_least 6 6; then expect_feature tcx yes; else expect_feature tcx no; fi
	if kernel_at_least 6 2; then expect_feature cast_to_kern_ctx yes; else expect_feature cast_to_kern_ctx no; fi
	jq -e '[.features[] | select(.available == false) | .instead | length > 0] | all' \
		"$VM_DIR/check.out" >/dev/null || fail "a missing feature without its 'instead'"
}

# check_run NAME: what every short run must show on 6.1.
check_run() {
	local out=$VM_DIR/$1.out part probes
	need_cmd_ok "$1"
	part=$(vm_workload "$out" pingpong)
	[ -n "$part" ] || fail "$1: no '== pingpong ==' part in the report"
	echo "$part" | grep -Eq '^  [0-9.]+ transactions/s' || fail "$1: pingpong has no transaction rate"
	echo "$part" | grep -Eq 'round trip \(RTT\): +mean [0-9.]+' || fail "$1: pingpong has no RTT"
	echo "$part" | grep -q '^Request path' || fail "$1: pingpong has no request hop path"
	echo "$part" | grep -q '^Response path' || fail "$1: pingpong has no response hop path"
	echo "$part" | grep -Eq '^Hop tracer .*: [1-9][0-9]* packets followed' ||
		fail "$1: the hop tracer followed no packet"
	part=$(vm_workload "$out" stream)
	echo "$part" | grep -Eq '^  throughput [0-9.]+ Gbit/s' || fail "$1: stream has no throughput"
	# The report says what 6.1 lacks instead of failing.
	probes=$(vm_section "$out" '^Probes:')
	[ -n "$probes" ] || fail "$1: no Probes section"
	if ! kernel_at_least 6 4; then
		echo "$probes" | grep -Eq '^ +netfilter +no +.*refused by this kernel' ||
			fail "$1: the report does not say netfilter BPF programs are missing: $(echo "$probes" | grep netfilter)"
	fi
	echo "$probes" | grep -Eq '^ +tc +yes' || fail "$1: tc hop probes not attached: $(echo "$probes" | grep ' tc ')"
	jq -e '.' "$VM_DIR/${1}_json.out" >/dev/null || fail "$1: report.json is not JSON"
	# Without bpf_cast_to_kern_ctx (6.2) the tc hops find packets by flow key.
	if ! kernel_at_least 6 2; then
		expect_eq "$(jq -r '.workloads[0].hops.tc_key' "$VM_DIR/${1}_json.out")" flow "$1: tc key on $(cat "$VM_DIR/kernel")"
	fi
}

test_vm_run_calico() {
	need_vm
	check_run calico
	grep -Eq 'iptables rules loaded \(legacy\)' "$VM_DIR/calico.err" ||
		fail "calico: no iptables rules loaded: $(head -3 "$VM_DIR/calico.err" | tr '\n' ' ')"
}

test_vm_run_cilium() {
	need_vm
	check_run cilium
	# cilium.bpf.c loaded and redirected on 6.1: its tc programs show in the path.
	vm_workload "$VM_DIR/cilium.out" pingpong | grep -q 'redirected by BPF' ||
		fail "cilium: no BPF redirect in the hop path"
}

# func_figure JSON FUNC FIELD: a timed function's figure in the first workload.
func_figure() {
	jq -r --arg f "$2" --arg k "$3" \
		'[.workloads[0].functions.functions[]? | select(.name == $f) | .[$k]][0] // "absent"' "$1"
}

# check_funcs NAME PROBE NONZERO... -- ZERO...: function timing in one run's
# report.json: the probe kind used, non-zero calls and self time for what the
# datapath must cross, no call of what it must not.
check_funcs() {
	local name=$1 json=$VM_DIR/${1}_json.out probe=$2 f calls self zero=0
	shift 2
	need_cmd_ok "${name}_json"
	[ "$(jq -r '.workloads[0].functions.probe' "$json")" = "$probe" ] ||
		fail "functions timed with '$(jq -r '.workloads[0].functions.probe' "$json")', expected $probe: $(jq -c '.workloads[0].functions | {why, note}' "$json")"
	for f in "$@"; do
		if [ "$f" = -- ]; then zero=1; continue; fi
		calls=$(func_figure "$json" "$f" calls)
		self=$(func_figure "$json" "$f" self_ns)
		if [ $zero = 0 ]; then
			[[ "$calls" =~ ^[0-9]+$ && "$calls" -gt 0 && "$self" -gt 0 ]] ||
				fail "$f: calls $calls, self $self ns; expected both non-zero ($(jq -r --arg f "$f" '.workloads[0].functions.not_timed[]? | select(.name == $f) | .why' "$json"))"
		else
			[[ "$calls" = 0 || "$calls" = absent ]] || fail "$f: $calls calls, expected none"
		fi
	done
	# Per packet and per transaction figures are there (pingpong).
	jq -e '.workloads[0].functions.packets > 0 and
	       ([.workloads[0].functions.functions[] | select(.calls > 0) | .self_us_per_transaction > 0] | all)' \
		"$json" >/dev/null || fail "no per-packet or per-transaction function figures"
	jq -e '.workloads[0].functions.lost.unresolved_calls == 0 and .workloads[0].functions.lost.other_netns_calls == 0' \
		"$json" >/dev/null || fail "calls left unattributed: $(jq -c '.workloads[0].functions.lost' "$json")"
}

test_vm_functions_calico_fentry() {
	need_vm
	need_cmd_ok calico
	check_funcs calico fentry nf_hook_slow nf_conntrack_in veth_xmit ipt_do_table ip_forward
}

test_vm_functions_cilium_fentry() {
	need_vm
	need_cmd_ok cilium
	check_funcs cilium fentry veth_xmit tcp_v4_rcv -- ipt_do_table ip_forward
}

test_vm_functions_calico_kprobe() {
	need_vm
	need_cmd_ok calico_kprobe
	check_funcs calico_kprobe kprobe nf_hook_slow nf_conntrack_in veth_xmit ipt_do_table
}

test_vm_functions_cilium_kprobe() {
	need_vm
	need_cmd_ok cilium_kprobe
	check_funcs cilium_kprobe kprobe veth_xmit tcp_v4_rcv -- ipt_do_table ip_forward
}

test_vm_no_leftovers() {
	need_vm
	need_cmd_ok leftovers
	[ ! -s "$VM_DIR/leftovers.out" ] ||
		fail "left in the guest after the runs: $(tr '\n' ' ' < "$VM_DIR/leftovers.out")"
}

vm_boot
run_tests
