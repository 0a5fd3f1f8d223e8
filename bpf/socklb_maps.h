/*
 * Shared between bpf/socklb.bpf.c and user/socklb.c. Addresses and ports in
 * network byte order, ports zero-extended to __u32 as bpf_sock_addr holds them.
 * (Named _maps.h: user/socklb.h is the library's interface, and both
 * directories are on the include path.)
 */
#ifndef NETPROF_SOCKLB_MAPS_H
#define NETPROF_SOCKLB_MAPS_H

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
