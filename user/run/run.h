/*
 * One profiled run of one datapath: build the topology, start the load
 * generator's server in the server pod, then drive each workload from the
 * client pod in three phases on the same topology and server:
 *   measure  no probe of netprof's attached, no sampler: the headline figures;
 *   profile  the stack sampler alone: folded stacks and cycle categories;
 *   explain  the hop tracer and function timing: hop paths, netfilter time,
 *            drops, and what the load generator saw while traced.
 * Then report and tear down. `netprof run` does one, `netprof compare` one
 * per datapath.
 */
#ifndef NETPROF_RUN_H
#define NETPROF_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "profile/categories.h"
#include "trace/functime.h"
#include "trace/hops.h"
#include "profile/profile.h"
#include "loadgen/loadgen.h"
#include "topo/topo.h"

#define RUN_MAX_WORKLOADS 8

struct run_config {
	struct topo_opts topo;
	struct loadgen_opts workloads[RUN_MAX_WORKLOADS];
	int nr_workloads;
	bool trace;			/* the hop tracer (off with --no-trace) */
	bool profile;			/* stack sampling (off with --no-profile) */
	/* The profile and explain phases' length; 0: RUN_PHASE_NS, or the
	 * measure phase's (-d) where that is shorter. Warm-up as -d's. */
	uint64_t profile_ns, explain_ns;
	unsigned profile_freq;		/* samples per second per CPU */
	char categories[256];		/* rules file; "" = built in */
	struct hops_target tracer;	/* sampling and probe switches; namespaces filled in */
	struct func_timer_opts funcs;	/* kernel function timing; namespaces filled in */
	bool overhead;			/* A/B: each workload with and without the probes */
	int overhead_rounds;
	char results_dir[256];		/* results/<run>; "" = do not write */
	bool quiet;			/* compare: no per-run report on stdout */
	bool json;			/* the stdout report as JSON (--json) */
};

#define RUN_PHASE_NS 3000000000ULL
/* The explain phase's calibration window: the probes' cost is measured
 * while the workload runs this long (after a short warm-up), then the
 * statistics and the calibration slot come off for the measured part. */
#define RUN_CALIBRATION_NS 500000000ULL
#define RUN_CALIBRATION_WARMUP_NS 200000000ULL

/* What the load generator saw in one phase, and the packets sent meanwhile. */
struct run_phase {
	bool ran;
	struct loadgen_result lg;
	double ip_packets;		/* IP packets the two endpoints sent */
};

struct run_workload_result {
	struct loadgen_result lg;	/* the measure phase: no probes attached */
	double ip_packets;		/* IP packets the two endpoints sent in it */
	struct run_phase profile_phase, explain_phase;
	bool have_hops;
	struct hops_summary hops;
	struct func_summary funcs;
	bool have_profile;
	struct profile_stats prof;
	struct category_totals cats;
	char folded[300];		/* where its stacks went */
	/* --overhead: the same workload without probes (mean of the rounds). */
	double untraced_gbps, untraced_tps, traced_gbps, traced_tps;
	int rounds;
};

struct run_result {
	struct topo topo;
	char cat_names[CAT_MAX][32];	/* the categories' names, for tables */
	struct run_workload_result w[RUN_MAX_WORKLOADS];
	int nr_workloads;
	bool partial;
};

/* Defaults: --cni cilium, a short latency test then a single stream. */
void run_config_defaults(struct run_config *c);
/*
 * Runs it all and prints the report (text or JSON on stdout; both report.txt
 * and report.json under results_dir). Returns 0, EXIT_USAGE for options that
 * make no sense together, 1 on failure; everything built is removed on every
 * path.
 */
int run_datapath(const struct run_config *c, struct run_result *res);
void run_result_free(struct run_result *res);
/* Creates DIR if need be; one usage line and -1 when it cannot be written. */
int run_results_dir_check(const char *cmd, const char *dir);

#endif
