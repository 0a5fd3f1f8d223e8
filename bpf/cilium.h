/*
 * Shared between bpf/cilium.bpf.c and user/datapath/cilium.c: the maps' keys and
 * values. Fixed-width UAPI types only, so both sides agree on the layout.
 */
#ifndef NETPROF_CILIUM_BPF_H
#define NETPROF_CILIUM_BPF_H

/* Slots of the per-CPU `counters` array; user space sums them over CPUs. */
enum cilium_counter {
	CIL_FROM_CONTAINER,	/* packets seen by from-container (lxc ingress) */
	CIL_FROM_NETDEV,	/* packets seen by from-netdev (wire ingress) */
	CIL_REDIRECT_PEER,	/* bpf_redirect_peer into a pod */
	CIL_REDIRECT_NEIGH,	/* bpf_redirect_neigh: FIB hit, no neighbour entry yet */
	CIL_REDIRECT,		/* bpf_redirect with the MACs bpf_fib_lookup resolved */
	CIL_TO_STACK,		/* TC_ACT_OK: legacy mode, not IPv4, not ours, TTL expiring */
	CIL_FIB_MISS,		/* bpf_fib_lookup had no usable route; the stack answers */
	CIL_ARP_REPLY,		/* ARP requests from a pod answered in BPF */
	CIL_NR_COUNTERS
};

/*
 * One local pod, keyed by its address in `endpoints` (from-netdev and
 * same-node delivery) and by its lxc ifindex in `lxc_devices`
 * (from-container: ARP answers and the pod's own address).
 */
struct cilium_endpoint {
	__u32 lxc_ifindex;
	__u32 pod_ip;		/* network byte order */
	__u8 lxc_mac[6];	/* the pod's gateway MAC: Cilium answers ARP with the lxc's MAC */
	__u8 pod_mac[6];	/* the pod's eth0, destination MAC of delivered frames */
};

#endif
