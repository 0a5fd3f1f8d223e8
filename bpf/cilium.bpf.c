// SPDX-License-Identifier: GPL-2.0
/*
 * Cilium-style host routing (native routing, eBPF host-routing), written
 * from the structure described in shared/docs/datapaths.md §3:
 *
 *  cil_from_container  tc ingress of every lxc* (host side of a pod's veth).
 *    ARP from the pod is answered here with the lxc's MAC (bpf_lxc.c answers
 *    for every target but the pod's own address). IPv4 to a pod of this node
 *    goes straight into it with bpf_redirect_peer; anything else is routed
 *    with bpf_fib_lookup in the node's namespace and sent out with
 *    bpf_redirect (MACs resolved) or bpf_redirect_neigh (no neighbour entry
 *    yet, the kernel resolves it). No netfilter hook sees these packets.
 *  cil_from_netdev     tc ingress of the node's uplink (the wire). IPv4 to a
 *    local pod is bpf_redirect_peer'd into the pod's namespace: ingress to
 *    ingress, no second backlog pass, no netfilter, no host routing.
 *
 * In legacy host routing (Cilium without BPF host routing) both return
 * TC_ACT_OK for IP traffic: the host stack routes it, through netfilter.
 *
 * Every decision is counted in a per-CPU array; nothing per packet leaves
 * the kernel.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "cilium.h"

#define TC_ACT_OK	0
#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define ETH_ALEN	6
#define AF_INET		2
#define ARPHRD_ETHER	1
#define ARPOP_REQUEST	1
#define ARPOP_REPLY	2

/* Set by user space before load. */
const volatile bool legacy_host_routing = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CIL_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Local pods by address (network order). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct cilium_endpoint);
} endpoints SEC(".maps");

/* The same pods by the ifindex of their lxc device. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct cilium_endpoint);
} lxc_devices SEC(".maps");

/* The Ethernet/IPv4 body of an ARP packet (RFC 826); addresses unaligned. */
struct arp_eth_ipv4 {
	__u8 sha[ETH_ALEN];
	__be32 sip;
	__u8 tha[ETH_ALEN];
	__be32 tip;
} __attribute__((packed));

static __always_inline void count(__u32 which)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &which);

	if (value)
		*value += 1;
}

static __always_inline int pass_to_stack(void)
{
	count(CIL_TO_STACK);
	return TC_ACT_OK;
}

/*
 * skb->data and skb->data_end, each loaded by one instruction at its own
 * offset: clang otherwise computes `ctx + offset` into a register and loads
 * through it, which the verifier refuses ("dereference of modified ctx ptr").
 */
static __always_inline void *skb_data(struct __sk_buff *skb)
{
	void *p;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(p) : "r"(skb),
		     "i"(__builtin_offsetof(struct __sk_buff, data)));
	return p;
}

static __always_inline void *skb_data_end(struct __sk_buff *skb)
{
	void *p;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(p) : "r"(skb),
		     "i"(__builtin_offsetof(struct __sk_buff, data_end)));
	return p;
}

/* Makes the first `len` bytes linear so they can be read and written directly. */
static __always_inline bool headers_linear(struct __sk_buff *skb, __u32 len)
{
	if (skb_data(skb) + len <= skb_data_end(skb))
		return true;
	return bpf_skb_pull_data(skb, len) == 0 && skb_data(skb) + len <= skb_data_end(skb);
}

/* TTL - 1 with the incremental checksum update routers use (RFC 1141). */
static __always_inline void ipv4_decrease_ttl(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__sum16)(check + (check >= 0xFFFF));
	ip->ttl--;
}

static __always_inline void set_macs(struct ethhdr *eth, const __u8 *src, const __u8 *dst)
{
	__builtin_memcpy(eth->h_source, src, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, dst, ETH_ALEN);
}

/*
 * Routed like Cilium's local delivery: TTL - 1, the lxc's MAC as source,
 * the pod's as destination, then into the pod's namespace at its ingress.
 */
static __always_inline int deliver_to_pod(struct ethhdr *eth, struct iphdr *ip,
					  const struct cilium_endpoint *ep)
{
	ipv4_decrease_ttl(ip);
	set_macs(eth, ep->lxc_mac, ep->pod_mac);
	count(CIL_REDIRECT_PEER);
	return bpf_redirect_peer(ep->lxc_ifindex, 0);
}

/*
 * Answers a pod's ARP request in place and sends it back out of the lxc
 * (bpf_lxc.c tail_handle_arp): every target but the pod's own address, so
 * duplicate address detection inside the pod still sees silence.
 */
