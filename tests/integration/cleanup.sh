# `netprof cleanup` removes what a SIGKILLed netprof left, and only that.
# (It removes every netprof-* object, so the suite runs it on its own.)
source "$(dirname "$0")/../lib.sh"

test_cleanup_after_sigkill() {
	need_root; need_cmd jq; need_cmd bpftool
	local pid ns cg bpffs other sidecar=/tmp/netprof-sidecar-test$$
	# Objects a killed run leaves: a namespace, a cgroup with a process, a
	# sidecar stats directory. netprof itself pins nothing, but cleanup also
	# removes netprof-named pins on every mounted bpffs: plant one on a bpffs
	# of the test's own, as a tool pinning under netprof's name would.
	ns=$(t_netns left)
	cg=$(t_cgroup cg)
	sleep 60 &
	pid=$!
	t_defer kill -KILL $pid
	echo $pid > "$cg/cgroup.procs"
	bpffs=$(t_bpffs)
	mkdir "$bpffs/netprof"
	bpftool map create "$bpffs/netprof/leftover" type array key 4 value 4 entries 1 name netprof_left \
		|| fail "bpftool could not pin a map on $bpffs"
	mkdir -p $sidecar
	t_defer rm -rf $sidecar

	expect_rc 0 "$NETPROF" cleanup --dry-run --json
	expect_eq "$(echo "$T_OUT" | jq --arg ns "$ns" --arg cg "$cg" --arg pin "$bpffs/netprof" --arg sc $sidecar '
		[.objects[] | select(.action == "would remove") | .name] as $n
		| ($n | index($ns)) != null and ($n | index($cg)) != null
		  and ($n | index($pin)) != null and ($n | index($sc)) != null')" true "dry run lists the four"
	ip netns list | grep -q "^$ns" || fail "dry run removed the namespace"
	[ -e "$bpffs/netprof/leftover" ] || fail "dry run removed the pin"

	# Something that is not netprof's must survive.
	other="np-other-$$"
	ip netns add "$other"
	t_defer ip netns delete "$other"
	bpftool map create "$bpffs/not-netprofs" type array key 4 value 4 entries 1 name np_other \
		|| fail "bpftool could not pin the second map"
	expect_rc 0 "$NETPROF" cleanup
	ip netns list | grep -q "^$other" || fail "a namespace that is not netprof's was removed"
	[ -e "$bpffs/not-netprofs" ] || fail "a pin that is not netprof's was removed"
	ip netns list | grep -q "^$ns" && fail "namespace left"
	[ -e "$cg" ] && fail "cgroup left"
	# Killed: gone, or a zombie waiting for this shell to reap it.
	grep -qs '^State:.*[RS]' /proc/$pid/status && fail "the cgroup's process still runs"
	wait $pid 2>/dev/null || true
	[ -e "$bpffs/netprof" ] && fail "pins left"
	[ -e $sidecar ] && fail "sidecar directory left"
	rm -f "$bpffs/not-netprofs"
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
