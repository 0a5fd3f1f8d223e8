/*
 * The hop tracer's loader and report. See hops.h for what it attaches where,
 * bpf/hops.bpf.c for what the kernel side aggregates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "lib/bpf_compat.h"
#include "lib/exec.h"
#include "probe/feature_probe.h"
#include "trace/hop_tracer.h"
#include "trace/hops_snapshot.h"
#include "hops.skel.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/output.h"

#define MAX_TP_LINKS 32
#define TC_HANDLE 0x4e50	/* "NP" */
#define TC_PRIORITY 1		/* before any datapath program on the device */

struct traced_ns {
	char name[64];
	__u32 inum, index;
	bool has_rules;			/* iptables or nftables rules: netfilter works here */
	int nf_links[NF_HOOKS * NF_SLOTS];
	int nr_nf_links;
};

struct traced_dev {
	int ns;				/* index into tracer->ns */
	char name[IF_NAMESIZE];
	int ifindex;
	enum dev_kind kind;
	bool wire;			/* stands for the NIC between the nodes */
	bool tc_ok;			/* its tc filters attached at the start */
	bool hook_created, attached[2];
	/* Flow modes: this device's own copies of hop_tcf_ingress, hop_tcf_egress
	 * and hop_xdp (see dev_tag() in hops.bpf.c); -1 when not loaded. */
	int copy_fd[3];
	__u32 xdp_mode;			/* XDP_FLAGS_DRV_MODE or _SKB_MODE once attached */
};

enum { COPY_TC_INGRESS, COPY_TC_EGRESS, COPY_XDP };

struct hops_tracer {
	struct hops_bpf *skel;
	struct hops_target target;
	struct traced_ns ns[MAX_NETNS];
	int nr_ns;
	struct traced_dev devs[HOPS_MAX_DEVS];
	int nr_devs;
	struct bpf_link *links[MAX_TP_LINKS];
	int nr_links;
	struct hops_note notes[HOPS_MAX_NOTES];
	int nr_notes;
	bool use_tc, use_nf, use_btf_tp, use_sockops;
	bool tc_flow;			/* tc hops keyed by the flow, not the skb */
	bool use_xdp;
	unsigned nf_slots;		/* bit k: slot k attached */
	struct bpf_link *sockops_link;	/* stays through duty-cycle pauses */
	/* --duty N: probes attached for one window in N. */
	pthread_t duty_thread;
	bool duty_running;
	volatile bool duty_stop;
	pthread_mutex_t lock;
	uint64_t windows;		/* attached windows since the start */
};


static const char *const tracepoints[] = {
	"net_dev_queue", "net_dev_xmit", "netif_rx", "netif_receive_skb", "napi_gro_receive_entry",
	"consume_skb", "kfree_skb", "tcp_probe", "softirq_entry", "softirq_exit", "softirq_raise",
	"sched_switch", "sched_wakeup", "fib_table_lookup",
};
#define NR_TRACEPOINTS (sizeof(tracepoints) / sizeof(tracepoints[0]))

/*
 * Slots attached by default: the first, the calibration, the one after
 * conntrack and the last, so a hook costs 4 program runs and still splits
 * raw+conntrack from the filtering tables. --nf-detail attaches all 9.
 */
#define NF_DEFAULT_SLOTS ((1u << 0) | (1u << 1) | (1u << 3) | (1u << (NF_SLOTS - 1)))
#define NF_ALL_SLOTS ((1u << NF_SLOTS) - 1)

static void note(struct hops_tracer *h, const char *name, bool on, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void note(struct hops_tracer *h, const char *name, bool on, const char *fmt, ...)
{
	struct hops_note *n;
	va_list ap;

	if (h->nr_notes >= HOPS_MAX_NOTES)
		return;
	n = &h->notes[h->nr_notes++];
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->on = on;
	va_start(ap, fmt);
	vsnprintf(n->detail, sizeof(n->detail), fmt, ap);
	va_end(ap);
}

/* ---- discovery: namespace inodes and devices ---- */

/* Parses `ip -d -o link show`: "N: name[@peer]: <FLAGS> ... \    kind ..." */
static int discover_devices(struct hops_tracer *h, int ns_slot, const char *const *wire,
			    int nr_wire)
{
	static char out[65536];
	char *line, *save = NULL;
	int rc = RUN(h->ns[ns_slot].name, out, sizeof(out), "ip", "-d", "-o", "link", "show");

	if (rc != 0)
		return -EIO;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct traced_dev *d;
		char name[IF_NAMESIZE + 32], *at, *seg;
		int ifindex;

		if (h->nr_devs >= HOPS_MAX_DEVS)
			break;
		if (sscanf(line, "%d: %47[^:]:", &ifindex, name) != 2)
			continue;
		at = strchr(name, '@');
		if (at)
			*at = '\0';
		name[IF_NAMESIZE - 1] = '\0';
		d = &h->devs[h->nr_devs++];
		memset(d, 0, sizeof(*d));
		d->copy_fd[0] = d->copy_fd[1] = d->copy_fd[2] = -1;
		d->ns = ns_slot;
		d->ifindex = ifindex;
		memcpy(d->name, name, IF_NAMESIZE);
		d->kind = strstr(line, "<LOOPBACK") ? DEV_LOOPBACK : DEV_OTHER;
		for (int w = 0; w < nr_wire; w++) {
			const char *slash = strchr(wire[w], '/');

			d->wire |= slash && !strcmp(slash + 1, d->name) &&
				   !strncmp(wire[w], h->ns[ns_slot].name, slash - wire[w]) &&
				   strlen(h->ns[ns_slot].name) == (size_t)(slash - wire[w]);
		}
		/* The kind is the first word of the third backslash-separated part. */
		seg = strstr(line, "\\    ");
		seg = seg ? strstr(seg + 5, "\\    ") : NULL;
		if (seg && d->kind == DEV_OTHER) {
			char token[32];

			if (sscanf(seg + 5, "%31s", token) == 1)
				d->kind = dev_kind_parse(token);
		}
	}
	return 0;
}

