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
 *
 * Hops that cannot see the skb (XDP with --xdp; tc where the kernel lacks
 * bpf_cast_to_kern_ctx, or with --tc-key flow) find the packet by its flow
 * key through flow_index, kept only in those modes (flow_index_on). FIB
 * lookups (fib_table_lookup, no skb either) go to the followed packet whose
 * hop the CPU recorded last, when the addresses match.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hops.h"
#include "tp_twin.h"

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
/*
 * Flow modes (tc without bpf_cast_to_kern_ctx, or forced with --tc-key flow;
 * XDP): hops that cannot see the kernel skb find the packet through a flow
 * index (flow key -> skb address) that the hops which do see the skb keep
 * current. Off by default, so the default mode pays nothing for it.
 */
const volatile bool flow_index_on = false;
const volatile bool xdp_on = false;		/* --xdp (implies flow_index_on) */

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/*
 * A field of a kernel object: loaded directly where the program holds a
 * typed pointer (tp_btf, netfilter, tc with the kernel skb), which the
 * verifier turns into a plain load, else through bpf_probe_read_kernel
 * (raw_tp). `btf` is a constant at every call, so one of the two is
 * compiled away.
 */
#define KREAD(btf, p, ...) ((btf) ? (p)->__VA_ARGS__ : BPF_CORE_READ(p, __VA_ARGS__))

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

/* Keyed by net_device address or device tag, per CPU: what a tc probe
 * counts and what it must know of the device, in one lookup a packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct dev_tc_value);
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

/*
 * Flow modes only. LRU maps: an entry whose packet went where no probe saw
 * it leave (a stolen GRO head, a datapath's own drop) is evicted in time
 * rather than filling the map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);		/* resized by user space */
	__type(key, struct flow_key);
	__type(value, __u64);			/* kernel sk_buff address */
} flow_index SEC(".maps");

/*
 * Packets followed so far only by hops without the skb, keyed by their flow
 * key: picked up at a first hop that cannot see the skb (a pod's tc egress
 * comes before net_dev_queue), or handed over by XDP, after which the kernel
 * may copy the packet into a new skb (veth and generic XDP copy cloned or
 * short-headroom skbs). The next hop that sees the skb adopts the entry under
 * the skb's address. Keying the state by the flow key only until then, and
 * not for the whole path, keeps the skb as the key wherever it exists: it
 * cannot collide and needs no header read, while the flow key is unique only
 * while the packet is in flight and changes under NAT.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow_key);
	__type(value, struct pkt_state);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct path_key);
	__type(value, struct path_value);
} paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_NETNS);
	__type(key, __u32);			/* netns index */
	__type(value, struct fib_ns_stats);
} fib_stats SEC(".maps");

/*
 * Hop-to-hop histograms, per CPU (no atomics): first in a direct-mapped
 * array (an index from the pair, two slots tried), which costs no hash
 * lookup; the pairs that find both slots taken go to the hash map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOP_PAIR_SLOTS);
	__type(key, __u32);
	__type(value, struct hop_slot);
} hop_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct hop_pair);
	__type(value, struct lat_hist);
} hop_latency SEC(".maps");

/* Indexed by NF_TIME_INDEX: no hash lookup and, per CPU, no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NF_TIME_ENTRIES);
	__type(key, __u32);
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
	/*
	 * The followed packet this CPU last recorded a hop of: the FIB lookup
	 * tracepoint has no skb, so a lookup is that packet's if its
	 * destination (or, for the reverse-path check, its source) matches.
	 * Its lookups are counted here and folded into its state at its next
	 * hop, so the tracepoint needs no packet-map lookup.
	 */
	__u64 cur_pkt;
	__u32 cur_hop;
	__u32 cur_saddr, cur_daddr;
	__u32 fib_n;		/* lookups for cur_pkt since cur_hop */
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
struct pkt_state zero_pkt = {};

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += n;
}

/* The run's namespaces by inum's low bits (user space fills it; netns_map
 * holds those that share a slot): an array index, not a hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NETNS_SLOTS);
	__type(key, __u32);
	__type(value, struct netns_slot);
} netns_slots SEC(".maps");

static __always_inline __u32 ns_index_of_net(struct net *net, bool btf)
{
	__u32 inum = KREAD(btf, net, ns.inum), slot = inum & (NETNS_SLOTS - 1);
	struct netns_slot *sl = bpf_map_lookup_elem(&netns_slots, &slot);
	struct netns_info *ni;

	if (sl && sl->inum == inum)
		return sl->index;
	ni = bpf_map_lookup_elem(&netns_map, &inum);

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
	v.ns_index = ns_index_of_net(BPF_CORE_READ(dev, nd_net.net), false);
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

static __always_inline struct lat_hist *slot_hist(__u32 from, __u32 to)
{
	__u32 first = HOP_PAIR_SLOT(from, to);

	for (__u32 k = 0; k < 2; k++) {
		__u32 i = (first + k) & (HOP_PAIR_SLOTS - 1);
		struct hop_slot *sl = bpf_map_lookup_elem(&hop_slots, &i);

		if (!sl)
			return NULL;
		if (sl->pair.from == from && sl->pair.to == to)
			return &sl->hist;
		if (!sl->pair.from) {
			sl->pair.from = from;
			sl->pair.to = to;
			return &sl->hist;
		}
	}
	return NULL;
}

static __always_inline void latency_add(__u32 from, __u32 to, __u64 ns)
{
	struct hop_pair pair = { .from = from, .to = to };
	struct lat_hist *h = slot_hist(from, to);
	__u32 b;

	if (!h)
		h = bpf_map_lookup_elem(&hop_latency, &pair);
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

/* The first 12 bytes after the IPv4 header: ports, then TCP's sequence and
 * acknowledgement (UDP: length and checksum, then payload). */
