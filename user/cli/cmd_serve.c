/* netprof serve: answers `netprof load` tests, like netserver or iperf3 -s. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "loadgen/loadgen.h"
#include "lib/log.h"

static void help(void)
{
	printf("Usage: netprof serve [-p PORT] [-B ADDR] [--netns NAME] [-1] [--tests N] [--no-pin] [-v]\n"
	       "\n"
	       "Waits for `netprof load` on a control port (%u, as netperf's netserver) and runs\n"
	       "the tests it asks for, one at a time: each test gets a data port of its own,\n"
	       "its worker threads placed as the client asks (see --pin in 'netprof load -h'),\n"
	       "and at the end the server's byte and transaction counts and CPU figures go\n"
	       "back to the client.\n"
	       "Runs until SIGINT or SIGTERM.\n"
	       "\n"
	       "  -p, --port PORT     control port (default %u)\n"
	       "  -B, --bind ADDR     listen on this address only (default: every address)\n"
	       "      --netns NAME    serve inside the named network namespace\n"
	       "  -1, --once          exit after one test\n"
	       "      --tests N       exit after N tests\n"
	       "      --no-pin        never pin worker threads to CPUs, whatever the client asks\n"
	       "  -v, --verbose       more detail on stderr\n"
	       "\n"
	       "Examples:\n"
	       "  netprof serve\n"
	       "  sudo netprof serve --netns netprof-pod-b -B 198.18.0.2\n"
	       "  netprof serve -p 5001 --once\n", LOADGEN_DEFAULT_PORT, LOADGEN_DEFAULT_PORT);
}

static int bind_option(const char *command, const struct cli_option *opt, const char *arg,
		       void *base)
{
	struct loadgen_server_opts *o = base;
	unsigned char addr[16];

	(void)opt;
	if (inet_pton(AF_INET, arg, addr) != 1 && inet_pton(AF_INET6, arg, addr) != 1) {
		usage_error("%s: --bind '%s' is not a numeric IPv4 or IPv6 address", command, arg);
		return -1;
	}
	snprintf(o->bind, sizeof(o->bind), "%s", arg);
	return 0;
}

static int netns_option(const char *command, const struct cli_option *opt, const char *arg,
			void *base)
{
	struct loadgen_server_opts *o = base;

	(void)opt;
	if (strlen(arg) >= sizeof(o->netns) || !arg[0] || strchr(arg, '/')) {
		usage_error("%s: --netns '%s' is not a namespace name", command, arg);
		return -1;
	}
	snprintf(o->netns, sizeof(o->netns), "%s", arg);
	return 0;
}

static const struct cli_option serve_options[] = {
	{ "port", 'p', CLI_U64, CLI_FIELD(struct loadgen_server_opts, port), .min = 1,
	  .max = 65535 },
	{ "bind", 'B', CLI_CALL, .handler = bind_option, .has_value = true },
	{ "netns", 0, CLI_CALL, .handler = netns_option, .has_value = true },
	{ "once", '1', CLI_SET, CLI_FIELD(struct loadgen_server_opts, max_tests), .value = 1 },
	{ "tests", 0, CLI_U64, CLI_FIELD(struct loadgen_server_opts, max_tests), .min = 1,
	  .max = 1000000 },
	{ "no-pin", 0, CLI_FLAG, CLI_FIELD(struct loadgen_server_opts, no_pin) },
	{}
};

int cmd_serve(int argc, char **argv)
{
	struct loadgen_server_opts o = { .port = LOADGEN_DEFAULT_PORT };
	const struct cli_group groups[] = { CLI_GROUP(serve_options, &o), {} };
	const struct cli_spec spec = { "serve", help, groups, .no_operands = true };
	int rc;

	rc = cli_parse(&spec, argc, argv);
	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	if (!cli_require_caps())
		return 1;
	pr_info("serve: listening on %s port %u%s%s", o.bind[0] ? o.bind : "every address", o.port,
		o.netns[0] ? " in namespace " : "", o.netns);
	rc = loadgen_server_run(&o);
	if (rc < 0) {
		pr_warn("serve: cannot listen on %s port %u%s%s: %s", o.bind[0] ? o.bind : "every address",
			o.port, o.netns[0] ? " in namespace " : "", o.netns, strerror(-rc));
		return 1;
	}
	return 0;
}
