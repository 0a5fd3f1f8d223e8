/*
 * Loads bpf/sockbypass.bpf.c: its sock_ops program goes on one netprof-*
 * cgroup (a link, beside any other sock_ops program there such as the hop
 * tracer's), its sk_msg program on the sockhash that sock_ops fills.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/log.h"
#include "datapath/cgroup_check.h"
#include "datapath/sockbypass.h"
#include "bpf/sockbypass.h"
#include "sockbypass.skel.h"

struct sockbypass {
	struct sockbypass_bpf *skel;
	struct bpf_link *sockops;
	bool msg_attached;
	int cgroup_fd;
};

int sockbypass_open(struct sockbypass **out, const char *cgroup_path)
{
	struct sockbypass *b;
	int err;

	*out = NULL;
	if (!cgroup_path)
		return -EINVAL;
	if ((err = datapath_cgroup_check("socket bypass", cgroup_path)))
		return err;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cgroup_fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->cgroup_fd < 0) {
		err = -errno;
		pr_warn("socket bypass: cannot open cgroup %s: %s", cgroup_path, strerror(errno));
		goto fail;
	}
	b->skel = sockbypass_bpf__open_and_load();
	if (!b->skel) {
		err = -errno;
		pr_warn("socket bypass: cannot load the sock_ops and sk_msg programs: %s",
			strerror(-err));
		goto fail;
	}
	/* The verdict first, so that no socket enters the hash without it. */
	err = bpf_prog_attach(bpf_program__fd(b->skel->progs.bypass_msg),
			      bpf_map__fd(b->skel->maps.sock_hash), BPF_SK_MSG_VERDICT, 0);
	if (err) {
		err = -errno;
		pr_warn("socket bypass: cannot attach sk_msg to the sockhash: %s", strerror(-err));
		goto fail;
	}
	b->msg_attached = true;
	b->sockops = bpf_program__attach_cgroup(b->skel->progs.bypass_sockops, b->cgroup_fd);
	if (!b->sockops) {
		err = -errno;
		pr_warn("socket bypass: cannot attach sock_ops to %s: %s", cgroup_path,
			strerror(-err));
		goto fail;
	}
	*out = b;
	return 0;
fail:
	sockbypass_close(b);
	return err;
}

void sockbypass_read(struct sockbypass *b, struct sockbypass_counts *c)
{
	const struct sockbypass_totals *t;

	memset(c, 0, sizeof(*c));
	if (!b)
		return;
	t = &b->skel->bss->totals;
	c->sockets = __atomic_load_n(&t->sockets, __ATOMIC_RELAXED);
	c->msgs_redirected = __atomic_load_n(&t->msgs_redirected, __ATOMIC_RELAXED);
	c->bytes_redirected = __atomic_load_n(&t->bytes_redirected, __ATOMIC_RELAXED);
	c->msgs_passed = __atomic_load_n(&t->msgs_passed, __ATOMIC_RELAXED);
}

void sockbypass_close(struct sockbypass *b)
{
	if (!b)
		return;
	bpf_link__destroy(b->sockops);
	if (b->msg_attached)
		bpf_prog_detach2(bpf_program__fd(b->skel->progs.bypass_msg),
				 bpf_map__fd(b->skel->maps.sock_hash), BPF_SK_MSG_VERDICT);
	sockbypass_bpf__destroy(b->skel);
	if (b->cgroup_fd >= 0)
		close(b->cgroup_fd);
	free(b);
}
