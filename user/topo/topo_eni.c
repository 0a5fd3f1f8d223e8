/*
 * What the VPC datapaths (terway-eni, terway, vpc-cni) share: pods whose
 * addresses belong to the VPC subnet (the wire's, 198.18.0.0/24: pod A .11,
 * pod B .12), elastic NICs (ENIs) as veth pairs that receive as the wire
 * does, the VPC between two ENIs, and the veth + policy-routing layout the
 * shared-ENI modes reach a pod with.
 *
 * The VPC: every route to the subnet's gateway (.254) ends in the fabric,
 * which delivers a frame to the ENI that holds its destination address. In
 * a VPC of two ENIs that is the other one, so each ENI's neighbour entry
 * for the gateway is the other ENI's MAC (permanent, as the VPC answers
 * every ARP itself): the route lookups are the real ones, and no namespace
 * stands in for the fabric.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "lib/exec.h"
#include "lib/log.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static void set_ip(struct topo_endpoint *ep, const char *ip)
{
	snprintf(ep->ip_str, sizeof(ep->ip_str), "%s", ip);
	inet_pton(AF_INET, ip, &ep->ip);
}

void eni_plan(struct topo *t)
{
	set_ip(&t->client, TOPO_WIRE_NET ".11");
	set_ip(&t->server, TOPO_WIRE_NET ".12");
}

void eni_mac(char *out, size_t len, unsigned kind, const char *ip)
{
	struct in_addr a = {};
	const unsigned char *b = (const unsigned char *)&a.s_addr;

	inet_pton(AF_INET, ip, &a);
	/* Locally administered, unicast, and the address in the low four. */
	snprintf(out, len, "02:%02x:%02x:%02x:%02x:%02x", kind & 0xff, b[0], b[1], b[2], b[3]);
}

int eni_pair(struct topo *t, const struct eni_end ends[2], const char *dev, unsigned prefix)
{
	char cmd[512], mac[2][20];
	int err;

	for (int i = 0; i < 2; i++)
		eni_mac(mac[i], sizeof(mac[i]), ENI_MAC_NIC, ends[i].ip);
	snprintf(cmd, sizeof(cmd), "link add %s mtu %u address %s type veth peer name %s mtu %u "
		 "address %s netns %s\n", dev, t->opts.mtu, mac[0], dev, t->opts.mtu, mac[1],
		 ends[1].netns);
	if ((err = topo_ip_batch(ends[0].netns, cmd)))
		return err;
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "link set %s up\naddr add %s/%u dev %s\n"
			 "neigh replace " ENI_GATEWAY " lladdr %s dev %s nud permanent\n", dev,
			 ends[i].ip, prefix, dev, mac[!i], dev);
		if ((err = topo_ip_batch(ends[i].netns, cmd)))
			return err;
	}
	for (int i = 0; i < 2; i++)
		if ((err = topo_nic_setup(t, ends[i].netns, dev, ends[i].cpus)))
			return err;
	return 0;
}

int eni_node_nics(struct topo *t)
{
	struct eni_end ends[2];

	for (int node = 0; node < 2; node++) {
		ends[node].netns = t->nodes[node];
		snprintf(ends[node].ip, sizeof(ends[node].ip), TOPO_WIRE_NET ".%d", 3 + node);
		snprintf(ends[node].cpus, sizeof(ends[node].cpus), "%s", t->node_cpus[node]);
	}
	return eni_pair(t, ends, ENI_NODE_DEV, 24);
}

static int ifindex_of(const char *ns, const char *dev)
{
	char out[256];

	if (RUN(ns, out, sizeof(out), "ip", "-o", "link", "show", "dev", dev) != 0)
		return -ENODEV;
	return atoi(out) > 0 ? atoi(out) : -ENODEV;
}

int eni_table(const struct eni_layout *l, const char *node_ns)
{
	int ifindex;

	if (!l->table_by_ifindex)
		return l->table;
	ifindex = ifindex_of(node_ns, ENI_NODE_DEV);
	if (ifindex < 0)
		pr_warn("no %s in %s: the ENI's route table needs its ifindex", ENI_NODE_DEV, node_ns);
	return ifindex < 0 ? ifindex : l->table + ifindex;
}

/* The ENI's route table: the pods' traffic leaves by the ENI that holds
 * their addresses, through the VPC gateway. */
