/*
 * The hop report: a pure function of a snapshot (hops_snapshot.h), in text
 * or JSON through the one print layer. What happened at each hop is told
 * from its kind and, for tc ingress, from the hop that came next.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "trace/hops.h"
#include "trace/hops_snapshot.h"
#include "lib/output.h"

/* Slot 0's segment is the calibration (one slot entered, no table) only
 * while slot 1 is attached; otherwise it holds the tables after slot 0. */
static bool calibrating(const struct hops_snapshot *s)
{
	return s->nf_slots & (1u << NF_CALIBRATION_NEXT);
}

/* The first segment that holds tables. */
static int first_table_segment(const struct hops_snapshot *s)
{
	return calibrating(s) ? NF_CALIBRATION_NEXT : 0;
}

/* The tables between attached slot k and the next attached one. */
static const char *segment_label(const struct hops_snapshot *s, int slot, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int k = slot; k < NF_SLOTS - 1; k++) {
		if (k > slot && (s->nf_slots & (1u << k)))
			break;
		if (k == NF_CALIBRATION_SLOT && !calibrating(s))
			continue;	/* "probe-cost" names the calibration only */
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? "+" : "",
				 nf_segment_name(k));
	}
	return buf;
}

static const struct lat_hist *find_pair(const struct hops_snapshot *s, __u32 from, __u32 to)
{
	for (int i = 0; i < s->nr_pairs; i++)
		if (s->pairs[i].key.from == from && s->pairs[i].key.to == to)
			return &s->pairs[i].val;
	return NULL;
}

/* What entering one netfilter slot costs: the calibration window's figure,
 * else the mean gap between slots 0 and 1 (adjacent priorities with no
 * table between them) while both are attached. */
static double nf_probe_cost_ns(const struct hops_snapshot *s)
{
	__u64 packets = 0, ns = 0;

	if (s->cost.nf_slot_ns > 0)
		return s->cost.nf_slot_ns;
	if (!calibrating(s))
		return 0;
	for (int i = 0; i < s->nr_nf; i++) {
		if (s->nf[i].key.slot != NF_CALIBRATION_SLOT)
			continue;
		packets += s->nf[i].val.packets;
		ns += s->nf[i].val.ns;
	}
	return packets ? (double)ns / packets : 0;
}

/* Mean time in one segment of a hook, with the probe's own cost taken out. */
static double nf_segment_ns(const struct nf_value *v, double cost)
{
	double mean = v->packets ? (double)v->ns / v->packets : 0;

	return mean > cost ? mean - cost : 0;
}

/* Mean time netfilter itself spent in one traversal of (ns, hook). */
static double nf_inside_ns(const struct hops_snapshot *s, __u32 ns, __u32 hook, double cost)
{
	double sum = 0;

	for (int i = 0; i < s->nr_nf; i++) {
		const struct nf_key *k = &s->nf[i].key;

		if (k->ns_index == ns && k->hook == hook && k->slot >= first_table_segment(s))
			sum += nf_segment_ns(&s->nf[i].val, cost);
	}
	return sum;
}

static const struct hops_device *find_dev(const struct hops_snapshot *s, __u32 ns_index,
					  int ifindex)
{
	for (int i = 0; i < s->nr_devs; i++)
		if (s->devs[i].ns_index == ns_index && s->devs[i].ifindex == ifindex)
			return &s->devs[i];
	return NULL;
}

/* Crossings of the wire veth a real NIC would not make: its backlog enqueues,
 * and with --xdp its receives through NAPI in driver mode. */
static bool wire_backlog(const struct hops_device *d)
{
	return d->wire;
}

static bool wire_xdp(const struct hops_device *d)
{
	return d->wire && d->kind == DEV_VETH && d->xdp == HOPS_XDP_DRIVER;
}

static unsigned path_count_on(const struct hops_snapshot *s, const struct path_value *p,
			      enum hop_kind kind, bool (*counts)(const struct hops_device *))
{
	unsigned n = 0;

	for (__u32 i = 0; i < p->nhops && i < MAX_PATH_HOPS; i++) {
		const struct hops_device *d;

		if (HOP_KIND(p->hops[i]) != kind)
			continue;
		d = find_dev(s, HOP_NS(p->hops[i]), HOP_WHERE(p->hops[i]));
		n += d && counts(d);
	}
	return n;
}

static unsigned path_wire_backlog(const struct hops_snapshot *s, const struct path_value *p)
{
	return path_count_on(s, p, HOP_BACKLOG, wire_backlog);
}

static unsigned path_wire_xdp(const struct hops_snapshot *s, const struct path_value *p)
{
	return path_count_on(s, p, HOP_XDP, wire_xdp);
}