/* Does netfilter do anything in this namespace? Any iptables rule or chain
 * (either backend) or nftables table says yes. */
static bool ns_has_rules(const char *ns)
{
	static char out[8192];
	char *line, *save = NULL;

	if (RUN(ns, out, sizeof(out), "iptables-legacy-save") == 0)
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (!strncmp(line, "-A ", 3))
				return true;
	if (RUN(ns, out, sizeof(out), "nft", "list", "ruleset") == 0 && strstr(out, "table "))
		return true;
	return false;
}

static int setup_namespaces(struct hops_tracer *h)
{
	for (int i = 0; i < h->target.nr_netns; i++) {
		const char *name = h->target.netns[i];
		char path[PATH_MAX];
		struct stat st;

		if (strncmp(name, "netprof-", 8)) {
			usage_error("trace: namespace '%s' is not netprof's (names start with netprof-)",
				    name);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
		if (stat(path, &st) < 0) {
			usage_error("trace: no network namespace '%s' (see 'ip netns list')", name);
			return -ENOENT;
		}
		if (h->nr_ns >= MAX_NETNS - 1)
			return -E2BIG;
		snprintf(h->ns[h->nr_ns].name, sizeof(h->ns[0].name), "%s", name);
		/* The nsfs file's inode is the namespace's inum, as the kernel sees it. */
		h->ns[h->nr_ns].inum = st.st_ino;
		h->ns[h->nr_ns].index = h->nr_ns + 1;
		h->ns[h->nr_ns].has_rules = ns_has_rules(name);
		if (discover_devices(h, h->nr_ns, h->target.wire, h->target.nr_wire) < 0) {
			pr_warn("cannot list the devices of %s", name);
			return -EIO;
		}
		h->nr_ns++;
	}
	return 0;
}

/* ---- loading, with fallbacks ---- */

static void set_autoload_group(struct hops_bpf *skel, const char *prefix, bool on)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, skel->obj)
		if (!strncmp(bpf_program__name(p), prefix, strlen(prefix)))
			bpf_program__set_autoload(p, on);
}

static int open_and_load(struct hops_tracer *h, char *err_detail, size_t len)
{
	struct stat st;
	int err;

	h->skel = hops_bpf__open();
	if (!h->skel)
		return -errno;
	h->skel->rodata->trace_cfg.server_ip = 0;
	h->skel->rodata->trace_cfg.server_port = htons(h->target.server_port);
	h->skel->rodata->trace_cfg.service_port = htons(h->target.service_port);
	h->skel->rodata->trace_cfg.sample_every = h->target.sample_every ?: 1;
	if (h->target.cgroup_path && stat(h->target.cgroup_path, &st) == 0)
		h->skel->rodata->run_cgroup_id = st.st_ino;
	bpf_map__set_max_entries(h->skel->maps.packets, h->target.max_packets ?: 16384);
	bpf_map__set_max_entries(h->skel->maps.flow_index, h->target.max_packets ?: 16384);

	h->skel->rodata->start_at_output = h->use_nf;
	h->skel->rodata->flow_index_on = (h->use_tc && h->tc_flow) || h->use_xdp;
	h->skel->rodata->xdp_on = h->use_xdp;
	set_autoload_group(h->skel, "hop_tc_", h->use_tc && !h->tc_flow);
	set_autoload_group(h->skel, "hop_tcf_", h->use_tc && h->tc_flow);
	set_autoload_group(h->skel, "hop_xdp", h->use_xdp);
	set_autoload_group(h->skel, "hop_nf_", h->use_nf);
	set_autoload_group(h->skel, "hop_origin", h->use_nf);	/* a netfilter program too */
	set_autoload_group(h->skel, "btf_", h->use_btf_tp);
	set_autoload_group(h->skel, "raw_", !h->use_btf_tp);
	set_autoload_group(h->skel, "hop_sockops", h->use_sockops);
	err = hops_bpf__load(h->skel);
	if (err) {
		snprintf(err_detail, len, "%s", strerror(-err));
		hops_bpf__destroy(h->skel);
		h->skel = NULL;
	}
	return err;
}

