/* A run's report (see run_report.h), written from the run's results only. */
#include <math.h>

#include "lib/histogram.h"
#include "lib/output.h"
#include "run/run_report.h"

/*
 * Samples per transaction where the workload has transactions, else per
 * IP packet the two endpoints sent: the function timer's "per packet" too,
 * and a count that exists with or without the hop tracer.
 */
static void print_profile(const struct categories *cats, const struct run_workload_result *w)
{
	const struct run_phase *p = &w->profile_phase;
	double tx = p->lg.client.win_transactions, packets = p->ip_packets;

	out_object_begin("profile");
	out_double("seconds", "\nProfile phase (the stack sampler alone, %.1f s measured):\n",
		   p->lg.seconds);
	profiler_print_stats(&w->prof);
	out_string("folded", w->folded[0] ? "folded stacks: %s (netprof flame FILE -o out.svg)\n" : NULL,
		   w->folded);
	out_string("samples_per", NULL, tx > 0 ? "transaction" : packets > 0 ? "ip_packet" : NULL);
	if (tx > 0)
		out_text("Where the cycles went (samples per transaction):\n");
	else if (packets > 0)
		out_text("Where the cycles went (samples per packet = per IP packet the endpoints "
			 "sent, %.0f):\n", packets);
	else
		out_text("Where the cycles went (samples):\n");
	categories_print(cats, &w->cats, tx > 0 ? tx : packets, tx > 0 ? "transaction" : "packet");
	out_object_end();
}

static void print_overhead(const struct run_workload_result *w)
{
	bool stream = w->lg.workload == LG_STREAM || w->lg.workload == LG_PUSH;
	double with = stream ? w->traced_gbps : w->traced_tps;
	double without = stream ? w->untraced_gbps : w->untraced_tps;

	out_object_begin("overhead");
	out_string("figure", "Probe overhead (%s", stream ? "Gbit/s" : "transactions/s");
	out_uint("rounds", ", mean of %llu alternating rounds)", (unsigned long long)w->rounds);
	out_double("without_probes", ": without probes %.2f", without);
	out_double("with_probes", ", with %.2f", with);
	out_double("ratio", ", ratio %.3f\n", without > 0 ? with / without : NAN);
	out_object_end();
}

/*
 * The traced request path beside the clean half round trip: with the
 * probes' cost taken out, the kernel's one-way path (first to last hop, a
 * part of the one-way time) must fit in what the clean run measured.
 */
static void print_path_vs_clean(const struct run_workload_result *w)
{
	const struct histogram *lat = w->lg.latency;
	double half_rtt = lat && lat->count ? hist_mean(lat) / 2e3 : NAN;

	if (!w->have_hops || !w->hops.valid || isnan(half_rtt))
		return;
	out_double("request_path_us", "Request path, first to last hop: %.2f us with the probes' cost "
		   "taken out", w->hops.path_us);
	out_double("raw_request_path_us", " (%.2f us as traced)", w->hops.raw_path_us);
	out_double("clean_half_rtt_us", "; the clean half round trip: %.2f us (mean RTT/2 of the "
		   "measure phase)\n", half_rtt);
}

/* The load generator's figures while traced, beside the clean ones. */
static void print_explain_load(const struct run_workload_result *w)
{
	const struct loadgen_result *e = &w->explain_phase.lg;
	bool stream = lg_headline_is_gbps(w->lg.workload);
	double clean = stream ? w->lg.gbps : w->lg.tps, traced = stream ? e->gbps : e->tps;

	out_object_begin("explain");
	out_double("seconds", "\nExplain phase (hop tracer and function timing attached, %.1f s measured):",
		   e->seconds);
	if (stream)
		out_text(" %.3f Gbit/s while traced vs %.3f clean", traced, clean);
	else
		out_text(" %.0f transactions/s while traced vs %.0f clean", traced, clean);
	out_double("ratio", ", ratio %.3f\n", clean > 0 ? traced / clean : NAN);
	print_path_vs_clean(w);
	if (out_json()) {
		out_key("load");
		loadgen_print_result(e);
	}
	out_object_end();
}