static __always_inline int answer_arp(struct __sk_buff *skb, const struct cilium_endpoint *ep)
{
	__u32 len = sizeof(struct ethhdr) + sizeof(struct arphdr) + sizeof(struct arp_eth_ipv4);
	struct arp_eth_ipv4 *body;
	struct ethhdr *eth;
	struct arphdr *arp;
	__be32 sip, tip;

	if (!headers_linear(skb, len))
		return pass_to_stack();
	eth = skb_data(skb);
	arp = (void *)(eth + 1);
	body = (void *)(arp + 1);
	if ((void *)(body + 1) > skb_data_end(skb))
		return pass_to_stack();
	if (arp->ar_hrd != bpf_htons(ARPHRD_ETHER) || arp->ar_pro != bpf_htons(ETH_P_IP) ||
	    arp->ar_hln != ETH_ALEN || arp->ar_pln != 4 || arp->ar_op != bpf_htons(ARPOP_REQUEST))
		return pass_to_stack();
	sip = body->sip;
	tip = body->tip;
	if (tip == ep->pod_ip || tip == sip)
		return pass_to_stack();

	set_macs(eth, ep->lxc_mac, body->sha);
	arp->ar_op = bpf_htons(ARPOP_REPLY);
	__builtin_memcpy(body->tha, body->sha, ETH_ALEN);
	__builtin_memcpy(body->sha, ep->lxc_mac, ETH_ALEN);
	body->tip = sip;
	body->sip = tip;
	count(CIL_ARP_REPLY);
	return bpf_redirect(skb->ifindex, 0);
}

/*
 * The IPv4 header of a packet this datapath routes itself, in linear data,
 * with its Ethernet header in *ethp. NULL leaves the packet to the host
 * stack: not IPv4, legacy host routing, too short, or an expiring TTL (the
 * stack sends the ICMP time-exceeded).
 */
static __always_inline struct iphdr *routable_ipv4(struct __sk_buff *skb, struct ethhdr **ethp)
{
	__u32 len = sizeof(struct ethhdr) + sizeof(struct iphdr);
	struct ethhdr *eth;
	struct iphdr *ip;

	if (skb->protocol != bpf_htons(ETH_P_IP) || legacy_host_routing)
		return NULL;
	if (!headers_linear(skb, len))
		return NULL;
	eth = skb_data(skb);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > skb_data_end(skb))
		return NULL;
	if (ip->version != 4 || ip->ttl <= 1)
		return NULL;
	*ethp = eth;
	return ip;
}

/* bpf_lxc.c's egress, without policy and BPF conntrack. */
SEC("tc")
int cil_from_container(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib = {};
	const struct cilium_endpoint *src_ep, *dst_ep;
	__u32 ifindex = skb->ifindex;
	struct ethhdr *eth;
	struct iphdr *ip;
	long rc;

	count(CIL_FROM_CONTAINER);
	src_ep = bpf_map_lookup_elem(&lxc_devices, &ifindex);
	if (!src_ep)
		return pass_to_stack();
	if (skb->protocol == bpf_htons(ETH_P_ARP))
		return answer_arp(skb, src_ep);
	ip = routable_ipv4(skb, &eth);
	if (!ip)
		return pass_to_stack();

	dst_ep = bpf_map_lookup_elem(&endpoints, &ip->daddr);
	if (dst_ep)
		return deliver_to_pod(eth, ip, dst_ep);

	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	/* tot_len 0: the kernel checks the skb (GSO-aware) against the MTU. */
	fib.tot_len = 0;
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ifindex;
	/* Flags 0: a forwarding lookup, as the stack would do for a packet
	 * arriving on the lxc (policy rules, the lxc's forwarding setting). */
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);

	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		ipv4_decrease_ttl(ip);
		set_macs(eth, fib.smac, fib.dmac);
		count(CIL_REDIRECT);
		return bpf_redirect(fib.ifindex, 0);
	case BPF_FIB_LKUP_RET_NO_NEIGH: {
		struct bpf_redir_neigh nh = { .nh_family = fib.family };

		/* The lookup left the next hop (gateway or destination) in ipv4_dst. */
		nh.ipv4_nh = fib.ipv4_dst;
		ipv4_decrease_ttl(ip);
		count(CIL_REDIRECT_NEIGH);
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		/* For the node itself: the host stack delivers it. */
		return pass_to_stack();
	default:
		/* No route, blackhole, forwarding off, MTU: the stack answers with ICMP. */
		count(CIL_FIB_MISS);
		return pass_to_stack();
	}
}

/* bpf_host.c's from-netdev: endpoint lookup, then straight into the pod. */
SEC("tc")
int cil_from_netdev(struct __sk_buff *skb)
{
	const struct cilium_endpoint *ep;
	struct ethhdr *eth;
	struct iphdr *ip;

	count(CIL_FROM_NETDEV);
	ip = routable_ipv4(skb, &eth);
	if (!ip)
		return pass_to_stack();
	ep = bpf_map_lookup_elem(&endpoints, &ip->daddr);
	if (!ep)
		return pass_to_stack();
	return deliver_to_pod(eth, ip, ep);
}

char LICENSE[] SEC("license") = "GPL";
