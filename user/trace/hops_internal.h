/*
 * The hop tracer's state, shared by its parts: hops.c (open, load with
 * fallbacks, reset, close), hops_devices.c (what is traced where),
 * hops_attach.c (tc, XDP, netfilter, tracepoints, sock_ops and the duty
 * cycle) and hops_read.c (the maps into a snapshot).
 */
#ifndef NETPROF_TRACE_HOPS_INTERNAL_H
#define NETPROF_TRACE_HOPS_INTERNAL_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>

#include "trace/hops.h"
#include "trace/hops_snapshot.h"

#define MAX_TP_LINKS 32
#define TC_HANDLE 0x4e50	/* "NP" */
#define TC_PRIORITY 1		/* before any datapath program on the device */

/* Every program's runs and time summed: by kind and by role. */
struct hops_prog_stats {
	uint64_t runs[PROBE_KINDS], ns[PROBE_KINDS];
	uint64_t role_runs[ROLES], role_ns[ROLES];
};

struct traced_ns {
	char name[64];
	__u32 inum, index;
	unsigned rule_hooks;		/* bit h: some table or chain works at hook h */
	int nf_links[NF_HOOKS * NF_SLOTS + 1];
	int nr_nf_links;
	int calib_links[NF_HOOKS];	/* the calibration slot's, while it is attached */
	int nr_calib_links;
};

struct traced_dev {
	int ns;				/* index into tracer->ns */
	char name[IF_NAMESIZE];
	int ifindex;
	enum dev_kind kind;
	bool wire;			/* stands for the NIC between the nodes */
	bool tc_ok;			/* its tc filters attached at the start */
	bool hook_created, attached[2];
	/* Flow modes: this device's own copies of hop_tcf_ingress, hop_tcf_egress
	 * and hop_xdp (see dev_tag() in hops.bpf.c); -1 when not loaded. */
	int copy_fd[3];
	__u32 xdp_mode;			/* XDP_FLAGS_DRV_MODE or _SKB_MODE once attached */
	uint64_t kernel_rx_base;	/* the kernel's receive count at the last reset */
};

enum { COPY_TC_INGRESS, COPY_TC_EGRESS, COPY_XDP };

struct hops_tracer {
	struct hops_bpf *skel;
	struct hops_target target;
	struct traced_ns ns[MAX_NETNS];
	int nr_ns;
	struct traced_dev devs[HOPS_MAX_DEVS];
	int nr_devs;
	struct bpf_link *links[MAX_TP_LINKS];
	int nr_links;
	struct hops_note notes[HOPS_MAX_NOTES];
	int nr_notes;
	bool use_tc, use_nf, use_btf_tp, use_sockops;
	uint64_t softirq_base[2];	/* NET_RX, NET_TX at the last reset */
	bool tc_flow;			/* tc hops keyed by the flow, not the skb */
	bool use_xdp;
	unsigned nf_slots;		/* bit k: slot k attached (now) */
	bool calib_slot_apart;		/* slot 1 only calibrates: off once calibrated */
	struct bpf_link *sockops_link;	/* stays through duty-cycle pauses */
	/* --duty N: probes attached for one window in N. */
	pthread_t duty_thread;
	bool duty_running;
	volatile bool duty_stop;
	pthread_mutex_t lock;
	uint64_t windows;		/* attached windows since the start */
	/* BPF run-time statistics, on while this descriptor is open (-1: off),
	 * and each kind's runs and time when they came on or at the last reset. */
	int stats_fd;
	char stats_why[160];
	struct hops_prog_stats base;
	double window_start;		/* CLOCK_MONOTONIC s: the cost window's start */
	bool calibrated;		/* the window has ended: its figures are kept */
	struct hops_probe_cost calibration;
};


/* How a probe fared, for the report; the format is printf's. */
void hops_note(struct hops_tracer *h, const char *name, bool on, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* hops_devices.c: the target's namespaces and their devices. */
int hops_setup_namespaces(struct hops_tracer *h);
/* Each device's receive count as the kernel keeps it, into rx[device]. */
void hops_read_kernel_rx(const struct hops_tracer *h, uint64_t *rx);
void hops_read_softirqs(uint64_t out[2]);

/* hops_attach.c */
int hops_load_dev_copies(struct hops_tracer *h);
int hops_attach_tracepoints(struct hops_tracer *h, bool quiet);
int hops_attach_in_namespaces(struct hops_tracer *h);
int hops_attach_sockops(struct hops_tracer *h);
void hops_start_duty_cycle(struct hops_tracer *h);
/* Stops the duty cycle and takes off everything attached; the skeleton stays. */
void hops_detach_all(struct hops_tracer *h);

/* hops_cost.c: the tracer's programs' own cost, from the kernel's statistics. */
void hops_cost_start(struct hops_tracer *h);
void hops_cost_reset(struct hops_tracer *h);
void hops_cost_read(const struct hops_tracer *h, struct hops_probe_cost *cost);
void hops_cost_stop(struct hops_tracer *h);
/* hops_attach.c: takes the calibration slot off (with the tracer's lock held). */
void hops_detach_calibration(struct hops_tracer *h);

#endif
