#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/caps.h"
#include "cli/cli.h"
#include "lib/log.h"

const struct command *current_command;
bool opt_json;
bool opt_verbose;

int cli_common_opt(const char *command, int opt, char **argv)
{
	switch (opt) {
	case 'v':
		opt_verbose = true;
		log_init(true);
		return 1;
	case CLI_OPT_JSON:
		opt_json = true;
		return 1;
	case ':':
		usage_error("%s: option '%s' needs a value (see 'netprof %s -h')", command,
			    argv[optind - 1], command);
		return -1;
	case '?':
		if (optopt)
			usage_error("%s: unknown option '-%c' (see 'netprof %s -h')", command, optopt,
				    command);
		else
			usage_error("%s: unknown option '%s' (see 'netprof %s -h')", command,
				    argv[optind - 1], command);
		return -1;
	default:
		return 0;
	}
}

int cli_next_opt(const char *command, int argc, char **argv, const char *shortopts,
		 const struct option *longopts)
{
	int opt, rc;

	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		rc = cli_common_opt(command, opt, argv);
		if (rc > 0)
			continue;
		if (rc < 0)
			return CLI_ERROR;
		return opt == 'h' ? CLI_HELP : opt;
	}
	return -1;
}

bool cli_no_args(const char *command, int argc, char **argv)
{
	if (optind >= argc)
		return true;
	usage_error("%s: unexpected argument '%s' (see 'netprof %s -h')", command, argv[optind],
		    command);
	return false;
}

bool cli_require_caps(void)
{
	if (!current_command)
		return true;
	return caps_require(current_command->name, current_command->caps);
}