struct l4_head {
	__u16 sport, dport;
	__u32 word1, word2;
};

static __always_inline bool ipv4_followable(const struct iphdr *iph)
{
	return iph->version == 4 && iph->ihl >= 5 &&
	       (iph->protocol == IPPROTO_TCP_ || iph->protocol == IPPROTO_UDP_);
}

static __always_inline void fill_key(struct flow_key *fk, const struct iphdr *iph,
				     const struct l4_head *l4)
{
	fk->saddr = iph->saddr;
	fk->daddr = iph->daddr;
	fk->sport = l4->sport;
	fk->dport = l4->dport;
	fk->seq = l4->word1;
	fk->ack = iph->protocol == IPPROTO_TCP_ ? l4->word2 : 0;
	fk->ip_id = iph->id;
	fk->ip_len = iph->tot_len;
	fk->proto = iph->protocol;
	fk->pad[0] = fk->pad[1] = fk->pad[2] = 0;
}

/* The packet's key from the kernel skb (its IPv4 and L4 headers). */
static __always_inline int key_from_skb(struct sk_buff *skb, struct flow_key *fk, bool btf)
{
	unsigned char *head = KREAD(btf, skb, head);
	__u16 nh = KREAD(btf, skb, network_header);
	struct l4_head l4 = {};
	struct iphdr iph;

	if (KREAD(btf, skb, protocol) != bpf_htons(ETH_P_IP))
		return -1;
	if (bpf_probe_read_kernel(&iph, sizeof(iph), head + nh) || !ipv4_followable(&iph))
		return -1;
	if (bpf_probe_read_kernel(&l4, sizeof(l4), head + nh + iph.ihl * 4))
		return -1;
	fill_key(fk, &iph, &l4);
	return 0;
}

/* Which way the workload's packet goes, and a hash that is the same for the
 * same packet at every hop (so a sampling decision holds along the path). */
static __always_inline void classify(const struct flow_key *fk, __u8 *dir, __u32 *flow_hash)
{
	*dir = DIR_OTHER;
	if (trace_cfg.server_port) {
		if (fk->dport == trace_cfg.server_port || fk->dport == trace_cfg.service_port)
			*dir = DIR_REQUEST;
		else if (fk->sport == trace_cfg.server_port || fk->sport == trace_cfg.service_port)
			*dir = DIR_RESPONSE;
	}
	*flow_hash = (fk->saddr ^ fk->daddr ^ ((__u32)fk->sport << 16 | fk->dport) ^ fk->seq ^
		      fk->ip_id) * 2654435761U;
}

static __always_inline bool key_eq(const struct flow_key *a, const struct flow_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4] &&
	       x[5] == y[5] && x[6] == y[6];
}
_Static_assert(sizeof(struct flow_key) == 7 * sizeof(__u32), "key_eq compares 7 words");

/* Flow modes: drops the packet's index entry (if it is still this packet's). */
static __always_inline void index_forget(__u64 key, struct pkt_state *st)
{
	__u64 *v;

	if (!st->fkey.proto)
		return;
	v = bpf_map_lookup_elem(&flow_index, &st->fkey);
	if (v && *v == key)
		bpf_map_delete_elem(&flow_index, &st->fkey);
	st->fkey.proto = 0;
}

/* Flow modes: the index follows the packet's tuple (kube-proxy's DNAT at
 * PREROUTING, SNAT at POSTROUTING, a datapath's BPF NAT). */
static __always_inline void index_set(__u64 key, struct pkt_state *st, const struct flow_key *fk)
{
	if (st->fkey.proto && key_eq(&st->fkey, fk))
		return;
	index_forget(key, st);
	st->fkey = *fk;
	if (bpf_map_update_elem(&flow_index, fk, &key, BPF_ANY))
		count(CNT_INDEX_FULL, 1);
}

/* The packet's path is complete: fold it into the aggregates and forget it. */
static __always_inline void finish(__u64 key, struct pkt_state *st)
{
	struct path_key pk = { .hash = st->path_hash, .dir = st->dir };
	struct path_value *pv = bpf_map_lookup_elem(&paths, &pk);
	__u64 total = st->last_ts - st->first_ts;
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
		if (st->fib_lookups) {
			__sync_fetch_and_add(&pv->fib_lookups, st->fib_lookups);
			for (int k = 0; k < FIB_AT_MAX; k++) {
				__u32 at = st->fib_at[k];

				if (k >= st->fib_at_n)
					break;
				if (at < MAX_PATH_HOPS)
					__sync_fetch_and_add(&pv->fib_after[at], st->fib_cnt[k]);
			}
		}
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
	if (flow_index_on)
		index_forget(key, st);
	bpf_map_delete_elem(&packets, &key);
}

/* The packet's entry, or NULL when nobody follows it. With start_at_output a
 * NULL means the caller can stop: the packet was not picked up at birth. */
