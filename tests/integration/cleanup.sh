# `netprof cleanup` removes what a SIGKILLed netprof left, and only that.
# (It removes every netprof-* object, so the suite runs it on its own.)
source "$(dirname "$0")/../lib.sh"

test_cleanup_after_sigkill() {
	need_root; need_cmd jq
	local root pid ns cg pin other
	root=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	# Objects a killed run would leave: a namespace, a cgroup with a process,
	# a pinned map, a sidecar stats directory.
	ns=$(t_netns left)
	cg="$root/$T_PREFIX-$T_SEQ-cg"
	mkdir "$cg"
	sleep 60 &
	pid=$!
	echo $pid > "$cg/cgroup.procs"
	mkdir -p /sys/fs/bpf/netprof
	bpftool map create /sys/fs/bpf/netprof/leftover type array key 4 value 4 entries 1 name netprof_left
	mkdir -p /tmp/netprof-sidecar-test$$

	expect_rc 0 "$NETPROF" cleanup --dry-run --json
	expect_eq "$(echo "$T_OUT" | jq '[.objects[] | select(.action == "would remove")] | length >= 4')" true "dry run lists"
	ip netns list | grep -q "^$ns" || fail "dry run removed the namespace"

	# Something that is not netprof's must survive.
	local survived=no
	other="np-other-$$"
	ip netns add "$other"
	expect_rc 0 "$NETPROF" cleanup
	ip netns list | grep -q "^$other" && survived=yes
	ip netns delete "$other" 2>/dev/null || true
	expect_eq $survived yes "a namespace that is not netprof's survives"
	ip netns list | grep -q "^$ns" && fail "namespace left"
	[ -e "$cg" ] && fail "cgroup left"
	# Killed: gone, or a zombie waiting for this shell to reap it.
	grep -qs '^State:.*[RS]' /proc/$pid/status && fail "the cgroup's process still runs"
	wait $pid 2>/dev/null || true
	[ -e /sys/fs/bpf/netprof ] && fail "pins left"
	[ -e /tmp/netprof-sidecar-test$$ ] && fail "sidecar directory left"
	expect_rc 0 "$NETPROF" cleanup
	[[ "$T_OUT" == *"nothing to clean up"* ]] || fail "second cleanup: $T_OUT"
}

test_cleanup_after_killed_run() {
	need_root; need_cmd jq
	local pid run="t$$" progs_before root
	root=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	progs_before=$(bpftool prog show --json | jq length)
	# A cilium run (tc programs, netfilter links, a server process) killed
	# in the middle of its workload.
	"$NETPROF" run --cni cilium --run "$run" -w rr -d 30s --results "$(mktemp -d)" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 300); do
		ip netns list | grep -q "^netprof-$run-pod-b" && break
		sleep 0.05
	done
	sleep 2	# probes attached, workload running
	kill -KILL $pid; wait $pid 2>/dev/null || true
	ip netns list | grep -q "^netprof-$run-" || fail "the killed run left nothing to clean (it was not killed mid-run)"
	expect_rc 0 "$NETPROF" cleanup
	ip netns list | grep -q "^netprof-$run-" && fail "namespaces of the killed run remain"
	[ -e "$root/netprof-$run" ] && fail "cgroup of the killed run remains"
	pgrep -f "netprof run --cni cilium --run $run" >/dev/null && fail "a process of the run survives"
	# tc programs went with the devices, links with the process's descriptors.
	for _ in $(seq 1 50); do
		[ "$(bpftool prog show --json | jq length)" -le "$progs_before" ] && break
		sleep 0.1
	done
	expect_eq "$(bpftool prog show --json | jq length)" "$progs_before" "BPF programs after cleanup"
}

run_tests