static int load_with_fallbacks(struct hops_tracer *h)
{
	char why[200], detail[200];
	int err;

	h->use_tc = !h->target.no_tc;
	if (h->target.no_tc) {
		note(h, "tc", false, "off (--no-tc)");
	} else if (h->target.tc_key == TC_KEY_FLOW) {
		h->tc_flow = true;
		note(h, "tc key", true, "flow (--tc-key flow): tc hops find the packet by its flow "
		     "tuple, TCP seq/ack and IP id/length, through an index the skb-seeing hops keep");
	} else if (!feature_probe("cast_to_kern_ctx", why, sizeof(why))) {
		h->tc_flow = true;
		note(h, "tc key", true, "flow: bpf_cast_to_kern_ctx unavailable (%s)%s, so tc hops find "
		     "the packet by its flow tuple, TCP seq/ack and IP id/length", why,
		     h->target.tc_key == TC_KEY_SKB ? " although --tc-key skb was asked" : "");
	} else {
		note(h, "tc key", true, "skb: tc hops share the kernel sk_buff key "
		     "(bpf_cast_to_kern_ctx)");
	}
	h->use_xdp = h->target.xdp;
	if (!h->use_xdp)
		note(h, "xdp", false, "off: an XDP program on a veth moves its receive path from the "
		     "CPU backlog to NAPI, changing what is measured (--xdp turns it on)");
	h->use_btf_tp = feature_probe("tp_btf", why, sizeof(why));
	if (!h->use_btf_tp)
		note(h, "tracepoints", true, "raw_tp (tp_btf unavailable: %s)", why);
	h->use_nf = !h->target.no_netfilter;
	if (h->target.no_netfilter)
		note(h, "netfilter", false, "off (--no-netfilter)");
	h->use_sockops = h->target.cgroup_path != NULL;

	for (;;) {
		err = open_and_load(h, detail, sizeof(detail));
		if (!err)
			return 0;
		/* Netfilter programs need kernel 6.4; sock_ops a cgroup. Drop them in turn. */
		if (h->use_nf) {
			h->use_nf = false;
			note(h, "netfilter", false,
			     "off: netfilter BPF programs refused by this kernel (%s)", detail);
			continue;
		}
		if (h->use_sockops) {
			h->use_sockops = false;
			note(h, "sock_ops", false, "off: program refused (%s)", detail);
			continue;
		}
		if (h->use_xdp) {
			h->use_xdp = false;
			note(h, "xdp", false, "off: program refused (%s)", detail);
			continue;
		}
		pr_warn("cannot load the hop tracer: %s (run with -v for the verifier's log)", detail);
		return err;
	}
}

/* ---- attaching ---- */

static int attach_tracepoints(struct hops_tracer *h, bool quiet)
{
	const char *prefix = h->use_btf_tp ? "btf_" : "raw_";
	unsigned ok = 0;
	char failed[160] = "";

	for (size_t i = 0; i < NR_TRACEPOINTS && h->nr_links < MAX_TP_LINKS; i++) {
		char name[64];
		struct bpf_program *p;
		struct bpf_link *l;

		snprintf(name, sizeof(name), "%s%s", prefix, tracepoints[i]);
		p = bpf_object__find_program_by_name(h->skel->obj, name);
		l = p ? bpf_program__attach(p) : NULL;
		if (!l) {
			size_t used = strlen(failed);

			snprintf(failed + used, sizeof(failed) - used, "%s%s", used ? ", " : "",
				 tracepoints[i]);
			continue;
		}
		h->links[h->nr_links++] = l;
		ok++;
	}
	if (!ok) {
		pr_warn("no packet-path tracepoint could be attached");
		return -ENOENT;
	}
	if (quiet)
		return 0;
	if (failed[0])
		note(h, "tracepoints", true, "%s: %u attached; missing: %s",
		     h->use_btf_tp ? "tp_btf" : "raw_tp", ok, failed);
	else
		note(h, "tracepoints", true,
		     "%s: all %u attached (packet path, FIB lookups, softirq, scheduler)",
		     h->use_btf_tp ? "tp_btf" : "raw_tp", ok);
	return 0;
}

/*
 * ---- flow modes: per-device copies of the programs without skb->dev ----
 *
 * A tc program without bpf_cast_to_kern_ctx, and an XDP program, see
 * neither the net_device nor its namespace, only the ifindex, and ifindexes
 * repeat across namespaces (every pod has an eth0 at 2). So each device gets
 * its own copy of hop_tcf_ingress/egress and hop_xdp, with its tag (netns
 * index, ifindex) as a constant: a few dozen small programs, loaded only in
 * the modes that use them.
 */

/* The program with DEV_TAG_MAGIC replaced by the device's tag: one 64-bit
 * immediate load (two instructions), left by dev_tag() in hops.bpf.c. */
static int load_dev_copy(struct bpf_program *tmpl, enum bpf_prog_type type, const char *name,
			 __u64 tag)
{
	size_t cnt = bpf_program__insn_cnt(tmpl);
	struct bpf_insn *insns = malloc(cnt * sizeof(*insns));
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = bpf_program__expected_attach_type(tmpl));
	int patched = 0, fd;

	if (!insns)
		return -ENOMEM;
	memcpy(insns, bpf_program__insns(tmpl), cnt * sizeof(*insns));
	for (size_t i = 0; i + 1 < cnt; i++) {
		if (insns[i].code != (BPF_LD | BPF_DW | BPF_IMM) || insns[i].src_reg != 0 ||
		    (__u32)insns[i].imm != (__u32)DEV_TAG_MAGIC ||
		    (__u32)insns[i + 1].imm != (__u32)(DEV_TAG_MAGIC >> 32))
			continue;
		insns[i].imm = (__s32)(__u32)tag;
		insns[i + 1].imm = (__s32)(__u32)(tag >> 32);
		patched++;
		i++;
	}
	fd = patched ? bpf_prog_load(type, name, "GPL", insns, cnt, &opts) : -ENOEXEC;
	free(insns);
	return fd < 0 ? (fd == -1 ? -errno : fd) : fd;
}

/* Names each device's tag in dev_cache (as a net_device address would be)
 * and loads its copies. */