/* Netfilter's own time for one packet on a path: its hooks' table times. */
static double path_nf_ns(const struct hops_snapshot *s, const struct path_value *p, double cost)
{
	double sum = 0;

	for (__u32 i = 0; i < p->nhops && i < MAX_PATH_HOPS; i++)
		if (HOP_KIND(p->hops[i]) == HOP_NF)
			sum += nf_inside_ns(s, HOP_NS(p->hops[i]), NF_WHERE_HOOK(HOP_WHERE(p->hops[i])),
					    cost);
	return sum;
}

/* The same, averaged over every finished packet. */
static double mean_nf_ns(const struct hops_snapshot *s, double cost)
{
	double sum = 0;
	__u64 packets = 0;

	for (int i = 0; i < s->nr_paths; i++) {
		sum += s->paths[i].val.count * path_nf_ns(s, &s->paths[i].val, cost);
		packets += s->paths[i].val.count;
	}
	return packets ? sum / packets : NAN;
}

/*
 * What the tracer's probes add to the time from hop i-1 to hop i of a path,
 * in ns: the part of each end's probe run after and before its clock read
 * (half a run each), the FIB lookups' runs between them, and an even share of the
 * runs that record no hop (softirq, scheduler, sock_ops: where they fall is
 * not known). 0 when the probes' cost was not measured.
 */
static double hop_probe_ns(const struct hops_snapshot *s, const struct path_value *p, int i)
{
	const struct hops_probe_cost *c = &s->cost;
	int n = p->nhops < MAX_PATH_HOPS ? (int)p->nhops : MAX_PATH_HOPS;
	__u32 from, to;
	double ns = 0;

	if (!c->measured || i <= 0 || i >= n)
		return 0;
	from = HOP_KIND(p->hops[i - 1]);
	to = HOP_KIND(p->hops[i]);
	/* A netfilter hop's interval starts at its hook's last slot's clock read. */
	if (from == HOP_NF)
		ns += c->role_run_ns[ROLE_NF_LATER] / 2;
	else if (from < HOP_KIND_MAX)
		ns += c->role_run_ns[from] / 2;
	if (to < HOP_KIND_MAX)
		ns += c->role_run_ns[to] / 2;
	if (p->count)
		ns += (double)p->fib_after[i - 1] / p->count * c->role_run_ns[ROLE_FIB];
	return ns + c->other_ns_per_packet / (n - 1);
}

/* A time with the probes' share taken out, never below zero. */
static double less_probes(double raw_ns, double probe_ns)
{
	if (isnan(raw_ns))
		return raw_ns;
	return raw_ns > probe_ns ? raw_ns - probe_ns : 0;
}

/* A path's mean first-to-last time as measured, and with the probes' cost
 * taken out: the hops' shares and the slots' own entries inside the hooks. */
static double path_raw_ns(const struct path_value *p)
{
	return p->count ? (double)p->total_ns / p->count : NAN;
}

static double path_corrected_ns(const struct hops_snapshot *s, const struct path_value *p)
{
	double probes = 0;

	if (!p->count)
		return NAN;
	for (int i = 1; i < (int)p->nhops && i < MAX_PATH_HOPS; i++)
		probes += hop_probe_ns(s, p, i);
	probes += less_probes((double)p->nf_ns / p->count, path_nf_ns(s, p, nf_probe_cost_ns(s)));
	return less_probes(path_raw_ns(p), probes);
}

static const char *short_ns(const struct hops_snapshot *s, __u32 index)
{
	if (index == 0 || index > (__u32)s->nr_ns)
		return "?";
	return s->ns_names[index - 1];
}

static void hop_place(const struct hops_snapshot *s, __u32 hop, char *buf, size_t len)
{
	__u32 kind = HOP_KIND(hop), ns = HOP_NS(hop), where = HOP_WHERE(hop);
	const struct hops_device *d;

	switch (kind) {
	case HOP_NF:
		snprintf(buf, len, "%s netfilter", short_ns(s, ns));
		break;
	case HOP_SOCKET:
	case HOP_SEND:
		snprintf(buf, len, "%s socket", short_ns(s, ns));
		break;
	case HOP_DROP:
		snprintf(buf, len, "%s", short_ns(s, ns));
		break;
	default:
		d = find_dev(s, ns, where);
		if (d)
			snprintf(buf, len, "%s %s", short_ns(s, ns), d->name);
		else
			snprintf(buf, len, "%s if%u", short_ns(s, ns), where);
	}
}

static bool leaves_by_a_device(__u32 next)
{
	return HOP_KIND(next) == HOP_DEV_QUEUE || HOP_KIND(next) == HOP_DEV_XMIT ||
	       HOP_KIND(next) == HOP_TC_EGRESS;
}

