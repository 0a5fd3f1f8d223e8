/*
 * What Debian 12's libbpf 1.1 lacks and netprof needs, done by hand:
 *  - the "netfilter" SEC() (BPF_PROG_TYPE_NETFILTER, kernel 6.4; libbpf 1.3)
 *  - netfilter links (BPF_LINK_CREATE with attr.link_create.netfilter; libbpf 1.3
 *    bpf_program__attach_netfilter)
 *  - tcx links (kernel 6.6; libbpf 1.3 bpf_program__attach_tcx)
 * Numbers are the kernel UAPI's; /usr/include/linux/bpf.h here is 6.1's.
 */
#ifndef NETPROF_BPF_COMPAT_H
#define NETPROF_BPF_COMPAT_H

#include <stdbool.h>

#define NP_BPF_PROG_TYPE_NETFILTER 32
#define NP_BPF_NETFILTER 45
#define NP_BPF_TCX_INGRESS 46
#define NP_BPF_TCX_EGRESS 47

#define NP_NFPROTO_IPV4 2

/* Registers the missing SEC() handlers; call before opening any object. */
int bpf_compat_init(void);
/*
 * Attaches a netfilter program at `hooknum` (NF_INET_PRE_ROUTING=0 ...
 * POST_ROUTING=4) with `priority` in the calling thread's network namespace.
 * Returns the link fd or -errno.
 */
int nf_link_create(int prog_fd, int pf, int hooknum, int priority);
/* A tcx link on ifindex; returns the link fd or -errno. */
int tcx_link_create(int prog_fd, int ifindex, bool ingress);

#endif