static int load_dev_copies(struct hops_tracer *h)
{
	for (int i = 0; i < h->nr_devs; i++) {
		struct traced_dev *d = &h->devs[i];
		__u32 ns = h->ns[d->ns].index;
		__u64 tag = DEV_TAG(ns, d->ifindex);
		struct dev_cached dc = { .ns_index = ns, .kind = d->kind, .ifindex = d->ifindex };
		int fd;

		bpf_map_update_elem(bpf_map__fd(h->skel->maps.dev_cache), &tag, &dc, BPF_ANY);
		for (int c = COPY_TC_INGRESS; c <= COPY_XDP; c++) {
			static const char *const names[] = { "hop_tcf_in", "hop_tcf_eg", "hop_xdp" };
			struct bpf_program *tmpl = c == COPY_TC_INGRESS ? h->skel->progs.hop_tcf_ingress :
						   c == COPY_TC_EGRESS ? h->skel->progs.hop_tcf_egress :
						   h->skel->progs.hop_xdp;

			if (c == COPY_XDP ? !h->use_xdp || d->kind == DEV_LOOPBACK
					  : !h->use_tc || !h->tc_flow)
				continue;
			fd = load_dev_copy(tmpl, c == COPY_XDP ? BPF_PROG_TYPE_XDP
							       : BPF_PROG_TYPE_SCHED_CLS,
					   names[c], tag);
			if (fd < 0) {
				pr_warn("cannot load %s for %s: %s", names[c], d->name, strerror(-fd));
				return fd;
			}
			d->copy_fd[c] = fd;
		}
	}
	return 0;
}

static void close_dev_copies(struct traced_dev *d)
{
	for (int c = 0; c < 3; c++) {
		if (d->copy_fd[c] >= 0)
			close(d->copy_fd[c]);
		d->copy_fd[c] = -1;
	}
}

static int tc_prog_fd(const struct hops_tracer *h, const struct traced_dev *d, int egress)
{
	if (h->tc_flow)
		return d->copy_fd[egress ? COPY_TC_EGRESS : COPY_TC_INGRESS];
	return bpf_program__fd(egress ? h->skel->progs.hop_tc_egress
				      : h->skel->progs.hop_tc_ingress);
}

/* Driver mode where the device has it (veth), generic otherwise; never over
 * a program that is already there. The calling thread is in d's namespace. */
static int attach_xdp(struct hops_tracer *h, struct traced_dev *d)
{
	static const __u32 modes[] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	int err = -ENOENT;

	if (d->copy_fd[COPY_XDP] < 0)
		return 0;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		err = bpf_xdp_attach(d->ifindex, d->copy_fd[COPY_XDP],
				     modes[m] | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (!err) {
			struct dev_cached dc = { .ns_index = h->ns[d->ns].index, .kind = d->kind,
						 .ifindex = d->ifindex,
						 .xdp_native = modes[m] == XDP_FLAGS_DRV_MODE };
			__u64 tag = DEV_TAG(dc.ns_index, d->ifindex);

			d->xdp_mode = modes[m];
			bpf_map_update_elem(bpf_map__fd(h->skel->maps.dev_cache), &tag, &dc, BPF_ANY);
			return 0;
		}
		if (err == -EBUSY || err == -EEXIST)
			break;	/* someone else's XDP program: leave it */
	}
	return err;
}

/* Only our own program comes off (old_prog_fd makes the kernel check). */
static void detach_xdp(struct traced_dev *d)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = d->copy_fd[COPY_XDP]);

	if (!d->xdp_mode)
		return;
	bpf_xdp_detach(d->ifindex, d->xdp_mode, &opts);
	d->xdp_mode = 0;
}

static int attach_tc(struct hops_tracer *h, struct traced_dev *d)
{
	for (int egress = 0; egress < 2; egress++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = d->ifindex,
				    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);
		int err;

		err = bpf_tc_hook_create(&hook);
		if (!err)
			d->hook_created = true;
		else if (err != -EEXIST)
			return err;
		opts.prog_fd = tc_prog_fd(h, d, egress);
		err = bpf_tc_attach(&hook, &opts);
		if (err)
			return err;
		d->attached[egress] = true;
	}
	return 0;
}

static void detach_tc(struct traced_dev *d)
{
	for (int egress = 0; egress < 2; egress++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = d->ifindex,
				    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);

		if (d->attached[egress])
			bpf_tc_detach(&hook, &opts);
		d->attached[egress] = false;
	}
	if (d->hook_created) {
		/* Only a clsact netprof created itself: a datapath's stays. */
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = d->ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&hook);
		d->hook_created = false;
	}
}

/* The netfilter links of one namespace (the calling thread is in it). */
static int attach_nf(struct hops_tracer *h, struct traced_ns *ns)
{
	static const int priorities[NF_SLOTS] = NF_SLOT_PRIORITIES;
	struct bpf_program *slot_progs[NF_SLOTS] = {
		h->skel->progs.hop_nf_slot0, h->skel->progs.hop_nf_slot1,
		h->skel->progs.hop_nf_slot2, h->skel->progs.hop_nf_slot3,
		h->skel->progs.hop_nf_slot4, h->skel->progs.hop_nf_slot5,
		h->skel->progs.hop_nf_slot6, h->skel->progs.hop_nf_slot7,
		h->skel->progs.hop_nf_slot8,
	};
	int fd;

	if (!ns->has_rules) {
		/* NF_INET_LOCAL_OUT = 3 */
		fd = nf_link_create(bpf_program__fd(h->skel->progs.hop_origin), NP_NFPROTO_IPV4, 3,
				    priorities[0]);
		if (fd < 0)
			return fd;
		ns->nf_links[ns->nr_nf_links++] = fd;
		return 0;
	}
	for (int hook = 0; hook < NF_HOOKS; hook++) {
		for (int slot = 0; slot < NF_SLOTS; slot++) {
			if (!(h->nf_slots & (1u << slot)))
				continue;
			fd = nf_link_create(bpf_program__fd(slot_progs[slot]), NP_NFPROTO_IPV4, hook,
					    priorities[slot]);
			if (fd < 0)
				return fd;
			ns->nf_links[ns->nr_nf_links++] = fd;
		}
	}
	return 0;
}

