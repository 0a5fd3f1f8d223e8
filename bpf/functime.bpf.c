// SPDX-License-Identifier: GPL-2.0
/*
 * Function timing: the entry and exit of one kernel function, as fentry and
 * fexit programs or, where fentry is refused, as a kprobe and kretprobe pair
 * sharing the same handlers. User space loads one copy of this object per
 * timed function (its slot and the argument that names its namespace are
 * read-only data, fixed at load), all sharing one set of maps, so a function
 * this kernel cannot trace fails alone.
 *
 * Calls are counted only in the run's namespaces. A function with no
 * argument leading to a namespace (process_backlog) counts when a call
 * nested in it, or the call around it, was the run's.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "functime.h"
#include "tp_twin.h"

const volatile __u32 func_slot = 0;
const volatile __u32 func_arg_index = 0;
const volatile __u32 func_arg_kind = FARG_NONE;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUNC_NETNS_MAX);
	__type(key, __u32);		/* netns inode */
	__type(value, __u32);		/* 1 */
} func_netns SEC(".maps");

/* Keyed by thread id; an idle task (tid 0) by 1 << 31 | CPU. LRU: a task
 * that exits leaves its entry to be recycled. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct func_stack);
} func_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FUNC_MAX);
	__type(key, __u32);
	__type(value, struct func_stats);
} func_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FCNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} func_counters SEC(".maps");

struct func_stack empty_stack = {};

static __always_inline void count_n(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&func_counters, &idx);

	if (v)
		*v += n;
}

static __always_inline void count(__u32 idx)
{
	count_n(idx, 1);
}

static __always_inline __u32 stack_key(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	return tid ? tid : (1U << 31) | bpf_get_smp_processor_id();
}

static __always_inline struct net *net_of_skb(struct sk_buff *skb)
{
	struct net_device *dev;
	struct sock *sk;

	if (!skb)
		return NULL;
	dev = BPF_CORE_READ(skb, dev);
	if (dev)
		return BPF_CORE_READ(dev, nd_net.net);
	sk = BPF_CORE_READ(skb, sk);
	return sk ? BPF_CORE_READ(sk, __sk_common.skc_net.net) : NULL;
}

/* The namespace the call works in, from the argument user space chose. */
static __always_inline struct net *net_of_arg(__u64 arg)
{
	struct sk_buff *skb = NULL;
	struct net_device *dev;

	if (!arg)
		return NULL;
	switch (func_arg_kind) {
	case FARG_NET:
		return (struct net *)arg;
	case FARG_NF_STATE:
		return BPF_CORE_READ((struct nf_hook_state *)arg, net);
	case FARG_SOCK:
		return BPF_CORE_READ((struct sock *)arg, __sk_common.skc_net.net);
	case FARG_SKB:
		return net_of_skb((struct sk_buff *)arg);
	case FARG_SKB_PTR:
	case FARG_SKB_FIRST:
		/* Both hold the skb pointer at offset 0 of what arg points to. */
		bpf_probe_read_kernel(&skb, sizeof(skb), (void *)arg);
		return net_of_skb(skb);
	case FARG_DEV:
		return BPF_CORE_READ((struct net_device *)arg, nd_net.net);
	case FARG_NAPI:
		dev = BPF_CORE_READ((struct napi_struct *)arg, dev);
		return dev ? BPF_CORE_READ(dev, nd_net.net) : NULL;
	}
	return NULL;
}

static __always_inline __u8 owner_of(__u64 arg)
{
	struct net *net;
	__u32 inum;

	if (func_arg_kind == FARG_NONE)
		return FOWN_UNKNOWN;
	net = net_of_arg(arg);
	if (!net)
		return FOWN_UNKNOWN;
	inum = BPF_CORE_READ(net, ns.inum);
	return bpf_map_lookup_elem(&func_netns, &inum) ? FOWN_OURS : FOWN_OTHER;
}

