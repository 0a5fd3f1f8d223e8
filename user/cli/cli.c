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

/* getopt values of table entries without a short letter: above every
 * letter, CLI_OPT_JSON and the values getopt parsers use. */
#define CLI_VAL_BASE 0x4000
#define CLI_MAX_OPTIONS 160

/* Handles -v, --json and getopt's errors: 1 handled, 0 the command's own,
 * -1 after printing a usage error. */
static int common_opt(const char *command, int opt, char **argv)
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
		/* A long option given a value it does not take leaves its
		 * getopt value in optopt: only a letter is worth printing. */
		if (optopt > ' ' && optopt <= '~')
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

/* ---- option tables ---- */

/* What one getopt value stands for: a table entry, or a getopt parser's option. */
struct cli_slot {
	const struct cli_group *group;
	const struct cli_option *option;	/* NULL: group->parse applies it */
	const char *name;
	int val;
};

struct cli_loop {
	struct option longopts[CLI_MAX_OPTIONS + 4];
	struct cli_slot slots[CLI_MAX_OPTIONS];
	char shortopts[2 * CLI_MAX_OPTIONS + 4];
	int nr;
};

static bool name_taken(const struct cli_loop *l, const char *name)
{
	for (int i = 0; i < l->nr; i++)
		if (!strcmp(l->slots[i].name, name))
			return true;
	return false;
}

static int add_slot(struct cli_loop *l, const struct cli_group *g, const struct cli_option *o,
		    const struct option *lo)
{
	const char *name = o ? o->name : lo->name;
	int has_arg;

	if (name_taken(l, name))
		return 0;
	if (l->nr == CLI_MAX_OPTIONS)
		return -1;
	if (o)
		has_arg = o->kind == CLI_FLAG || o->kind == CLI_SET ||
			  (o->kind == CLI_CALL && !o->has_value) ? no_argument : required_argument;
	else
		has_arg = lo->has_arg;
	l->slots[l->nr] = (struct cli_slot){
		.group = g, .option = o, .name = name,
		.val = !o ? lo->val : o->letter ? o->letter : CLI_VAL_BASE + l->nr,
	};
	l->longopts[l->nr] = (struct option){ name, has_arg, NULL, l->slots[l->nr].val };
	if (o && o->letter) {
		size_t n = strlen(l->shortopts);

		l->shortopts[n++] = (char)o->letter;
		if (has_arg == required_argument)
			l->shortopts[n++] = ':';
		l->shortopts[n] = '\0';
	}
	l->nr++;
	return 0;
}

static int build_loop(struct cli_loop *l, const struct cli_group *groups)
{
	static const struct option common[] = { CLI_COMMON_LONGOPTS };

	memset(l, 0, sizeof(*l));
	l->shortopts[0] = ':';
	for (const struct cli_group *g = groups; g->options || g->longopts; g++) {
		for (const struct cli_option *o = g->options; o && o->name; o++)
			if (add_slot(l, g, o, NULL))
				return -1;
		for (const struct option *lo = g->longopts; lo && lo->name; lo++)
			if (add_slot(l, g, NULL, lo))
				return -1;
	}
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		l->longopts[l->nr + i] = common[i];
	strcat(l->shortopts, "vh");
	return 0;
}

/* Applies one option getopt returned: 0, or -1 after a usage error. */
static int dispatch(const struct cli_spec *spec, const struct cli_loop *l, int val)
{
	const struct cli_slot *s = NULL;
	int rc;

	if (val >= CLI_VAL_BASE && val < CLI_VAL_BASE + l->nr)
		s = &l->slots[val - CLI_VAL_BASE];
	for (int i = 0; !s && i < l->nr; i++)
		if (l->slots[i].val == val)
			s = &l->slots[i];
	if (!s)
		return -1;
	if (s->option) {
		rc = cli_option_apply(spec->command, s->option, optarg, s->group->base);
	} else {
		rc = s->group->parse(spec->command, val, optarg, s->group->base);
		rc = rc > 0 ? 0 : -1;
	}
	if (!rc && s->group->given)
		*s->group->given = s->name;
	return rc;
}

enum cli_result cli_parse(const struct cli_spec *spec, int argc, char **argv)
{
	static struct cli_loop loop;
	int opt, rc;

	if (build_loop(&loop, spec->groups)) {
		usage_error("%s: too many options for one command", spec->command);
		return CLI_USAGE_ERROR;
	}
	while ((opt = getopt_long(argc, argv, loop.shortopts, loop.longopts, NULL)) != -1) {
		rc = common_opt(spec->command, opt, argv);
		if (rc > 0)
			continue;
		if (rc < 0)
			return CLI_USAGE_ERROR;
		if (opt == 'h') {
			spec->help();
			return CLI_HELP_SHOWN;
		}
		if (dispatch(spec, &loop, opt))
			return CLI_USAGE_ERROR;
	}
	if (spec->no_operands && !cli_no_args(spec->command, argc, argv))
		return CLI_USAGE_ERROR;
	return CLI_PARSED;
}

int cli_exit_code(enum cli_result result)
{
	return result == CLI_USAGE_ERROR ? EXIT_USAGE : 0;
}
