/*
 * Function timing's user side: times the kernel functions where a
 * datapath's cost lives (netfilter, conntrack, veth, macvlan, bridge, the
 * receive and transmit paths, TCP) with fentry/fexit, or kprobe/kretprobe
 * twins where fentry is refused, counting only calls in the run's
 * namespaces. Reports calls, total and self time and a latency histogram per
 * function, per packet and per transaction.
 */
#ifndef NETPROF_TRACE_FUNCTIME_H
#define NETPROF_TRACE_FUNCTIME_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/functime.h"
#include "profile/categories.h"

#define FUNC_NAME_MAX 64

enum func_probe_mode { FUNC_PROBE_AUTO = 0, FUNC_PROBE_FENTRY, FUNC_PROBE_KPROBE, FUNC_PROBE_OFF };

struct func_timer_opts {
	const char *const *netns;	/* names under /run/netns: only their calls count */
	int nr_netns;
	const char *extra[16];		/* --func NAME, in addition to the defaults */
	int nr_extra;
	bool only_extra;		/* --func only: not the default list */
	enum func_probe_mode mode;
};

/* Parses --func-probe's value; -1 when it is none of auto, fentry, kprobe, off. */
int func_probe_mode_parse(const char *s);
const char *func_probe_mode_name(enum func_probe_mode m);
/* Adds a --func value (comma-separated names); -1 with a message on bad input. */
int func_timer_opts_add(struct func_timer_opts *o, const char *names);

struct func_timer;
/*
 * Always returns a timer (NULL only when out of memory): when neither probe
 * kind works the timer is off and its report says why.
 */
struct func_timer *func_timer_open(const struct func_timer_opts *o);
bool func_timer_active(const struct func_timer *t);
/* Clears the counts, so that the next snapshot covers what follows. */
void func_timer_reset(struct func_timer *t);

/* What the report needs: the timer's setup and its counts at one moment, so
 * the report is a function of the snapshot alone. */
struct func_snapshot {
	enum func_probe_mode mode;	/* fentry, kprobe, or off */
	char why[300];			/* why off, or what was refused on the way */
	bool off_cpu;			/* switched-out time is out of self time */
	int nr_funcs;
	struct func_snapshot_func {
		char name[FUNC_NAME_MAX];
		char status[160];	/* how it is timed, or why not */
		bool timed;
	} funcs[FUNC_MAX];
	/* Summed over CPUs; zero when off. */
	struct func_stats stats[FUNC_MAX];
	uint64_t counters[FCNT_MAX];
};

/* NULL only for no timer or out of memory. */
struct func_snapshot *func_timer_snapshot(struct func_timer *t);
void func_snapshot_free(struct func_snapshot *s);

/* Per packet, for side-by-side tables. */
struct func_summary {
	bool valid;
	double self_us_per_packet[CAT_MAX];	/* by category of `cats` */
	double total_self_us_per_packet;
	char probe[16];				/* "fentry", "kprobe" or "off" */
};

/*
 * The report: `packets` (IP packets the run's endpoints sent) and
 * `transactions` divide the figures (0: not shown); `cats` names each
 * function's category (NULL: none).
 */
void func_timer_print(const struct func_snapshot *s, double packets, double transactions,
		      const struct categories *cats);
void func_timer_summarize(const struct func_snapshot *s, double packets,
			  const struct categories *cats, struct func_summary *sum);
void func_timer_close(struct func_timer *t);

/*
 * Which argument of a kernel function names its namespace: an enum
 * func_arg_kind (bpf/functime.h) with its index, and the module whose BTF
 * has the function ("" for vmlinux); -ENOENT when no BTF has it.
 */
int func_timer_describe(const char *name, int *arg_index, char *module, size_t module_len);

#endif
