/*
 * Function timing (see func_timer.h). One copy of bpf/functime.bpf.c is
 * loaded per function, all sharing the maps of the first (the "base", which
 * also holds the sched_switch program that takes switched-out time out of a
 * call's self time): a function this kernel lacks, or cannot trace, then
 * fails alone and is reported.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "probe/feature_probe.h"
#include "trace/func_timer.h"
#include "bpf/functime.h"
#include "functime.skel.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/output.h"
#include "lib/teardown.h"

/* Where a datapath's cost lives (issue #7); the ones a kernel lacks, or has
 * in a module that is not loaded, are reported and skipped. */
static const char *const default_funcs[] = {
	"nf_hook_slow", "ipt_do_table", "nft_do_chain", "nf_conntrack_in",
	"__nf_conntrack_confirm", "veth_xmit", "macvlan_start_xmit", "macvlan_handle_frame",
	"br_handle_frame", "process_backlog", "__netif_receive_skb_core", "ip_rcv",
	"ip_forward", "ip_output", "tcp_v4_rcv", "tcp_sendmsg", "tcp_recvmsg",
};

struct timed_func {
	char name[FUNC_NAME_MAX];
	char symbol[256];		/* what a kprobe attaches to: name, or a clone */
	char module[32];		/* where its BTF was found; "" = vmlinux */
	char status[160];		/* why it is not timed, or how it is */
	enum func_arg_kind arg_kind;
	int arg_index;
	bool timed;
	enum func_probe_mode probe;
	struct functime_bpf *skel;
	struct bpf_link *links[2];
};

struct func_timer {
	enum func_probe_mode mode;	/* what was chosen: fentry, kprobe or off */
	char why[300];			/* why off, or what was refused on the way */
	struct functime_bpf *base;
	struct bpf_link *switch_link;
	bool off_cpu;			/* switched-out time is taken out of self time */
	bool kprobe_ok;			/* kprobes work: a fallback per function */
	struct timed_func funcs[FUNC_MAX];
	int nr_funcs;
	uint32_t netns_inum[FUNC_NETNS_MAX];
	int nr_netns;
};

struct func_snapshot {
	struct func_stats stats[FUNC_MAX];
	uint64_t counters[FCNT_MAX];
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

/* ---- BTF: which argument leads to the call's namespace ---- */

struct btf_set {
	struct btf *vmlinux;
	struct btf *mods[256];
	char mod_names[256][32];
	int nr_mods;
};

static void btf_set_load(struct btf_set *b)
{
	__u32 id = 0;

	memset(b, 0, sizeof(*b));
	b->vmlinux = btf__load_vmlinux_btf();
	if (!b->vmlinux)
		return;
	/* Loaded modules' BTF (netfilter, veth, macvlan on distribution kernels). */
	while (!bpf_btf_get_next_id(id, &id) && b->nr_mods < 256) {
		struct bpf_btf_info info = {};
		__u32 len = sizeof(info);
		char name[64] = "";
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;
		info.name = (__u64)(unsigned long)name;
		info.name_len = sizeof(name);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf &&
		    strcmp(name, "vmlinux")) {
			struct btf *m = btf__load_from_kernel_by_id_split(id, b->vmlinux);

			if (m) {
				snprintf(b->mod_names[b->nr_mods], sizeof(b->mod_names[0]), "%s", name);
				b->mods[b->nr_mods++] = m;
			}
		}
		close(fd);
	}
}

static void btf_set_free(struct btf_set *b)
{
	for (int i = 0; i < b->nr_mods; i++)
		btf__free(b->mods[i]);
	btf__free(b->vmlinux);
}

/* The struct a pointer points to (through typedefs and qualifiers), or NULL. */
static const struct btf_type *pointee_struct(const struct btf *btf, __u32 type_id, int *levels)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);

	*levels = 0;
	while (t) {
		if (btf_is_ptr(t)) {
			(*levels)++;
			t = btf__type_by_id(btf, t->type);
		} else if (btf_is_mod(t) || btf_is_typedef(t)) {
			t = btf__type_by_id(btf, t->type);
		} else {
			break;
		}
	}
	return t && btf_is_struct(t) ? t : NULL;
}

