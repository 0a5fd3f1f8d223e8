/*
 * netprof check: what this kernel offers a datapath profiler.
 *
 * Every verdict comes from doing the thing: loading a tiny program from
 * bpf/check.bpf.c and attaching it where netprof would (a veth in a test
 * namespace, a netprof cgroup, a tracepoint), and where traffic can prove it,
 * sending a few packets and reading the program's counter. Nothing is
 * inferred from the kernel version. Test objects live in netprof-check-<pid>-*
 * namespaces and a netprof-check-<pid> cgroup, removed on every exit path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "lib/bpf_compat.h"
#include "lib/cgroup.h"
#include "check.skel.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/exec.h"
#include "probe/feature_probe.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/netns_admin.h"
#include "lib/output.h"
#include "lib/teardown.h"

#define TRACEFS "/sys/kernel/tracing"
/* The kernel-internal ENOTSUPP that BPF attach paths leak to user space. */
#define ENOTSUPP_KERNEL 524

/* Addresses of the probe's own veth pair, from the benchmarking range. */
#define CHECK_ADDR_A "198.19.255.1"
#define CHECK_ADDR_B "198.19.255.2"
#define CHECK_DEV_A "netprof-ca"
#define CHECK_DEV_B "netprof-cb"

enum verdict { VERDICT_YES, VERDICT_NO, VERDICT_PARTIAL };

struct probe_result {
	enum verdict verdict;
	char detail[200];
};

struct check_ctx {
	char ns_a[64], ns_b[64];	/* A holds CHECK_DEV_A, B its peer */
	bool veth_ok;
	char veth_error[160];
	int ifindex_a;			/* CHECK_DEV_A inside ns_a */
	char cgroup_path[PATH_MAX];
	bool tracefs_mounted_by_us;
};

struct probe {
	const char *key;	/* JSON name */
	const char *group;
	const char *label;	/* text table */
	void (*run)(struct check_ctx *ctx, struct probe_result *r);
	const char *instead;	/* what netprof does when it is missing */
};

static void set_result(struct probe_result *r, enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_result(struct probe_result *r, enum verdict v, const char *fmt, ...)
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

static void set_error(struct probe_result *r, const char *what, int err)
{
	err = err < 0 ? -err : err;
	set_result(r, VERDICT_NO, "%s: %s (%s)", what,
		   err == ENOTSUPP_KERNEL ? "not supported" : strerror(err), errno_name(err));
}

/* ---- the probe skeleton: open with exactly one program enabled ---- */

static struct check_bpf *open_with(struct bpf_program *(*pick)(struct check_bpf *),
				   int *err)
{
	struct check_bpf *skel = check_bpf__open();
	struct bpf_program *prog, *wanted;

	if (!skel) {
		*err = -errno;
		return NULL;
	}
	wanted = pick(skel);
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == wanted);
	*err = 0;
	return skel;
}

static struct check_bpf *load_with(struct bpf_program *(*pick)(struct check_bpf *), int *err)
{
	struct check_bpf *skel = open_with(pick, err);

