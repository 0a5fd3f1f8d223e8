/*
 * --cni calico: Calico's iptables dataplane without a tunnel (datapaths.md §1).
 * Pods on cali* veths (MAC ee:ee:ee:ee:ee:ee, no address, proxy ARP for the
 * pods' 169.254.1.1 gateway), /32 routes to the pods, the local block
 * blackholed and the remote block routed via the other node (what BGP
 * would install), forwarding on; the ruleset is calico_rules.c's.
 */
#include <stdio.h>
#include <string.h>

#include "topo/topo.h"
#include "topo/topo_impl.h"

#define CALI_MAC "ee:ee:ee:ee:ee:ee"

static int calico_node(struct topo *t, int node)
{
	char cmd[512];
	int other = !node;

	/* Unknown destinations go to the (absent) LAN gateway and die in ARP:
	 * no route leaves the emulation. The default route is also what proxy
	 * ARP needs to answer for 169.254.1.1 on the cali* devices. */
	snprintf(cmd, sizeof(cmd),
		 "route add blackhole 198.18.%d.0/24\n"
		 "route add 198.18.%d.0/24 via " TOPO_WIRE_NET ".%d dev eth0\n"
		 "route add default via " TOPO_WIRE_NET ".%d dev eth0\n",
		 node + 1, other + 1, other + 1, TOPO_GW_HOST);
	return topo_ip_batch(t->nodes[node], cmd);
}

static int calico_pod(struct topo *t, const struct topo_endpoint *ep)
{
	char cmd[256], k1[96], k2[96], k3[96], k4[96], k5[96];
	int err = topo_add_pod_veth(t, ep, NULL, CALI_MAC);

	if (err)
		return err;
	/* cni-plugin dataplane_linux.go: the host side answers ARP for the
	 * gateway at once, forwards, and accepts 127/8 sources (route_localnet). */
	snprintf(k1, sizeof(k1), "net.ipv4.conf.%s.proxy_arp=1", ep->host_ifname);
	snprintf(k2, sizeof(k2), "net.ipv4.neigh.%s.proxy_delay=0", ep->host_ifname);
	snprintf(k3, sizeof(k3), "net.ipv4.conf.%s.forwarding=1", ep->host_ifname);
	snprintf(k4, sizeof(k4), "net.ipv4.conf.%s.route_localnet=1", ep->host_ifname);
	snprintf(k5, sizeof(k5), "net.ipv4.conf.%s.rp_filter=1", ep->host_ifname);
	if ((err = topo_sysctls(ep->node_netns, (const char *const[]){ k1, k2, k3, k4, k5, NULL })))
		return err;
	snprintf(cmd, sizeof(cmd), "route add %s/32 dev %s scope link\n", ep->ip_str,
		 ep->host_ifname);
	if ((err = topo_ip_batch(ep->node_netns, cmd)))
		return err;
	return topo_ip_batch(ep->netns, "route add 169.254.1.1 dev eth0 scope link\n"
					"route add default via 169.254.1.1 dev eth0\n");
}

int calico_build_pods(struct topo *t)
{
	int err;

	for (int node = 0; node < 2; node++)
		if ((err = calico_node(t, node)))
			return err;
	if ((err = calico_pod(t, &t->client)))
		return err;
	return calico_pod(t, &t->server);
}

