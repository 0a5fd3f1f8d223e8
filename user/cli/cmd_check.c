/*
 * netprof check: what this kernel offers a datapath profiler, as a table (or
 * JSON) of the probes in probe/check.h, each with what netprof does instead
 * when the feature is missing. The exit status says whether the probes ran,
 * not what they found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/bpf_compat.h"
#include "lib/log.h"
#include "lib/output.h"
#include "lib/teardown.h"
#include "probe/check.h"

static const char *verdict_text(enum check_verdict v)
{
	return v == CHECK_YES ? "yes" : v == CHECK_NO ? "no" : "partly";
}

static void help(void)
{
	printf("Usage: netprof check [--json] [-v] [--only KEY[,KEY...]]\n"
	       "\n"
	       "Finds out what this kernel offers a datapath profiler by loading and\n"
	       "attaching tiny BPF programs (tc, XDP, netfilter, tracepoints, fentry,\n"
	       "kprobes, perf events, cgroup and sockmap programs) and creating the devices\n"
	       "and rules the emulated datapaths need, inside throw-away netprof-check-*\n"
	       "namespaces. For each missing item it says what netprof does instead.\n"
	       "The exit status is 0 when the probes ran, whatever they found.\n"
	       "\n"
	       "  --only KEYS   run only these probes (JSON names, comma-separated)\n"
	       "\n"
	       "Examples:\n"
	       "  sudo netprof check\n"
	       "  sudo netprof check --json | jq '.features[] | select(.available == false)'\n"
	       "  sudo netprof check --only tc,fentry,kprobe\n");
}

static bool selected(const char *only, const char *key)
{
	size_t n = strlen(key);

	if (!only)
		return true;
	for (const char *p = only; p && *p;) {
		if (!strncmp(p, key, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return false;
}

static int validate_only(const char *only)
{
	char copy[512], *tok, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", only);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t i = 0; i < check_nr_probes; i++)
			known |= !strcmp(check_probes[i].key, tok);
		if (!known) {
			usage_error("check: --only: unknown probe '%s' (names: see 'netprof check --json')",
				    tok);
			return -1;
		}
	}
	return 0;
}

struct check_args {
	const char *only;
};

static const struct cli_option check_options[] = {
	{ "only", 0, CLI_STRING, CLI_FIELD(struct check_args, only) },
	{}
};

int cmd_check(int argc, char **argv)
{
	static struct check_fixture ctx;
	struct check_result results[CHECK_MAX_PROBES];
	unsigned yes = 0, no = 0, partly = 0;
	struct check_args a = {};
	const struct cli_group groups[] = { CLI_GROUP(check_options, &a), {} };
	const struct cli_spec spec = { "check", help, groups, .no_operands = true };
	const char *only, *group = "";
	struct utsname uts;
	enum cli_result rc;

	rc = cli_parse(&spec, argc, argv);
	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	only = a.only;
	if (only && validate_only(only) < 0)
		return EXIT_USAGE;
	if (!cli_require_caps())
		return 1;
	if (bpf_compat_init() < 0)
		pr_warn("cannot register the netfilter program section with libbpf");

	uname(&uts);
	pr_debug("setting up test namespaces");
	check_fixture_setup(&ctx);
	memset(results, 0, sizeof(results));
	for (size_t i = 0; i < check_nr_probes && !stop_requested(); i++) {
		if (!selected(only, check_probes[i].key))
			continue;
		pr_debug("probing %s", check_probes[i].key);
		check_probes[i].run(&ctx, &results[i]);
	}
	if (stop_requested()) {
		pr_warn("interrupted; test namespaces removed");
		return 130;
	}

	out_init(opt_json);
	out_object_begin(NULL);
	out_string("kernel", "netprof check: kernel %s", uts.release);
	out_text(" (%s)\n", uts.machine);
	out_array_begin("features");
	for (size_t i = 0; i < check_nr_probes; i++) {
		const struct check_probe *p = &check_probes[i];
		struct check_result *res = &results[i];

		if (!selected(only, p->key))
			continue;
		if (strcmp(group, p->group)) {
			group = p->group;
			out_text("\n%s\n", !strcmp(group, "bpf") ? "BPF features and hooks"
								 : "Kernel pieces the datapaths need");
		}
		yes += res->verdict == CHECK_YES;
		no += res->verdict == CHECK_NO;
		partly += res->verdict == CHECK_PARTIAL;
		out_object_begin(NULL);
		out_string("name", NULL, p->key);
		out_string("group", NULL, p->group);
		out_string("label", "  %-26s", p->label);
		out_string("state", " %-6s", verdict_text(res->verdict));
		out_bool("available", NULL, res->verdict != CHECK_NO);
		out_string("detail", " %s\n", res->detail);
		if (res->verdict != CHECK_YES) {
			out_text("  %-33s ", "");
			out_string("instead", "instead: %s\n", p->instead);
		}
		out_object_end();
	}
	out_array_end();
	out_uint("available", "\n%u available", yes);
	out_uint("partial", ", %u partly", partly);
	out_uint("missing", ", %u missing\n", no);
	out_object_end();
	out_finish();
	return 0;
}
