/*
 * What a hop report is made of: the tracer's setup (namespaces, devices,
 * probe notes) and the kernel's aggregates, copied at one moment. The
 * report reads nothing else, so the tracer can be gone by the time it is
 * printed, and a test can build one by hand.
 */
#ifndef NETPROF_TRACE_HOPS_SNAPSHOT_H
#define NETPROF_TRACE_HOPS_SNAPSHOT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/hops.h"

#define HOPS_MAX_DEVS 256
#define HOPS_MAX_NOTES 24

enum hops_xdp_mode { HOPS_XDP_OFF = 0, HOPS_XDP_DRIVER, HOPS_XDP_GENERIC };

struct hops_device {
	__u32 ns_index;			/* the hops' netns index (1..) */
	int ifindex;
	char name[IF_NAMESIZE];
	enum dev_kind kind;
	bool wire;			/* stands for the NIC between the nodes */
	bool traced;			/* both tc filters attached */
	enum hops_xdp_mode xdp;
	struct dev_counters counters;	/* summed over CPUs */
	uint64_t kernel_rx;		/* the kernel's own receive count meanwhile */
};

/* How one probe fared: attached, fallen back or left off, and why. */
struct hops_note {
	char name[32];
	bool on;
	char detail[320];
};

struct hops_path {
	struct path_key key;
	struct path_value val;
};

struct hops_pair {
	struct hop_pair key;
	struct lat_hist val;
};

struct hops_nf_segment {
	struct nf_key key;
	struct nf_value val;
};

struct hops_drop {
	struct drop_key key;
	__u64 count;
	char reason[64];		/* the kernel's name for key.reason */
};

/* The kinds of program the hop tracer runs, for its cost. */
enum hops_probe_kind {
	PROBE_TC, PROBE_XDP, PROBE_NETFILTER, PROBE_TRACEPOINT, PROBE_SOCK_OPS, PROBE_KINDS,
};

/* What a program's runs are in a packet's life: a hop kind (enum hop_kind),
 * or one of these. */
enum hops_probe_role {
	ROLE_FIB = HOP_KIND_MAX,	/* a FIB lookup, between two hops */
	ROLE_NF_LATER,			/* a netfilter slot after the first: inside a hook */
	ROLE_OTHER,			/* records no hop: softirq, scheduler, sock_ops, frees */
	ROLES,
};

/* What the tracer's own programs cost in its calibration window, as the
 * kernel counts and clocks them (BPF run-time statistics): runs and time in
 * each kind, one run's time by role, and one netfilter slot's entry. */
struct hops_probe_cost {
	bool measured;
	char why[160];			/* why not, when not measured */
	double seconds;			/* the window's length */
	uint64_t packets;		/* packets followed in it */
	uint64_t runs[PROBE_KINDS], ns[PROBE_KINDS];
	double role_run_ns[ROLES];	/* mean ns of one run, by role */
	double other_ns_per_packet;	/* ROLE_OTHER's time per followed packet */
	double nf_slot_ns;		/* one slot entered, dispatch included (0: not timed) */
};

struct hops_snapshot {
	/* The tracer's setup. */
	unsigned duty;			/* probes on one window in N (0, 1: always) */
	uint32_t sample_every;
	uint16_t server_port;		/* 0: every packet is "other" */
	bool all_paths;
	bool use_tc, tc_flow, use_xdp, use_nf;
	unsigned nf_slots;		/* bit k: netfilter slot k attached */
	bool fib_on;			/* FIB lookups counted (--fib) */
	bool softirq_on;		/* softirq passes counted (--softirq) */
	bool switches_given;		/* context switches from the caller's getrusage */
	char ns_names[MAX_NETNS][64];	/* by netns index - 1 */
	int nr_ns;
	struct hops_device devs[HOPS_MAX_DEVS];
	int nr_devs;
	struct hops_note notes[HOPS_MAX_NOTES];
	int nr_notes;

	/* The kernel's aggregates, summed over CPUs. */
	__u64 counters[CNT_MAX];
	struct sockops_stats sockops;
	struct hops_path *paths;
	int nr_paths;
	struct hops_pair *pairs;
	int nr_pairs;
	struct hops_nf_segment *nf;
	int nr_nf;
	struct hops_drop *drops;
	int nr_drops;
	struct fib_ns_stats fib[MAX_NETNS];	/* by netns index */
	struct hops_probe_cost cost;
};

#endif