	if (!skel)
		return NULL;
	*err = check_bpf__load(skel);
	if (*err) {
		check_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

#define PICK(name)								\
	static struct bpf_program *pick_##name(struct check_bpf *s)		\
	{ return s->progs.name; }
PICK(probe_tc)
PICK(probe_kern_ctx)
PICK(probe_redirect_peer)
PICK(probe_redirect_neigh)
PICK(probe_fib_lookup)
PICK(probe_xdp)
PICK(probe_sockops)
PICK(probe_sk_msg)
PICK(probe_tp_btf)
PICK(probe_raw_tp)
PICK(probe_tracepoint)
PICK(probe_fentry)
PICK(probe_fexit)
PICK(probe_kprobe)
PICK(probe_kprobe_multi)
PICK(probe_perf_event)
PICK(probe_netfilter)

/* ---- the test namespaces ---- */

static void remove_namespaces(void *arg)
{
	struct check_ctx *ctx = arg;

	netns_delete(ctx->ns_a);
	netns_delete(ctx->ns_b);
}

static void remove_cgroup(void *arg)
{
	struct check_ctx *ctx = arg;

	if (ctx->cgroup_path[0])
		cgroup_remove_tree(ctx->cgroup_path);
}

static void unmount_tracefs(void *arg)
{
	(void)arg;
	umount2(TRACEFS, MNT_DETACH);
}

static int ip_in(const char *ns, const char *const argv[], char *err, size_t errlen)
{
	char out[512];
	int rc = run_cmd_full(ns, NULL, out, sizeof(out), RUN_TIMEOUT_MS, argv);

	if (rc != 0 && err)
		first_line(out, err, errlen);
	return rc;
}

#define IP_IN(ns, err, errlen, ...) ip_in(ns, (const char *const[]){ "ip", __VA_ARGS__, NULL }, err, errlen)

static void setup_namespaces(struct check_ctx *ctx)
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
static int send_probe_packets(struct check_ctx *ctx, int count)
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

static bool need_veth(struct check_ctx *ctx, struct probe_result *r)
{
	if (!ctx->veth_ok)
		set_result(r, VERDICT_NO, "not tested: no veth pair (%s)", ctx->veth_error);
	return ctx->veth_ok;
}

/* ---- BTF and tracefs ---- */

static void probe_btf_vmlinux(struct check_ctx *ctx, struct probe_result *r)
{
	struct btf *btf;

	(void)ctx;
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		set_error(r, "no kernel BTF", errno);
		return;
	}
	set_result(r, VERDICT_YES, "/sys/kernel/btf/vmlinux: %u types", btf__type_cnt(btf));
	btf__free(btf);
}

static void probe_btf_modules(struct check_ctx *ctx, struct probe_result *r)
{
	DIR *d = opendir("/sys/kernel/btf");
	struct dirent *e;
	unsigned n = 0;

	(void)ctx;
	if (!d) {
		set_error(r, "/sys/kernel/btf", errno);
		return;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "vmlinux"))
			n++;
	closedir(d);
	if (n)
		set_result(r, VERDICT_YES, "%u loaded modules carry BTF", n);
	else
		set_result(r, VERDICT_PARTIAL,
			   "no module BTF loaded (netfilter, veth, macvlan are built in here)");
}

static bool tracefs_is_mounted(void)
{
	char path[PATH_MAX];
	FILE *f = fopen("/proc/mounts", "r");
	char type[64];
	bool found = false;

	if (!f)
		return false;
	while (fscanf(f, "%*s %4095s %63s %*s %*d %*d", path, type) == 2)
		if (!strcmp(type, "tracefs") && !strcmp(path, TRACEFS))
			found = true;
	fclose(f);
	return found;
}

static void probe_tracefs(struct check_ctx *ctx, struct probe_result *r)
{
	if (tracefs_is_mounted()) {
		set_result(r, VERDICT_YES, "mounted at " TRACEFS);
		return;
	}
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) < 0) {
		set_error(r, "not mounted, and mounting it failed", errno);
		return;
	}
	ctx->tracefs_mounted_by_us = true;
	teardown_register(unmount_tracefs, NULL);
	set_result(r, VERDICT_YES, "was not mounted: netprof mounts " TRACEFS " while it runs");
}

/* ---- tc, tcx, XDP ---- */

static void probe_tc(struct check_ctx *ctx, struct probe_result *r)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	struct check_bpf *skel;
	int err, saved, sent;

	if (!need_veth(ctx, r))
		return;
	skel = load_with(pick_probe_tc, &err);
	if (!skel) {
		set_error(r, "tc program load", err);
		return;
	}
	saved = netns_enter(ctx->ns_a);
	hook.ifindex = ctx->ifindex_a;
	opts.prog_fd = bpf_program__fd(skel->progs.probe_tc);
	err = bpf_tc_hook_create(&hook);
	if (!err || err == -EEXIST)
		err = bpf_tc_attach(&hook, &opts);
	netns_leave(saved);
	if (err) {
		set_error(r, "clsact ingress attach", err);
		goto out;
	}
	sent = send_probe_packets(ctx, 5);
	if (skel->bss->hits >= 5)
		set_result(r, VERDICT_YES, "clsact ingress on a veth: counted %llu packets after %d were sent",
			   (unsigned long long)skel->bss->hits, sent);
	else
		set_result(r, VERDICT_PARTIAL, "attached, but counted %llu packets after %d were sent",
			   (unsigned long long)skel->bss->hits, sent);
	saved = netns_enter(ctx->ns_a);
	opts.flags = opts.prog_fd = opts.prog_id = 0;
	bpf_tc_detach(&hook, &opts);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
	netns_leave(saved);
out:
	check_bpf__destroy(skel);
}

