/*
 * Attaching the hop tracer: packet-path tracepoints, tc filters and XDP on
 * every device, netfilter slots on every hook, sock_ops on the run's
 * cgroup, and the duty cycle that takes them off and on again. Each
 * attachment that fails is noted, with its reason, for the report.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "lib/bpf_compat.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "trace/hops_internal.h"
#include "hops.skel.h"

static const char *const tracepoints[] = {
	"net_dev_queue", "net_dev_xmit", "netif_rx", "netif_receive_skb", "napi_gro_receive_entry",
	"consume_skb", "kfree_skb", "tcp_probe", "softirq_entry", "softirq_exit",
	"sched_switch", "sched_wakeup", "fib_table_lookup",
};
#define NR_TRACEPOINTS (sizeof(tracepoints) / sizeof(tracepoints[0]))

/*
 * A device's transmit (net_dev_queue, net_dev_xmit) and receive
 * (netif_receive_skb, napi_gro_receive_entry) tracepoints fire next to its
 * tc egress and ingress hooks: where skb-keyed tc probes run they would add
 * probe runs per device crossing and no place (GRO's entry runs for every
 * segment before it merges: 25 runs a packet on a stream; what GRO merged
 * shows from the device's own receive count beside tc's, hops_devices.c). They stay for the modes that need a hop
 * with the skb there: tc off, or tc and XDP finding packets by flow key.
 */
static bool tracepoint_wanted(const struct hops_tracer *h, const char *name)
{
	bool next_to_tc = !strcmp(name, "net_dev_queue") || !strcmp(name, "net_dev_xmit") ||
			  !strcmp(name, "netif_receive_skb") ||
			  !strcmp(name, "napi_gro_receive_entry");

	if (!strcmp(name, "fib_table_lookup"))
		return h->target.fib;
	if (!strncmp(name, "softirq_", 8))
		return h->target.softirq;
	if (!strncmp(name, "sched_", 6))
		return !h->target.switches_given;
	return !next_to_tc || !h->use_tc || h->tc_flow || h->use_xdp;
}

