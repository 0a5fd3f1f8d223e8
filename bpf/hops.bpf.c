// SPDX-License-Identifier: GPL-2.0
/*
 * The hop tracer: follows each packet of the run's namespaces through tc
 * hooks, netfilter hook slots and the packet-path tracepoints, keyed by its
 * kernel sk_buff, and aggregates in maps: hop-to-hop latency histograms, the
 * distinct hop paths, netfilter time per hook and table, drops, backlog
 * enqueues, softirq passes and context switches. Nothing per packet goes to
 * user space.
 *
 * The per-packet entry is removed when the packet reaches a TCP socket, is
 * dropped or is freed; the slab reuses sk_buff addresses at once, so an entry
 * older than STALE_NS is treated as a different packet (counted).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hops.h"

#define TC_ACT_UNSPEC (-1)
#define NF_ACCEPT 1
#define ETH_P_IP 0x0800
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define NET_TX_SOFTIRQ_ 2
#define NET_RX_SOFTIRQ_ 3
#define STALE_NS (200ULL * 1000 * 1000)

const volatile struct hops_config trace_cfg = { .sample_every = 1 };
/*
 * With netfilter probes on, packets are followed from where they are born
 * (a namespace's OUTPUT hook), so every other probe can drop a packet it is
 * not following after one lookup: sampled-out packets cost almost nothing.
 */
const volatile bool start_at_output = false;
const volatile __u64 run_cgroup_id = 0;

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_NETNS);
	__type(key, __u32);			/* netns inode */
	__type(value, struct netns_info);
} netns_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct dev_key);
	__type(value, struct dev_info);
} devices SEC(".maps");

/* Keyed by net_device address (dev_cache maps it to namespace and ifindex):
 * one lookup for every packet a tc probe sees. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct dev_counters);
} dev_stats SEC(".maps");

/* net_device address -> its namespace index and kind: one lookup per hop
 * instead of three kernel reads and two lookups. The run's devices outlive
 * the tracer, so an address is not reused while it runs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct dev_cached);
} dev_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);		/* resized by user space */
	__type(key, __u64);			/* kernel sk_buff address */
	__type(value, struct pkt_state);
} packets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct path_key);
	__type(value, struct path_value);
} paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);	/* no atomics on the hot path */
	__uint(max_entries, 4096);
	__type(key, struct hop_pair);
	__type(value, struct lat_hist);
} hop_latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_NETNS * NF_HOOKS * NF_SLOTS);
	__type(key, struct nf_key);
	__type(value, struct nf_value);
} nf_time SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct drop_key);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct softirq_cpu {
	__u32 gen;
	__u32 in_net_rx;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct softirq_cpu);
} softirq_state SEC(".maps");

/* Scratch space: these structs are too big for the 512-byte BPF stack. */
struct scratch {
	struct pkt_state pkt;
	struct path_value path;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

struct sockops_stats sockops_totals = {};
struct lat_hist zero_hist = {};

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += n;
}

static __always_inline __u32 ns_index_of_net(struct net *net)
{
	__u32 inum = BPF_CORE_READ(net, ns.inum);
	struct netns_info *ni = bpf_map_lookup_elem(&netns_map, &inum);

	return ni ? ni->index : 0;
}

static __always_inline __u32 dev_kind(__u32 ns, __u32 ifindex);

static __always_inline struct dev_cached dev_lookup(struct net_device *dev)
{
	__u64 key = (__u64)dev;
	struct dev_cached *c, v = {};

	if (!dev)
		return v;
	c = bpf_map_lookup_elem(&dev_cache, &key);
	if (c)
		return *c;
	v.ns_index = ns_index_of_net(BPF_CORE_READ(dev, nd_net.net));
	v.ifindex = BPF_CORE_READ(dev, ifindex);
	v.kind = v.ns_index ? dev_kind(v.ns_index, v.ifindex) : DEV_OTHER;
	bpf_map_update_elem(&dev_cache, &key, &v, BPF_ANY);
	return v;
}

static __always_inline __u32 ns_index_of_dev(struct net_device *dev)
{
	return dev_lookup(dev).ns_index;
}

