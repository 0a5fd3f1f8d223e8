// SPDX-License-Identifier: GPL-2.0
/*
 * Socket-level load balancing as Cilium's kube-proxy replacement does it
 * (bpf/bpf_sock.c): connect() to a ClusterIP:port, and sendmsg() of an
 * unconnected UDP socket, are rewritten to a backend before the socket
 * routes anything, so every packet already carries the backend's address
 * (no DNAT, no conntrack NAT entry). getpeername() and recvmsg() give the
 * application back the ClusterIP it asked for, from a reverse map keyed by
 * socket cookie and backend, as Cilium's is.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "socklb.h"

#define SOCK_ADDR_ALLOW 1

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct socklb_service);
	__type(value, struct socklb_backend);
} services SEC(".maps");

/* LRU: a closed socket's entries age out instead of needing a close hook. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct socklb_reverse_key);
	__type(value, struct socklb_service);
} reverse SEC(".maps");

/* Connections and datagrams rewritten: one atomic add each, in the kernel. */
__u64 rewrites = 0;

/* Rewrites ctx's destination if it is a service; remembers the way back. */
static __always_inline void balance(struct bpf_sock_addr *ctx)
{
	struct socklb_service svc = { .vip = ctx->user_ip4, .port = ctx->user_port };
	struct socklb_reverse_key rev = {};
	struct socklb_backend *backend;

	backend = bpf_map_lookup_elem(&services, &svc);
	if (!backend)
		return;
	rev.cookie = bpf_get_socket_cookie(ctx);
	rev.backend = *backend;
	bpf_map_update_elem(&reverse, &rev, &svc, BPF_ANY);
	ctx->user_ip4 = backend->ip;
	ctx->user_port = backend->port;
	__sync_fetch_and_add(&rewrites, 1);
}

/* Shows the service instead of the backend the socket really talks to. */
static __always_inline void unbalance(struct bpf_sock_addr *ctx)
{
	struct socklb_reverse_key rev = {
		.cookie = bpf_get_socket_cookie(ctx),
		.backend = { .ip = ctx->user_ip4, .port = ctx->user_port },
	};
	struct socklb_service *svc = bpf_map_lookup_elem(&reverse, &rev);

	if (svc) {
		ctx->user_ip4 = svc->vip;
		ctx->user_port = svc->port;
	}
}

SEC("cgroup/connect4")
int socklb_connect4(struct bpf_sock_addr *ctx)
{
	balance(ctx);
	return SOCK_ADDR_ALLOW;
}

SEC("cgroup/sendmsg4")
int socklb_sendmsg4(struct bpf_sock_addr *ctx)
{
	balance(ctx);
	return SOCK_ADDR_ALLOW;
}

SEC("cgroup/getpeername4")
int socklb_getpeername4(struct bpf_sock_addr *ctx)
{
	unbalance(ctx);
	return SOCK_ADDR_ALLOW;
}

SEC("cgroup/recvmsg4")
int socklb_recvmsg4(struct bpf_sock_addr *ctx)
{
	unbalance(ctx);
	return SOCK_ADDR_ALLOW;
}

char LICENSE[] SEC("license") = "GPL";
