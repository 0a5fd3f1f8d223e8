/*
 * Reading the hop tracer's maps into a snapshot (hops_snapshot.h), with
 * what the report needs of the tracer itself, so that the report is a
 * function of the snapshot alone.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "lib/percpu.h"
#include "trace/hops_internal.h"
#include "hops.skel.h"

static void read_fib(struct hops_tracer *h, struct hops_snapshot *s)
{
	for (__u32 i = 0; i < MAX_NETNS; i++)
		percpu_lookup_sum_u64(bpf_map__fd(h->skel->maps.fib_stats), &i, &s->fib[i],
				      sizeof(s->fib[i]));
}

/* The netfilter segments any packet crossed, summed over CPUs. */
static void read_nf(struct hops_tracer *h, struct hops_snapshot *s)
{
	int fd = bpf_map__fd(h->skel->maps.nf_time);

	s->nr_nf = 0;
	s->nf = NULL;
	for (__u32 ns = 0; ns < MAX_NETNS; ns++) {
		for (__u32 hook = 0; hook < NF_HOOKS; hook++) {
			for (__u32 slot = 0; slot < NF_SLOTS; slot++) {
				__u32 idx = NF_TIME_INDEX(ns, hook, slot);
				struct nf_value v = {};
				struct hops_nf_segment *bigger;

				if (percpu_lookup_sum_u64(fd, &idx, &v, sizeof(v)) || !v.packets)
					continue;
				bigger = realloc(s->nf, (s->nr_nf + 1) * sizeof(*s->nf));
				if (!bigger)
					return;
				s->nf = bigger;
				s->nf[s->nr_nf].key = (struct nf_key){ .ns_index = ns, .hook = hook,
									 .slot = slot };
				s->nf[s->nr_nf++].val = v;
			}
		}
	}
}

void hops_snapshot_set_switches(struct hops_snapshot *snap, uint64_t voluntary,
				uint64_t involuntary)
{
	snap->counters[CNT_CTX_SWITCHES] = voluntary + involuntary;
	snap->counters[CNT_CTX_INVOLUNTARY] = involuntary;
	/* A voluntary switch is a sleep, which a wakeup ends. */
	snap->counters[CNT_WAKEUPS] = voluntary;
}

/* NET_RX and NET_TX softirqs run so far, summed over CPUs (/proc/softirqs):
 * the kernel counts them anyway, so no probe needs to. */
void hops_read_softirqs(uint64_t out[2])
{
	static const char *const rows[2] = { "NET_RX:", "NET_TX:" };
	char line[4096];
	FILE *f = fopen("/proc/softirqs", "re");

	out[0] = out[1] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ')
			p++;
		for (int r = 0; r < 2; r++) {
			if (strncmp(p, rows[r], strlen(rows[r])))
				continue;
			p += strlen(rows[r]);
			for (unsigned long long v; (v = strtoull(p, &end, 10)), end != p; p = end)
				out[r] += v;
		}
	}
	fclose(f);
}

static void read_counters(struct hops_tracer *h, __u64 *out)
{
	for (__u32 i = 0; i < CNT_MAX; i++)
		percpu_lookup_sum_u64(bpf_map__fd(h->skel->maps.counters), &i, &out[i],
				      sizeof(out[i]));
}

/* Reads every entry of a hash map into a growing array of {key, value}. */
static int read_hash(int fd, size_t key_size, size_t val_size, void **array)
{
	size_t entry = key_size + val_size, cap = 64;
	char *buf = malloc(cap * entry), key[64], next[64];
	int n = 0;
	void *prev = NULL;

	while (buf && bpf_map_get_next_key(fd, prev, next) == 0) {
		if ((size_t)n == cap) {
			char *bigger = realloc(buf, (cap *= 2) * entry);

			if (!bigger)
				break;
			buf = bigger;
		}
		memcpy(buf + n * entry, next, key_size);
		if (bpf_map_lookup_elem(fd, next, buf + n * entry + key_size) == 0)
			n++;
		memcpy(key, next, key_size);
		prev = key;
	}
	*array = buf;
	return n;
}

/* dev_stats is keyed by net_device address; dev_cache names the address.
 * Fills out[i] for tracer device i. */
