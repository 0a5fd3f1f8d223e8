/* netprof load: drives one workload against `netprof serve`, like netperf,
 * iperf3 -c, sockperf, qperf or wrk, and prints the figures. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "loadgen/loadgen.h"
#include "lib/log.h"
#include "lib/output.h"

static void help(void)
{
	printf("Usage: netprof load WORKLOAD -s ADDR [options]\n"
	       "\n"
	       "Runs WORKLOAD against `netprof serve` at ADDR, negotiated on a control\n"
	       "connection, and prints throughput or rate, latency percentiles, CPU per side\n"
	       "(machine user/system/softirq and netprof's own) and service demand.\n"
	       "\n"
	       "Workloads:\n"
	       "  stream    TCP bulk, -P streams (default 128 KiB writes, like iperf3)\n"
	       "  rr        request/response, persistent connections (default 100 B / 100 B, like\n"
	       "            netperf TCP_RR); --rate for an open loop with latency counted from\n"
	       "            each request's scheduled send (coordinated-omission correction)\n"
	       "  crr       connect, request, response, close per transaction (netperf TCP_CRR)\n"
	       "  pingpong  one connection, 14 B each way (sockperf pp): round trip and half\n"
	       "  udp       16 B datagrams one way: packets/s sent and received, loss\n"
	       "  sweep     stream and pingpong at 1 B, 64 B, 4 KiB, 256 KiB (qperf tcp_bw tcp_lat)\n"
	       "  push      the server writes 100 kB chunks to 100 connections (one thread each side)\n"
	       "  http      HTTP/1.1 keep-alive GETs over 64 connections (wrk), errors by kind\n"
	       "\n"
	       "  -s, --server ADDR     numeric address of netprof serve (required)\n"
	       "  -p, --port PORT       its control port (default %u)\n"
	       "  -P, --parallel N      connections, streams or UDP flows\n"
	       "  -T, --threads N       worker threads (default half the CPUs, at most one per\n"
	       "                        connection; the other half is for softirq work)\n"
	       "  -l, --size SIZE       message (stream, udp, push) or request size\n"
	       "  -r, --response SIZE   response size (rr, crr, pingpong; http: body)\n"
	       "  -R, --reverse         stream: the server sends\n"
	       "  -t, --duration TIME   measured time (default 10s; sweep: per size and test)\n"
	       "  -w, --warmup TIME     warm-up before measuring (default 1s)\n"
	       "  -i, --interval TIME   a report every TIME while measuring\n"
	       "      --timeout TIME    connect, answer and drain timeout (default 5s)\n"
	       "      --rate N          rr/http: transactions/s, udp: packets/s (total)\n"
	       "      --busy-poll       spin on the sockets instead of sleeping in epoll\n"
	       "      --pin             pin worker threads to CPUs (both sides; stream, push and\n"
	       "                        udp put sender and receiver on different CPUs)\n"
	       "      --no-pin          never pin them (default: pin rr, crr, pingpong and http\n"
	       "                        when the machine has a CPU for every worker of both\n"
	       "                        sides, worker i of both sides on CPU i; leave bulk\n"
	       "                        workloads to the scheduler)\n"
	       "      --netns NAME      run the client inside the named network namespace\n"
	       "      --json            JSON on stdout (every key carries its unit)\n"
	       "\n"
	       "Exit status: 0 complete, 1 failed or partial (figures so far are printed and\n"
	       "marked partial), 2 bad usage.\n"
	       "\n"
	       "Examples:\n"
	       "  netprof load stream -s 198.18.0.2 -P 4 -t 10\n"
	       "  netprof load rr -s 198.18.0.2 -P 8 --rate 50000 --json\n"
	       "  netprof load pingpong -s 198.18.0.2 -t 30\n"
	       "  netprof load udp -s 198.18.0.2 -l 16 --rate 1000000\n"
	       "  netprof load sweep -s 198.18.0.2 -t 2\n", LOADGEN_DEFAULT_PORT);
}

static void print_interval(const struct loadgen_opts *o, double t, double gbps, double tps,
			   double pps)
{
	if (out_json())
		return;
	printf("  [%7.2f s] ", t);
	switch (o->workload) {
	case LG_STREAM:
	case LG_PUSH:
		printf("%.3f Gbit/s\n", gbps);
		break;
	case LG_UDP:
		printf("%.0f pkt/s sent\n", pps);
		break;
	default:
		printf("%.0f transactions/s\n", tps);
		break;
	}
	fflush(stdout);
}

/* Options are parsed before the workload is known: kept aside as given. */
struct load_args {
	const char *server, *port, *parallel, *threads, *size, *response, *duration, *warmup,
		   *interval, *timeout, *rate, *netns;
	bool reverse, busy;
	enum lg_pin pin;
};

