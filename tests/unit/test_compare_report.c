/*
 * netprof compare's tables from hand-built results: every column, a missing
 * figure as "-" (text) or null (JSON), the category tables' thresholds and
 * the rows grouped by workload.
 */
#include <math.h>
#include <stdlib.h>

#include "lib/histogram.h"
#include "lib/output.h"
#include "run/compare_report.h"
#include "assert_text.h"
#include "test.h"

static struct histogram latency;
static struct run_result results[2];

static void name_categories(struct run_result *r)
{
	static const char *const names[] = { "tcp-ip", "veth-backlog", "iptables", "other" };

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		snprintf(r->cat_names[k], sizeof(r->cat_names[k]), "%s", names[k]);
}

/*
 * calico: pingpong with every figure, then a stream with no hop summary;
 * cilium: pingpong with a profile but no tracer, and a partial stream.
 */
static const struct run_result *build_results(void)
{
	struct run_workload_result *x;

	memset(results, 0, sizeof(results));
	hist_reset(&latency);
	for (int i = 0; i < 90; i++)
		hist_record(&latency, 20000);
	for (int i = 0; i < 10; i++)
		hist_record(&latency, 80000);

	results[0].topo.opts.cni = TOPO_CNI_CALICO;
	results[0].nr_workloads = 2;
	name_categories(&results[0]);
	x = &results[0].w[0];
	x->lg.workload = LG_PINGPONG;
	x->lg.latency = &latency;
	x->lg.tps = 45123.4;
	x->lg.client.cpu.machine_busy = 1.234;
	x->lg.client.cpu.proc_user = 0.25;
	x->lg.client.cpu.proc_system = 0.5;
	/* The explain phase ran at 0.5 of the clean rate. */
	x->explain_phase.ran = true;
	x->explain_phase.lg.tps = 22561.7;
	x->have_hops = true;
	x->hops = (struct hops_summary){ .valid = true, .hops = 7, .veth = 2, .macvlan = 0,
					 .nf_hooks = 6, .nf_us = 1.5, .backlog = 2,
					 .softirq_passes = 1.25, .fib_lookups = 2,
					 .path_us = 4.25, .raw_path_us = 8.5,
					 .probe_runs = 16.5, .probe_us = 1.25 };
	x->funcs.valid = true;
	x->funcs.total_self_us_per_packet = 3.25;
	x->funcs.self_us_per_packet[0] = 2.5;
	x->funcs.self_us_per_packet[1] = 0.005;
	x->funcs.self_us_per_packet[2] = 0.745;
	x->have_profile = true;
	x->cats.total = 1000;
	x->cats.samples[0] = 700;
	x->cats.samples[1] = 5;
	x->cats.samples[2] = 295;
	x = &results[0].w[1];
	x->lg.workload = LG_STREAM;
	x->lg.gbps = 12.5;
	x->lg.client.cpu.machine_busy = 1.5;
	x->lg.client.cpu.proc_user = 0.125;
	x->lg.client.cpu.proc_system = 0.875;
	x->have_hops = true;	/* attached, but no request path was seen */
	x->hops.probe_runs = x->hops.probe_us = NAN;	/* nor its cost measured */

	results[1].topo.opts.cni = TOPO_CNI_CILIUM;
	results[1].nr_workloads = 2;
	name_categories(&results[1]);
	x = &results[1].w[0];
	x->lg.workload = LG_PINGPONG;
	x->lg.latency = &latency;
	x->lg.tps = 50000;
	x->lg.client.cpu.machine_busy = 1;
	x->have_profile = true;
	x->cats.total = 200;
	x->cats.samples[0] = 150;
	x->cats.samples[3] = 50;
	x = &results[1].w[1];
	x->lg.workload = LG_STREAM;
	x->lg.partial = true;
	x->lg.gbps = 0;
	return results;
}


static char *render(bool json)
{
	const struct run_result *r = build_results();
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	out_to(f, json);
	compare_report_print(r, 2, 2, "cmp-1234", "results");
	out_finish();
	fclose(f);
	out_init(false);
	return text;
}

