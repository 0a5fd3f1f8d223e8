#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cpulist.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "topo/topo_options.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char topo_options_help[] =
	"  --cni NAME              host, calico, cilium, cilium-legacy, macvlan, sidecar\n"
"                          bridge, terway-eni, terway, vpc-cni, kata\n"
	"  --placement P           cross-node (default, as in published benchmarks) or same-node\n"
	"  --target T              pod (default), or service: the client dials a ClusterIP\n"
	"                          (kube-proxy iptables NAT; socket-LB for cilium)\n"
	"  --mtu N                 MTU of every device (default 1500)\n"
	"  --pods N                pods per node of the cluster (default 30, the real ones\n"
	"                          included; at most " STR(TOPO_MAX_PODS) "): the endpoints of kube-proxy's\n"
	"                          services and of Calico's rules; only addresses in rules\n"
	"  --policies N            network policies on every endpoint (calico, sidecar)\n"
	"  --services N            ClusterIP services of the cluster (default 100, one in 10\n"
	"                          with a NodePort), ahead of the measured one: kube-proxy's\n"
	"                          rules and conntrack on both nodes wherever the real\n"
	"                          datapath runs kube-proxy (host, calico, sidecar,\n"
	"                          cilium-legacy, macvlan; not cilium, nor with --socket-lb).\n"
	"                          --services 0 --pods 0: bare nodes, no kube-proxy\n"
	"  --subnets 1|2           macvlan: one L2 segment, or two behind a gateway namespace\n"
	"  --socket-lb             ClusterIPs by cgroup/connect4 socket-LB instead of kube-proxy\n"
	"                          (macvlan, cilium-legacy; cilium always)\n"
	"  --socket-bypass         same-node sockets joined by a sockhash (sock_ops + sk_msg, as\n"
	"                          istio-tcpip-bypass): the payload skips TCP/IP (same-node only)\n"
	"  --iptables legacy|nft   the iptables backend in the namespaces. legacy (default):\n"
	"                          x_tables, the per-rule linear walk Calico and kube-proxy\n"
	"                          benchmarks measured; nft: iptables-nft, rules translated\n"
	"                          to nftables (Debian 12's default 'iptables')\n"
	"  --node-cpus N1,N2       the CPUs of node1 and of node2 (default: this machine's\n"
	"                          CPUs split in two, node1 the first half); each a CPU, a\n"
	"                          range or pieces joined by '+' (0-1+4); one list alone:\n"
	"                          both nodes share it (all CPUs: no per-node sets).\n"
	"                          A node's pod processes and its wire receive run there\n"
	"  --wire napi|backlog     how the node-to-node veth receives. napi (default), as a\n"
	"                          NIC: GRO on (TSO off at the sender, which segments in\n"
	"                          software), polled by threaded NAPI on the receiving\n"
	"                          node's CPUs; backlog: a plain veth, whose receive runs\n"
	"                          on the sending CPU through its backlog (netif_rx)\n"
	"  --link-rate RATE        cap each direction of the wire as a NIC's line rate\n"
	"                          (tbf on both ends): tc's units, e.g. 10gbit, 1gbit, 500mbit\n"
	"  --run ID                name of the topology (a-z, 0-9, '-')\n";

static int parse_count(const char *command, const char *opt, const char *arg, uint64_t max,
		       unsigned *out)
{
	uint64_t v;

	if (parse_u64(command, opt, arg, 0, max, &v) < 0)
		return -1;
	*out = (unsigned)v;
	return 1;
}