static void tc_ingress_action(const struct hops_snapshot *s, __u32 hop, __u32 next, char *buf,
			      size_t len)
{
	const struct hops_device *nd;
	bool other_dev = next && (HOP_WHERE(next) != HOP_WHERE(hop) || HOP_NS(next) != HOP_NS(hop));

	/* Straight to another device's receive or transmit, with no backlog
	 * enqueue or stack in between: a BPF redirect. */
	if (next && HOP_KIND(next) == HOP_TC_INGRESS && other_dev &&
	    (nd = find_dev(s, HOP_NS(next), HOP_WHERE(next))) && nd->kind == DEV_MACVLAN)
		snprintf(buf, len, "macvlan rx_handler: on to the pod's macvlan (no backlog)");
	else if (next && HOP_KIND(next) == HOP_TC_INGRESS && other_dev)
		snprintf(buf, len, "tc ingress: redirected by BPF into the peer (no backlog)");
	else if (next && leaves_by_a_device(next) && !s->use_nf)
		/* Without netfilter probes the stack's forwarding shows no hop
		 * between the two devices either. */
		snprintf(buf, len, "tc ingress, then another device (routed or BPF redirect)");
	else if (next && leaves_by_a_device(next))
		snprintf(buf, len, "tc ingress: redirected by BPF to a device's egress");
	else
		snprintf(buf, len, "tc ingress");
}

static void hop_action(const struct hops_snapshot *s, const struct path_value *p, int i,
		       char *buf, size_t len)
{
	__u32 hop = p->hops[i], kind = HOP_KIND(hop), where = HOP_WHERE(hop);
	__u32 next = i + 1 < (int)p->nhops ? p->hops[i + 1] : 0;
	const struct hops_device *d = find_dev(s, HOP_NS(hop), where);

	switch (kind) {
	case HOP_TC_INGRESS:
		tc_ingress_action(s, hop, next, buf, len);
		break;
	case HOP_TC_EGRESS:
		snprintf(buf, len, "tc egress");
		break;
	case HOP_NF:
		snprintf(buf, len, "netfilter %s", nf_hook_name(NF_WHERE_HOOK(where)));
		break;
	case HOP_DEV_QUEUE:
		snprintf(buf, len, "queued for transmit (qdisc layer)");
		break;
	case HOP_DEV_XMIT:
		snprintf(buf, len, "transmitted by the driver");
		break;
	case HOP_BACKLOG:
		snprintf(buf, len, "queued to the CPU backlog (%s crossing)",
			 d ? dev_kind_name(d->kind) : "device");
		break;
	case HOP_RECEIVE:
		snprintf(buf, len, "receive stack entered");
		break;
	case HOP_GRO:
		snprintf(buf, len, "GRO receive");
		break;
	case HOP_SOCKET:
		snprintf(buf, len, "delivered to a TCP socket (peer port %u)", where);
		break;
	case HOP_SEND:
		snprintf(buf, len, "sent (no netfilter rules in this namespace)");
		break;
	case HOP_DROP:
		snprintf(buf, len, "dropped (skb drop reason %u)", where);
		break;
	case HOP_XDP:
		if (d && d->xdp == HOPS_XDP_DRIVER && d->kind == DEV_VETH)
			snprintf(buf, len, "XDP, driver mode (veth crossing via NAPI, no backlog)");
		else
			snprintf(buf, len, "XDP, %s mode",
				 d && d->xdp == HOPS_XDP_DRIVER ? "driver" : "generic");
		break;
	default:
		snprintf(buf, len, "hop kind %u", kind);
	}
}

static int most_common_path(const struct hops_snapshot *s, __u32 dir)
{
	int best = -1;

	for (int i = 0; i < s->nr_paths; i++)
		if (s->paths[i].key.dir == dir &&
		    (best < 0 || s->paths[i].val.count > s->paths[best].val.count))
			best = i;
	return best;
}

static const char *const dir_titles[DIR_MAX] = {
	"Request path (client to server)", "Response path (server to client)", "Other path",
};

