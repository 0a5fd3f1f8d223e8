/* The option-table loop (cli/cli.c) and the shared tracer options. */
#include <getopt.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "trace/trace_options.h"
#include "test.h"

struct demo_args {
	bool flag;
	uint16_t port;
	uint32_t mode;
	uint64_t wait_ns, bytes;
	const char *name;
	int calls;
	const char *last_arg;
};

static int count_call(const char *command, const struct cli_option *opt, const char *arg,
		      void *base)
{
	struct demo_args *a = base;

	(void)command;
	(void)opt;
	a->calls++;
	a->last_arg = arg;
	return arg && !strcmp(arg, "refuse") ? -1 : 0;
}

static const struct cli_option demo_options[] = {
	{ "flag", 'f', CLI_FLAG, CLI_FIELD(struct demo_args, flag) },
	{ "port", 'p', CLI_U64, CLI_FIELD(struct demo_args, port), .min = 1, .max = 65535 },
	{ "fast", 0, CLI_SET, CLI_FIELD(struct demo_args, mode), .value = 7 },
	{ "wait", 0, CLI_DURATION, CLI_FIELD(struct demo_args, wait_ns), .min = 1000,
	  .max = 10000000000ULL },
	{ "bytes", 0, CLI_SIZE, CLI_FIELD(struct demo_args, bytes), .min = 1, .max = 1ULL << 30 },
	{ "name", 'n', CLI_STRING, CLI_FIELD(struct demo_args, name) },
	{ "call", 0, CLI_CALL, .handler = count_call, .has_value = true },
	{}
};

static int help_calls;

static void demo_help(void)
{
	help_calls++;
}

/* Parses a NULL-terminated argument list as `netprof demo ...` would. */
static enum cli_result parse(struct demo_args *a, const char **given, bool no_operands,
			     char **args)
{
	const struct cli_group groups[] = {
		{ .options = demo_options, .base = a, .given = given },
		{}
	};
	const struct cli_spec spec = { "demo", demo_help, groups, .no_operands = no_operands };
	int argc = 0;

	while (args[argc])
		argc++;
	optind = 0;	/* glibc: start afresh, forgetting a half-read option group */
	opterr = 0;
	return cli_parse(&spec, argc, args);
}

#define ARGS(...) ((char *[]){ "demo", __VA_ARGS__, NULL })

TEST(cli_table_stores_each_kind)
{
	struct demo_args a = {};
	const char *given = NULL;
	enum cli_result rc;

	rc = parse(&a, &given, true,
		   ARGS("-f", "--port=8080", "--fast", "--wait", "250ms", "--bytes", "64k", "-n",
			"x", "--call", "v"));
	if (!ASSERT_EQ(rc, CLI_PARSED, "parsed"))
		return;
	ASSERT_TRUE(a.flag, "-f sets the flag");
	ASSERT_EQ(a.port, 8080, "--port into a 16-bit field");
	ASSERT_EQ(a.mode, 7, "--fast stores its value");
	ASSERT_EQ(a.wait_ns, 250000000ULL, "--wait in ns");
	ASSERT_EQ(a.bytes, 65536, "--bytes 64k");
	ASSERT_STREQ(a.name, "x", "-n points at its argument");
	ASSERT_EQ(a.calls, 1, "the handler ran once");
	ASSERT_STREQ(a.last_arg, "v", "the handler got the value");
	ASSERT_STREQ(given, "call", "the last option given is remembered by its long name");
}

TEST(cli_table_refuses_bad_values)
{
	struct demo_args a = { .port = 9 };

	ASSERT_EQ(parse(&a, NULL, true, ARGS("--port", "0")), CLI_USAGE_ERROR, "below min");
	ASSERT_EQ(parse(&a, NULL, true, ARGS("-p", "65536")), CLI_USAGE_ERROR, "above max");
	ASSERT_EQ(parse(&a, NULL, true, ARGS("-p", "12x")), CLI_USAGE_ERROR, "not a number");
	ASSERT_EQ(a.port, 9, "a refused value leaves the field alone");
	ASSERT_EQ(parse(&a, NULL, true, ARGS("--wait", "1ns")), CLI_USAGE_ERROR, "short wait");
	ASSERT_EQ(parse(&a, NULL, true, ARGS("--call", "refuse")), CLI_USAGE_ERROR,
		  "a handler's refusal");
	ASSERT_EQ(parse(&a, NULL, true, ARGS("--nosuch")), CLI_USAGE_ERROR, "unknown option");
	ASSERT_EQ(parse(&a, NULL, true, ARGS("-z")), CLI_USAGE_ERROR, "unknown letter");
	ASSERT_EQ(parse(&a, NULL, true, ARGS("--name")), CLI_USAGE_ERROR, "missing value");
	ASSERT_EQ(parse(&a, NULL, true, ARGS("left-over")), CLI_USAGE_ERROR, "operand refused");
	ASSERT_EQ(cli_exit_code(CLI_USAGE_ERROR), 2, "usage errors exit 2");
}