static __always_inline __u32 dev_kind(__u32 ns, __u32 ifindex)
{
	struct dev_key k = { .ns_index = ns, .ifindex = ifindex };
	struct dev_info *d = bpf_map_lookup_elem(&devices, &k);

	return d ? d->kind : DEV_OTHER;
}

/* Index of the log-linear bucket holding ns (4 sub-buckets per power of 2). */
static __always_inline __u32 lat_bucket(__u64 v)
{
	__u32 msb = 0, idx;
	__u64 x = v;

	if (v < 4)
		return v;
	if (x >> 32) { msb += 32; x >>= 32; }
	if (x >> 16) { msb += 16; x >>= 16; }
	if (x >> 8) { msb += 8; x >>= 8; }
	if (x >> 4) { msb += 4; x >>= 4; }
	if (x >> 2) { msb += 2; x >>= 2; }
	if (x >> 1) { msb += 1; }
	idx = ((msb - 1) << LAT_SUB_BITS) + ((v >> (msb - LAT_SUB_BITS)) & 3);
	return idx < LAT_BUCKETS ? idx : LAT_BUCKETS - 1;
}

static __always_inline void latency_add(__u32 from, __u32 to, __u64 ns)
{
	struct hop_pair pair = { .from = from, .to = to };
	struct lat_hist *h = bpf_map_lookup_elem(&hop_latency, &pair);
	__u32 b;

	if (!h) {
		if (bpf_map_update_elem(&hop_latency, &pair, &zero_hist, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&hop_latency, &pair)) {
			count(CNT_PAIRS_FULL, 1);
			return;
		}
		h = bpf_map_lookup_elem(&hop_latency, &pair);
		if (!h)
			return;
	}
	h->count++;
	h->sum_ns += ns;
	b = lat_bucket(ns);
	if (b < LAT_BUCKETS)
		h->buckets[b]++;
}

/* Which way the workload's packet goes, from its IPv4 and L4 headers. */
static __always_inline int classify(struct sk_buff *skb, __u8 *dir, __u32 *flow_hash)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	struct iphdr iph;
	__u16 ports[2];
	__u32 seq = 0;

	if (BPF_CORE_READ(skb, protocol) != bpf_htons(ETH_P_IP))
		return -1;
	if (bpf_probe_read_kernel(&iph, sizeof(iph), head + nh) || iph.version != 4)
		return -1;
	if (iph.protocol != IPPROTO_TCP_ && iph.protocol != IPPROTO_UDP_)
		return -1;
	if (bpf_probe_read_kernel(ports, sizeof(ports), head + nh + iph.ihl * 4))
		return -1;
	if (iph.protocol == IPPROTO_TCP_)
		bpf_probe_read_kernel(&seq, sizeof(seq), head + nh + iph.ihl * 4 + 4);
	*dir = DIR_OTHER;
	if (trace_cfg.server_port) {
		if (ports[1] == trace_cfg.server_port || ports[1] == trace_cfg.service_port)
			*dir = DIR_REQUEST;
		else if (ports[0] == trace_cfg.server_port || ports[0] == trace_cfg.service_port)
			*dir = DIR_RESPONSE;
	}
	/* Same packet, same hash, at every hop: the sampling decision holds. */
	*flow_hash = (iph.saddr ^ iph.daddr ^ ((__u32)ports[0] << 16 | ports[1]) ^ seq ^
		      iph.id) * 2654435761U;
	return 0;
}