static void read_devices(struct hops_tracer *h, struct dev_counters *out)
{
	int stats_fd = bpf_map__fd(h->skel->maps.dev_stats);
	__u64 key, next, *prev = NULL;

	while (bpf_map_get_next_key(stats_fd, prev, &next) == 0) {
		struct dev_cached dc;
		struct dev_tc_value v = {};
		struct dev_counters sum;

		key = next;
		prev = &key;
		/* Only the counters add up over CPUs; the name is dev_cache's. */
		if (bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.dev_cache), &key, &dc) ||
		    percpu_lookup_sum_u64(stats_fd, &key, &v, sizeof(v)))
			continue;
		sum = v.c;
		for (int i = 0; i < h->nr_devs; i++) {
			if (h->ns[h->devs[i].ns].index != dc.ns_index ||
			    h->devs[i].ifindex != (int)dc.ifindex)
				continue;
			for (int dir = 0; dir < 2; dir++) {
				out[i].packets[dir] += sum.packets[dir];
				out[i].bytes[dir] += sum.bytes[dir];
			}
		}
	}
}

static void add_hist(void *total, const void *one_cpu)
{
	lat_hist_add(total, one_cpu);
}

/* The pair's entry in the array, added to the end when it is new. */
static struct hops_pair *pair_entry(struct hops_pair **array, int *n, int *cap,
				    const struct hop_pair *key)
{
	for (int i = 0; i < *n; i++)
		if ((*array)[i].key.from == key->from && (*array)[i].key.to == key->to)
			return &(*array)[i];
	if (*n == *cap) {
		struct hops_pair *bigger = realloc(*array, (*cap = *cap ? *cap * 2 : 64) *
							    sizeof(**array));

		if (!bigger)
			return NULL;
		*array = bigger;
	}
	memset(&(*array)[*n], 0, sizeof(**array));
	(*array)[*n].key = *key;
	return &(*array)[(*n)++];
}

/* hop_slots: each CPU's slots hold pairs of their own; merged by pair. */
static void read_hop_slots(int fd, struct hops_pair **array, int *n, int *cap)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (sizeof(struct hop_slot) + 7) & ~(size_t)7;
	char *values = ncpu > 0 ? calloc(ncpu, stride) : NULL;

	for (__u32 i = 0; values && i < HOP_PAIR_SLOTS; i++) {
		if (bpf_map_lookup_elem(fd, &i, values))
			continue;
		for (int c = 0; c < ncpu; c++) {
			const struct hop_slot *sl = (const void *)(values + c * stride);
			struct hops_pair *e;

			if (!sl->pair.from || !sl->hist.count)
				continue;
			e = pair_entry(array, n, cap, &sl->pair);
			if (e)
				lat_hist_add(&e->val, &sl->hist);
		}
	}
	free(values);
}

/* hop_latency is per CPU: each entry comes back once per CPU, summed here. */
static int read_percpu_hists(int slots_fd, int fd, struct hops_pair **array)
{
	struct hops_pair *out = NULL, *e;
	int n = 0, cap = 0;
	struct hop_pair key, next, *prev = NULL;

	read_hop_slots(slots_fd, &out, &n, &cap);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct lat_hist sum = {};

		key = next;
		prev = &key;
		if (percpu_lookup_sum(fd, &key, &sum, sizeof(sum), add_hist))
			continue;
		e = pair_entry(&out, &n, &cap, &key);
		if (e)
			lat_hist_add(&e->val, &sum);
	}
	*array = out;
	return n;
}

/* The kernel's own name for a drop reason, read from its BTF (the enum
 * grows with every release, so no table is compiled in). */
static const char *drop_reason_name(__u32 reason, char *buf, size_t len)
{
	static struct btf *btf;
	const struct btf_type *t;
	int id;

	snprintf(buf, len, "reason %u", reason);
	if (!btf)
		btf = btf__load_vmlinux_btf();
	if (!btf)
		return buf;
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0)
		return buf;
	t = btf__type_by_id(btf, id);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;
		const char *name = btf__name_by_offset(btf, e->name_off);

		if ((__u32)e->val != reason || !name)
			continue;
		if (!strncmp(name, "SKB_DROP_REASON_", 16))
			name += 16;
		snprintf(buf, len, "%s", name);
		break;
	}
	return buf;
}

static void read_drops(struct hops_tracer *h, struct hops_snapshot *s)
{
	struct { struct drop_key key; __u64 count; } *raw;
	int n = read_hash(bpf_map__fd(h->skel->maps.drops), sizeof(struct drop_key),
			  sizeof(__u64), (void **)&raw);

	s->drops = calloc(n ?: 1, sizeof(*s->drops));
	for (int i = 0; s->drops && i < n; i++) {
		s->drops[i].key = raw[i].key;
		s->drops[i].count = raw[i].count;
		drop_reason_name(raw[i].key.reason, s->drops[i].reason, sizeof(s->drops[i].reason));
	}
	s->nr_drops = s->drops ? n : 0;
	free(raw);
}

