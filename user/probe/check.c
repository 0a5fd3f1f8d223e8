/*
 * The user side of bpf/check.bpf.c: the probes of `netprof check` that load
 * one tiny program and attach it where netprof would, the table of every
 * probe, and feature_probe(), which the tracers ask before picking a
 * fallback. Every verdict comes from doing the thing, never from the kernel
 * version.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/perf_event.h>
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "check.skel.h"
#include "lib/bpf_compat.h"
#include "lib/cgroup.h"
#include "lib/netns.h"
#include "probe/check_impl.h"
#include "probe/feature_probe.h"

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

/* ---- BTF and tracefs ---- */

static void probe_btf_vmlinux(struct check_fixture *ctx, struct check_result *r)
{
	struct btf *btf;

	(void)ctx;
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		set_error(r, "no kernel BTF", errno);
		return;
	}
	set_result(r, CHECK_YES, "/sys/kernel/btf/vmlinux: %u types", btf__type_cnt(btf));
	btf__free(btf);
}

static void probe_btf_modules(struct check_fixture *ctx, struct check_result *r)
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
		set_result(r, CHECK_YES, "%u loaded modules carry BTF", n);
	else
		set_result(r, CHECK_PARTIAL,
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

static void probe_tracefs(struct check_fixture *ctx, struct check_result *r)
{
	if (tracefs_is_mounted()) {
		set_result(r, CHECK_YES, "mounted at " TRACEFS);
		return;
	}
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) < 0) {
		set_error(r, "not mounted, and mounting it failed", errno);
		return;
	}
	fixture_adopt_tracefs(ctx);
	set_result(r, CHECK_YES, "was not mounted: netprof mounts " TRACEFS " while it runs");
}

/* ---- tc, tcx, XDP ---- */

static void probe_tc(struct check_fixture *ctx, struct check_result *r)
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
		set_result(r, CHECK_YES, "clsact ingress on a veth: counted %llu packets after %d were sent",
			   (unsigned long long)skel->bss->hits, sent);
	else
		set_result(r, CHECK_PARTIAL, "attached, but counted %llu packets after %d were sent",
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

static void probe_tcx(struct check_fixture *ctx, struct check_result *r)
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
		set_result(r, skel->bss->hits >= 3 ? CHECK_YES : CHECK_PARTIAL,
			   "tcx ingress link on a veth: counted %llu packets after 3 were sent",
			   (unsigned long long)skel->bss->hits);
		close(link);
	}
	check_bpf__destroy(skel);
}

static void probe_xdp_mode(struct check_fixture *ctx, struct check_result *r, __u32 mode,
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
		set_result(r, CHECK_YES, "%s attached to a veth", name);
	check_bpf__destroy(skel);
}

static void probe_xdp_native(struct check_fixture *ctx, struct check_result *r)
{
	probe_xdp_mode(ctx, r, XDP_FLAGS_DRV_MODE, "native (driver) XDP");
}

static void probe_xdp_generic(struct check_fixture *ctx, struct check_result *r)
{
	probe_xdp_mode(ctx, r, XDP_FLAGS_SKB_MODE, "generic (skb) XDP");
}

/* ---- helpers and kfuncs the datapaths and hop tracer use ---- */