/* The packet's path is complete: fold it into the aggregates and forget it. */
static __always_inline void finish(struct sk_buff *skb, struct pkt_state *st)
{
	struct path_key pk = { .hash = st->path_hash, .dir = st->dir };
	struct path_value *pv = bpf_map_lookup_elem(&paths, &pk);
	__u64 key = (__u64)skb, total = st->last_ts - st->first_ts;
	__u32 zero = 0;

	if (!pv) {
		struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);

		if (!s)
			goto forget;
		__builtin_memset(&s->path, 0, sizeof(s->path));
		s->path.nhops = st->nhops < MAX_PATH_HOPS ? st->nhops : MAX_PATH_HOPS;
		s->path.truncated = st->nhops > MAX_PATH_HOPS;
		for (int i = 0; i < MAX_PATH_HOPS; i++)
			s->path.hops[i] = st->hops[i];
		s->path.veth = st->veth;
		s->path.macvlan = st->macvlan;
		s->path.backlog = st->backlog;
		s->path.nf_hooks = st->nf_hooks;
		if (bpf_map_update_elem(&paths, &pk, &s->path, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&paths, &pk))
			count(CNT_PATHS_FULL, 1);
		pv = bpf_map_lookup_elem(&paths, &pk);
	}
	if (pv) {
		__sync_fetch_and_add(&pv->count, 1);
		__sync_fetch_and_add(&pv->total_ns, total);
		__sync_fetch_and_add(&pv->softirq_passes, st->softirq_passes);
		__sync_fetch_and_add(&pv->nf_ns, st->nf_ns);
	}
	if (st->nhops > MAX_PATH_HOPS)
		count(CNT_PATH_TRUNCATED, 1);
	count(CNT_PKTS_FINISHED, 1);
	count(CNT_DIR_PKTS + (st->dir < DIR_MAX ? st->dir : DIR_OTHER), 1);
	count(CNT_VETH, st->veth);
	count(CNT_MACVLAN, st->macvlan);
	count(CNT_BACKLOG, st->backlog);
	count(CNT_SOFTIRQ_PASSES, st->softirq_passes);
	count(CNT_NF_HOOKS, st->nf_hooks);
	count(CNT_NF_NS, st->nf_ns);
forget:
	bpf_map_delete_elem(&packets, &key);
}

/* The packet's entry, or NULL when nobody follows it. With start_at_output a
 * NULL means the caller can stop: the packet was not picked up at birth. */
static __always_inline struct pkt_state *lookup_pkt(struct sk_buff *skb)
{
	__u64 key = (__u64)skb;

	return bpf_map_lookup_elem(&packets, &key);
}

/*
 * Records one hop of a packet. `net` is the namespace the hop happened in
 * (for packets not yet followed, they are followed only inside the run's
 * namespaces). `st` is the packet's entry as the caller looked it up (NULL:
 * none), so a hop costs one lookup. Returns the packet's state, or NULL when
 * it is not followed.
 */
static __always_inline struct pkt_state *record_hop(struct sk_buff *skb, struct pkt_state *st,
						    __u32 kind, __u32 ns, __u32 where, bool origin)
{
	__u64 key = (__u64)skb, now = bpf_ktime_get_ns();
	struct softirq_cpu *sc;
	__u32 hop, zero = 0, cpu;

	/*
	 * An entry that is old, or seen again where packets are born (the
	 * OUTPUT hook), belonged to an earlier packet at this address that was
	 * freed where no tracepoint fires (TCP coalescing a segment into the
	 * backlog's tail frees it with __kfree_skb).
	 */
	if (st && (origin || now - st->last_ts > STALE_NS)) {
		count(CNT_VANISHED, 1);
		finish(skb, st);	/* its path as far as it was seen */
		st = NULL;
	}
	if (!st) {
		struct scratch *s;
		__u32 flow_hash;
		__u8 dir;

		if (!ns || kind == HOP_SOCKET || kind == HOP_DROP || (start_at_output && !origin))
			return NULL;
		/* Packets are only picked up where they are born (start_at_output),
		 * so the draw is made once per packet and can be random; it comes
		 * before the header reads, which sampled-out packets are spared. */
		if (start_at_output && trace_cfg.sample_every > 1 &&
		    bpf_get_prandom_u32() % trace_cfg.sample_every) {
			count(CNT_PKTS_SKIPPED, 1);
			return NULL;
		}
		if (classify(skb, &dir, &flow_hash))
			return NULL;
		/* Without an origin any hop may pick a packet up: the same packet
		 * must then get the same answer everywhere, so hash its headers. */
		if (!start_at_output && trace_cfg.sample_every > 1 &&
		    flow_hash % trace_cfg.sample_every) {
			count(CNT_PKTS_SKIPPED, 1);
			return NULL;
		}
		s = bpf_map_lookup_elem(&scratch_map, &zero);
		if (!s)
			return NULL;
		__builtin_memset(&s->pkt, 0, sizeof(s->pkt));
		s->pkt.first_ts = now;
		s->pkt.last_ts = now;
		s->pkt.dir = dir;
		s->pkt.path_hash = 2166136261U ^ dir;
		if (bpf_map_update_elem(&packets, &key, &s->pkt, BPF_NOEXIST)) {
			count(CNT_STATE_FULL, 1);
			return NULL;
		}
		st = bpf_map_lookup_elem(&packets, &key);
		if (!st)
			return NULL;
		count(CNT_PKTS_TRACED, 1);
	}

	hop = HOP_ENCODE(kind, ns, where);
	if (st->nhops)
		latency_add(st->last_hop, hop, now - st->last_ts);
	{
		__u32 i = st->nhops;

		if (i < MAX_PATH_HOPS)
			st->hops[i] = hop;
	}
	st->nhops++;
	st->path_hash = (st->path_hash ^ hop) * 16777619U;

	cpu = bpf_get_smp_processor_id();
	sc = bpf_map_lookup_elem(&softirq_state, &zero);
	if (sc && sc->in_net_rx &&
	    (st->last_softirq_gen != sc->gen || st->last_softirq_cpu != cpu)) {
		st->softirq_passes++;
		st->last_softirq_gen = sc->gen;
		st->last_softirq_cpu = cpu;
	}
	st->last_hop = hop;
	st->last_ts = now;
	count(CNT_HOPS, 1);
	return st;
}