int hops_attach_tracepoints(struct hops_tracer *h, bool quiet)
{
	const char *prefix = h->use_btf_tp ? "btf_" : "raw_";
	unsigned ok = 0, skipped = 0;
	char failed[160] = "";

	for (size_t i = 0; i < NR_TRACEPOINTS && h->nr_links < MAX_TP_LINKS; i++) {
		char name[64];
		struct bpf_program *p;
		struct bpf_link *l;

		if (!tracepoint_wanted(h, tracepoints[i])) {
			skipped++;
			continue;
		}
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
		hops_note(h, "tracepoints", true, "%s: %u attached; missing: %s",
			  h->use_btf_tp ? "tp_btf" : "raw_tp", ok, failed);
	else
		hops_note(h, "tracepoints", true, "%s: %u attached (packet path%s%s%s)",
			  h->use_btf_tp ? "tp_btf" : "raw_tp", ok, h->target.fib ? ", FIB lookups" : "",
			  h->target.softirq ? ", softirq" : "",
			  h->target.switches_given ? "" : ", scheduler");
	if (!h->target.fib)
		hops_note(h, "FIB lookups", false, "off: a run for every lookup (--fib: on)");
	if (!h->target.softirq)
		hops_note(h, "softirq passes", false, "off: 2 runs for every softirq of the machine "
			  "(--softirq: on); NET_RX and NET_TX totals from /proc/softirqs");
	if (h->target.switches_given)
		hops_note(h, "scheduler", true, "context switches from getrusage of the client's and "
			  "server's processes: no tracepoint");
	if (skipped > (unsigned)(!h->target.fib + 2 * !h->target.softirq +
				 2 * h->target.switches_given))
		hops_note(h, "device tps", false, "net_dev_queue, net_dev_xmit, netif_receive_skb, "
			  "napi_gro_receive_entry off: tc marks those places (--no-tc or --tc-key flow: on)");
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
int hops_load_dev_copies(struct hops_tracer *h)
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

/* NF_INET_LOCAL_OUT: where a packet of this namespace's sockets is born. */
#define NF_HOOK_PREROUTING 0
#define NF_HOOK_FORWARD 2
#define NF_HOOK_OUTPUT 3
#define NF_HOOK_POSTROUTING 4

/* net.ipv4.ip_forward of the namespace the calling thread is in. */
static bool ns_forwards(void)
{
	char buf[8] = "";
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return true;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '1';
	close(fd);
	return buf[0] != '0';
}

/*
 * The slots of one hook. By default a hook's entry slot is left off where
 * the probe before it sits right at its entry: PREROUTING comes straight
 * after the device's tc ingress, and POSTROUTING straight after FORWARD's
 * (or OUTPUT's) last slot when every packet reaching it crossed one of
 * those. Its last slot then times the hook from that probe (nf_exit_only_hop):
 * two runs a packet fewer per node, for the tens of ns of ip_rcv or
 * ip_output between the two that the hook's time takes in.
 */
static unsigned hook_slots(const struct hops_tracer *h, const struct traced_ns *ns, int hook,
			   bool forwards)
{
	unsigned slots = h->nf_slots, entry = 1u << 0 | 1u << NF_CALIBRATION_NEXT;
	bool after_probe = false;

	if (h->target.nf_detail)
		return slots;
	if (hook == NF_HOOK_PREROUTING)
		after_probe = h->use_tc;
	else if (hook == NF_HOOK_POSTROUTING)
		after_probe = (ns->rule_hooks & (1u << NF_HOOK_FORWARD)) || !forwards;
	return after_probe ? slots & ~entry : slots;
}

/*
 * The netfilter links of one namespace (the calling thread is in it): the
 * slots at every hook where some table or chain works, none where nothing
 * does, and the origin probe at OUTPUT when no slot marks it.
 */
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

	if (!(ns->rule_hooks & (1u << NF_HOOK_OUTPUT))) {
		fd = nf_link_create(bpf_program__fd(h->skel->progs.hop_origin), NP_NFPROTO_IPV4,
				    NF_HOOK_OUTPUT, priorities[0]);
		if (fd < 0)
			return fd;
		ns->nf_links[ns->nr_nf_links++] = fd;
	}
	bool forwards = ns_forwards();

	for (int hook = 0; hook < NF_HOOKS; hook++) {
		unsigned slots = hook_slots(h, ns, hook, forwards);

		if (!(ns->rule_hooks & (1u << hook)))
			continue;
		for (int slot = 0; slot < NF_SLOTS; slot++) {
			bool calib = slot == NF_CALIBRATION_NEXT && h->calib_slot_apart;

			if (!(slots & (1u << slot)))
				continue;
			fd = nf_link_create(bpf_program__fd(slot_progs[slot]), NP_NFPROTO_IPV4, hook,
					    priorities[slot]);
			if (fd < 0)
				return fd;
			if (calib)
				ns->calib_links[ns->nr_calib_links++] = fd;
			else
				ns->nf_links[ns->nr_nf_links++] = fd;
		}
	}
	return 0;
}

static void detach_calibration(struct traced_ns *ns)
{
	for (int i = 0; i < ns->nr_calib_links; i++)
		close(ns->calib_links[i]);
	ns->nr_calib_links = 0;
}

static void detach_nf(struct traced_ns *ns)
{
	for (int i = 0; i < ns->nr_nf_links; i++)
		close(ns->nf_links[i]);
	ns->nr_nf_links = 0;
	detach_calibration(ns);
}

void hops_detach_calibration(struct hops_tracer *h)
{
	if (!h->calib_slot_apart)
		return;
	for (int n = 0; n < h->nr_ns; n++)
		detach_calibration(&h->ns[n]);
	h->nf_slots &= ~(1u << NF_CALIBRATION_NEXT);
	h->calib_slot_apart = false;
}

int hops_attach_in_namespaces(struct hops_tracer *h)
{
	unsigned tc_devs = 0, tc_failed = 0, ruled = 0, origins = 0, xdp_drv = 0, xdp_skb = 0,
		 xdp_failed = 0, hooks = 0;
	int nf_err = 0, tc_err = 0, xdp_err = 0;

	for (int n = 0; n < h->nr_ns; n++) {
		struct traced_ns *ns = &h->ns[n];
		int saved = netns_enter(ns->name);

		if (saved < 0)
			return saved;
		if (h->use_nf && !nf_err) {
			nf_err = attach_nf(h, ns);
			ruled += ns->rule_hooks != 0;
			origins += !(ns->rule_hooks & (1u << NF_HOOK_OUTPUT));
			for (int hook = 0; hook < NF_HOOKS; hook++)
				hooks += !!(ns->rule_hooks & (1u << hook));
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
		hops_note(h, "xdp", xdp_drv + xdp_skb > 0, "on (--xdp) on %u devices: %u in driver mode (a "
			  "veth with XDP receives through NAPI, not the CPU backlog), %u generic%s%s",
			  xdp_drv + xdp_skb, xdp_drv, xdp_skb, xdp_failed ? "; failed on some: " : "",
			  xdp_failed ? strerror(-xdp_err) : "");
	if (h->use_nf && nf_err) {
		hops_note(h, "netfilter", false, "off: netfilter link refused (%s)", strerror(-nf_err));
		h->use_nf = false;
		for (int n = 0; n < h->nr_ns; n++)
			detach_nf(&h->ns[n]);
	} else if (h->use_nf) {
		unsigned slots = 0;

		for (int n = 0; n < h->nr_ns; n++)
			slots += h->ns[n].nr_nf_links;
		hops_note(h, "netfilter", true, "%u slots at the %u hooks where tables work, in %u "
			  "namespaces (%s)%s; an origin probe at OUTPUT in %u", slots - origins, hooks,
			  ruled, h->target.nf_detail ? "9 a hook" : "first and last, the last only where "
			  "the probe before a hook sits at its entry; --nf-detail: 9 a hook",
			  h->calib_slot_apart ? ", a calibration slot at first" : "", origins);
	}
	if (h->use_tc)
		hops_note(h, "tc", tc_devs > 0, "clsact ingress+egress on %u devices%s%s%s", tc_devs,
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
		hops_attach_tracepoints(h, true);
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

int hops_attach_sockops(struct hops_tracer *h)
{
	struct bpf_link *l;
	int cg;

	if (!h->use_sockops) {
		if (!h->target.cgroup_path)
			hops_note(h, "sock_ops", false, "off: no run cgroup given");
		return 0;
	}
	cg = open(h->target.cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	l = cg >= 0 ? bpf_program__attach_cgroup(h->skel->progs.hop_sockops, cg) : NULL;
	if (cg >= 0)
		close(cg);
	if (!l) {
		hops_note(h, "sock_ops", false, "off: attach to %s failed", h->target.cgroup_path);
		return 0;
	}
	h->sockops_link = l;
	hops_note(h, "sock_ops", true, "on the run's cgroup %s", h->target.cgroup_path);
	return 0;
}

void hops_start_duty_cycle(struct hops_tracer *h)
{
	if (h->target.duty <= 1)
		return;
	h->duty_running = pthread_create(&h->duty_thread, NULL, duty_cycle, h) == 0;
	hops_note(h, "duty cycle", h->duty_running,
		  "probes attached %u ms in every %u ms (--duty %u); counts cover those windows%s",
		  DUTY_WINDOW_MS, DUTY_WINDOW_MS * h->target.duty, h->target.duty,
		  h->use_xdp ? " (XDP stays attached: re-attaching would switch veth's receive "
		  "path every window)" : "");
}

void hops_detach_all(struct hops_tracer *h)
{
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
		detach_nf(&h->ns[n]);
		if (saved >= 0)
			netns_leave(saved);
	}
	for (int i = 0; i < h->nr_devs; i++)
		close_dev_copies(&h->devs[i]);
}