static void probe_loads(struct check_result *r, struct bpf_program *(*pick)(struct check_bpf *),
			const char *what)
{
	struct check_bpf *skel;
	int err;

	skel = load_with(pick, &err);
	if (!skel) {
		set_error(r, "verifier refused it", err);
		return;
	}
	set_result(r, CHECK_YES, "%s", what);
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

static void probe_kern_ctx(struct check_fixture *ctx, struct check_result *r)
{
	(void)ctx;
	/* The kfunc came with 6.2; without it the verifier says only EINVAL. */
	if (!kernel_has_btf_func("bpf_cast_to_kern_ctx")) {
		set_result(r, CHECK_NO, "kfunc not in this kernel's BTF (added in 6.2)");
		return;
	}
	probe_loads(r, pick_probe_kern_ctx, "tc program read the kernel sk_buff through the kfunc");
}

static void probe_redirect_peer(struct check_fixture *ctx, struct check_result *r)
{
	(void)ctx;
	probe_loads(r, pick_probe_redirect_peer, "helper accepted by the verifier in a tc program");
}

static void probe_redirect_neigh(struct check_fixture *ctx, struct check_result *r)
{
	(void)ctx;
	probe_loads(r, pick_probe_redirect_neigh, "helper accepted by the verifier in a tc program");
}

static void probe_fib_lookup(struct check_fixture *ctx, struct check_result *r)
{
	(void)ctx;
	probe_loads(r, pick_probe_fib_lookup, "helper accepted by the verifier in a tc program");
}

static void probe_ringbuf(struct check_fixture *ctx, struct check_result *r)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "netprof_rb", 0, 0, 4096, NULL);

	(void)ctx;
	if (fd < 0) {
		set_error(r, "ring buffer map", fd);
		return;
	}
	close(fd);
	set_result(r, CHECK_YES, "BPF_MAP_TYPE_RINGBUF created");
}

static void probe_sockmap(struct check_fixture *ctx, struct check_result *r)
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
		set_result(r, CHECK_YES, "sk_msg verdict attached to a sockhash");
	}
	check_bpf__destroy(skel);
}

/* ---- hooks: cgroup, netfilter, tracepoints, fentry, kprobes, perf ---- */

static void probe_sockops(struct check_fixture *ctx, struct check_result *r)
{
	char name[64], root[PATH_MAX];
	struct check_bpf *skel;
	int err, cg;

	if (cgroup2_mount(root, sizeof(root)) < 0) {
		set_result(r, CHECK_NO, "no cgroup v2 mount in /proc/mounts");
		return;
	}
	snprintf(name, sizeof(name), "netprof-check-%d", (int)getpid());
	err = cgroup_create(name, ctx->cgroup_path, sizeof(ctx->cgroup_path));
	if (err) {
		ctx->cgroup_path[0] = '\0';
		set_error(r, "cannot create a netprof cgroup", err);
		return;
	}
	fixture_adopt_cgroup(ctx);
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
		set_result(r, CHECK_YES, "cgroup v2 at %s; attached to a netprof cgroup", root);
	}
	if (cg >= 0)
		close(cg);
	check_bpf__destroy(skel);
}

static void probe_netfilter(struct check_fixture *ctx, struct check_result *r)
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

		set_result(r, skel->bss->hits >= 5 ? CHECK_YES : CHECK_PARTIAL,
			   "PREROUTING hook at priority -500: counted %llu packets after %d were sent",
			   (unsigned long long)skel->bss->hits, sent);
		close(link);
	}
	check_bpf__destroy(skel);
}

/* Attaches a tracing program and waits briefly for sched_switch to fire. */
static void probe_attach_and_hit(struct check_result *r,
				 struct bpf_program *(*pick)(struct check_bpf *),
				 struct bpf_program *(*prog_of)(struct check_bpf *),
				 const char *what, bool needs_traffic, struct check_fixture *ctx)
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
		set_result(r, CHECK_YES, "%s: fired %llu times", what,
			   (unsigned long long)skel->bss->hits);
	else
		set_result(r, CHECK_PARTIAL, "%s: attached but never fired", what);
	bpf_link__destroy(link);
out:
	check_bpf__destroy(skel);
}

static void probe_tp_btf(struct check_fixture *ctx, struct check_result *r)
{
	probe_attach_and_hit(r, pick_probe_tp_btf, pick_probe_tp_btf, "tp_btf/sched_switch", false,
			     ctx);
}

static void probe_raw_tp(struct check_fixture *ctx, struct check_result *r)
{
	probe_attach_and_hit(r, pick_probe_raw_tp, pick_probe_raw_tp, "raw_tp/sched_switch", false,
			     ctx);
}

static void probe_tracepoint(struct check_fixture *ctx, struct check_result *r)
{
	probe_attach_and_hit(r, pick_probe_tracepoint, pick_probe_tracepoint,
			     "tracepoint/net/netif_receive_skb", true, ctx);
}

