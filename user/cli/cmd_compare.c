/*
 * netprof compare: run's datapath run once per --cni in the list, with the
 * same options, then one table of them all.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_run.h"
#include "cli/commands.h"
#include "lib/log.h"
#include "lib/output.h"
#include "lib/teardown.h"
#include "run/compare_report.h"

static void compare_help(void)
{
	printf("Usage: netprof compare --cni LIST [topology options] [workload options] [tracer options]\n"
	       "\n"
	       "Runs each datapath in turn with the same workload and prints one table, like\n"
	       "the published comparisons (latency, rate, Gbit/s, CPU per side), with the hop\n"
	       "figures beside them: hops, veth crossings, macvlan crossings, netfilter hooks\n"
	       "and backlog enqueues per packet. Each datapath's full report is saved under\n"
	       "results/<run>-<cni>/ (--results DIR: DIR/<run>-<cni>/). Options are those of\n"
	       "'netprof run'; every figure column comes from the measure phase, the hop\n"
	       "columns from the explain phase, the cycle categories from the profile phase.\n"
	       "\n"
	       "Examples:\n"
	       "  sudo netprof compare --cni host,calico,cilium,macvlan,sidecar -w rr\n"
	       "  sudo netprof compare --cni calico,cilium -w pingpong,stream --json\n"
	       "  sudo netprof compare --cni calico,cilium --target service --services 1000 -w crr\n");
}

int cmd_compare(int argc, char **argv)
{
	static struct run_config base;
	static struct run_result results[TOPO_CNI_COUNT];
	char cni_list[256] = "", list[256], *save = NULL, base_run[TOPO_RUN_MAX + 1];
	char root[sizeof(base.results_dir)];
	int cnis[TOPO_CNI_COUNT], nr = 0, rc, failed = 0;

	run_config_defaults(&base);
	rc = run_parse_args("compare", argc, argv, &base, compare_help, cni_list, sizeof(cni_list));
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!cni_list[0]) {
		usage_error("compare: --cni needs a list (e.g. --cni host,calico,cilium,macvlan,sidecar)");
		return EXIT_USAGE;
	}
	snprintf(list, sizeof(list), "%s", cni_list);
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int cni = topo_cni_from_name(tok);

		if (cni < 0) {
			usage_error("compare: unknown --cni '%s' (use some of: %s)", tok,
				    topo_cni_list());
			return EXIT_USAGE;
		}
		if (nr == TOPO_CNI_COUNT) {
			usage_error("compare: at most %d datapaths", TOPO_CNI_COUNT);
			return EXIT_USAGE;
		}
		cnis[nr++] = cni;
	}
	run_default_id(&base.topo, "cmp");
	snprintf(base_run, sizeof(base_run), "%s", base.topo.run);
	/* Every combination is checked before anything is built. */
	for (int i = 0; i < nr; i++) {
		struct topo_opts o = base.topo;

		o.cni = cnis[i];
		if (topo_opts_check(&o))
			return EXIT_USAGE;
	}
	/* --results DIR: the datapaths' reports go under DIR instead of results/. */
	snprintf(root, sizeof(root), "%s", base.results_dir[0] ? base.results_dir : RESULTS_ROOT);
	if (run_results_dir_check("compare", root))
		return EXIT_USAGE;
	if (!cli_require_caps())
		return 1;

	for (int i = 0; i < nr && !stop_requested(); i++) {
		struct run_config c = base;

		c.topo.cni = cnis[i];
		c.quiet = true;
		c.json = opt_json;
		snprintf(c.topo.run, sizeof(c.topo.run), "%.*s-%d", TOPO_RUN_MAX - 3, base_run, i);
		snprintf(c.results_dir, sizeof(c.results_dir), "%.100s/%s-%s", root, base_run,
			 topo_cni_name(cnis[i]));
		pr_info("[%d/%d] %s", i + 1, nr, topo_cni_name(cnis[i]));
		rc = run_datapath(&c, &results[i]);
		/* Each datapath's topology goes before the next one is built. */
		teardown_all();
		if (rc)
			failed++;
	}

	out_init(opt_json);
	compare_report_print(results, nr, base.nr_workloads, base_run, root);
	out_finish();
	for (int i = 0; i < nr; i++)
		run_result_free(&results[i]);
	return failed ? 1 : 0;
}
