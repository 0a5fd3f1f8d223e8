/*
 * netprof run: one datapath, through run_datapath(). Its options are the
 * topology options of `netprof topo up`, the workload options of `netprof
 * load` and the tracer's; `netprof compare` takes them all (cmd_run.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_run.h"
#include "cli/commands.h"
#include "lib/log.h"
#include "topo/topo_options.h"

enum {
	OPT_WORKLOAD = 0x3000, OPT_WARMUP, OPT_REVERSE, OPT_RATE, OPT_THREADS, OPT_NO_TRACE,
	OPT_SAMPLE, OPT_NO_TC, OPT_NO_NF, OPT_ALL_PATHS, OPT_MAX_PACKETS, OPT_OVERHEAD,
	OPT_ROUNDS, OPT_RESULTS, OPT_NO_PROFILE, OPT_FREQ, OPT_CATEGORIES, OPT_NF_DETAIL,
	OPT_DUTY, OPT_FUNC, OPT_FUNC_PROBE, OPT_FUNC_ONLY,
	OPT_TC_KEY, OPT_XDP,
};

#define RUN_LONGOPTS							\
	TOPO_LONGOPTS,							\
	{ "workload", required_argument, NULL, 'w' },			\
	{ "duration", required_argument, NULL, 'd' },			\
	{ "warmup", required_argument, NULL, OPT_WARMUP },		\
	{ "parallel", required_argument, NULL, 'P' },			\
	{ "size", required_argument, NULL, 'r' },			\
	{ "reverse", no_argument, NULL, OPT_REVERSE },			\
	{ "rate", required_argument, NULL, OPT_RATE },			\
	{ "threads", required_argument, NULL, OPT_THREADS },		\
	{ "no-trace", no_argument, NULL, OPT_NO_TRACE },		\
	{ "sample", required_argument, NULL, OPT_SAMPLE },		\
	{ "no-tc", no_argument, NULL, OPT_NO_TC },			\
	{ "no-netfilter", no_argument, NULL, OPT_NO_NF },		\
	{ "all-paths", no_argument, NULL, OPT_ALL_PATHS },		\
	{ "max-packets", required_argument, NULL, OPT_MAX_PACKETS },	\
	{ "overhead", no_argument, NULL, OPT_OVERHEAD },		\
	{ "rounds", required_argument, NULL, OPT_ROUNDS },		\
	{ "results", required_argument, NULL, OPT_RESULTS },		\
	{ "no-profile", no_argument, NULL, OPT_NO_PROFILE },		\
	{ "freq", required_argument, NULL, OPT_FREQ },			\
	{ "categories", required_argument, NULL, OPT_CATEGORIES },	\
	{ "nf-detail", no_argument, NULL, OPT_NF_DETAIL },		\
	{ "duty", required_argument, NULL, OPT_DUTY },			\
	{ "tc-key", required_argument, NULL, OPT_TC_KEY },		\
	{ "xdp", no_argument, NULL, OPT_XDP },				\
	{ "func", required_argument, NULL, OPT_FUNC },			\
	{ "func-only", no_argument, NULL, OPT_FUNC_ONLY },		\
	{ "func-probe", required_argument, NULL, OPT_FUNC_PROBE },	\
	CLI_COMMON_LONGOPTS

/* Workload settings given on the command line, applied to every workload. */
struct workload_args {
	const char *list;
	uint64_t duration_ns, warmup_ns, conns, req, resp, rate, threads;
	bool reverse, have_size;
};

static int parse_sizes(const char *cmd, const char *arg, struct workload_args *wa)
{
	char req[32], *comma;

	snprintf(req, sizeof(req), "%s", arg);
	comma = strchr(req, ',');
	if (comma)
		*comma = '\0';
	if (parse_size(cmd, "--size", req, 1, 64ULL << 20, &wa->req))
		return -1;
	wa->resp = wa->req;
	if (comma && parse_size(cmd, "--size", comma + 1, 1, 64ULL << 20, &wa->resp))
		return -1;
	wa->have_size = true;
	return 0;
}

