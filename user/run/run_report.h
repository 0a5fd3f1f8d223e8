/*
 * A run's report, as `netprof run` prints it and report.txt and report.json
 * hold it: the datapath, then per workload the load generator's figures from
 * the measure phase, the CPU profile by category from the profile phase, and
 * from the explain phase the rate while traced, the hop tracer's and the
 * function timer's reports.
 */
#ifndef NETPROF_RUN_REPORT_H
#define NETPROF_RUN_REPORT_H

#include "run/run.h"

struct run_report {
	const struct run_config *config;
	const struct run_result *result;
	const struct categories *cats;		/* the rules the figures were sorted by */
	/* Each workload's explain-phase snapshots, self-contained: the tracers
	 * are closed by now. NULL: not attached. */
	const struct hops_snapshot *hops[RUN_MAX_WORKLOADS];
	const struct func_snapshot *funcs[RUN_MAX_WORKLOADS];
};

/* The whole report as one object on the current output (output.h). */
void run_report_print(const struct run_report *r);

#endif