/* ---- tc: every device of the topology, ingress and egress ---- */

static __always_inline void count_dev(struct net_device *dev, int egress, __u32 len)
{
	__u64 k = (__u64)dev;
	struct dev_counters *c = bpf_map_lookup_elem(&dev_stats, &k);

	if (!c) {
		struct dev_counters zero = {};

		/* First packet on this device: make sure user space can name it. */
		dev_lookup(dev);
		bpf_map_update_elem(&dev_stats, &k, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&dev_stats, &k);
		if (!c)
			return;
	}
	c->packets[egress & 1]++;
	c->bytes[egress & 1] += len;
}

static __always_inline int tc_hop(struct __sk_buff *ctx, int egress)
{
	struct net_device *dev;
	struct dev_cached dc;
	struct sk_buff *skb;
	struct pkt_state *st;
	__u32 ns;

	skb = bpf_cast_to_kern_ctx(ctx);
	dev = skb->dev;
	/* Every packet counts per device, followed or not (the cross-check
	 * with the device's own counters). */
	count_dev(dev, egress, ctx->len);
	st = lookup_pkt(skb);
	if (!st && start_at_output)
		return TC_ACT_UNSPEC;
	dc = dev_lookup(dev);
	ns = dc.ns_index;
	st = record_hop(skb, st, egress ? HOP_TC_EGRESS : HOP_TC_INGRESS, ns, ctx->ifindex, false);
	if (st && dc.kind == DEV_MACVLAN)
		st->macvlan++;
	/* Let the next filter (a datapath's own program) decide. */
	return TC_ACT_UNSPEC;
}

SEC("tc")
int hop_tc_ingress(struct __sk_buff *ctx)
{
	return tc_hop(ctx, 0);
}

SEC("tc")
int hop_tc_egress(struct __sk_buff *ctx)
{
	return tc_hop(ctx, 1);
}

/* ---- netfilter: 8 slots on each of the 5 hooks of each namespace ---- */