static void probe_tcx(struct check_ctx *ctx, struct probe_result *r)
{
	struct check_bpf *skel;
	int err, saved, link;

	if (!need_veth(ctx, r))
		return;
	skel = load_with(pick_probe_tc, &err);
	if (!skel) {
		set_error(r, "tc program load", err);
		return;
	}
	saved = netns_enter(ctx->ns_a);
	link = tcx_link_create(bpf_program__fd(skel->progs.probe_tc), ctx->ifindex_a, true);
	netns_leave(saved);
	if (link < 0) {
		set_error(r, "tcx link", link);
	} else {
		send_probe_packets(ctx, 3);
		set_result(r, skel->bss->hits >= 3 ? VERDICT_YES : VERDICT_PARTIAL,
			   "tcx ingress link on a veth: counted %llu packets after 3 were sent",
			   (unsigned long long)skel->bss->hits);
		close(link);
	}
	check_bpf__destroy(skel);
}

static void probe_xdp_mode(struct check_ctx *ctx, struct probe_result *r, __u32 mode,
			   const char *name)
{
	struct check_bpf *skel;
	int err, saved;

	if (!need_veth(ctx, r))
		return;
	skel = load_with(pick_probe_xdp, &err);
	if (!skel) {
		set_error(r, "XDP program load", err);
		return;
	}
	saved = netns_enter(ctx->ns_a);
	err = bpf_xdp_attach(ctx->ifindex_a, bpf_program__fd(skel->progs.probe_xdp), mode, NULL);
	if (!err)
		bpf_xdp_detach(ctx->ifindex_a, mode, NULL);
	netns_leave(saved);
	if (err)
		set_error(r, name, err);
	else
		set_result(r, VERDICT_YES, "%s attached to a veth", name);
	check_bpf__destroy(skel);
}

static void probe_xdp_native(struct check_ctx *ctx, struct probe_result *r)
{
	probe_xdp_mode(ctx, r, XDP_FLAGS_DRV_MODE, "native (driver) XDP");
}

static void probe_xdp_generic(struct check_ctx *ctx, struct probe_result *r)
{
	probe_xdp_mode(ctx, r, XDP_FLAGS_SKB_MODE, "generic (skb) XDP");
}

/* ---- helpers and kfuncs the datapaths and hop tracer use ---- */

static void probe_loads(struct probe_result *r, struct bpf_program *(*pick)(struct check_bpf *),
			const char *what)
{
	struct check_bpf *skel;
	int err;

	skel = load_with(pick, &err);
	if (!skel) {
		set_error(r, "verifier refused it", err);
		return;
	}
	set_result(r, VERDICT_YES, "%s", what);
	check_bpf__destroy(skel);
}

/* True when the kernel's BTF names the function (kfuncs are BTF functions). */
static bool kernel_has_btf_func(const char *name)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (!btf)
		return true; /* unknown: let the verifier decide */
	found = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return found;
}

static void probe_kern_ctx(struct check_ctx *ctx, struct probe_result *r)
{
	(void)ctx;
	/* The kfunc came with 6.2; without it the verifier says only EINVAL. */
	if (!kernel_has_btf_func("bpf_cast_to_kern_ctx")) {
		set_result(r, VERDICT_NO, "kfunc not in this kernel's BTF (added in 6.2)");
		return;
	}
	probe_loads(r, pick_probe_kern_ctx, "tc program read the kernel sk_buff through the kfunc");
}

static void probe_redirect_peer(struct check_ctx *ctx, struct probe_result *r)
{
	(void)ctx;
	probe_loads(r, pick_probe_redirect_peer, "helper accepted by the verifier in a tc program");
}

static void probe_redirect_neigh(struct check_ctx *ctx, struct probe_result *r)
{
	(void)ctx;
	probe_loads(r, pick_probe_redirect_neigh, "helper accepted by the verifier in a tc program");
}

static void probe_fib_lookup(struct check_ctx *ctx, struct probe_result *r)
{
	(void)ctx;
	probe_loads(r, pick_probe_fib_lookup, "helper accepted by the verifier in a tc program");
}

static void probe_ringbuf(struct check_ctx *ctx, struct probe_result *r)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "netprof_rb", 0, 0, 4096, NULL);

	(void)ctx;
	if (fd < 0) {
		set_error(r, "ring buffer map", fd);
		return;
	}
	close(fd);
	set_result(r, VERDICT_YES, "BPF_MAP_TYPE_RINGBUF created");
}

static void probe_sockmap(struct check_ctx *ctx, struct probe_result *r)
{
	struct check_bpf *skel;
	int err;

	(void)ctx;
	skel = load_with(pick_probe_sk_msg, &err);
	if (!skel) {
		set_error(r, "sk_msg program load", err);
		return;
	}
	err = bpf_prog_attach(bpf_program__fd(skel->progs.probe_sk_msg),
			      bpf_map__fd(skel->maps.probe_sockhash), BPF_SK_MSG_VERDICT, 0);
	if (err) {
		set_error(r, "sk_msg attach to a sockhash", err);
	} else {
		bpf_prog_detach2(bpf_program__fd(skel->progs.probe_sk_msg),
				 bpf_map__fd(skel->maps.probe_sockhash), BPF_SK_MSG_VERDICT);
		set_result(r, VERDICT_YES, "sk_msg verdict attached to a sockhash");
	}
	check_bpf__destroy(skel);
}

