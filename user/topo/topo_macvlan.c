/*
 * --cni macvlan: an underlay as Spiderpool/Multus build it (datapaths.md §4).
 * Each pod's eth0 is a bridge-mode macvlan child of its node's uplink, moved
 * into the pod: pods sit on the nodes' L2 segment, no veth, no host routing,
 * no host netfilter. Siblings on one parent talk through dev_forward_skb;
 * anything else leaves through the lower device. --subnets 2 puts node2 on
 * a second segment behind a gateway namespace that routes between the two.
 */
#include <errno.h>
#include <stdio.h>

#include "lib/log.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static int macvlan_check(const struct topo_opts *o)
{
	if (o->subnets != 1 && o->subnets != 2) {
		usage_error("topo: --subnets %u: use 1 or 2", o->subnets);
		return -EINVAL;
	}
	if (o->subnets == 2 && o->same_node) {
		usage_error("topo: --subnets 2 puts each node on its own subnet, so the pods are on "
			    "different nodes: drop --placement same-node");
		return -EINVAL;
	}
	if (o->target_service && !o->socket_lb) {
		usage_error("topo: --cni macvlan --target service needs --socket-lb (kube-proxy "
			    "through Spiderpool's veth0 is not emulated)");
		return -EINVAL;
	}
	return 0;
}

static int macvlan_pod(struct topo *t, const struct topo_endpoint *ep, const char *tmpname,
		       const char *gateway)
{
	char cmd[512];
	int n, err;

	snprintf(cmd, sizeof(cmd),
		 "link add %s mtu %u link eth0 type macvlan mode bridge\n"
		 "link set %s netns %s\n", tmpname, t->opts.mtu, tmpname, ep->netns);
	if ((err = topo_ip_batch(ep->node_netns, cmd)))
		return err;
	n = snprintf(cmd, sizeof(cmd), "link set %s name eth0\nlink set eth0 up\n"
		     "addr add %s/24 dev eth0\n", tmpname, ep->ip_str);
	if (gateway)
		snprintf(cmd + n, sizeof(cmd) - n, "route add default via %s dev eth0\n", gateway);
	return topo_ip_batch(ep->netns, cmd);
}

static int macvlan_build(struct topo *t)
{
	bool two = t->opts.subnets == 2;
	char gw1[20], gw2[20];
	int err;

	snprintf(gw1, sizeof(gw1), TOPO_WIRE_NET ".%d", TOPO_GW_HOST);
	snprintf(gw2, sizeof(gw2), TOPO_SEG2_NET ".%d", TOPO_GW_HOST);
	if ((err = macvlan_pod(t, &t->client, "mv-a", two ? gw1 : NULL)))
		return err;
	return macvlan_pod(t, &t->server, "mv-b", two ? gw2 : NULL);
}

/* --socket-lb is the only service macvlan emulates: nothing else to start. */
static int macvlan_start(struct topo *t)
{
	return topo_uses_socket_lb(t) ? topo_socket_lb_start(t) : 0;
}

static void macvlan_hops(struct topo *t)
{
	const struct topo_endpoint *c = &t->client, *s = &t->server;

	if (t->opts.target_service)
		topo_add_hop(t, c->netns, "", "connect(%s:%u): cgroup/connect4 socket-LB rewrites it "
			     "to %s:%u (no DNAT on any packet)", t->vip_str, t->vip_port, s->ip_str,
			     t->server_port);
	if (t->opts.same_node) {
		topo_add_hop(t, c->netns, "eth0", "TCP socket: ip_output; macvlan xmit to a sibling "
			     "on the node's eth0: dev_forward_skb, backlog enqueue");
	} else {
		topo_add_hop(t, c->netns, "eth0", "TCP socket: ip_output; macvlan xmit: "
			     "dev_queue_xmit on the lower device (no host hook)");
		topo_add_hop(t, c->node_netns, "eth0", "veth xmit over the wire: %s", topo_wire_hop(t));
		if (t->gateway[0]) {
			topo_add_hop(t, t->gateway, "eth0", "ip_rcv, FIB lookup: forward between "
				     "the segments (gateway netfilter, no rules)");
			topo_add_hop(t, t->gateway, "eth1", "veth xmit over the second wire: %s",
				     topo_wire_hop(t));
		}
		topo_add_hop(t, s->node_netns, "eth0", "receive: rx_handler macvlan_handle_frame "
			     "hands it to the child by MAC (no host hook%s)", topo_runs_kube_proxy(t)
			     ? ": the node's kube-proxy rules never see it" : "");
	}
	topo_add_hop(t, s->netns, "eth0", "ip_rcv, then the server's TCP socket");
}

const struct topo_cni_ops topo_macvlan_ops = {
	.name = "macvlan",
	.summary = "bridge-mode macvlan children of the node uplink in the pods (underlay)",
	.has_pods = true,
	/* The nodes run kube-proxy, though pod traffic never meets the
	 * node's netfilter: the point of an underlay. */
	.kube_proxy = true,
	.socket_lb = true,
	.check = macvlan_check,
	.build = macvlan_build,
	.start = macvlan_start,
	.close = topo_socket_lb_close,
	.hops = macvlan_hops,
	.counters = topo_socket_lb_counters,
};
