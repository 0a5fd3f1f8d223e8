/* netprof report: a saved run's report, copied out as it was written. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cmd_run.h"
#include "cli/commands.h"
#include "lib/log.h"

static void report_help(void)
{
	printf("Usage: netprof report [RUN | DIR] [--json]\n"
	       "\n"
	       "Prints a saved run's report: results/<RUN>/report.txt, or report.json with\n"
	       "--json. Without an argument, the newest run under results/.\n"
	       "\n"
	       "Examples:\n"
	       "  netprof report\n"
	       "  netprof report cilium-1a2b --json | jq '.workloads[0].hops.paths'\n");
}

static int newest_run(char *out, size_t len)
{
	DIR *d = opendir(RESULTS_ROOT);
	struct dirent *e;
	time_t best = 0;
	int found = -ENOENT;

	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s/report.txt", RESULTS_ROOT, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) || st.st_mtime < best)
			continue;
		best = st.st_mtime;
		snprintf(out, len, "%s/%s", RESULTS_ROOT, e->d_name);
		found = 0;
	}
	closedir(d);
	return found;
}

int cmd_report(int argc, char **argv)
{
	/* Only the options every command has: -v, --json, -h. */
	const struct cli_group groups[] = { {} };
	const struct cli_spec spec = { "report", report_help, groups, .no_operands = false };
	char dir[PATH_MAX], path[PATH_MAX + 16], buf[65536];
	enum cli_result rc = cli_parse(&spec, argc, argv);
	struct stat st;
	size_t n;
	FILE *f;

	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	if (argc - optind > 1) {
		usage_error("report: give one run (see 'netprof report -h')");
		return EXIT_USAGE;
	}
	if (optind < argc) {
		const char *arg = argv[optind];

		if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
			snprintf(dir, sizeof(dir), "%s", arg);
		else
			snprintf(dir, sizeof(dir), "%s/%s", RESULTS_ROOT, arg);
	} else if (newest_run(dir, sizeof(dir))) {
		pr_cmd_error("report", "no runs under %s/ (run 'sudo netprof run --cni cilium')",
			     RESULTS_ROOT);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/report.%s", dir, opt_json ? "json" : "txt");
	f = fopen(path, "r");
	if (!f) {
		pr_cmd_error("report", "cannot read %s: %s", path, strerror(errno));
		return 1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}