static __always_inline int on_entry(__u64 arg)
{
	__u32 key = stack_key(), d;
	struct func_stack *st;
	struct func_frame *f;

	st = bpf_map_lookup_elem(&func_stacks, &key);
	if (!st) {
		if (bpf_map_update_elem(&func_stacks, &key, &empty_stack, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&func_stacks, &key)) {
			count(FCNT_STACKS_FULL);
			return 0;
		}
		st = bpf_map_lookup_elem(&func_stacks, &key);
		if (!st)
			return 0;
	}
	d = st->depth;
	if (d >= FUNC_DEPTH) {
		count(FCNT_DEPTH_FULL);
		return 0;
	}
	f = &st->frames[d];
	f->slot = func_slot;
	f->ours = owner_of(arg);
	f->nested_ours = 0;
	f->nested_ns = 0;
	f->off_cpu_ns = 0;
	f->pending.calls = 0;
	f->pending.total_ns = 0;
	f->pending.self_ns = 0;
	f->pending.off_cpu_ns = 0;
	st->depth = d + 1;
	/* Last, so the probe's own work above is not timed. */
	f->start_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void stats_add(__u32 slot, __u64 calls, __u64 total, __u64 self,
				      __u64 off_cpu)
{
	struct func_stats *s = bpf_map_lookup_elem(&func_stats, &slot);

	if (!s)
		return;
	s->calls += calls;
	s->total_ns += total;
	s->self_ns += self;
	s->off_cpu_ns += off_cpu;
	s->hist.count += calls;
	s->hist.sum_ns += total;
}

static __always_inline void hist_add(__u32 slot, __u64 wall, __u64 n)
{
	struct func_stats *s = bpf_map_lookup_elem(&func_stats, &slot);
	__u32 bucket = lat_bucket(wall);

	if (s && bucket < LAT_BUCKETS)
		s->hist.buckets[bucket] += n;
}

/* The held calls turned out to be the run's. */
static __always_inline void pending_flush(struct func_pending *p)
{
	__u32 kept = 0;
	__u64 kept_ns = 0;

	if (!p->calls)
		return;
	stats_add(p->slot, p->calls, p->total_ns, p->self_ns, p->off_cpu_ns);
	for (int i = 0; i < FUNC_PENDING_WALLS; i++) {
		if ((__u32)i >= p->calls)
			break;
		hist_add(p->slot, p->walls[i], 1);
		kept++;
		kept_ns += p->walls[i];
	}
	/* Beyond the ones kept one by one, their mean stands for them. */
	if (p->calls > kept && p->total_ns > kept_ns)
		hist_add(p->slot, (p->total_ns - kept_ns) / (p->calls - kept), p->calls - kept);
	p->calls = 0;
}

/* Holds a call (and what it held) in the unknown call around it. Returns
 * false when that one already holds another function's calls. */
static __always_inline bool pending_hold(struct func_pending *into, __u32 slot, __u64 wall,
					 __u64 self, __u64 off_cpu, struct func_pending *held)
{
	__u32 n;

	if (into->calls && into->slot != slot)
		return false;
	if (held->calls && held->slot != slot)
		return false;
	into->slot = slot;
	n = into->calls;
	if (n < FUNC_PENDING_WALLS)
		into->walls[n] = wall > 0xffffffffULL ? 0xffffffffU : wall;
	into->calls = n + 1;
	into->total_ns += wall;
	into->self_ns += self;
	into->off_cpu_ns += off_cpu;
	/* What it held itself moves up whole (the mean stands for its walls). */
	into->calls += held->calls;
	into->total_ns += held->total_ns;
	into->self_ns += held->self_ns;
	into->off_cpu_ns += held->off_cpu_ns;
	held->calls = 0;
	return true;
}

static __always_inline int on_exit(void)
{
	__u64 now = bpf_ktime_get_ns(), wall, busy, self;
	__u32 key = stack_key(), d = 0, slot = func_slot;
	struct func_frame *f, *parent = NULL;
	struct func_stack *st;
	bool found = false;
	__u8 owner;

	st = bpf_map_lookup_elem(&func_stacks, &key);
	if (!st)
		return 0;
	/* Normally the innermost frame; deeper when exits were missed. */
	for (int i = FUNC_DEPTH - 1; i >= 0; i--) {
		if ((__u32)i >= st->depth)
			continue;
		if (st->frames[i].slot == slot) {
			d = i;
			found = true;
			break;
		}
	}
	if (!found) {
		count(FCNT_UNMATCHED);
		return 0;
	}
	if (st->depth > d + 1)
		count_n(FCNT_LOST_EXITS, st->depth - d - 1);
	if (d >= FUNC_DEPTH)
		return 0;
	/* The masks keep the verifier sure of the bounds (FUNC_DEPTH is 2^n). */
	f = &st->frames[d & (FUNC_DEPTH - 1)];
	if (d > 0)
		parent = &st->frames[(d - 1) & (FUNC_DEPTH - 1)];
	wall = now - f->start_ns;
	busy = f->nested_ns + f->off_cpu_ns;
	self = wall > busy ? wall - busy : 0;
	owner = f->ours;
	if (owner == FOWN_UNKNOWN && (f->nested_ours || (parent && parent->ours == FOWN_OURS)))
		owner = FOWN_OURS;

	if (owner == FOWN_OURS) {
		stats_add(slot, 1, wall, self, f->off_cpu_ns);
		hist_add(slot, wall, 1);
		pending_flush(&f->pending);
	} else if (owner == FOWN_UNKNOWN && parent && parent->ours == FOWN_UNKNOWN &&
		   pending_hold(&parent->pending, slot, wall, self, f->off_cpu_ns, &f->pending)) {
		/* decided when the call around it is */
	} else {
		__u32 lost = 1 + f->pending.calls;

		count(owner == FOWN_OTHER ? FCNT_OTHER_NETNS :
		      parent && parent->ours == FOWN_UNKNOWN ? FCNT_PENDING_FULL : FCNT_UNRESOLVED);
		if (lost > 1)
			count_n(FCNT_UNRESOLVED, lost - 1);
		f->pending.calls = 0;
	}
	if (parent) {
		parent->nested_ns += wall;
		if (owner == FOWN_OURS)
			parent->nested_ours = 1;
	}
	st->depth = d;
	return 0;
}

SEC("fentry")
int func_fentry(__u64 *ctx)
{
	__u64 arg = 0;

	if (func_arg_kind != FARG_NONE)
		bpf_get_func_arg(ctx, func_arg_index, &arg);
	return on_entry(arg);
}

SEC("fexit")
int func_fexit(__u64 *ctx)
{
	return on_exit();
}

SEC("kprobe")
int func_kprobe(struct pt_regs *ctx)
{
	__u64 arg = 0;

	/* The _CORE reads: with plain ones clang merges the cases into one
	 * variable-offset context access, which the verifier refuses. */
	switch (func_arg_index) {
	case 0: arg = PT_REGS_PARM1_CORE(ctx); break;
	case 1: arg = PT_REGS_PARM2_CORE(ctx); break;
	case 2: arg = PT_REGS_PARM3_CORE(ctx); break;
	case 3: arg = PT_REGS_PARM4_CORE(ctx); break;
	case 4: arg = PT_REGS_PARM5_CORE(ctx); break;
	}
	return on_entry(arg);
}

SEC("kretprobe")
int func_kretprobe(struct pt_regs *ctx)
{
	return on_exit();
}

/* Time a task spends switched out inside a call is not the call's CPU time. */
static __always_inline void on_switch(struct task_struct *prev, struct task_struct *next)
{
	__u32 prev_tid = BPF_CORE_READ(prev, pid), next_tid = BPF_CORE_READ(next, pid);
	struct func_stack *st;
	__u64 now = bpf_ktime_get_ns();
	__u32 d;

	if (prev_tid && (st = bpf_map_lookup_elem(&func_stacks, &prev_tid)) && st->depth)
		st->switched_out_ns = now;
	if (!next_tid || !(st = bpf_map_lookup_elem(&func_stacks, &next_tid)))
		return;
	d = st->depth;
	if (st->switched_out_ns && d && d <= FUNC_DEPTH)
		st->frames[d - 1].off_cpu_ns += now - st->switched_out_ns;
	st->switched_out_ns = 0;
}

TP_TWIN(func_btf_, func_raw_, sched_switch, on_switch(prev, next),
	bool preempt, struct task_struct *prev, struct task_struct *next)

char LICENSE[] SEC("license") = "GPL";
