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
	       "  --sample N            follow 1 packet in N (default 1: every packet)\n"
	       "  --max-packets N       packets followed at once (default 16384)\n"
	       "  --all-paths           every distinct path, not only the most common ones\n"
	       "  --duty N              attach the probes one 100 ms window in N (less overhead)\n"
	       "  --nf-detail           time every netfilter table apart (9 slots a hook, not 4:\n"
	       "                        raw+conntrack and the rest)\n"
	       "  --wire NS/DEV,...     the veth standing for the NIC between nodes: its backlog\n"
	       "                        enqueue (one a real NIC does not add) is shown apart\n"
	       "  --no-tc, --no-netfilter  leave those probes off\n"
	       "  --tc-key skb|flow     how tc hops find a packet: by the kernel skb (default\n"
	       "                        where bpf_cast_to_kern_ctx exists, kernel 6.2+) or by its\n"
	       "                        flow tuple, TCP seq/ack and IP id/length (the fallback)\n"
	       "  --xdp                 XDP hops on every device too; off by default: a veth\n"
	       "                        with XDP receives through NAPI instead of the backlog\n"
	       "  --json                the report as JSON\n"
	       "\n"
	       "Examples:\n"
	       "  sudo netprof trace --netns netprof-r1-node1,netprof-r1-node2 -d 10s -p 5201\n"
	       "  sudo netprof trace --netns netprof-r1-pod-a --sample 10 --json\n"
	       "  sudo netprof trace --netns netprof-r1-node1,netprof-r1-node2 --xdp --tc-key flow\n");
}

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
	enum { OPT_SERVICE_PORT = 0x2000, OPT_CGROUP, OPT_SAMPLE, OPT_MAX, OPT_NO_TC, OPT_NO_NF,
	       OPT_NETNS, OPT_ALL_PATHS, OPT_WIRE, OPT_NF_DETAIL, OPT_DUTY, OPT_TC_KEY, OPT_XDP };
	static const struct option longopts[] = {
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "duration", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "service-port", required_argument, NULL, OPT_SERVICE_PORT },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "sample", required_argument, NULL, OPT_SAMPLE },
		{ "max-packets", required_argument, NULL, OPT_MAX },
		{ "no-tc", no_argument, NULL, OPT_NO_TC },
		{ "all-paths", no_argument, NULL, OPT_ALL_PATHS },
		{ "wire", required_argument, NULL, OPT_WIRE },
		{ "nf-detail", no_argument, NULL, OPT_NF_DETAIL },
		{ "duty", required_argument, NULL, OPT_DUTY },
		{ "no-netfilter", no_argument, NULL, OPT_NO_NF },
		{ "tc-key", required_argument, NULL, OPT_TC_KEY },
		{ "xdp", no_argument, NULL, OPT_XDP },
		CLI_COMMON_LONGOPTS,
		{}
	};
	static struct hops_tracer *tracer;
	static char netns_list[1024], wire_list[512];
	const char *wire[MAX_TRACE_NETNS];
	int nr_wire = 0;
	const char *netns[MAX_TRACE_NETNS];
	struct hops_target t = { .sample_every = 1, .max_packets = 16384 };
	uint64_t duration_ns = 0, v;
	double start;
	int opt, rc, n = 0;

	while ((opt = cli_next_opt("trace", argc, argv, ":d:p:vh", longopts)) != -1) {
		switch (opt) {
		case CLI_ERROR:
			return EXIT_USAGE;
		case CLI_HELP:
			help();
			return 0;
		case OPT_NETNS:
			snprintf(netns_list, sizeof(netns_list), "%s", optarg);
			break;
		case 'd':
			if (parse_duration("trace", "--duration", optarg, 100000000ULL,
					   24 * 3600 * 1000000000ULL, &duration_ns))
				return EXIT_USAGE;
			break;
		case 'p':
		case OPT_SERVICE_PORT:
			if (parse_u64("trace", opt == 'p' ? "--port" : "--service-port", optarg, 1,
				      65535, &v))
				return EXIT_USAGE;
			if (opt == 'p')
				t.server_port = v;
			else
				t.service_port = v;
			break;
		case OPT_CGROUP:
			t.cgroup_path = optarg;
			break;
		case OPT_SAMPLE:
			if (parse_u64("trace", "--sample", optarg, 1, 1000000, &v))
				return EXIT_USAGE;
			t.sample_every = v;
			break;
		case OPT_MAX:
			if (parse_u64("trace", "--max-packets", optarg, 64, 4 * 1024 * 1024, &v))
				return EXIT_USAGE;
			t.max_packets = v;
			break;
		case OPT_NO_TC:
			t.no_tc = true;
			break;
		case OPT_ALL_PATHS:
			t.all_paths = true;
			break;
		case OPT_NF_DETAIL:
			t.nf_detail = true;
			break;
		case OPT_DUTY:
			if (parse_u64("trace", "--duty", optarg, 1, 1000, &v))
				return EXIT_USAGE;
			t.duty = v;
			break;
		case OPT_WIRE:
			snprintf(wire_list, sizeof(wire_list), "%s", optarg);
			break;
		case OPT_NO_NF:
			t.no_netfilter = true;
			break;
		case OPT_TC_KEY:
			if (hops_parse_tc_key("trace", optarg, &t.tc_key))
				return EXIT_USAGE;
			break;
		case OPT_XDP:
			t.xdp = true;
			break;
		}
	}
	if (!cli_no_args("trace", argc, argv))
		return EXIT_USAGE;
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
	if (t.cgroup_path && !cgroup_is_netprofs(t.cgroup_path)) {
		usage_error("trace: --cgroup '%s' is not an existing netprof-* cgroup", t.cgroup_path);
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
	t.netns = netns;
	t.nr_netns = n;
	t.wire = wire;
	t.nr_wire = nr_wire;
	if (!cli_require_caps())
		return 1;

	rc = hops_open(&tracer, &t);
	if (rc == -EINVAL || rc == -ENOENT)
		return EXIT_USAGE;
	if (rc)
		return 1;
	teardown_register(close_tracer, &tracer);
	pr_info("tracing %d namespaces%s; ^C to stop", n, duration_ns ? "" : " until ^C");
	start = now_s();
	while (!stop_requested() && (!duration_ns || now_s() - start < duration_ns / 1e9))
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