static void detach_nf(struct traced_ns *ns)
{
	for (int i = 0; i < ns->nr_nf_links; i++)
		close(ns->nf_links[i]);
	ns->nr_nf_links = 0;
}

static int attach_in_namespaces(struct hops_tracer *h)
{
	unsigned tc_devs = 0, tc_failed = 0, ruled = 0, origins = 0, xdp_drv = 0, xdp_skb = 0,
		 xdp_failed = 0;
	int nf_err = 0, tc_err = 0, xdp_err = 0;

	for (int n = 0; n < h->nr_ns; n++) {
		struct traced_ns *ns = &h->ns[n];
		int saved = netns_enter(ns->name);

		if (saved < 0)
			return saved;
		if (h->use_nf && !nf_err) {
			nf_err = attach_nf(h, ns);
			ruled += ns->has_rules;
			origins += !ns->has_rules;
		}
		for (int i = 0; h->use_tc && i < h->nr_devs; i++) {
			struct traced_dev *d = &h->devs[i];
			int err;

			if (d->ns != n)
				continue;
			err = attach_tc(h, d);
			if (err) {
				tc_failed++;
				tc_err = err;
				detach_tc(d);
			} else {
				d->tc_ok = true;
				tc_devs++;
			}
		}
		for (int i = 0; h->use_xdp && i < h->nr_devs; i++) {
			struct traced_dev *d = &h->devs[i];
			int err;

			if (d->ns != n || d->copy_fd[COPY_XDP] < 0)
				continue;
			err = attach_xdp(h, d);
			if (err) {
				xdp_failed++;
				xdp_err = err;
			}
			xdp_drv += d->xdp_mode == XDP_FLAGS_DRV_MODE;
			xdp_skb += d->xdp_mode == XDP_FLAGS_SKB_MODE;
		}
		netns_leave(saved);
	}
	if (h->use_xdp)
		note(h, "xdp", xdp_drv + xdp_skb > 0, "on (--xdp) on %u devices: %u in driver mode (a "
		     "veth with XDP receives through NAPI, not the CPU backlog), %u generic%s%s",
		     xdp_drv + xdp_skb, xdp_drv, xdp_skb, xdp_failed ? "; failed on some: " : "",
		     xdp_failed ? strerror(-xdp_err) : "");
	if (h->use_nf && nf_err) {
		note(h, "netfilter", false, "off: netfilter link refused (%s)", strerror(-nf_err));
		h->use_nf = false;
		for (int n = 0; n < h->nr_ns; n++)
			detach_nf(&h->ns[n]);
	} else if (h->use_nf) {
		note(h, "netfilter", true, "%d slots on each of 5 hooks in the %u namespaces with "
		     "rules%s; an origin probe at OUTPUT in the %u without", __builtin_popcount(h->nf_slots),
		     ruled, h->target.nf_detail ? "" : " (--nf-detail: one between every table)",
		     origins);
	}
	if (h->use_tc)
		note(h, "tc", tc_devs > 0, "clsact ingress+egress on %u devices%s%s%s", tc_devs,
		     h->tc_flow ? " (a copy of the flow-keyed program per device)" : "",
		     tc_failed ? "; failed on some: " : "", tc_failed ? strerror(-tc_err) : "");
	return 0;
}

/* ---- duty cycle: every probe off for N-1 windows out of N ---- */

#define DUTY_WINDOW_MS 100

/* tc filters only: the clsact hooks stay, so a datapath's filters are untouched. */
static void tc_filters(struct hops_tracer *h, struct traced_dev *d, bool attach)
{
	for (int egress = 0; egress < 2; egress++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = d->ifindex,
				    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);

		if (attach && !d->attached[egress]) {
			opts.prog_fd = tc_prog_fd(h, d, egress);
			d->attached[egress] = bpf_tc_attach(&hook, &opts) == 0;
		} else if (!attach && d->attached[egress]) {
			bpf_tc_detach(&hook, &opts);
			d->attached[egress] = false;
		}
	}
}

static void probes_set(struct hops_tracer *h, bool on)
{
	if (on)
		attach_tracepoints(h, true);
	else
		for (; h->nr_links > 0; h->nr_links--)
			bpf_link__destroy(h->links[h->nr_links - 1]);
	for (int n = 0; n < h->nr_ns; n++) {
		int saved = netns_enter(h->ns[n].name);

		if (saved < 0)
			continue;
		if (h->use_nf) {
			if (on)
				attach_nf(h, &h->ns[n]);
			else
				detach_nf(&h->ns[n]);
		}
		for (int i = 0; h->use_tc && i < h->nr_devs; i++)
			if (h->devs[i].ns == n && (h->devs[i].hook_created || h->devs[i].tc_ok))
				tc_filters(h, &h->devs[i], on);
		netns_leave(saved);
	}
}

