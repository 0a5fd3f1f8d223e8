/*
 * netprof run's report from hand-built results, with no probe attached: the
 * header, the CPU profile with its denominator named, the hop tracer's
 * absence, and the overhead figures of --overhead.
 */
#include <stdlib.h>

#include "lib/output.h"
#include "run/run_report.h"
#include "topo/topo_impl.h"
#include "assert_text.h"
#include "test.h"

static struct run_config config;
static struct run_result result;
static struct categories *cats;	/* the built-in rules, loaded once for every test */

static int category(const char *name)
{
	for (int k = 0; k < categories_count(cats); k++)
		if (!strcmp(categories_name(cats, k), name))
			return k;
	return categories_count(cats) - 1;
}

/* pingpong (per transaction), then a stream (per IP packet). */
static bool build(void)
{
	struct topo *t = &result.topo;
	struct run_workload_result *w;

	cats = cats ? cats : categories_load(NULL);
	if (!cats)
		return false;
	run_config_defaults(&config);
	config.trace = false;
	memset(&result, 0, sizeof(result));
	t->opts.cni = TOPO_CNI_CALICO;
	t->ops = topo_ops(TOPO_CNI_CALICO);
	/* The default cluster: kube-proxy's 100 services over 30 pods a node. */
	t->opts.services = 100;
	t->opts.pods = 30;
	snprintf(t->opts.run, sizeof(t->opts.run), "calico-1a2b");
	snprintf(t->nodes[0], sizeof(t->nodes[0]), "netprof-calico-1a2b-node1");
	snprintf(t->nodes[1], sizeof(t->nodes[1]), "netprof-calico-1a2b-node2");
	snprintf(t->client.node_netns, sizeof(t->client.node_netns), "%s", t->nodes[0]);
	snprintf(t->server.node_netns, sizeof(t->server.node_netns), "%s", t->nodes[1]);
	snprintf(t->client.ip_str, sizeof(t->client.ip_str), "10.1.0.2");
	snprintf(t->client.netns, sizeof(t->client.netns), "netprof-calico-1a2b-client");
	snprintf(t->server.ip_str, sizeof(t->server.ip_str), "10.1.1.2");
	snprintf(t->server.netns, sizeof(t->server.netns), "netprof-calico-1a2b-server");
	snprintf(t->dst_str, sizeof(t->dst_str), "10.1.1.2");
	t->dst_port = 5201;
	snprintf(t->node_cpus[0], sizeof(t->node_cpus[0]), "0");
	snprintf(t->node_cpus[1], sizeof(t->node_cpus[1]), "1");
	snprintf(t->client.cpus, sizeof(t->client.cpus), "0");
	snprintf(t->server.cpus, sizeof(t->server.cpus), "1");
	t->opts.wire = TOPO_WIRE_NAPI;
	t->opts.link_rate = 10000000000ULL;
	t->nr_napi = 2;
	snprintf(t->napi[0].comm, sizeof(t->napi[0].comm), "napi/eth0-8193");
	snprintf(t->napi[0].netns, sizeof(t->napi[0].netns), "netprof-calico-1a2b-node1");
	snprintf(t->napi[0].cpus, sizeof(t->napi[0].cpus), "0");
	snprintf(t->napi[1].comm, sizeof(t->napi[1].comm), "napi/eth0-8194");
	snprintf(t->napi[1].netns, sizeof(t->napi[1].netns), "netprof-calico-1a2b-node2");
	snprintf(t->napi[1].cpus, sizeof(t->napi[1].cpus), "1");
	result.nr_workloads = 2;

	w = &result.w[0];
	w->lg.workload = LG_PINGPONG;
	w->lg.seconds = 1;
	w->lg.client.win_transactions = 500;
	w->ip_packets = 2000;
	/* The profile's denominators are its own phase's. */
	w->profile_phase.ran = true;
	w->profile_phase.lg.seconds = 1;
	w->profile_phase.lg.client.win_transactions = 500;
	w->profile_phase.ip_packets = 2000;
	w->have_profile = true;
	snprintf(w->prof.event, sizeof(w->prof.event), "cpu-clock at 999 Hz");
	w->prof.ncpus = 2;
	w->prof.samples = 120;
	w->prof.idle = 20;
	w->prof.kept_run = 80;
	w->prof.kept_softirq = 20;
	snprintf(w->folded, sizeof(w->folded), "results/calico-1a2b/stacks-1-pingpong.folded");
	w->cats.samples[category("tcp-ip")] = 75;
	w->cats.samples[category("other")] = 25;
	w->cats.total = 100;

	w = &result.w[1];
	w->lg.workload = LG_STREAM;
	w->lg.seconds = 1;
	w->ip_packets = 2000;
	w->profile_phase.ran = true;
	w->profile_phase.lg.seconds = 1;
	w->profile_phase.ip_packets = 2000;
	w->have_profile = true;
	snprintf(w->prof.event, sizeof(w->prof.event), "cpu-clock at 999 Hz");
	w->prof.ncpus = 2;
	w->cats.samples[category("copies")] = 50;
	w->cats.total = 50;
	return true;
}

