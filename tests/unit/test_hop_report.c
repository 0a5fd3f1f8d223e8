/*
 * The hop report from a snapshot built by hand: a client pod, a node and a
 * server pod, with a request and a response path through tc, netfilter,
 * the CPU backlog, XDP and the wire veth, two drops and the probe notes.
 * The whole text and JSON are compared, so a change to the report's output
 * shows here.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/output.h"
#include "trace/hops.h"
#include "trace/hops_snapshot.h"
#include "test.h"

#define TC_IN(ns, ifi) HOP_ENCODE(HOP_TC_INGRESS, ns, ifi)
#define TC_EG(ns, ifi) HOP_ENCODE(HOP_TC_EGRESS, ns, ifi)
#define NF(ns, hook) HOP_ENCODE(HOP_NF, ns, NF_WHERE(hook, 0))

enum { CLIENT = 1, NODE = 2, SERVER = 3 };

static struct hops_path paths[3];
static struct hops_pair pairs[3];
static struct hops_nf_segment nf[5];
static struct hops_drop drops[2];

static void add_device(struct hops_snapshot *s, __u32 ns, int ifindex, const char *name,
		       enum dev_kind kind, __u64 in, __u64 out)
{
	struct hops_device *d = &s->devs[s->nr_devs++];

	d->ns_index = ns;
	d->ifindex = ifindex;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->kind = kind;
	d->traced = kind != DEV_LOOPBACK;
	d->counters.packets[0] = in;
	d->counters.packets[1] = out;
}

static void add_note(struct hops_snapshot *s, const char *name, bool on, const char *detail)
{
	struct hops_note *n = &s->notes[s->nr_notes++];

	snprintf(n->name, sizeof(n->name), "%s", name);
	n->on = on;
	snprintf(n->detail, sizeof(n->detail), "%s", detail);
}

static void set_path(struct hops_path *p, enum flow_dir dir, __u64 count, const __u32 *hops,
		     int nhops)
{
	memset(p, 0, sizeof(*p));
	p->key.hash = 0x1000 + dir;
	p->key.dir = dir;
	p->val.count = count;
	p->val.nhops = nhops;
	for (int i = 0; i < nhops; i++) {
		p->val.hops[i] = hops[i];
		p->val.veth += HOP_KIND(hops[i]) == HOP_BACKLOG;
		p->val.backlog += HOP_KIND(hops[i]) == HOP_BACKLOG;
		p->val.nf_hooks += HOP_KIND(hops[i]) == HOP_NF;
	}
}

static void set_pair(struct hops_pair *p, __u32 from, __u32 to, __u64 fast_ns, __u64 slow_ns)
{
	memset(p, 0, sizeof(*p));
	p->key.from = from;
	p->key.to = to;
	p->val.count = 100;
	p->val.sum_ns = 98 * fast_ns + 2 * slow_ns;
	p->val.buckets[lat_bucket(fast_ns)] = 98;
	p->val.buckets[lat_bucket(slow_ns)] += 2;
}

static void set_nf(struct hops_nf_segment *seg, __u32 ns, __u16 hook, __u16 slot, __u64 ns_each)
{
	seg->key.ns_index = ns;
	seg->key.hook = hook;
	seg->key.slot = slot;
	seg->val.packets = 90;
	seg->val.ns = 90 * ns_each;
}

static void build(struct hops_snapshot *s)
{
	static const __u32 request[] = {
		TC_EG(CLIENT, 2), HOP_ENCODE(HOP_BACKLOG, CLIENT, 2), TC_IN(NODE, 5),
		NF(NODE, 0), NF(NODE, 2), HOP_ENCODE(HOP_DEV_QUEUE, NODE, 2),
		HOP_ENCODE(HOP_BACKLOG, NODE, 2), HOP_ENCODE(HOP_XDP, SERVER, 2),
		HOP_ENCODE(HOP_RECEIVE, SERVER, 2), HOP_ENCODE(HOP_SOCKET, SERVER, 40000),
	};
	static const __u32 response[] = {
		HOP_ENCODE(HOP_XDP, NODE, 2), TC_IN(NODE, 2), TC_EG(NODE, 5),
		HOP_ENCODE(HOP_BACKLOG, NODE, 5), TC_IN(CLIENT, 2), HOP_ENCODE(HOP_GRO, CLIENT, 2),
		HOP_ENCODE(HOP_SOCKET, CLIENT, 8080),
	};
	static const __u32 other[] = { HOP_ENCODE(HOP_SEND, NODE, 0), TC_EG(NODE, 2) };

	memset(s, 0, sizeof(*s));
	s->sample_every = 1;
	s->server_port = 8080;
	s->use_tc = s->tc_flow = s->use_xdp = s->use_nf = true;
	s->fib_on = s->softirq_on = true;	/* as with --fib --softirq */
	s->nf_slots = (1u << 0) | (1u << 1) | (1u << 3) | (1u << (NF_SLOTS - 1));
	snprintf(s->ns_names[0], sizeof(s->ns_names[0]), "netprof-t1-client");
	snprintf(s->ns_names[1], sizeof(s->ns_names[1]), "netprof-t1-node1");
	snprintf(s->ns_names[2], sizeof(s->ns_names[2]), "netprof-t1-server");
	s->nr_ns = 3;

	add_device(s, CLIENT, 2, "eth0", DEV_VETH, 80, 90);
	add_device(s, NODE, 5, "cali1a2b", DEV_VETH, 90, 80);
	add_device(s, NODE, 2, "eth0", DEV_VETH, 80, 90);
	s->devs[2].wire = true;
	s->devs[2].kernel_rx = 240;	/* segments in, 80 after GRO */
	s->devs[2].xdp = HOPS_XDP_DRIVER;
	add_device(s, SERVER, 2, "eth0", DEV_VETH, 90, 80);
	s->devs[3].xdp = HOPS_XDP_GENERIC;
	add_device(s, SERVER, 1, "lo", DEV_LOOPBACK, 0, 0);

	add_note(s, "tc key", true, "flow (--tc-key flow)");
	add_note(s, "xdp", true, "on (--xdp) on 2 devices");
	add_note(s, "sock_ops", false, "off: no run cgroup given");

	set_path(&paths[0], DIR_REQUEST, 90, request, sizeof(request) / sizeof(request[0]));
	paths[0].val.total_ns = 90 * 25000;
	paths[0].val.softirq_passes = 180;
	paths[0].val.nf_ns = 90 * 2400;
	paths[0].val.fib_lookups = 135;
	paths[0].val.fib_after[2] = 90;
	paths[0].val.fib_after[4] = 45;
	set_path(&paths[1], DIR_RESPONSE, 80, response, sizeof(response) / sizeof(response[0]));
	paths[1].val.total_ns = 80 * 18000;
	paths[1].val.softirq_passes = 80;
	set_path(&paths[2], DIR_OTHER, 5, other, 2);
	paths[2].val.total_ns = 5 * 3000;
	s->paths = paths;
	s->nr_paths = 3;

	set_pair(&pairs[0], request[0], request[1], 1500, 9000);
	set_pair(&pairs[1], request[1], request[2], 6000, 40000);
	set_pair(&pairs[2], response[3], response[4], 5000, 5000);
	s->pairs = pairs;
	s->nr_pairs = 3;

	set_nf(&nf[0], NODE, 0, NF_CALIBRATION_SLOT, 100);
	set_nf(&nf[1], NODE, 0, 1, 400);
	set_nf(&nf[2], NODE, 0, 3, 1100);
	set_nf(&nf[3], NODE, 0, NF_SLOTS - 1, 300);
	set_nf(&nf[4], NODE, 2, 1, 250);
	s->nf = nf;
	s->nr_nf = 5;

	drops[0] = (struct hops_drop){ .key = { .reason = 2, .last_hop = NF(NODE, 2) }, .count = 3,
				       .reason = "NOT_SPECIFIED" };
	drops[1] = (struct hops_drop){ .key = { .reason = 6, .last_hop = TC_IN(SERVER, 2) },
				       .count = 1, .reason = "NETFILTER_DROP" };
	s->drops = drops;
	s->nr_drops = 2;

	s->fib[NODE] = (struct fib_ns_stats){ .lookups = 200, .attributed = 135, .reverse = 45,
					      .failed = 1 };

	s->counters[CNT_PKTS_TRACED] = 180;
	/* The kernel's count and clock of the tracer's programs. */
	s->cost.measured = true;
	s->cost.seconds = 0.5;
	s->cost.packets = 180;
	s->cost.role_run_ns[HOP_TC_INGRESS] = 100;
	s->cost.role_run_ns[HOP_TC_EGRESS] = 100;
	s->cost.role_run_ns[HOP_NF] = 150;
	s->cost.role_run_ns[HOP_BACKLOG] = 60;
	s->cost.role_run_ns[HOP_SOCKET] = 80;
	s->cost.role_run_ns[ROLE_FIB] = 40;
	s->cost.other_ns_per_packet = 270;
	s->cost.runs[PROBE_TC] = 720;
	s->cost.ns[PROBE_TC] = 72000;
	s->cost.runs[PROBE_NETFILTER] = 360;
	s->cost.ns[PROBE_NETFILTER] = 54000;
	s->cost.runs[PROBE_TRACEPOINT] = 1800;
	s->cost.ns[PROBE_TRACEPOINT] = 90000;
	s->cost.runs[PROBE_SOCK_OPS] = 90;
	s->cost.ns[PROBE_SOCK_OPS] = 18000;
	s->counters[CNT_PKTS_FINISHED] = 175;
	s->counters[CNT_PKTS_SKIPPED] = 0;
	s->counters[CNT_STATE_FULL] = 2;
	s->counters[CNT_VANISHED] = 3;
	s->counters[CNT_HOPS] = 90 * 10 + 80 * 7 + 5 * 2;
	s->counters[CNT_VETH] = 90 * 2 + 80;
	s->counters[CNT_BACKLOG] = 90 * 2 + 80;
	s->counters[CNT_SOFTIRQ_PASSES] = 260;
	s->counters[CNT_NF_HOOKS] = 180;
	s->counters[CNT_DROPS] = 4;
	s->counters[CNT_CTX_SWITCHES] = 500;
	s->counters[CNT_CTX_INVOLUNTARY] = 20;
	s->counters[CNT_WAKEUPS] = 480;
	s->counters[CNT_NET_RX_SOFTIRQS] = 300;
	s->counters[CNT_NET_TX_SOFTIRQS] = 7;
	s->counters[CNT_FIB_LOOKUPS] = 135;
	s->counters[CNT_FIB_OTHER] = 65;
	s->counters[CNT_PENDING] = 170;
	s->counters[CNT_ADOPTED] = 168;
	s->counters[CNT_XDP_HOPS] = 170;
	s->counters[CNT_DIR_PKTS + DIR_REQUEST] = 90;
	s->counters[CNT_DIR_PKTS + DIR_RESPONSE] = 80;
	s->counters[CNT_DIR_PKTS + DIR_OTHER] = 5;
	s->sockops = (struct sockops_stats){ .rtt_samples = 40, .rtt_sum_us = 2000,
					     .rtt_min_us = 30, .rtt_max_us = 90, .established = 2,
					     .state_changes = 6 };
}