TEST(cli_table_operands_help_and_common_options)
{
	struct demo_args a = {};
	char **args = ARGS("first", "--flag", "second");
	bool json = opt_json;

	if (!ASSERT_EQ(parse(&a, NULL, false, args), CLI_PARSED, "operands allowed"))
		return;
	ASSERT_TRUE(a.flag, "an option after an operand");
	ASSERT_EQ(optind, 2, "optind at the operands, permuted to the end");
	ASSERT_STREQ(args[optind], "first", "first operand");
	help_calls = 0;
	ASSERT_EQ(parse(&a, NULL, true, ARGS("--flag", "-h", "--nosuch")), CLI_HELP_SHOWN, "-h");
	ASSERT_EQ(help_calls, 1, "the help printed once");
	ASSERT_EQ(cli_exit_code(CLI_HELP_SHOWN), 0, "help exits 0");
	opt_json = false;
	ASSERT_EQ(parse(&a, NULL, true, ARGS("--json")), CLI_PARSED, "--json is common");
	ASSERT_TRUE(opt_json, "--json sets opt_json");
	opt_json = json;
}

TEST(cli_later_group_loses_a_duplicate_name)
{
	static const struct cli_option other[] = {
		{ "flag", 0, CLI_STRING, CLI_FIELD(struct demo_args, name) },
		{ "extra", 0, CLI_FLAG, CLI_FIELD(struct demo_args, flag) },
		{}
	};
	struct demo_args a = {}, b = {};
	const struct cli_group groups[] = { CLI_GROUP(demo_options, &a), CLI_GROUP(other, &b), {} };
	const struct cli_spec spec = { "demo", demo_help, groups, .no_operands = true };
	char **args = ARGS("--flag", "--extra");

	optind = 0;
	if (!ASSERT_EQ(cli_parse(&spec, 3, args), CLI_PARSED, "parsed"))
		return;
	ASSERT_TRUE(a.flag, "--flag went to the first group");
	ASSERT_TRUE(b.flag, "--extra went to the second");
	ASSERT_TRUE(!b.name, "the second --flag was not used");
}

TEST(trace_options_defaults_and_limits)
{
	struct hops_target t = { .max_packets = 1, .xdp = true };
	const struct cli_group groups[] = { CLI_GROUP(trace_hop_options, &t), {} };
	const struct cli_spec spec = { "trace", demo_help, groups, .no_operands = true };
	char **args = ARGS("--sample", "10", "--max-packets", "4096", "--no-tc", "--duty", "4",
			   "--tc-key", "flow");

	trace_hop_defaults(&t);
	ASSERT_EQ(t.sample_every, 1, "every packet by default");
	ASSERT_EQ(t.max_packets, 65536, "one --max-packets default for trace and run");
	ASSERT_TRUE(!t.xdp, "no XDP by default");
	optind = 0;
	if (!ASSERT_EQ(cli_parse(&spec, 10, args), CLI_PARSED, "parsed"))
		return;
	ASSERT_EQ(t.sample_every, 10, "--sample");
	ASSERT_EQ(t.max_packets, 4096, "--max-packets");
	ASSERT_TRUE(t.no_tc, "--no-tc");
	ASSERT_EQ(t.duty, 4, "--duty");
	ASSERT_EQ(t.tc_key, TC_KEY_FLOW, "--tc-key flow");
	optind = 0;
	ASSERT_EQ(cli_parse(&spec, 3, ARGS("--max-packets", "63")), CLI_USAGE_ERROR,
		  "fewer than 64 packets refused");
}

TEST(trace_func_options_apply)
{
	struct func_timer_opts f = { .mode = FUNC_PROBE_OFF, .only_extra = true };
	const struct cli_group groups[] = { CLI_GROUP(trace_func_options, &f), {} };
	const struct cli_spec spec = { "run", demo_help, groups, .no_operands = true };

	trace_func_defaults(&f);
	ASSERT_EQ(f.mode, FUNC_PROBE_AUTO, "auto by default");
	ASSERT_TRUE(!f.only_extra, "the default list by default");
	optind = 0;
	if (!ASSERT_EQ(cli_parse(&spec, 5, ARGS("--func", "ip_rcv", "--func-probe", "kprobe")),
		       CLI_PARSED, "parsed"))
		return;
	ASSERT_EQ(f.nr_extra, 1, "one --func name");
	ASSERT_EQ(f.mode, FUNC_PROBE_KPROBE, "--func-probe kprobe");
	optind = 0;
	ASSERT_EQ(cli_parse(&spec, 3, ARGS("--func-probe", "uprobe")), CLI_USAGE_ERROR,
		  "unknown probe mode refused");
}

TEST(cli_help_lines_align)
{
	static const struct cli_option opts[] = {
		{ "sample", 0, CLI_U64, CLI_FIELD(struct demo_args, port), .arg_name = "N",
		  .help = "one in N" },
		{ "duration", 'd', CLI_DURATION, CLI_FIELD(struct demo_args, wait_ns),
		  .arg_name = "D", .help = "how long\nsecond line" },
		{ "hidden", 0, CLI_FLAG, CLI_FIELD(struct demo_args, flag) },
		{ "a-very-long-option-name", 0, CLI_FLAG, CLI_FIELD(struct demo_args, flag),
		  .help = "below" },
		{}
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli_print_options(f, opts);
	fclose(f);
	ASSERT_STREQ(buf,
		     "  --sample N            one in N\n"
		     "  -d, --duration D      how long\n"
		     "                        second line\n"
		     "  --a-very-long-option-name\n"
		     "                        below\n", "help layout");
	free(buf);
}
