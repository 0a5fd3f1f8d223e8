// SPDX-License-Identifier: GPL-2.0
/*
 * Tiny programs that `netprof check` loads and attaches one at a time to learn
 * what this kernel really allows. Each does the least work that still needs
 * the feature (a helper call, a kfunc, an attach point), so a verifier or
 * attach refusal means the feature is missing, not that the probe is wrong.
 * All are autoload=false in user space; the probe enables exactly one.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define TC_ACT_OK 0
#define NF_ACCEPT 1

const volatile __u32 target_ifindex = 1;
__u64 hits = 0;

/* Weak: a kernel without the kfunc (before 6.2) must still load every other
 * probe of this object; libbpf refuses the whole object over a strong ksym it
 * cannot resolve, even when the program that calls it is not loaded. */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} probe_sockhash SEC(".maps");

SEC("tc")
int probe_tc(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&hits, 1);
	return TC_ACT_OK;
}

SEC("tc")
int probe_kern_ctx(struct __sk_buff *ctx)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);

	__sync_fetch_and_add(&hits, skb->len);
	return TC_ACT_OK;
}

SEC("tc")
int probe_redirect_peer(struct __sk_buff *skb)
{
	return bpf_redirect_peer(target_ifindex, 0);
}

SEC("tc")
int probe_redirect_neigh(struct __sk_buff *skb)
{
	return bpf_redirect_neigh(target_ifindex, NULL, 0, 0);
}

SEC("tc")
int probe_fib_lookup(struct __sk_buff *skb)
{
	struct bpf_fib_lookup params = { .family = 2, .ifindex = skb->ifindex };

	return bpf_fib_lookup(skb, &params, sizeof(params), 0) == 0 ? TC_ACT_OK : TC_ACT_OK;
}

SEC("xdp")
int probe_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("sockops")
int probe_sockops(struct bpf_sock_ops *ops)
{
	return 1;
}

SEC("sk_msg")
int probe_sk_msg(struct sk_msg_md *msg)
{
	return bpf_msg_redirect_hash(msg, &probe_sockhash, &(__u32){ 0 }, BPF_F_INGRESS);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(probe_tp_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("raw_tp/sched_switch")
int probe_raw_tp(void *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("tracepoint/net/netif_receive_skb")
int probe_tracepoint(void *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("fentry/ip_rcv")
int BPF_PROG(probe_fentry, struct sk_buff *skb)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("fexit/ip_rcv")
int BPF_PROG(probe_fexit, struct sk_buff *skb, struct net_device *dev, struct packet_type *pt,
	     struct net_device *orig_dev, int ret)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("kprobe/ip_rcv")
int probe_kprobe(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("kprobe.multi/ip_rcv")
int probe_kprobe_multi(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("perf_event")
int probe_perf_event(void *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

/* The netfilter section is registered at run time: libbpf 1.1 predates it. */
SEC("netfilter")
int probe_netfilter(struct bpf_nf_ctx *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return NF_ACCEPT;
}

char LICENSE[] SEC("license") = "GPL";
