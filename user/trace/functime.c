/*
 * Function timing (see functime.h): options, loading and attaching with the
 * fentry/kprobe fallback, and the snapshot. One copy of bpf/functime.bpf.c
 * is loaded per function, all sharing the maps of the first (the "base",
 * which also holds the sched_switch program that takes switched-out time
 * out of a call's self time): a function this kernel lacks, or cannot
 * trace, then fails alone and is reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/log.h"
#include "lib/netns.h"
#include "lib/percpu.h"
#include "lib/teardown.h"
#include "probe/feature_probe.h"
#include "trace/functime_internal.h"
#include "functime.skel.h"

/* Where a datapath's cost lives; the ones a kernel lacks, or has in a
 * module that is not loaded, are reported and skipped. */
static const char *const default_funcs[] = {
	"nf_hook_slow", "ipt_do_table", "nft_do_chain", "nf_conntrack_in",
	"__nf_conntrack_confirm", "veth_xmit", "macvlan_start_xmit", "macvlan_handle_frame",
	"br_handle_frame", "process_backlog", "__netif_receive_skb_core", "ip_rcv",
	"ip_forward", "ip_output", "tcp_v4_rcv", "tcp_sendmsg", "tcp_recvmsg",
};

int func_probe_mode_parse(const char *s)
{
	static const char *const names[] = { "auto", "fentry", "kprobe", "off" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

const char *func_probe_mode_name(enum func_probe_mode m)
{
	switch (m) {
	case FUNC_PROBE_FENTRY: return "fentry";
	case FUNC_PROBE_KPROBE: return "kprobe";
	case FUNC_PROBE_OFF: return "off";
	default: return "auto";
	}
}

int func_timer_opts_add(struct func_timer_opts *o, const char *names)
{
	char buf[512], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", names);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(tok);

		if (!n || n >= FUNC_NAME_MAX || strspn(tok, "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != n) {
			usage_error("--func: '%s' is not a kernel function name (letters, digits, _ and .)",
				    tok);
			return -1;
		}
		if (o->nr_extra >= (int)(sizeof(o->extra) / sizeof(o->extra[0]))) {
			usage_error("--func: at most %zu functions",
				    sizeof(o->extra) / sizeof(o->extra[0]));
			return -1;
		}
		o->extra[o->nr_extra++] = strdup(tok);
	}
	return 0;
}

/* ---- loading ---- */

static int reuse_maps(struct func_timer *t, struct functime_bpf *skel)
{
	struct bpf_map *own[] = { skel->maps.func_netns, skel->maps.func_stacks,
				  skel->maps.func_stats, skel->maps.func_counters };
	struct bpf_map *base[] = { t->base->maps.func_netns, t->base->maps.func_stacks,
				   t->base->maps.func_stats, t->base->maps.func_counters };

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		int err = bpf_map__reuse_fd(own[i], bpf_map__fd(base[i]));

		if (err)
			return err;
	}
	return 0;
}

/* Loads only these programs (b may be NULL) of one copy of the object. */
static void autoload_only(struct functime_bpf *skel, struct bpf_program *a, struct bpf_program *b)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == a || p == b);
}

/* The shared maps, and the switched-out time where a tracepoint allows it. */
static int load_base(struct func_timer *t)
{
	for (int raw = 0; raw < 2; raw++) {
		struct functime_bpf *skel = functime_bpf__open();
		struct bpf_program *sw;
		int err;

		if (!skel)
			return -errno;
		sw = raw ? skel->progs.func_raw_sched_switch : skel->progs.func_btf_sched_switch;
		autoload_only(skel, sw, NULL);
		err = functime_bpf__load(skel);
		if (!err) {
			t->base = skel;
			t->switch_link = bpf_program__attach(sw);
			t->off_cpu = t->switch_link != NULL;
			return 0;
		}
		functime_bpf__destroy(skel);
		if (raw)
			return err;
	}
	return -EINVAL;
}

