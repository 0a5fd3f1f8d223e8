/*
 * The hop tracer's life: open (namespaces, load with fallbacks, attach),
 * reset and close. See hops.h for what it attaches where, bpf/hops.bpf.c
 * for what the kernel side aggregates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/bpf_compat.h"
#include "lib/log.h"
#include "probe/feature_probe.h"
#include "trace/hops_internal.h"
#include "hops.skel.h"

/*
 * Slots attached by default: the first and the last, so a hook costs 2
 * program runs and its tables are timed as one; the calibration slot only
 * for the calibration window. --nf-detail attaches all 9 for the whole
 * life, one between every two tables.
 */
#define NF_DEFAULT_SLOTS ((1u << 0) | (1u << (NF_SLOTS - 1)))
#define NF_ALL_SLOTS ((1u << NF_SLOTS) - 1)

void hops_note(struct hops_tracer *h, const char *name, bool on, const char *fmt, ...)
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
		hops_note(h, "tc", false, "off (--no-tc)");
	} else if (h->target.tc_key == TC_KEY_FLOW) {
		h->tc_flow = true;
		hops_note(h, "tc key", true, "flow (--tc-key flow): tc hops find the packet by its flow "
			  "tuple, TCP seq/ack and IP id/length, through an index the skb-seeing hops keep");
	} else if (!feature_probe("cast_to_kern_ctx", why, sizeof(why))) {
		h->tc_flow = true;
		hops_note(h, "tc key", true, "flow: bpf_cast_to_kern_ctx unavailable (%s)%s, so tc hops find "
			  "the packet by its flow tuple, TCP seq/ack and IP id/length", why,
			  h->target.tc_key == TC_KEY_SKB ? " although --tc-key skb was asked" : "");
	} else {
		hops_note(h, "tc key", true, "skb: tc hops share the kernel sk_buff key "
			  "(bpf_cast_to_kern_ctx)");
	}
	h->use_xdp = h->target.xdp;
	if (!h->use_xdp)
		hops_note(h, "xdp", false, "off: an XDP program on a veth moves its receive path from the "
			  "CPU backlog to NAPI, changing what is measured (--xdp turns it on)");
	h->use_btf_tp = feature_probe("tp_btf", why, sizeof(why));
	if (!h->use_btf_tp)
		hops_note(h, "tracepoints", true, "raw_tp (tp_btf unavailable: %s)", why);
	h->use_nf = !h->target.no_netfilter;
	if (h->target.no_netfilter)
		hops_note(h, "netfilter", false, "off (--no-netfilter)");
	h->use_sockops = h->target.cgroup_path != NULL;

	for (;;) {
		err = open_and_load(h, detail, sizeof(detail));
		if (!err)
			return 0;
		/* Netfilter programs need kernel 6.4; sock_ops a cgroup. Drop them in turn. */
		if (h->use_nf) {
			h->use_nf = false;
			hops_note(h, "netfilter", false,
				  "off: netfilter BPF programs refused by this kernel (%s)", detail);
			continue;
		}
		if (h->use_sockops) {
			h->use_sockops = false;
			hops_note(h, "sock_ops", false, "off: program refused (%s)", detail);
			continue;
		}
		if (h->use_xdp) {
			h->use_xdp = false;
			hops_note(h, "xdp", false, "off: program refused (%s)", detail);
			continue;
		}
		pr_warn("cannot load the hop tracer: %s (run with -v for the verifier's log)", detail);
		return err;
	}
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

/* The kernel's receive and softirq counts now, as the base of the next snapshot's. */
static void kernel_rx_base(struct hops_tracer *h)
{
	uint64_t *rx = calloc(h->nr_devs ?: 1, sizeof(*rx));

	if (!rx)
		return;
	hops_read_softirqs(h->softirq_base);
	hops_read_kernel_rx(h, rx);
	for (int i = 0; i < h->nr_devs; i++)
		h->devs[i].kernel_rx_base = rx[i];
	free(rx);
}