static __always_inline struct pkt_state *lookup_pkt(struct sk_buff *skb)
{
	__u64 key = (__u64)skb;

	return bpf_map_lookup_elem(&packets, &key);
}

/* Appends a hop to a packet's state. `key` is its skb address (0 while it
 * is pending), left for the FIB tracepoint as this CPU's current packet. */
static __always_inline void append_hop(struct pkt_state *st, __u64 key, __u32 hop, __u64 now)
{
	struct softirq_cpu *sc;
	__u32 zero = 0, cpu;

	sc = bpf_map_lookup_elem(&softirq_state, &zero);
	/* FIB lookups since this packet's previous hop, made on this CPU. */
	if (sc && sc->fib_n) {
		__u32 n = st->fib_at_n;

		if (sc->cur_pkt == key && key && st->nhops) {
			st->fib_lookups += sc->fib_n;
			if (n < FIB_AT_MAX) {
				st->fib_at[n] = st->nhops - 1 < 255 ? st->nhops - 1 : 255;
				st->fib_cnt[n] = sc->fib_n < 255 ? sc->fib_n : 255;
				st->fib_at_n = n + 1;
			}
		}
		sc->fib_n = 0;
	}
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
	if (sc) {
		if (sc->in_net_rx &&
		    (st->last_softirq_gen != sc->gen || st->last_softirq_cpu != cpu)) {
			st->softirq_passes++;
			st->last_softirq_gen = sc->gen;
			st->last_softirq_cpu = cpu;
		}
		sc->cur_pkt = key;
		sc->cur_hop = hop;
		sc->cur_saddr = st->saddr;
		sc->cur_daddr = st->daddr;
	}
	st->last_hop = hop;
	st->last_ts = now;
	count(CNT_HOPS, 1);
}

/* A fresh state for a packet seen for the first time, in the scratch map. */
static __always_inline void init_state(struct pkt_state *st, const struct flow_key *fk, __u8 dir,
				       __u64 now)
{
	st->first_ts = now;
	st->last_ts = now;
	st->dir = dir;
	st->path_hash = 2166136261U ^ dir;
	st->saddr = fk->saddr;
	st->daddr = fk->daddr;
}

static __always_inline struct pkt_state *new_state(const struct flow_key *fk, __u8 dir, __u64 now)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);

	if (!s)
		return NULL;
	__builtin_memset(&s->pkt, 0, sizeof(s->pkt));
	s->pkt.first_ts = now;
	s->pkt.last_ts = now;
	s->pkt.dir = dir;
	s->pkt.path_hash = 2166136261U ^ dir;
	s->pkt.saddr = fk->saddr;
	s->pkt.daddr = fk->daddr;
	return &s->pkt;
}

/* Flow modes: a pending packet (see `pending`) is now seen with its skb. */
static __always_inline struct pkt_state *adopt(__u64 key, const struct flow_key *fk, __u64 now)
{
	struct pkt_state *p = bpf_map_lookup_elem(&pending, fk), *st;

	if (!p)
		return NULL;
	if (now - p->last_ts > STALE_NS) {
		count(CNT_VANISHED, 1);
		finish(0, p);
		bpf_map_delete_elem(&pending, fk);
		return NULL;
	}
	if (bpf_map_update_elem(&packets, &key, p, BPF_NOEXIST)) {
		count(CNT_STATE_FULL, 1);
		return NULL;
	}
	bpf_map_delete_elem(&pending, fk);
	st = bpf_map_lookup_elem(&packets, &key);
	if (!st)
		return NULL;
	st->fkey.proto = 0;
	index_set(key, st, fk);
	count(CNT_ADOPTED, 1);
	return st;
}

/*
 * Records one hop of a packet. `net` is the namespace the hop happened in
 * (for packets not yet followed, they are followed only inside the run's
 * namespaces). `st` is the packet's entry as the caller looked it up (NULL:
 * none), so a hop costs one lookup. Returns the packet's state, or NULL when
 * it is not followed.
 */