static bool duty_sleep(struct hops_tracer *h, unsigned ms)
{
	for (unsigned slept = 0; slept < ms && !h->duty_stop; slept += 10)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	return !h->duty_stop;
}

static void *duty_cycle(void *arg)
{
	struct hops_tracer *h = arg;

	while (duty_sleep(h, DUTY_WINDOW_MS)) {
		pthread_mutex_lock(&h->lock);
		probes_set(h, false);
		pthread_mutex_unlock(&h->lock);
		if (!duty_sleep(h, (h->target.duty - 1) * DUTY_WINDOW_MS)) {
			pthread_mutex_lock(&h->lock);
			probes_set(h, true);	/* hops_close detaches it all the same way */
			pthread_mutex_unlock(&h->lock);
			break;
		}
		pthread_mutex_lock(&h->lock);
		probes_set(h, true);
		h->windows++;
		pthread_mutex_unlock(&h->lock);
	}
	return NULL;
}

static int attach_sockops(struct hops_tracer *h)
{
	struct bpf_link *l;
	int cg;

	if (!h->use_sockops) {
		if (!h->target.cgroup_path)
			note(h, "sock_ops", false, "off: no run cgroup given");
		return 0;
	}
	cg = open(h->target.cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	l = cg >= 0 ? bpf_program__attach_cgroup(h->skel->progs.hop_sockops, cg) : NULL;
	if (cg >= 0)
		close(cg);
	if (!l) {
		note(h, "sock_ops", false, "off: attach to %s failed", h->target.cgroup_path);
		return 0;
	}
	h->sockops_link = l;
	note(h, "sock_ops", true, "on the run's cgroup %s", h->target.cgroup_path);
	return 0;
}

int hops_parse_tc_key(const char *cmd, const char *arg, enum tc_key *out)
{
	if (!strcmp(arg, "skb"))
		*out = TC_KEY_SKB;
	else if (!strcmp(arg, "flow"))
		*out = TC_KEY_FLOW;
	else {
		usage_error("%s: --tc-key '%s': give skb or flow", cmd, arg);
		return -1;
	}
	return 0;
}

int hops_open(struct hops_tracer **out, const struct hops_target *target)
{
	struct hops_tracer *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	h->target = *target;
	h->nf_slots = target->nf_detail ? NF_ALL_SLOTS : NF_DEFAULT_SLOTS;
	bpf_compat_init();
	err = setup_namespaces(h);
	if (err)
		goto fail;
	err = load_with_fallbacks(h);
	if (err)
		goto fail;
	for (int n = 0; n < h->nr_ns; n++) {
		struct netns_info ni = { .index = h->ns[n].index };

		bpf_map_update_elem(bpf_map__fd(h->skel->maps.netns_map), &h->ns[n].inum, &ni,
				    BPF_ANY);
	}
	for (int i = 0; i < h->nr_devs; i++) {
		struct dev_key k = { .ns_index = h->ns[h->devs[i].ns].index,
				     .ifindex = h->devs[i].ifindex };
		struct dev_info di = { .kind = h->devs[i].kind };

		bpf_map_update_elem(bpf_map__fd(h->skel->maps.devices), &k, &di, BPF_ANY);
	}
	err = load_dev_copies(h);
	if (err)
		goto fail;
	err = attach_tracepoints(h, false);
	if (err)
		goto fail;
	err = attach_in_namespaces(h);
	if (err)
		goto fail;
	attach_sockops(h);
	pthread_mutex_init(&h->lock, NULL);
	if (h->target.duty > 1) {
		h->duty_running = pthread_create(&h->duty_thread, NULL, duty_cycle, h) == 0;
		note(h, "duty cycle", h->duty_running,
		     "probes attached %u ms in every %u ms (--duty %u); counts cover those windows%s",
		     DUTY_WINDOW_MS, DUTY_WINDOW_MS * h->target.duty, h->target.duty,
		     h->use_xdp ? " (XDP stays attached: re-attaching would switch veth's receive "
		     "path every window)" : "");
	}
	*out = h;
	return 0;
fail:
	hops_close(h);
	return err;
}

static void clear_map(int fd, size_t key_size)
{
	char key[64], next[64];

	/* Deleting while iterating restarts from the first key each time. */
	while (key_size <= sizeof(key) && bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

void hops_reset(struct hops_tracer *h)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *zeros = calloc(ncpu, sizeof(__u64));

	clear_map(bpf_map__fd(h->skel->maps.packets), sizeof(__u64));
	clear_map(bpf_map__fd(h->skel->maps.paths), sizeof(struct path_key));
	clear_map(bpf_map__fd(h->skel->maps.hop_latency), sizeof(struct hop_pair));
	clear_map(bpf_map__fd(h->skel->maps.nf_time), sizeof(struct nf_key));
	clear_map(bpf_map__fd(h->skel->maps.drops), sizeof(struct drop_key));
	clear_map(bpf_map__fd(h->skel->maps.dev_stats), sizeof(__u64));
	clear_map(bpf_map__fd(h->skel->maps.pending), sizeof(struct flow_key));
	clear_map(bpf_map__fd(h->skel->maps.flow_index), sizeof(struct flow_key));
	{
		struct fib_ns_stats *fz = calloc(ncpu, sizeof(*fz));

		for (__u32 i = 0; fz && i < MAX_NETNS; i++)
			bpf_map_update_elem(bpf_map__fd(h->skel->maps.fib_stats), &i, fz, BPF_ANY);
		free(fz);
	}
	for (__u32 i = 0; zeros && i < CNT_MAX; i++)
		bpf_map_update_elem(bpf_map__fd(h->skel->maps.counters), &i, zeros, BPF_ANY);
	free(zeros);
	memset(&h->skel->bss->sockops_totals, 0, sizeof(h->skel->bss->sockops_totals));
}

void hops_close(struct hops_tracer *h)
{
	if (!h)
		return;
	if (h->duty_running) {
		h->duty_stop = true;
		pthread_join(h->duty_thread, NULL);
	}
	bpf_link__destroy(h->sockops_link);
	for (int i = 0; i < h->nr_links; i++)
		bpf_link__destroy(h->links[i]);
	for (int n = 0; n < h->nr_ns; n++) {
		int saved = netns_exists(h->ns[n].name) ? netns_enter(h->ns[n].name) : -1;

		for (int i = 0; i < h->nr_devs; i++) {
			if (h->devs[i].ns == n && saved >= 0) {
				detach_xdp(&h->devs[i]);
				detach_tc(&h->devs[i]);
			}
		}
		for (int i = 0; i < h->ns[n].nr_nf_links; i++)
			close(h->ns[n].nf_links[i]);
		if (saved >= 0)
			netns_leave(saved);
	}
	for (int i = 0; i < h->nr_devs; i++)
		close_dev_copies(&h->devs[i]);
	hops_bpf__destroy(h->skel);
	free(h);
}

/* ---- reading the aggregates ---- */

static void read_fib(struct hops_tracer *h, struct hops_snapshot *s)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fib_ns_stats *vals = calloc(ncpu, sizeof(*vals));

	for (__u32 i = 0; vals && i < MAX_NETNS; i++) {
		if (bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.fib_stats), &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++) {
			s->fib[i].lookups += vals[c].lookups;
			s->fib[i].attributed += vals[c].attributed;
			s->fib[i].reverse += vals[c].reverse;
			s->fib[i].failed += vals[c].failed;
		}
	}
	free(vals);
}

