/*
 * Function timing's maps, shared by bpf/functime.bpf.c and user/trace/functime*.c.
 *
 * Each timed kernel function gets a slot. An entry probe (fentry, or a
 * kprobe where fentry is refused) pushes a frame on the current task's call
 * stack and the exit probe (fexit or kretprobe) pops it, so a call's self
 * time is its wall time minus the timed calls nested in it and minus the
 * time its task spent switched out.
 */
#ifndef NETPROF_FUNCTIME_H
#define NETPROF_FUNCTIME_H

#include "lat_hist.h"

#define FUNC_MAX 48		/* timed functions at once */
#define FUNC_DEPTH 16		/* nested timed calls followed per task */
#define FUNC_NETNS_MAX 64

/*
 * Where a function's namespace comes from: user space reads the function's
 * prototype in BTF and picks the argument that leads to a struct net.
 */
enum func_arg_kind {
	FARG_NONE = 0,		/* no such argument: counted when nested with a call of the run's */
	FARG_NET,		/* struct net * */
	FARG_NF_STATE,		/* struct nf_hook_state * */
	FARG_SOCK,		/* struct sock * */
	FARG_SKB,		/* struct sk_buff *: its device's namespace, else its socket's */
	FARG_SKB_PTR,		/* struct sk_buff ** */
	FARG_SKB_FIRST,		/* a struct whose first member is a struct sk_buff * (nft_pktinfo) */
	FARG_DEV,		/* struct net_device * */
	FARG_NAPI,		/* struct napi_struct *: its device (none for the backlog) */
	FARG_KIND_MAX,
};

#define FUNC_PENDING_WALLS 4

/*
 * Calls whose namespace was still unknown when they returned, held by the
 * call around them (itself unknown) until that one is resolved: the receive
 * core returns before the packet reaches ip_rcv, so only its caller,
 * process_backlog, learns whose packet it was.
 */
struct func_pending {
	__u32 slot;
	__u32 calls;
	__u64 total_ns, self_ns, off_cpu_ns;
	__u32 walls[FUNC_PENDING_WALLS];	/* the first calls' wall times, for the histogram */
};

/* One call in progress. */
struct func_frame {
	__u64 start_ns;
	__u64 nested_ns;	/* wall time of timed calls nested in it */
	__u64 off_cpu_ns;	/* time its task was switched out while it was innermost */
	__u32 slot;
	__u8 ours;		/* enum func_owner */
	__u8 nested_ours;	/* a call nested in it was the run's */
	__u8 pad[2];
	struct func_pending pending;
};

enum func_owner { FOWN_OTHER = 0, FOWN_OURS = 1, FOWN_UNKNOWN = 2 };

/* The timed calls in progress on one task (or one CPU's idle task). */
struct func_stack {
	__u64 switched_out_ns;	/* when the task was switched out; 0 while it runs */
	__u32 depth;
	__u32 pad;
	struct func_frame frames[FUNC_DEPTH];
};

/* Per slot, per CPU. */
struct func_stats {
	__u64 calls;
	__u64 total_ns;		/* wall time, entry to exit */
	__u64 self_ns;		/* on CPU, nested timed calls excluded */
	__u64 off_cpu_ns;	/* switched out (sleeping or preempted) while innermost */
	struct lat_hist hist;	/* of the wall time per call */
};

/* Global counters, per CPU. */
enum func_counter {
	FCNT_OTHER_NETNS,	/* calls outside the run's namespaces, not counted */
	FCNT_UNRESOLVED,	/* calls with no namespace and no run's call around or inside */
	FCNT_PENDING_FULL,	/* unresolved: the call around held another function's */
	FCNT_DEPTH_FULL,	/* calls nested deeper than FUNC_DEPTH, not timed */
	FCNT_UNMATCHED,		/* exits without their entry (attached mid-call) */
	FCNT_LOST_EXITS,	/* entries whose exit never came (a kretprobe missed) */
	FCNT_STACKS_FULL,	/* no room for a task's call stack */
	FCNT_MAX,
};

#endif
