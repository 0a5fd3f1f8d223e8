/* The command table and the option conventions every command shares. */
#ifndef NETPROF_CLI_H
#define NETPROF_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);	/* NULL: its issue has not landed */
	const char *summary;			/* NULL: hidden from -h (netprof runs it) */
	const char *pending;			/* what has to land first */
	unsigned long long caps;		/* NEED_CAP() mask checked before run */
};

extern const struct command *current_command;
/* One line naming a missing capability of the current command; false then. */
bool cli_require_caps(void);

/* Set by the global options or by a command's own -v / --json. */
extern bool opt_json;
extern bool opt_verbose;

/* Long options every command accepts; handle them with cli_common_opt(). */
#define CLI_OPT_JSON 0x1001
#define CLI_COMMON_LONGOPTS					\
	{ "json", no_argument, NULL, CLI_OPT_JSON },		\
	{ "verbose", no_argument, NULL, 'v' },			\
	{ "help", no_argument, NULL, 'h' }

/*
 * getopt_long for a command, with the common options handled: returns the
 * command's next own option, -1 at the end, CLI_HELP for -h (print the help
 * and exit 0) or CLI_ERROR after printing a usage error (exit EXIT_USAGE).
 */
#define CLI_HELP 0x1002
#define CLI_ERROR 0x1003
int cli_next_opt(const char *command, int argc, char **argv, const char *shortopts,
		 const struct option *longopts);
/* After the options: one usage line and false if arguments are left over. */
bool cli_no_args(const char *command, int argc, char **argv);

/*
 * Handles -v, --json and the error cases of getopt for a command.
 * Returns 1 when handled, 0 when the option is the command's own,
 * and -1 after printing a usage error (the command exits EXIT_USAGE).
 */
int cli_common_opt(const char *command, int opt, char **argv);

#include "lib/parse.h"

#endif