static void probe_fentry(struct check_fixture *ctx, struct check_result *r)
{
	probe_attach_and_hit(r, pick_probe_fentry, pick_probe_fentry, "fentry/ip_rcv", true, ctx);
}

static void probe_fexit(struct check_fixture *ctx, struct check_result *r)
{
	probe_attach_and_hit(r, pick_probe_fexit, pick_probe_fexit, "fexit/ip_rcv", true, ctx);
}

static void probe_kprobe(struct check_fixture *ctx, struct check_result *r)
{
	probe_attach_and_hit(r, pick_probe_kprobe, pick_probe_kprobe, "kprobe/ip_rcv", true, ctx);
}

static void probe_kprobe_multi(struct check_fixture *ctx, struct check_result *r)
{
	probe_attach_and_hit(r, pick_probe_kprobe_multi, pick_probe_kprobe_multi,
			     "kprobe.multi/ip_rcv", true, ctx);
}

static void probe_perf(struct check_result *r, __u32 type, __u64 config, const char *what)
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
		set_result(r, CHECK_YES, "%s: opened on CPU 0, BPF program attached", what);
		bpf_link__destroy(link);	/* closes fd */
	}
	check_bpf__destroy(skel);
}

static void probe_perf_cycles(struct check_fixture *ctx, struct check_result *r)
{
	(void)ctx;
	probe_perf(r, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "hardware cycles");
}

static void probe_perf_cpu_clock(struct check_fixture *ctx, struct check_result *r)
{
	(void)ctx;
	probe_perf(r, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, "software cpu-clock");
}

const struct check_probe check_probes[] = {
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
	  "--socket-bypass (the sockmap bypass) is unavailable" },
	{ "veth", "datapath", "veth", probe_veth_kind, "no datapath can be emulated" },
	{ "macvlan", "datapath", "macvlan", probe_macvlan, "--cni macvlan is unavailable" },
	{ "ipvlan", "datapath", "ipvlan", probe_ipvlan,
	  "no ipvlan datapath is offered (none of the emulated CNIs needs it)" },
	{ "vxlan", "datapath", "vxlan", probe_vxlan, "tunnel modes are unavailable" },
	{ "bridge", "datapath", "bridge", probe_bridge, "--cni bridge is unavailable" },
	{ "tap", "datapath", "tap", probe_tap, "--cni kata is unavailable" },
	{ "mirred", "datapath", "tc u32 + mirred", probe_mirred, "--cni kata is unavailable" },
	{ "policy_routing", "datapath", "policy routing", probe_policy_routing,
	  "--cni terway and vpc-cni are unavailable" },
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

const size_t check_nr_probes = sizeof(check_probes) / sizeof(check_probes[0]);
_Static_assert(sizeof(check_probes) / sizeof(check_probes[0]) <= CHECK_MAX_PROBES,
	       "raise CHECK_MAX_PROBES");

bool feature_probe(const char *key, char *why, size_t len)
{
	static const char *const standalone[] = {
		"cast_to_kern_ctx", "tp_btf", "raw_tp", "fentry", "fexit", "kprobe", "kprobe_multi",
		"perf_cycles", "perf_cpu_clock", "ringbuf", "redirect_peer", "redirect_neigh",
		"fib_lookup", "sockmap", "btf_vmlinux",
	};
	struct check_fixture ctx = {};
	struct check_result r = {};
	bool known = false;

	for (size_t i = 0; i < sizeof(standalone) / sizeof(standalone[0]); i++)
		known |= !strcmp(standalone[i], key);
	for (size_t i = 0; known && i < check_nr_probes; i++) {
		if (strcmp(check_probes[i].key, key))
			continue;
		check_probes[i].run(&ctx, &r);
		snprintf(why, len, "%s", r.detail);
		return r.verdict != CHECK_NO;
	}
	snprintf(why, len, "no standalone probe named %s", key);
	return false;
}