static enum func_arg_kind kind_of_param(const struct btf *btf, __u32 type_id)
{
	int levels;
	const struct btf_type *s = pointee_struct(btf, type_id, &levels);
	const char *name = s ? btf__name_by_offset(btf, s->name_off) : NULL;

	if (!name)
		return FARG_NONE;
	if (levels == 2)
		return !strcmp(name, "sk_buff") ? FARG_SKB_PTR : FARG_NONE;
	if (levels != 1)
		return FARG_NONE;
	if (!strcmp(name, "net"))
		return FARG_NET;
	if (!strcmp(name, "nf_hook_state"))
		return FARG_NF_STATE;
	if (!strcmp(name, "sk_buff"))
		return FARG_SKB;
	if (!strcmp(name, "sock"))
		return FARG_SOCK;
	if (!strcmp(name, "net_device"))
		return FARG_DEV;
	if (!strcmp(name, "napi_struct"))
		return FARG_NAPI;
	if (btf_vlen(s) > 0) {
		const struct btf_member *m = btf_members(s);
		const struct btf_type *inner = pointee_struct(btf, m->type, &levels);

		/* nft_pktinfo and its kind: the packet is the first member. */
		if (m->offset == 0 && inner && levels == 1 &&
		    !strcmp(btf__name_by_offset(btf, inner->name_off), "sk_buff"))
			return FARG_SKB_FIRST;
	}
	return FARG_NONE;
}

/* The best argument: the namespace itself, then what holds it most surely. */
static int kind_rank(enum func_arg_kind k)
{
	static const int rank[FARG_KIND_MAX] = {
		[FARG_NET] = 8, [FARG_NF_STATE] = 7, [FARG_SKB] = 6, [FARG_SKB_PTR] = 5,
		[FARG_SKB_FIRST] = 4, [FARG_SOCK] = 3, [FARG_DEV] = 2, [FARG_NAPI] = 1,
	};
	return k < FARG_KIND_MAX ? rank[k] : 0;
}

/* Finds the function in BTF; false when no BTF has it. */
static bool describe_func(const struct btf_set *b, struct timed_func *f)
{
	for (int i = -1; i < b->nr_mods; i++) {
		const struct btf *btf = i < 0 ? b->vmlinux : b->mods[i];
		const struct btf_type *fn, *proto;
		const struct btf_param *p;
		int id;

		if (!btf)
			continue;
		id = btf__find_by_name_kind(btf, f->name, BTF_KIND_FUNC);
		if (id < 0)
			continue;
		fn = btf__type_by_id(btf, id);
		proto = fn ? btf__type_by_id(btf, fn->type) : NULL;
		if (!proto || !btf_is_func_proto(proto))
			continue;
		snprintf(f->module, sizeof(f->module), "%s", i < 0 ? "" : b->mod_names[i]);
		p = btf_params(proto);
		f->arg_kind = FARG_NONE;
		for (int a = 0; a < btf_vlen(proto) && a < 6; a++) {
			enum func_arg_kind k = kind_of_param(btf, p[a].type);

			if (kind_rank(k) > kind_rank(f->arg_kind)) {
				f->arg_kind = k;
				f->arg_index = a;
			}
		}
		return true;
	}
	return false;
}