TEST(compare_text_tables)
{
	char *text = render(false);

	ASSERT_TEXT(text,
		"netprof compare (run cmp-1234): latency, rate, Gbit/s and CPU from the measure phase (no probes);\n"
		"the request path's figures per packet, from the explain phase (path: first to\n"
		"last hop with the probes' cost taken out, raw: as traced); traced: the explain\n"
		"phase's rate over the measure phase's; probe: netprof's programs' runs and time\n"
		"per followed packet; cycles from the profile phase\n"
		"\n"
		"datapath       workload     p50 us    p99 us     trans/s   Gbit/s    cpu client  hops  veth mvlan    nf  nf us   path    raw  blog  sirq   fib  fn us traced  probe  pr us\n"
		"calico         pingpong       20.0      80.0       45123        -   1.23   0.75     7     2     0     6   1.50   4.25   8.50     2  1.25  2.00   3.25  0.500   16.5   1.25\n"
		"cilium         pingpong       20.0      80.0       50000        -   1.00   0.00     -     -     -     -      -      -      -     -     -     -      -      -      -      -\n"
		"calico         stream            -         -           -    12.50   1.50   1.00     -     -     -     -      -      -      -     -     -     -      -      -      -      -\n"
		"cilium         stream            -         -           -        -   0.00   0.00     -     -     -     -      -      -      -     -     -     -      -      -      -      -  PARTIAL\n"
		"\n"
		"Where the cycles went (% of the run's samples; categories over 1% anywhere)\n"
		"datapath       workload    tcp-ip iptables    other\n"
		"calico         pingpong      70.0     29.5      0.0\n"
		"cilium         pingpong      75.0      0.0     25.0\n"
		"\n"
		"Kernel function self time per packet, by category (us; over 0.01 anywhere)\n"
		"datapath       workload    tcp-ip iptables\n"
		"calico         pingpong     2.500    0.745\n"
		"\n"
		"full reports: results/cmp-1234-<datapath>/report.txt\n");
	free(text);
}