/* Returns 1 when handled, 0 when not a run option, -1 after a usage error. */
static int parse_run_option(const char *cmd, int opt, const char *arg, struct run_config *c,
			    struct workload_args *wa)
{
	uint64_t v;
	int rc = topo_parse_option(cmd, opt, arg, &c->topo);

	if (rc)
		return rc;
	switch (opt) {
	case 'w':
		wa->list = arg;
		return 1;
	case 'd':
		return parse_duration(cmd, "--duration", arg, 100000000ULL, 3600000000000ULL,
				      &wa->duration_ns) ? -1 : 1;
	case OPT_WARMUP:
		return parse_duration(cmd, "--warmup", arg, 0, 600000000000ULL, &wa->warmup_ns)
			? -1 : (wa->warmup_ns = wa->warmup_ns ?: 1, 1);
	case 'P':
		return parse_u64(cmd, "--parallel", arg, 1, 10000, &wa->conns) ? -1 : 1;
	case 'r':
		return parse_sizes(cmd, arg, wa) ? -1 : 1;
	case OPT_REVERSE:
		wa->reverse = true;
		return 1;
	case OPT_RATE:
		return parse_u64(cmd, "--rate", arg, 1, 100000000, &wa->rate) ? -1 : 1;
	case OPT_THREADS:
		return parse_u64(cmd, "--threads", arg, 1, 256, &wa->threads) ? -1 : 1;
	case OPT_NO_TRACE:
		c->trace = false;
		return 1;
	case OPT_SAMPLE:
		if (parse_u64(cmd, "--sample", arg, 1, 1000000, &v))
			return -1;
		c->tracer.sample_every = v;
		return 1;
	case OPT_NO_TC:
		c->tracer.no_tc = true;
		return 1;
	case OPT_NO_NF:
		c->tracer.no_netfilter = true;
		return 1;
	case OPT_ALL_PATHS:
		c->tracer.all_paths = true;
		return 1;
	case OPT_MAX_PACKETS:
		if (parse_u64(cmd, "--max-packets", arg, 64, 4 << 20, &v))
			return -1;
		c->tracer.max_packets = v;
		return 1;
	case OPT_OVERHEAD:
		c->overhead = true;
		return 1;
	case OPT_ROUNDS:
		if (parse_u64(cmd, "--rounds", arg, 1, 16, &v))
			return -1;
		c->overhead_rounds = v;
		return 1;
	case OPT_RESULTS:
		snprintf(c->results_dir, sizeof(c->results_dir), "%s", arg);
		return 1;
	case OPT_NO_PROFILE:
		c->profile = false;
		return 1;
	case OPT_FREQ:
		if (parse_u64(cmd, "--freq", arg, 1, 20000, &v))
			return -1;
		c->profile_freq = v;
		return 1;
	case OPT_CATEGORIES:
		if (access(arg, R_OK)) {
			usage_error("%s: --categories %s: cannot read it", cmd, arg);
			return -1;
		}
		snprintf(c->categories, sizeof(c->categories), "%s", arg);
		return 1;
	case OPT_NF_DETAIL:
		c->tracer.nf_detail = true;
		return 1;
	case OPT_DUTY:
		if (parse_u64(cmd, "--duty", arg, 1, 1000, &v))
			return -1;
		c->tracer.duty = v;
		return 1;
	case OPT_TC_KEY:
		return hops_parse_tc_key(cmd, arg, &c->tracer.tc_key) ? -1 : 1;
	case OPT_XDP:
		c->tracer.xdp = true;
		return 1;
	case OPT_FUNC:
		return func_timer_opts_add(&c->funcs, arg) ? -1 : 1;
	case OPT_FUNC_ONLY:
		c->funcs.only_extra = true;
		return 1;
	case OPT_FUNC_PROBE:
		if (func_probe_mode_parse(arg) < 0) {
			usage_error("%s: --func-probe %s: use auto, fentry, kprobe or off", cmd, arg);
			return -1;
		}
		c->funcs.mode = func_probe_mode_parse(arg);
		return 1;
	}
	return 0;
}

