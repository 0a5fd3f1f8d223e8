/* The command table and the option conventions every command shares. */
#ifndef NETPROF_CLI_H
#define NETPROF_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/parse.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;			/* NULL: hidden from -h (netprof runs it) */
	unsigned long long caps;		/* NEED_CAP() mask checked before run */
};

extern const struct command *current_command;
/* One line naming a missing capability of the current command; false then. */
bool cli_require_caps(void);

/* Set by the global options or by a command's own -v / --json. */
extern bool opt_json;
extern bool opt_verbose;

/*
 * Option tables. A command describes its options as data and cli_parse()
 * runs the one getopt_long loop, with -v, --json and -h added to every
 * command. Each entry names the option, the kind of its value, and where the
 * value goes: a field of the struct its group points at (CLI_FIELD), checked
 * against the entry's limits, or a handler for anything else. For example:
 *
 *	struct serve_args { uint64_t port; const char *bind; bool once; };
 *	static const struct cli_option serve_options[] = {
 *		{ "port", 'p', CLI_U64, CLI_FIELD(struct serve_args, port), .min = 1, .max = 65535 },
 *		{ "bind", 'B', CLI_STRING, CLI_FIELD(struct serve_args, bind) },
 *		{ "once", '1', CLI_FLAG, CLI_FIELD(struct serve_args, once) },
 *		{}
 *	};
 *	struct serve_args a = { .port = 4000 };
 *	const struct cli_group groups[] = { CLI_GROUP(serve_options, &a), {} };
 *	const struct cli_spec spec = { "serve", help, groups, .no_operands = true };
 *
 *	if ((rc = cli_parse(&spec, argc, argv)) != CLI_PARSED)
 *		return cli_exit_code(rc);
 *
 * The tables themselves (struct cli_option) are declared in lib/parse.h, so
 * that a subsystem can own the options it shares between commands
 * (trace/trace_options.h) without reaching into the CLI: a command lists
 * such a table as one more group, pointed at its own copy of the struct.
 */
/*
 * Subsystem parsers written against getopt (topo/topo_options.h) join the
 * loop as a group of their longopts array and their parse function, which
 * gets each option's getopt value and returns 1 when it applied the option,
 * 0 when it is not one of its own, -1 after a usage error.
 */
typedef int (*cli_getopt_parser)(const char *command, int opt, const char *arg, void *base);

struct cli_group {
	const struct cli_option *options;	/* a table, or NULL for a getopt parser */
	void *base;				/* the struct the fields and handlers write */
	/* If set, the long name (without "--") of the last option of this group
	 * given on the command line, for "X cannot be combined with Y" checks. */
	const char **given;
	const struct option *longopts;		/* a getopt parser's options ... */
	cli_getopt_parser parse;		/* ... and the function that applies them */
};

#define CLI_GROUP(table, struct_ptr) { .options = (table), .base = (struct_ptr) }

struct cli_spec {
	const char *command;		/* names the command in usage errors */
	void (*help)(void);		/* -h and --help print this */
	const struct cli_group *groups;	/* ends with an entry of neither options nor longopts;
					 * on a name given twice, the first group wins */
	bool no_operands;		/* arguments left after the options are a usage error */
};

enum cli_result {
	CLI_PARSED,		/* optind is at the first operand */
	CLI_HELP_SHOWN,		/* the command exits 0 */
	CLI_USAGE_ERROR,	/* one line printed; the command exits EXIT_USAGE */
};

enum cli_result cli_parse(const struct cli_spec *spec, int argc, char **argv);
/* What a command returns when cli_parse() did not end in CLI_PARSED. */
int cli_exit_code(enum cli_result result);

/* After the options: one usage line and false if arguments are left over. */
bool cli_no_args(const char *command, int argc, char **argv);

/* The long options cli_parse() adds to every command. */
#define CLI_OPT_JSON 0x1001
#define CLI_COMMON_LONGOPTS					\
	{ "json", no_argument, NULL, CLI_OPT_JSON },		\
	{ "verbose", no_argument, NULL, 'v' },			\
	{ "help", no_argument, NULL, 'h' }

#endif