/* ---- hooks: cgroup, netfilter, tracepoints, fentry, kprobes, perf ---- */

static void probe_sockops(struct check_ctx *ctx, struct probe_result *r)
{
	char name[64], root[PATH_MAX];
	struct check_bpf *skel;
	int err, cg;

	if (cgroup2_mount(root, sizeof(root)) < 0) {
		set_result(r, VERDICT_NO, "no cgroup v2 mount in /proc/mounts");
		return;
	}
	snprintf(name, sizeof(name), "netprof-check-%d", (int)getpid());
	err = cgroup_create(name, ctx->cgroup_path, sizeof(ctx->cgroup_path));
	if (err) {
		ctx->cgroup_path[0] = '\0';
		set_error(r, "cannot create a netprof cgroup", err);
		return;
	}
	teardown_register(remove_cgroup, ctx);
	skel = load_with(pick_probe_sockops, &err);
	if (!skel) {
		set_error(r, "sock_ops program load", err);
		return;
	}
	cg = open(ctx->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = cg < 0 ? -errno
		     : bpf_prog_attach(bpf_program__fd(skel->progs.probe_sockops), cg,
				       BPF_CGROUP_SOCK_OPS, 0);
	if (err) {
		set_error(r, "attach to a netprof cgroup", err);
	} else {
		bpf_prog_detach2(bpf_program__fd(skel->progs.probe_sockops), cg, BPF_CGROUP_SOCK_OPS);
		set_result(r, VERDICT_YES, "cgroup v2 at %s; attached to a netprof cgroup", root);
	}
	if (cg >= 0)
		close(cg);
	check_bpf__destroy(skel);
}

static void probe_netfilter(struct check_ctx *ctx, struct probe_result *r)
{
	struct check_bpf *skel;
	int err, saved, link;

	if (!need_veth(ctx, r))
		return;
	skel = load_with(pick_probe_netfilter, &err);
	if (!skel) {
		set_error(r, "netfilter program load", err);
		return;
	}
	saved = netns_enter(ctx->ns_a);
	/* PREROUTING (0) at -500: before raw (-300) and conntrack (-200). */
	link = nf_link_create(bpf_program__fd(skel->progs.probe_netfilter), NP_NFPROTO_IPV4, 0,
			      -500);
	netns_leave(saved);
	if (link < 0) {
		set_error(r, "netfilter link", link);
	} else {
		int sent = send_probe_packets(ctx, 5);

		set_result(r, skel->bss->hits >= 5 ? VERDICT_YES : VERDICT_PARTIAL,
			   "PREROUTING hook at priority -500: counted %llu packets after %d were sent",
			   (unsigned long long)skel->bss->hits, sent);
		close(link);
	}
	check_bpf__destroy(skel);
}

/* Attaches a tracing program and waits briefly for sched_switch to fire. */
static void probe_attach_and_hit(struct probe_result *r,
				 struct bpf_program *(*pick)(struct check_bpf *),
				 struct bpf_program *(*prog_of)(struct check_bpf *),
				 const char *what, bool needs_traffic, struct check_ctx *ctx)
{
	struct check_bpf *skel;
	struct bpf_link *link;
	int err;

	skel = load_with(pick, &err);
	if (!skel) {
		set_error(r, "load refused", err);
		return;
	}
	link = bpf_program__attach(prog_of(skel));
	if (!link) {
		set_error(r, "attach refused", -errno);
		goto out;
	}
	if (needs_traffic && ctx->veth_ok)
		send_probe_packets(ctx, 3);
	for (int i = 0; i < 50 && !skel->bss->hits; i++) {
		sched_yield();
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	if (skel->bss->hits)
		set_result(r, VERDICT_YES, "%s: fired %llu times", what,
			   (unsigned long long)skel->bss->hits);
	else
		set_result(r, VERDICT_PARTIAL, "%s: attached but never fired", what);
	bpf_link__destroy(link);
out:
	check_bpf__destroy(skel);
}

static void probe_tp_btf(struct check_ctx *ctx, struct probe_result *r)
{
	probe_attach_and_hit(r, pick_probe_tp_btf, pick_probe_tp_btf, "tp_btf/sched_switch", false,
			     ctx);
}

static void probe_raw_tp(struct check_ctx *ctx, struct probe_result *r)
{
	probe_attach_and_hit(r, pick_probe_raw_tp, pick_probe_raw_tp, "raw_tp/sched_switch", false,
			     ctx);
}

static void probe_tracepoint(struct check_ctx *ctx, struct probe_result *r)
{
	probe_attach_and_hit(r, pick_probe_tracepoint, pick_probe_tracepoint,
			     "tracepoint/net/netif_receive_skb", true, ctx);
}

static void probe_fentry(struct check_ctx *ctx, struct probe_result *r)
{
	probe_attach_and_hit(r, pick_probe_fentry, pick_probe_fentry, "fentry/ip_rcv", true, ctx);
}

static void probe_fexit(struct check_ctx *ctx, struct probe_result *r)
{
	probe_attach_and_hit(r, pick_probe_fexit, pick_probe_fexit, "fexit/ip_rcv", true, ctx);
}

static void probe_kprobe(struct check_ctx *ctx, struct probe_result *r)
{
	probe_attach_and_hit(r, pick_probe_kprobe, pick_probe_kprobe, "kprobe/ip_rcv", true, ctx);
}

static void probe_kprobe_multi(struct check_ctx *ctx, struct probe_result *r)
{
	probe_attach_and_hit(r, pick_probe_kprobe_multi, pick_probe_kprobe_multi,
			     "kprobe.multi/ip_rcv", true, ctx);
}

static void probe_perf(struct probe_result *r, __u32 type, __u64 config, const char *what)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr), .type = type, .config = config,
		.freq = 1, .sample_freq = 99,
	};
	struct check_bpf *skel;
	struct bpf_link *link;
	int err, fd;

	fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		set_error(r, what, errno);
		return;
	}
	skel = load_with(pick_probe_perf_event, &err);
	if (!skel) {
		set_error(r, "perf_event program load", err);
		close(fd);
		return;
	}
	link = bpf_program__attach_perf_event(skel->progs.probe_perf_event, fd);
	if (!link) {
		set_error(r, "BPF attach to the event", -errno);
		close(fd);
	} else {
		set_result(r, VERDICT_YES, "%s: opened on CPU 0, BPF program attached", what);
		bpf_link__destroy(link);	/* closes fd */
	}
	check_bpf__destroy(skel);
}