static char *render(const struct hops_snapshot *s, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	out_to(f, json);
	hops_print(s, 10.0, 1000);
	out_finish();
	fclose(f);
	out_init(false);
	return buf;
}

static const char expected_text[] =
	"Hop tracer (10.0 s): 180 packets followed, 175 to their end, sampling 1 in 1; tc hops keyed by flow, XDP on\n"
	"   not followed: 2 (packet map full), 0 paths not recorded (map full), 0 hop pairs not timed (map full), 0 paths longer than the recorded hops\n"
	"   flow key: 170 packets picked up or handed over without their skb, 168 taken up again by a hop with the skb, 2 never (their paths end there), 0 index or pending map full, 170 XDP hops\n"
	"   3 packets lost from sight (freed where no tracepoint fires, as TCP coalescing does, or cut by a duty-cycle pause): their paths end at the last hop seen\n"
	"\n"
	"Request path (client to server): 90 packets (100% of this direction's), first to last hop 23.5 us (25.0 us as traced)\n"
	"   #   where                              what                                                         p50 us   p99 us  raw p50\n"
	"   1   netprof-t1-client eth0             tc egress                                                         -        -        -\n"
	"   2   netprof-t1-client eth0             queued to the CPU backlog (veth crossing)                      1.30     9.11     1.41\n"
	"   3   netprof-t1-node1 cali1a2b          tc ingress                                                     5.52    36.75     5.63  + 1.00 FIB lookups\n"
	"   4   netprof-t1-node1 netfilter         netfilter PREROUTING                                              -        -        -  +1.50 us inside\n"
	"   5   netprof-t1-node1 netfilter         netfilter FORWARD                                                 -        -        -  +0.15 us inside  + 0.50 FIB lookups\n"
	"   6   netprof-t1-node1 eth0              queued for transmit (qdisc layer)                                 -        -        -\n"
	"   7   netprof-t1-node1 eth0              queued to the CPU backlog (veth crossing)                         -        -        -\n"
	"   8   netprof-t1-server eth0             XDP, generic mode                                                 -        -        -\n"
	"   9   netprof-t1-server eth0             receive stack entered                                             -        -        -\n"
	"   10  netprof-t1-server socket           delivered to a TCP socket (peer port 40000)                       -        -        -\n"
	"   per packet: 1 veth crossings, 0 macvlan crossings, 1 backlog enqueues (+1 on the wire veth, which a real NIC would not add), 2 netfilter hooks (1.65 us in netfilter), 2.00 softirq passes, 1.50 FIB lookups\n"
	"\n"
	"Response path (server to client): 80 packets (100% of this direction's), first to last hop 17.3 us (18.0 us as traced)\n"
	"   #   where                              what                                                         p50 us   p99 us  raw p50\n"
	"   1   netprof-t1-node1 eth0              XDP, driver mode (veth crossing via NAPI, no backlog)             -        -        -\n"
	"   2   netprof-t1-node1 eth0              tc ingress: redirected by BPF to a device's egress                -        -        -\n"
	"   3   netprof-t1-node1 cali1a2b          tc egress                                                         -        -        -\n"
	"   4   netprof-t1-node1 cali1a2b          queued to the CPU backlog (veth crossing)                         -        -        -\n"
	"   5   netprof-t1-client eth0             tc ingress                                                     4.48     4.48     4.61\n"
	"   6   netprof-t1-client eth0             GRO receive                                                       -        -        -\n"
	"   7   netprof-t1-client socket           delivered to a TCP socket (peer port 8080)                        -        -        -\n"
	"   per packet: 0 veth crossings (+1 on the wire veth, through XDP and NAPI), 0 macvlan crossings, 1 backlog enqueues, 0 netfilter hooks (0.00 us in netfilter), 1.00 softirq passes, 0.00 FIB lookups\n"
	"\n"
	"3 distinct paths; per packet (all directions, wire included): 8.40 hops, 1.49 veth crossings, 0.00 macvlan crossings, 1.49 backlog enqueues, 1.49 softirq passes, 1.03 netfilter hooks (0.85 us), 0.77 FIB lookups\n"
	"\n"
	"Probe cost (netprof's programs, as the kernel counts and clocks them): 16.5 runs and 1.30 us per followed packet, calibrated over the first 0.5 s (the hooks' dispatch around them not included)\n"
	"   tc              4.0 runs per packet     100 ns a run\n"
	"   netfilter       2.0 runs per packet     150 ns a run\n"
	"   tracepoint     10.0 runs per packet      50 ns a run\n"
	"   sock_ops        0.5 runs per packet     200 ns a run\n"
	"   taken out of each hop's time: half a run of the probe at each end (ns a run: tc_ingress 100 tc_egress 100 netfilter 150 backlog 60 socket 80), FIB lookups' runs (40 ns each), and 0.27 us a packet of runs that record no hop, spread evenly over its hops\n"
	"\n"
	"Netfilter time per traversal, us (mean; netprof's own 0.10 us per slot taken out)\n"
	"   netprof-t1-node1             PREROUTING     1.50: raw+conntrack 0.30 mangle+nat-dst+filter+security+nat-src+helpers 1.00\n"
	"   netprof-t1-node1             FORWARD        0.15: raw+conntrack 0.15\n"
	"\n"
	"FIB lookups (fib_table_lookup): 135 for followed packets, 65 others in the run's namespaces (unfollowed packets, sockets' own routes)\n"
	"   per packet followed, by namespace:\n"
	"   netprof-t1-node1             0.77 (0.26 of them reverse-path checks; 200 lookups in all, 1 failed)\n"
	"Wire receive (the device's own count, then tc's after GRO): netprof-t1-node1 eth0 240 in, 80 after GRO (3.00 a packet);\n"
	"\n"
	"Context switches of the run's tasks: 500 (20 preempted), wakeups 480, 2.857 per packet, 0.50 per transaction\n"
	"NET_RX softirqs (all CPUs): 300; NET_TX softirqs 7\n"
	"Drops of followed packets: 4 (NOT_SPECIFIED after netprof-t1-node1 netfilter: 3, NETFILTER_DROP after netprof-t1-server eth0: 1)\n"
	"TCP: 40 RTT samples (the receiving socket's srtt at each followed segment), mean srtt 50.0 us, min 30, max 90; sock_ops: retransmits 0, RTO expiries 0; connections established 2, state changes 6\n"
	"Probes:\n"
	"   tc key         yes  flow (--tc-key flow)\n"
	"   xdp            yes  on (--xdp) on 2 devices\n"
	"   sock_ops       no   off: no run cgroup given\n";

