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

int cmd_serve(int argc, char **argv)
{
	enum { OPT_NETNS = 0x100, OPT_TESTS, OPT_NO_PIN };
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'B' },
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "once", no_argument, NULL, '1' },
		{ "tests", required_argument, NULL, OPT_TESTS },
		{ "no-pin", no_argument, NULL, OPT_NO_PIN },
		CLI_COMMON_LONGOPTS,
		{}
	};
	struct loadgen_server_opts o = { .port = LOADGEN_DEFAULT_PORT };
	unsigned char addr[16];
	uint64_t v;
	int opt, rc;

	while ((opt = cli_next_opt("serve", argc, argv, ":p:B:1vh", longopts)) != -1) {
		switch (opt) {
		case CLI_ERROR:
			return EXIT_USAGE;
		case CLI_HELP:
			help();
			return 0;
		case 'p':
			if (parse_u64("serve", "--port", optarg, 1, 65535, &v) < 0)
				return EXIT_USAGE;
			o.port = (uint16_t)v;
			break;
		case 'B':
			if (inet_pton(AF_INET, optarg, addr) != 1 && inet_pton(AF_INET6, optarg, addr) != 1) {
				usage_error("serve: --bind '%s' is not a numeric IPv4 or IPv6 address", optarg);
				return EXIT_USAGE;
			}
			snprintf(o.bind, sizeof(o.bind), "%s", optarg);
			break;
		case OPT_NETNS:
			if (strlen(optarg) >= sizeof(o.netns) || !optarg[0] || strchr(optarg, '/')) {
				usage_error("serve: --netns '%s' is not a namespace name", optarg);
				return EXIT_USAGE;
			}
			snprintf(o.netns, sizeof(o.netns), "%s", optarg);
			break;
		case '1':
			o.max_tests = 1;
			break;
		case OPT_TESTS:
			if (parse_u64("serve", "--tests", optarg, 1, 1000000, &v) < 0)
				return EXIT_USAGE;
			o.max_tests = (uint32_t)v;
			break;
		case OPT_NO_PIN:
			o.no_pin = true;
			break;
		}
	}
	if (optind < argc) {
		usage_error("serve: unexpected argument '%s' (see 'netprof serve -h')", argv[optind]);
		return EXIT_USAGE;
	}
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
