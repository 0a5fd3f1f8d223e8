/*
 * netprof proxy: the envoy-like TCP proxy of the emulated Istio sidecar
 * (proxy.c). netprof starts it itself in each pod namespace (sidecar.c), so
 * the command is hidden from 'netprof -h'. With --sidecar NETNS it plays
 * the whole sidecar in a namespace you made (rules plus proxy, through the
 * same code as --cni sidecar), until ^C, then prints the counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "lib/caps.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/log.h"
#include "lib/output.h"
#include "datapath/proxy.h"
#include "datapath/sidecar.h"
#include "lib/teardown.h"

#define DEFAULT_BUFFER (64 * 1024)
#define DEFAULT_MAX_CONNS 1024
/* Istio's default connect timeout (MeshConfig connectTimeout). */
#define DEFAULT_CONNECT_TIMEOUT_NS 10000000000ULL

static void help(void)
{
	printf("Usage: netprof proxy [--outbound-port N] [--inbound-port N] [--uid N] [--gid N]\n"
	       "                     [--stats FILE] [--max-conns N] [--buffer SIZE]\n"
	       "                     [--connect-timeout TIME] [-v]\n"
	       "       netprof proxy --sidecar NETNS [--iptables legacy|nft] [--cgroup PATH] [--json]\n"
	       "\n"
	       "netprof's envoy-like TCP proxy, the user-space half of the emulated Istio\n"
	       "sidecar (--cni sidecar starts one in each pod by itself). It takes the\n"
	       "connections Istio's nat rules REDIRECT to it, finds each one's real\n"
	       "destination with getsockopt(SO_ORIGINAL_DST) and copies the bytes through\n"
	       "user space, one buffer per direction, like Envoy's TCP proxy: outbound\n"
	       "connections go to their original destination; inbound ones go to the\n"
	       "original destination from source 127.0.0.6, so the app sees 127.0.0.6 as\n"
	       "its peer, as behind Envoy. One thread, epoll; runs until SIGINT/SIGTERM.\n"
	       "\n"
	       "  --outbound-port N      listener for ISTIO_REDIRECT (default %u)\n"
	       "  --inbound-port N       listener for ISTIO_IN_REDIRECT (default %u)\n"
	       "  --uid N, --gid N       become this uid/gid once listening (default %u): Istio's\n"
	       "                         owner-match rules let that uid's own traffic through\n"
	       "  --stats FILE           JSON counters, replaced (via rename) every 500 ms and\n"
	       "                         at exit; its directory must be writable by --uid\n"
	       "  --max-conns N          connections at once, more are reset (default %u)\n"
	       "  --buffer SIZE          buffer per direction and connection (default 64k)\n"
	       "  --connect-timeout TIME upstream connect bound (default 10s, as Istio)\n"
	       "  --sidecar NETNS        install Istio's rules in NETNS, run the proxy there\n"
	       "                         as uid 1337, print its counters on ^C\n"
	       "  --iptables B           with --sidecar: legacy or nft (default legacy)\n"
	       "  --cgroup PATH          with --sidecar: cgroup v2 directory to run it in\n"
	       "\n"
	       "Examples:\n"
	       "  sudo ip netns exec netprof-pod netprof proxy --stats /tmp/netprof-px/stats.json\n"
	       "  sudo netprof proxy --sidecar netprof-demo-pod-a --iptables nft --json\n",
	       SIDECAR_OUTBOUND_PORT, SIDECAR_INBOUND_PORT, SIDECAR_UID, DEFAULT_MAX_CONNS);
}

static void print_stats(const char *netns, pid_t pid, const struct sidecar_stats *st)
{
	out_object_begin(NULL);
	out_string("netns", "sidecar in %s", netns);
	out_int("proxy_pid", " (proxy pid %lld)\n", pid);
	out_uint("outbound_conns", "  outbound connections  %llu\n", st->outbound_conns);
	out_uint("inbound_conns", "  inbound connections   %llu\n", st->inbound_conns);
	out_uint("active_conns", "  still open            %llu\n", st->active_conns);
	out_uint("bytes_to_upstream", "  bytes to upstream     %llu\n", st->bytes_to_upstream);
	out_uint("bytes_to_downstream", "  bytes to downstream   %llu\n", st->bytes_to_downstream);
	out_uint("upstream_connect_errors", "  connect errors        %llu\n",
		 st->upstream_connect_errors);
	out_uint("resets", "  resets                %llu\n", st->resets);
	out_uint("no_original_dst", "  not redirected        %llu\n", st->no_original_dst);
	out_object_end();
}

