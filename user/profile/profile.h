/*
 * On-CPU stack sampling for a run: every CPU, the run's tasks plus the
 * softirq work serving its traffic, as a folded-stacks tree.
 */
#ifndef NETPROF_PROFILER_H
#define NETPROF_PROFILER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct profiler;
struct folded_profile;

struct profiler_opts {
	const char *cgroup_path;	/* the run's cgroup: its tasks are "the run" */
	unsigned freq;			/* samples per second per CPU (default 999) */
	bool keep_all;			/* every non-idle sample, as perf record -a */
};

struct profile_stats {
	char event[160];		/* what was sampled, at what frequency */
	unsigned ncpus;
	bool all_tasks;			/* every non-idle sample was kept */
	uint64_t samples, idle, excluded_other, kept_run, kept_softirq;
	uint64_t kstack_lost, ustack_lost, keys_full;
};

int profiler_open(struct profiler **out, const struct profiler_opts *o);
/* "hardware cycles at 999 Hz" or "cpu-clock (...)". */
const char *profiler_event(const struct profiler *p);
/* Ends sampling (the counts stay readable). */
void profiler_stop(struct profiler *p);
/*
 * Stops sampling, then symbolizes (while the run's processes live) into
 * `stacks` (initialised by the caller; sorted on return): the process name,
 * the user frames outermost first, then the kernel frames with "_[k]".
 */
int profiler_collect(struct profiler *p, struct folded_profile *stacks, struct profile_stats *st);
/* The same, written to f as folded lines (one per distinct stack, sorted). */
int profiler_write_folded(struct profiler *p, FILE *f, struct profile_stats *st);
void profiler_print_stats(const struct profile_stats *st);
void profiler_close(struct profiler *p);

#endif