static void read_counters(struct hops_tracer *h, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals = calloc(ncpu, sizeof(__u64));

	for (__u32 i = 0; vals && i < CNT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.counters), &i, vals) == 0)
			for (int c = 0; c < ncpu; c++)
				out[i] += vals[c];
	}
	free(vals);
}

/* Reads every entry of a hash map into a growing array of {key, value}. */
static int read_hash(int fd, size_t key_size, size_t val_size, void **array)
{
	size_t entry = key_size + val_size, cap = 64;
	char *buf = malloc(cap * entry), key[64], next[64];
	int n = 0;
	void *prev = NULL;

	while (buf && bpf_map_get_next_key(fd, prev, next) == 0) {
		if ((size_t)n == cap) {
			char *bigger = realloc(buf, (cap *= 2) * entry);

			if (!bigger)
				break;
			buf = bigger;
		}
		memcpy(buf + n * entry, next, key_size);
		if (bpf_map_lookup_elem(fd, next, buf + n * entry + key_size) == 0)
			n++;
		memcpy(key, next, key_size);
		prev = key;
	}
	*array = buf;
	return n;
}

/* dev_stats is keyed by net_device address; dev_cache names the address.
 * Fills out[i] for tracer device i. */
static void read_devices(struct hops_tracer *h, struct dev_counters *out)
{
	int ncpu = libbpf_num_possible_cpus(), stats_fd = bpf_map__fd(h->skel->maps.dev_stats);
	struct dev_counters *vals = calloc(ncpu, sizeof(*vals));
	__u64 key, next, *prev = NULL;

	while (vals && bpf_map_get_next_key(stats_fd, prev, &next) == 0) {
		struct dev_cached dc;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.dev_cache), &key, &dc) ||
		    bpf_map_lookup_elem(stats_fd, &key, vals))
			continue;
		for (int i = 0; i < h->nr_devs; i++) {
			if (h->ns[h->devs[i].ns].index != dc.ns_index ||
			    h->devs[i].ifindex != (int)dc.ifindex)
				continue;
			for (int c = 0; c < ncpu; c++) {
				for (int dir = 0; dir < 2; dir++) {
					out[i].packets[dir] += vals[c].packets[dir];
					out[i].bytes[dir] += vals[c].bytes[dir];
				}
			}
		}
	}
	free(vals);
}

/* hop_latency is per CPU: each entry comes back once per CPU, summed here. */
static int read_percpu_hists(int fd, struct hops_pair **array)
{
	struct hops_pair *out = NULL;
	int ncpu = libbpf_num_possible_cpus(), n = 0, cap = 0;
	struct lat_hist *vals = calloc(ncpu, sizeof(*vals));
	struct hop_pair key, next, *prev = NULL;

	while (vals && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		if (n == cap) {
			struct hops_pair *bigger = realloc(out, (cap = cap ? cap * 2 : 64) * sizeof(*out));

			if (!bigger)
				break;
			out = bigger;
		}
		memset(&out[n], 0, sizeof(out[n]));
		out[n].key = key;
		for (int c = 0; c < ncpu; c++) {
			out[n].val.count += vals[c].count;
			out[n].val.sum_ns += vals[c].sum_ns;
			for (int b = 0; b < LAT_BUCKETS; b++)
				out[n].val.buckets[b] += vals[c].buckets[b];
		}
		n++;
	}
	free(vals);
	*array = out;
	return n;
}

