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
#include "trace/trace_options.h"

/* Workload settings given on the command line, applied to every workload. */
struct workload_args {
	const char *list;
	uint64_t duration_ns, warmup_ns, conns, req, resp, rate, threads;
	bool reverse, have_size;
};

static int parse_sizes(const char *cmd, const struct cli_option *opt, const char *arg, void *base)
{
	struct workload_args *wa = base;
	char req[32], *comma;

	(void)opt;
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

/* --warmup 0 is a choice, told apart from "not given" as 1 ns. */
static int parse_warmup(const char *cmd, const struct cli_option *opt, const char *arg, void *base)
{
	struct workload_args *wa = base;

	(void)opt;
	if (parse_duration(cmd, "--warmup", arg, 0, 600000000000ULL, &wa->warmup_ns))
		return -1;
	wa->warmup_ns = wa->warmup_ns ?: 1;
	return 0;
}

static const struct cli_option workload_options[] = {
	{ "workload", 'w', CLI_STRING, CLI_FIELD(struct workload_args, list) },
	{ "duration", 'd', CLI_DURATION, CLI_FIELD(struct workload_args, duration_ns),
	  .min = 100000000ULL, .max = 3600000000000ULL },
	{ "warmup", 0, CLI_CALL, .handler = parse_warmup, .has_value = true },
	{ "parallel", 'P', CLI_U64, CLI_FIELD(struct workload_args, conns), .min = 1, .max = 10000 },
	{ "size", 'r', CLI_CALL, .handler = parse_sizes, .has_value = true },
	{ "reverse", 0, CLI_FLAG, CLI_FIELD(struct workload_args, reverse) },
	{ "rate", 0, CLI_U64, CLI_FIELD(struct workload_args, rate), .min = 1, .max = 100000000 },
	{ "threads", 0, CLI_U64, CLI_FIELD(struct workload_args, threads), .min = 1, .max = 256 },
	{}
};

static int copy_results_dir(const char *cmd, const struct cli_option *opt, const char *arg,
			    void *base)
{
	struct run_config *c = base;

	(void)opt;
	if (snprintf(c->results_dir, sizeof(c->results_dir), "%s", arg) >=
	    (int)sizeof(c->results_dir)) {
		usage_error("%s: --results: a path of at most %zu characters", cmd,
			    sizeof(c->results_dir) - 1);
		return -1;
	}
	return 0;
}

static int copy_categories(const char *cmd, const struct cli_option *opt, const char *arg,
			   void *base)
{
	struct run_config *c = base;

	(void)opt;
	if (access(arg, R_OK)) {
		usage_error("%s: --categories %s: cannot read it", cmd, arg);
		return -1;
	}
	snprintf(c->categories, sizeof(c->categories), "%s", arg);
	return 0;
}

static const struct cli_option run_options[] = {
	{ "no-trace", 0, CLI_SET, CLI_FIELD(struct run_config, trace), .value = 0 },
	{ "no-profile", 0, CLI_SET, CLI_FIELD(struct run_config, profile), .value = 0 },
	{ "profile-duration", 0, CLI_DURATION, CLI_FIELD(struct run_config, profile_ns),
	  .min = 100000000ULL, .max = 3600000000000ULL },
	{ "explain-duration", 0, CLI_DURATION, CLI_FIELD(struct run_config, explain_ns),
	  .min = 100000000ULL, .max = 3600000000000ULL },
	{ "freq", 0, CLI_U64, CLI_FIELD(struct run_config, profile_freq), .min = 1, .max = 20000 },
	{ "categories", 0, CLI_CALL, .handler = copy_categories, .has_value = true },
	{ "overhead", 0, CLI_FLAG, CLI_FIELD(struct run_config, overhead) },
	{ "rounds", 0, CLI_U64, CLI_FIELD(struct run_config, overhead_rounds), .min = 1, .max = 16 },
	{ "results", 0, CLI_CALL, .handler = copy_results_dir, .has_value = true },
	{}
};

static const struct option topo_longopts[] = { TOPO_LONGOPTS, {} };

static int topo_option(const char *command, int opt, const char *arg, void *base)
{
	return topo_parse_option(command, opt, arg, base);
}

/* compare's --cni: a comma list, checked name by name afterwards. */
struct cni_list_arg {
	char *list;
	size_t len;
};

static int copy_cni_list(const char *cmd, const struct cli_option *opt, const char *arg,
			 void *base)
{
	struct cni_list_arg *l = base;

	(void)cmd;
	(void)opt;
	snprintf(l->list, l->len, "%s", arg);
	return 0;
}

static const struct cli_option cni_list_options[] = {
	{ "cni", 0, CLI_CALL, .handler = copy_cni_list, .has_value = true },
	{}
};

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
	       "Each workload runs in three phases on the same topology and server, so that\n"
	       "no figure is the probes' own: measure (-d, nothing of netprof's attached: the\n"
	       "headline figures), profile (the stack sampler alone: the cycle categories),\n"
	       "explain (the hop tracer and function timing: hops, netfilter, drops, and the\n"
	       "rate while traced beside the clean one).\n"
	       "\n"
	       "Topology (as 'netprof topo up'):\n"
	       "%s"
	       "Workload (default: pingpong, then a single stream, 5 s each):\n"
	       "  -w, --workload LIST   stream, rr, crr, pingpong, udp, sweep, push, http (comma list)\n"
	       "  -d, --duration D      measure phase, per workload (default 5s); --warmup D\n"
	       "                        before every phase (default 1s)\n"
	       "  --profile-duration D  profile phase (default 3s, or -d if shorter)\n"
	       "  --explain-duration D  explain phase (default 3s, or -d if shorter)\n"
	       "  -P, --parallel N      connections or streams\n"
	       "  -r, --size REQ[,RESP] message sizes (e.g. 100,100 or 64k)\n"
	       "  --reverse             stream: the server sends\n"
	       "  --rate N              rr/http/udp: open-loop rate per second\n"
	       "  --threads N           worker threads per side\n"
	       "Tracer (the explain phase):\n"
	       "  --no-trace            no hop tracer\n",
	       topo_options_help);
	trace_options_help(true);
	printf("CPU profile:\n"
	       "  --no-profile          no profile phase\n"
	       "  --freq HZ             samples per second per CPU (default 999)\n"
	       "  --categories FILE     cost category rules (default user/profile/categories.conf,\n"
	       "                        built in)\n"
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
	       "  sudo netprof run --cni calico -w rr --func ip_finish_output2 --func-probe kprobe\n");
}

