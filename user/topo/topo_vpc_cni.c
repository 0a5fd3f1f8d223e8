/*
 * --cni vpc-cni: a shared ENI with several addresses, as Tencent's VPC-CNI
 * (shared-ENI mode) and the AWS VPC CNI it resembles wire it; the numbers
 * are amazon-vpc-cni-k8s's (pkg/networkutils, cni-plugins/routed-eni), the
 * public source of this layout. Each node's second NIC eth1 is the ENI
 * whose secondary addresses the pods hold; a pod is a veth (host end eni +
 * 11 hex), its address /32, `169.254.1.1 dev eth0 scope link` and the
 * default route via it, a permanent neighbour entry making that address
 * the host end. The node routes `<pod>/32 dev eni*` and steers the pods'
 * traffic with pref 512 `to <pod> lookup main` and pref 1536
 * `from <pod> to <VPC CIDR> lookup 2` (the ENI's device number + 1), whose
 * table holds the gateway's host route and the default route via it.
 */
#include "topo/topo.h"
#include "topo/topo_impl.h"

static const struct eni_layout vpc_cni_layout = {
	.to_pod_pref = 512,
	.from_pod_pref = 1536,
	.from_to_vpc = true,
	.table = 2,
	.gateway_host_route = true,
};

static int vpc_cni_build(struct topo *t)
{
	return eni_policy_build(t, &vpc_cni_layout);
}

static void vpc_cni_hops(struct topo *t)
{
	eni_policy_hops(t, &vpc_cni_layout);
}

const struct topo_cni_ops topo_vpc_cni_ops = {
	.name = "vpc-cni",
	.summary = "shared ENI: eni* veths, pod IPs secondary on the node's ENI, policy routing",
	.has_pods = true,
	.veth_prefix = "eni",
	.kube_proxy = true,
	.plan = eni_plan,
	.build = vpc_cni_build,
	.hops = vpc_cni_hops,
};