static void print_path(const struct hops_snapshot *s, int best)
{
	__u32 dir = s->paths[best].key.dir < DIR_MAX ? s->paths[best].key.dir : DIR_OTHER;
	double cost = nf_probe_cost_ns(s);
	const struct path_value *p = &s->paths[best].val;
	__u64 dir_packets = s->counters[CNT_DIR_PKTS + dir];
	unsigned wire = path_wire_backlog(s, p), wire_xdp = path_wire_xdp(s, p);

	out_object_begin(NULL);
	out_string("direction", "\n%s", dir_titles[dir]);
	out_uint("packets", ": %llu packets", p->count);
	out_uint("packets_in_direction", NULL, dir_packets);
	out_double("share", " (%.0f%% of this direction's)",
		   dir_packets ? 100.0 * p->count / dir_packets : NAN);
	out_double("mean_end_to_end_us", ", first to last hop %.1f us", path_corrected_ns(s, p) / 1e3);
	out_double("raw_mean_end_to_end_us", " (%.1f us as traced)\n", path_raw_ns(p) / 1e3);
	out_text("   %-3s %-34s %-58s %8s %8s %8s\n", "#", "where", "what", "p50 us", "p99 us", "raw p50");
	out_array_begin("hops");
	for (int i = 0; i < (int)p->nhops; i++) {
		char place[96], action[96];
		const struct lat_hist *lh = i ? find_pair(s, p->hops[i - 1], p->hops[i]) : NULL;
		double fib, probe = hop_probe_ns(s, p, i);
		double p50 = lh ? lat_hist_percentile(lh, 50) : NAN, p99 = lh ? lat_hist_percentile(lh, 99) : NAN;
		double mean = lh && lh->count ? (double)lh->sum_ns / lh->count : NAN;

		hop_place(s, p->hops[i], place, sizeof(place));
		hop_action(s, p, i, action, sizeof(action));
		out_object_begin(NULL);
		out_uint("index", "   %-3llu", (unsigned long long)i + 1);
		out_string("where", " %-34s", place);
		out_string("what", " %-58s", action);
		out_double("p50_us", " %8.2f", less_probes(p50, probe) / 1e3);
		out_double("p99_us", " %8.2f", less_probes(p99, probe) / 1e3);
		out_double("raw_p50_us", " %8.2f", p50 / 1e3);
		out_double("mean_us", NULL, less_probes(mean, probe) / 1e3);
		out_double("raw_p99_us", NULL, p99 / 1e3);
		out_double("raw_mean_us", NULL, mean / 1e3);
		out_double("probe_us", NULL, lh ? probe / 1e3 : NAN);
		if (HOP_KIND(p->hops[i]) == HOP_NF)
			out_double("inside_hook_us", "  +%.2f us inside",
				   nf_inside_ns(s, HOP_NS(p->hops[i]),
						NF_WHERE_HOOK(HOP_WHERE(p->hops[i])), cost) / 1e3);
		/* FIB lookups made between this hop and the next, per packet. */
		fib = s->fib_on && p->count && i < MAX_PATH_HOPS ? (double)p->fib_after[i] / p->count : NAN;
		out_double("fib_lookups_after", fib >= 0.005 ? "  + %.2f FIB lookups" : NULL, fib);
		out_text("\n");
		out_object_end();
	}
	out_array_end();
	out_uint("veth_crossings", "   per packet: %u veth crossings", p->veth - wire - wire_xdp);
	out_uint("wire_xdp_crossings", wire_xdp ? " (+%u on the wire veth, through XDP and NAPI)" : NULL,
		 wire_xdp);
	out_uint("macvlan_crossings", ", %u macvlan crossings", p->macvlan);
	out_uint("backlog_enqueues", ", %u backlog enqueues", p->backlog - wire);
	out_uint("wire_backlog_enqueues", wire ? " (+%u on the wire veth, which a real NIC would not add)" : NULL, wire);
	out_uint("netfilter_hooks", ", %u netfilter hooks", p->nf_hooks);
	out_double("netfilter_us", " (%.2f us in netfilter)", path_nf_ns(s, p, cost) / 1e3);
	out_double("netfilter_with_probes_us", NULL, p->count ? p->nf_ns / 1e3 / p->count : NAN);
	out_double("softirq_passes", s->softirq_on ? ", %.2f softirq passes" : NULL,
		   s->softirq_on && p->count ? (double)p->softirq_passes / p->count : NAN);
	out_double("fib_lookups", s->fib_on ? ", %.2f FIB lookups\n" : "\n",
		   s->fib_on && p->count ? (double)p->fib_lookups / p->count : NAN);
	out_uint("nr_hops", NULL, p->nhops);
	out_bool("truncated", NULL, p->truncated);
	out_object_end();
}

static void print_netfilter(const struct hops_snapshot *s)
{
	double cost = nf_probe_cost_ns(s);

	out_object_begin("netfilter");
	out_double("probe_cost_us", s->nr_nf ? "\nNetfilter time per traversal, us (mean; netprof's "
		   "own %.2f us per slot taken out)\n" : NULL, cost / 1e3);
	out_array_begin("hooks");
	for (int n = 1; n <= s->nr_ns; n++) {
		for (int hook = 0; hook < NF_HOOKS; hook++) {
			bool any = false;

			for (int i = 0; i < s->nr_nf; i++)
				any |= s->nf[i].key.ns_index == (__u32)n && s->nf[i].key.hook == hook;
			if (!any)
				continue;
			out_object_begin(NULL);
			out_string("netns", "   %-28s", short_ns(s, n));
			out_string("hook", " %-12s", nf_hook_name(hook));
			out_double("total_us", " %6.2f:", nf_inside_ns(s, n, hook, cost) / 1e3);
			out_array_begin("tables");
			for (int slot = first_table_segment(s); slot < NF_SLOTS - 1; slot++) {
				for (int i = 0; i < s->nr_nf; i++) {
					const struct nf_key *k = &s->nf[i].key;
					const struct nf_value *v = &s->nf[i].val;
					char label[128];

					if (k->ns_index != (__u32)n || k->hook != hook || k->slot != slot ||
					    !v->packets)
						continue;
					out_object_begin(NULL);
					out_string("table", " %s", segment_label(s, slot, label, sizeof(label)));
					out_double("mean_us", " %.2f", nf_segment_ns(v, cost) / 1e3);
					out_uint("packets", NULL, v->packets);
					out_object_end();
				}
			}
			out_array_end();
			out_text("\n");
			out_object_end();
		}
	}
	out_array_end();
	out_object_end();
}

