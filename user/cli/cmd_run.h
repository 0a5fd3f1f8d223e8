/*
 * What `netprof run` shares with `netprof compare` (its options, which
 * compare takes all of) and with `netprof report` (where runs are saved).
 */
#ifndef NETPROF_CMD_RUN_H
#define NETPROF_CMD_RUN_H

#include <stddef.h>

#include "run/run.h"

#define RESULTS_ROOT "results"

/*
 * Parses run's command line into *c (topology, workload, tracer, profile
 * and output options) and checks the combination. With cni_list, --cni
 * takes a comma list, copied there unchecked. Returns 0, EXIT_USAGE after a
 * usage error, or -1 when -h printed `help` (the command exits 0).
 */
int run_parse_args(const char *cmd, int argc, char **argv, struct run_config *c,
		   void (*help)(void), char *cni_list, size_t cni_len);
/* A run id unique enough for results/ and short enough for device names,
 * unless --run gave one. */
void run_default_id(struct topo_opts *o, const char *prefix);

#endif
