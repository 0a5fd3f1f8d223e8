#ifndef NETPROF_PARSE_H
#define NETPROF_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Number parsing for options: one clear line on error, -1 returned. */
int parse_u64(const char *command, const char *option, const char *text, uint64_t min,
	      uint64_t max, uint64_t *out);
/* 64, 64k, 4K, 1M, 256KiB: bytes, binary multiples. */
int parse_size(const char *command, const char *option, const char *text, uint64_t min,
	       uint64_t max, uint64_t *out);
/* 10, 10s, 500ms, 2m, 250us: returned in nanoseconds; a bare number is seconds. */
int parse_duration(const char *command, const char *option, const char *text, uint64_t min_ns,
		   uint64_t max_ns, uint64_t *out_ns);

/*
 * A command-line option described as data (cli/cli.h runs the loop over
 * tables of them): its names, the kind of its value and where the value
 * goes, a field of the struct its table is applied to (CLI_FIELD), checked
 * against the entry's limits, or a handler for anything else. A value out of
 * its limits is a usage error worded as the parsers above word it, naming
 * the option by its long name.
 */
enum cli_kind {
	CLI_FLAG,	/* no value: the bool field becomes true */
	CLI_SET,	/* no value: the integer field (of any width) becomes .value */
	CLI_STRING,	/* the const char * field points at the argument */
	CLI_U64,	/* a number in [min, max] (parse_u64), stored in an integer field */
	CLI_SIZE,	/* a size such as 64k in [min, max] (parse_size) */
	CLI_DURATION,	/* a duration such as 500ms in [min, max] ns (parse_duration) */
	CLI_CALL,	/* .handler decides; it takes a value when .has_value is set */
};

struct cli_option;
/* Returns 0, or -1 after printing a usage error. `base` is the group's. */
typedef int (*cli_handler)(const char *command, const struct cli_option *opt, const char *arg,
			   void *base);

struct cli_option {
	const char *name;		/* long option, without "--"; NULL ends a table */
	int letter;			/* short option, or 0 */
	enum cli_kind kind;
	size_t offset, size;		/* the field, relative to the group's base: CLI_FIELD */
	uint64_t min, max;		/* limits of CLI_U64, CLI_SIZE and CLI_DURATION */
	long long value;		/* what CLI_SET stores */
	cli_handler handler;		/* CLI_CALL */
	bool has_value;			/* CLI_CALL: the option takes an argument */
	/* For cli_print_options(): "N" in "--sample N", and the text after it
	 * (lines split on '\n' are aligned under the first). NULL: not listed. */
	const char *arg_name, *help;
};

#define CLI_FIELD(type, field) \
	.offset = offsetof(type, field), .size = sizeof(((type *)0)->field)

/* Applies one option to `base`: 0, or -1 after printing a usage error. */
int cli_option_apply(const char *command, const struct cli_option *opt, const char *arg,
		     void *base);
/* Prints the entries of a table that have help, in the layout of every -h. */
void cli_print_options(FILE *f, const struct cli_option *options);

#endif
