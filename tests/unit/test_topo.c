/* The emulated datapaths' rulesets: sizes as datapaths.md gives them. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static unsigned node_rules(enum topo_cni cni, unsigned pods, unsigned policies, bool service,
			   unsigned services, unsigned *filter, unsigned *nat)
{
	static struct topo t;
	struct topo_opts o;
	struct ipt_ruleset rs;
	struct strbuf sets = {};
	unsigned n;

	topo_opts_defaults(&o);
	o.cni = cni;
	o.pods = pods;
	o.policies = policies;
	o.target_service = service;
	o.services = services;
	snprintf(o.run, sizeof(o.run), "unit");
	topo_plan(&o, &t);
	rs_init(&rs);
	if (topo_node_rules(&t, 0, &rs, &sets))
		return 0;
	sb_free(&sets);
	n = rs_count(&rs);
	if (filter)
		*filter = rs.nr_rules[IPT_FILTER];
	if (nat)
		*nat = rs.nr_rules[IPT_NAT];
	rs_free(&rs);
	return n;
}

TEST(calico_zero_workload_shape)
{
	unsigned filter, nat, all = node_rules(TOPO_CNI_CALICO, 0, 0, false, 0, &filter, &nat);

	/* One real pod on node1: felix's static chains, its dispatch leaves
	 * and its two endpoint chains (8 + 10 rules). */
	ASSERT_EQ(nat, 8u, "nat rules");
	ASSERT_EQ(filter, 28u + 4u + 18u, "filter rules");
	ASSERT_EQ(all, 79u, "all rules");
}

TEST(calico_grows_about_20_rules_per_pod)
{
	unsigned a = node_rules(TOPO_CNI_CALICO, 100, 0, false, 0, NULL, NULL);
	unsigned b = node_rules(TOPO_CNI_CALICO, 101, 0, false, 0, NULL, NULL);

	/* 18 endpoint-chain rules and two dispatch leaves; a new dispatch
	 * child chain adds its jump and DROP. */
	ASSERT_TRUE(b - a >= 20 && b - a <= 22, "rules per pod");
}

TEST(calico_policies_add_two_rules_per_policy_per_endpoint)
{
	unsigned a = node_rules(TOPO_CNI_CALICO, 100, 0, false, 0, NULL, NULL);
	unsigned b = node_rules(TOPO_CNI_CALICO, 100, 3, false, 0, NULL, NULL);

	/* Per endpoint: 2 per policy, plus the tier's start mark and its end DROP;
	 * each policy chain holds one two-rule allow. */
	ASSERT_EQ(b - a, 100u * (2 * 3 + 2) + 3u * 2, "rules added by 3 policies");
	/* datapaths.md: 100 pods with 3 policies is about 2.9k rules. */
	ASSERT_TRUE(b > 2800 && b < 3000, "100 pods, 3 policies");
}

TEST(kube_proxy_rules_per_service)
{
	unsigned nat0, nat9;

	node_rules(TOPO_CNI_CALICO, 30, 0, true, 0, NULL, &nat0);
	node_rules(TOPO_CNI_CALICO, 30, 0, true, 9, NULL, &nat9);
	/* 2 + 3E nat rules per service port, E = 2 endpoints per filler (the
	 * first nine have no NodePort). */
	ASSERT_EQ(nat9 - nat0, 9u * (2 + 3 * 2), "nat rules for 9 services");
}

/* The chains and rules node1 loads beside the built-in chains, every table. */
static char *node1_ruleset(enum topo_cni cni, unsigned pods, unsigned services, bool socket_lb,
			   bool service)
{
	static struct topo t;
	struct topo_opts o;
	struct ipt_ruleset rs;
	struct strbuf sets = {}, all = {};

	topo_opts_defaults(&o);
	o.cni = cni;
	o.pods = pods;
	o.services = services;
	o.socket_lb = socket_lb;
	o.target_service = service;
	snprintf(o.run, sizeof(o.run), "unit");
	topo_plan(&o, &t);
	rs_init(&rs);
	if (topo_node_rules(&t, 0, &rs, &sets) == 0)
		for (int tb = 0; tb < IPT_NR_TABLES; tb++)
			if (rs.nr_rules[tb])
				sb_printf(&all, "%s%s", rs.chains[tb].buf, rs.rules[tb].buf);
	rs_free(&rs);
	sb_free(&sets);
	return all.buf ? all.buf : calloc(1, 1);
}

static unsigned count_of(const char *text, const char *what)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