static __always_inline struct pkt_state *record_hop(struct sk_buff *skb, struct pkt_state *st,
						    __u32 kind, __u32 ns, __u32 where, bool origin,
						    bool btf)
{
	__u64 key = (__u64)skb, now = bpf_ktime_get_ns();
	struct flow_key fk;

	/*
	 * An entry that is old, or seen again where packets are born (the
	 * OUTPUT hook), belonged to an earlier packet at this address that was
	 * freed where no tracepoint fires (TCP coalescing a segment into the
	 * backlog's tail frees it with __kfree_skb).
	 */
	if (st && (origin || now - st->last_ts > STALE_NS)) {
		count(CNT_VANISHED, 1);
		finish(key, st);	/* its path as far as it was seen */
		st = NULL;
	}
	if (!st) {
		__u32 flow_hash;
		__u8 dir;

		if (!ns || kind == HOP_SOCKET || kind == HOP_DROP)
			return NULL;
		/* In flow modes a packet may also be pending, from a hop that
		 * could not see its skb: any hop may adopt it. */
		if (start_at_output && !origin && !flow_index_on)
			return NULL;
		/* Packets are only picked up where they are born (start_at_output),
		 * so the draw is made once per packet and can be random; it comes
		 * before the header reads, which sampled-out packets are spared. */
		if (start_at_output && origin && trace_cfg.sample_every > 1 &&
		    bpf_get_prandom_u32() % trace_cfg.sample_every) {
			count(CNT_PKTS_SKIPPED, 1);
			return NULL;
		}
		if (key_from_skb(skb, &fk, btf))
			return NULL;
		if (flow_index_on && !origin) {
			st = adopt(key, &fk, now);
			if (!st && start_at_output)
				return NULL;
		}
		if (!st) {
			classify(&fk, &dir, &flow_hash);
			/* Without an origin any hop may pick a packet up: the same
			 * packet must then get the same answer everywhere. */
			if (!start_at_output && trace_cfg.sample_every > 1 &&
			    flow_hash % trace_cfg.sample_every) {
				count(CNT_PKTS_SKIPPED, 1);
				return NULL;
			}
			/* Filled in place: no copy of a whole state through the stack. */
			if (bpf_map_update_elem(&packets, &key, &zero_pkt, BPF_NOEXIST)) {
				count(CNT_STATE_FULL, 1);
				return NULL;
			}
			st = bpf_map_lookup_elem(&packets, &key);
			if (!st)
				return NULL;
			init_state(st, &fk, dir, now);
			count(CNT_PKTS_TRACED, 1);
			if (flow_index_on)
				index_set(key, st, &fk);
		}
	} else if (flow_index_on && !key_from_skb(skb, &fk, btf)) {
		index_set(key, st, &fk);
	}
	append_hop(st, key, HOP_ENCODE(kind, ns, where), now);
	return st;
}

/* Moves a followed packet from its skb key to the pending map (flow modes),
 * for a hop that will see it in another skb. False if it could not. */
static __always_inline bool to_pending(__u64 key, struct pkt_state *st, const struct flow_key *fk)
{
	index_forget(key, st);
	if (bpf_map_update_elem(&pending, fk, st, BPF_ANY)) {
		count(CNT_INDEX_FULL, 1);
		return false;
	}
	bpf_map_delete_elem(&packets, &key);
	count(CNT_PENDING, 1);
	return true;
}

/*
 * A hop that sees only the packet's bytes (flow-keyed tc, XDP): the packet
 * is found through the flow index, else among the pending ones; a packet
 * neither follows is picked up as pending (only where no origin probe runs:
 * with one, every followed packet was indexed at birth). `crossing` adds a
 * veth or macvlan crossing. With `hand_over` the state goes back to pending:
 * the kernel may put the packet in a new skb after this hop (XDP).
 */
static __always_inline bool flow_hop(const struct flow_key *fk, __u32 kind, __u32 ns,
				     __u32 where, __u32 crossing, bool hand_over)
{
	__u64 now = bpf_ktime_get_ns(), key = 0, *addr;
	__u32 hop = HOP_ENCODE(kind, ns, where);
	struct pkt_state *st = NULL;
	bool in_packets = false;

	if (!ns)
		return false;
	addr = bpf_map_lookup_elem(&flow_index, fk);
	if (addr) {
		key = *addr;
		st = bpf_map_lookup_elem(&packets, &key);
		if (st && now - st->last_ts > STALE_NS) {
			count(CNT_VANISHED, 1);
			finish(key, st);
			st = NULL;
		}
		in_packets = st != NULL;
	}
	if (!st) {
		key = 0;
		st = bpf_map_lookup_elem(&pending, fk);
		if (st && now - st->last_ts > STALE_NS) {
			count(CNT_VANISHED, 1);
			finish(0, st);
			bpf_map_delete_elem(&pending, fk);
			st = NULL;
		}
	}
	if (!st) {
		struct pkt_state *fresh;
		__u32 flow_hash;
		__u8 dir;

		if (start_at_output)
			return false;
		classify(fk, &dir, &flow_hash);
		if (trace_cfg.sample_every > 1 && flow_hash % trace_cfg.sample_every) {
			count(CNT_PKTS_SKIPPED, 1);
			return false;
		}
		fresh = new_state(fk, dir, now);
		if (!fresh)
			return false;
		if (bpf_map_update_elem(&pending, fk, fresh, BPF_NOEXIST)) {
			count(CNT_INDEX_FULL, 1);
			return false;
		}
		st = bpf_map_lookup_elem(&pending, fk);
		if (!st)
			return false;
		count(CNT_PKTS_TRACED, 1);
		count(CNT_PENDING, 1);
	}
	append_hop(st, key, hop, now);
	if (crossing == DEV_VETH)
		st->veth++;
	else if (crossing == DEV_MACVLAN)
		st->macvlan++;
	if (hand_over && in_packets)
		to_pending(key, st, fk);	/* on failure it stays keyed by the old skb */
	return true;
}

/* ---- tc: every device of the topology, ingress and egress ---- */

/*
 * Counts a packet on a device and returns what is known of the device
 * (namespace, kind, ifindex; zero for a device outside the run's). `k`: the
 * net_device's address, or a device tag (see DEV_TAG_MAGIC), which user
 * space names in dev_cache beforehand.
 */
static __always_inline struct dev_cached device_of(__u64 k)
{
	struct dev_cached *tagged, none = {};

	if (k > 0xffffffffffffULL)
		return dev_lookup((struct net_device *)k);
	tagged = bpf_map_lookup_elem(&dev_cache, &k);
	return tagged ? *tagged : none;
}