static void probe_perf_cycles(struct check_ctx *ctx, struct probe_result *r)
{
	(void)ctx;
	probe_perf(r, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "hardware cycles");
}

static void probe_perf_cpu_clock(struct check_ctx *ctx, struct probe_result *r)
{
	(void)ctx;
	probe_perf(r, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, "software cpu-clock");
}

/* ---- kernel pieces the emulated datapaths need ---- */

static void probe_link_kind(struct check_ctx *ctx, struct probe_result *r, const char *kind,
			    const char *const argv[])
{
	char err[160] = "";

	if (!need_veth(ctx, r))
		return;
	if (ip_in(ctx->ns_a, argv, err, sizeof(err)) == 0) {
		set_result(r, VERDICT_YES, "%s device created in a test namespace", kind);
		IP_IN(ctx->ns_a, NULL, 0, "link", "delete", argv[3]);
	} else {
		set_result(r, VERDICT_NO, "%s device refused: %s", kind, err);
	}
}

#define LINK_PROBE(fn, kind, ...)						\
	static void fn(struct check_ctx *ctx, struct probe_result *r)		\
	{ probe_link_kind(ctx, r, kind, (const char *const[]){ "ip", "link", "add", __VA_ARGS__, NULL }); }

LINK_PROBE(probe_veth_kind, "veth", "netprof-cv0", "type", "veth", "peer", "name", "netprof-cv1")
LINK_PROBE(probe_macvlan, "macvlan", "netprof-cm0", "link", CHECK_DEV_A, "type", "macvlan",
	   "mode", "bridge")
LINK_PROBE(probe_ipvlan, "ipvlan", "netprof-ci0", "link", CHECK_DEV_A, "type", "ipvlan", "mode",
	   "l2")
LINK_PROBE(probe_vxlan, "vxlan", "netprof-cx0", "type", "vxlan", "id", "4096", "dstport", "4789",
	   "dev", CHECK_DEV_A)
LINK_PROBE(probe_bridge, "bridge", "netprof-cbr0", "type", "bridge")

