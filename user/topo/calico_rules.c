/*
 * A Calico-shaped iptables ruleset for one emulated node, written from the
 * structure felix programs (datapaths.md §1; felix/rules/{static,dispatch,
 * endpoints,policy}.go, the zero-workload dump in felix/fv): raw, mangle,
 * filter and nat chains with felix's names, the mark bits (mask 0xffff0000),
 * the two-level interface dispatch tree, a cali-tw-/cali-fw- chain pair per
 * workload endpoint, and policy chains whose allow rules are the two-rule
 * "match -> set accept mark; accept mark -> RETURN" shape, matched with
 * ipsets. --pods N adds endpoints that exist only in the ruleset (as on a
 * busy node: their dispatch leaves and chains are walked past, never
 * entered), --policies N applies N ingress policies to every endpoint.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo.h"
#include "topo/topo_impl.h"

/* felix/dataplane/driver.go: the bits of the 0xffff0000 mark mask. */
#define MARK_ACCEPT	"0x10000"
#define MARK_PASS	"0x20000"
#define MARK_SCRATCH0	"0x80000"	/* "came from a workload" in raw */
#define MARK_ALL	"0xff0000"
/* The tier bits endpoint chains clear before their policies run. */
#define MARK_ACCEPT_PASS "0x30000"

#define SET_MASQ_POOLS	"cali40masq-ipam-pools"
#define SET_ALL_POOLS	"cali40all-ipam-pools"
#define SET_ALL_HOSTS	"cali40all-hosts-net"

struct calico_endpoint {
	char ifname[16];
	char ip[16];
};

/* Endpoints on node `node`: the real pods there, then emulated ones. */
static int node_endpoints(const struct topo *t, int node, struct calico_endpoint **out)
{
	unsigned real = 0, total, i;
	struct calico_endpoint *eps;
	const struct topo_endpoint *reals[2] = { &t->client, &t->server };

	for (i = 0; i < 2; i++)
		if (topo_node_index(t, reals[i]->node_netns) == node)
			real++;
	total = t->opts.pods > real ? t->opts.pods : real;
	eps = calloc(total ? total : 1, sizeof(*eps));
	if (!eps)
		return -ENOMEM;
	unsigned n = 0;
	for (i = 0; i < 2; i++) {
		if (topo_node_index(t, reals[i]->node_netns) != node)
			continue;
		snprintf(eps[n].ifname, sizeof(eps[n].ifname), "%s", reals[i]->host_ifname);
		snprintf(eps[n].ip, sizeof(eps[n].ip), "%s", reals[i]->ip_str);
		n++;
	}
	for (i = 0; n < total; i++, n++) {
		char pod[32];

		topo_pod_name(pod, sizeof(pod), node, i);
		topo_veth_name(eps[n].ifname, sizeof(eps[n].ifname), "cali", t->opts.run, pod);
		topo_pod_ip(eps[n].ip, sizeof(eps[n].ip), node, 10 + i);
	}
	*out = eps;
	return (int)total;
}

static void policy_names(const struct topo *t, unsigned k, char *chain_in, char *set, size_t len)
{
	char pol[32], hex[24];

	snprintf(pol, sizeof(pol), "policy-%u", k);
	topo_veth_name(hex, sizeof(hex), "", t->opts.run, pol);
	snprintf(chain_in, len, "cali-pi-_%.11s", hex);
	snprintf(set, len, "cali40s:%.11s", hex);
}

int calico_ipsets_build(const struct topo *t, int node, struct strbuf *sb)
{
	(void)node;
	/* The IPAM pools (the two node blocks) and the hosts, as felix keeps them. */
	sb_printf(sb, "create " SET_MASQ_POOLS " hash:net family inet\n"
		      "add " SET_MASQ_POOLS " 198.18.1.0/24\nadd " SET_MASQ_POOLS " 198.18.2.0/24\n"
		      "create " SET_ALL_POOLS " hash:net family inet\n"
		      "add " SET_ALL_POOLS " 198.18.1.0/24\nadd " SET_ALL_POOLS " 198.18.2.0/24\n"
		      "create " SET_ALL_HOSTS " hash:net family inet\n"
		      "add " SET_ALL_HOSTS " " TOPO_WIRE_NET ".1\nadd " SET_ALL_HOSTS " "
		      TOPO_WIRE_NET ".2\n");
	/* Each policy's source selector: every pod of the cluster, real and emulated. */
	for (unsigned k = 0; k < t->opts.policies; k++) {
		char chain[32], set[32];

		policy_names(t, k, chain, set, sizeof(chain));
		sb_printf(sb, "create %s hash:ip family inet\n", set);
		for (int n = 0; n < 2; n++) {
			struct calico_endpoint *eps;
			int cnt = node_endpoints(t, n, &eps);

			if (cnt < 0)
				return cnt;
			for (int i = 0; i < cnt; i++)
				sb_printf(sb, "add %s %s\n", set, eps[i].ip);
			free(eps);
		}
	}
	return sb->failed ? -ENOMEM : 0;
}