static char *render(bool json)
{
	struct run_report r = { .config = &config, .result = &result, .cats = cats };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	out_to(f, json);
	run_report_print(&r);
	out_finish();
	fclose(f);
	out_init(false);
	return text;
}

/* The load generator's own lines are its tests' business: here, whether a
 * block of the report is there exactly, lines and all. */
static bool has_block(const char *file, int line, const char *text, const char *block,
		      const char *what)
{
	if (text && strstr(text, block))
		return true;
	test_failed(file, line, "%s: no block\n%s\nin\n%s", what, block, text ? text : "");
	return false;
}
#define ASSERT_BLOCK(text, block, what) has_block(__FILE__, __LINE__, text, block, what)

TEST(run_report_text)
{
	char *text;

	if (!ASSERT_TRUE(build(), "built-in categories"))
		return;
	text = render(false);
	ASSERT_BLOCK(text,
		  "netprof run: calico, cross-node, to a pod (run calico-1a2b)\n"
		  "client 10.1.0.2 (netprof-calico-1a2b-client) -> server 10.1.1.2 "
		  "(netprof-calico-1a2b-server), dialed 10.1.1.2:5201\n"
		  "nodes: node1 on CPU 0, node2 on CPU 1; client on 0, server on 1; wire: napi (a NIC's receive: GRO, NAPI threads napi/eth0-8193 on 0 napi/eth0-8194 on 1), capped at 10gbit\n"
		  "rules: kube-proxy 100 services (NodePort 10), 30 pods per node, 850 rules per node; Calico's felix chains, 0 policies\n"
		  "\n"
		  "== pingpong ==\n", "header");
	ASSERT_BLOCK(text,
		  "CPU profile: cpu-clock at 999 Hz on 2 CPUs: 120 samples; kept 80 of the run's tasks "
		  "and 20 of softirq work serving its traffic\n"
		  "   excluded: 20 idle, 0 other processes; lost: 0 kernel stacks, 0 user stacks, "
		  "0 samples (map full)\n"
		  "folded stacks: results/calico-1a2b/stacks-1-pingpong.folded "
		  "(netprof flame FILE -o out.svg)\n"
		  "Where the cycles went (samples per transaction):\n"
		  "   tcp-ip           75.0%        75 samples     0.1500 per transaction\n"
		  "   other            25.0%        25 samples     0.0500 per transaction\n"
		  "\n"
		  "Hop tracer off (--no-trace)\n"
		  "\n"
		  "== stream ==\n", "pingpong's profile, per transaction");
	ASSERT_BLOCK(text,
		  "0 samples (map full)\n"
		  "Where the cycles went (samples per packet = per IP packet the endpoints sent, 2000):\n"
		  "   copies          100.0%        50 samples     0.0250 per packet\n"
		  "\n"
		  "Hop tracer off (--no-trace)\n", "stream's profile, per IP packet, no folded file");
	ASSERT_TRUE(!strstr(text, "PARTIAL"), "a complete run");
	free(text);
	result.partial = true;
	text = render(false);
	ASSERT_BLOCK(text, "0 policies\nPARTIAL RUN: yes\n", "a partial run says so");
	free(text);
}

TEST(run_report_json)
{
	char *text;

	if (!ASSERT_TRUE(build(), "built-in categories"))
		return;
	text = render(true);
	ASSERT_BLOCK(text, "  \"port\": 5201,\n  \"nodes\": {\n    \"node1_cpus\": \"0\",\n", "header");
	ASSERT_BLOCK(text, "    \"link_rate_bit_s\": 10000000000\n  },\n  \"rules\": {\n"
		     "    \"kube_proxy\": true,\n", "the nodes, then the rules");
	ASSERT_BLOCK(text, "    \"policies\": 0\n  },\n  \"partial\": false,\n"
		     "  \"workloads\": [\n", "the rules, then the workloads");
	ASSERT_BLOCK(text, "        \"folded\": \"results/calico-1a2b/stacks-1-pingpong.folded\",\n"
		  "        \"samples_per\": \"transaction\",\n"
		  "        \"categories\": [\n", "pingpong's denominator");
	ASSERT_BLOCK(text, "        \"folded\": \"\",\n"
		  "        \"samples_per\": \"ip_packet\",\n", "stream's denominator");
	ASSERT_BLOCK(text, "            \"category\": \"copies\",\n"
		  "            \"share_pct\": 100,\n"
		  "            \"samples\": 50,\n"
		  "            \"samples_per_unit\": 0.025000000000000001\n", "per IP packet");
	ASSERT_BLOCK(text, "      \"hops\": \"off\"\n    }\n  ]\n}\n", "no tracer, at the end");
	free(text);
}