static __always_inline int nf_hop(struct bpf_nf_ctx *ctx, __u32 slot)
{
	struct sk_buff *skb = ctx->skb;
	const struct nf_hook_state *state = ctx->state;
	__u32 hook = BPF_CORE_READ(state, hook);
	__u32 ns, prev;
	__u64 key = (__u64)skb, now, dt;
	struct pkt_state *st;
	struct nf_value *v;
	struct nf_key k;

	if (hook >= NF_HOOKS)
		return NF_ACCEPT;
	if (slot == 0) {
		st = lookup_pkt(skb);
		if (!st && start_at_output && hook != NF_INET_LOCAL_OUT)
			return NF_ACCEPT;
		ns = ns_index_of_net(BPF_CORE_READ(state, net));
		st = record_hop(skb, st, HOP_NF, ns, NF_WHERE(hook, 0), hook == NF_INET_LOCAL_OUT);
		if (st) {
			st->nf_hooks++;
			st->last_nf_hop = st->last_hop;
			/* Time the tables from here, after this program's own work. */
			st->last_ts = bpf_ktime_get_ns();
		}
		return NF_ACCEPT;
	}
	/* Later slots only time the tables between them: not path hops. */
	st = bpf_map_lookup_elem(&packets, &key);
	if (!st)
		return NF_ACCEPT;
	prev = st->last_nf_hop;
	ns = HOP_NS(prev);
	if (HOP_KIND(prev) != HOP_NF || NF_WHERE_HOOK(HOP_WHERE(prev)) != hook)
		return NF_ACCEPT;
	now = bpf_ktime_get_ns();
	dt = now - st->last_ts;
	k.ns_index = ns;
	k.hook = hook;
	k.slot = NF_WHERE_SLOT(HOP_WHERE(prev));
	v = bpf_map_lookup_elem(&nf_time, &k);
	if (!v) {
		struct nf_value zero = {};

		bpf_map_update_elem(&nf_time, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&nf_time, &k);
	}
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->ns, dt);
	}
	st->nf_ns += dt;
	st->last_nf_hop = HOP_ENCODE(HOP_NF, ns, NF_WHERE(hook, slot));
	/* Stamped last, so the next segment holds only the tables and the next
	 * slot's entry; the calibration segment measures exactly that entry. */
	st->last_ts = bpf_ktime_get_ns();
	return NF_ACCEPT;
}

/*
 * In a namespace without netfilter rules only this runs, at OUTPUT: it marks
 * where a packet is born (so every other probe can ignore packets it does
 * not follow) without counting as a netfilter hook the kernel would run.
 */
SEC("netfilter")
int hop_origin(struct bpf_nf_ctx *ctx)
{
	const struct nf_hook_state *state = ctx->state;

	if (BPF_CORE_READ(state, hook) == NF_INET_LOCAL_OUT)
		record_hop(ctx->skb, lookup_pkt(ctx->skb), HOP_SEND,
			   ns_index_of_net(BPF_CORE_READ(state, net)), 0, true);
	return NF_ACCEPT;
}

#define NF_SLOT_PROG(n)							\
	SEC("netfilter")						\
	int hop_nf_slot##n(struct bpf_nf_ctx *ctx) { return nf_hop(ctx, n); }
NF_SLOT_PROG(0)
NF_SLOT_PROG(1)
NF_SLOT_PROG(2)
NF_SLOT_PROG(3)
NF_SLOT_PROG(4)
NF_SLOT_PROG(5)
NF_SLOT_PROG(6)
NF_SLOT_PROG(7)
NF_SLOT_PROG(8)

/* ---- packet-path tracepoints: tp_btf, with raw_tp twins for older kernels ---- */

static __always_inline void on_dev_queue(struct sk_buff *skb)
{
	struct pkt_state *st = lookup_pkt(skb);
	struct net_device *dev;

	if (!st && start_at_output)
		return;
	dev = BPF_CORE_READ(skb, dev);
	record_hop(skb, st, HOP_DEV_QUEUE, ns_index_of_dev(dev), BPF_CORE_READ(dev, ifindex), false);
}

static __always_inline void on_dev_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct pkt_state *st = lookup_pkt(skb);

	/* Only followed packets: after xmit a veth's skb already belongs to the peer. */
	if (st)
		record_hop(skb, st, HOP_DEV_XMIT, ns_index_of_dev(dev), BPF_CORE_READ(dev, ifindex),
			   false);
}