/* Builds the workload list: the defaults, or -w's list with the options applied. */
static int apply_workloads(const char *cmd, struct run_config *c, const struct workload_args *wa)
{
	if (wa->list) {
		char list[256], *save = NULL;

		snprintf(list, sizeof(list), "%s", wa->list);
		c->nr_workloads = 0;
		for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int w = lg_workload_parse(tok);

			if (w < 0) {
				usage_error("%s: unknown workload '%s' (use stream, rr, crr, pingpong, "
					    "udp, sweep, push or http)", cmd, tok);
				return -1;
			}
			if (c->nr_workloads == RUN_MAX_WORKLOADS) {
				usage_error("%s: at most %d workloads", cmd, RUN_MAX_WORKLOADS);
				return -1;
			}
			loadgen_opts_default(&c->workloads[c->nr_workloads], w);
			c->workloads[c->nr_workloads++].duration_ns = 5000000000ULL;
		}
	}
	for (int i = 0; i < c->nr_workloads; i++) {
		struct loadgen_opts *o = &c->workloads[i];

		if (wa->duration_ns)
			o->duration_ns = wa->duration_ns;
		if (wa->warmup_ns)
			o->warmup_ns = wa->warmup_ns == 1 ? 0 : wa->warmup_ns;
		if (wa->conns)
			o->conns = wa->conns;
		if (wa->have_size) {
			o->req_size = wa->req;
			o->resp_size = wa->resp;
		}
		if (wa->rate)
			o->rate = wa->rate;
		if (wa->threads)
			o->threads = wa->threads;
		o->reverse |= wa->reverse;
	}
	return 0;
}

void run_default_id(struct topo_opts *o, const char *prefix)
{
	char name[16];

	if (o->run[0])
		return;
	snprintf(name, sizeof(name), "%.6s", prefix);
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '\0';
	snprintf(o->run, sizeof(o->run), "%s-%x", name, (unsigned)(getpid() & 0xffff));
}

static void run_help(void)
{
	printf("Usage: netprof run --cni NAME [topology options] [workload options] [tracer options]\n"
	       "\n"
	       "Builds an emulated datapath, drives traffic through it with netprof's load\n"
	       "generator and reports, in one go: throughput, rates, latency percentiles and\n"
	       "CPU per side; the hop path of a data packet and of its response with time per\n"
	       "hop, veth and macvlan crossings, netfilter time per hook and table, backlog\n"
	       "enqueues, softirq passes, context switches and drops; which probes ran.\n"
	       "Everything is removed at the end (also on ^C). The report also goes to\n"
	       "results/<run>/report.txt and report.json.\n"
	       "\n"
	       "Topology (as 'netprof topo up'):\n"
	       "%s"
	       "Workload (default: pingpong, then a single stream, 5 s each):\n"
	       "  -w, --workload LIST   stream, rr, crr, pingpong, udp, sweep, push, http (comma list)\n"
	       "  -d, --duration D      per workload (default 5s); --warmup D (default 1s)\n"
	       "  -P, --parallel N      connections or streams\n"
	       "  -r, --size REQ[,RESP] message sizes (e.g. 100,100 or 64k)\n"
	       "  --reverse             stream: the server sends\n"
	       "  --rate N              rr/http/udp: open-loop rate per second\n"
	       "  --threads N           worker threads per side\n"
	       "Tracer:\n"
	       "  --no-trace            no probes (load generator figures only)\n"
	       "  --sample N            follow 1 packet in N (default every packet)\n"
	       "  --duty N              attach the probes one 100 ms window in N: what they cost\n"
	       "                        shrinks about N times (see scripts/bench-overhead.sh)\n"
	       "  --no-tc, --no-netfilter, --all-paths, --max-packets N\n"
	       "  --nf-detail           time each netfilter table apart (more probe cost)\n"
	       "  --tc-key skb|flow     tc hops keyed by the kernel skb (default where the kernel\n"
	       "                        has bpf_cast_to_kern_ctx) or by the packet's flow key\n"
	       "  --xdp                 XDP hops on every device (off by default: a veth with\n"
	       "                        XDP receives through NAPI, not the CPU backlog)\n"
	       "Kernel functions (fentry/fexit, or kprobes where fentry is refused):\n"
	       "  --func NAME[,NAME]    time these too (default: nf_hook_slow, ipt_do_table,\n"
	       "                        nft_do_chain, nf_conntrack_in, veth_xmit, ip_rcv, ...)\n"
	       "  --func-only           time only the --func functions\n"
	       "  --func-probe MODE     auto (default), fentry, kprobe or off\n"
	       "CPU profile:\n"
	       "  --no-profile          no stack sampling\n"
	       "  --freq HZ             samples per second per CPU (default 999)\n"
	       "  --categories FILE     cost category rules (default user/categories.conf, built in)\n"
	       "  --overhead [--rounds N]  A/B: each workload with and without the probes,\n"
	       "                        alternating, and the ratio (what netprof's probes cost)\n"
	       "Output:\n"
	       "  --results DIR         where the report files go (default results/<run>)\n"
	       "  --json                the report as JSON on stdout\n"
	       "\n"
	       "Examples:\n"
	       "  sudo netprof run --cni cilium\n"
	       "  sudo netprof run --cni calico -w rr -d 10s --pods 100 --policies 3\n"
	       "  sudo netprof run --cni calico --target service --services 1000 -w crr\n"
	       "  sudo netprof run --cni macvlan -w stream -P 4 --json\n"
	       "  sudo netprof run --cni calico -w stream,rr --overhead\n"
	       "  sudo netprof run --cni calico -w rr --func ip_finish_output2 --func-probe kprobe\n",
	       topo_options_help);
}

