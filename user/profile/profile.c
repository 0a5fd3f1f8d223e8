/*
 * The stack sampler's user side: one perf event per CPU (hardware cycles,
 * else cpu-clock) with bpf/profile.bpf.c attached, then the counted stacks
 * symbolized into a folded-stacks tree, keeping what serves the run.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/percpu.h"
#include "profile/folded.h"
#include "lib/log.h"
#include "lib/output.h"
#include "bpf/profile.h"
#include "profile.skel.h"
#include "profile/profile.h"
#include "profile/symbols.h"

struct profiler {
	struct profile_bpf *skel;
	struct bpf_link **links;
	int ncpus;
	bool cycles;			/* else cpu-clock */
	bool keep_all;
	unsigned freq;
	char event_note[160];
};

static int open_event(int cpu, bool cycles, unsigned freq)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = cycles ? PERF_TYPE_HARDWARE : PERF_TYPE_SOFTWARE,
		.config = cycles ? PERF_COUNT_HW_CPU_CYCLES : PERF_COUNT_SW_CPU_CLOCK,
		.freq = 1,
		.sample_freq = freq,
	};
	int fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int profiler_open(struct profiler **out, const struct profiler_opts *o)
{
	struct profiler *p = calloc(1, sizeof(*p));
	struct stat st;
	int err, fd;

	if (!p)
		return -ENOMEM;
	p->freq = o->freq ?: 999;
	p->keep_all = o->keep_all;
	p->ncpus = libbpf_num_possible_cpus();
	p->links = calloc(p->ncpus, sizeof(*p->links));
	p->skel = profile_bpf__open();
	if (!p->links || !p->skel) {
		err = -ENOMEM;
		goto fail;
	}
	if (o->cgroup_path && stat(o->cgroup_path, &st) == 0)
		p->skel->rodata->run_cgroup_id = st.st_ino;
	err = profile_bpf__load(p->skel);
	if (err)
		goto fail;
	/* Hardware cycles where the machine has them (not in most VMs). */
	fd = open_event(0, true, p->freq);
	p->cycles = fd >= 0;
	if (fd >= 0)
		close(fd);
	snprintf(p->event_note, sizeof(p->event_note), "%s at %u Hz",
		 p->cycles ? "hardware cycles" : "cpu-clock (no hardware cycles event here)",
		 p->freq);
	for (int cpu = 0; cpu < p->ncpus; cpu++) {
		fd = open_event(cpu, p->cycles, p->freq);
		if (fd == -ENODEV)
			continue;	/* possible but offline CPU */
		if (fd < 0) {
			err = fd;
			pr_warn("profile: perf_event_open on CPU %d: %s", cpu, strerror(-err));
			goto fail;
		}
		p->links[cpu] = bpf_program__attach_perf_event(p->skel->progs.profile_sample, fd);
		if (!p->links[cpu]) {
			err = -errno;
			close(fd);
			goto fail;
		}
	}
	*out = p;
	return 0;
fail:
	profiler_close(p);
	return err;
}

void profiler_stop(struct profiler *p)
{
	for (int i = 0; p->links && i < p->ncpus; i++) {
		bpf_link__destroy(p->links[i]);	/* closes the event too */
		p->links[i] = NULL;
	}
}

void profiler_close(struct profiler *p)
{
	if (!p)
		return;
	for (int i = 0; p->links && i < p->ncpus; i++)
		bpf_link__destroy(p->links[i]);	/* closes the event too */
	free(p->links);
	profile_bpf__destroy(p->skel);
	free(p);
}

const char *profiler_event(const struct profiler *p)
{
	return p->event_note;
}

static __u64 read_counter(struct profiler *p, __u32 idx)
{
	__u64 sum = 0;

	percpu_lookup_sum_u64(bpf_map__fd(p->skel->maps.prof_counters), &idx, &sum, sizeof(sum));
	return sum;
}

/* A kernel stack that is softirq work: it runs net_rx_action or the like. */
static bool serves_traffic(const struct ksyms *ks, const __u64 *ips, int n)
{
	for (int i = 0; i < n && ips[i]; i++) {
		const char *name = ksyms_name(ks, ips[i]);

		if (name && (!strcmp(name, "net_rx_action") || !strcmp(name, "net_tx_action") ||
			     !strcmp(name, "__do_softirq") || !strcmp(name, "handle_softirqs") ||
			     !strcmp(name, "process_backlog")))
			return true;
	}
	return false;
}