static void overhead_rounds(void)
{
	config.overhead = true;
	result.w[0].rounds = 3;
	result.w[0].untraced_tps = 10000;
	result.w[0].traced_tps = 9000;
	result.w[1].rounds = 3;
	result.w[1].untraced_gbps = 20;
	result.w[1].traced_gbps = 19;
}

TEST(run_report_overhead)
{
	char *text;

	if (!ASSERT_TRUE(build(), "built-in categories"))
		return;
	overhead_rounds();
	text = render(false);
	ASSERT_TEXT(text,
		"netprof run: calico, cross-node, to a pod (run calico-1a2b)\n"
		"client 10.1.0.2 (netprof-calico-1a2b-client) -> server 10.1.1.2 (netprof-calico-1a2b-server), dialed 10.1.1.2:5201\n"
		"nodes: node1 on CPU 0, node2 on CPU 1; client on 0, server on 1; wire: napi (a NIC's receive: GRO, NAPI threads napi/eth0-8193 on 0 napi/eth0-8194 on 1), capped at 10gbit\n"
		"rules: kube-proxy 100 services (NodePort 10), 30 pods per node, 850 rules per node; Calico's felix chains, 0 policies\n"
		"\n"
		"== pingpong ==\n"
		"Probe overhead (transactions/s, mean of 3 alternating rounds): without probes 10000.00, with 9000.00, ratio 0.900\n"
		"\n"
		"== stream ==\n"
		"Probe overhead (Gbit/s, mean of 3 alternating rounds): without probes 20.00, with 19.00, ratio 0.950\n");
	free(text);
	text = render(true);
	ASSERT_TEXT(text,
		"{\n"
		"  \"cni\": \"calico\",\n"
		"  \"placement\": \"cross-node\",\n"
		"  \"target\": \"pod\",\n"
		"  \"run\": \"calico-1a2b\",\n"
		"  \"client\": \"10.1.0.2\",\n"
		"  \"client_netns\": \"netprof-calico-1a2b-client\",\n"
		"  \"server\": \"10.1.1.2\",\n"
		"  \"server_netns\": \"netprof-calico-1a2b-server\",\n"
		"  \"dialed\": \"10.1.1.2\",\n"
		"  \"port\": 5201,\n"
		"  \"nodes\": {\n"
		"    \"node1_cpus\": \"0\",\n"
		"    \"node2_cpus\": \"1\",\n"
		"    \"client_cpus\": \"0\",\n"
		"    \"server_cpus\": \"1\",\n"
		"    \"wire\": \"napi\",\n"
		"    \"napi\": [\n"
		"      {\n"
		"        \"thread\": \"napi/eth0-8193\",\n"
		"        \"netns\": \"netprof-calico-1a2b-node1\",\n"
		"        \"cpus\": \"0\"\n"
		"      },\n"
		"      {\n"
		"        \"thread\": \"napi/eth0-8194\",\n"
		"        \"netns\": \"netprof-calico-1a2b-node2\",\n"
		"        \"cpus\": \"1\"\n"
		"      }\n"
		"    ],\n"
		"    \"link_rate_bit_s\": 10000000000\n"
		"  },\n"
		"  \"rules\": {\n"
		"    \"kube_proxy\": true,\n"
		"    \"services\": 100,\n"
		"    \"nodeports\": 10,\n"
		"    \"pods_per_node\": 30,\n"
		"    \"kube_proxy_rules\": 850,\n"
		"    \"cni_rules\": \"Calico's felix chains\",\n"
		"    \"policies\": 0\n"
		"  },\n"
		"  \"partial\": false,\n"
		"  \"workloads\": [\n"
		"    {\n"
		"      \"workload\": \"pingpong\",\n"
		"      \"overhead\": {\n"
		"        \"figure\": \"transactions/s\",\n"
		"        \"rounds\": 3,\n"
		"        \"without_probes\": 10000,\n"
		"        \"with_probes\": 9000,\n"
		"        \"ratio\": 0.90000000000000002\n"
		"      }\n"
		"    },\n"
		"    {\n"
		"      \"workload\": \"stream\",\n"
		"      \"overhead\": {\n"
		"        \"figure\": \"Gbit/s\",\n"
		"        \"rounds\": 3,\n"
		"        \"without_probes\": 20,\n"
		"        \"with_probes\": 19,\n"
		"        \"ratio\": 0.94999999999999996\n"
		"      }\n"
		"    }\n"
		"  ]\n"
		"}\n");
	free(text);
}