static int run_sidecar(const char *netns, const char *cgroup, const char *backend)
{
	struct sidecar_stats st = {};
	struct sidecar *s;
	pid_t pid;
	int err;

	if (!caps_require("proxy", NEED_CAP(NP_CAP_NET_ADMIN) | NEED_CAP(NP_CAP_SYS_ADMIN)))
		return 1;
	if (sidecar_start(&s, netns, cgroup, backend) < 0)
		return 1;
	pid = sidecar_pid(s);
	pr_info("sidecar in %s: proxy %d listening on %u and %u; ^C stops it", netns, (int)pid,
		SIDECAR_OUTBOUND_PORT, SIDECAR_INBOUND_PORT);
	while (!stop_requested()) {
		nanosleep(&(struct timespec){ .tv_nsec = 200000000 }, NULL);
		if (sidecar_read_stats(s, &st) == -ECHILD) {
			sidecar_stop(s);
			return 1;
		}
	}
	sidecar_halt(s);
	err = sidecar_read_stats(s, &st);
	if (err == 0) {
		out_init(opt_json);
		print_stats(netns, pid, &st);
		out_finish();
	}
	sidecar_stop(s);
	return err ? 1 : 0;
}

static int stats_option(const char *command, const struct cli_option *opt, const char *arg,
			void *base)
{
	(void)opt;
	if (!*arg) {
		usage_error("%s: --stats needs a file name", command);
		return -1;
	}
	((struct proxy_config *)base)->stats_path = arg;
	return 0;
}

/* The proxy's own settings: the sidecar mode takes Istio's instead. */
static const struct cli_option proxy_options[] = {
	{ "outbound-port", 0, CLI_U64, CLI_FIELD(struct proxy_config, outbound_port), .min = 1,
	  .max = 65535 },
	{ "inbound-port", 0, CLI_U64, CLI_FIELD(struct proxy_config, inbound_port), .min = 1,
	  .max = 65535 },
	/* (uid_t)-1 means "unchanged" to setuid(): not a uid. */
	{ "uid", 0, CLI_U64, CLI_FIELD(struct proxy_config, uid), .max = 4294967294ULL },
	{ "gid", 0, CLI_U64, CLI_FIELD(struct proxy_config, gid), .max = 4294967294ULL },
	{ "stats", 0, CLI_CALL, .handler = stats_option, .has_value = true },
	{ "max-conns", 0, CLI_U64, CLI_FIELD(struct proxy_config, max_conns), .min = 1,
	  .max = 65536 },
	{ "buffer", 0, CLI_SIZE, CLI_FIELD(struct proxy_config, buffer_size), .min = 1024,
	  .max = 16ULL << 20 },
	{ "connect-timeout", 0, CLI_DURATION, CLI_FIELD(struct proxy_config, connect_timeout_ns),
	  .min = 1000000ULL, .max = 300000000000ULL },
	{}
};

struct sidecar_args {
	const char *netns, *backend, *cgroup;
};

static const struct cli_option sidecar_options[] = {
	{ "sidecar", 0, CLI_STRING, CLI_FIELD(struct sidecar_args, netns) },
	{ "iptables", 0, CLI_STRING, CLI_FIELD(struct sidecar_args, backend) },
	{ "cgroup", 0, CLI_STRING, CLI_FIELD(struct sidecar_args, cgroup) },
	{}
};

int cmd_proxy(int argc, char **argv)
{
	struct proxy_config cfg = {
		.outbound_port = SIDECAR_OUTBOUND_PORT,
		.inbound_port = SIDECAR_INBOUND_PORT,
		.inbound_src = SIDECAR_INBOUND_SRC,
		.drop_privileges = true,
		.uid = SIDECAR_UID,
		.gid = SIDECAR_UID,
		.buffer_size = DEFAULT_BUFFER,
		.max_conns = DEFAULT_MAX_CONNS,
		.connect_timeout_ns = DEFAULT_CONNECT_TIMEOUT_NS,
	};
	struct sidecar_args sc = {};
	const char *proxy_opt = NULL;
	const struct cli_group groups[] = {
		{ .options = proxy_options, .base = &cfg, .given = &proxy_opt },
		CLI_GROUP(sidecar_options, &sc),
		{}
	};
	const struct cli_spec spec = { "proxy", help, groups, .no_operands = true };
	enum cli_result rc = cli_parse(&spec, argc, argv);

	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	if (cfg.outbound_port == cfg.inbound_port) {
		usage_error("proxy: --outbound-port and --inbound-port are both %u; give them "
			    "different ports", cfg.outbound_port);
		return EXIT_USAGE;
	}
	if (sc.netns) {
		if (proxy_opt) {
			usage_error("proxy: --%s cannot be combined with --sidecar (the sidecar uses "
				    "Istio's settings)", proxy_opt);
			return EXIT_USAGE;
		}
		if (sc.backend && strcmp(sc.backend, "legacy") && strcmp(sc.backend, "nft")) {
			usage_error("proxy: --iptables '%s' is not legacy or nft", sc.backend);
			return EXIT_USAGE;
		}
		return run_sidecar(sc.netns, sc.cgroup, sc.backend ? sc.backend : "legacy");
	}
	if (sc.backend || sc.cgroup) {
		usage_error("proxy: %s only goes with --sidecar NETNS",
			    sc.backend ? "--iptables" : "--cgroup");
		return EXIT_USAGE;
	}
	/* Named for ps and ss (it runs as /proc/self/exe, "exe" otherwise). */
	prctl(PR_SET_NAME, "netprof-proxy");
	return proxy_run(&cfg) < 0 ? 1 : 0;
}