static int attach_func(struct func_timer *t, struct timed_func *f, enum func_probe_mode probe)
{
	struct functime_bpf *skel = functime_bpf__open();
	struct bpf_program *entry, *exit_;
	int err;

	if (!skel)
		return -errno;
	skel->rodata->func_slot = f - t->funcs;
	skel->rodata->func_arg_kind = f->arg_kind;
	skel->rodata->func_arg_index = f->arg_index;
	if (probe == FUNC_PROBE_FENTRY) {
		entry = skel->progs.func_fentry;
		exit_ = skel->progs.func_fexit;
		err = bpf_program__set_attach_target(entry, 0, f->name) ?:
		      bpf_program__set_attach_target(exit_, 0, f->name);
	} else {
		/* kprobe arguments come from registers: the first five only. */
		if (f->arg_index > 4) {
			skel->rodata->func_arg_kind = FARG_NONE;
			skel->rodata->func_arg_index = 0;
		}
		entry = skel->progs.func_kprobe;
		exit_ = skel->progs.func_kretprobe;
		err = 0;
	}
	autoload_only(skel, entry, exit_);
	err = err ?: reuse_maps(t, skel) ?: functime_bpf__load(skel);
	if (err)
		goto fail;
	if (probe == FUNC_PROBE_FENTRY) {
		f->links[0] = bpf_program__attach(entry);
		f->links[1] = f->links[0] ? bpf_program__attach(exit_) : NULL;
	} else {
		const char *sym = f->symbol[0] ? f->symbol : f->name;

		f->links[0] = bpf_program__attach_kprobe(entry, false, sym);
		f->links[1] = f->links[0] ? bpf_program__attach_kprobe(exit_, true, sym) : NULL;
	}
	if (!f->links[1]) {
		err = -errno;
		bpf_link__destroy(f->links[0]);
		f->links[0] = NULL;
		goto fail;
	}
	f->skel = skel;
	f->probe = probe;
	f->timed = true;
	return 0;
fail:
	functime_bpf__destroy(skel);
	return err ? err : -EINVAL;
}

/*
 * The compiler's clone of a function (name.constprop.0, name.isra.0,
 * name.part.0) when the kernel has no symbol of the plain name: BTF leaves
 * those out, a kprobe can still time them.
 */
