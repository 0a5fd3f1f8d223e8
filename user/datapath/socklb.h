/*
 * Socket-level load balancing, as Cilium's kube-proxy replacement does it
 * (bpf/bpf_sock.c): a cgroup/connect4 program rewrites a ClusterIP:port to a
 * backend at connect() time (sendmsg4 does it per datagram for unconnected
 * UDP; getpeername4 and recvmsg4 show the ClusterIP again), so no packet is
 * ever DNATed and conntrack holds no NAT entry.
 * Attached only to the run's own cgroup, never the cgroup root.
 */
#ifndef NETPROF_SOCKLB_H
#define NETPROF_SOCKLB_H

#include <stdint.h>

struct socklb;

int socklb_open(struct socklb **out, const char *cgroup_path);
/* All values in network byte order. */
int socklb_add_service(struct socklb *lb, uint32_t vip, uint16_t port, uint32_t backend_ip,
		       uint16_t backend_port);
/* Connections (connect) and unconnected UDP datagrams (sendmsg) rewritten so far. */
uint64_t socklb_rewrites(struct socklb *lb);
void socklb_close(struct socklb *lb);

#endif