/* FIB lookups per namespace: those made for followed packets, per packet. */
static void print_fib(const struct hops_snapshot *s)
{
	__u64 finished = s->counters[CNT_PKTS_FINISHED];
	bool any = false;

	out_object_begin("fib");
	out_bool("counted", NULL, s->fib_on);
	if (!s->fib_on) {
		out_text("\nFIB lookups: not counted (--fib counts them, a probe run for each)\n");
		out_object_end();
		return;
	}
	out_uint("lookups_for_followed_packets", "\nFIB lookups (fib_table_lookup): %llu for "
		 "followed packets", s->counters[CNT_FIB_LOOKUPS]);
	out_uint("lookups_other", ", %llu others in the run's namespaces (unfollowed packets, "
		 "sockets' own routes)", s->counters[CNT_FIB_OTHER]);
	out_array_begin("namespaces");
	for (int n = 1; n <= s->nr_ns && n < MAX_NETNS; n++) {
		const struct fib_ns_stats *f = &s->fib[n];

		if (!f->lookups)
			continue;
		if (!any)
			out_text("\n   per packet followed, by namespace:");
		any = true;
		out_object_begin(NULL);
		out_string("netns", "\n   %-28s", short_ns(s, n));
		out_double("per_packet", " %.2f", finished ? (double)f->attributed / finished : NAN);
		out_uint("attributed", NULL, f->attributed);
		out_double("reverse_per_packet", " (%.2f of them reverse-path checks;",
			   finished ? (double)f->reverse / finished : NAN);
		out_uint("lookups", " %llu lookups in all", f->lookups);
		out_uint("failed", ", %llu failed)", f->failed);
		out_object_end();
	}
	out_array_end();
	out_text("\n");
	out_object_end();
}

/*
 * The wire's receive, as a NIC's: what each wire end took in (the kernel's
 * own count: segments, before GRO) beside what its tc ingress saw (after
 * GRO merged them), so the merges per packet show without a probe per
 * segment.
 */
static void print_wire(const struct hops_snapshot *s)
{
	bool any = false;

	out_array_begin("wire_receive");
	for (int i = 0; i < s->nr_devs; i++) {
		const struct hops_device *d = &s->devs[i];
		__u64 after = d->counters.packets[0];

		if (!d->wire || !d->traced || !d->kernel_rx)
			continue;
		if (!any)
			out_text("Wire receive (the device's own count, then tc's after GRO):");
		any = true;
		out_object_begin(NULL);
		out_string("netns", " %s", short_ns(s, d->ns_index));
		out_string("device", " %s", d->name);
		out_uint("segments", " %llu in", d->kernel_rx);
		out_uint("after_gro", ", %llu after GRO", after);
		out_double("segments_per_packet", " (%.2f a packet);", after ? (double)d->kernel_rx / after : NAN);
		out_object_end();
	}
	out_array_end();
	if (any)
		out_text("\n");
}

static const char *xdp_mode_name(enum hops_xdp_mode m)
{
	return m == HOPS_XDP_DRIVER ? "driver" : m == HOPS_XDP_GENERIC ? "generic" : "off";
}

static void print_devices(const struct hops_snapshot *s)
{
	out_array_begin("devices");
	for (int i = 0; i < s->nr_devs; i++) {
		const struct hops_device *d = &s->devs[i];

		out_object_begin(NULL);
		out_string("netns", NULL, short_ns(s, d->ns_index));
		out_string("device", NULL, d->name);
		out_string("kind", NULL, dev_kind_name(d->kind));
		out_bool("wire", NULL, d->wire);
		out_bool("traced", NULL, d->traced);
		out_string("xdp", NULL, xdp_mode_name(d->xdp));
		out_uint("ingress_packets", NULL, d->counters.packets[0]);
		out_uint("egress_packets", NULL, d->counters.packets[1]);
		out_uint("kernel_rx_packets", NULL, d->kernel_rx);
		out_object_end();
	}
	out_array_end();
}