static void static_chains(struct ipt_ruleset *rs)
{
	/* raw: clear marks, mark workload traffic, strict RPF for it. */
	rs_chain(rs, IPT_RAW, "cali-PREROUTING");
	rs_chain(rs, IPT_RAW, "cali-OUTPUT");
	rs_chain(rs, IPT_RAW, "cali-from-host-endpoint");
	rs_chain(rs, IPT_RAW, "cali-to-host-endpoint");
	rs_chain(rs, IPT_RAW, "cali-rpf-skip");
	rs_rule(rs, IPT_RAW, "-A PREROUTING -m comment --comment \"cali:6gwbT8clXdHdC1b1\" -j cali-PREROUTING");
	rs_rule(rs, IPT_RAW, "-A OUTPUT -m comment --comment \"cali:tVnHkvAo15HuiPy0\" -j cali-OUTPUT");
	rs_rule(rs, IPT_RAW, "-A cali-PREROUTING -j MARK --set-xmark 0x0/" MARK_ALL);
	rs_rule(rs, IPT_RAW, "-A cali-PREROUTING -i cali+ -j MARK --set-xmark " MARK_SCRATCH0 "/" MARK_SCRATCH0);
	rs_rule(rs, IPT_RAW, "-A cali-PREROUTING -m mark --mark " MARK_SCRATCH0 "/" MARK_SCRATCH0 " -j cali-rpf-skip");
	rs_rule(rs, IPT_RAW, "-A cali-PREROUTING -m mark --mark " MARK_SCRATCH0 "/" MARK_SCRATCH0
		" -m rpfilter --validmark --invert -j DROP");
	rs_rule(rs, IPT_RAW, "-A cali-PREROUTING -m mark --mark 0x0/" MARK_SCRATCH0 " -j cali-from-host-endpoint");
	rs_rule(rs, IPT_RAW, "-A cali-PREROUTING -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT " -j ACCEPT");
	rs_rule(rs, IPT_RAW, "-A cali-OUTPUT -j MARK --set-xmark 0x0/" MARK_ALL);
	rs_rule(rs, IPT_RAW, "-A cali-OUTPUT -j cali-to-host-endpoint");
	rs_rule(rs, IPT_RAW, "-A cali-OUTPUT -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT " -j ACCEPT");

	/* mangle: established traffic leaves at once; host endpoints after. */
	rs_chain(rs, IPT_MANGLE, "cali-PREROUTING");
	rs_chain(rs, IPT_MANGLE, "cali-POSTROUTING");
	rs_chain(rs, IPT_MANGLE, "cali-from-host-endpoint");
	rs_chain(rs, IPT_MANGLE, "cali-to-host-endpoint");
	rs_rule(rs, IPT_MANGLE, "-A PREROUTING -m comment --comment \"cali:6gwbT8clXdHdC1b1\" -j cali-PREROUTING");
	rs_rule(rs, IPT_MANGLE, "-A POSTROUTING -m comment --comment \"cali:O3lYWMrLQYEMJtB5\" -j cali-POSTROUTING");
	rs_rule(rs, IPT_MANGLE, "-A cali-PREROUTING -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
	rs_rule(rs, IPT_MANGLE, "-A cali-PREROUTING -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT " -j ACCEPT");
	rs_rule(rs, IPT_MANGLE, "-A cali-PREROUTING -j cali-from-host-endpoint");
	rs_rule(rs, IPT_MANGLE, "-A cali-PREROUTING -m comment --comment \"Host endpoint policy accepted packet.\" -m mark --mark "
		MARK_ACCEPT "/" MARK_ACCEPT " -j ACCEPT");
	rs_rule(rs, IPT_MANGLE, "-A cali-POSTROUTING -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT " -j RETURN");
	rs_rule(rs, IPT_MANGLE, "-A cali-POSTROUTING -j MARK --set-xmark 0x0/" MARK_ALL);
	rs_rule(rs, IPT_MANGLE, "-A cali-POSTROUTING -m conntrack --ctstate DNAT -j cali-to-host-endpoint");
	rs_rule(rs, IPT_MANGLE, "-A cali-POSTROUTING -m comment --comment \"Host endpoint policy accepted packet.\" -m mark --mark "
		MARK_ACCEPT "/" MARK_ACCEPT " -j RETURN");

	/* filter */
	static const char *const filter_chains[] = {
		"cali-INPUT", "cali-OUTPUT", "cali-FORWARD", "cali-wl-to-host",
		"cali-from-wl-dispatch", "cali-to-wl-dispatch", "cali-from-hep-forward",
		"cali-to-hep-forward", "cali-from-host-endpoint", "cali-to-host-endpoint",
		"cali-cidr-block", "cali-pri-kns.default", "cali-pro-kns.default",
		"cali-pri-_defaultSA", "cali-pro-_defaultSA", NULL };
	for (int i = 0; filter_chains[i]; i++)
		rs_chain(rs, IPT_FILTER, "%s", filter_chains[i]);
	rs_rule(rs, IPT_FILTER, "-A INPUT -m comment --comment \"cali:Cz_u1IQiXIMmKD4c\" -j cali-INPUT");
	rs_rule(rs, IPT_FILTER, "-A FORWARD -m comment --comment \"cali:wUHhoiAYhphO9Mso\" -j cali-FORWARD");
	rs_rule(rs, IPT_FILTER, "-A OUTPUT -m comment --comment \"cali:tVnHkvAo15HuiPy0\" -j cali-OUTPUT");
	rs_rule(rs, IPT_FILTER, "-A cali-INPUT -p ipencap -m set ! --match-set " SET_ALL_HOSTS " src -j DROP");
	rs_rule(rs, IPT_FILTER, "-A cali-INPUT -i cali+ -g cali-wl-to-host");
	rs_rule(rs, IPT_FILTER, "-A cali-INPUT -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT " -j ACCEPT");
	rs_rule(rs, IPT_FILTER, "-A cali-INPUT -j MARK --set-xmark 0x0/" MARK_ALL);
	rs_rule(rs, IPT_FILTER, "-A cali-INPUT -j cali-from-host-endpoint");
	rs_rule(rs, IPT_FILTER, "-A cali-INPUT -m comment --comment \"Host endpoint policy accepted packet.\" -m mark --mark "
		MARK_ACCEPT "/" MARK_ACCEPT " -j ACCEPT");
	rs_rule(rs, IPT_FILTER, "-A cali-wl-to-host -j cali-from-wl-dispatch");
	rs_rule(rs, IPT_FILTER, "-A cali-wl-to-host -m comment --comment \"Configured DefaultEndpointToHostAction\" -j ACCEPT");
	rs_rule(rs, IPT_FILTER, "-A cali-OUTPUT -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT " -j ACCEPT");
	rs_rule(rs, IPT_FILTER, "-A cali-OUTPUT -o cali+ -j RETURN");
	rs_rule(rs, IPT_FILTER, "-A cali-OUTPUT -p ipencap -m set ! --match-set " SET_ALL_HOSTS " dst -j DROP");
	rs_rule(rs, IPT_FILTER, "-A cali-OUTPUT -j MARK --set-xmark 0x0/" MARK_ALL);
	rs_rule(rs, IPT_FILTER, "-A cali-OUTPUT -m conntrack ! --ctstate DNAT -j cali-to-host-endpoint");
	rs_rule(rs, IPT_FILTER, "-A cali-OUTPUT -m comment --comment \"Host endpoint policy accepted packet.\" -m mark --mark "
		MARK_ACCEPT "/" MARK_ACCEPT " -j ACCEPT");
	rs_rule(rs, IPT_FILTER, "-A cali-FORWARD -m comment --comment \"cali:vjrMJCRpqwy5oRoX\" -j MARK --set-xmark 0x0/0xe0000");
	rs_rule(rs, IPT_FILTER, "-A cali-FORWARD -m mark --mark 0x0/" MARK_ACCEPT " -j cali-from-hep-forward");
	rs_rule(rs, IPT_FILTER, "-A cali-FORWARD -i cali+ -j cali-from-wl-dispatch");
	rs_rule(rs, IPT_FILTER, "-A cali-FORWARD -o cali+ -j cali-to-wl-dispatch");
	rs_rule(rs, IPT_FILTER, "-A cali-FORWARD -j cali-to-hep-forward");
	rs_rule(rs, IPT_FILTER, "-A cali-FORWARD -j cali-cidr-block");
	rs_rule(rs, IPT_FILTER, "-A cali-FORWARD -m comment --comment \"Policy explicitly accepted packet.\" -m mark --mark "
		MARK_ACCEPT "/" MARK_ACCEPT " -j ACCEPT");
	/* Profiles: the namespace's default allows everything (Kubernetes' default). */
	rs_rule(rs, IPT_FILTER, "-A cali-pri-kns.default -m comment --comment \"cali:profile allow\" -j MARK --set-xmark "
		MARK_ACCEPT "/" MARK_ACCEPT);
	rs_rule(rs, IPT_FILTER, "-A cali-pri-kns.default -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT " -j RETURN");
	rs_rule(rs, IPT_FILTER, "-A cali-pro-kns.default -m comment --comment \"cali:profile allow\" -j MARK --set-xmark "
		MARK_ACCEPT "/" MARK_ACCEPT);
	rs_rule(rs, IPT_FILTER, "-A cali-pro-kns.default -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT " -j RETURN");

	/* nat: floating IPs and nat-outgoing for pool traffic leaving the pools. */
	static const char *const nat_chains[] = { "cali-PREROUTING", "cali-POSTROUTING",
		"cali-OUTPUT", "cali-fip-dnat", "cali-fip-snat", "cali-nat-outgoing", NULL };
	for (int i = 0; nat_chains[i]; i++)
		rs_chain(rs, IPT_NAT, "%s", nat_chains[i]);
	rs_rule(rs, IPT_NAT, "-A PREROUTING -m comment --comment \"cali:6gwbT8clXdHdC1b1\" -j cali-PREROUTING");
	rs_rule(rs, IPT_NAT, "-A OUTPUT -m comment --comment \"cali:tVnHkvAo15HuiPy0\" -j cali-OUTPUT");
	rs_rule(rs, IPT_NAT, "-A POSTROUTING -m comment --comment \"cali:O3lYWMrLQYEMJtB5\" -j cali-POSTROUTING");
	rs_rule(rs, IPT_NAT, "-A cali-PREROUTING -j cali-fip-dnat");
	rs_rule(rs, IPT_NAT, "-A cali-OUTPUT -j cali-fip-dnat");
	rs_rule(rs, IPT_NAT, "-A cali-POSTROUTING -j cali-fip-snat");
	rs_rule(rs, IPT_NAT, "-A cali-POSTROUTING -j cali-nat-outgoing");
	rs_rule(rs, IPT_NAT, "-A cali-nat-outgoing -m set --match-set " SET_MASQ_POOLS " src -m set ! --match-set "
		SET_ALL_POOLS " dst -j MASQUERADE --random-fully");
}

static int cmp_endpoint(const void *a, const void *b)
{
	return strcmp(((const struct calico_endpoint *)a)->ifname,
		      ((const struct calico_endpoint *)b)->ifname);
}

/*
 * felix/rules/dispatch.go: with few endpoints one chain of leaves; beyond 16
 * a root chain that goes to one child per next interface-name character
 * (cali + hex: at most 16), each child holding the leaves. Unknown
 * interfaces are dropped.
 */
static void dispatch_chains(struct ipt_ruleset *rs, const struct calico_endpoint *eps, int n,
			    bool from)
{
	const char *root = from ? "cali-from-wl-dispatch" : "cali-to-wl-dispatch";
	const char *dir = from ? "-i" : "-o";
	const char *leaf = from ? "cali-fw-" : "cali-tw-";

	if (n <= 16) {
		for (int i = 0; i < n; i++)
			rs_rule(rs, IPT_FILTER, "-A %s %s %s -g %s%s", root, dir, eps[i].ifname, leaf,
				eps[i].ifname);
	} else {
		for (int i = 0; i < n;) {
			char c = eps[i].ifname[4];
			int j = i;

			rs_chain(rs, IPT_FILTER, "%s-%c", root, c);
			rs_rule(rs, IPT_FILTER, "-A %s %s cali%c+ -g %s-%c", root, dir, c, root, c);
			for (; j < n && eps[j].ifname[4] == c; j++)
				rs_rule(rs, IPT_FILTER, "-A %s-%c %s %s -g %s%s", root, c, dir,
					eps[j].ifname, leaf, eps[j].ifname);
			rs_rule(rs, IPT_FILTER, "-A %s-%c -m comment --comment \"Unknown interface\" -j DROP",
				root, c);
			i = j;
		}
	}
	rs_rule(rs, IPT_FILTER, "-A %s -m comment --comment \"Unknown interface\" -j DROP", root);
}

/* felix/rules/endpoints.go, to and from one workload. */
static void endpoint_chains(const struct topo *t, struct ipt_ruleset *rs, const char *ifname)
{
	rs_chain(rs, IPT_FILTER, "cali-tw-%s", ifname);
	rs_chain(rs, IPT_FILTER, "cali-fw-%s", ifname);

	/* To the workload: ingress policies, then the profiles. */
	rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -m conntrack --ctstate INVALID -j DROP", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -j MARK --set-xmark 0x0/" MARK_ACCEPT_PASS, ifname);
	if (t->opts.policies) {
		rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -m comment --comment \"Start of tier default\" "
			"-j MARK --set-xmark 0x0/" MARK_PASS, ifname);
		for (unsigned k = 0; k < t->opts.policies; k++) {
			char chain[32], set[32];

			policy_names(t, k, chain, set, sizeof(chain));
			rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -m mark --mark 0x0/" MARK_PASS " -j %s",
				ifname, chain);
			rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT
				" -m comment --comment \"Return if policy accepted\" -j RETURN", ifname);
		}
		rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -m mark --mark 0x0/" MARK_PASS
			" -m comment --comment \"Drop if no policies passed packet\" -j DROP", ifname);
	}
	rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -j cali-pri-kns.default", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT
		" -m comment --comment \"Return if profile accepted\" -j RETURN", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -j cali-pri-_defaultSA", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT
		" -m comment --comment \"Return if profile accepted\" -j RETURN", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-tw-%s -m comment --comment \"Drop if no profiles matched\" -j DROP",
		ifname);

	/* From the workload: no encapsulated traffic, then the profiles. */
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -m conntrack --ctstate INVALID -j DROP", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -j MARK --set-xmark 0x0/" MARK_ACCEPT_PASS, ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -p udp -m udp --dport 4789 -m comment --comment "
		"\"Drop VXLAN encapped packets originating in workloads\" -j DROP", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -p ipencap -m comment --comment "
		"\"Drop IPinIP encapped packets originating in workloads\" -j DROP", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -j cali-pro-kns.default", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT
		" -m comment --comment \"Return if profile accepted\" -j RETURN", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -j cali-pro-_defaultSA", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT
		" -m comment --comment \"Return if profile accepted\" -j RETURN", ifname);
	rs_rule(rs, IPT_FILTER, "-A cali-fw-%s -m comment --comment \"Drop if no profiles matched\" -j DROP",
		ifname);
}

/*
 * Policy k allows TCP from every pod (the set) to port 9000+k; the last one
 * allows any TCP port from every pod, so a NEW flow walks every policy
 * before it is accepted, as on a node where only the last policy selects it.
 */
static void policy_chains(const struct topo *t, struct ipt_ruleset *rs)
{
	for (unsigned k = 0; k < t->opts.policies; k++) {
		char chain[32], set[32], ports[32] = "";

		policy_names(t, k, chain, set, sizeof(chain));
		if (k + 1 < t->opts.policies)
			snprintf(ports, sizeof(ports), " -m multiport --dports %u", 9000 + k);
		rs_chain(rs, IPT_FILTER, "%s", chain);
		rs_rule(rs, IPT_FILTER, "-A %s -p tcp -m set --match-set %s src%s -j MARK --set-xmark "
			MARK_ACCEPT "/" MARK_ACCEPT, chain, set, ports);
		rs_rule(rs, IPT_FILTER, "-A %s -m mark --mark " MARK_ACCEPT "/" MARK_ACCEPT " -j RETURN",
			chain);
	}
}

int calico_rules_build(const struct topo *t, int node, struct ipt_ruleset *rs)
{
	struct calico_endpoint *eps;
	int n = node_endpoints(t, node, &eps);

	if (n < 0)
		return n;
	qsort(eps, n, sizeof(*eps), cmp_endpoint);
	static_chains(rs);
	policy_chains(t, rs);
	dispatch_chains(rs, eps, n, true);
	dispatch_chains(rs, eps, n, false);
	for (int i = 0; i < n; i++)
		endpoint_chains(t, rs, eps[i].ifname);
	free(eps);
	for (int tb = 0; tb < IPT_NR_TABLES; tb++)
		if (rs->chains[tb].failed || rs->rules[tb].failed)
			return -ENOMEM;
	return 0;
}