static const struct cli_option load_options[] = {
	{ "server", 's', CLI_STRING, CLI_FIELD(struct load_args, server) },
	{ "port", 'p', CLI_STRING, CLI_FIELD(struct load_args, port) },
	{ "parallel", 'P', CLI_STRING, CLI_FIELD(struct load_args, parallel) },
	{ "threads", 'T', CLI_STRING, CLI_FIELD(struct load_args, threads) },
	{ "size", 'l', CLI_STRING, CLI_FIELD(struct load_args, size) },
	{ "response", 'r', CLI_STRING, CLI_FIELD(struct load_args, response) },
	{ "reverse", 'R', CLI_FLAG, CLI_FIELD(struct load_args, reverse) },
	{ "duration", 't', CLI_STRING, CLI_FIELD(struct load_args, duration) },
	{ "warmup", 'w', CLI_STRING, CLI_FIELD(struct load_args, warmup) },
	{ "interval", 'i', CLI_STRING, CLI_FIELD(struct load_args, interval) },
	{ "timeout", 0, CLI_STRING, CLI_FIELD(struct load_args, timeout) },
	{ "rate", 0, CLI_STRING, CLI_FIELD(struct load_args, rate) },
	{ "busy-poll", 0, CLI_FLAG, CLI_FIELD(struct load_args, busy) },
	{ "no-pin", 0, CLI_SET, CLI_FIELD(struct load_args, pin), .value = LG_PIN_OFF },
	{ "pin", 0, CLI_SET, CLI_FIELD(struct load_args, pin), .value = LG_PIN_ON },
	{ "netns", 0, CLI_STRING, CLI_FIELD(struct load_args, netns) },
	{}
};

