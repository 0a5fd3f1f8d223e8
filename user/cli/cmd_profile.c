/*
 * netprof profile: the stack sampler on its own, like `perf record -a -g`
 * folded and categorised; netprof categorize: the categories of any folded
 * file (netprof's, or perf's folded by stackcollapse), with the same rules.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profile/categories.h"
#include "lib/cgroup.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/log.h"
#include "lib/output.h"
#include "profile/profile.h"
#include "lib/teardown.h"

static void profile_help(void)
{
	printf("Usage: netprof profile [-d D] [--cgroup PATH | --all] [-F HZ] [-o FILE] [--categories FILE]\n"
	       "\n"
	       "Samples on-CPU stacks on every CPU (hardware cycles where the machine has\n"
	       "them, else cpu-clock) with a BPF perf_event program, counts them in the\n"
	       "kernel, and writes them in the folded format (frames joined by ';', a space,\n"
	       "a count; kernel frames end in _[k]) that flamegraph.pl, speedscope, inferno\n"
	       "and 'netprof flame' read. Then prints where the cycles went, by category.\n"
	       "\n"
	       "  -d, --duration D     how long (default 5s)\n"
	       "  --cgroup PATH        keep this netprof-* cgroup's tasks and the softirq work\n"
	       "                       serving traffic (what 'netprof run' does)\n"
	       "  --all                keep every non-idle sample (default without --cgroup)\n"
	       "  -F, --freq HZ        samples per second per CPU (default 999)\n"
	       "  -o, --output FILE    the folded stacks (default results/profile.folded)\n"
	       "  --categories FILE    category rules (default: user/profile/categories.conf, built in)\n"
	       "\n"
	       "Examples:\n"
	       "  sudo netprof profile -d 10s -o /tmp/all.folded\n"
	       "  sudo netprof profile --cgroup /sys/fs/cgroup/unified/netprof-r1 --json\n");
}

static void categorize_help(void)
{
	printf("Usage: netprof categorize FILE [--categories FILE] [--json]\n"
	       "\n"
	       "Reads a folded-stacks file and prints the share of samples in each cost\n"
	       "category (iptables, conntrack, veth-backlog, bpf, tcp-ip, copies, ...).\n"
	       "Kernel frames are those ending in _[k]; see user/profile/categories.conf.\n"
	       "\n"
	       "Examples:\n"
	       "  netprof categorize results/r1/stacks.folded\n"
	       "  netprof categorize perf.folded --categories my-rules.conf --json\n");
}

struct categorize_args {
	const char *rules;
};

static const struct cli_option categorize_options[] = {
	{ "categories", 'c', CLI_STRING, CLI_FIELD(struct categorize_args, rules) },
	{}
};

int cmd_categorize(int argc, char **argv)
{
	struct categorize_args a = {};
	const struct cli_group groups[] = { CLI_GROUP(categorize_options, &a), {} };
	const struct cli_spec spec = { "categorize", categorize_help, groups,
				       .no_operands = false };
	struct category_totals totals;
	struct categories *cats;
	int rc, ret = 1;
	FILE *f;

	rc = cli_parse(&spec, argc, argv);
	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	if (argc - optind != 1) {
		usage_error("categorize: give one folded-stacks file (see 'netprof categorize -h')");
		return EXIT_USAGE;
	}
	cats = categories_load(a.rules);
	if (!cats)
		return 1;
	f = fopen(argv[optind], "r");
	if (!f) {
		pr_cmd_error("categorize", "cannot read %s: %s", argv[optind], strerror(errno));
		goto out;
	}
	rc = categories_tally_folded(cats, f, argv[optind], &totals);
	fclose(f);
	if (rc)
		goto out;
	out_init(opt_json);
	out_object_begin(NULL);
	out_string("file", "%s", argv[optind]);
	out_uint("samples", ": %llu samples\n", totals.total);
	categories_print(cats, &totals, 0, NULL);
	out_object_end();
	out_finish();
	ret = 0;
out:
	categories_free(cats);
	return ret;
}

static void close_profiler(void *arg)
{
	profiler_close(*(struct profiler **)arg);
	*(struct profiler **)arg = NULL;
}

struct profile_args {
	struct profiler_opts po;
	const char *out_path, *rules;
	uint64_t duration_ns;
	bool all;
};

static const struct cli_option profile_options[] = {
	{ "duration", 'd', CLI_DURATION, CLI_FIELD(struct profile_args, duration_ns),
	  .min = 100000000ULL, .max = 3600000000000ULL },
	{ "cgroup", 0, CLI_STRING, CLI_FIELD(struct profile_args, po.cgroup_path) },
	{ "all", 0, CLI_FLAG, CLI_FIELD(struct profile_args, all) },
	{ "freq", 'F', CLI_U64, CLI_FIELD(struct profile_args, po.freq), .min = 1, .max = 20000 },
	{ "output", 'o', CLI_STRING, CLI_FIELD(struct profile_args, out_path) },
	{ "categories", 0, CLI_STRING, CLI_FIELD(struct profile_args, rules) },
	{}
};

int cmd_profile(int argc, char **argv)
{
	static struct profiler *prof;
	struct profile_args a = {
		.po = { .freq = 999 },
		.out_path = "results/profile.folded",
		.duration_ns = 5000000000ULL,
	};
	const struct cli_group groups[] = { CLI_GROUP(profile_options, &a), {} };
	const struct cli_spec spec = { "profile", profile_help, groups, .no_operands = true };
	struct profiler_opts *po = &a.po;
	const char *out_path, *rules;
	struct category_totals totals;
	struct profile_stats st;
	struct categories *cats;
	bool all;
	int rc, ret = 1;
	FILE *f;

	rc = cli_parse(&spec, argc, argv);
	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	out_path = a.out_path;
	rules = a.rules;
	all = a.all;
	if (all && po->cgroup_path) {
		usage_error("profile: --all and --cgroup exclude each other");
		return EXIT_USAGE;
	}
	if (po->cgroup_path && !cgroup_is_netprofs(po->cgroup_path)) {
		usage_error("profile: --cgroup '%s' is not an existing netprof-* cgroup",
			    po->cgroup_path);
		return EXIT_USAGE;
	}
	po->keep_all = all || !po->cgroup_path;
	cats = categories_load(rules);
	if (!cats)
		return rules ? EXIT_USAGE : 1;
	if (!cli_require_caps())
		goto out;
	rc = profiler_open(&prof, po);
	if (rc) {
		pr_warn("profile: cannot start sampling: %s", strerror(-rc));
		goto out;
	}
	teardown_register(close_profiler, &prof);
	pr_info("sampling %s for %.1f s", profiler_event(prof), a.duration_ns / 1e9);
	for (uint64_t slept = 0; slept < a.duration_ns && !stop_requested(); slept += 50000000ULL)
		nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);

	f = fopen(out_path, "w+");
	if (!f) {
		pr_cmd_error("profile", "cannot write %s: %s", out_path, strerror(errno));
		goto out;
	}
	rc = profiler_write_folded(prof, f, &st);
	rewind(f);
	if (!rc)
		rc = categories_tally_folded(cats, f, out_path, &totals);
	fclose(f);
	if (rc)
		goto out;
	out_init(opt_json);
	out_object_begin(NULL);
	profiler_print_stats(&st);
	out_string("folded", "folded stacks: %s\n", out_path);
	out_text("Where the cycles went:\n");
	categories_print(cats, &totals, 0, NULL);
	out_object_end();
	out_finish();
	ret = 0;
out:
	categories_free(cats);
	return ret;
}