static __always_inline struct dev_cached count_dev(__u64 k, int egress, __u32 len)
{
	struct dev_tc_value *v = bpf_map_lookup_elem(&dev_stats, &k);

	if (!v) {
		struct dev_tc_value fresh = { .dc = device_of(k) };

		bpf_map_update_elem(&dev_stats, &k, &fresh, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&dev_stats, &k);
		if (!v)
			return fresh.dc;
	}
	/* Each CPU's copy starts empty where another CPU made the entry. */
	if (!v->dc.ns_index)
		v->dc = device_of(k);
	v->c.packets[egress & 1]++;
	v->c.bytes[egress & 1] += len;
	return v->dc;
}

static __always_inline int tc_hop(struct __sk_buff *ctx, int egress)
{
	struct net_device *dev;
	struct dev_cached dc;
	struct sk_buff *skb;
	struct pkt_state *st;

	skb = bpf_cast_to_kern_ctx(ctx);
	dev = skb->dev;
	/* Every packet counts per device, followed or not (the cross-check
	 * with the device's own counters). */
	dc = count_dev((__u64)dev, egress, ctx->len);
	st = lookup_pkt(skb);
	if (!st && start_at_output && !flow_index_on)
		return TC_ACT_UNSPEC;
	st = record_hop(skb, st, egress ? HOP_TC_EGRESS : HOP_TC_INGRESS, dc.ns_index, ctx->ifindex,
			false, true);
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

/*
 * The device a flow-keyed tc or XDP program is attached to: these cannot
 * read skb->dev, so user space loads one copy of them per device with this
 * constant replaced by the device's tag (one 64-bit load to patch).
 */
static __always_inline __u64 dev_tag(void)
{
	__u64 tag;

	asm volatile("%0 = %1 ll" : "=r"(tag) : "i"(DEV_TAG_MAGIC));
	return tag;
}

#define ETH_HLEN_ 14

/* The packet's key from its bytes at tc (data starts at the Ethernet header). */
static __always_inline int key_from_tc(struct __sk_buff *ctx, struct flow_key *fk)
{
	struct l4_head l4 = {};
	struct iphdr iph;
	__u32 l4_off;

	if (ctx->protocol != bpf_htons(ETH_P_IP))
		return -1;
	if (bpf_skb_load_bytes(ctx, ETH_HLEN_, &iph, sizeof(iph)) || !ipv4_followable(&iph))
		return -1;
	l4_off = ETH_HLEN_ + iph.ihl * 4;
	if (iph.protocol == IPPROTO_TCP_ ? bpf_skb_load_bytes(ctx, l4_off, &l4, 12)
					 : bpf_skb_load_bytes(ctx, l4_off, &l4, 8))
		return -1;
	fill_key(fk, &iph, &l4);
	return 0;
}

/* tc where the kernel skb is out of reach: the flow index finds the packet. */
static __always_inline int tcf_hop(struct __sk_buff *ctx, int egress)
{
	struct dev_cached dc = count_dev(dev_tag(), egress, ctx->len);
	struct flow_key fk;

	if (!dc.ns_index || key_from_tc(ctx, &fk))
		return TC_ACT_UNSPEC;
	flow_hop(&fk, egress ? HOP_TC_EGRESS : HOP_TC_INGRESS, dc.ns_index, dc.ifindex,
		 dc.kind == DEV_MACVLAN ? DEV_MACVLAN : 0, false);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int hop_tcf_ingress(struct __sk_buff *ctx)
{
	return tcf_hop(ctx, 0);
}

SEC("tc")
int hop_tcf_egress(struct __sk_buff *ctx)
{
	return tcf_hop(ctx, 1);
}

/* ---- XDP (--xdp): every device, through the flow index ---- */

static __always_inline int key_from_xdp(struct xdp_md *ctx, struct flow_key *fk)
{
	struct l4_head l4 = {};
	struct iphdr iph;
	__u16 proto;
	__u32 l4_off;

	if (bpf_xdp_load_bytes(ctx, 12, &proto, sizeof(proto)) || proto != bpf_htons(ETH_P_IP))
		return -1;
	if (bpf_xdp_load_bytes(ctx, ETH_HLEN_, &iph, sizeof(iph)) || !ipv4_followable(&iph))
		return -1;
	l4_off = ETH_HLEN_ + iph.ihl * 4;
	if (iph.protocol == IPPROTO_TCP_ ? bpf_xdp_load_bytes(ctx, l4_off, &l4, 12)
					 : bpf_xdp_load_bytes(ctx, l4_off, &l4, 8))
		return -1;
	fill_key(fk, &iph, &l4);
	return 0;
}

/*
 * On a veth in driver mode XDP replaces the backlog enqueue (the peer's
 * transmit goes to the receiver's NAPI ring), so the crossing is counted
 * here. Every XDP hop hands the packet back to pending: veth and generic
 * XDP may copy it into a new skb, which the next hop then adopts.
 */
SEC("xdp")
int hop_xdp(struct xdp_md *ctx)
{
	__u64 tag = dev_tag();
	struct dev_cached *dc = bpf_map_lookup_elem(&dev_cache, &tag);
	struct flow_key fk;

	if (!dc || key_from_xdp(ctx, &fk))
		return XDP_PASS;
	if (flow_hop(&fk, HOP_XDP, dc->ns_index, dc->ifindex,
		     dc->kind == DEV_VETH && dc->xdp_native ? DEV_VETH : 0, true))
		count(CNT_XDP_HOPS, 1);
	return XDP_PASS;
}

/* ---- netfilter: 8 slots on each of the 5 hooks of each namespace ---- */

/*
 * A hook whose entry has no slot (PREROUTING right after a device's tc
 * ingress, POSTROUTING right after FORWARD's or OUTPUT's last slot: user
 * space leaves slot 0 off there) is timed from the packet's previous hop to
 * its last slot, which records the hop. Two clock reads: the hook's time
 * ends at the first, so the hop's own gap (record_hop's second read) is
 * only this run's bookkeeping, as the entry slot's is.
 */
static __always_inline void nf_exit_only_hop(struct sk_buff *skb, const struct nf_hook_state *state,
					     __u32 hook, struct pkt_state *st)
{
	__u64 since = st ? st->last_ts : 0, now = bpf_ktime_get_ns(), dt;
	struct nf_value *v;
	__u32 ns, idx;

	if (!st) {
		st = lookup_pkt(skb);
		if (!st && start_at_output && !flow_index_on)
			return;
	}
	ns = ns_index_of_net(state->net, true);
	st = record_hop(skb, st, HOP_NF, ns, NF_WHERE(hook, 0), hook == NF_INET_LOCAL_OUT, true);
	if (!st)
		return;
	st->nf_hooks++;
	st->last_nf_hop = HOP_ENCODE(HOP_NF, ns, NF_WHERE(hook, NF_SLOTS - 1));
	if (since && st->nhops > 1) {
		dt = now - since;
		idx = NF_TIME_INDEX(ns, hook, 0);
		v = bpf_map_lookup_elem(&nf_time, &idx);
		if (v) {
			v->packets++;
			v->ns += dt;
		}
		st->nf_ns += dt;
	}
	if (flow_index_on) {
		struct flow_key fk;

		if (!key_from_skb(skb, &fk, true))
			index_set((__u64)skb, st, &fk);
	}
}

static __always_inline int nf_hop(struct bpf_nf_ctx *ctx, __u32 slot)
{
	struct sk_buff *skb = ctx->skb;
	const struct nf_hook_state *state = ctx->state;
	__u32 hook = state->hook;
	__u32 ns, prev, idx;
	__u64 key = (__u64)skb, now, dt;
	struct pkt_state *st;
	struct nf_value *v;

	if (hook >= NF_HOOKS)
		return NF_ACCEPT;
	if (slot == 0) {
		st = lookup_pkt(skb);
		if (!st && start_at_output && !flow_index_on && hook != NF_INET_LOCAL_OUT)
			return NF_ACCEPT;
		ns = ns_index_of_net(state->net, true);
		st = record_hop(skb, st, HOP_NF, ns, NF_WHERE(hook, 0), hook == NF_INET_LOCAL_OUT, true);
		if (st) {
			st->nf_hooks++;
			st->last_nf_hop = st->last_hop;
		}
		return NF_ACCEPT;
	}
	/* Later slots only time the tables between them: not path hops. */
	st = bpf_map_lookup_elem(&packets, &key);
	prev = st ? st->last_nf_hop : 0;
	if (!st || HOP_KIND(prev) != HOP_NF || NF_WHERE_HOOK(HOP_WHERE(prev)) != hook) {
		if (slot == NF_SLOTS - 1)
			nf_exit_only_hop(skb, state, hook, st);
		return NF_ACCEPT;
	}
	ns = HOP_NS(prev);
	now = bpf_ktime_get_ns();
	dt = now - st->last_ts;
	idx = NF_TIME_INDEX(ns, hook, NF_WHERE_SLOT(HOP_WHERE(prev)));
	v = bpf_map_lookup_elem(&nf_time, &idx);
	if (v) {
		v->packets++;
		v->ns += dt;
	}
	st->nf_ns += dt;
	st->last_nf_hop = HOP_ENCODE(HOP_NF, ns, NF_WHERE(hook, slot));
	/* The last slot comes after every NAT table of the hook. */
	if (flow_index_on && slot == NF_SLOTS - 1) {
		struct flow_key fk;

		if (!key_from_skb(skb, &fk, true))
			index_set(key, st, &fk);
	}
	/* One clock read a run (they are not cheap): the next segment holds
	 * this run's remainder, the tables and the next slot's entry, as the
	 * calibration segment (slot 0's remainder, slot 1's entry) does. */
	st->last_ts = now;
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

	if (state->hook == NF_INET_LOCAL_OUT)
		record_hop(ctx->skb, lookup_pkt(ctx->skb), HOP_SEND, ns_index_of_net(state->net, true),
			   0, true, true);
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

static __always_inline void on_dev_queue(struct sk_buff *skb, bool btf)
{
	struct pkt_state *st = lookup_pkt(skb);
	struct net_device *dev;

	if (!st && start_at_output && !flow_index_on)
		return;
	dev = KREAD(btf, skb, dev);
	record_hop(skb, st, HOP_DEV_QUEUE, ns_index_of_dev(dev), KREAD(btf, dev, ifindex), false, btf);
}

static __always_inline void on_dev_xmit(struct sk_buff *skb, struct net_device *dev, bool btf)
{
	struct pkt_state *st = lookup_pkt(skb);

	/* Only followed packets: after xmit a veth's skb already belongs to the peer. */
	if (st)
		record_hop(skb, st, HOP_DEV_XMIT, ns_index_of_dev(dev), KREAD(btf, dev, ifindex),
			   false, btf);
}

static __always_inline void on_netif_rx(struct sk_buff *skb, bool btf)
{
	struct net_device *dev;
	struct dev_cached dc;
	struct pkt_state *st = lookup_pkt(skb);
	__u32 kind;

	if (!st && start_at_output && !flow_index_on)
		return;
	dev = KREAD(btf, skb, dev);
	dc = dev_lookup(dev);
	st = record_hop(skb, st, HOP_BACKLOG, dc.ns_index, dc.ifindex, false, btf);
	if (!st)
		return;
	st->backlog++;
	kind = dc.kind;
	if (kind == DEV_VETH)
		st->veth++;
	else if (kind == DEV_MACVLAN)
		st->macvlan++;
}

static __always_inline void on_receive(struct sk_buff *skb, __u32 kind, bool btf)
{
	struct pkt_state *st = lookup_pkt(skb);
	struct dev_cached dc;

	if (!st && start_at_output && !flow_index_on)
		return;
	dc = dev_lookup(KREAD(btf, skb, dev));
	record_hop(skb, st, kind, dc.ns_index, dc.ifindex, false, btf);
}

/*
 * The receiving socket's smoothed RTT at each followed segment it takes in:
 * the RTT figures without a sock_ops run for every ACK (its RTT callback
 * stays off).
 */
static __always_inline void rtt_sample(struct sock *sk)
{
	__u64 rtt_us = BPF_CORE_READ((struct tcp_sock *)sk, srtt_us) >> 3;

	if (!rtt_us)
		return;
	__sync_fetch_and_add(&sockops_totals.rtt_samples, 1);
	__sync_fetch_and_add(&sockops_totals.rtt_sum_us, rtt_us);
	if (!sockops_totals.rtt_min_us || rtt_us < sockops_totals.rtt_min_us)
		sockops_totals.rtt_min_us = rtt_us;
	if (rtt_us > sockops_totals.rtt_max_us)
		sockops_totals.rtt_max_us = rtt_us;
}

static __always_inline void on_tcp_probe(struct sock *sk, struct sk_buff *skb, bool btf)
{
	struct pkt_state *st = lookup_pkt(skb);

	if (!st)
		return;
	rtt_sample(sk);
	st = record_hop(skb, st, HOP_SOCKET, HOP_NS(st->last_hop),
			bpf_ntohs(KREAD(btf, sk, __sk_common.skc_dport)), false, btf);
	if (st)
		finish((__u64)skb, st);
}

static __always_inline void on_kfree(struct sk_buff *skb, __u32 reason, bool btf)
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
		st = record_hop(skb, st, HOP_DROP, HOP_NS(st->last_hop), reason, false, btf);
		if (!st)
			return;
	}
	finish((__u64)skb, st);
}

static __always_inline void on_consume(struct sk_buff *skb)
{
	struct pkt_state *st = lookup_pkt(skb);
	__u32 last;

	if (!st)
		return;
	/*
	 * With XDP, a veth (after the peer's transmit) and generic XDP (after
	 * netif_receive_skb) copy a cloned or short-headroom skb into a new one
	 * and consume the old one before the program runs: the packet goes on,
	 * so it waits in pending for the XDP hop and the new skb's next hop.
	 */
	last = HOP_KIND(st->last_hop);
	if (xdp_on && st->fkey.proto && (last == HOP_DEV_XMIT || last == HOP_RECEIVE)) {
		struct flow_key fk = st->fkey;

		if (to_pending((__u64)skb, st, &fk))
			return;
	}
	finish((__u64)skb, st);
}

#define TP_BOTH(tp, call_btf, call_raw, ...) TP_TWIN_READS(btf_, raw_, tp, call_btf, call_raw, __VA_ARGS__)

TP_BOTH(net_dev_queue, on_dev_queue(skb, true), on_dev_queue(skb, false), struct sk_buff *skb)
TP_BOTH(netif_rx, on_netif_rx(skb, true), on_netif_rx(skb, false), struct sk_buff *skb)
TP_BOTH(netif_receive_skb, on_receive(skb, HOP_RECEIVE, true), on_receive(skb, HOP_RECEIVE, false),
	struct sk_buff *skb)
TP_BOTH(napi_gro_receive_entry, on_receive(skb, HOP_GRO, true), on_receive(skb, HOP_GRO, false),
	struct sk_buff *skb)
TP_TWIN(btf_, raw_, consume_skb, on_consume(skb), struct sk_buff *skb)
TP_BOTH(net_dev_xmit, on_dev_xmit(skb, dev, true), on_dev_xmit(skb, dev, false),
	struct sk_buff *skb, int rc, struct net_device *dev)
TP_BOTH(kfree_skb, on_kfree(skb, reason, true), on_kfree(skb, reason, false),
	struct sk_buff *skb, void *location, int reason)
TP_BOTH(tcp_probe, on_tcp_probe(sk, skb, true), on_tcp_probe(sk, skb, false), struct sock *sk,
	struct sk_buff *skb)

/* ---- FIB lookups: fib:fib_table_lookup, which has no skb ---- */

/*
 * A lookup is the followed packet's whose hop this CPU recorded last, if
 * the lookup's destination is the packet's (read from the skb now, so after
 * any DNAT). Routing runs on the CPU that carries the packet, between two of
 * its hops (ip_rcv's input route, bpf_fib_lookup in a tc program).
 */
static __always_inline void on_fib_lookup(__u32 dst, const struct fib_nh_common *nhc, int err)
{
	struct fib_ns_stats *fs;
	struct softirq_cpu *sc;
	bool mine = false, reverse = false;
	__u32 zero = 0, ns;

	sc = bpf_map_lookup_elem(&softirq_state, &zero);
	if (!sc)
		return;
	/* Its destination: the route; its source: the reverse-path check
	 * (fib_validate_source, with rp_filter on the input device). The
	 * addresses as first seen match unless NAT changed them: then the
	 * skb's own are read. */
	if (sc->cur_pkt) {
		if (dst == sc->cur_daddr) {
			mine = true;
		} else if (dst == sc->cur_saddr) {
			mine = reverse = true;
		} else {
			struct sk_buff *skb = (struct sk_buff *)sc->cur_pkt;
			unsigned char *head = BPF_CORE_READ(skb, head);
			__u16 nh = BPF_CORE_READ(skb, network_header);
			__u32 addrs[2] = {};

			bpf_probe_read_kernel(addrs, sizeof(addrs),
					      head + nh + __builtin_offsetof(struct iphdr, saddr));
			mine = dst == addrs[1] || dst == addrs[0];
			reverse = dst == addrs[0] && dst != addrs[1];
		}
	}
	if (mine) {
		/* Routing happens in the namespace the packet is in. */
		ns = HOP_NS(sc->cur_hop);
		sc->fib_n++;
		count(CNT_FIB_LOOKUPS, 1);
	} else {
		/* Not a followed packet's: counted only inside the run's namespaces. */
		struct net_device *dev = nhc ? BPF_CORE_READ(nhc, nhc_dev) : NULL;

		ns = dev ? ns_index_of_dev(dev) : 0;
		if (!ns)
			return;
		count(CNT_FIB_OTHER, 1);
	}
	if (!ns || ns >= MAX_NETNS)
		return;
	fs = bpf_map_lookup_elem(&fib_stats, &ns);
	if (!fs)
		return;
	fs->lookups++;
	if (mine)
		fs->attributed++;
	if (reverse)
		fs->reverse++;
	if (err)
		fs->failed++;
}

TP_TWIN_READS(btf_, raw_, fib_table_lookup, on_fib_lookup(flp->daddr, nhc, err),
	      on_fib_lookup(BPF_CORE_READ(flp, daddr), nhc, err),
	      u32 tb_id, const struct flowi4 *flp, const struct fib_nh_common *nhc, int err)

/* ---- softirqs and context switches ---- */

static __always_inline void on_softirq(__u32 vec, bool entry)
{
	struct softirq_cpu *sc;
	__u32 zero = 0;

	if (vec != NET_RX_SOFTIRQ_)
		return;
	sc = bpf_map_lookup_elem(&softirq_state, &zero);
	if (!sc)
		return;
	if (entry) {
		sc->gen++;
		sc->in_net_rx = 1;
	} else {
		sc->in_net_rx = 0;
	}
}

TP_TWIN(btf_, raw_, softirq_entry, on_softirq(vec, true), unsigned int vec)
TP_TWIN(btf_, raw_, softirq_exit, on_softirq(vec, false), unsigned int vec)


static __always_inline bool in_run_cgroup(struct task_struct *t, bool btf)
{
	if (!run_cgroup_id)
		return false;
	if (btf)
		return t->cgroups->dfl_cgrp->kn->id == run_cgroup_id;
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id) == run_cgroup_id;
}

