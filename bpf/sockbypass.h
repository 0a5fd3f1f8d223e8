/*
 * Shared between bpf/sockbypass.bpf.c and user/datapath/sockbypass.c.
 */
#ifndef NETPROF_BPF_SOCKBYPASS_H
#define NETPROF_BPF_SOCKBYPASS_H

/* A TCP connection seen from one of its sockets: addresses in network
 * order, ports in host order (as bpf_sock_ops gives the local one). */
struct sockbypass_key {
	__u32 local_ip4;
	__u32 remote_ip4;
	__u32 local_port;
	__u32 remote_port;
};

/* What the programs did, summed over the run. */
struct sockbypass_totals {
	__u64 sockets;		/* established sockets put in the sockhash */
	__u64 msgs_redirected;	/* sendmsg()s moved straight to the peer socket */
	__u64 bytes_redirected;
	__u64 msgs_passed;	/* no peer socket in the hash: left to TCP/IP */
};

#endif