int cmd_load(int argc, char **argv)
{
	struct load_args a = { .pin = LG_PIN_AUTO };
	const struct cli_group groups[] = { CLI_GROUP(load_options, &a), {} };
	const struct cli_spec spec = { "load", help, groups, .no_operands = false };
	struct loadgen_opts o;
	struct loadgen_result res;
	unsigned char addr[16];
	int rc, w;
	uint64_t v;

	rc = cli_parse(&spec, argc, argv);
	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	if (optind >= argc) {
		usage_error("load: no workload given (one of stream, rr, crr, pingpong, udp, sweep, push, http)");
		return EXIT_USAGE;
	}
	w = lg_workload_parse(argv[optind]);
	if (w < 0) {
		usage_error("load: unknown workload '%s' (one of stream, rr, crr, pingpong, udp, sweep, push, http)",
			    argv[optind]);
		return EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		usage_error("load: unexpected argument '%s' (see 'netprof load -h')", argv[optind + 1]);
		return EXIT_USAGE;
	}
	loadgen_opts_default(&o, (enum lg_workload)w);
	if (w == LG_SWEEP) {
		o.duration_ns = 2000000000ULL;
		o.warmup_ns = 500000000ULL;
	}
	if (!a.server) {
		usage_error("load: no server given (add -s ADDR, the address netprof serve listens on)");
		return EXIT_USAGE;
	}
	if (strlen(a.server) >= sizeof(o.server) ||
	    (inet_pton(AF_INET, a.server, addr) != 1 && inet_pton(AF_INET6, a.server, addr) != 1)) {
		usage_error("load: --server '%s' is not a numeric IPv4 or IPv6 address", a.server);
		return EXIT_USAGE;
	}
	snprintf(o.server, sizeof(o.server), "%s", a.server);
	if (a.port && parse_u64("load", "--port", a.port, 1, 65535, &v) < 0)
		return EXIT_USAGE;
	if (a.port)
		o.port = (uint16_t)v;
	if (a.parallel) {
		if (w == LG_PINGPONG || w == LG_SWEEP) {
			usage_error("load: %s uses one connection; use rr -P N for several", argv[optind]);
			return EXIT_USAGE;
		}
		if (parse_u64("load", "--parallel", a.parallel, 1, 10000, &v) < 0)
			return EXIT_USAGE;
		o.conns = (uint32_t)v;
	}
	if (a.threads) {
		if (parse_u64("load", "--threads", a.threads, 1, 1024, &v) < 0)
			return EXIT_USAGE;
		o.threads = (uint32_t)v;
	}
	if (a.size) {
		if (w == LG_SWEEP || w == LG_HTTP) {
			usage_error("load: %s sets its own request sizes; drop --size", argv[optind]);
			return EXIT_USAGE;
		}
		if (parse_size("load", "--size", a.size, 1, w == LG_UDP ? 65507 : 64ULL << 20, &v) < 0)
			return EXIT_USAGE;
		o.req_size = v;
		if (w == LG_PINGPONG && !a.response)
			o.resp_size = v;	/* the same message comes back */
	}
	if (a.response) {
		if (w != LG_RR && w != LG_CRR && w != LG_PINGPONG && w != LG_HTTP) {
			usage_error("load: --response applies to rr, crr, pingpong and http only");
			return EXIT_USAGE;
		}
		if (parse_size("load", "--response", a.response, w == LG_HTTP ? 0 : 1, 64ULL << 20, &v) < 0)
			return EXIT_USAGE;
		o.resp_size = v;
	}
	if (a.reverse) {
		if (w != LG_STREAM) {
			usage_error("load: --reverse applies to stream only");
			return EXIT_USAGE;
		}
		o.reverse = true;
	}
	if (a.duration && parse_duration("load", "--duration", a.duration, 100000000ULL,
					 86400000000000ULL, &o.duration_ns) < 0)
		return EXIT_USAGE;
	if (a.warmup &&
	    parse_duration("load", "--warmup", a.warmup, 0, 3600000000000ULL, &o.warmup_ns) < 0)
		return EXIT_USAGE;
	if (a.interval && parse_duration("load", "--interval", a.interval, 100000000ULL,
					 86400000000000ULL, &o.interval_ns) < 0)
		return EXIT_USAGE;
	if (a.timeout && parse_duration("load", "--timeout", a.timeout, 100000000ULL,
					600000000000ULL, &o.timeout_ns) < 0)
		return EXIT_USAGE;
	if (a.rate) {
		if (w != LG_RR && w != LG_HTTP && w != LG_UDP) {
			usage_error("load: --rate applies to rr, http and udp only");
			return EXIT_USAGE;
		}
		if (parse_u64("load", "--rate", a.rate, 1, 100000000, &o.rate) < 0)
			return EXIT_USAGE;
	}
	if (a.netns) {
		if (strlen(a.netns) >= sizeof(o.netns) || !a.netns[0] || strchr(a.netns, '/')) {
			usage_error("load: --netns '%s' is not a namespace name", a.netns);
			return EXIT_USAGE;
		}
		snprintf(o.netns, sizeof(o.netns), "%s", a.netns);
	}
	o.busy_poll = a.busy;
	o.pin = a.pin;
	o.progress = isatty(STDERR_FILENO);
	o.on_interval = print_interval;
	if (!cli_require_caps())
		return 1;

	out_init(opt_json);
	rc = loadgen_client_run(&o, &res);
	if (rc < 0)
		pr_warn("load: %s", res.error);
	loadgen_print_result(&res);
	out_finish();
	loadgen_result_free(&res);
	return rc < 0 ? 1 : 0;
}