/* Loads a ruleset with the given restore binary inside test namespace A. */
static void probe_rules(struct check_ctx *ctx, struct probe_result *r, const char *binary,
			const char *rules, const char *what)
{
	char out[512], line[160];
	int rc;

	if (!need_veth(ctx, r))
		return;
	rc = run_cmd_full(ctx->ns_a, rules, out, sizeof(out), RUN_TIMEOUT_MS,
			  (const char *const[]){ binary, "-w", NULL });
	if (rc == 0)
		set_result(r, VERDICT_YES, "%s loaded with %s in a test namespace", what, binary);
	else if (rc == 127)
		set_result(r, VERDICT_NO, "%s not found (apt-get install iptables)", binary);
	else
		set_result(r, VERDICT_NO, "%s refused by %s: %s", what, binary,
			   first_line(out, line, sizeof(line)));
}

static void probe_iptables_legacy(struct check_ctx *ctx, struct probe_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n",
		    "a filter table");
}

static void probe_iptables_nft(struct check_ctx *ctx, struct probe_result *r)
{
	probe_rules(ctx, r, "iptables-nft-restore",
		    "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n",
		    "a filter table");
}

static void probe_conntrack(struct check_ctx *ctx, struct probe_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*filter\n:FORWARD ACCEPT [0:0]\n"
		    "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n",
		    "a conntrack state match");
}

static void probe_nat_redirect(struct check_ctx *ctx, struct probe_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*nat\n:OUTPUT ACCEPT [0:0]\n"
		    "-A OUTPUT -p tcp --dport 15 -j REDIRECT --to-ports 15001\n"
		    "-A OUTPUT -p tcp --dport 16 -j DNAT --to-destination 198.19.255.2:80\nCOMMIT\n",
		    "nat REDIRECT and DNAT");
}

static void probe_statistic(struct check_ctx *ctx, struct probe_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*nat\n:PREROUTING ACCEPT [0:0]\n"
		    "-A PREROUTING -m statistic --mode random --probability 0.5 -j RETURN\nCOMMIT\n",
		    "a statistic random match");
}

static void probe_owner(struct check_ctx *ctx, struct probe_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*nat\n:OUTPUT ACCEPT [0:0]\n"
		    "-A OUTPUT -m owner --uid-owner 1337 -j RETURN\nCOMMIT\n",
		    "an owner (uid 1337) match");
}

static void probe_nftables(struct check_ctx *ctx, struct probe_result *r)
{
	char out[512], line[160];
	int rc;

	if (!need_veth(ctx, r))
		return;
	rc = run_cmd_full(ctx->ns_a,
			  "table ip netprof_check {\n chain c {\n  type filter hook input priority 0;\n }\n}\n",
			  out, sizeof(out), RUN_TIMEOUT_MS,
			  (const char *const[]){ "nft", "-f", "-", NULL });
	if (rc == 0)
		set_result(r, VERDICT_YES, "an nftables base chain loaded with nft");
	else
		set_result(r, VERDICT_NO, "nft: %s",
			   rc == 127 ? "not found" : first_line(out, line, sizeof(line)));
}

