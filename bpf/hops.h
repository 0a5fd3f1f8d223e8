/*
 * The hop tracer's maps and the names of what they hold, shared by
 * bpf/hops.bpf.c and user/trace/hops*.c.
 * Only __u8.._u64 here: user space must not see kernel typedefs.
 *
 * A hop is one place a packet was seen: a tc hook on a device, a netfilter
 * hook slot, a packet-path tracepoint. It is encoded in 32 bits:
 *   kind (8) | netns index (8) | where (16: ifindex, or hook*16+slot)
 * Netns indexes are given by user space for the run's own namespaces only;
 * packets in any other namespace are ignored.
 */
#ifndef NETPROF_HOPS_H
#define NETPROF_HOPS_H

#include "lat_hist.h"

enum hop_kind {
	HOP_NONE = 0,
	HOP_TC_INGRESS,		/* clsact ingress of a device */
	HOP_TC_EGRESS,		/* clsact egress of a device */
	HOP_NF,			/* a netfilter hook slot */
	HOP_DEV_QUEUE,		/* net_dev_queue: handed to a device's qdisc layer */
	HOP_DEV_XMIT,		/* net_dev_xmit: the driver took it */
	HOP_BACKLOG,		/* netif_rx: queued to the per-CPU backlog (veth, macvlan) */
	HOP_RECEIVE,		/* netif_receive_skb: entered the receive stack */
	HOP_GRO,		/* napi_gro_receive_entry */
	HOP_SOCKET,		/* tcp_probe: reached an established TCP socket */
	HOP_DROP,		/* kfree_skb: dropped (where = reason) */
	HOP_XDP,		/* XDP on a device (only with --xdp) */
	HOP_SEND,		/* left its socket: OUTPUT of a namespace without rules */
	HOP_KIND_MAX,
};

#define HOP_ENCODE(kind, ns, where) \
	(((__u32)(kind) << 24) | (((__u32)(ns) & 0xff) << 16) | ((__u32)(where) & 0xffff))
#define HOP_KIND(hop)  ((hop) >> 24)
#define HOP_NS(hop)    (((hop) >> 16) & 0xff)
#define HOP_WHERE(hop) ((hop) & 0xffff)

/*
 * Netfilter slots: a program at each of these priorities on every hook, so
 * the time between two slots is the time spent in the tables registered
 * between them (raw -300, conntrack -200, mangle -150, DNAT -100, filter 0,
 * security 50, SNAT 100, conntrack confirm at INT_MAX, after the last slot).
 * Slots 0 and 1 are adjacent priorities with nothing between them: their
 * gap is what one slot program itself costs, subtracted from the others.
 * Only slot 0 is a hop of the path; the others only time the tables.
 */
#define NF_SLOTS 9
#define NF_HOOKS 5	/* PRE_ROUTING, LOCAL_IN, FORWARD, LOCAL_OUT, POST_ROUTING */
#define NF_SLOT_PRIORITIES { -2147483647, -2147483646, -250, -175, -125, -50, 25, 250, 2147483646 }
#define NF_CALIBRATION_SLOT 0	/* the segment from slot 0 to slot 1... */
#define NF_CALIBRATION_NEXT 1	/* ...which only calibrates when attached */
#define NF_WHERE(hook, slot) ((hook) * 16 + (slot))
#define NF_WHERE_HOOK(where) ((where) / 16)
#define NF_WHERE_SLOT(where) ((where) % 16)

#define MAX_NETNS 64
#define MAX_PATH_HOPS 40
#define FIB_AT_MAX 6	/* FIB lookups per packet placed on its path */


enum flow_dir { DIR_REQUEST = 0, DIR_RESPONSE = 1, DIR_OTHER = 2, DIR_MAX = 3 };

/* Set by user space: which traffic is the workload's, and how much to trace. */
struct hops_config {
	__u32 server_ip;	/* network order; 0 = any */
	__u16 server_port;	/* network order; 0 = any */
	__u16 service_port;	/* network order: the ClusterIP's port, if any */
	__u32 sample_every;	/* trace 1 packet in N (1 = all) */
	__u32 pad;
};

struct netns_info {
	__u32 index;		/* 1..MAX_NETNS-1 */
};

#define NETNS_SLOTS 256
struct netns_slot {
	__u32 inum;		/* 0: free */
	__u32 index;
};

enum dev_kind { DEV_OTHER = 0, DEV_VETH, DEV_MACVLAN, DEV_BRIDGE, DEV_VXLAN, DEV_LOOPBACK };

#ifndef __bpf__
#include <string.h>