TEST(kube_proxy_on_every_datapath_that_runs_it)
{
	static const enum topo_cni with[] = { TOPO_CNI_HOST, TOPO_CNI_CALICO, TOPO_CNI_SIDECAR,
					      TOPO_CNI_CILIUM_LEGACY, TOPO_CNI_MACVLAN };
	struct topo_opts o;
	char *r;

	topo_opts_defaults(&o);
	ASSERT_EQ(o.services, 100u, "default services");
	ASSERT_EQ(o.pods, 30u, "default pods per node");
	for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++) {
		r = node1_ruleset(with[i], o.pods, o.services, false, false);
		ASSERT_EQ(count_of(r, "-A KUBE-SERVICES -d 198.19."), 100u, topo_cni_name(with[i]));
		ASSERT_EQ(count_of(r, "-A KUBE-NODEPORTS -p tcp"), 10u, "NodePorts");
		ASSERT_EQ(count_of(r, "-A POSTROUTING -m comment --comment \"kubernetes postrouting "
				   "rules\" -j KUBE-POSTROUTING"), 1u, "the masquerade hook");
		ASSERT_EQ(count_of(r, "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" "
				   "-j KUBE-FORWARD"), 1u, "KUBE-FORWARD");
		ASSERT_TRUE(strstr(r, "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT") != NULL,
			    "conntrack matches");
		free(r);
	}
	/* cilium: socket-LB replaces kube-proxy; so does --socket-lb. */
	r = node1_ruleset(TOPO_CNI_CILIUM, o.pods, o.services, false, false);
	ASSERT_EQ(count_of(r, "KUBE-"), 0u, "cilium has no KUBE-* chain");
	free(r);
	r = node1_ruleset(TOPO_CNI_CILIUM_LEGACY, o.pods, o.services, true, true);
	ASSERT_EQ(count_of(r, "KUBE-"), 0u, "cilium-legacy --socket-lb has no KUBE-* chain");
	free(r);
	/* --services 0 --pods 0: bare nodes, the host's without any rule. */
	r = node1_ruleset(TOPO_CNI_HOST, 0, 0, false, false);
	ASSERT_STREQ(r, "", "bare host node");
	free(r);
	r = node1_ruleset(TOPO_CNI_CALICO, 0, 0, false, false);
	ASSERT_EQ(count_of(r, "KUBE-"), 0u, "bare calico node: felix's chains only");
	free(r);
}

TEST(kube_proxy_endpoints_spread_over_both_nodes)
{
	char *r = node1_ruleset(TOPO_CNI_HOST, 30, 100, false, false);
	unsigned on1 = count_of(r, "-j DNAT --to-destination 198.18.1.");
	unsigned on2 = count_of(r, "-j DNAT --to-destination 198.18.2.");

	/* Two endpoints a service, one on each node. */
	ASSERT_EQ(on1, 100u, "endpoints on node1");
	ASSERT_EQ(on2, 100u, "endpoints on node2");
	/* All among the 30 emulated pods a node: hosts .10 to .39. */
	ASSERT_EQ(count_of(r, "--to-destination 198.18.1.40:"), 0u, "beyond node1's pods");
	ASSERT_TRUE(count_of(r, "--to-destination 198.18.1.39:") > 0, "node1's last pod");
	free(r);
	/* The measured service leads to the real server pod. */
	r = node1_ruleset(TOPO_CNI_CALICO, 30, 100, false, true);
	ASSERT_EQ(count_of(r, "-j DNAT --to-destination 198.18.2.2:5201"), 1u, "the server's endpoint");
	ASSERT_EQ(count_of(r, "-A KUBE-SERVICES -d 198.19.0.10/32"), 1u, "the measured ClusterIP");
	free(r);
}

TEST(kube_proxy_services_without_pods_reject)
{
	char *r = node1_ruleset(TOPO_CNI_HOST, 0, 20, false, false);

	/* No endpoint: kube-proxy's filter REJECT, no nat service chain. */
	ASSERT_EQ(count_of(r, "has no endpoints\" -m tcp --dport 80 -j REJECT"), 20u, "REJECT rules");
	ASSERT_EQ(count_of(r, "-A KUBE-EXTERNAL-SERVICES"), 2u, "NodePorts without endpoints");
	ASSERT_EQ(count_of(r, "KUBE-SVC-"), 0u, "no service chain");
	free(r);
}

TEST(topo_names_and_addresses)
{
	static struct topo t;
	struct topo_opts o;

	topo_opts_defaults(&o);
	o.cni = TOPO_CNI_CILIUM;
	o.same_node = true;
	snprintf(o.run, sizeof(o.run), "r1");
	topo_plan(&o, &t);
	ASSERT_TRUE(!strcmp(t.nodes[0], "netprof-r1-node1"), "node name");
	ASSERT_TRUE(!strcmp(t.server.node_netns, t.nodes[0]), "same node");
	ASSERT_TRUE(!strncmp(t.client.host_ifname, "lxc", 3) && strlen(t.client.host_ifname) == 14,
		    "lxc + 11 hex");
	ASSERT_TRUE(!strncmp(t.client.ip_str, "198.18.", 7) && !strncmp(t.server.ip_str, "198.18.", 7),
		    "addresses in 198.18.0.0/15");
	ASSERT_TRUE(t.nr_hops > 0, "hops planned");
}

TEST(bad_combinations_rejected)
{
	struct topo_opts o;

	topo_opts_defaults(&o);
	snprintf(o.run, sizeof(o.run), "x");
	o.subnets = 2;
	ASSERT_TRUE(topo_opts_check(&o) != 0, "--subnets 2 with calico");
	o.subnets = 1;
	o.socket_lb = true;
	ASSERT_TRUE(topo_opts_check(&o) != 0, "--socket-lb with calico");
	o.socket_lb = false;
	o.cni = TOPO_CNI_HOST;
	o.target_service = true;
	ASSERT_TRUE(topo_opts_check(&o) != 0, "host with a service");
	o.cni = TOPO_CNI_MACVLAN;
	o.socket_lb = true;
	ASSERT_EQ(topo_opts_check(&o), 0, "macvlan service with socket-LB");
}
