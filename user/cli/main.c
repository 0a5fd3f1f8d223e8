/* netprof: why one Kubernetes network datapath is slower than another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/caps.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/log.h"
#include "lib/output.h"
#include "lib/teardown.h"

static const struct command commands[] = {
	{ "run", cmd_run, "build a datapath, drive traffic, report figures, hops and cycles",
	  NEEDS_PROFILER },
	{ "compare", cmd_compare, "run several datapaths with one workload, side by side",
	  NEEDS_PROFILER },
	{ "topo", cmd_topo, "build, show or remove an emulated CNI datapath", NEEDS_PROFILER },
	{ "serve", cmd_serve, "answer load-generator tests (like netserver or iperf3 -s)", 0 },
	{ "load", cmd_load, "drive a workload against 'netprof serve' (like netperf or iperf3 -c)",
	  0 },
	{ "trace", cmd_trace, "follow packets through existing netprof namespaces, hop by hop",
	  NEEDS_PROFILER },
	{ "profile", cmd_profile, "sample on-CPU stacks: folded stacks and cost categories",
	  NEEDS_PROFILER },
	{ "categorize", cmd_categorize, "cost categories of a folded-stacks file", 0 },
	{ "check", cmd_check, "probe what this kernel offers a datapath profiler", NEEDS_PROFILER },
	{ "cleanup", cmd_cleanup, "remove whatever a killed run left behind",
	  NEED_CAP(NP_CAP_NET_ADMIN) | NEED_CAP(NP_CAP_SYS_ADMIN) },
	{ "report", cmd_report, "print a saved run's report from results/", 0 },
	{ "flame", cmd_flame, "render folded stacks as an SVG flame graph", 0 },
	/* The sidecar's proxy: netprof starts it in each pod, so it is hidden. */
	{ "proxy", cmd_proxy, NULL, 0 },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: netprof [-v] [--json] <command> [options]\n"
		"       netprof <command> -h\n"
		"\n"
		"Emulates Kubernetes CNI datapaths in network namespaces, drives traffic through\n"
		"them and explains the figures: hop path, netfilter and backlog time, CPU cycles.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (commands[i].summary)
			fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -v, --verbose   more detail on stderr, including libbpf's debug output\n"
		"  --json          data as JSON on stdout\n"
		"  --version       print the version\n"
		"  -h, --help      this help\n"
		"\n"
		"Examples:\n"
		"  sudo netprof check            what this kernel lets netprof measure\n"
		"  sudo netprof check --json     the same, as JSON\n"
		"  sudo netprof cleanup          remove what a SIGKILLed run left\n");
}

/* With --json, a failure leaves {"error": ...} on stdout: the message that
 * made it fail, or the exit status when nothing was said. */
static int fail(const char *command, int rc)
{
	char fallback[64];
	const char *why = log_last_error();

	if (!opt_json)
		return rc;
	if (!why[0]) {
		snprintf(fallback, sizeof(fallback), "%s failed with exit status %d",
			 command ? command : "netprof", rc);
		why = fallback;
	}
	out_error_document(why);
	return rc;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	int i, rc;

	log_init(false);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("netprof %s\n", NETPROF_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			opt_verbose = true;
			log_init(true);
		} else if (!strcmp(argv[i], "--json")) {
			opt_json = true;
		} else {
			usage_error("unknown option '%s' (see 'netprof -h')", argv[i]);
			return fail(NULL, EXIT_USAGE);
		}
	}
	if (i == argc) {
		usage_error("no command given (see 'netprof -h'; try 'sudo netprof check')");
		return fail(NULL, EXIT_USAGE);
	}
	cmd = find_command(argv[i]);
	if (!cmd) {
		usage_error("unknown command '%s' (see 'netprof -h' for the list)", argv[i]);
		return fail(NULL, EXIT_USAGE);
	}
	/* Capabilities are checked after option parsing, by the command
	 * (cli_require_caps), so that -h and usage errors work for anyone. */
	current_command = cmd;
	teardown_init();
	optind = 1;
	opterr = 0;
	rc = cmd->run(argc - i, argv + i);
	if (rc)
		fail(cmd->name, rc);
	teardown_all();
	return rc;
}