static __always_inline void on_netif_rx(struct sk_buff *skb)
{
	struct net_device *dev;
	struct dev_cached dc;
	struct pkt_state *st = lookup_pkt(skb);
	__u32 kind;

	if (!st && start_at_output)
		return;
	dev = BPF_CORE_READ(skb, dev);
	dc = dev_lookup(dev);
	st = record_hop(skb, st, HOP_BACKLOG, dc.ns_index, BPF_CORE_READ(dev, ifindex), false);
	if (!st)
		return;
	st->backlog++;
	kind = dc.kind;
	if (kind == DEV_VETH)
		st->veth++;
	else if (kind == DEV_MACVLAN)
		st->macvlan++;
}

static __always_inline void on_receive(struct sk_buff *skb, __u32 kind)
{
	struct pkt_state *st = lookup_pkt(skb);
	struct net_device *dev;

	if (!st && start_at_output)
		return;
	dev = BPF_CORE_READ(skb, dev);
	record_hop(skb, st, kind, ns_index_of_dev(dev), BPF_CORE_READ(dev, ifindex), false);
}

static __always_inline void on_tcp_probe(struct sock *sk, struct sk_buff *skb)
{
	struct pkt_state *st = lookup_pkt(skb);

	if (!st)
		return;
	st = record_hop(skb, st, HOP_SOCKET, HOP_NS(st->last_hop),
			bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)), false);
	if (st)
		finish(skb, st);
}

static __always_inline void on_kfree(struct sk_buff *skb, __u32 reason)
{
	struct pkt_state *st = lookup_pkt(skb);
	struct drop_key dk;
	__u64 one = 1, *v;

	if (!st)
		return;
	/* SKB_DROP_REASON_NOT_SPECIFIED(2) and up are drops; 0/1 mean consumed. */
	if (reason > 1) {
		dk.reason = reason;
		dk.last_hop = st->last_hop;
		v = bpf_map_lookup_elem(&drops, &dk);
		if (v)
			__sync_fetch_and_add(v, 1);
		else
			bpf_map_update_elem(&drops, &dk, &one, BPF_NOEXIST);
		count(CNT_DROPS, 1);
		st = record_hop(skb, st, HOP_DROP, HOP_NS(st->last_hop), reason, false);
		if (!st)
			return;
	}
	finish(skb, st);
}

static __always_inline void on_consume(struct sk_buff *skb)
{
	struct pkt_state *st = lookup_pkt(skb);

	if (st)
		finish(skb, st);
}

