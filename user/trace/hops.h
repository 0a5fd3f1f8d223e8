/*
 * The hop tracer's user side: attaches bpf/hops.bpf.c to a set of the run's
 * namespaces (tc on every device, XDP too on request, netfilter slots on every
 * hook, packet-path and FIB-lookup tracepoints filtered to those namespaces,
 * sock_ops on the run's cgroup),
 * reads the kernel's aggregates and prints them. Every attachment falls back
 * or is skipped with a reason that the report shows.
 */
#ifndef NETPROF_TRACE_HOPS_H
#define NETPROF_TRACE_HOPS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/hops.h"

struct hops_tracer;

struct hops_target {
	const char *const *netns;	/* names under /run/netns, netprof-* only */
	int nr_netns;
	const char *cgroup_path;	/* the run's cgroup, or NULL (no sock_ops, no ctx switches) */
	uint16_t server_port;		/* host order; 0: no request/response split */
	uint16_t service_port;		/* host order; the ClusterIP's port, or 0 */
	uint32_t sample_every;		/* 1 = every packet */
	uint32_t max_packets;		/* packets followed at once (map size) */
	bool no_tc, no_netfilter;	/* leave these probes off (overhead A/B) */
	bool nf_detail;			/* a slot between every table (9 per hook), not 2 */
	bool fib;			/* the FIB lookup tracepoint (a run per lookup) */
	bool softirq;			/* softirq_entry/exit: passes per packet */
	/* The caller counts its tasks' context switches (getrusage of its own
	 * processes, hops_snapshot_set_switches): no scheduler tracepoints. */
	bool switches_given;
	unsigned duty;			/* probes attached one 100 ms window in N (0, 1: always) */
	bool all_paths;			/* print every distinct path, not the most common */
	enum tc_key tc_key;		/* AUTO: the skb where bpf_cast_to_kern_ctx works, else flow */
	bool xdp;			/* XDP on every device too (changes veth's receive path) */
	/* The veth standing for the NIC between the nodes ("NETNS/DEV"): its
	 * backlog enqueue is one a real NIC would not add, shown apart. */
	const char *const *wire;
	int nr_wire;
};

int hops_open(struct hops_tracer **out, const struct hops_target *target);
/* --tc-key skb|flow; a usage error (one line) and -1 otherwise. */
int hops_parse_tc_key(const char *cmd, const char *arg, enum tc_key *out);
/* The request path's figures (per packet), for side-by-side tables. */
struct hops_summary {
	bool valid;			/* a request path was seen */
	double hops, veth, macvlan, backlog, nf_hooks, nf_us, softirq_passes;
	double path_us, raw_path_us;	/* first to last hop: probes' cost out, and as traced */
	double wire_backlog;		/* on the wire veth: not counted in veth/backlog */
	double ctx_switches;		/* of the run's tasks, in total */
	double fib_lookups;		/* FIB lookups per packet on the request path */
	uint64_t packets_followed, packets_lost;
	/* The tracer's own programs per followed packet (NaN: not measured). */
	double probe_runs, probe_us;
};
struct hops_snapshot;
/* A copy of every aggregate now and of what the report needs of the tracer,
 * to print later (after a reset, or after hops_close). */
struct hops_snapshot *hops_snapshot(struct hops_tracer *h);
void hops_snapshot_free(struct hops_snapshot *snap);
/* The context switches of the traced tasks over the snapshot's window, as
 * the caller counted them (hops_target.switches_given). */
void hops_snapshot_set_switches(struct hops_snapshot *snap, uint64_t voluntary,
				uint64_t involuntary);
int hops_print(const struct hops_snapshot *snap, double seconds, uint64_t transactions);
int hops_summarize(const struct hops_snapshot *snap, struct hops_summary *s);

/*
 * Ends the calibration window that began at hops_open: the probes' cost
 * (run-time statistics, the netfilter calibration slot) is kept as measured
 * so far, both go off, and every aggregate is cleared, so what follows is
 * traced without them. Without this call the window is the tracer's life.
 */
int hops_calibrate_end(struct hops_tracer *h);
/* Clears every aggregate, so the next report covers only what follows. */
void hops_reset(struct hops_tracer *h);
/* Reads the aggregates so far and prints the report (text or JSON). */
int hops_report(struct hops_tracer *h, double seconds, uint64_t transactions);
/* The tc probes' packet count for a device, for cross-checks. */
int hops_device_packets(struct hops_tracer *h, const char *netns, const char *ifname,
			uint64_t *ingress, uint64_t *egress);
/* Detaches everything and frees; accepts NULL. */
void hops_close(struct hops_tracer *h);

#endif
