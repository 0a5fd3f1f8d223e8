/*
 * --cni cilium and cilium-legacy: Cilium's native-routing datapath
 * (datapaths.md §3). Pods on lxc* veths with a /32 address and a default
 * route via the node's router IP (on cilium_host, a veth pair with
 * cilium_net as in Cilium); the lxc side has no address and no rp_filter.
 * cilium_dp.h's tc programs do the routing: with host-routing the packet
 * never meets the node's netfilter; legacy hands it to the host stack.
 * The nodes carry Cilium's own small iptables set (CILIUM_FORWARD etc.), so
 * that "FORWARD saw nothing" is a measurement, not an empty table; legacy
 * also kube-proxy's (topo_services.c), cilium none (socket-LB replaces it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "datapath/cilium.h"
#include "lib/log.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static bool is_legacy(const struct topo *t)
{
	return t->opts.cni == TOPO_CNI_CILIUM_LEGACY;
}

static int cilium_node_rules(struct topo *t, int node)
{
	struct ipt_ruleset rs;
	int err;

	rs_init(&rs);
	rs_chain(&rs, IPT_RAW, "CILIUM_PRE_raw");
	rs_chain(&rs, IPT_RAW, "CILIUM_OUTPUT_raw");
	rs_rule(&rs, IPT_RAW, "-A PREROUTING -m comment --comment \"cilium-feeder: CILIUM_PRE_raw\" -j CILIUM_PRE_raw");
	rs_rule(&rs, IPT_RAW, "-A OUTPUT -m comment --comment \"cilium-feeder: CILIUM_OUTPUT_raw\" -j CILIUM_OUTPUT_raw");
	rs_chain(&rs, IPT_MANGLE, "CILIUM_PRE_mangle");
	rs_chain(&rs, IPT_MANGLE, "CILIUM_POST_mangle");
	rs_rule(&rs, IPT_MANGLE, "-A PREROUTING -m comment --comment \"cilium-feeder: CILIUM_PRE_mangle\" -j CILIUM_PRE_mangle");
	rs_rule(&rs, IPT_MANGLE, "-A POSTROUTING -m comment --comment \"cilium-feeder: CILIUM_POST_mangle\" -j CILIUM_POST_mangle");
	rs_chain(&rs, IPT_FILTER, "CILIUM_FORWARD");
	rs_chain(&rs, IPT_FILTER, "CILIUM_INPUT");
	rs_chain(&rs, IPT_FILTER, "CILIUM_OUTPUT");
	rs_rule(&rs, IPT_FILTER, "-A INPUT -m comment --comment \"cilium-feeder: CILIUM_INPUT\" -j CILIUM_INPUT");
	rs_rule(&rs, IPT_FILTER, "-A FORWARD -m comment --comment \"cilium-feeder: CILIUM_FORWARD\" -j CILIUM_FORWARD");
	rs_rule(&rs, IPT_FILTER, "-A OUTPUT -m comment --comment \"cilium-feeder: CILIUM_OUTPUT\" -j CILIUM_OUTPUT");
	rs_rule(&rs, IPT_FILTER, "-A CILIUM_FORWARD -o cilium_host -m comment --comment \"cilium: any->cluster on cilium_host forward accept\" -j ACCEPT");
	rs_rule(&rs, IPT_FILTER, "-A CILIUM_FORWARD -i cilium_host -m comment --comment \"cilium: cluster->any on cilium_host forward accept (nodeport)\" -j ACCEPT");
	rs_rule(&rs, IPT_FILTER, "-A CILIUM_FORWARD -i lxc+ -m comment --comment \"cilium: cluster->any on lxc+ forward accept\" -j ACCEPT");
	rs_rule(&rs, IPT_FILTER, "-A CILIUM_FORWARD -o lxc+ -m comment --comment \"cilium: any->cluster on lxc+ forward accept\" -j ACCEPT");
	rs_rule(&rs, IPT_FILTER, "-A CILIUM_FORWARD -i eth0 -m comment --comment \"cilium: native routing forward accept\" -j ACCEPT");
	err = rs_load(&rs, t->nodes[node], t->opts.iptables);
	rs_free(&rs);
	return err;
}

static int cilium_build(struct topo *t)
{
	const struct topo_endpoint *eps[2] = { &t->client, &t->server };
	char cmd[512], k1[96];
	int err;

	for (int node = 0; node < 2; node++) {
		int other = !node;

		snprintf(cmd, sizeof(cmd),
			 "link add cilium_host mtu %u type veth peer name cilium_net mtu %u\n"
			 "link set cilium_host up\nlink set cilium_net up\n"
			 "addr add 198.18.%d.1/32 dev cilium_host\n"
			 "route add 198.18.%d.0/24 via " TOPO_WIRE_NET ".%d dev eth0\n",
			 t->opts.mtu, t->opts.mtu, node + 1, other + 1, other + 1);
		if ((err = topo_ip_batch(t->nodes[node], cmd)))
			return err;
		if ((err = cilium_node_rules(t, node)))
			return err;
	}
	for (int i = 0; i < 2; i++) {
		const struct topo_endpoint *ep = eps[i];
		int node = topo_node_index(t, ep->node_netns);

		if ((err = topo_add_pod_veth(t, ep, NULL, NULL)))
			return err;
		snprintf(k1, sizeof(k1), "net.ipv4.conf.%s.rp_filter=0", ep->host_ifname);
		if ((err = topo_sysctls(ep->node_netns, (const char *const[]){ k1, NULL })))
			return err;
		snprintf(cmd, sizeof(cmd), "route add %s/32 dev %s scope link\n", ep->ip_str,
			 ep->host_ifname);
		if ((err = topo_ip_batch(ep->node_netns, cmd)))
			return err;
		snprintf(cmd, sizeof(cmd), "route add 198.18.%d.1 dev eth0 scope link\n"
			 "route add default via 198.18.%d.1 dev eth0\n", node + 1, node + 1);
		if ((err = topo_ip_batch(ep->netns, cmd)))
			return err;
	}
	return 0;
}

static int cilium_start(struct topo *t)
{
	const struct topo_endpoint *eps[2] = { &t->client, &t->server };
	int err;

	for (int node = 0; node < 2; node++) {
		err = cilium_dp_open(&t->rt->dp[node], t->nodes[node], is_legacy(t));
		if (err) {
			pr_warn("cilium datapath on %s: %s", t->nodes[node], strerror(-err));
			return err;
		}
		for (int i = 0; i < 2; i++) {
			if (topo_node_index(t, eps[i]->node_netns) != node)
				continue;
			err = cilium_dp_add_endpoint(t->rt->dp[node], eps[i]->host_ifname, eps[i]->ip);
			if (err)
				return err;
		}
		if ((err = cilium_dp_attach_netdev(t->rt->dp[node], "eth0")))
			return err;
	}
	return topo_uses_socket_lb(t) ? topo_socket_lb_start(t) : 0;
}

static void cilium_close(struct topo *t)
{
	topo_socket_lb_close(t);
	for (int node = 0; t->rt && node < 2; node++) {
		cilium_dp_close(t->rt->dp[node]);
		t->rt->dp[node] = NULL;
	}
}

static void cilium_counters(struct topo *t, struct json_writer *w)
{
	for (int node = 0; node < 2; node++) {
		struct cilium_dp_counters c;
		char key[64];

		if (!t->rt || !t->rt->dp[node] || cilium_dp_read_counters(t->rt->dp[node], &c))
			continue;
#define CILIUM_COUNTER(f) \
	snprintf(key, sizeof(key), "node%d.%s", node + 1, #f); jw_uint(w, key, c.f)
		CILIUM_COUNTER(from_container);
		CILIUM_COUNTER(from_netdev);
		CILIUM_COUNTER(redirect_peer);
		CILIUM_COUNTER(redirect_neigh);
		CILIUM_COUNTER(redirect);
		CILIUM_COUNTER(to_stack);
		CILIUM_COUNTER(fib_miss);
		CILIUM_COUNTER(arp_reply);
#undef CILIUM_COUNTER
	}
	topo_socket_lb_counters(t, w);
}

static void cilium_hops(struct topo *t)
{
	const struct topo_endpoint *c = &t->client, *s = &t->server;
	bool kube = topo_runs_kube_proxy(t);
	char nat[96] = "";

	if (topo_uses_socket_lb(t))
		topo_add_hop(t, c->netns, "", "connect(%s:%u): cgroup/connect4 socket-LB rewrites it "
			     "to %s:%u (no DNAT on any packet)", t->vip_str, t->vip_port, s->ip_str,
			     t->server_port);
	topo_add_hop(t, c->netns, "eth0", "TCP socket: ip_output, then veth xmit: backlog enqueue");
	if (is_legacy(t)) {
		topo_add_hop(t, c->node_netns, c->host_ifname, "tc ingress cil_from_container: "
			     "TC_ACT_OK to the host stack");
		if (topo_uses_kube_proxy(t))
			snprintf(nat, sizeof(nat), ", nat KUBE-SERVICES -> KUBE-SEP-* DNAT to %s "
				 "(first packet)", s->ip_str);
		else if (kube)
			snprintf(nat, sizeof(nat), ", nat KUBE-SERVICES: NEW only");
		topo_add_hop(t, c->node_netns, c->host_ifname, "ip_rcv: PREROUTING (CILIUM_PRE_*%s), "
			     "conntrack, FIB, FORWARD -> CILIUM_FORWARD%s, POSTROUTING", nat,
			     kube ? " (ACCEPTs before KUBE-FORWARD)" : "");
		if (!t->opts.same_node) {
			topo_add_hop(t, c->node_netns, "eth0", "veth xmit over the wire: %s", topo_wire_hop(t));
			topo_add_hop(t, s->node_netns, "eth0", "tc ingress cil_from_netdev: TC_ACT_OK; "
				     "ip_rcv, PREROUTING%s, conntrack, FIB, FORWARD -> CILIUM_FORWARD, "
				     "POSTROUTING", kube ? " (nat KUBE-SERVICES: NEW only)" : "");
		}
		topo_add_hop(t, s->node_netns, s->host_ifname, "route %s/32 dev %s: veth xmit into "
			     "the pod: backlog enqueue", s->ip_str, s->host_ifname);
	} else if (t->opts.same_node) {
		topo_add_hop(t, c->node_netns, c->host_ifname, "tc ingress cil_from_container: local "
			     "endpoint -> bpf_redirect_peer into %s (no backlog, no netfilter)",
			     s->netns);
	} else {
		topo_add_hop(t, c->node_netns, c->host_ifname, "tc ingress cil_from_container: "
			     "bpf_fib_lookup -> bpf_redirect_neigh (or bpf_redirect) out of eth0; no "
			     "netfilter, no host routing");
		topo_add_hop(t, c->node_netns, "eth0", "veth xmit over the wire: %s", topo_wire_hop(t));
		topo_add_hop(t, s->node_netns, "eth0", "tc ingress cil_from_netdev: endpoint lookup "
			     "-> bpf_redirect_peer into %s (no second backlog pass)", s->netns);
	}
	topo_add_hop(t, s->netns, "eth0", "ip_rcv, then the server's TCP socket");
}

/* The two differ in what cilium_dp_open() is told (is_legacy), nothing else. */
#define CILIUM_OPS					\
	.has_pods = true,				\
	.veth_prefix = "lxc",				\
	.socket_lb = true,				\
	.build = cilium_build,				\
	.start = cilium_start,				\
	.close = cilium_close,				\
	.hops = cilium_hops,				\
	.counters = cilium_counters

/* With host-routing Cilium replaces kube-proxy (socket-LB); the legacy
 * setup of Cilium's benchmark keeps kube-proxy, so --socket-lb is its
 * choice. */
const struct topo_cni_ops topo_cilium_ops = {
	.name = "cilium",
	.summary = "lxc* veths, tc BPF host-routing (fib_lookup, redirect_neigh/peer), socket-LB",
	.cni_rules = "Cilium's feeder chains",
	CILIUM_OPS,
};

const struct topo_cni_ops topo_cilium_legacy_ops = {
	.name = "cilium-legacy",
	.summary = "lxc* veths, tc BPF hands packets to the host stack and netfilter, kube-proxy "
		   "(or --socket-lb)",
	.kube_proxy = true,
	.cni_rules = "Cilium's feeder chains",
	CILIUM_OPS,
};
