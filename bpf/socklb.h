/*
 * Shared between bpf/socklb.bpf.c and user/datapath/socklb.c. Addresses and
 * ports in network byte order, ports zero-extended to __u32 as bpf_sock_addr
 * holds them.
 */
#ifndef NETPROF_BPF_SOCKLB_H
#define NETPROF_BPF_SOCKLB_H

struct socklb_service {
	__u32 vip;
	__u32 port;
};

struct socklb_backend {
	__u32 ip;
	__u32 port;
};

/* Which service a socket reached through a backend: Cilium's lb4_reverse_sk. */
struct socklb_reverse_key {
	__u64 cookie;		/* bpf_get_socket_cookie */
	struct socklb_backend backend;
};

#endif