static void print_lost(const struct hops_snapshot *s)
{
	const __u64 *c = s->counters;

	out_object_begin("lost");
	out_uint("packet_map_full", "\n   not followed: %llu (packet map full)", c[CNT_STATE_FULL]);
	out_uint("path_map_full", ", %llu paths not recorded (map full)", c[CNT_PATHS_FULL]);
	out_uint("hop_pair_map_full", ", %llu hop pairs not timed (map full)", c[CNT_PAIRS_FULL]);
	out_uint("paths_truncated", ", %llu paths longer than the recorded hops",
		 c[CNT_PATH_TRUNCATED]);
	if (s->tc_flow || s->use_xdp) {
		out_uint("flow_pending", "\n   flow key: %llu packets picked up or handed over without"
			 " their skb", c[CNT_PENDING]);
		out_uint("flow_adopted", ", %llu taken up again by a hop with the skb", c[CNT_ADOPTED]);
		out_uint("flow_not_adopted", ", %llu never (their paths end there)",
			 c[CNT_PENDING] > c[CNT_ADOPTED] ? c[CNT_PENDING] - c[CNT_ADOPTED] : 0);
		out_uint("flow_index_full", ", %llu index or pending map full", c[CNT_INDEX_FULL]);
		out_uint("xdp_hops", ", %llu XDP hops", c[CNT_XDP_HOPS]);
	}
	out_uint("vanished", "\n   %llu packets lost from sight (freed where no tracepoint fires, as TCP"
		 " coalescing does, or cut by a duty-cycle pause): their paths end at the last hop"
		 " seen\n", c[CNT_VANISHED]);
	out_object_end();
}

static void print_paths(const struct hops_snapshot *s)
{
	out_array_begin("paths");
	if (s->all_paths) {
		for (int i = 0; i < s->nr_paths; i++)
			print_path(s, i);
	} else {
		for (__u32 dir = 0; dir < DIR_MAX; dir++) {
			int best = most_common_path(s, dir);

			/* Without a server port every packet is "other". */
			if (best >= 0 && (dir != DIR_OTHER || !s->server_port))
				print_path(s, best);
		}
	}
	out_array_end();
	out_uint("distinct_paths", "\n%llu distinct paths", (unsigned long long)s->nr_paths);
}

static void print_per_packet(const struct hops_snapshot *s, double per_pkt)
{
	const __u64 *c = s->counters;

	out_object_begin("per_packet");
	out_double("hops", "; per packet (all directions, wire included): %.2f hops",
		   c[CNT_HOPS] * per_pkt);
	out_double("veth_crossings", ", %.2f veth crossings", c[CNT_VETH] * per_pkt);
	out_double("macvlan_crossings", ", %.2f macvlan crossings", c[CNT_MACVLAN] * per_pkt);
	out_double("backlog_enqueues", ", %.2f backlog enqueues", c[CNT_BACKLOG] * per_pkt);
	out_double("softirq_passes", s->softirq_on ? ", %.2f softirq passes" : NULL,
		   s->softirq_on ? c[CNT_SOFTIRQ_PASSES] * per_pkt : NAN);
	out_double("netfilter_hooks", ", %.2f netfilter hooks", c[CNT_NF_HOOKS] * per_pkt);
	out_double("netfilter_us", " (%.2f us)", mean_nf_ns(s, nf_probe_cost_ns(s)) / 1e3);
	out_double("fib_lookups", s->fib_on ? ", %.2f FIB lookups\n" : "\n",
		   s->fib_on ? c[CNT_FIB_LOOKUPS] * per_pkt : NAN);
	out_object_end();
}

static void print_context(const struct hops_snapshot *s, double per_pkt, uint64_t transactions)
{
	const __u64 *c = s->counters;

	out_object_begin("context");
	out_uint("context_switches", s->switches_given ? "\nContext switches of the client's and "
		 "server's processes (getrusage): %llu" : "\nContext switches of the run's tasks: %llu",
		 c[CNT_CTX_SWITCHES]);
	out_uint("involuntary", " (%llu preempted)", c[CNT_CTX_INVOLUNTARY]);
	out_uint("wakeups", s->switches_given ? ", %llu sleeps (each ended by a wakeup)" :
		 ", wakeups %llu", c[CNT_WAKEUPS]);
	out_bool("from_getrusage", NULL, s->switches_given);
	out_double("per_packet", ", %.3f per packet", c[CNT_CTX_SWITCHES] * per_pkt);
	out_double("per_transaction", ", %.2f per transaction",
		   transactions ? (double)c[CNT_CTX_SWITCHES] / transactions : NAN);
	out_uint("net_rx_softirqs", "\nNET_RX softirqs (all CPUs): %llu", c[CNT_NET_RX_SOFTIRQS]);
	out_uint("net_tx_softirqs", "; NET_TX softirqs %llu\n", c[CNT_NET_TX_SOFTIRQS]);
	out_object_end();
}

