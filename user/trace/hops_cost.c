/*
 * What the hop tracer's programs cost, measured rather than assumed: with
 * the kernel's BPF run-time statistics on, every program counts its runs and
 * the time spent in them (two clock reads around each run). They are turned
 * on through a file descriptor (BPF_ENABLE_STATS), not the sysctl, so they go
 * off when the tracer closes or netprof dies, and cost nothing outside the
 * explain phase. The time is inside the programs; the hook's own dispatch
 * around them is not in it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "lib/bpf_compat.h"
#include "trace/hops_internal.h"
#include "hops.skel.h"

static int kind_of(__u32 prog_type)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_SCHED_CLS:
		return PROBE_TC;
	case BPF_PROG_TYPE_XDP:
		return PROBE_XDP;
	case NP_BPF_PROG_TYPE_NETFILTER:
		return PROBE_NETFILTER;
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_TRACEPOINT:
		return PROBE_TRACEPOINT;
	case BPF_PROG_TYPE_SOCK_OPS:
		return PROBE_SOCK_OPS;
	default:
		return -1;
	}
}

static void add_prog(int fd, uint64_t *runs, uint64_t *ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int kind;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	kind = kind_of(info.type);
	if (kind < 0)
		return;
	runs[kind] += info.run_cnt;
	ns[kind] += info.run_time_ns;
}

/* Every program of the tracer's: the skeleton's, and each device's copies. */
static void sum_programs(const struct hops_tracer *h, uint64_t *runs, uint64_t *ns)
{
	struct bpf_program *prog;

	memset(runs, 0, PROBE_KINDS * sizeof(*runs));
	memset(ns, 0, PROBE_KINDS * sizeof(*ns));
	bpf_object__for_each_program(prog, h->skel->obj)
		add_prog(bpf_program__fd(prog), runs, ns);
	for (int i = 0; i < h->nr_devs; i++)
		for (int k = 0; k < 3; k++)
			add_prog(h->devs[i].copy_fd[k], runs, ns);
}

void hops_cost_start(struct hops_tracer *h)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0) {
		snprintf(h->stats_why, sizeof(h->stats_why),
			 "the kernel refused BPF run-time statistics (BPF_ENABLE_STATS: %s)",
			 strerror(errno));
		return;
	}
	h->stats_fd = fd;
	hops_cost_reset(h);
}

void hops_cost_reset(struct hops_tracer *h)
{
	if (h->stats_fd >= 0)
		sum_programs(h, h->base_runs, h->base_ns);
}

void hops_cost_read(const struct hops_tracer *h, struct hops_probe_cost *cost)
{
	uint64_t runs[PROBE_KINDS], ns[PROBE_KINDS];

	memset(cost, 0, sizeof(*cost));
	if (h->stats_fd < 0) {
		snprintf(cost->why, sizeof(cost->why), "%s", h->stats_why);
		return;
	}
	sum_programs(h, runs, ns);
	for (int k = 0; k < PROBE_KINDS; k++) {
		cost->runs[k] = runs[k] - h->base_runs[k];
		cost->ns[k] = ns[k] - h->base_ns[k];
	}
	cost->measured = true;
}

void hops_cost_stop(struct hops_tracer *h)
{
	if (h->stats_fd >= 0)
		close(h->stats_fd);
	h->stats_fd = -1;
}