#define SKB_TRACEPOINT(tp, handler)						\
	SEC("tp_btf/" #tp)							\
	int BPF_PROG(btf_##tp, struct sk_buff *skb) { handler; return 0; }	\
	SEC("raw_tp/" #tp)							\
	int BPF_PROG(raw_##tp, struct sk_buff *skb) { handler; return 0; }

SKB_TRACEPOINT(net_dev_queue, on_dev_queue(skb))
SKB_TRACEPOINT(netif_rx, on_netif_rx(skb))
SKB_TRACEPOINT(netif_receive_skb, on_receive(skb, HOP_RECEIVE))
SKB_TRACEPOINT(napi_gro_receive_entry, on_receive(skb, HOP_GRO))
SKB_TRACEPOINT(consume_skb, on_consume(skb))

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(btf_net_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev)
{
	on_dev_xmit(skb, dev);
	return 0;
}

SEC("raw_tp/net_dev_xmit")
int BPF_PROG(raw_net_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev)
{
	on_dev_xmit(skb, dev);
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(btf_kfree_skb, struct sk_buff *skb, void *location, int reason)
{
	on_kfree(skb, reason);
	return 0;
}

SEC("raw_tp/kfree_skb")
int BPF_PROG(raw_kfree_skb, struct sk_buff *skb, void *location, int reason)
{
	on_kfree(skb, reason);
	return 0;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(btf_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	on_tcp_probe(sk, skb);
	return 0;
}

SEC("raw_tp/tcp_probe")
int BPF_PROG(raw_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	on_tcp_probe(sk, skb);
	return 0;
}

/* ---- softirqs and context switches ---- */

static __always_inline void on_softirq(__u32 vec, bool entry)
{
	struct softirq_cpu *sc;
	__u32 zero = 0;

	if (vec == NET_TX_SOFTIRQ_ && entry)
		count(CNT_NET_TX_SOFTIRQS, 1);
	if (vec != NET_RX_SOFTIRQ_)
		return;
	sc = bpf_map_lookup_elem(&softirq_state, &zero);
	if (!sc)
		return;
	if (entry) {
		sc->gen++;
		sc->in_net_rx = 1;
		count(CNT_NET_RX_SOFTIRQS, 1);
	} else {
		sc->in_net_rx = 0;
	}
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(btf_softirq_entry, unsigned int vec) { on_softirq(vec, true); return 0; }
SEC("tp_btf/softirq_exit")
int BPF_PROG(btf_softirq_exit, unsigned int vec) { on_softirq(vec, false); return 0; }
SEC("raw_tp/softirq_entry")
int BPF_PROG(raw_softirq_entry, unsigned int vec) { on_softirq(vec, true); return 0; }
SEC("raw_tp/softirq_exit")
int BPF_PROG(raw_softirq_exit, unsigned int vec) { on_softirq(vec, false); return 0; }

static __always_inline void on_softirq_raise(__u32 vec)
{
	if (vec == NET_RX_SOFTIRQ_)
		count(CNT_NET_RX_RAISED, 1);
}

SEC("tp_btf/softirq_raise")
int BPF_PROG(btf_softirq_raise, unsigned int vec) { on_softirq_raise(vec); return 0; }
SEC("raw_tp/softirq_raise")
int BPF_PROG(raw_softirq_raise, unsigned int vec) { on_softirq_raise(vec); return 0; }

static __always_inline bool in_run_cgroup(struct task_struct *t)
{
	return run_cgroup_id && BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id) == run_cgroup_id;
}

static __always_inline void on_switch(bool preempt, struct task_struct *prev)
{
	if (!in_run_cgroup(prev))
		return;
	count(CNT_CTX_SWITCHES, 1);
	if (preempt)
		count(CNT_CTX_INVOLUNTARY, 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(preempt, prev);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(preempt, prev);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(btf_sched_wakeup, struct task_struct *p)
{
	if (in_run_cgroup(p))
		count(CNT_WAKEUPS, 1);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(raw_sched_wakeup, struct task_struct *p)
{
	if (in_run_cgroup(p))
		count(CNT_WAKEUPS, 1);
	return 0;
}

/* ---- sock_ops on the run's cgroup: RTT, retransmits, state changes ---- */

#define TCP_ESTABLISHED_ 1
#define TCP_CLOSE_ 7

SEC("sockops")
int hop_sockops(struct bpf_sock_ops *ops)
{
	__u64 rtt_us;

	switch (ops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		bpf_sock_ops_cb_flags_set(ops, BPF_SOCK_OPS_RTT_CB_FLAG |
					       BPF_SOCK_OPS_RETRANS_CB_FLAG |
					       BPF_SOCK_OPS_STATE_CB_FLAG |
					       BPF_SOCK_OPS_RTO_CB_FLAG);
		__sync_fetch_and_add(&sockops_totals.established, 1);
		break;
	case BPF_SOCK_OPS_RTT_CB:
		rtt_us = ops->srtt_us >> 3;
		__sync_fetch_and_add(&sockops_totals.rtt_samples, 1);
		__sync_fetch_and_add(&sockops_totals.rtt_sum_us, rtt_us);
		if (!sockops_totals.rtt_min_us || rtt_us < sockops_totals.rtt_min_us)
			sockops_totals.rtt_min_us = rtt_us;
		if (rtt_us > sockops_totals.rtt_max_us)
			sockops_totals.rtt_max_us = rtt_us;
		break;
	case BPF_SOCK_OPS_RETRANS_CB:
		__sync_fetch_and_add(&sockops_totals.retransmits, 1);
		break;
	case BPF_SOCK_OPS_RTO_CB:
		__sync_fetch_and_add(&sockops_totals.rto_expired, 1);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		__sync_fetch_and_add(&sockops_totals.state_changes, 1);
		if (ops->args[1] == TCP_CLOSE_)
			__sync_fetch_and_add(&sockops_totals.closed, 1);
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