static void print_drops(const struct hops_snapshot *s)
{
	out_uint("drops", "Drops of followed packets: %llu", s->counters[CNT_DROPS]);
	out_array_begin("drop_reasons");
	for (int i = 0; i < s->nr_drops; i++) {
		char place[96];

		hop_place(s, s->drops[i].key.last_hop, place, sizeof(place));
		out_object_begin(NULL);
		out_uint("reason_code", NULL, s->drops[i].key.reason);
		out_string("reason", i ? ", %s" : " (%s", s->drops[i].reason);
		out_string("last_seen", " after %s", place);
		out_uint("count", ": %llu", s->drops[i].count);
		out_object_end();
	}
	out_array_end();
	out_text("%s\n", s->nr_drops ? ")" : "");
}

static void print_sockops(const struct sockops_stats *so)
{
	out_object_begin("sock_ops");
	out_uint("rtt_samples", "TCP: %llu RTT samples (the receiving socket's srtt at each "
		 "followed segment)", so->rtt_samples);
	out_double("rtt_mean_us", ", mean srtt %.1f us",
		   so->rtt_samples ? (double)so->rtt_sum_us / so->rtt_samples : NAN);
	out_uint("rtt_min_us", ", min %llu", so->rtt_min_us);
	out_uint("rtt_max_us", ", max %llu", so->rtt_max_us);
	out_uint("retransmits", "; sock_ops: retransmits %llu", so->retransmits);
	out_uint("rto_expired", ", RTO expiries %llu", so->rto_expired);
	out_uint("established", "; connections established %llu", so->established);
	out_uint("state_changes", ", state changes %llu\n", so->state_changes);
	out_object_end();
}

static const char *const probe_kind_names[PROBE_KINDS] = {
	"tc", "xdp", "netfilter", "tracepoint", "sock_ops",
};

/* Runs and ns of every kind of the tracer's programs together. */
static void cost_totals(const struct hops_probe_cost *c, double *runs, double *ns)
{
	*runs = *ns = 0;
	for (int k = 0; k < PROBE_KINDS; k++) {
		*runs += c->runs[k];
		*ns += c->ns[k];
	}
}

static const char *const hop_kind_keys[HOP_KIND_MAX] = {
	[HOP_TC_INGRESS] = "tc_ingress", [HOP_TC_EGRESS] = "tc_egress", [HOP_NF] = "netfilter",
	[HOP_DEV_QUEUE] = "dev_queue", [HOP_DEV_XMIT] = "dev_xmit", [HOP_BACKLOG] = "backlog",
	[HOP_RECEIVE] = "receive", [HOP_GRO] = "gro", [HOP_SOCKET] = "socket", [HOP_DROP] = "drop",
	[HOP_XDP] = "xdp", [HOP_SEND] = "send",
};

/* The tracer's own programs: how often they ran for each followed packet and
 * what one run costs, as the kernel counted and clocked them in the
 * calibration window, and what is taken out of the hop times. */
static void print_cost(const struct hops_snapshot *s)
{
	const struct hops_probe_cost *c = &s->cost;
	double followed = c->packets, runs, ns;

	out_object_begin("probe_cost");
	out_bool("measured", NULL, c->measured);
	out_double("nf_slot_ns", NULL, c->nf_slot_ns > 0 ? c->nf_slot_ns : NAN);
	if (!c->measured) {
		out_string("why", "\nProbe cost: not measured (%s); hop times as traced\n", c->why);
		out_object_end();
		return;
	}
	cost_totals(c, &runs, &ns);
	out_double("runs_per_packet", "\nProbe cost (netprof's programs, as the kernel counts and clocks "
		   "them): %.1f runs", followed > 0 ? runs / followed : NAN);
	out_double("us_per_packet", " and %.2f us per followed packet", followed > 0 ?
		   ns / followed / 1e3 : NAN);
	out_double("window_seconds", ", calibrated over the first %.1f s", c->seconds);
	out_uint("window_packets", NULL, c->packets);
	out_text(" (the hooks' dispatch around them not included)\n");
	out_object_begin("cost_ns");
	for (int k = 0; k < PROBE_KINDS; k++)
		out_double(probe_kind_names[k], NULL, c->runs[k] ? (double)c->ns[k] / c->runs[k] : NAN);
	out_object_end();
	out_object_begin("runs");
	for (int k = 0; k < PROBE_KINDS; k++)
		out_uint(probe_kind_names[k], NULL, c->runs[k]);
	out_object_end();
	out_object_begin("runs_per_packet_by_kind");
	for (int k = 0; k < PROBE_KINDS; k++)
		out_double(probe_kind_names[k], NULL, followed > 0 ? c->runs[k] / followed : NAN);
	out_object_end();
	for (int k = 0; k < PROBE_KINDS && !out_json(); k++) {
		if (!c->runs[k])
			continue;
		out_text("   %-12s %6.1f runs per packet %7.0f ns a run\n", probe_kind_names[k],
			 followed > 0 ? c->runs[k] / followed : NAN, (double)c->ns[k] / c->runs[k]);
	}
	out_text("   taken out of each hop's time: half a run of the probe at each end (ns a run:");
	out_object_begin("hop_run_ns");
	for (int k = 1; k < HOP_KIND_MAX; k++)
		if (c->role_run_ns[k] > 0) {
			out_text(" %s", hop_kind_keys[k]);
			out_double(hop_kind_keys[k], " %.0f", c->role_run_ns[k]);
		}
	out_object_end();
	out_double("fib_run_ns", "), FIB lookups' runs (%.0f ns each)", c->role_run_ns[ROLE_FIB]);
	out_double("other_us_per_packet", ", and %.2f us a packet of runs that record no hop, spread "
		   "evenly over its hops", c->other_ns_per_packet / 1e3);
	out_text(c->nf_slot_ns > 0 ? "; from netfilter times: %.0f ns a slot entered\n" : "\n",
		 c->nf_slot_ns);
	out_object_end();
}