static const char expected_json[] =
	"{\n"
	"  \"seconds\": 10,\n"
	"  \"packets_followed\": 180,\n"
	"  \"packets_finished\": 175,\n"
	"  \"sample_every\": 1,\n"
	"  \"packets_not_sampled\": 0,\n"
	"  \"tc_key\": \"flow\",\n"
	"  \"xdp\": true,\n"
	"  \"lost\": {\n"
	"    \"packet_map_full\": 2,\n"
	"    \"path_map_full\": 0,\n"
	"    \"hop_pair_map_full\": 0,\n"
	"    \"paths_truncated\": 0,\n"
	"    \"flow_pending\": 170,\n"
	"    \"flow_adopted\": 168,\n"
	"    \"flow_not_adopted\": 2,\n"
	"    \"flow_index_full\": 0,\n"
	"    \"xdp_hops\": 170,\n"
	"    \"vanished\": 3\n"
	"  },\n"
	"  \"paths\": [\n"
	"    {\n"
	"      \"direction\": \"Request path (client to server)\",\n"
	"      \"packets\": 90,\n"
	"      \"packets_in_direction\": 90,\n"
	"      \"share\": 100,\n"
	"      \"mean_end_to_end_us\": 23.460000000000001,\n"
	"      \"raw_mean_end_to_end_us\": 25,\n"
	"      \"hops\": [\n"
	"        {\n"
	"          \"index\": 1,\n"
	"          \"where\": \"netprof-t1-client eth0\",\n"
	"          \"what\": \"tc egress\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 2,\n"
	"          \"where\": \"netprof-t1-client eth0\",\n"
	"          \"what\": \"queued to the CPU backlog (veth crossing)\",\n"
	"          \"p50_us\": 1.298,\n"
	"          \"p99_us\": 9.1059999999999999,\n"
	"          \"raw_p50_us\": 1.4079999999999999,\n"
	"          \"mean_us\": 1.54,\n"
	"          \"raw_p99_us\": 9.2159999999999993,\n"
	"          \"raw_mean_us\": 1.6499999999999999,\n"
	"          \"probe_us\": 0.11,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 3,\n"
	"          \"where\": \"netprof-t1-node1 cali1a2b\",\n"
	"          \"what\": \"tc ingress\",\n"
	"          \"p50_us\": 5.5220000000000002,\n"
	"          \"p99_us\": 36.753999999999998,\n"
	"          \"raw_p50_us\": 5.6319999999999997,\n"
	"          \"mean_us\": 6.5700000000000003,\n"
	"          \"raw_p99_us\": 36.863999999999997,\n"
	"          \"raw_mean_us\": 6.6799999999999997,\n"
	"          \"probe_us\": 0.11,\n"
	"          \"fib_lookups_after\": 1\n"
	"        },\n"
	"        {\n"
	"          \"index\": 4,\n"
	"          \"where\": \"netprof-t1-node1 netfilter\",\n"
	"          \"what\": \"netfilter PREROUTING\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"inside_hook_us\": 1.5,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 5,\n"
	"          \"where\": \"netprof-t1-node1 netfilter\",\n"
	"          \"what\": \"netfilter FORWARD\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"inside_hook_us\": 0.14999999999999999,\n"
	"          \"fib_lookups_after\": 0.5\n"
	"        },\n"
	"        {\n"
	"          \"index\": 6,\n"
	"          \"where\": \"netprof-t1-node1 eth0\",\n"
	"          \"what\": \"queued for transmit (qdisc layer)\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 7,\n"
	"          \"where\": \"netprof-t1-node1 eth0\",\n"
	"          \"what\": \"queued to the CPU backlog (veth crossing)\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 8,\n"
	"          \"where\": \"netprof-t1-server eth0\",\n"
	"          \"what\": \"XDP, generic mode\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 9,\n"
	"          \"where\": \"netprof-t1-server eth0\",\n"
	"          \"what\": \"receive stack entered\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 10,\n"
	"          \"where\": \"netprof-t1-server socket\",\n"
	"          \"what\": \"delivered to a TCP socket (peer port 40000)\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        }\n"
	"      ],\n"
	"      \"veth_crossings\": 1,\n"
	"      \"wire_xdp_crossings\": 0,\n"
	"      \"macvlan_crossings\": 0,\n"
	"      \"backlog_enqueues\": 1,\n"
	"      \"wire_backlog_enqueues\": 1,\n"
	"      \"netfilter_hooks\": 2,\n"
	"      \"netfilter_us\": 1.6499999999999999,\n"
	"      \"netfilter_with_probes_us\": 2.3999999999999999,\n"
	"      \"softirq_passes\": 2,\n"
	"      \"fib_lookups\": 1.5,\n"
	"      \"nr_hops\": 10,\n"
	"      \"truncated\": false\n"
	"    },\n"
	"    {\n"
	"      \"direction\": \"Response path (server to client)\",\n"
	"      \"packets\": 80,\n"
	"      \"packets_in_direction\": 80,\n"
	"      \"share\": 100,\n"
	"      \"mean_end_to_end_us\": 17.329999999999998,\n"
	"      \"raw_mean_end_to_end_us\": 18,\n"
	"      \"hops\": [\n"
	"        {\n"
	"          \"index\": 1,\n"
	"          \"where\": \"netprof-t1-node1 eth0\",\n"
	"          \"what\": \"XDP, driver mode (veth crossing via NAPI, no backlog)\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 2,\n"
	"          \"where\": \"netprof-t1-node1 eth0\",\n"
	"          \"what\": \"tc ingress: redirected by BPF to a device's egress\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 3,\n"
	"          \"where\": \"netprof-t1-node1 cali1a2b\",\n"
	"          \"what\": \"tc egress\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 4,\n"
	"          \"where\": \"netprof-t1-node1 cali1a2b\",\n"
	"          \"what\": \"queued to the CPU backlog (veth crossing)\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 5,\n"
	"          \"where\": \"netprof-t1-client eth0\",\n"
	"          \"what\": \"tc ingress\",\n"
	"          \"p50_us\": 4.4829999999999997,\n"
	"          \"p99_us\": 4.4829999999999997,\n"
	"          \"raw_p50_us\": 4.6079999999999997,\n"
	"          \"mean_us\": 4.875,\n"
	"          \"raw_p99_us\": 4.6079999999999997,\n"
	"          \"raw_mean_us\": 5,\n"
	"          \"probe_us\": 0.125,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 6,\n"
	"          \"where\": \"netprof-t1-client eth0\",\n"
	"          \"what\": \"GRO receive\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        },\n"
	"        {\n"
	"          \"index\": 7,\n"
	"          \"where\": \"netprof-t1-client socket\",\n"
	"          \"what\": \"delivered to a TCP socket (peer port 8080)\",\n"
	"          \"p50_us\": null,\n"
	"          \"p99_us\": null,\n"
	"          \"raw_p50_us\": null,\n"
	"          \"mean_us\": null,\n"
	"          \"raw_p99_us\": null,\n"
	"          \"raw_mean_us\": null,\n"
	"          \"probe_us\": null,\n"
	"          \"fib_lookups_after\": 0\n"
	"        }\n"
	"      ],\n"
	"      \"veth_crossings\": 0,\n"
	"      \"wire_xdp_crossings\": 1,\n"
	"      \"macvlan_crossings\": 0,\n"
	"      \"backlog_enqueues\": 1,\n"
	"      \"wire_backlog_enqueues\": 0,\n"
	"      \"netfilter_hooks\": 0,\n"
	"      \"netfilter_us\": 0,\n"
	"      \"netfilter_with_probes_us\": 0,\n"
	"      \"softirq_passes\": 1,\n"
	"      \"fib_lookups\": 0,\n"
	"      \"nr_hops\": 7,\n"
	"      \"truncated\": false\n"
	"    }\n"
	"  ],\n"
	"  \"distinct_paths\": 3,\n"
	"  \"per_packet\": {\n"
	"    \"hops\": 8.4000000000000004,\n"
	"    \"veth_crossings\": 1.4857142857142858,\n"
	"    \"macvlan_crossings\": 0,\n"
	"    \"backlog_enqueues\": 1.4857142857142858,\n"
	"    \"softirq_passes\": 1.4857142857142858,\n"
	"    \"netfilter_hooks\": 1.0285714285714285,\n"
	"    \"netfilter_us\": 0.84857142857142853,\n"
	"    \"fib_lookups\": 0.77142857142857146\n"
	"  },\n"
	"  \"probe_cost\": {\n"
	"    \"measured\": true,\n"
	"    \"nf_slot_ns\": null,\n"
	"    \"runs_per_packet\": 16.5,\n"
	"    \"us_per_packet\": 1.3,\n"
	"    \"window_seconds\": 0.5,\n"
	"    \"window_packets\": 180,\n"
	"    \"cost_ns\": {\n"
	"      \"tc\": 100,\n"
	"      \"xdp\": null,\n"
	"      \"netfilter\": 150,\n"
	"      \"tracepoint\": 50,\n"
	"      \"sock_ops\": 200\n"
	"    },\n"
	"    \"runs\": {\n"
	"      \"tc\": 720,\n"
	"      \"xdp\": 0,\n"
	"      \"netfilter\": 360,\n"
	"      \"tracepoint\": 1800,\n"
	"      \"sock_ops\": 90\n"
	"    },\n"
	"    \"runs_per_packet_by_kind\": {\n"
	"      \"tc\": 4,\n"
	"      \"xdp\": 0,\n"
	"      \"netfilter\": 2,\n"
	"      \"tracepoint\": 10,\n"
	"      \"sock_ops\": 0.5\n"
	"    },\n"
	"    \"hop_run_ns\": {\n"
	"      \"tc_ingress\": 100,\n"
	"      \"tc_egress\": 100,\n"
	"      \"netfilter\": 150,\n"
	"      \"backlog\": 60,\n"
	"      \"socket\": 80\n"
	"    },\n"
	"    \"fib_run_ns\": 40,\n"
	"    \"other_us_per_packet\": 0.27000000000000002\n"
	"  },\n"
	"  \"netfilter\": {\n"
	"    \"probe_cost_us\": 0.10000000000000001,\n"
	"    \"hooks\": [\n"
	"      {\n"
	"        \"netns\": \"netprof-t1-node1\",\n"
	"        \"hook\": \"PREROUTING\",\n"
	"        \"total_us\": 1.5,\n"
	"        \"tables\": [\n"
	"          {\n"
	"            \"table\": \"raw+conntrack\",\n"
	"            \"mean_us\": 0.29999999999999999,\n"
	"            \"packets\": 90\n"
	"          },\n"
	"          {\n"
	"            \"table\": \"mangle+nat-dst+filter+security+nat-src+helpers\",\n"
	"            \"mean_us\": 1,\n"
	"            \"packets\": 90\n"
	"          }\n"
	"        ]\n"
	"      },\n"
	"      {\n"
	"        \"netns\": \"netprof-t1-node1\",\n"
	"        \"hook\": \"FORWARD\",\n"
	"        \"total_us\": 0.14999999999999999,\n"
	"        \"tables\": [\n"
	"          {\n"
	"            \"table\": \"raw+conntrack\",\n"
	"            \"mean_us\": 0.14999999999999999,\n"
	"            \"packets\": 90\n"
	"          }\n"
	"        ]\n"
	"      }\n"
	"    ]\n"
	"  },\n"
	"  \"fib\": {\n"
	"    \"counted\": true,\n"
	"    \"lookups_for_followed_packets\": 135,\n"
	"    \"lookups_other\": 65,\n"
	"    \"namespaces\": [\n"
	"      {\n"
	"        \"netns\": \"netprof-t1-node1\",\n"
	"        \"per_packet\": 0.77142857142857146,\n"
	"        \"attributed\": 135,\n"
	"        \"reverse_per_packet\": 0.25714285714285712,\n"
	"        \"lookups\": 200,\n"
	"        \"failed\": 1\n"
	"      }\n"
	"    ]\n"
	"  },\n"
	"  \"wire_receive\": [\n"
	"    {\n"
	"      \"netns\": \"netprof-t1-node1\",\n"
	"      \"device\": \"eth0\",\n"
	"      \"segments\": 240,\n"
	"      \"after_gro\": 80,\n"
	"      \"segments_per_packet\": 3\n"
	"    }\n"
	"  ],\n"
	"  \"context\": {\n"
	"    \"context_switches\": 500,\n"
	"    \"involuntary\": 20,\n"
	"    \"wakeups\": 480,\n"
	"    \"from_getrusage\": false,\n"
	"    \"per_packet\": 2.8571428571428572,\n"
	"    \"per_transaction\": 0.5,\n"
	"    \"net_rx_softirqs\": 300,\n"
	"    \"net_tx_softirqs\": 7\n"
	"  },\n"
	"  \"drops\": 4,\n"
	"  \"drop_reasons\": [\n"
	"    {\n"
	"      \"reason_code\": 2,\n"
	"      \"reason\": \"NOT_SPECIFIED\",\n"
	"      \"last_seen\": \"netprof-t1-node1 netfilter\",\n"
	"      \"count\": 3\n"
	"    },\n"
	"    {\n"
	"      \"reason_code\": 6,\n"
	"      \"reason\": \"NETFILTER_DROP\",\n"
	"      \"last_seen\": \"netprof-t1-server eth0\",\n"
	"      \"count\": 1\n"
	"    }\n"
	"  ],\n"
	"  \"sock_ops\": {\n"
	"    \"rtt_samples\": 40,\n"
	"    \"rtt_mean_us\": 50,\n"
	"    \"rtt_min_us\": 30,\n"
	"    \"rtt_max_us\": 90,\n"
	"    \"retransmits\": 0,\n"
	"    \"rto_expired\": 0,\n"
	"    \"established\": 2,\n"
	"    \"state_changes\": 6\n"
	"  },\n"
	"  \"devices\": [\n"
	"    {\n"
	"      \"netns\": \"netprof-t1-client\",\n"
	"      \"device\": \"eth0\",\n"
	"      \"kind\": \"veth\",\n"
	"      \"wire\": false,\n"
	"      \"traced\": true,\n"
	"      \"xdp\": \"off\",\n"
	"      \"ingress_packets\": 80,\n"
	"      \"egress_packets\": 90,\n"
	"      \"kernel_rx_packets\": 0\n"
	"    },\n"
	"    {\n"
	"      \"netns\": \"netprof-t1-node1\",\n"
	"      \"device\": \"cali1a2b\",\n"
	"      \"kind\": \"veth\",\n"
	"      \"wire\": false,\n"
	"      \"traced\": true,\n"
	"      \"xdp\": \"off\",\n"
	"      \"ingress_packets\": 90,\n"
	"      \"egress_packets\": 80,\n"
	"      \"kernel_rx_packets\": 0\n"
	"    },\n"
	"    {\n"
	"      \"netns\": \"netprof-t1-node1\",\n"
	"      \"device\": \"eth0\",\n"
	"      \"kind\": \"veth\",\n"
	"      \"wire\": true,\n"
	"      \"traced\": true,\n"
	"      \"xdp\": \"driver\",\n"
	"      \"ingress_packets\": 80,\n"
	"      \"egress_packets\": 90,\n"
	"      \"kernel_rx_packets\": 240\n"
	"    },\n"
	"    {\n"
	"      \"netns\": \"netprof-t1-server\",\n"
	"      \"device\": \"eth0\",\n"
	"      \"kind\": \"veth\",\n"
	"      \"wire\": false,\n"
	"      \"traced\": true,\n"
	"      \"xdp\": \"generic\",\n"
	"      \"ingress_packets\": 90,\n"
	"      \"egress_packets\": 80,\n"
	"      \"kernel_rx_packets\": 0\n"
	"    },\n"
	"    {\n"
	"      \"netns\": \"netprof-t1-server\",\n"
	"      \"device\": \"lo\",\n"
	"      \"kind\": \"loopback\",\n"
	"      \"wire\": false,\n"
	"      \"traced\": false,\n"
	"      \"xdp\": \"off\",\n"
	"      \"ingress_packets\": 0,\n"
	"      \"egress_packets\": 0,\n"
	"      \"kernel_rx_packets\": 0\n"
	"    }\n"
	"  ],\n"
	"  \"probes\": [\n"
	"    {\n"
	"      \"probe\": \"tc key\",\n"
	"      \"ran\": true,\n"
	"      \"detail\": \"flow (--tc-key flow)\"\n"
	"    },\n"
	"    {\n"
	"      \"probe\": \"xdp\",\n"
	"      \"ran\": true,\n"
	"      \"detail\": \"on (--xdp) on 2 devices\"\n"
	"    },\n"
	"    {\n"
	"      \"probe\": \"sock_ops\",\n"
	"      \"ran\": false,\n"
	"      \"detail\": \"off: no run cgroup given\"\n"
	"    }\n"
	"  ]\n"
	"}\n";