/* tc's rate units (tc(8)): bits, or bytes per second ("bps"), SI or IEC. */
static const struct rate_unit {
	const char *name;
	double bits;
} rate_units[] = {
	{ "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }, { "tbit", 1e12 },
	{ "kibit", 1024.0 }, { "mibit", 1048576.0 }, { "gibit", 1073741824.0 },
	{ "tibit", 1099511627776.0 },
	{ "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 }, { "tbps", 8e12 },
	{ "kibps", 8 * 1024.0 }, { "mibps", 8 * 1048576.0 }, { "gibps", 8 * 1073741824.0 },
	{ "tibps", 8 * 1099511627776.0 },
};

int topo_parse_rate(const char *text, uint64_t *bits_per_s)
{
	char *end;
	double v, mult = 1;

	if (!text || !(*text >= '0' && *text <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text)
		return -EINVAL;
	if (*end) {
		size_t i;

		for (i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++)
			if (!strcasecmp(end, rate_units[i].name))
				break;
		if (i == sizeof(rate_units) / sizeof(rate_units[0]))
			return -EINVAL;
		mult = rate_units[i].bits;
	}
	v *= mult;
	if (!isfinite(v) || v < 1 || v > 1e15)
		return -EINVAL;
	*bits_per_s = (uint64_t)llround(v);
	return 0;
}

void topo_format_rate(uint64_t bps, char *out, size_t len)
{
	static const struct { uint64_t div; const char *unit; } units[] = {
		{ 1000000000000ULL, "tbit" }, { 1000000000ULL, "gbit" }, { 1000000ULL, "mbit" },
		{ 1000ULL, "kbit" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (bps >= units[i].div && bps % units[i].div == 0) {
			snprintf(out, len, "%llu%s", (unsigned long long)(bps / units[i].div),
				 units[i].unit);
			return;
		}
	snprintf(out, len, "%llubit", (unsigned long long)bps);
}

int topo_parse_node_cpus(const char *command, const char *arg, struct topo_opts *o)
{
	char lists[2][TOPO_CPUS_MAX];
	const char *comma = strchr(arg, ',');

	if (strlen(arg) >= TOPO_CPUS_MAX || (comma && strchr(comma + 1, ','))) {
		usage_error("%s: --node-cpus '%s': give node1's CPUs and node2's, e.g. 0,1 or 0-1,2-3",
			    command, arg);
		return -EINVAL;
	}
	snprintf(lists[0], sizeof(lists[0]), "%.*s", comma ? (int)(comma - arg) : (int)strlen(arg),
		 arg);
	snprintf(lists[1], sizeof(lists[1]), "%s", comma ? comma + 1 : arg);
	for (int node = 0; node < 2; node++) {
		cpu_set_t set;

		if (cpulist_parse_sep(lists[node], '+', &set)) {
			usage_error("%s: --node-cpus '%s': '%s' is not a CPU list (a CPU, a range "
				    "such as 0-3, pieces joined by '+')", command, arg, lists[node]);
			return -EINVAL;
		}
		cpulist_format(&set, o->node_cpus[node], sizeof(o->node_cpus[node]));
	}
	return 0;
}

int topo_parse_option(const char *command, int opt, const char *arg, struct topo_opts *o)
{
	uint64_t v;
	int cni;

	switch (opt) {
	case TOPO_OPT_CNI:
		if ((cni = topo_cni_from_name(arg)) < 0) {
			usage_error("%s: unknown --cni '%s' (use one of: %s)", command, arg,
				    topo_cni_list());
			return -1;
		}
		o->cni = cni;
		return 1;
	case TOPO_OPT_PLACEMENT:
		if (strcmp(arg, "cross-node") && strcmp(arg, "same-node")) {
			usage_error("%s: --placement '%s': use cross-node or same-node", command, arg);
			return -1;
		}
		o->same_node = !strcmp(arg, "same-node");
		return 1;
	case TOPO_OPT_TARGET:
		if (strcmp(arg, "pod") && strcmp(arg, "service")) {
			usage_error("%s: --target '%s': use pod or service", command, arg);
			return -1;
		}
		o->target_service = !strcmp(arg, "service");
		return 1;
	case TOPO_OPT_MTU:
		if (parse_u64(command, "--mtu", arg, 576, 65535, &v) < 0)
			return -1;
		o->mtu = (unsigned)v;
		return 1;
	case TOPO_OPT_PODS:
		return parse_count(command, "--pods", arg, TOPO_MAX_PODS, &o->pods);
	case TOPO_OPT_POLICIES:
		return parse_count(command, "--policies", arg, TOPO_MAX_POLICIES, &o->policies);
	case TOPO_OPT_SERVICES:
		return parse_count(command, "--services", arg, TOPO_MAX_SERVICES, &o->services);
	case TOPO_OPT_SUBNETS:
		if (parse_u64(command, "--subnets", arg, 1, 2, &v) < 0)
			return -1;
		o->subnets = (unsigned)v;
		return 1;
	case TOPO_OPT_SOCKET_LB:
		o->socket_lb = true;
		return 1;
	case TOPO_OPT_SOCKET_BYPASS:
		o->socket_bypass = true;
		return 1;
	case TOPO_OPT_IPTABLES:
		if (strcmp(arg, "legacy") && strcmp(arg, "nft")) {
			usage_error("%s: --iptables '%s': use legacy or nft", command, arg);
			return -1;
		}
		snprintf(o->iptables, sizeof(o->iptables), "%s", arg);
		return 1;
	case TOPO_OPT_NODE_CPUS:
		if (topo_parse_node_cpus(command, arg, o))
			return -1;
		/* Checked against this machine's CPUs now, so that the one
		 * line comes before anything is built. */
		return topo_opts_check_cpus(command, o) ? -1 : 1;
	case TOPO_OPT_WIRE:
		if (strcmp(arg, "napi") && strcmp(arg, "backlog")) {
			usage_error("%s: --wire '%s': use napi or backlog", command, arg);
			return -1;
		}
		o->wire = strcmp(arg, "napi") ? TOPO_WIRE_BACKLOG : TOPO_WIRE_NAPI;
		return 1;
	case TOPO_OPT_LINK_RATE:
		if (topo_parse_rate(arg, &o->link_rate) || o->link_rate < 1000000) {
			usage_error("%s: --link-rate '%s': a rate of at least 1mbit in tc's units, "
				    "e.g. 10gbit, 1gbit, 500mbit", command, arg);
			return -1;
		}
		return 1;
	case TOPO_OPT_RUN:
		if (strlen(arg) > TOPO_RUN_MAX || !arg[0] ||
		    strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(arg)) {
			usage_error("%s: --run '%s': use 1 to %d characters of a-z, 0-9 and '-'",
				    command, arg, TOPO_RUN_MAX);
			return -1;
		}
		snprintf(o->run, sizeof(o->run), "%s", arg);
		return 1;
	}
	return 0;
}