/* What the report needs of the tracer itself, copied so it may be closed. */
static void copy_setup(struct hops_tracer *h, struct hops_snapshot *s)
{
	s->duty = h->target.duty;
	s->sample_every = h->target.sample_every;
	s->server_port = h->target.server_port;
	s->all_paths = h->target.all_paths;
	s->use_tc = h->use_tc;
	s->tc_flow = h->tc_flow;
	s->use_xdp = h->use_xdp;
	s->use_nf = h->use_nf;
	s->nf_slots = h->nf_slots;
	s->fib_on = h->target.fib;
	s->softirq_on = h->target.softirq;
	s->switches_given = h->target.switches_given;
	s->nr_ns = h->nr_ns;
	for (int n = 0; n < h->nr_ns; n++)
		snprintf(s->ns_names[n], sizeof(s->ns_names[n]), "%s", h->ns[n].name);
	s->nr_devs = h->nr_devs;
	for (int i = 0; i < h->nr_devs; i++) {
		const struct traced_dev *d = &h->devs[i];
		struct hops_device *sd = &s->devs[i];

		sd->ns_index = h->ns[d->ns].index;
		sd->ifindex = d->ifindex;
		memcpy(sd->name, d->name, sizeof(sd->name));
		sd->kind = d->kind;
		sd->wire = d->wire;
		sd->traced = d->attached[0] && d->attached[1];
		sd->xdp = d->xdp_mode == XDP_FLAGS_DRV_MODE ? HOPS_XDP_DRIVER :
			  d->xdp_mode == XDP_FLAGS_SKB_MODE ? HOPS_XDP_GENERIC : HOPS_XDP_OFF;
	}
	s->nr_notes = h->nr_notes;
	memcpy(s->notes, h->notes, sizeof(s->notes));
}

struct hops_snapshot *hops_snapshot(struct hops_tracer *h)
{
	struct hops_snapshot *s = calloc(1, sizeof(*s));
	struct dev_counters *devs;

	if (!s)
		return NULL;
	/* The duty cycle attaches and detaches tc filters meanwhile. */
	pthread_mutex_lock(&h->lock);
	copy_setup(h, s);
	pthread_mutex_unlock(&h->lock);
	read_counters(h, s->counters);
	{
		uint64_t softirqs[2];

		hops_read_softirqs(softirqs);
		s->counters[CNT_NET_RX_SOFTIRQS] = softirqs[0] - h->softirq_base[0];
		s->counters[CNT_NET_TX_SOFTIRQS] = softirqs[1] - h->softirq_base[1];
	}
	s->sockops = h->skel->bss->sockops_totals;
	devs = calloc(h->nr_devs ?: 1, sizeof(*devs));
	if (devs) {
		read_devices(h, devs);
		for (int i = 0; i < h->nr_devs; i++)
			s->devs[i].counters = devs[i];
		free(devs);
	}
	{
		uint64_t *rx = calloc(h->nr_devs ?: 1, sizeof(*rx));

		if (rx) {
			hops_read_kernel_rx(h, rx);
			for (int i = 0; i < h->nr_devs; i++)
				s->devs[i].kernel_rx = rx[i] >= h->devs[i].kernel_rx_base ?
						       rx[i] - h->devs[i].kernel_rx_base : 0;
			free(rx);
		}
	}
	s->nr_paths = read_hash(bpf_map__fd(h->skel->maps.paths), sizeof(struct path_key),
				sizeof(struct path_value), (void **)&s->paths);
	s->nr_pairs = read_percpu_hists(bpf_map__fd(h->skel->maps.hop_slots),
					bpf_map__fd(h->skel->maps.hop_latency), &s->pairs);
	read_nf(h, s);
	read_drops(h, s);
	read_fib(h, s);
	hops_cost_read(h, &s->cost);
	return s;
}

void hops_snapshot_free(struct hops_snapshot *s)
{
	if (!s)
		return;
	free(s->paths);
	free(s->pairs);
	free(s->nf);
	free(s->drops);
	free(s);
}

int hops_device_packets(struct hops_tracer *h, const char *netns, const char *ifname,
			uint64_t *ingress, uint64_t *egress)
{
	for (int i = 0; i < h->nr_devs; i++) {
		struct dev_counters *devs;

		if (strcmp(h->ns[h->devs[i].ns].name, netns) || strcmp(h->devs[i].name, ifname))
			continue;
		devs = calloc(h->nr_devs, sizeof(*devs));
		if (devs)
			read_devices(h, devs);
		*ingress = devs ? devs[i].packets[0] : 0;
		*egress = devs ? devs[i].packets[1] : 0;
		free(devs);
		return 0;
	}
	return -ENOENT;
}

int hops_report(struct hops_tracer *h, double seconds, uint64_t transactions)
{
	struct hops_snapshot *snap = hops_snapshot(h);

	if (!snap)
		return -ENOMEM;
	hops_print(snap, seconds, transactions);
	hops_snapshot_free(snap);
	return 0;
}

