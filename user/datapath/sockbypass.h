/*
 * The same-node socket bypass (istio-tcpip-bypass): bpf/sockbypass.bpf.c's
 * sock_ops program on one netprof-* cgroup fills a sockhash with that
 * cgroup's established TCP sockets, and its sk_msg program on the hash
 * hands each sendmsg() straight to the peer socket.
 */
#ifndef NETPROF_SOCKBYPASS_H
#define NETPROF_SOCKBYPASS_H

#include <stdint.h>

struct sockbypass;

struct sockbypass_counts {
	uint64_t sockets, msgs_redirected, bytes_redirected, msgs_passed;
};

/* Loads and attaches; the cgroup must be a netprof-* one below the cgroup2
 * mount (as socklb_open checks). 0 or -errno after one pr_warn line. */
int sockbypass_open(struct sockbypass **out, const char *cgroup_path);
void sockbypass_read(struct sockbypass *b, struct sockbypass_counts *c);
/* Detaches both programs; the sockets leave the hash with the map. */
void sockbypass_close(struct sockbypass *b);

#endif
