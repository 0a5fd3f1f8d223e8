/*
 * --cni terway-eni and --cni terway: Alibaba Terway's two pod links
 * (plugin/datapath in AliyunContainerService/terway).
 *
 * terway-eni, exclusive ENI (exclusive_eni_linux.go): an elastic NIC of the
 * node moved into the pod as its eth0, the pod address /32 on it and
 * `default via <vSwitch gateway> onlink`. The packet goes from the pod's
 * socket to the NIC and from the other pod's NIC to its socket: no veth,
 * no host namespace, no host netfilter. The two pods' ENIs are a veth pair
 * that receives as the wire does (NAPI on the receiving pod's CPUs), the
 * VPC between them (topo_eni.c).
 *
 * terway, shared ENI with veth and policy routing (policy_router_linux.go):
 * each node's second NIC eth1 is the ENI whose secondary addresses the pods
 * hold; a pod is a veth (host end cali + 11 hex) with its address /32 and
 * `default via 169.254.1.1 onlink`, a permanent neighbour entry making that
 * the host end. The node routes `<pod>/32 dev cali*`, and two rules steer
 * the pods' traffic: pref 512 `to <pod> lookup main`, pref 2048
 * `from <pod> lookup 1000+<ENI ifindex>`, that table's default route via
 * the gateway on the ENI.
 */
#include <errno.h>
#include <stdio.h>

#include "lib/log.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static int terway_eni_check(const struct topo_opts *o)
{
	if (o->target_service) {
		usage_error("topo: --cni terway-eni --target service: the ClusterIP path (the pod's "
			    "veth1 to the host) is not emulated; use --target pod");
		return -EINVAL;
	}
	return 0;
}

static int terway_eni_build(struct topo *t)
{
	struct eni_end ends[2] = { { .netns = t->client.netns }, { .netns = t->server.netns } };
	int err;

	snprintf(ends[0].ip, sizeof(ends[0].ip), "%s", t->client.ip_str);
	snprintf(ends[1].ip, sizeof(ends[1].ip), "%s", t->server.ip_str);
	/* A NIC's receive work runs where its pod's node runs. */
	snprintf(ends[0].cpus, sizeof(ends[0].cpus), "%s", t->client.cpus);
	snprintf(ends[1].cpus, sizeof(ends[1].cpus), "%s", t->server.cpus);
	if ((err = eni_pair(t, ends, "eth0", 32)))
		return err;
	for (int i = 0; i < 2; i++)
		if ((err = topo_ip_batch(ends[i].netns, "route add default via " ENI_GATEWAY
						       " dev eth0 onlink\n")))
			return err;
	return 0;
}

static void terway_eni_hops(struct topo *t)
{
	const struct topo_endpoint *c = &t->client, *s = &t->server;

	topo_add_hop(t, c->netns, "eth0", "TCP socket: ip_output, FIB lookup: default via the "
		     "vSwitch gateway onlink; the ENI's xmit into the VPC: %s", topo_wire_hop(t));
	topo_add_hop(t, s->netns, "eth0", "the ENI's receive: ip_rcv, then the server's TCP "
		     "socket (no host namespace on the way)");
}

static const struct eni_layout terway_layout = {
	.to_pod_pref = 512,
	.from_pod_pref = 2048,
	.table = 1000,
	.table_by_ifindex = true,
};

static int terway_build(struct topo *t)
{
	return eni_policy_build(t, &terway_layout);
}

static void terway_hops(struct topo *t)
{
	eni_policy_hops(t, &terway_layout);
}

const struct topo_cni_ops topo_terway_eni_ops = {
	.name = "terway-eni",
	.summary = "Terway exclusive ENI: the pod's eth0 is an elastic NIC (no veth, no host hop)",
	.has_pods = true,
	.pod_nic = true,
	.check = terway_eni_check,
	.plan = eni_plan,
	.build = terway_eni_build,
	.hops = terway_eni_hops,
};

const struct topo_cni_ops topo_terway_ops = {
	.name = "terway",
	.summary = "Terway shared ENI: cali* veths, pod IPs on the node's ENI, policy routing",
	.has_pods = true,
	.veth_prefix = "cali",
	.kube_proxy = true,
	.plan = eni_plan,
	.build = terway_build,
	.hops = terway_hops,
};