/* The kernel's own name for a drop reason, read from its BTF (the enum
 * grows with every release, so no table is compiled in). */
static const char *drop_reason_name(__u32 reason, char *buf, size_t len)
{
	static struct btf *btf;
	const struct btf_type *t;
	int id;

	snprintf(buf, len, "reason %u", reason);
	if (!btf)
		btf = btf__load_vmlinux_btf();
	if (!btf)
		return buf;
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0)
		return buf;
	t = btf__type_by_id(btf, id);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;
		const char *name = btf__name_by_offset(btf, e->name_off);

		if ((__u32)e->val != reason || !name)
			continue;
		if (!strncmp(name, "SKB_DROP_REASON_", 16))
			name += 16;
		snprintf(buf, len, "%s", name);
		break;
	}
	return buf;
}

static void read_drops(struct hops_tracer *h, struct hops_snapshot *s)
{
	struct { struct drop_key key; __u64 count; } *raw;
	int n = read_hash(bpf_map__fd(h->skel->maps.drops), sizeof(struct drop_key),
			  sizeof(__u64), (void **)&raw);

	s->drops = calloc(n ?: 1, sizeof(*s->drops));
	for (int i = 0; s->drops && i < n; i++) {
		s->drops[i].key = raw[i].key;
		s->drops[i].count = raw[i].count;
		drop_reason_name(raw[i].key.reason, s->drops[i].reason, sizeof(s->drops[i].reason));
	}
	s->nr_drops = s->drops ? n : 0;
	free(raw);
}

/* What the report needs of the tracer itself, copied so it may be closed. */
static void copy_setup(struct hops_tracer *h, struct hops_snapshot *s)
{
	s->duty = h->target.duty;
	s->sample_every = h->target.sample_every;
	s->server_port = h->target.server_port;
	s->all_paths = h->target.all_paths;
	s->use_tc = h->use_tc;
	s->tc_flow = h->tc_flow;
	s->use_xdp = h->use_xdp;
	s->use_nf = h->use_nf;
	s->nf_slots = h->nf_slots;
	s->nr_ns = h->nr_ns;
	for (int n = 0; n < h->nr_ns; n++)
		snprintf(s->ns_names[n], sizeof(s->ns_names[n]), "%s", h->ns[n].name);
	s->nr_devs = h->nr_devs;
	for (int i = 0; i < h->nr_devs; i++) {
		const struct traced_dev *d = &h->devs[i];
		struct hops_device *sd = &s->devs[i];

		sd->ns_index = h->ns[d->ns].index;
		sd->ifindex = d->ifindex;
		memcpy(sd->name, d->name, sizeof(sd->name));
		sd->kind = d->kind;
		sd->wire = d->wire;
		sd->traced = d->attached[0] && d->attached[1];
		sd->xdp = d->xdp_mode == XDP_FLAGS_DRV_MODE ? HOPS_XDP_DRIVER :
			  d->xdp_mode == XDP_FLAGS_SKB_MODE ? HOPS_XDP_GENERIC : HOPS_XDP_OFF;
	}
	s->nr_notes = h->nr_notes;
	memcpy(s->notes, h->notes, sizeof(s->notes));
}

struct hops_snapshot *hops_snapshot(struct hops_tracer *h)
{
	struct hops_snapshot *s = calloc(1, sizeof(*s));
	struct dev_counters *devs;

	if (!s)
		return NULL;
	copy_setup(h, s);
	read_counters(h, s->counters);
	s->sockops = h->skel->bss->sockops_totals;
	devs = calloc(h->nr_devs ?: 1, sizeof(*devs));
	if (devs) {
		read_devices(h, devs);
		for (int i = 0; i < h->nr_devs; i++)
			s->devs[i].counters = devs[i];
		free(devs);
	}
	s->nr_paths = read_hash(bpf_map__fd(h->skel->maps.paths), sizeof(struct path_key),
				sizeof(struct path_value), (void **)&s->paths);
	s->nr_pairs = read_percpu_hists(bpf_map__fd(h->skel->maps.hop_latency), &s->pairs);
	s->nr_nf = read_hash(bpf_map__fd(h->skel->maps.nf_time), sizeof(struct nf_key),
			     sizeof(struct nf_value), (void **)&s->nf);
	read_drops(h, s);
	read_fib(h, s);
	return s;
}

void hops_snapshot_free(struct hops_snapshot *s)
{
	if (!s)
		return;
	free(s->paths);
	free(s->pairs);
	free(s->nf);
	free(s->drops);
	free(s);
}

int hops_device_packets(struct hops_tracer *h, const char *netns, const char *ifname,
			uint64_t *ingress, uint64_t *egress)
{
	for (int i = 0; i < h->nr_devs; i++) {
		struct dev_counters *devs;

		if (strcmp(h->ns[h->devs[i].ns].name, netns) || strcmp(h->devs[i].name, ifname))
			continue;
		devs = calloc(h->nr_devs, sizeof(*devs));
		if (devs)
			read_devices(h, devs);
		*ingress = devs ? devs[i].packets[0] : 0;
		*egress = devs ? devs[i].packets[1] : 0;
		free(devs);
		return 0;
	}
	return -ENOENT;
}

int hops_report(struct hops_tracer *h, double seconds, uint64_t transactions)
{
	struct hops_snapshot *snap = hops_snapshot(h);

	if (!snap)
		return -ENOMEM;
	hops_print(snap, seconds, transactions);
	hops_snapshot_free(snap);
	return 0;
}
