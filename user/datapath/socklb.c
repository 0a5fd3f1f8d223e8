/*
 * Loads bpf/socklb.bpf.c and attaches its cgroup/connect4, sendmsg4,
 * getpeername4 and recvmsg4 programs to one netprof-* cgroup (never the
 * cgroup root): only sockets created by that cgroup's processes are balanced.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/cgroup.h"
#include "lib/log.h"
#include "datapath/cgroup_check.h"
#include "datapath/socklb.h"
#include "socklb.skel.h"
#include "bpf/socklb.h"

#define SOCKLB_PROGS 4

struct socklb {
	struct socklb_bpf *skel;
	struct bpf_link *links[SOCKLB_PROGS];
	int cgroup_fd;
};

int socklb_open(struct socklb **out, const char *cgroup_path)
{
	struct bpf_program *progs[SOCKLB_PROGS];
	struct socklb *lb;
	int err;

	*out = NULL;
	if (!cgroup_path)
		return -EINVAL;
	err = datapath_cgroup_check("socklb", cgroup_path);
	if (err)
		return err;
	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return -ENOMEM;
	lb->cgroup_fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lb->cgroup_fd < 0) {
		err = -errno;
		pr_warn("socklb: cannot open cgroup %s: %s", cgroup_path, strerror(errno));
		goto fail;
	}
	lb->skel = socklb_bpf__open_and_load();
	if (!lb->skel) {
		err = -errno;
		pr_warn("socklb: cannot load the cgroup programs: %s", strerror(-err));
		goto fail;
	}
	progs[0] = lb->skel->progs.socklb_connect4;
	progs[1] = lb->skel->progs.socklb_sendmsg4;
	progs[2] = lb->skel->progs.socklb_getpeername4;
	progs[3] = lb->skel->progs.socklb_recvmsg4;
	for (int i = 0; i < SOCKLB_PROGS; i++) {
		lb->links[i] = bpf_program__attach_cgroup(progs[i], lb->cgroup_fd);
		if (!lb->links[i]) {
			err = -errno;
			pr_warn("socklb: cannot attach %s to %s: %s",
				bpf_program__section_name(progs[i]), cgroup_path, strerror(-err));
			goto fail;
		}
	}
	*out = lb;
	return 0;
fail:
	socklb_close(lb);
	return err;
}

int socklb_add_service(struct socklb *lb, uint32_t vip, uint16_t port, uint32_t backend_ip,
		       uint16_t backend_port)
{
	struct socklb_service svc = { .vip = vip, .port = port };
	struct socklb_backend be = { .ip = backend_ip, .port = backend_port };
	int err;

	if (!lb)
		return -EINVAL;
	err = bpf_map__update_elem(lb->skel->maps.services, &svc, sizeof(svc), &be, sizeof(be),
				   BPF_ANY);
	if (err)
		pr_warn("socklb: cannot add a service: %s", strerror(-err));
	return err;
}

uint64_t socklb_rewrites(struct socklb *lb)
{
	if (!lb)
		return 0;
	return __atomic_load_n(&lb->skel->bss->rewrites, __ATOMIC_RELAXED);
}

void socklb_close(struct socklb *lb)
{
	if (!lb)
		return;
	/* Closing the links detaches the programs from the cgroup. */
	for (int i = SOCKLB_PROGS - 1; i >= 0; i--)
		bpf_link__destroy(lb->links[i]);
	socklb_bpf__destroy(lb->skel);
	if (lb->cgroup_fd >= 0)
		close(lb->cgroup_fd);
	free(lb);
}