static void print_workload(const struct run_report *r, int i)
{
	const struct run_config *c = r->config;
	const struct run_workload_result *w = &r->result->w[i];

	out_object_begin(NULL);
	out_string("workload", "\n== %s ==\n", lg_workload_name(w->lg.workload));
	if (c->overhead) {
		print_overhead(w);
		out_object_end();
		return;
	}
	out_text("Measure phase (no probe of netprof's attached):\n");
	out_key("load");
	loadgen_print_result(&w->lg);
	if (w->have_profile)
		print_profile(r->cats, w);
	if (w->explain_phase.ran)
		print_explain_load(w);
	if (r->hops[i]) {
		out_text("\n");
		hops_print(r->hops[i], w->explain_phase.lg.seconds,
			   w->explain_phase.lg.client.win_transactions);
	} else {
		out_string("hops", c->trace ? NULL : "\nHop tracer off (--no-trace)\n", "off");
	}
	if (r->funcs[i]) {
		out_text("\n");
		func_timer_print(r->funcs[i], w->explain_phase.ip_packets,
				 w->explain_phase.lg.client.transactions, r->cats);
	}
	out_object_end();
}

/* Where each node's work ran, and what joins the nodes: the emulation's
 * two machines, as the topology placed them. */
static void print_nodes(const struct topo *t)
{
	char rate[32];

	out_object_begin("nodes");
	out_string("node1_cpus", "nodes: node1 on CPU %s", t->node_cpus[0]);
	out_string("node2_cpus", ", node2 on CPU %s", t->node_cpus[1]);
	out_string("client_cpus", "; client on %s", t->client.cpus);
	out_string("server_cpus", ", server on %s", t->server.cpus);
	out_string("wire", "; wire: %s", topo_wire_name(t->opts.wire));
	out_text(t->opts.wire == TOPO_WIRE_NAPI ? " (a NIC's receive: GRO, NAPI threads" :
		 " (a plain veth: receive queued on the sender's CPU backlog");
	out_array_begin("napi");
	for (unsigned i = 0; i < t->nr_napi; i++) {
		out_object_begin(NULL);
		out_string("thread", " %s", t->napi[i].comm);
		out_string("netns", NULL, t->napi[i].netns);
		out_string("cpus", " on %s", t->napi[i].cpus);
		out_object_end();
	}
	out_array_end();
	out_text(")");
	topo_format_rate(t->opts.link_rate, rate, sizeof(rate));
	out_uint("link_rate_bit_s", NULL, t->opts.link_rate);
	if (t->opts.link_rate)
		out_text(", capped at %s\n", rate);
	else
		out_text(", uncapped\n");
	out_object_end();
}

void run_report_print(const struct run_report *r)
{
	const struct run_result *res = r->result;
	const struct topo *t = &res->topo;

	out_object_begin(NULL);
	out_string("cni", "netprof run: %s", topo_cni_name(t->opts.cni));
	out_string("placement", ", %s", t->opts.same_node ? "same-node" : "cross-node");
	out_string("target", ", to a %s", t->opts.target_service ? "ClusterIP" : "pod");
	out_string("run", " (run %s)\n", t->opts.run);
	out_string("client", "client %s", t->client.ip_str);
	out_string("client_netns", " (%s)", t->client.netns);
	out_string("server", " -> server %s", t->server.ip_str);
	out_string("server_netns", " (%s)", t->server.netns);
	out_string("dialed", ", dialed %s", t->dst_str);
	out_uint("port", ":%llu\n", t->dst_port);
	print_nodes(t);
	topo_print_rules(t);
	out_bool("partial", res->partial ? "PARTIAL RUN: %s\n" : NULL, res->partial);
	out_array_begin("workloads");
	for (int i = 0; i < res->nr_workloads; i++)
		print_workload(r, i);
	out_array_end();
	out_object_end();
}