static const struct probe probes[] = {
	{ "btf_vmlinux", "bpf", "BTF (vmlinux)", probe_btf_vmlinux,
	  "none: CO-RE programs need kernel BTF (CONFIG_DEBUG_INFO_BTF=y); netprof cannot trace" },
	{ "btf_modules", "bpf", "BTF (modules)", probe_btf_modules,
	  "functions inside modules are timed only once the module and its BTF are loaded" },
	{ "tracefs", "bpf", "tracefs", probe_tracefs,
	  "classic tracepoints and tracefs kprobes off; tp_btf and raw tracepoints are used" },
	{ "tc", "bpf", "tc clsact + BPF", probe_tc,
	  "the cilium datapath and the tc hop probes are unavailable" },
	{ "tcx", "bpf", "tcx links", probe_tcx,
	  "tc clsact filters (bpf_tc_attach) are used instead" },
	{ "xdp_native", "bpf", "XDP on veth (native)", probe_xdp_native,
	  "--xdp uses generic (skb) mode" },
	{ "xdp_generic", "bpf", "XDP on veth (generic)", probe_xdp_generic,
	  "--xdp is refused" },
	{ "sock_ops", "bpf", "sock_ops on cgroup v2", probe_sockops,
	  "per-connection RTT and retransmits come from TCP_INFO only" },
	{ "netfilter_link", "bpf", "netfilter BPF links", probe_netfilter,
	  "time per netfilter hook is not measured; hooks show in hop paths only as gaps" },
	{ "cast_to_kern_ctx", "bpf", "bpf_cast_to_kern_ctx", probe_kern_ctx,
	  "tc hops are keyed by flow tuple and TCP sequence instead of the skb" },
	{ "tp_btf", "bpf", "tp_btf", probe_tp_btf, "raw tracepoints are used" },
	{ "raw_tp", "bpf", "raw tracepoints", probe_raw_tp,
	  "packet-path and scheduler tracepoints are off" },
	{ "tracepoint", "bpf", "tracepoints (tracefs)", probe_tracepoint,
	  "tp_btf and raw tracepoints are used" },
	{ "fentry", "bpf", "fentry", probe_fentry, "kprobes time kernel functions" },
	{ "fexit", "bpf", "fexit", probe_fexit, "kretprobes time kernel functions" },
	{ "kprobe", "bpf", "kprobe", probe_kprobe,
	  "fentry is used; with neither, function timing is off and reports say why" },
	{ "kprobe_multi", "bpf", "kprobe.multi", probe_kprobe_multi,
	  "one kprobe per function is attached" },
	{ "perf_cycles", "bpf", "perf hardware cycles", probe_perf_cycles,
	  "stacks are sampled on software cpu-clock" },
	{ "perf_cpu_clock", "bpf", "perf software cpu-clock", probe_perf_cpu_clock,
	  "no CPU profile (flame graphs off)" },
	{ "ringbuf", "bpf", "ring buffer", probe_ringbuf,
	  "rare events go through a perf buffer" },
	{ "redirect_peer", "bpf", "bpf_redirect_peer", probe_redirect_peer,
	  "the cilium datapath redirects to the lxc device (one more backlog pass) and says so" },
	{ "redirect_neigh", "bpf", "bpf_redirect_neigh", probe_redirect_neigh,
	  "the cilium datapath uses bpf_fib_lookup MACs and bpf_redirect" },
	{ "fib_lookup", "bpf", "bpf_fib_lookup", probe_fib_lookup,
	  "only cilium legacy host routing (through the stack) is offered" },
	{ "sockmap", "bpf", "sockmap / sk_msg", probe_sockmap,
	  "the sidecar sockmap bypass is unavailable" },
	{ "veth", "datapath", "veth", probe_veth_kind, "no datapath can be emulated" },
	{ "macvlan", "datapath", "macvlan", probe_macvlan, "--cni macvlan is unavailable" },
	{ "ipvlan", "datapath", "ipvlan", probe_ipvlan,
	  "no ipvlan datapath is offered (none of the emulated CNIs needs it)" },
	{ "vxlan", "datapath", "vxlan", probe_vxlan, "tunnel modes are unavailable" },
	{ "bridge", "datapath", "bridge", probe_bridge, "the bridge CNI is unavailable" },
	{ "iptables_legacy", "datapath", "iptables (legacy)", probe_iptables_legacy,
	  "rules are loaded with the nft backend (--iptables nft)" },
	{ "iptables_nft", "datapath", "iptables (nft)", probe_iptables_nft,
	  "rules are loaded with the legacy backend" },
	{ "nftables", "datapath", "nftables", probe_nftables,
	  "kube-proxy's nftables mode is unavailable" },
	{ "conntrack", "datapath", "conntrack", probe_conntrack,
	  "calico, cilium legacy and kube-proxy emulation are unavailable" },
	{ "nat_redirect", "datapath", "NAT (REDIRECT, DNAT)", probe_nat_redirect,
	  "ClusterIP via kube-proxy and the sidecar are unavailable" },
	{ "statistic", "datapath", "statistic match", probe_statistic,
	  "kube-proxy services get one endpoint each" },
	{ "owner", "datapath", "owner match", probe_owner,
	  "the sidecar is unavailable (Istio excludes uid 1337 with it)" },
};

#define NR_PROBES (sizeof(probes) / sizeof(probes[0]))

bool feature_probe(const char *key, char *why, size_t len)
{
	static const char *const standalone[] = {
		"cast_to_kern_ctx", "tp_btf", "raw_tp", "fentry", "fexit", "kprobe", "kprobe_multi",
		"perf_cycles", "perf_cpu_clock", "ringbuf", "redirect_peer", "redirect_neigh",
		"fib_lookup", "sockmap", "btf_vmlinux",
	};
	struct check_ctx ctx = {};
	struct probe_result r = {};
	bool known = false;

	for (size_t i = 0; i < sizeof(standalone) / sizeof(standalone[0]); i++)
		known |= !strcmp(standalone[i], key);
	for (size_t i = 0; known && i < NR_PROBES; i++) {
		if (strcmp(probes[i].key, key))
			continue;
		probes[i].run(&ctx, &r);
		snprintf(why, len, "%s", r.detail);
		return r.verdict != VERDICT_NO;
	}
	snprintf(why, len, "no standalone probe named %s", key);
	return false;
}

