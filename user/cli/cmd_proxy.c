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

int cmd_proxy(int argc, char **argv)
{
	enum { OPT_OUT = 0x100, OPT_IN, OPT_UID, OPT_GID, OPT_STATS, OPT_MAX, OPT_BUF, OPT_CTO,
	       OPT_SIDECAR, OPT_IPT, OPT_CG };
	static const struct option longopts[] = {
		{ "outbound-port", required_argument, NULL, OPT_OUT },
		{ "inbound-port", required_argument, NULL, OPT_IN },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "max-conns", required_argument, NULL, OPT_MAX },
		{ "buffer", required_argument, NULL, OPT_BUF },
		{ "connect-timeout", required_argument, NULL, OPT_CTO },
		{ "sidecar", required_argument, NULL, OPT_SIDECAR },
		{ "iptables", required_argument, NULL, OPT_IPT },
		{ "cgroup", required_argument, NULL, OPT_CG },
		CLI_COMMON_LONGOPTS,
		{}
	};
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
	const char *sidecar_ns = NULL, *backend = NULL, *cgroup = NULL, *proxy_opt = NULL;
	char proxy_opt_name[32];
	uint64_t v;
	int opt, rc, idx;

	while ((opt = getopt_long(argc, argv, ":vh", longopts, &idx)) != -1) {
		if ((rc = cli_common_opt("proxy", opt, argv)) > 0)
			continue;
		if (rc < 0)
			return EXIT_USAGE;
		if (opt >= OPT_OUT && opt <= OPT_CTO) {
			snprintf(proxy_opt_name, sizeof(proxy_opt_name), "--%s", longopts[idx].name);
			proxy_opt = proxy_opt_name;
		}
		switch (opt) {
		case 'h':
			help();
			return 0;
		case OPT_OUT:
		case OPT_IN:
			if (parse_u64("proxy", opt == OPT_OUT ? "--outbound-port" : "--inbound-port",
				      optarg, 1, 65535, &v) < 0)
				return EXIT_USAGE;
			if (opt == OPT_OUT)
				cfg.outbound_port = v;
			else
				cfg.inbound_port = v;
			break;
		case OPT_UID:
		case OPT_GID:
			/* (uid_t)-1 means "unchanged" to setuid(): not a uid. */
			if (parse_u64("proxy", opt == OPT_UID ? "--uid" : "--gid", optarg, 0,
				      4294967294ULL, &v) < 0)
				return EXIT_USAGE;
			if (opt == OPT_UID)
				cfg.uid = v;
			else
				cfg.gid = v;
			break;
		case OPT_STATS:
			if (!*optarg) {
				usage_error("proxy: --stats needs a file name");
				return EXIT_USAGE;
			}
			cfg.stats_path = optarg;
			break;
		case OPT_MAX:
			if (parse_u64("proxy", "--max-conns", optarg, 1, 65536, &v) < 0)
				return EXIT_USAGE;
			cfg.max_conns = v;
			break;
		case OPT_BUF:
			if (parse_size("proxy", "--buffer", optarg, 1024, 16ULL << 20, &v) < 0)
				return EXIT_USAGE;
			cfg.buffer_size = v;
			break;
		case OPT_CTO:
			if (parse_duration("proxy", "--connect-timeout", optarg, 1000000ULL,
					   300000000000ULL, &v) < 0)
				return EXIT_USAGE;
			cfg.connect_timeout_ns = v;
			break;
		case OPT_SIDECAR:
			sidecar_ns = optarg;
			break;
		case OPT_IPT:
			backend = optarg;
			break;
		case OPT_CG:
			cgroup = optarg;
			break;
		}
	}
	if (optind < argc) {
		usage_error("proxy: unexpected argument '%s' (see 'netprof proxy -h')", argv[optind]);
		return EXIT_USAGE;
	}
	if (cfg.outbound_port == cfg.inbound_port) {
		usage_error("proxy: --outbound-port and --inbound-port are both %u; give them "
			    "different ports", cfg.outbound_port);
		return EXIT_USAGE;
	}
	if (sidecar_ns) {
		if (proxy_opt) {
			usage_error("proxy: %s cannot be combined with --sidecar (the sidecar uses "
				    "Istio's settings)", proxy_opt);
			return EXIT_USAGE;
		}
		if (backend && strcmp(backend, "legacy") && strcmp(backend, "nft")) {
			usage_error("proxy: --iptables '%s' is not legacy or nft", backend);
			return EXIT_USAGE;
		}
		return run_sidecar(sidecar_ns, cgroup, backend ? backend : "legacy");
	}
	if (backend || cgroup) {
		usage_error("proxy: %s only goes with --sidecar NETNS",
			    backend ? "--iptables" : "--cgroup");
		return EXIT_USAGE;
	}
	/* Named for ps and ss (it runs as /proc/self/exe, "exe" otherwise). */
	prctl(PR_SET_NAME, "netprof-proxy");
	return proxy_run(&cfg) < 0 ? 1 : 0;
}