static bool find_clone(const char *name, char *out, size_t len)
{
	char line[512], sym[256], type;
	size_t n = strlen(name);
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %c %255s", &type, sym) != 2 || (type != 't' && type != 'T'))
			continue;
		if (!strncmp(sym, name, n) && sym[n] == '.') {
			snprintf(out, len, "%s", sym);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void add_func(struct func_timer *t, const char *name)
{
	for (int i = 0; i < t->nr_funcs; i++)
		if (!strcmp(t->funcs[i].name, name))
			return;
	if (t->nr_funcs < FUNC_MAX)
		snprintf(t->funcs[t->nr_funcs++].name, FUNC_NAME_MAX, "%s", name);
}

/* fentry where the kernel takes it, else kprobes, else off: and why. */
static enum func_probe_mode choose_mode(struct func_timer *t, enum func_probe_mode want)
{
	char fentry_why[140] = "", kprobe_why[140] = "";

	if (want == FUNC_PROBE_OFF) {
		snprintf(t->why, sizeof(t->why), "--func-probe off");
		return FUNC_PROBE_OFF;
	}
	if (want != FUNC_PROBE_KPROBE) {
		if (feature_probe("fentry", fentry_why, sizeof(fentry_why)) &&
		    feature_probe("fexit", fentry_why, sizeof(fentry_why))) {
			/* Per function, kprobes stand in where fentry cannot. */
			t->kprobe_ok = want == FUNC_PROBE_AUTO &&
				       feature_probe("kprobe", kprobe_why, sizeof(kprobe_why));
			return FUNC_PROBE_FENTRY;
		}
		if (want == FUNC_PROBE_FENTRY) {
			snprintf(t->why, sizeof(t->why), "fentry unavailable (%s)", fentry_why);
			return FUNC_PROBE_OFF;
		}
	}
	t->kprobe_ok = feature_probe("kprobe", kprobe_why, sizeof(kprobe_why));
	if (t->kprobe_ok) {
		if (want == FUNC_PROBE_AUTO)
			snprintf(t->why, sizeof(t->why), "fentry unavailable (%s)", fentry_why);
		return FUNC_PROBE_KPROBE;
	}
	if (want == FUNC_PROBE_KPROBE)
		snprintf(t->why, sizeof(t->why), "kprobes unavailable (%s)", kprobe_why);
	else
		snprintf(t->why, sizeof(t->why), "fentry unavailable (%s); kprobes unavailable (%s)",
			 fentry_why, kprobe_why);
	return FUNC_PROBE_OFF;
}

/*
 * fentry when the kernel takes it and BTF has the function; else a kprobe
 * (on the function, or on its compiler clone). Returns 1 when timed; the
 * status says how, or why not.
 */
static int time_one(struct func_timer *t, struct timed_func *f, const struct btf_set *btfs)
{
	bool in_btf = describe_func(btfs, f);
	int err = -ENOENT, fentry_err = 0;

	if (t->mode == FUNC_PROBE_FENTRY && in_btf) {
		err = attach_func(t, f, FUNC_PROBE_FENTRY);
		if (!err) {
			snprintf(f->status, sizeof(f->status), "fentry%s%s",
				 f->module[0] ? ", module " : "", f->module);
			return 1;
		}
		fentry_err = err;
	}
	if (!t->kprobe_ok) {
		if (fentry_err)
			snprintf(f->status, sizeof(f->status), "cannot attach a fentry: %s",
				 strerror(-fentry_err));
		else
			snprintf(f->status, sizeof(f->status), "not in this kernel's BTF (absent, "
				 "inlined, or its module not loaded); no kprobes to try its symbol");
		return 0;
	}
	err = attach_func(t, f, FUNC_PROBE_KPROBE);
	if (err == -ENOENT && find_clone(f->name, f->symbol, sizeof(f->symbol))) {
		/* A clone's arguments may differ: no namespace from them. */
		f->arg_kind = FARG_NONE;
		err = attach_func(t, f, FUNC_PROBE_KPROBE);
	}
	if (err == -ENOENT) {
		snprintf(f->status, sizeof(f->status),
			 "not in this kernel: no symbol (absent, inlined, or its module not loaded)");
		return 0;
	}
	if (err) {
		snprintf(f->status, sizeof(f->status), "cannot attach a kprobe: %s", strerror(-err));
		return 0;
	}
	snprintf(f->status, sizeof(f->status), "kprobe%s%s%s%s", f->symbol[0] ? " on its clone " : "",
		 f->symbol, fentry_err ? ", fentry refused: " : "",
		 fentry_err ? strerror(-fentry_err) : "");
	return 1;
}

struct func_timer *func_timer_open(const struct func_timer_opts *o)
{
	struct func_timer *t = calloc(1, sizeof(*t));
	struct btf_set btfs;
	int attached = 0, err;

	if (!t)
		return NULL;
	if (!o->only_extra)
		for (size_t i = 0; i < sizeof(default_funcs) / sizeof(default_funcs[0]); i++)
			add_func(t, default_funcs[i]);
	for (int i = 0; i < o->nr_extra; i++)
		add_func(t, o->extra[i]);
	t->mode = choose_mode(t, o->mode);
	if (t->mode == FUNC_PROBE_OFF)
		return t;

	for (int i = 0; i < o->nr_netns && t->nr_netns < FUNC_NETNS_MAX; i++) {
		char path[300];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, o->netns[i]);
		/* The nsfs file's inode is the namespace's inum, as the kernel sees it. */
		if (stat(path, &st) == 0)
			t->netns_inum[t->nr_netns++] = st.st_ino;
	}
	err = load_base(t);
	if (err) {
		snprintf(t->why, sizeof(t->why), "cannot load the function probes' maps: %s",
			 strerror(-err));
		t->mode = FUNC_PROBE_OFF;
		return t;
	}
	for (int i = 0; i < t->nr_netns; i++) {
		__u32 one = 1;

		bpf_map_update_elem(bpf_map__fd(t->base->maps.func_netns), &t->netns_inum[i], &one,
				    BPF_ANY);
	}

	btf_set_load(&btfs);
	for (int i = 0; i < t->nr_funcs && !stop_requested(); i++)
		attached += time_one(t, &t->funcs[i], &btfs);
	btf_set_free(&btfs);
	if (!attached) {
		snprintf(t->why, sizeof(t->why), "none of the %d functions could be probed",
			 t->nr_funcs);
		t->mode = FUNC_PROBE_OFF;
	}
	return t;
}

bool func_timer_active(const struct func_timer *t)
{
	return t && t->mode != FUNC_PROBE_OFF;
}

void func_timer_reset(struct func_timer *t)
{
	int ncpu = libbpf_num_possible_cpus();
	void *zero;

	if (!func_timer_active(t) || ncpu <= 0)
		return;
	zero = calloc(ncpu, sizeof(struct func_stats));
	if (!zero)
		return;
	for (__u32 i = 0; i < FUNC_MAX; i++)
		bpf_map_update_elem(bpf_map__fd(t->base->maps.func_stats), &i, zero, BPF_ANY);
	for (__u32 i = 0; i < FCNT_MAX; i++)
		bpf_map_update_elem(bpf_map__fd(t->base->maps.func_counters), &i, zero, BPF_ANY);
	free(zero);
}

static void add_stats(void *total, const void *one_cpu)
{
	struct func_stats *sum = total;
	const struct func_stats *one = one_cpu;

	sum->calls += one->calls;
	sum->total_ns += one->total_ns;
	sum->self_ns += one->self_ns;
	sum->off_cpu_ns += one->off_cpu_ns;
	lat_hist_add(&sum->hist, &one->hist);
}

struct func_snapshot *func_timer_snapshot(struct func_timer *t)
{
	struct func_snapshot *s;

	if (!t)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->mode = t->mode;
	snprintf(s->why, sizeof(s->why), "%s", t->why);
	s->off_cpu = t->off_cpu;
	s->nr_funcs = t->nr_funcs;
	for (int i = 0; i < t->nr_funcs; i++) {
		snprintf(s->funcs[i].name, sizeof(s->funcs[i].name), "%s", t->funcs[i].name);
		snprintf(s->funcs[i].status, sizeof(s->funcs[i].status), "%s", t->funcs[i].status);
		s->funcs[i].timed = t->funcs[i].timed;
	}
	if (!func_timer_active(t))
		return s;
	for (__u32 i = 0; i < FUNC_MAX; i++)
		percpu_lookup_sum(bpf_map__fd(t->base->maps.func_stats), &i, &s->stats[i],
				  sizeof(s->stats[i]), add_stats);
	for (__u32 i = 0; i < FCNT_MAX; i++)
		percpu_lookup_sum_u64(bpf_map__fd(t->base->maps.func_counters), &i, &s->counters[i],
				      sizeof(s->counters[i]));
	return s;
}

void func_snapshot_free(struct func_snapshot *s)
{
	free(s);
}

void func_timer_close(struct func_timer *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->nr_funcs; i++) {
		bpf_link__destroy(t->funcs[i].links[1]);
		bpf_link__destroy(t->funcs[i].links[0]);
		functime_bpf__destroy(t->funcs[i].skel);
	}
	bpf_link__destroy(t->switch_link);
	functime_bpf__destroy(t->base);
	free(t);
}