static void print_notes(const struct hops_snapshot *s)
{
	out_array_begin("probes");
	out_text("Probes:\n");
	for (int i = 0; i < s->nr_notes; i++) {
		out_object_begin(NULL);
		out_string("probe", "   %-14s", s->notes[i].name);
		out_bool("ran", " %-4s", s->notes[i].on);
		out_string("detail", " %s\n", s->notes[i].detail);
		out_object_end();
	}
	out_array_end();
}

int hops_print(const struct hops_snapshot *s, double seconds, uint64_t transactions)
{
	const __u64 *c = s->counters;
	double per_pkt = c[CNT_PKTS_FINISHED] ? 1.0 / c[CNT_PKTS_FINISHED] : NAN;

	/* With a duty cycle the probes saw about one window in N of the
	 * transactions: compare like with like. */
	if (s->duty > 1)
		transactions /= s->duty;

	out_object_begin("hops");
	out_double("seconds", "Hop tracer (%.1f s)", seconds);
	out_uint("packets_followed", ": %llu packets followed", c[CNT_PKTS_TRACED]);
	out_uint("packets_finished", ", %llu to their end", c[CNT_PKTS_FINISHED]);
	out_uint("sample_every", ", sampling 1 in %llu", s->sample_every ?: 1);
	out_uint("packets_not_sampled", NULL, c[CNT_PKTS_SKIPPED]);
	out_string("tc_key", "; tc hops keyed by %s", !s->use_tc ? "none (tc off)" :
		   s->tc_flow ? "flow" : "skb");
	out_bool("xdp", s->use_xdp ? ", XDP on" : ", XDP off", s->use_xdp);
	print_lost(s);
	print_paths(s);
	print_per_packet(s, per_pkt);
	print_cost(s);
	print_netfilter(s);
	print_fib(s);
	print_wire(s);
	print_context(s, per_pkt, transactions);
	print_drops(s);
	print_sockops(&s->sockops);
	print_devices(s);
	print_notes(s);
	out_object_end();
	return 0;
}

int hops_summarize(const struct hops_snapshot *snap, struct hops_summary *sum)
{
	int best = most_common_path(snap, snap->server_port ? DIR_REQUEST : DIR_OTHER);

	memset(sum, 0, sizeof(*sum));
	sum->packets_followed = snap->counters[CNT_PKTS_TRACED];
	sum->packets_lost = snap->counters[CNT_STATE_FULL];
	sum->ctx_switches = snap->counters[CNT_CTX_SWITCHES];
	sum->probe_runs = sum->probe_us = NAN;
	if (snap->cost.measured && snap->cost.packets) {
		double runs, ns;

		cost_totals(&snap->cost, &runs, &ns);
		sum->probe_runs = runs / snap->cost.packets;
		sum->probe_us = ns / snap->cost.packets / 1e3;
	}
	if (best >= 0 && snap->paths[best].val.count) {
		const struct path_value *p = &snap->paths[best].val;
		unsigned wire = path_wire_backlog(snap, p), wire_xdp = path_wire_xdp(snap, p);

		sum->valid = true;
		sum->hops = p->nhops;
		sum->veth = p->veth - wire - wire_xdp;
		sum->fib_lookups = snap->fib_on ? (double)p->fib_lookups / p->count : NAN;
		sum->macvlan = p->macvlan;
		sum->backlog = p->backlog - wire;
		sum->wire_backlog = wire;
		sum->nf_hooks = p->nf_hooks;
		sum->nf_us = path_nf_ns(snap, p, nf_probe_cost_ns(snap)) / 1e3;
		sum->softirq_passes = snap->softirq_on ? (double)p->softirq_passes / p->count : NAN;
		sum->path_us = path_corrected_ns(snap, p) / 1e3;
		sum->raw_path_us = path_raw_ns(p) / 1e3;
	}
	return 0;
}
