/*
 * --cni host: the two node namespaces talk to each other directly over the
 * wire. The node-to-node baseline every published benchmark starts from,
 * measured between two nodes of a cluster: each runs kube-proxy, so its
 * traffic meets conntrack and kube-proxy's chains (topo_services.c).
 */
#include "topo/topo.h"
#include "topo/topo_impl.h"

static int host_build(struct topo *t)
{
	(void)t;	/* the wire and its addresses are the whole datapath */
	return 0;
}

static void host_hops(struct topo *t)
{
	bool kube = topo_runs_kube_proxy(t);

	if (kube)
		topo_add_hop(t, t->nodes[0], "", "TCP socket: ip_output, conntrack, OUTPUT (nat "
			     "KUBE-SERVICES, filter KUBE-*: NEW only), POSTROUTING -> KUBE-POSTROUTING");
	else
		topo_add_hop(t, t->nodes[0], "", "TCP socket: ip_output, netfilter OUTPUT/POSTROUTING "
			     "(no rules loaded)");
	topo_add_hop(t, t->nodes[0], "eth0", "veth xmit to the peer (the wire): %s",
		     topo_wire_hop(t));
	topo_add_hop(t, t->nodes[1], "eth0", "receive from %s: ip_rcv, %sPREROUTING%s, routing "
		     "(local), INPUT%s", t->opts.wire == TOPO_WIRE_NAPI ? "the NAPI poll" : "backlog",
		     kube ? "conntrack, " : "", kube ? " (nat KUBE-SERVICES: NEW only)" : "",
		     kube ? " -> KUBE-NODEPORTS" : "");
	topo_add_hop(t, t->nodes[1], "", "TCP socket of the server");
}

const struct topo_cni_ops topo_host_ops = {
	.name = "host",
	.summary = "node to node over the wire, no pods (the baseline)",
	.has_pods = false,
	.kube_proxy = true,
	.build = host_build,
	.hops = host_hops,
};