int hops_open(struct hops_tracer **out, const struct hops_target *target)
{
	struct hops_tracer *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	h->stats_fd = -1;
	h->target = *target;
	h->nf_slots = target->nf_detail ? NF_ALL_SLOTS : NF_DEFAULT_SLOTS;
	if (!target->nf_detail) {
		h->nf_slots |= 1u << NF_CALIBRATION_NEXT;
		h->calib_slot_apart = true;
	}
	bpf_compat_init();
	err = hops_setup_namespaces(h);
	if (err)
		goto fail;
	err = load_with_fallbacks(h);
	if (err)
		goto fail;
	for (int n = 0; n < h->nr_ns; n++) {
		struct netns_info ni = { .index = h->ns[n].index };

		__u32 slot = h->ns[n].inum & (NETNS_SLOTS - 1);
		struct netns_slot sl;

		bpf_map_update_elem(bpf_map__fd(h->skel->maps.netns_map), &h->ns[n].inum, &ni,
				    BPF_ANY);
		/* The first namespace in a slot takes it; the others stay in netns_map. */
		if (!bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.netns_slots), &slot, &sl) &&
		    !sl.inum) {
			sl = (struct netns_slot){ .inum = h->ns[n].inum, .index = ni.index };
			bpf_map_update_elem(bpf_map__fd(h->skel->maps.netns_slots), &slot, &sl, BPF_ANY);
		}
	}
	for (int i = 0; i < h->nr_devs; i++) {
		struct dev_key k = { .ns_index = h->ns[h->devs[i].ns].index,
				     .ifindex = h->devs[i].ifindex };
		struct dev_info di = { .kind = h->devs[i].kind };

		bpf_map_update_elem(bpf_map__fd(h->skel->maps.devices), &k, &di, BPF_ANY);
	}
	err = hops_load_dev_copies(h);
	if (err)
		goto fail;
	err = hops_attach_tracepoints(h, false);
	if (err)
		goto fail;
	err = hops_attach_in_namespaces(h);
	if (err)
		goto fail;
	hops_attach_sockops(h);
	pthread_mutex_init(&h->lock, NULL);
	kernel_rx_base(h);
	hops_cost_start(h);
	hops_start_duty_cycle(h);
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


/* Every entry of a per-CPU array map zeroed on every CPU. */
static void zero_percpu_array(const struct bpf_map *m)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (bpf_map__value_size(m) + 7) & ~(size_t)7;
	void *zeros = ncpu > 0 ? calloc(ncpu, stride) : NULL;

	for (__u32 i = 0; zeros && i < bpf_map__max_entries(m); i++)
		bpf_map_update_elem(bpf_map__fd(m), &i, zeros, BPF_ANY);
	free(zeros);
}

void hops_reset(struct hops_tracer *h)
{
	clear_map(bpf_map__fd(h->skel->maps.packets), sizeof(__u64));
	clear_map(bpf_map__fd(h->skel->maps.paths), sizeof(struct path_key));
	clear_map(bpf_map__fd(h->skel->maps.hop_latency), sizeof(struct hop_pair));
	clear_map(bpf_map__fd(h->skel->maps.drops), sizeof(struct drop_key));
	clear_map(bpf_map__fd(h->skel->maps.dev_stats), sizeof(__u64));
	clear_map(bpf_map__fd(h->skel->maps.pending), sizeof(struct flow_key));
	clear_map(bpf_map__fd(h->skel->maps.flow_index), sizeof(struct flow_key));
	zero_percpu_array(h->skel->maps.fib_stats);
	zero_percpu_array(h->skel->maps.counters);
	zero_percpu_array(h->skel->maps.hop_slots);
	zero_percpu_array(h->skel->maps.nf_time);
	memset(&h->skel->bss->sockops_totals, 0, sizeof(h->skel->bss->sockops_totals));
	hops_cost_reset(h);
	kernel_rx_base(h);
}

void hops_close(struct hops_tracer *h)
{
	if (!h)
		return;
	hops_detach_all(h);
	hops_cost_stop(h);
	hops_bpf__destroy(h->skel);
	free(h);
}

