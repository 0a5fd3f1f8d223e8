/*
 * The compare tables (see compare_report.h). Each table is printed once,
 * through output.h, so its text and JSON hold the same figures under the
 * same filter.
 */
#include <math.h>

#include "lib/output.h"
#include "run/compare_report.h"

/* A figure of the request path's hop summary, NaN when the tracer saw none. */
static double request_path(const struct run_workload_result *x, double figure)
{
	return x->have_hops && x->hops.valid ? figure : NAN;
}

static double latency_us(const struct loadgen_result *lg, double percentile)
{
	return lg->latency && lg->latency->count ? hist_percentile(lg->latency, percentile) / 1e3
						 : NAN;
}

/* The explain phase's headline figure over the measure phase's: what the
 * probes cost this datapath. */
static double traced_ratio(const struct run_workload_result *x)
{
	const struct loadgen_result *e = &x->explain_phase.lg;
	bool stream = lg_headline_is_gbps(x->lg.workload);
	double clean = stream ? x->lg.gbps : x->lg.tps;

	if (!x->explain_phase.ran || !(clean > 0))
		return NAN;
	return (stream ? e->gbps : e->tps) / clean;
}

static void print_compare_row(const struct run_result *r, int w)
{
	const struct run_workload_result *x = &r->w[w];
	const struct loadgen_result *lg = &x->lg;

	out_object_begin(NULL);
	out_string("cni", "%-14s", topo_cni_name(r->topo.opts.cni));
	out_string("workload", " %-9s", lg_workload_name(lg->workload));
	out_double("latency_p50_us", " %9.1f", latency_us(lg, 50));
	out_double("latency_p99_us", " %9.1f", latency_us(lg, 99));
	out_double("transactions_per_s", " %11.0f", lg->latency ? lg->tps : NAN);
	out_double("gbit_per_s", " %8.2f", lg->gbps > 0 ? lg->gbps : NAN);
	/* One machine: both sides see the same machine-wide figure; each
	 * side's own process time is what tells them apart. */
	out_double("machine_cpu_cores", " %6.2f", lg->client.cpu.machine_busy);
	out_double("client_proc_cores", " %6.2f",
		   lg->client.cpu.proc_user + lg->client.cpu.proc_system);
	out_double("hops", " %5.0f", request_path(x, x->hops.hops));
	out_double("veth_crossings", " %5.0f", request_path(x, x->hops.veth));
	out_double("macvlan_crossings", " %5.0f", request_path(x, x->hops.macvlan));
	out_double("netfilter_hooks", " %5.0f", request_path(x, x->hops.nf_hooks));
	out_double("netfilter_us", " %6.2f", request_path(x, x->hops.nf_us));
	/* First to last hop with the probes' cost taken out, then as traced. */
	out_double("path_us", " %6.2f", request_path(x, x->hops.path_us));
	out_double("raw_path_us", " %6.2f", request_path(x, x->hops.raw_path_us));
	out_double("backlog_enqueues", " %5.0f", request_path(x, x->hops.backlog));
	out_double("softirq_passes", " %5.2f", request_path(x, x->hops.softirq_passes));
	out_double("fib_lookups", " %5.2f", request_path(x, x->hops.fib_lookups));
	out_double("function_self_us_per_packet", " %6.2f",
		   x->funcs.valid ? x->funcs.total_self_us_per_packet : NAN);
	out_double("traced_ratio", " %6.3f", traced_ratio(x));
	out_double("probe_runs_per_packet", " %6.1f",
		   x->have_hops ? x->hops.probe_runs : NAN);
	out_double("probe_us_per_packet", " %6.2f", x->have_hops ? x->hops.probe_us : NAN);
	out_bool("partial", lg->partial ? "  PARTIAL\n" : "\n", lg->partial);
	out_object_end();
}

/* A per-category figure of one workload's result, NaN when it has none. */
typedef double (*category_figure)(const struct run_workload_result *x, int k);