static const char *verdict_text(enum verdict v)
{
	return v == VERDICT_YES ? "yes" : v == VERDICT_NO ? "no" : "partly";
}

static void help(void)
{
	printf("Usage: netprof check [--json] [-v] [--only KEY[,KEY...]]\n"
	       "\n"
	       "Finds out what this kernel offers a datapath profiler by loading and\n"
	       "attaching tiny BPF programs (tc, XDP, netfilter, tracepoints, fentry,\n"
	       "kprobes, perf events, cgroup and sockmap programs) and creating the devices\n"
	       "and rules the emulated datapaths need, inside throw-away netprof-check-*\n"
	       "namespaces. For each missing item it says what netprof does instead.\n"
	       "The exit status is 0 when the probes ran, whatever they found.\n"
	       "\n"
	       "  --only KEYS   run only these probes (JSON names, comma-separated)\n"
	       "\n"
	       "Examples:\n"
	       "  sudo netprof check\n"
	       "  sudo netprof check --json | jq '.features[] | select(.available == false)'\n"
	       "  sudo netprof check --only tc,fentry,kprobe\n");
}

static bool selected(const char *only, const char *key)
{
	size_t n = strlen(key);

	if (!only)
		return true;
	for (const char *p = only; p && *p;) {
		if (!strncmp(p, key, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return false;
}

static int validate_only(const char *only)
{
	char copy[512], *tok, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", only);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t i = 0; i < NR_PROBES; i++)
			known |= !strcmp(probes[i].key, tok);
		if (!known) {
			usage_error("check: --only: unknown probe '%s' (names: see 'netprof check --json')",
				    tok);
			return -1;
		}
	}
	return 0;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "only", required_argument, NULL, 'o' },
		CLI_COMMON_LONGOPTS,
		{}
	};
	static struct check_ctx ctx;
	struct probe_result results[NR_PROBES];
	unsigned yes = 0, no = 0, partly = 0;
	const char *only = NULL, *group = "";
	struct utsname uts;
	int opt;

	while ((opt = cli_next_opt("check", argc, argv, ":vh", longopts)) != -1) {
		switch (opt) {
		case CLI_ERROR:
			return EXIT_USAGE;
		case CLI_HELP:
			help();
			return 0;
		case 'o':
			only = optarg;
			break;
		}
	}
	if (!cli_no_args("check", argc, argv))
		return EXIT_USAGE;
	if (only && validate_only(only) < 0)
		return EXIT_USAGE;
	if (!cli_require_caps())
		return 1;
	if (bpf_compat_init() < 0)
		pr_warn("cannot register the netfilter program section with libbpf");

	uname(&uts);
	pr_debug("setting up test namespaces");
	setup_namespaces(&ctx);
	memset(results, 0, sizeof(results));
	for (size_t i = 0; i < NR_PROBES && !stop_requested(); i++) {
		if (!selected(only, probes[i].key))
			continue;
		pr_debug("probing %s", probes[i].key);
		probes[i].run(&ctx, &results[i]);
	}
	if (stop_requested()) {
		pr_warn("interrupted; test namespaces removed");
		return 130;
	}

	out_init(opt_json);
	out_object_begin(NULL);
	out_string("kernel", "netprof check: kernel %s", uts.release);
	out_text(" (%s)\n", uts.machine);
	out_array_begin("features");
	for (size_t i = 0; i < NR_PROBES; i++) {
		const struct probe *p = &probes[i];
		struct probe_result *res = &results[i];

		if (!selected(only, p->key))
			continue;
		if (strcmp(group, p->group)) {
			group = p->group;
			out_text("\n%s\n", !strcmp(group, "bpf") ? "BPF features and hooks"
								 : "Kernel pieces the datapaths need");
		}
		yes += res->verdict == VERDICT_YES;
		no += res->verdict == VERDICT_NO;
		partly += res->verdict == VERDICT_PARTIAL;
		out_object_begin(NULL);
		out_string("name", NULL, p->key);
		out_string("group", NULL, p->group);
		out_string("label", "  %-26s", p->label);
		out_string("state", " %-6s", verdict_text(res->verdict));
		out_bool("available", NULL, res->verdict != VERDICT_NO);
		out_string("detail", " %s\n", res->detail);
		if (res->verdict != VERDICT_YES) {
			out_text("  %-33s ", "");
			out_string("instead", "instead: %s\n", p->instead);
		}
		out_object_end();
	}
	out_array_end();
	out_uint("available", "\n%u available", yes);
	out_uint("partial", ", %u partly", partly);
	out_uint("missing", ", %u missing\n", no);
	out_object_end();
	out_finish();
	return 0;
}
