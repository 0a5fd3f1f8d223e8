/*
 * netprof trace: the hop tracer on namespaces that already exist (a topology
 * from `netprof topo up`, or a test's), for as long as the user wants.
 * `netprof run` uses the same tracer around its own workload.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "trace/hops.h"
#include "trace/trace_options.h"
#include "lib/log.h"
#include "lib/output.h"
#include "lib/teardown.h"

#define MAX_TRACE_NETNS 32

static void help(void)
{
	printf("Usage: netprof trace --netns NS[,NS...] [options]\n"
	       "\n"
	       "Follows every packet through the given netprof-* namespaces: tc on every\n"
	       "device, netfilter slots on every hook, packet-path tracepoints, softirqs and\n"
	       "context switches; stops after --duration or on ^C and prints the hop paths,\n"
	       "time per hop, netfilter time per hook and table, backlog enqueues, drops.\n"
	       "\n"
	       "  --netns NS,...        namespaces to trace (netprof-* only)\n"
	       "  -d, --duration D      how long to trace (default: until ^C; e.g. 10s)\n"
	       "  -p, --port P          the server's port: splits request and response paths\n"
	       "  --service-port P      a ClusterIP's port that also means 'request'\n"
	       "  --cgroup PATH         the run's cgroup (netprof-*): sock_ops, context switches\n"
	       "  --wire NS/DEV,...     the veth standing for the NIC between nodes: its backlog\n"
	       "                        enqueue (one a real NIC does not add) is shown apart\n");
	trace_options_help(false);
	printf("  --json                the report as JSON\n"
	       "\n"
	       "Examples:\n"
	       "  sudo netprof trace --netns netprof-r1-node1,netprof-r1-node2 -d 10s -p 5201\n"
	       "  sudo netprof trace --netns netprof-r1-pod-a --sample 10 --json\n"
	       "  sudo netprof trace --netns netprof-r1-node1,netprof-r1-node2 --xdp --tc-key flow\n");
}

/* What trace takes besides the shared tracer options. */
struct trace_args {
	const char *netns, *wire;
	uint64_t duration_ns;
	struct hops_target t;
};

static const struct cli_option trace_own_options[] = {
	{ "netns", 0, CLI_STRING, CLI_FIELD(struct trace_args, netns) },
	{ "duration", 'd', CLI_DURATION, CLI_FIELD(struct trace_args, duration_ns),
	  .min = 100000000ULL, .max = 24 * 3600 * 1000000000ULL },
	{ "port", 'p', CLI_U64, CLI_FIELD(struct trace_args, t.server_port), .min = 1,
	  .max = 65535 },
	{ "service-port", 0, CLI_U64, CLI_FIELD(struct trace_args, t.service_port), .min = 1,
	  .max = 65535 },
	{ "cgroup", 0, CLI_STRING, CLI_FIELD(struct trace_args, t.cgroup_path) },
	{ "wire", 0, CLI_STRING, CLI_FIELD(struct trace_args, wire) },
	{}
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void close_tracer(void *arg)
{
	hops_close(*(struct hops_tracer **)arg);
	*(struct hops_tracer **)arg = NULL;
}

int cmd_trace(int argc, char **argv)
{
	static struct trace_args a;
	static struct hops_tracer *tracer;
	static char netns_list[1024], wire_list[512];
	const struct cli_group groups[] = {
		CLI_GROUP(trace_own_options, &a),
		CLI_GROUP(trace_hop_options, &a.t),
		{}
	};
	const struct cli_spec spec = { "trace", help, groups, .no_operands = true };
	const char *wire[MAX_TRACE_NETNS];
	int nr_wire = 0;
	const char *netns[MAX_TRACE_NETNS];
	struct hops_target *t = &a.t;
	double start;
	int rc, n = 0;

	trace_hop_defaults(t);
	rc = cli_parse(&spec, argc, argv);
	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	snprintf(netns_list, sizeof(netns_list), "%s", a.netns ? a.netns : "");
	snprintf(wire_list, sizeof(wire_list), "%s", a.wire ? a.wire : "");
	if (!netns_list[0]) {
		usage_error("trace: --netns is required (e.g. --netns netprof-r1-node1,netprof-r1-node2)");
		return EXIT_USAGE;
	}
	for (char *save = NULL, *tok = strtok_r(netns_list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_TRACE_NETNS) {
			usage_error("trace: at most %d namespaces", MAX_TRACE_NETNS);
			return EXIT_USAGE;
		}
		netns[n++] = tok;
	}
	if (t->cgroup_path && !cgroup_is_netprofs(t->cgroup_path)) {
		usage_error("trace: --cgroup '%s' is not an existing netprof-* cgroup", t->cgroup_path);
		return EXIT_USAGE;
	}
	for (char *save = NULL, *tok = strtok_r(wire_list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strchr(tok, '/') || nr_wire == MAX_TRACE_NETNS) {
			usage_error("trace: --wire '%s': give NETNS/DEVICE (e.g. netprof-r1-node1/eth0)",
				    tok);
			return EXIT_USAGE;
		}
		wire[nr_wire++] = tok;
	}
	t->netns = netns;
	t->nr_netns = n;
	t->wire = wire;
	t->nr_wire = nr_wire;
	if (!cli_require_caps())
		return 1;

	rc = hops_open(&tracer, t);
	if (rc == -EINVAL || rc == -ENOENT)
		return EXIT_USAGE;
	if (rc)
		return 1;
	teardown_register(close_tracer, &tracer);
	pr_info("tracing %d namespaces%s; ^C to stop", n, a.duration_ns ? "" : " until ^C");
	start = now_s();
	while (!stop_requested() && (!a.duration_ns || now_s() - start < a.duration_ns / 1e9))
		usleep(50000);

	out_init(opt_json);
	if (opt_json)
		out_object_begin(NULL);
	hops_report(tracer, now_s() - start, 0);
	if (opt_json)
		out_object_end();
	out_finish();
	return 0;
}
