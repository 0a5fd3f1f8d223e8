#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/parse.h"
#include "topo/topo_options.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char topo_options_help[] =
	"  --cni NAME              host, calico, cilium, cilium-legacy, macvlan, sidecar\n"
	"  --placement P           cross-node (default, as in published benchmarks) or same-node\n"
	"  --target T              pod (default), or service: the client dials a ClusterIP\n"
	"                          (kube-proxy iptables NAT; socket-LB for cilium)\n"
	"  --mtu N                 MTU of every device (default 1500)\n"
	"  --pods N                workload endpoints per node in Calico's ruleset (default:\n"
	"                          the real pods only; at most " STR(TOPO_MAX_PODS) ")\n"
	"  --policies N            network policies on every endpoint (calico, sidecar)\n"
	"  --services N            filler ClusterIPs ahead of the measured one (--target service)\n"
	"  --subnets 1|2           macvlan: one L2 segment, or two behind a gateway namespace\n"
	"  --socket-lb             ClusterIP by cgroup/connect4 socket-LB (macvlan; cilium always)\n"
	"  --iptables legacy|nft   the iptables backend in the namespaces. legacy (default):\n"
	"                          x_tables, the per-rule linear walk Calico and kube-proxy\n"
	"                          benchmarks measured; nft: iptables-nft, rules translated\n"
	"                          to nftables (Debian 12's default 'iptables')\n"
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
	case TOPO_OPT_IPTABLES:
		if (strcmp(arg, "legacy") && strcmp(arg, "nft")) {
			usage_error("%s: --iptables '%s': use legacy or nft", command, arg);
			return -1;
		}
		snprintf(o->iptables, sizeof(o->iptables), "%s", arg);
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