int run_parse_args(const char *cmd, int argc, char **argv, struct run_config *c,
		   void (*help)(void), char *cni_list, size_t cni_len)
{
	struct workload_args wa = {};
	struct cni_list_arg cnis = { cni_list, cni_len };
	struct cli_group groups[] = {
		/* First: compare's --cni takes a list where topo's takes one name. */
		CLI_GROUP(cni_list ? cni_list_options : NULL, &cnis),
		{ .longopts = topo_longopts, .parse = topo_option, .base = &c->topo },
		CLI_GROUP(workload_options, &wa),
		CLI_GROUP(run_options, c),
		CLI_GROUP(trace_hop_options, &c->tracer),
		CLI_GROUP(trace_func_options, &c->funcs),
		{}
	};
	const struct cli_spec spec = { cmd, help, cni_list ? groups : groups + 1,
				       .no_operands = true };
	enum cli_result rc = cli_parse(&spec, argc, argv);

	if (rc == CLI_HELP_SHOWN)
		return -1;
	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
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
	if (topo_opts_check(&c.topo) || run_results_dir_check("run", c.results_dir))
		return EXIT_USAGE;
	if (!cli_require_caps())
		return 1;
	c.json = opt_json;
	rc = run_datapath(&c, &res);
	run_result_free(&res);
	return rc;
}