static double cpu_share(const struct run_workload_result *x, int k)
{
	return x->have_profile && x->cats.total ? 100.0 * x->cats.samples[k] / x->cats.total : NAN;
}

static double func_self_us(const struct run_workload_result *x, int k)
{
	return x->funcs.valid ? x->funcs.self_us_per_packet[k] : NAN;
}

/* One row per datapath and workload that has the figure, one column per
 * category that reaches `threshold` somewhere. */
static void print_category_table(const struct run_result *results, int nr, int nr_workloads,
				 const char *key, const char *title, category_figure figure,
				 double threshold, const char *fmt)
{
	bool shown[CAT_MAX] = {};
	const struct run_result *any = NULL;

	for (int i = 0; i < nr; i++)
		for (int w = 0; w < results[i].nr_workloads; w++)
			for (int k = 0; k < CAT_MAX; k++) {
				double v = figure(&results[i].w[w], k);

				if (isnan(v))
					continue;
				any = &results[i];
				shown[k] |= v >= threshold;
			}
	if (!any)
		return;
	out_text("\n%s\n", title);
	out_text("%-14s %-9s", "datapath", "workload");
	for (int k = 0; k < CAT_MAX; k++)
		if (shown[k])
			out_text(" %8.8s", any->cat_names[k]);
	out_text("\n");
	out_array_begin(key);
	for (int w = 0; w < nr_workloads; w++)
		for (int i = 0; i < nr; i++) {
			const struct run_workload_result *x = &results[i].w[w];

			if (w >= results[i].nr_workloads || isnan(figure(x, 0)))
				continue;
			out_object_begin(NULL);
			out_string("cni", "%-14s", topo_cni_name(results[i].topo.opts.cni));
			out_string("workload", " %-9s", lg_workload_name(x->lg.workload));
			out_object_begin("categories");
			for (int k = 0; k < CAT_MAX; k++)
				if (shown[k])
					out_double(results[i].cat_names[k], fmt, figure(x, k));
			out_object_end();
			out_text("\n");
			out_object_end();
		}
	out_array_end();
}

void compare_report_print(const struct run_result *results, int nr, int nr_workloads,
			  const char *base_run, const char *results_root)
{
	out_object_begin(NULL);
	out_string("run", "netprof compare (run %s)", base_run);
	out_text(": latency, rate, Gbit/s and CPU from the measure phase (no probes);\n"
		 "the request path's figures per packet, from the explain phase (path: first to\n"
		 "last hop with the probes' cost taken out, raw: as traced); traced: the explain\n"
		 "phase's rate over the measure phase's; probe: netprof's programs' runs and time\n"
		 "per followed packet; cycles from the profile phase\n\n");
	out_text("%-14s %-9s %9s %9s %11s %8s %6s %6s %5s %5s %5s %5s %6s %6s %6s %5s %5s %5s %6s %6s "
		 "%6s %6s\n",
		 "datapath", "workload", "p50 us", "p99 us", "trans/s", "Gbit/s", "cpu", "client",
		 "hops", "veth", "mvlan", "nf", "nf us", "path", "raw", "blog", "sirq", "fib", "fn us",
		 "traced", "probe", "pr us");
	out_array_begin("rows");
	for (int w = 0; w < nr_workloads; w++)
		for (int i = 0; i < nr; i++)
			if (w < results[i].nr_workloads)
				print_compare_row(&results[i], w);
	out_array_end();
	print_category_table(results, nr, nr_workloads, "cpu_share_pct",
			     "Where the cycles went (% of the run's samples; categories over 1% anywhere)",
			     cpu_share, 1.0, " %8.1f");
	print_category_table(results, nr, nr_workloads, "function_self_us_per_packet_by_category",
			     "Kernel function self time per packet, by category (us; over 0.01 anywhere)",
			     func_self_us, 0.01, " %8.3f");
	out_string("results", "\nfull reports: %s/", results_root);
	out_text("%s-<datapath>/report.txt\n", base_run);
	out_object_end();
}