int run_parse_args(const char *cmd, int argc, char **argv, struct run_config *c,
		   void (*help)(void), char *cni_list, size_t cni_len)
{
	static const struct option longopts[] = { RUN_LONGOPTS, {} };
	struct workload_args wa = {};
	int opt, rc;

	while ((opt = cli_next_opt(cmd, argc, argv, ":w:d:P:r:vh", longopts)) != -1) {
		if (opt == CLI_ERROR)
			return EXIT_USAGE;
		if (opt == CLI_HELP) {
			help();
			return -1;
		}
		/* compare takes a list of datapaths in --cni. */
		if (cni_list && opt == TOPO_OPT_CNI) {
			snprintf(cni_list, cni_len, "%s", optarg);
			continue;
		}
		rc = parse_run_option(cmd, opt, optarg, c, &wa);
		if (rc < 0)
			return EXIT_USAGE;
	}
	if (!cli_no_args(cmd, argc, argv))
		return EXIT_USAGE;
	if (apply_workloads(cmd, c, &wa))
		return EXIT_USAGE;
	if (c->overhead)
		c->profile = false;	/* the A/B prices the hop tracer alone */
	if (c->funcs.only_extra && !c->funcs.nr_extra) {
		usage_error("%s: --func-only needs at least one --func NAME", cmd);
		return EXIT_USAGE;
	}
	if (c->overhead && !c->trace) {
		usage_error("%s: --overhead compares with and without probes; drop --no-trace", cmd);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static struct run_config c;
	static struct run_result res;
	int rc;

	run_config_defaults(&c);
	rc = run_parse_args("run", argc, argv, &c, run_help, NULL, 0);
	if (rc)
		return rc < 0 ? 0 : rc;
	run_default_id(&c.topo, topo_cni_name(c.topo.cni));
	if (!c.results_dir[0])
		snprintf(c.results_dir, sizeof(c.results_dir), "%s/%s", RESULTS_ROOT, c.topo.run);
	if (topo_opts_check(&c.topo))
		return EXIT_USAGE;
	if (!cli_require_caps())
		return 1;
	c.json = opt_json;
	rc = run_datapath(&c, &res);
	run_result_free(&res);
	return rc;
}