int func_timer_describe(const char *name, int *arg_index, char *module, size_t module_len)
{
	struct timed_func f = {};
	struct btf_set btfs;
	bool found;

	snprintf(f.name, sizeof(f.name), "%s", name);
	btf_set_load(&btfs);
	found = describe_func(&btfs, &f);
	btf_set_free(&btfs);
	if (!found)
		return -ENOENT;
	*arg_index = f.arg_index;
	snprintf(module, module_len, "%s", f.module);
	return f.arg_kind;
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

struct func_snapshot *func_timer_snapshot(struct func_timer *t)
{
	int ncpu = libbpf_num_possible_cpus();
	struct func_snapshot *s;
	struct func_stats *per_cpu;

	if (!func_timer_active(t) || ncpu <= 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	per_cpu = calloc(ncpu, sizeof(*per_cpu));
	if (!s || !per_cpu) {
		free(s);
		free(per_cpu);
		return NULL;
	}
	for (__u32 i = 0; i < FUNC_MAX; i++) {
		if (bpf_map_lookup_elem(bpf_map__fd(t->base->maps.func_stats), &i, per_cpu))
			continue;
		for (int c = 0; c < ncpu; c++) {
			s->stats[i].calls += per_cpu[c].calls;
			s->stats[i].total_ns += per_cpu[c].total_ns;
			s->stats[i].self_ns += per_cpu[c].self_ns;
			s->stats[i].off_cpu_ns += per_cpu[c].off_cpu_ns;
			lat_hist_add(&s->stats[i].hist, &per_cpu[c].hist);
		}
	}
	for (__u32 i = 0; i < FCNT_MAX; i++) {
		__u64 v[ncpu];

		if (bpf_map_lookup_elem(bpf_map__fd(t->base->maps.func_counters), &i, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			s->counters[i] += v[c];
	}
	free(per_cpu);
	return s;
}

void func_snapshot_free(struct func_snapshot *s)
{
	free(s);
}

static int category_of(const struct categories *cats, const char *func)
{
	char frame[FUNC_NAME_MAX + 8];
	const char *frames[2] = { "swapper", frame };

	if (!cats)
		return -1;
	snprintf(frame, sizeof(frame), "%s_[k]", func);
	return categories_classify(cats, frames, 2);
}

static double per(double v, double n)
{
	return n > 0 ? v / n : NAN;
}

void func_timer_summarize(const struct func_timer *t, const struct func_snapshot *s,
			  double packets, const struct categories *cats, struct func_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	snprintf(sum->probe, sizeof(sum->probe), "%s", func_probe_mode_name(t ? t->mode : FUNC_PROBE_OFF));
	if (!func_timer_active(t) || !s || packets <= 0)
		return;
	sum->valid = true;
	for (int i = 0; i < t->nr_funcs; i++) {
		double us = s->stats[i].self_ns / 1e3 / packets;
		int c = category_of(cats, t->funcs[i].name);

		if (!t->funcs[i].timed)
			continue;
		sum->total_self_us_per_packet += us;
		if (c >= 0 && c < CAT_MAX)
			sum->self_us_per_packet[c] += us;
	}
}

static void print_histogram(const struct lat_hist *h)
{
	out_array_begin("histogram");
	for (int b = 0; b < LAT_BUCKETS; b++) {
		if (!h->buckets[b])
			continue;
		out_object_begin(NULL);
		out_double("from_ns", NULL, lat_bucket_low(b));
		out_uint("count", NULL, h->buckets[b]);
		out_object_end();
	}
	out_array_end();
}

static const char *const counter_names[FCNT_MAX] = {
	[FCNT_OTHER_NETNS] = "other_netns_calls",
	[FCNT_UNRESOLVED] = "unresolved_calls",
	[FCNT_PENDING_FULL] = "unresolved_held_full",
	[FCNT_DEPTH_FULL] = "too_deep",
	[FCNT_UNMATCHED] = "exits_without_entry",
	[FCNT_LOST_EXITS] = "lost_exits",
	[FCNT_STACKS_FULL] = "stacks_full",
};

void func_timer_print(const struct func_timer *t, const struct func_snapshot *s, double packets,
		      double transactions, const struct categories *cats)
{
	int timed = 0;

	out_object_begin("functions");
	out_string("probe", "Kernel functions: %s", func_probe_mode_name(t ? t->mode : FUNC_PROBE_OFF));
	if (!func_timer_active(t) || !s) {
		out_string("why", " (%s)\n", t ? t->why : "not requested");
		out_object_end();
		return;
	}
	for (int i = 0; i < t->nr_funcs; i++)
		timed += t->funcs[i].timed;
	out_uint("timed", ", %llu", (unsigned long long)timed);
	out_uint("requested", " of %llu functions timed", (unsigned long long)t->nr_funcs);
	out_string("note", t->why[0] ? " (%s)" : NULL, t->why);
	out_bool("off_cpu_excluded", t->off_cpu ? "; self time excludes switched-out time" :
		 "; self time includes switched-out time (no sched_switch)", t->off_cpu);
	out_double("packets", "; per packet = per IP packet the endpoints sent (%.0f)", packets);
	out_text("\n");
	out_text("  %-26s %10s %9s %10s %10s %9s %9s %9s  %s\n", "function", "calls", "calls/pkt",
		 "total/pkt", "self/pkt", "self/tx", "p50", "p99", "category");
	out_text("  %-26s %10s %9s %10s %10s %9s %9s %9s\n", "", "", "", "us", "us", "us", "us", "us");
	out_array_begin("functions");
	for (int i = 0; i < t->nr_funcs; i++) {
		const struct timed_func *f = &t->funcs[i];
		const struct func_stats *st = &s->stats[i];
		int c = category_of(cats, f->name);

		if (!f->timed)
			continue;
		out_object_begin(NULL);
		out_string("name", "  %-26s", f->name);
		out_uint("calls", " %10llu", (unsigned long long)st->calls);
		out_double("calls_per_packet", " %9.2f", per(st->calls, packets));
		out_double("total_us_per_packet", " %10.3f", per(st->total_ns / 1e3, packets));
		out_double("self_us_per_packet", " %10.3f", per(st->self_ns / 1e3, packets));
		out_double("self_us_per_transaction", " %9.3f", per(st->self_ns / 1e3, transactions));
		out_double("p50_us", " %9.2f", lat_hist_percentile(&st->hist, 50) / 1e3);
		out_double("p99_us", " %9.2f", lat_hist_percentile(&st->hist, 99) / 1e3);
		out_string("category", "  %s\n", c >= 0 ? categories_name(cats, c) : "-");
		out_string("probe", NULL, f->status);
		out_uint("total_ns", NULL, st->total_ns);
		out_uint("self_ns", NULL, st->self_ns);
		out_uint("off_cpu_ns", NULL, st->off_cpu_ns);
		print_histogram(&st->hist);
		out_object_end();
	}
	out_array_end();
	out_array_begin("not_timed");
	for (int i = 0; i < t->nr_funcs; i++) {
		if (t->funcs[i].timed)
			continue;
		out_object_begin(NULL);
		out_string("name", "  not timed: %s", t->funcs[i].name);
		out_string("why", " (%s)\n", t->funcs[i].status);
		out_object_end();
	}
	out_array_end();
	if (cats) {
		struct func_summary sum;

		func_timer_summarize(t, s, packets, cats, &sum);
		out_object_begin("self_us_per_packet_by_category");
		out_text("  self time per packet by category:");
		for (int c = 0; c < categories_count(cats) && c < CAT_MAX; c++)
			if (sum.self_us_per_packet[c] > 0) {
				out_text(" %s", categories_name(cats, c));
				out_double(categories_name(cats, c), " %.3f us,",
					   sum.self_us_per_packet[c]);
			}
		out_double("total", " total %.3f us\n", sum.total_self_us_per_packet);
		out_object_end();
	}
	out_object_begin("lost");
	out_text("  not counted:");
	for (int i = 0; i < FCNT_MAX; i++) {
		out_text(" %s", counter_names[i]);
		out_uint(counter_names[i], " %llu", s->counters[i]);
	}
	out_text("\n");
	out_object_end();
	out_object_end();
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
