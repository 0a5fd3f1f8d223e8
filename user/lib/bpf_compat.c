#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/bpf_compat.h"

int bpf_compat_init(void)
{
	static bool done;
	int err;

	if (done)
		return 0;
	err = libbpf_register_prog_handler("netfilter", NP_BPF_PROG_TYPE_NETFILTER,
					   NP_BPF_NETFILTER, NULL);
	if (err < 0)
		return err;
	done = true;
	return 0;
}

/* The prefix of union bpf_attr's link_create that a netfilter link uses. */
struct nf_link_create_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u32 pf;
	__u32 hooknum;
	__s32 priority;
	__u32 nf_flags;
};

int nf_link_create(int prog_fd, int pf, int hooknum, int priority)
{
	struct nf_link_create_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = prog_fd;
	attr.attach_type = NP_BPF_NETFILTER;
	attr.pf = pf;
	attr.hooknum = hooknum;
	attr.priority = priority;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

int tcx_link_create(int prog_fd, int ifindex, bool ingress)
{
	int fd = bpf_link_create(prog_fd, ifindex,
				 ingress ? NP_BPF_TCX_INGRESS : NP_BPF_TCX_EGRESS, NULL);

	return fd < 0 ? -errno : fd;
}
