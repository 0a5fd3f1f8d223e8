/*
 * Cilium-style eBPF host routing for one emulated node (datapaths.md §3):
 * from-container on each lxc* tc ingress does bpf_fib_lookup and
 * bpf_redirect_neigh out of the node (or bpf_redirect_peer to a local pod);
 * from-netdev on the wire device's tc ingress looks the pod up and
 * bpf_redirect_peer's into it: no netfilter hook, no second backlog pass.
 * In legacy mode from-container returns TC_ACT_OK to the host stack and the
 * node routes through netfilter, as Cilium without host-routing does.
 *
 * Every call runs inside the node's network namespace (it enters and leaves
 * it itself, on the calling thread); programs attach only to devices of that
 * namespace. The node needs ip_forward=1 (bpf_fib_lookup refuses to forward
 * otherwise, and legacy mode needs it anyway) and, for legacy mode and for
 * traffic the programs hand to the stack, a `podIP/32 dev lxc*` route.
 */
#ifndef NETPROF_CILIUM_DP_H
#define NETPROF_CILIUM_DP_H

#include <stdbool.h>
#include <stdint.h>

struct cilium_dp;

struct cilium_dp_counters {
	uint64_t from_container;	/* packets seen on lxc ingress */
	uint64_t from_netdev;		/* packets seen on the wire device ingress */
	uint64_t redirect_peer;		/* delivered into a pod with bpf_redirect_peer */
	uint64_t redirect_neigh;	/* sent out with bpf_redirect_neigh */
	uint64_t redirect;		/* plain bpf_redirect (resolved neighbour) */
	uint64_t to_stack;		/* handed to the host stack (legacy, or not ours) */
	uint64_t fib_miss;		/* bpf_fib_lookup found no route */
	uint64_t arp_reply;		/* pods' ARP requests for their gateway answered in BPF */
};

/* Loads the programs for the node whose namespace is `node_netns`. */
int cilium_dp_open(struct cilium_dp **out, const char *node_netns, bool legacy_host_routing);
/*
 * A pod on this node: its host-side veth (lxc*) and its address (network
 * order). The pod's MAC is read from the veth peer (in the pod's namespace);
 * its gateway MAC is the lxc's own, answered to ARP in BPF, so the pod needs
 * no static neighbour entry. -EEXIST for an lxc or address already added.
 */
int cilium_dp_add_endpoint(struct cilium_dp *dp, const char *lxc_ifname, uint32_t pod_ip_be);
/* The node's uplink (the wire), where from-netdev attaches. */
int cilium_dp_attach_netdev(struct cilium_dp *dp, const char *ifname);
int cilium_dp_read_counters(struct cilium_dp *dp, struct cilium_dp_counters *c);
/* Names of the attached programs and their devices, for `topo show`. */
int cilium_dp_describe(struct cilium_dp *dp, void (*cb)(const char *dev, const char *dir,
							const char *prog, void *arg), void *arg);
/* Detaches and frees; accepts NULL. */
void cilium_dp_close(struct cilium_dp *dp);

#endif