/* The words `ip -d link` uses for a device's kind, and the report too. */
static inline const char *dev_kind_name(enum dev_kind k)
{
	switch (k) {
	case DEV_VETH: return "veth";
	case DEV_MACVLAN: return "macvlan";
	case DEV_BRIDGE: return "bridge";
	case DEV_VXLAN: return "vxlan";
	case DEV_LOOPBACK: return "loopback";
	default: return "other";
	}
}

static inline enum dev_kind dev_kind_parse(const char *word)
{
	for (enum dev_kind k = DEV_VETH; k < DEV_LOOPBACK; k++)
		if (!strcmp(word, dev_kind_name(k)))
			return k;
	return DEV_OTHER;
}

static inline const char *nf_hook_name(unsigned hook)
{
	static const char *const names[NF_HOOKS] = {
		"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING",
	};
	return names[hook % NF_HOOKS];
}

/* What runs between slot k and slot k+1 (see NF_SLOT_PRIORITIES). */
static inline const char *nf_segment_name(unsigned slot)
{
	static const char *const names[NF_SLOTS - 1] = {
		"probe-cost", "raw", "conntrack", "mangle", "nat-dst", "filter",
		"security+nat-src", "helpers",
	};
	return slot < NF_SLOTS - 1 ? names[slot] : "?";
}
#endif

struct dev_key {
	__u32 ns_index;
	__u32 ifindex;
};

struct dev_info {
	__u32 kind;		/* enum dev_kind */
};

/* What the kernel side learnt about a net_device (keyed by its address). */
struct dev_cached {
	__u32 ns_index;
	__u32 kind;
	__u32 ifindex;
	__u32 xdp_native;	/* device tags only: XDP runs in the driver (veth: NAPI, no backlog) */
};

/* Per device, per direction: what the tc probes counted. */
struct dev_counters {
	__u64 packets[2];	/* [0] ingress, [1] egress */
	__u64 bytes[2];
};

/* dev_stats' value: the counts, and the device as dev_cache knows it. */
struct dev_tc_value {
	struct dev_counters c;
	struct dev_cached dc;
};

/*
 * The packet key of hops that cannot see the kernel skb (XDP, and tc where
 * bpf_cast_to_kern_ctx is missing): the flow tuple and what tells one of the
 * flow's packets in flight from the next (TCP sequence and acknowledgement,
 * IP id and length). Kept only when a mode needs it (see flow_index_on).
 */
struct flow_key {
	__u32 saddr, daddr;	/* network order, as the packet has them now */
	__u16 sport, dport;
	__u32 seq, ack;		/* TCP; UDP: seq = its length and checksum, ack = 0 */
	__u16 ip_id, ip_len;
	__u8 proto;
	__u8 pad[3];
};

/* Which key the tc hops used (reported). */
enum tc_key { TC_KEY_AUTO = 0, TC_KEY_SKB, TC_KEY_FLOW };

/* The value patched into each per-device copy of the programs that cannot
 * read skb->dev (flow-keyed tc, XDP): stands for the device in dev_cache
 * and dev_stats. Kernel addresses have the top bits set, these never. */
#define DEV_TAG_MAGIC 0x4e5064657674ULL	/* "NPdevt": replaced at load */
#define DEV_TAG(ns, ifindex) (((__u64)(ns) << 32) | (__u32)(ifindex))

/* Live state of one traced packet, keyed by its kernel sk_buff address. */
struct pkt_state {
	__u64 first_ts, last_ts;
	__u64 nf_ns;		/* time between netfilter slots */
	__u32 last_hop;
	__u32 last_nf_hop;	/* the last netfilter slot passed */
	__u32 path_hash;
	__u32 last_softirq_cpu, last_softirq_gen;
	__u32 saddr, daddr;	/* as first seen: FIB lookups are matched against them */
	__u16 nhops, veth, macvlan, backlog, softirq_passes, nf_hooks;
	__u8 dir, redirected;
	__u16 fib_lookups;
	__u8 fib_at[FIB_AT_MAX];	/* hop indexes FIB lookups came after... */
	__u8 fib_cnt[FIB_AT_MAX];	/* ...and how many there */
	__u8 fib_at_n;
	__u8 pad2[3];
	struct flow_key fkey;	/* flow modes only: its flow_index key now */
	__u32 hops[MAX_PATH_HOPS];
};

/* A distinct path, keyed by the hash of its hop sequence and direction. */
struct path_key {
	__u32 hash;
	__u32 dir;
};

