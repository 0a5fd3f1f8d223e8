/*
 * What the hop tracer's programs cost, measured rather than assumed, in a
 * calibration window at the start of the tracer's life: with the kernel's
 * BPF run-time statistics on, every program counts its runs and the time in
 * them (two clock reads around each run), and the netfilter calibration slot
 * (slot 1, right after slot 0, nothing between) times what entering one slot
 * costs. Both end with the window, so the rest of the explain phase pays for
 * neither; the statistics are turned on through a file descriptor
 * (BPF_ENABLE_STATS), not the sysctl, so they also go off if netprof dies.
 * Without an explicit end (netprof trace) the window is the tracer's life.
 * The run time is inside the programs; the hooks' dispatch is only in the
 * netfilter slot's figure.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "lib/bpf_compat.h"
#include "lib/percpu.h"
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

/*
 * What a program's runs are in a packet's life: the hop kind it records
 * (0..HOP_KIND_MAX-1), a FIB lookup, a netfilter slot after the first (its
 * time is inside a hook, taken out by the slot calibration), or other work
 * that records no hop (softirq, scheduler, sock_ops, frees).
 */
static int role_of(const char *name)
{
	static const struct { const char *name; int role; } roles[] = {
		{ "hop_tc_ingress", HOP_TC_INGRESS }, { "hop_tcf_ingress", HOP_TC_INGRESS },
		{ "hop_tc_egress", HOP_TC_EGRESS }, { "hop_tcf_egress", HOP_TC_EGRESS },
		{ "hop_xdp", HOP_XDP }, { "hop_nf_slot0", HOP_NF }, { "hop_origin", HOP_SEND },
		{ "net_dev_queue", HOP_DEV_QUEUE }, { "net_dev_xmit", HOP_DEV_XMIT },
		{ "netif_rx", HOP_BACKLOG }, { "netif_receive_skb", HOP_RECEIVE },
		{ "napi_gro_receive_entry", HOP_GRO }, { "tcp_probe", HOP_SOCKET },
		{ "kfree_skb", HOP_DROP }, { "fib_table_lookup", ROLE_FIB },
	};

	if (!strncmp(name, "btf_", 4) || !strncmp(name, "raw_", 4))
		name += 4;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(name, roles[i].name))
			return roles[i].role;
	if (!strncmp(name, "hop_nf_slot", 11))
		return ROLE_NF_LATER;
	return ROLE_OTHER;
}

static void add_prog(int fd, const char *name, struct hops_prog_stats *st)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int kind, role;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	kind = kind_of(info.type);
	if (kind < 0)
		return;
	/* Not info.name: the kernel keeps only 15 characters of it. */
	role = role_of(name);
	st->runs[kind] += info.run_cnt;
	st->ns[kind] += info.run_time_ns;
	st->role_runs[role] += info.run_cnt;
	st->role_ns[role] += info.run_time_ns;
}

/* Every program of the tracer's: the skeleton's, and each device's copies. */
static void sum_programs(const struct hops_tracer *h, struct hops_prog_stats *st)
{
	struct bpf_program *prog;
	static const char *const copies[3] = { "hop_tcf_ingress", "hop_tcf_egress", "hop_xdp" };

	memset(st, 0, sizeof(*st));
	bpf_object__for_each_program(prog, h->skel->obj) {
		/* The calibration slot runs in the window only: not a cost of what follows. */
		if (h->calib_slot_apart && prog == h->skel->progs.hop_nf_slot1)
			continue;
		add_prog(bpf_program__fd(prog), bpf_program__name(prog), st);
	}
	for (int i = 0; i < h->nr_devs; i++)
		for (int k = 0; k < 3; k++)
			add_prog(h->devs[i].copy_fd[k], copies[k], st);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void hops_cost_start(struct hops_tracer *h)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	h->window_start = now_s();
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
	h->window_start = now_s();
	if (h->stats_fd >= 0)
		sum_programs(h, &h->base);
}

/* The calibration segments (slot 0 to slot 1) of every hook, summed. */
static double nf_slot_ns(const struct hops_tracer *h)
{
	int fd = bpf_map__fd(h->skel->maps.nf_time);
	__u64 packets = 0, ns = 0;

	if (!h->use_nf || !(h->nf_slots & (1u << NF_CALIBRATION_NEXT)))
		return 0;
	for (__u32 n = 0; n < MAX_NETNS; n++) {
		for (__u32 hook = 0; hook < NF_HOOKS; hook++) {
			__u32 idx = NF_TIME_INDEX(n, hook, NF_CALIBRATION_SLOT);
			struct nf_value v = {};

			if (percpu_lookup_sum_u64(fd, &idx, &v, sizeof(v)))
				continue;
			packets += v.packets;
			ns += v.ns;
		}
	}
	return packets ? (double)ns / packets : 0;
}

static void cost_now(const struct hops_tracer *h, struct hops_probe_cost *cost)
{
	struct hops_prog_stats now;
	__u64 followed = 0;
	__u32 idx = CNT_PKTS_TRACED;

	memset(cost, 0, sizeof(*cost));
	cost->seconds = now_s() - h->window_start;
	cost->nf_slot_ns = nf_slot_ns(h);
	if (h->stats_fd < 0) {
		snprintf(cost->why, sizeof(cost->why), "%s", h->stats_why);
		return;
	}
	percpu_lookup_sum_u64(bpf_map__fd(h->skel->maps.counters), &idx, &followed,
			      sizeof(followed));
	cost->packets = followed;
	sum_programs(h, &now);
	for (int k = 0; k < PROBE_KINDS; k++) {
		cost->runs[k] = now.runs[k] - h->base.runs[k];
		cost->ns[k] = now.ns[k] - h->base.ns[k];
	}
	for (int r = 0; r < ROLES; r++) {
		uint64_t runs = now.role_runs[r] - h->base.role_runs[r];
		uint64_t ns = now.role_ns[r] - h->base.role_ns[r];

		cost->role_run_ns[r] = runs ? (double)ns / runs : 0;
		if (r == ROLE_OTHER)
			cost->other_ns_per_packet = followed ? (double)ns / followed : 0;
	}
	cost->measured = true;
}

void hops_cost_read(const struct hops_tracer *h, struct hops_probe_cost *cost)
{
	if (h->calibrated) {
		*cost = h->calibration;
		return;
	}
	cost_now(h, cost);
}

void hops_cost_stop(struct hops_tracer *h)
{
	if (h->stats_fd >= 0)
		close(h->stats_fd);
	h->stats_fd = -1;
}

int hops_calibrate_end(struct hops_tracer *h)
{
	if (h->calibrated)
		return 0;
	pthread_mutex_lock(&h->lock);
	cost_now(h, &h->calibration);
	h->calibrated = true;
	hops_cost_stop(h);
	hops_detach_calibration(h);
	pthread_mutex_unlock(&h->lock);
	hops_reset(h);
	return 0;
}
