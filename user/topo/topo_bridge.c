/*
 * --cni bridge: the plain bridge CNI (containernetworking/plugins
 * plugins/main/bridge, isGateway) and Tencent's global router, which is the
 * same node wiring with the pod CIDRs routed by the VPC. Each pod's veth
 * has its host end on a Linux bridge cni0 that holds the node's pod
 * gateway address (198.18.N.1/24); the pods have a /24 and a default route
 * via it. Between the nodes each pod block is routed via the other node
 * (what host-local IPAM plus the VPC's route table give). With
 * br_netfilter in the kernel, bridged frames also walk iptables
 * (bridge-nf-call-iptables=1, which kubeadm requires on such nodes).
 */
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "topo/topo.h"
#include "topo/topo_impl.h"

#define BRIDGE_DEV "cni0"

/* br_netfilter is built in or loaded: its sysctls appear in every namespace. */
static bool bridge_netfilter_present(void)
{
	return access("/proc/sys/net/bridge/bridge-nf-call-iptables", F_OK) == 0;
}

static int bridge_node(struct topo *t, int node)
{
	char cmd[512];
	int other = !node, err;

	/* STP off (the plugin's default): ports forward as soon as they are up. */
	snprintf(cmd, sizeof(cmd),
		 "link add " BRIDGE_DEV " mtu %u type bridge stp_state 0\n"
		 "link set " BRIDGE_DEV " up\n"
		 "addr add 198.18.%d.1/24 dev " BRIDGE_DEV "\n"
		 "route add 198.18.%d.0/24 via " TOPO_WIRE_NET ".%d dev eth0\n",
		 t->opts.mtu, node + 1, other + 1, other + 1);
	if ((err = topo_ip_batch(t->nodes[node], cmd)))
		return err;
	if (bridge_netfilter_present())
		return topo_sysctls(t->nodes[node], (const char *const[]){
			"net.bridge.bridge-nf-call-iptables=1", NULL });
	return 0;
}

static int bridge_pod(struct topo *t, const struct topo_endpoint *ep)
{
	char cmd[256];
	int node = topo_node_index(t, ep->node_netns), err;

	snprintf(cmd, sizeof(cmd),
		 "link add %s mtu %u type veth peer name eth0 mtu %u netns %s\n"
		 "link set %s master " BRIDGE_DEV "\nlink set %s up\n",
		 ep->host_ifname, t->opts.mtu, t->opts.mtu, ep->netns, ep->host_ifname,
		 ep->host_ifname);
	if ((err = topo_ip_batch(ep->node_netns, cmd)))
		return err;
	snprintf(cmd, sizeof(cmd), "link set eth0 up\naddr add %s/24 dev eth0\n"
		 "route add default via 198.18.%d.1 dev eth0\n", ep->ip_str, node + 1);
	return topo_ip_batch(ep->netns, cmd);
}

static int bridge_build(struct topo *t)
{
	int err;

	for (int node = 0; node < 2; node++)
		if ((err = bridge_node(t, node)))
			return err;
	if ((err = bridge_pod(t, &t->client)))
		return err;
	return bridge_pod(t, &t->server);
}

static void bridge_hops(struct topo *t)
{
	const struct topo_endpoint *c = &t->client, *s = &t->server;
	const char *brnf = bridge_netfilter_present()
				   ? "br_netfilter: iptables PREROUTING in the bridge hook"
				   : "no br_netfilter in this kernel: no iptables on bridged frames";

	topo_add_hop(t, c->netns, "eth0", "TCP socket: ip_output, then veth xmit: backlog enqueue");
	if (t->opts.same_node) {
		topo_add_hop(t, c->node_netns, c->host_ifname, "receive from backlog: rx_handler "
			     "br_handle_frame, FDB lookup finds pod B's MAC: br_forward (%s, "
			     "FORWARD, POSTROUTING)", brnf);
	} else {
		topo_add_hop(t, c->node_netns, c->host_ifname, "receive from backlog: rx_handler "
			     "br_handle_frame, FDB: the gateway's own MAC, br_pass_frame_up (%s)",
			     brnf);
		topo_add_hop(t, c->node_netns, BRIDGE_DEV, "netif_receive_skb on the bridge: ip_rcv, "
			     "FIB lookup: forward via the other node; FORWARD, POSTROUTING");
		topo_add_hop(t, c->node_netns, "eth0", "veth xmit over the wire: %s", topo_wire_hop(t));
		topo_add_hop(t, s->node_netns, "eth0", "receive: ip_rcv, PREROUTING, FIB lookup: "
			     "198.18.%d.0/24 dev " BRIDGE_DEV "; FORWARD, POSTROUTING",
			     topo_node_index(t, s->node_netns) + 1);
		topo_add_hop(t, s->node_netns, BRIDGE_DEV, "br_dev_xmit: FDB lookup, br_forward to "
			     "pod B's port%s", bridge_netfilter_present()
			     ? " (br_netfilter: bridge LOCAL_OUT, POSTROUTING)" : "");
	}
	topo_add_hop(t, s->node_netns, s->host_ifname, "veth xmit into the pod: backlog enqueue");
	topo_add_hop(t, s->netns, "eth0", "receive from backlog: ip_rcv, then the server's TCP "
		     "socket");
}

const struct topo_cni_ops topo_bridge_ops = {
	.name = "bridge",
	.summary = "veths on a Linux bridge per node, pod blocks routed between the nodes "
		   "(bridge CNI, Tencent global router)",
	.has_pods = true,
	.veth_prefix = "veth",
	.kube_proxy = true,
	.build = bridge_build,
	.hops = bridge_hops,
};