/* The category tables are the text's tables, columns and rows alike. */
TEST(compare_json_tables)
{
	char *text = render(true);

	ASSERT_TEXT(text,
		"{\n"
		"  \"run\": \"cmp-1234\",\n"
		"  \"rows\": [\n"
		"    {\n"
		"      \"cni\": \"calico\",\n"
		"      \"workload\": \"pingpong\",\n"
		"      \"latency_p50_us\": 20.030999999999999,\n"
		"      \"latency_p99_us\": 80,\n"
		"      \"transactions_per_s\": 45123.400000000001,\n"
		"      \"gbit_per_s\": null,\n"
		"      \"machine_cpu_cores\": 1.234,\n"
		"      \"client_proc_cores\": 0.75,\n"
		"      \"hops\": 7,\n"
		"      \"veth_crossings\": 2,\n"
		"      \"macvlan_crossings\": 0,\n"
		"      \"netfilter_hooks\": 6,\n"
		"      \"netfilter_us\": 1.5,\n"
		"      \"path_us\": 4.25,\n"
		"      \"raw_path_us\": 8.5,\n"
		"      \"backlog_enqueues\": 2,\n"
		"      \"softirq_passes\": 1.25,\n"
		"      \"fib_lookups\": 2,\n"
		"      \"function_self_us_per_packet\": 3.25,\n"
		"      \"traced_ratio\": 0.5,\n"
		"      \"probe_runs_per_packet\": 16.5,\n"
		"      \"probe_us_per_packet\": 1.25,\n"
		"      \"partial\": false\n"
		"    },\n"
		"    {\n"
		"      \"cni\": \"cilium\",\n"
		"      \"workload\": \"pingpong\",\n"
		"      \"latency_p50_us\": 20.030999999999999,\n"
		"      \"latency_p99_us\": 80,\n"
		"      \"transactions_per_s\": 50000,\n"
		"      \"gbit_per_s\": null,\n"
		"      \"machine_cpu_cores\": 1,\n"
		"      \"client_proc_cores\": 0,\n"
		"      \"hops\": null,\n"
		"      \"veth_crossings\": null,\n"
		"      \"macvlan_crossings\": null,\n"
		"      \"netfilter_hooks\": null,\n"
		"      \"netfilter_us\": null,\n"
		"      \"path_us\": null,\n"
		"      \"raw_path_us\": null,\n"
		"      \"backlog_enqueues\": null,\n"
		"      \"softirq_passes\": null,\n"
		"      \"fib_lookups\": null,\n"
		"      \"function_self_us_per_packet\": null,\n"
		"      \"traced_ratio\": null,\n"
		"      \"probe_runs_per_packet\": null,\n"
		"      \"probe_us_per_packet\": null,\n"
		"      \"partial\": false\n"
		"    },\n"
		"    {\n"
		"      \"cni\": \"calico\",\n"
		"      \"workload\": \"stream\",\n"
		"      \"latency_p50_us\": null,\n"
		"      \"latency_p99_us\": null,\n"
		"      \"transactions_per_s\": null,\n"
		"      \"gbit_per_s\": 12.5,\n"
		"      \"machine_cpu_cores\": 1.5,\n"
		"      \"client_proc_cores\": 1,\n"
		"      \"hops\": null,\n"
		"      \"veth_crossings\": null,\n"
		"      \"macvlan_crossings\": null,\n"
		"      \"netfilter_hooks\": null,\n"
		"      \"netfilter_us\": null,\n"
		"      \"path_us\": null,\n"
		"      \"raw_path_us\": null,\n"
		"      \"backlog_enqueues\": null,\n"
		"      \"softirq_passes\": null,\n"
		"      \"fib_lookups\": null,\n"
		"      \"function_self_us_per_packet\": null,\n"
		"      \"traced_ratio\": null,\n"
		"      \"probe_runs_per_packet\": null,\n"
		"      \"probe_us_per_packet\": null,\n"
		"      \"partial\": false\n"
		"    },\n"
		"    {\n"
		"      \"cni\": \"cilium\",\n"
		"      \"workload\": \"stream\",\n"
		"      \"latency_p50_us\": null,\n"
		"      \"latency_p99_us\": null,\n"
		"      \"transactions_per_s\": null,\n"
		"      \"gbit_per_s\": null,\n"
		"      \"machine_cpu_cores\": 0,\n"
		"      \"client_proc_cores\": 0,\n"
		"      \"hops\": null,\n"
		"      \"veth_crossings\": null,\n"
		"      \"macvlan_crossings\": null,\n"
		"      \"netfilter_hooks\": null,\n"
		"      \"netfilter_us\": null,\n"
		"      \"path_us\": null,\n"
		"      \"raw_path_us\": null,\n"
		"      \"backlog_enqueues\": null,\n"
		"      \"softirq_passes\": null,\n"
		"      \"fib_lookups\": null,\n"
		"      \"function_self_us_per_packet\": null,\n"
		"      \"traced_ratio\": null,\n"
		"      \"probe_runs_per_packet\": null,\n"
		"      \"probe_us_per_packet\": null,\n"
		"      \"partial\": true\n"
		"    }\n"
		"  ],\n"
		"  \"cpu_share_pct\": [\n"
		"    {\n"
		"      \"cni\": \"calico\",\n"
		"      \"workload\": \"pingpong\",\n"
		"      \"categories\": {\n"
		"        \"tcp-ip\": 70,\n"
		"        \"iptables\": 29.5,\n"
		"        \"other\": 0\n"
		"      }\n"
		"    },\n"
		"    {\n"
		"      \"cni\": \"cilium\",\n"
		"      \"workload\": \"pingpong\",\n"
		"      \"categories\": {\n"
		"        \"tcp-ip\": 75,\n"
		"        \"iptables\": 0,\n"
		"        \"other\": 25\n"
		"      }\n"
		"    }\n"
		"  ],\n"
		"  \"function_self_us_per_packet_by_category\": [\n"
		"    {\n"
		"      \"cni\": \"calico\",\n"
		"      \"workload\": \"pingpong\",\n"
		"      \"categories\": {\n"
		"        \"tcp-ip\": 2.5,\n"
		"        \"iptables\": 0.745\n"
		"      }\n"
		"    }\n"
		"  ],\n"
		"  \"results\": \"results\"\n"
		"}\n");
	free(text);
}
