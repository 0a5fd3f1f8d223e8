/*
 * `netprof compare`'s tables: one row per datapath and workload with the
 * load generator's and the hop tracer's figures, then the cost categories
 * side by side. Written through output.h from finished results only, so the
 * tables need nothing that ran.
 */
#ifndef NETPROF_COMPARE_REPORT_H
#define NETPROF_COMPARE_REPORT_H

#include "run/run.h"

/*
 * The whole comparison as one object on the current output: results[0..nr)
 * in the order the datapaths ran, rows grouped by workload (nr_workloads of
 * them at most); base_run and results_root name where the full reports are.
 */
void compare_report_print(const struct run_result *results, int nr, int nr_workloads,
			  const char *base_run, const char *results_root);

#endif
