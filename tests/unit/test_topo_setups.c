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

TEST(terway_eni_plan)
{
	static struct topo t;
	struct topo_opts o;

	plan(&t, TOPO_CNI_TERWAY_ENI, false);
	ASSERT_TRUE(!strcmp(t.client.ip_str, "198.18.0.11") && !strcmp(t.server.ip_str, "198.18.0.12"),
		    "pods in the VPC subnet");
	ASSERT_TRUE(!t.client.host_ifname[0], "no host veth");
	ASSERT_EQ(t.nr_hops, 2, "socket to NIC, NIC to socket");
	for (unsigned i = 0; i < t.nr_hops; i++)
		ASSERT_TRUE(strcmp(t.hops[i].netns, t.nodes[0]) && strcmp(t.hops[i].netns, t.nodes[1]),
			    "no hop in a node");
	topo_opts_defaults(&o);
	o.cni = TOPO_CNI_TERWAY_ENI;
	o.target_service = true;
	snprintf(o.run, sizeof(o.run), "x");
	ASSERT_TRUE(topo_opts_check(&o) != 0, "terway-eni with a service");
}

TEST(terway_plan)
{
	static struct topo t;

	plan(&t, TOPO_CNI_TERWAY, false);
	ASSERT_TRUE(!strncmp(t.client.host_ifname, "cali", 4), "cali + 11 hex, as terway names them");
	ASSERT_EQ(hops_on(&t, t.nodes[0], ENI_NODE_DEV), 1, "out of node1's ENI");
	ASSERT_EQ(hops_on(&t, t.nodes[1], ENI_NODE_DEV), 1, "into node2's ENI");
	ASSERT_EQ(hops_on(&t, t.nodes[0], "eth0"), 0, "not the node's own NIC");
	ASSERT_TRUE(strstr(t.hops[1].what, "rule 2048 from 198.18.0.11") != NULL, "the source rule");
	plan(&t, TOPO_CNI_TERWAY, true);
	ASSERT_EQ(hops_on(&t, t.nodes[0], ENI_NODE_DEV), 0, "same node: off the ENI");
	ASSERT_TRUE(strstr(t.hops[1].what, "rule 512 to 198.18.0.12 lookup main") != NULL,
		    "the destination rule");
}

TEST(eni_macs)
{
	char mac[20];

	eni_mac(mac, sizeof(mac), ENI_MAC_NIC, "198.18.0.11");
	ASSERT_TRUE(!strcmp(mac, "02:00:c6:12:00:0b"), "locally administered, the address in it");
	eni_mac(mac, sizeof(mac), ENI_MAC_HOST_VETH, "198.18.0.11");
	ASSERT_TRUE(!strcmp(mac, "02:fe:c6:12:00:0b"), "the host veth's differs");
}

TEST(vpc_cni_plan)
{
	static struct topo t;

	plan(&t, TOPO_CNI_VPC_CNI, false);
	ASSERT_TRUE(!strncmp(t.client.host_ifname, "eni", 3) && strlen(t.client.host_ifname) == 14,
		    "eni + 11 hex");
	ASSERT_TRUE(!strcmp(t.server.ip_str, "198.18.0.12"), "a secondary address of the ENI");
	ASSERT_TRUE(strstr(t.hops[1].what, "rule 1536 from 198.18.0.11 to the VPC lookup 2") != NULL,
		    "the source rule with the VPC CIDR and table 2");
	ASSERT_EQ(hops_on(&t, t.nodes[0], ENI_NODE_DEV), 1, "out of node1's ENI");
}

TEST(socket_bypass_plan_and_checks)
{
	static struct topo t;
	struct topo_opts o;

	topo_opts_defaults(&o);
	snprintf(o.run, sizeof(o.run), "x");
	o.socket_bypass = true;
	ASSERT_TRUE(topo_opts_check(&o) != 0, "--socket-bypass across nodes");
	o.same_node = true;
	ASSERT_EQ(topo_opts_check(&o), 0, "--socket-bypass on one node");
	o.cni = TOPO_CNI_HOST;
	o.same_node = false;
	ASSERT_TRUE(topo_opts_check(&o) != 0, "--socket-bypass without pods");
	o.cni = TOPO_CNI_BRIDGE;
	o.same_node = true;
	topo_plan(&o, &t);
	ASSERT_EQ(t.nr_hops, 2, "the payload's two steps");
	ASSERT_TRUE(strstr(t.hops[0].what, "bpf_msg_redirect_hash") != NULL, "the sk_msg redirect");
	for (unsigned i = 0; i < t.nr_hops; i++)
		ASSERT_TRUE(!t.hops[i].dev[0], "no device on the payload's way");
}

TEST(kata_plan)
{
	static struct topo t;
	unsigned mirred = 0, relay = 0;

	plan(&t, TOPO_CNI_KATA, false);
	ASSERT_TRUE(!strcmp(t.sandbox[0], "netprof-u1-pod-a"), "pod A's sandbox");
	ASSERT_TRUE(!strcmp(t.client.netns, "netprof-u1-pod-a-vm"), "the client in the guest");
	ASSERT_TRUE(!strcmp(t.server.netns, "netprof-u1-pod-b-vm"), "the server in the guest");
	for (unsigned i = 0; i < t.nr_hops; i++) {
		mirred += strstr(t.hops[i].what, "mirred egress redirect") != NULL;
		relay += strstr(t.hops[i].what, "relay") != NULL;
	}
	ASSERT_EQ(mirred, 2, "a mirred redirect in each sandbox");
	ASSERT_EQ(relay, 2, "the relay at each guest boundary");
	ASSERT_TRUE(!strcmp(t.hops[t.nr_hops - 1].netns, t.server.netns), "ends in the guest");
	plan(&t, TOPO_CNI_CALICO, false);
	ASSERT_TRUE(!t.sandbox[0][0], "no sandbox for runc pods");
}