int profiler_collect(struct profiler *p, struct folded_profile *stacks, struct profile_stats *st)
{
	int counts_fd = bpf_map__fd(p->skel->maps.counts);
	int stacks_fd = bpf_map__fd(p->skel->maps.stacks);
	struct profile_key key, next, *prev = NULL;
	struct ksyms *ks = ksyms_load();
	struct usyms *us = usyms_new();
	__u64 ips[PROFILE_MAX_DEPTH];
	/* comm + user + kernel frames; kernel ones get the _[k] suffix here. */
	const char *frames[1 + 2 * PROFILE_MAX_DEPTH];
	static char kframes[PROFILE_MAX_DEPTH][160];
	int err = 0;

	/* Stop sampling first: symbolizing is work of our own, not the run's. */
	profiler_stop(p);
	memset(st, 0, sizeof(*st));
	snprintf(st->event, sizeof(st->event), "%s", p->event_note);
	st->ncpus = p->ncpus;
	st->all_tasks = p->keep_all;
	st->samples = read_counter(p, PROF_SAMPLES);
	st->idle = read_counter(p, PROF_IDLE);
	st->kstack_lost = read_counter(p, PROF_KSTACK_LOST);
	st->ustack_lost = read_counter(p, PROF_USTACK_LOST);
	st->keys_full = read_counter(p, PROF_KEYS_FULL);
	if (!ks)
		pr_warn("profile: /proc/kallsyms gives no addresses: kernel frames unnamed");
	while (us && bpf_map_get_next_key(counts_fd, prev, &next) == 0) {
		__u64 count = 0;
		__u64 uips[PROFILE_MAX_DEPTH];
		int nk = 0, nu = 0;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(counts_fd, &key, &count) || !count)
			continue;
		memset(ips, 0, sizeof(ips));
		memset(uips, 0, sizeof(uips));
		/* A kernel-mode sample whose stack collided in the stack map is
		 * counted as lost, not kept: with only its user frames it would
		 * land in "other" and skew the shares. */
		if (key.kstack < 0 && key.kstack != -EFAULT)
			continue;
		if (key.kstack >= 0 && bpf_map_lookup_elem(stacks_fd, &key.kstack, ips) == 0)
			while (nk < PROFILE_MAX_DEPTH && ips[nk])
				nk++;
		if (key.ustack >= 0 && bpf_map_lookup_elem(stacks_fd, &key.ustack, uips) == 0)
			while (nu < PROFILE_MAX_DEPTH && uips[nu])
				nu++;
		if (p->keep_all || (key.flags & PROF_IN_CGROUP)) {
			st->kept_run += count;
		} else if (ks && serves_traffic(ks, ips, nk)) {
			st->kept_softirq += count;
		} else {
			st->excluded_other += count;
			continue;
		}
		if (nu)
			usyms_add_process(us, key.pid);
		key.comm[PROFILE_COMM_LEN - 1] = '\0';
		/* Root first: the process, outermost user frame ... leaf kernel frame. */
		int n = 0;

		frames[n++] = key.comm[0] ? key.comm : "[unknown]";
		for (int i = nu - 1; i >= 0; i--) {
			const char *file, *name = usyms_name(us, key.pid, uips[i], &file);

			frames[n++] = name ? name : "[unknown]";
		}
		for (int i = nk - 1, j = 0; i >= 0; i--, j++) {
			const char *name = ksyms_name(ks, ips[i]);

			snprintf(kframes[j], sizeof(kframes[j]), "%s_[k]", name ? name : "[unknown]");
			frames[n++] = kframes[j];
		}
		err = folded_add_stack_replacing(stacks, frames, n, count);
		if (err)
			break;
	}
	ksyms_free(ks);
	usyms_free(us);
	folded_sort(stacks);
	return err;
}

int profiler_write_folded(struct profiler *p, FILE *f, struct profile_stats *st)
{
	struct folded_profile stacks;
	int err;

	folded_profile_init(&stacks, 0);
	err = profiler_collect(p, &stacks, st);
	if (!err)
		err = folded_write_profile(f, &stacks);
	folded_profile_free(&stacks);
	return err ? err : ferror(f) ? -EIO : 0;
}

void profiler_print_stats(const struct profile_stats *st)
{
	out_object_begin("sampling");
	out_string("event", "CPU profile: %s", st->event);
	out_uint("cpus", " on %llu CPUs", (unsigned long long)st->ncpus);
	out_uint("samples", ": %llu samples", st->samples);
	out_bool("all_tasks", NULL, st->all_tasks);
	if (st->all_tasks) {
		out_uint("kept_run", "; kept all %llu non-idle", st->kept_run);
	} else {
		out_uint("kept_run", "; kept %llu of the run's tasks", st->kept_run);
		out_uint("kept_softirq", " and %llu of softirq work serving its traffic",
			 st->kept_softirq);
	}
	out_uint("excluded_idle", "\n   excluded: %llu idle", st->idle);
	out_uint("excluded_other", ", %llu other processes", st->excluded_other);
	out_uint("kernel_stacks_lost", "; lost: %llu kernel stacks", st->kstack_lost);
	out_uint("user_stacks_lost", ", %llu user stacks", st->ustack_lost);
	out_uint("samples_dropped", ", %llu samples (map full)\n", st->keys_full);
	out_object_end();
}