TEST(hop_report_text)
{
	static struct hops_snapshot s;
	char *text;

	build(&s);
	text = render(&s, false);
	ASSERT_STREQ(text, expected_text, "hop report, text");
	free(text);
}

TEST(hop_report_json)
{
	static struct hops_snapshot s;
	char *json;

	build(&s);
	json = render(&s, true);
	ASSERT_STREQ(json, expected_json, "hop report, JSON");
	free(json);
}

TEST(hop_summary_leaves_the_wire_out)
{
	static struct hops_snapshot s;
	struct hops_summary sum;

	build(&s);
	hops_summarize(&s, &sum);
	ASSERT_TRUE(sum.valid, "a request path");
	ASSERT_EQ(sum.hops, 10, "hops on the request path");
	ASSERT_EQ(sum.veth, 1, "veth crossings without the wire's");
	ASSERT_EQ(sum.backlog, 1, "backlog enqueues without the wire's");
	ASSERT_EQ(sum.wire_backlog, 1, "the wire veth's backlog enqueue");
	ASSERT_EQ(sum.nf_hooks, 2, "netfilter hooks");
	ASSERT_NEAR(sum.nf_us, 1.65, 1e-9, "netfilter us, probe cost taken out");
	ASSERT_NEAR(sum.fib_lookups, 1.5, 1e-9, "FIB lookups per packet");
	ASSERT_NEAR(sum.softirq_passes, 2, 1e-9, "softirq passes per packet");
	ASSERT_NEAR(sum.raw_path_us, 25, 1e-9, "first to last hop, as traced");
	/* Hop by hop: half a run at each end, the FIB lookups' runs and 270/9 ns
	 * of the runs that record no hop (0.79 us in all), then the slots'
	 * entries inside the hooks (what netfilter took as traced, less what it
	 * took with the slot cost out). */
	ASSERT_NEAR(sum.path_us, 25 - 0.79 - (s.paths[0].val.nf_ns / 90.0 / 1e3 - 1.65), 1e-9,
		    "first to last hop, the probes' cost taken out");
	ASSERT_TRUE(sum.path_us < sum.raw_path_us, "corrected below raw");
	ASSERT_EQ(sum.packets_followed, 180, "packets followed");
	ASSERT_EQ(sum.packets_lost, 2, "packet map full");
	ASSERT_EQ(sum.ctx_switches, 500, "context switches");

	s.server_port = 0;
	hops_summarize(&s, &sum);
	ASSERT_NEAR(sum.raw_path_us, 3, 1e-9, "without a server port: the 'other' path");
	ASSERT_EQ(sum.hops, 2, "the 'other' path's hops");
}

/* By default the calibration slot is off after the calibration window: slot
 * 0's segment then holds the tables, and the window's slot cost is used. */
TEST(hop_nf_without_the_calibration_slot)
{
	static struct hops_snapshot s;
	struct hops_summary sum;

	build(&s);
	s.nf_slots = (1u << 0) | (1u << (NF_SLOTS - 1));
	s.cost.nf_slot_ns = 100;
	/* PREROUTING: 0 -> 8 holds every table; FORWARD likewise. */
	set_nf(&s.nf[0], NODE, 0, NF_CALIBRATION_SLOT, 1600);
	set_nf(&s.nf[1], NODE, 2, NF_CALIBRATION_SLOT, 250);
	s.nr_nf = 2;
	hops_summarize(&s, &sum);
	ASSERT_NEAR(sum.nf_us, 1.5 + 0.15, 1e-9, "segment 0 is tables, less one slot's entry each");
	{
		char *text = render(&s, false);

		ASSERT_TRUE(strstr(text, "PREROUTING     1.50: raw+conntrack+mangle+nat-dst+filter+"
				   "security+nat-src+helpers 1.50\n") != NULL,
			    "the segment's label names the tables, not the probe cost");
		free(text);
	}
}