static int eni_node_table(struct topo *t, const struct eni_layout *l, int node)
{
	char cmd[256];
	int table = eni_table(l, t->nodes[node]), n = 0;

	if (table < 0)
		return table;
	if (l->gateway_host_route)
		n = snprintf(cmd, sizeof(cmd), "route add " ENI_GATEWAY " dev " ENI_NODE_DEV
			     " scope link table %d\n", table);
	snprintf(cmd + n, sizeof(cmd) - n, "route add default via " ENI_GATEWAY " dev "
		 ENI_NODE_DEV " onlink table %d\n", table);
	return topo_ip_batch(t->nodes[node], cmd);
}

/* One pod on its veth, its address a secondary address of its node's ENI. */
static int eni_policy_pod(struct topo *t, const struct eni_layout *l,
			  const struct topo_endpoint *ep)
{
	char host_mac[20], cmd[512];
	int table = eni_table(l, ep->node_netns), err;

	if (table < 0)
		return table;
	eni_mac(host_mac, sizeof(host_mac), ENI_MAC_HOST_VETH, ep->ip_str);
	if ((err = topo_add_pod_veth(t, ep, NULL, host_mac)))
		return err;
	/* The pod's gateway is a link-local address no device holds: a
	 * permanent neighbour entry makes it the host veth. */
	snprintf(cmd, sizeof(cmd), "route add 169.254.1.1 dev eth0 scope link\n"
		 "route add default via 169.254.1.1 dev eth0 onlink\n"
		 "neigh replace 169.254.1.1 lladdr %s dev eth0 nud permanent\n", host_mac);
	if ((err = topo_ip_batch(ep->netns, cmd)))
		return err;
	snprintf(cmd, sizeof(cmd), "route add %s/32 dev %s scope link\n"
		 "rule add pref %u to %s/32 lookup main\n"
		 "rule add pref %u from %s/32%s%s lookup %d\n", ep->ip_str, ep->host_ifname,
		 l->to_pod_pref, ep->ip_str, l->from_pod_pref, ep->ip_str,
		 l->from_to_vpc ? " to " : "", l->from_to_vpc ? TOPO_CLUSTER_CIDR : "", table);
	return topo_ip_batch(ep->node_netns, cmd);
}

int eni_policy_build(struct topo *t, const struct eni_layout *l)
{
	int err;

	if ((err = eni_node_nics(t)))
		return err;
	for (int node = 0; node < 2; node++)
		if ((err = eni_node_table(t, l, node)))
			return err;
	if ((err = eni_policy_pod(t, l, &t->client)))
		return err;
	return eni_policy_pod(t, l, &t->server);
}

void eni_policy_hops(struct topo *t, const struct eni_layout *l)
{
	const struct topo_endpoint *c = &t->client, *s = &t->server;
	char table[32];

	if (l->table_by_ifindex)
		snprintf(table, sizeof(table), "%d+ifindex", l->table);
	else
		snprintf(table, sizeof(table), "%d", l->table);
	topo_add_hop(t, c->netns, "eth0", "TCP socket: ip_output via 169.254.1.1 (a permanent "
		     "neighbour: the host veth's MAC), veth xmit: backlog enqueue");
	if (t->opts.same_node) {
		topo_add_hop(t, c->node_netns, c->host_ifname, "ip_rcv from backlog, PREROUTING; "
			     "FIB: rule %u to %s lookup main: %s/32 dev %s; FORWARD, POSTROUTING", l->to_pod_pref, s->ip_str, s->ip_str,
			     s->host_ifname);
	} else {
		topo_add_hop(t, c->node_netns, c->host_ifname, "ip_rcv from backlog, PREROUTING; "
			     "FIB: rule %u from %s%s lookup %s: via the VPC gateway dev "
			     ENI_NODE_DEV "; FORWARD, POSTROUTING",
			     l->from_pod_pref, c->ip_str, l->from_to_vpc ? " to the VPC" : "", table);
		topo_add_hop(t, c->node_netns, ENI_NODE_DEV, "the ENI's xmit into the VPC: %s",
			     topo_wire_hop(t));
		topo_add_hop(t, s->node_netns, ENI_NODE_DEV, "ip_rcv, PREROUTING; FIB: rule %u "
			     "to %s lookup main: %s/32 dev %s; FORWARD, POSTROUTING",
			     l->to_pod_pref, s->ip_str, s->ip_str, s->host_ifname);
	}
	topo_add_hop(t, s->node_netns, s->host_ifname, "veth xmit into the pod: backlog enqueue");
	topo_add_hop(t, s->netns, "eth0", "receive from backlog: ip_rcv, then the server's TCP "
		     "socket");
}
