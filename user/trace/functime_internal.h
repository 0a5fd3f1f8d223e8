/*
 * Function timing's state, shared by functime.c (load, attach, snapshot)
 * and functime_btf.c (which argument of a function leads to its namespace).
 */
#ifndef NETPROF_TRACE_FUNCTIME_INTERNAL_H
#define NETPROF_TRACE_FUNCTIME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/functime.h"
#include "trace/functime.h"

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

/* The BTF of vmlinux and of every loaded module. */
struct btf_set {
	struct btf *vmlinux;
	struct btf *mods[256];
	char mod_names[256][32];
	int nr_mods;
};

void btf_set_load(struct btf_set *b);
void btf_set_free(struct btf_set *b);
/* Finds f->name in BTF and sets f's module and namespace argument; false
 * when no BTF has it. */
bool describe_func(const struct btf_set *b, struct timed_func *f);

#endif