struct path_value {
	__u64 count;
	__u64 total_ns;		/* first hop to last, summed over packets */
	__u64 softirq_passes;	/* summed over packets */
	__u64 nf_ns;		/* summed over packets */
	__u64 fib_lookups;	/* summed over packets */
	__u32 nhops;
	__u32 truncated;	/* more hops than MAX_PATH_HOPS */
	__u16 veth, macvlan, backlog, nf_hooks;	/* per packet: fixed by the path */
	__u32 hops[MAX_PATH_HOPS];
	__u32 fib_after[MAX_PATH_HOPS];	/* FIB lookups after hop i, summed over packets */
};

/* Time from one hop to the next. */
struct hop_pair {
	__u32 from, to;
};

/* A CPU's direct-mapped slot for one hop pair's histogram (hop_slots): the
 * pair hashed to an index, no hash-map lookup; from == 0 is a free slot. */
#define HOP_PAIR_SLOTS 1024
#define HOP_PAIR_SLOT(from, to) (((((from) * 2654435761U) ^ (to)) * 2246822519U) >> 22)
struct hop_slot {
	struct hop_pair pair;
	struct lat_hist hist;
};

/* Time inside netfilter: per netns, hook and slot-to-slot segment. */
struct nf_key {
	__u32 ns_index;
	__u16 hook, slot;	/* the segment from slot to slot+1 */
};

struct nf_value {
	__u64 packets, ns;
};

/* nf_time's index for a (netns index, hook, slot) segment. */
#define NF_TIME_INDEX(ns, hook, slot) ((((ns) % MAX_NETNS) * NF_HOOKS + (hook)) * NF_SLOTS + (slot))
#define NF_TIME_ENTRIES (MAX_NETNS * NF_HOOKS * NF_SLOTS)

struct drop_key {
	__u32 reason;
	__u32 last_hop;		/* where the packet was last seen */
};

/* Global counters, per CPU, indexed by enum hops_counter. */
enum hops_counter {
	CNT_PKTS_TRACED,	/* packets followed from their first hop */
	CNT_PKTS_FINISHED,	/* ...and to their end (socket, drop or free) */
	CNT_PKTS_SKIPPED,	/* not sampled */
	CNT_STATE_FULL,		/* could not follow: packet map full */
	CNT_PATH_TRUNCATED,	/* more hops than MAX_PATH_HOPS */
	CNT_PATHS_FULL,		/* path map full */
	CNT_VANISHED,		/* freed with no tracepoint (e.g. coalesced into another skb) */
	CNT_PAIRS_FULL,		/* hop-pair map full */
	CNT_HOPS,		/* hops recorded */
	CNT_VETH,		/* veth crossings (backlog enqueues on a veth) */
	CNT_MACVLAN,		/* macvlan crossings */
	CNT_BACKLOG,		/* backlog enqueues */
	CNT_SOFTIRQ_PASSES,	/* NET_RX softirq invocations a traced packet ran in */
	CNT_NF_HOOKS,		/* netfilter hooks traversed */
	CNT_NF_NS,		/* ns spent between netfilter slots */
	CNT_DROPS,		/* traced packets dropped */
	CNT_CTX_SWITCHES,	/* sched_switch away from a task of the run's cgroup */
	CNT_CTX_INVOLUNTARY,	/* ...of which preemptions */
	CNT_WAKEUPS,		/* sched_wakeup of a task of the run's cgroup */
	CNT_NET_RX_SOFTIRQS,	/* NET_RX softirq entries on any CPU */
	CNT_NET_TX_SOFTIRQS,
	CNT_FIB_LOOKUPS,	/* FIB lookups made for followed packets */
	CNT_FIB_OTHER,		/* ...in the run's namespaces, for no followed packet */
	CNT_PENDING,		/* picked up at a hop without the skb (flow key) */
	CNT_ADOPTED,		/* ...and taken over by a later hop that sees the skb */
	CNT_INDEX_FULL,		/* flow index or pending map full */
	CNT_XDP_HOPS,		/* XDP hops recorded */
	CNT_DIR_PKTS,		/* + dir: finished packets per direction (3 slots) */
	CNT_DIR_PKTS_END = CNT_DIR_PKTS + DIR_MAX - 1,
	CNT_MAX,
};

/* FIB lookups (fib:fib_table_lookup) per namespace of the run. */
struct fib_ns_stats {
	__u64 lookups;		/* all, in this namespace */
	__u64 attributed;	/* ...made for a followed packet */
	__u64 reverse;		/* ...of which reverse-path checks (to its source) */
	__u64 failed;		/* err != 0 */
};

/* sock_ops aggregates for the run's cgroup. */
struct sockops_stats {
	__u64 rtt_samples, rtt_sum_us, rtt_min_us, rtt_max_us;
	__u64 retransmits, rto_expired;
	__u64 state_changes, established, closed;
};

#endif
