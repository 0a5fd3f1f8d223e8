// SPDX-License-Identifier: GPL-2.0
/*
 * On-CPU stack sampling: a perf_event program on every CPU (hardware cycles
 * where the machine has them, else cpu-clock) counts each distinct
 * (task, kernel stack, user stack) in a map. User space decides what belongs
 * to the run: the run's cgroup, and the softirq and kernel-thread work that
 * serves its traffic (told by the stacks).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "profile.h"

const volatile __u64 run_cgroup_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	/* No chaining in a stack map: a colliding stack is lost (and counted),
	 * so keep it sparse. 65536 x 64 frames is about 33 MB. */
	__uint(max_entries, 65536);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PROFILE_MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct profile_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROF_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} prof_counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&prof_counters, &idx);

	if (v)
		(*v)++;
}

SEC("perf_event")
int profile_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), one = 1, *v;
	struct task_struct *task = (void *)bpf_get_current_task();
	struct profile_key key = {};

	count(PROF_SAMPLES);
	key.pid = id >> 32;
	key.tid = (__u32)id;
	if (key.tid == 0) {
		count(PROF_IDLE);
		return 0;
	}
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	if (run_cgroup_id && bpf_get_current_cgroup_id() == run_cgroup_id)
		key.flags |= PROF_IN_CGROUP;
	if (!BPF_CORE_READ(task, mm))
		key.flags |= PROF_KERNEL_THREAD;
	key.kstack = bpf_get_stackid(ctx, &stacks, 0);
	/* -EFAULT: the CPU was in user space, there is no kernel stack. */
	if (key.kstack < 0 && key.kstack != -14)
		count(PROF_KSTACK_LOST);
	key.ustack = -1;
	if (!(key.flags & PROF_KERNEL_THREAD)) {
		key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		/* -EFAULT: interrupted in the kernel with no user frames to walk. */
		if (key.ustack < 0 && key.ustack != -14)
			count(PROF_USTACK_LOST);
	}
	v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST) &&
		 !bpf_map_lookup_elem(&counts, &key))
		count(PROF_KEYS_FULL);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