/* sched_switch fires before the switch: the task leaving is the current one,
 * whose cgroup a helper gives without reading the task. */
static __always_inline void on_switch(bool preempt)
{
	if (!run_cgroup_id || bpf_get_current_cgroup_id() != run_cgroup_id)
		return;
	count(CNT_CTX_SWITCHES, 1);
	if (preempt)
		count(CNT_CTX_INVOLUNTARY, 1);
}

TP_TWIN(btf_, raw_, sched_switch, on_switch(preempt),
	bool preempt, struct task_struct *prev, struct task_struct *next)

static __always_inline void on_wakeup(struct task_struct *p, bool btf)
{
	if (in_run_cgroup(p, btf))
		count(CNT_WAKEUPS, 1);
}

TP_BOTH(sched_wakeup, on_wakeup(p, true), on_wakeup(p, false), struct task_struct *p)

/* ---- sock_ops on the run's cgroup: retransmits, RTOs, state changes ---- */

#define TCP_ESTABLISHED_ 1
#define TCP_CLOSE_ 7

SEC("sockops")
int hop_sockops(struct bpf_sock_ops *ops)
{
	switch (ops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* No RTT callback: a run for every ACK (tcp_probe samples srtt). */
		bpf_sock_ops_cb_flags_set(ops, BPF_SOCK_OPS_RETRANS_CB_FLAG |
					       BPF_SOCK_OPS_STATE_CB_FLAG |
					       BPF_SOCK_OPS_RTO_CB_FLAG);
		__sync_fetch_and_add(&sockops_totals.established, 1);
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
