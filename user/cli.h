/* The command table and the option conventions every command shares. */
#ifndef NETPROF_CLI_H
#define NETPROF_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);	/* NULL: its issue has not landed */
	const char *summary;
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
 * Handles -v, --json and the error cases of getopt for a command.
 * Returns 1 when handled, 0 when the option is the command's own,
 * and -1 after printing a usage error (the command exits EXIT_USAGE).
 */
int cli_common_opt(const char *command, int opt, char **argv);

/* Number parsing for options: one clear line on error, -1 returned. */
int parse_u64(const char *command, const char *option, const char *text, uint64_t min,
	      uint64_t max, uint64_t *out);
/* 64, 64k, 4K, 1M, 256KiB: bytes, binary multiples. */
int parse_size(const char *command, const char *option, const char *text, uint64_t min,
	       uint64_t max, uint64_t *out);
/* 10, 10s, 500ms, 2m, 250us: returned in nanoseconds; a bare number is seconds. */
int parse_duration(const char *command, const char *option, const char *text, uint64_t min_ns,
		   uint64_t max_ns, uint64_t *out_ns);

#endif
