/* The emulated datapaths' rulesets: sizes as datapaths.md gives them. */
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
	if (t.ops->node_rules && t.ops->node_rules(&t, 0, &rs, &sets))
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
	unsigned nat0, nat10;

	node_rules(TOPO_CNI_CALICO, 0, 0, true, 0, NULL, &nat0);
	node_rules(TOPO_CNI_CALICO, 0, 0, true, 10, NULL, &nat10);
	/* 2 + 3E nat rules per service port, E = 2 endpoints per filler. */
	ASSERT_EQ(nat10 - nat0, 10u * (2 + 3 * 2), "nat rules for 10 services");
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