/* The host stack forwarding of one node, as the packet meets it. */
static void calico_node_hops(struct topo *t, const char *node, const char *in_dev,
			     const char *chain_walk, bool dnat)
{
	bool wire = !strncmp(in_dev, "eth", 3);

	topo_add_hop(t, node, in_dev, "receive from %s: ip_rcv; raw PREROUTING "
		     "(cali-PREROUTING: clear marks%s, rpfilter), conntrack",
		     wire && t->opts.wire == TOPO_WIRE_NAPI ? "the NAPI poll" : "backlog",
		     wire ? "" : ", mark from-workload");
	if (dnat)
		topo_add_hop(t, node, in_dev, "mangle PREROUTING (cali-PREROUTING); nat PREROUTING "
			     "KUBE-SERVICES -> KUBE-SVC-* -> KUBE-SEP-* DNAT %s -> %s (first "
			     "packet; later ones reuse the conntrack entry)", t->vip_str,
			     t->server.ip_str);
	else
		topo_add_hop(t, node, in_dev, "mangle PREROUTING (cali-PREROUTING: ESTABLISHED "
			     "ACCEPT)%s", topo_runs_kube_proxy(t) ? "; nat KUBE-SERVICES only for NEW "
			     "flows" : "");
	topo_add_hop(t, node, "", "FIB lookup: forward; filter FORWARD -> cali-FORWARD -> %s%s",
		     chain_walk, topo_runs_kube_proxy(t) ? " (KUBE-FORWARD after it)" : "");
	topo_add_hop(t, node, "", "mangle/nat POSTROUTING (cali-POSTROUTING%s)",
		     topo_runs_kube_proxy(t) ? ", KUBE-POSTROUTING" : "");
}

void calico_hops(struct topo *t, bool sidecar)
{
	const struct topo_endpoint *c = &t->client, *s = &t->server;
	bool dnat = topo_uses_kube_proxy(t);
	char walk[160];

	if (sidecar)
		topo_add_hop(t, c->netns, "lo", "app connect(): nat OUTPUT ISTIO_OUTPUT -> "
			     "ISTIO_REDIRECT to 15001; app -> loopback -> proxy (user-space copy)");
	topo_add_hop(t, c->netns, "eth0", "%s: ip_output, then veth xmit: backlog enqueue",
		     sidecar ? "proxy's upstream socket (uid 1337, not captured)" : "TCP socket");
	if (t->opts.same_node) {
		snprintf(walk, sizeof(walk), "cali-from-wl-dispatch -> cali-fw-%s; NEW flows also "
			 "cali-to-wl-dispatch -> cali-tw-%s", c->host_ifname, s->host_ifname);
		calico_node_hops(t, c->node_netns, c->host_ifname, walk, dnat);
	} else {
		snprintf(walk, sizeof(walk), "cali-from-wl-dispatch -> cali-fw-%s (ESTABLISHED "
			 "ACCEPT)", c->host_ifname);
		calico_node_hops(t, c->node_netns, c->host_ifname, walk, dnat);
		topo_add_hop(t, c->node_netns, "eth0", "veth xmit over the wire: %s", topo_wire_hop(t));
		snprintf(walk, sizeof(walk), "cali-to-wl-dispatch -> cali-tw-%s (ESTABLISHED "
			 "ACCEPT)", s->host_ifname);
		calico_node_hops(t, s->node_netns, "eth0", walk, false);
	}
	topo_add_hop(t, s->node_netns, s->host_ifname, "veth xmit into the pod: backlog enqueue");
	topo_add_hop(t, s->netns, "eth0", "receive from backlog: ip_rcv%s",
		     sidecar ? ", nat PREROUTING ISTIO_INBOUND -> ISTIO_IN_REDIRECT to 15006" : "");
	if (sidecar)
		topo_add_hop(t, s->netns, "lo", "proxy (user-space copy) connects from 127.0.0.6 "
			     "to %s:%u over loopback", s->ip_str, t->server_port);
	topo_add_hop(t, s->netns, "", "TCP socket of the server");
}

int calico_node_rules(const struct topo *t, int node, struct ipt_ruleset *rs,
		      struct strbuf *ipsets)
{
	int err = calico_ipsets_build(t, node, ipsets);

	return err ? err : calico_rules_build(t, node, rs);
}

static void calico_hops_plain(struct topo *t)
{
	calico_hops(t, false);
}

const struct topo_cni_ops topo_calico_ops = {
	.name = "calico",
	.summary = "cali* veths, proxy ARP, Calico's iptables ruleset, kube-proxy services",
	.has_pods = true,
	.veth_prefix = "cali",
	.calico_rules = true,
	.kube_proxy = true,
	.cni_rules = "Calico's felix chains",
	.build = calico_build_pods,
	.node_rules = calico_node_rules,
	.hops = calico_hops_plain,
};
