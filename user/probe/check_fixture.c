/*
 * The test fixture of `netprof check`: a veth pair between two throw-away
 * netprof-check-<pid>-* namespaces, the packets that prove a hook fires, and
 * the wording of a probe's verdict. Whatever a probe makes (namespaces, a
 * netprof-check-<pid> cgroup, a tracefs mount) is removed on every exit path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "lib/exec.h"
#include "lib/netns.h"
#include "lib/netns_admin.h"
#include "lib/teardown.h"
#include "probe/check_impl.h"

/* The kernel-internal ENOTSUPP that BPF attach paths leak to user space. */
#define ENOTSUPP_KERNEL 524

void set_result(struct check_result *r, enum check_verdict v, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

static const char *errno_name(int err)
{
	switch (err < 0 ? -err : err) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTSUPP_KERNEL: return "ENOTSUPP";
	case EACCES: return "EACCES";
	case ESRCH: return "ESRCH";
	case ENODEV: return "ENODEV";
	case E2BIG: return "E2BIG";
	case EBUSY: return "EBUSY";
	default: return "error";
	}
}

void set_error(struct check_result *r, const char *what, int err)
{
	err = err < 0 ? -err : err;
	set_result(r, CHECK_NO, "%s: %s (%s)", what,
		   err == ENOTSUPP_KERNEL ? "not supported" : strerror(err), errno_name(err));
}

static void remove_namespaces(void *arg)
{
	struct check_fixture *ctx = arg;

	netns_delete(ctx->ns_a);
	netns_delete(ctx->ns_b);
}

static void remove_cgroup(void *arg)
{
	struct check_fixture *ctx = arg;

	if (ctx->cgroup_path[0])
		cgroup_remove_tree(ctx->cgroup_path);
}

static void unmount_tracefs(void *arg)
{
	(void)arg;
	umount2(TRACEFS, MNT_DETACH);
}

int ip_in(const char *ns, const char *const argv[], char *err, size_t errlen)
{
	char out[512];
	int rc = run_cmd_full(ns, NULL, out, sizeof(out), RUN_TIMEOUT_MS, argv);

	if (rc != 0 && err)
		first_line(out, err, errlen);
	return rc;
}

void check_fixture_setup(struct check_fixture *ctx)
{
	char err[160] = "";
	int saved;

	snprintf(ctx->ns_a, sizeof(ctx->ns_a), "netprof-check-%d-a", (int)getpid());
	snprintf(ctx->ns_b, sizeof(ctx->ns_b), "netprof-check-%d-b", (int)getpid());
	teardown_register(remove_namespaces, ctx);
	if (netns_create(ctx->ns_a) || netns_create(ctx->ns_b)) {
		snprintf(ctx->veth_error, sizeof(ctx->veth_error), "cannot create test namespaces");
		return;
	}
	if (IP_IN(ctx->ns_a, err, sizeof(err), "link", "add", CHECK_DEV_A, "type", "veth", "peer",
		  "name", CHECK_DEV_B, "netns", ctx->ns_b) ||
	    IP_IN(ctx->ns_a, err, sizeof(err), "addr", "add", CHECK_ADDR_A "/30", "dev", CHECK_DEV_A) ||
	    IP_IN(ctx->ns_b, err, sizeof(err), "addr", "add", CHECK_ADDR_B "/30", "dev", CHECK_DEV_B) ||
	    IP_IN(ctx->ns_a, err, sizeof(err), "link", "set", CHECK_DEV_A, "up") ||
	    IP_IN(ctx->ns_b, err, sizeof(err), "link", "set", CHECK_DEV_B, "up") ||
	    IP_IN(ctx->ns_a, err, sizeof(err), "link", "set", "lo", "up")) {
		snprintf(ctx->veth_error, sizeof(ctx->veth_error), "veth pair: %s", err);
		return;
	}
	saved = netns_enter(ctx->ns_a);
	if (saved < 0) {
		snprintf(ctx->veth_error, sizeof(ctx->veth_error), "cannot enter %s", ctx->ns_a);
		return;
	}
	ctx->ifindex_a = if_nametoindex(CHECK_DEV_A);
	netns_leave(saved);
	ctx->veth_ok = ctx->ifindex_a > 0;
}

/* UDP datagrams from ns B to ns A: they cross the veth into CHECK_DEV_A's
 * ingress (tc, XDP) and A's PREROUTING (netfilter). */
int send_probe_packets(struct check_fixture *ctx, int count)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9) };
	int saved = netns_enter(ctx->ns_b), fd, sent = 0;

	if (saved < 0)
		return saved;
	inet_pton(AF_INET, CHECK_ADDR_A, &dst.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int i = 0; fd >= 0 && i < count; i++)
		if (sendto(fd, "netprof", 7, 0, (struct sockaddr *)&dst, sizeof(dst)) == 7)
			sent++;
	if (fd >= 0)
		close(fd);
	netns_leave(saved);
	/* Let the receive softirq run on the other side of the veth. */
	nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
	return sent;
}

bool need_veth(struct check_fixture *ctx, struct check_result *r)
{
	if (!ctx->veth_ok)
		set_result(r, CHECK_NO, "not tested: no veth pair (%s)", ctx->veth_error);
	return ctx->veth_ok;
}

void fixture_adopt_cgroup(struct check_fixture *ctx)
{
	teardown_register(remove_cgroup, ctx);
}

void fixture_adopt_tracefs(struct check_fixture *ctx)
{
	ctx->tracefs_mounted_by_us = true;
	teardown_register(unmount_tracefs, NULL);
}
