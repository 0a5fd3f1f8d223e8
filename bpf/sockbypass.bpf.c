// SPDX-License-Identifier: GPL-2.0
/*
 * The same-node socket bypass of istio-tcpip-bypass (and Merbridge,
 * Cilium's sockmap acceleration): a sock_ops program puts each TCP socket
 * that becomes established into a SOCKHASH under its 4-tuple, and an
 * sk_msg program on that hash redirects every sendmsg() to the socket of
 * the connection's other end with bpf_msg_redirect_hash(BPF_F_INGRESS):
 * the payload goes onto the peer's receive queue and never through TCP's
 * output, IP, a device or netfilter. Where the other end is not in the hash
 * (another node's socket) the message is left to TCP/IP.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sockbypass.h"

#define AF_INET 2
#define AF_INET6 10

/* An IPv4 connection on a dual-stack socket (::ffff:a.b.c.d at both ends),
 * as a server listening on every address accepts it: its IPv4 addresses
 * are in local_ip4/remote_ip4 as for an AF_INET socket. */
static __always_inline bool ipv4_connection(const struct bpf_sock_ops *ops)
{
	if (ops->family == AF_INET)
		return true;
	return ops->family == AF_INET6 && ops->remote_ip6[0] == 0 && ops->remote_ip6[1] == 0 &&
	       ops->remote_ip6[2] == bpf_htonl(0xffff) && ops->local_ip6[0] == 0 &&
	       ops->local_ip6[1] == 0 && ops->local_ip6[2] == bpf_htonl(0xffff);
}

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65536);
	__type(key, struct sockbypass_key);
	__type(value, __u64);
} sock_hash SEC(".maps");

struct sockbypass_totals totals = {};

SEC("sockops")
int bypass_sockops(struct bpf_sock_ops *ops)
{
	struct sockbypass_key key;

	if (ops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    ops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (!ipv4_connection(ops))
		return 1;
	key = (struct sockbypass_key){
		.local_ip4 = ops->local_ip4,
		.remote_ip4 = ops->remote_ip4,
		.local_port = ops->local_port,
		.remote_port = bpf_ntohl(ops->remote_port),
	};
	if (bpf_sock_hash_update(ops, &sock_hash, &key, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&totals.sockets, 1);
	return 1;
}

SEC("sk_msg")
int bypass_msg(struct sk_msg_md *msg)
{
	/* The peer socket's key: this one's seen from the other end. */
	struct sockbypass_key peer = {
		.local_ip4 = msg->remote_ip4,
		.remote_ip4 = msg->local_ip4,
		.local_port = bpf_ntohl(msg->remote_port),
		.remote_port = msg->local_port,
	};
	__u32 size = msg->size;

	if (bpf_msg_redirect_hash(msg, &sock_hash, &peer, BPF_F_INGRESS) == SK_PASS) {
		__sync_fetch_and_add(&totals.msgs_redirected, 1);
		__sync_fetch_and_add(&totals.bytes_redirected, size);
	} else {
		__sync_fetch_and_add(&totals.msgs_passed, 1);
	}
	/* A miss sets no redirect: SK_PASS sends the message the normal way. */
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
