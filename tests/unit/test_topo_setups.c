/* The plans of the setups beyond calico/cilium/macvlan/sidecar: names,
 * addresses and the hop lists' structure, from the options alone. */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static void plan(struct topo *t, enum topo_cni cni, bool same_node)
{
	struct topo_opts o;

	topo_opts_defaults(&o);
	o.cni = cni;
	o.same_node = same_node;
	snprintf(o.run, sizeof(o.run), "u1");
	topo_plan(&o, t);
}

/* Hops of the plan on device `dev` of namespace `ns`. */
static unsigned hops_on(const struct topo *t, const char *ns, const char *dev)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->nr_hops; i++)
		n += !strcmp(t->hops[i].netns, ns) && !strcmp(t->hops[i].dev, dev);
	return n;
}

TEST(bridge_plan)
{
	static struct topo t;

	plan(&t, TOPO_CNI_BRIDGE, false);
	ASSERT_TRUE(!strcmp(topo_cni_name(TOPO_CNI_BRIDGE), "bridge"), "name");
	ASSERT_EQ(topo_cni_from_name("bridge"), TOPO_CNI_BRIDGE, "found by name");
	ASSERT_TRUE(!strncmp(t.client.host_ifname, "veth", 4) && strlen(t.client.host_ifname) == 15,
		    "veth + 11 hex");
	ASSERT_TRUE(!strcmp(t.client.ip_str, "198.18.1.2") && !strcmp(t.server.ip_str, "198.18.2.2"),
		    "pods in their nodes' blocks");
	ASSERT_EQ(hops_on(&t, t.nodes[0], "cni0"), 1, "up through node1's bridge");
	ASSERT_EQ(hops_on(&t, t.nodes[1], "cni0"), 1, "down through node2's bridge");
	plan(&t, TOPO_CNI_BRIDGE, true);
	ASSERT_EQ(hops_on(&t, t.nodes[0], "cni0"), 0, "same node: bridged port to port");
	ASSERT_EQ(hops_on(&t, t.nodes[0], t.client.host_ifname), 1, "pod A's port");
	ASSERT_EQ(hops_on(&t, t.nodes[0], t.server.host_ifname), 1, "pod B's port");
}
