/* netprof flame: folded stacks to an interactive SVG flame graph, plain or
 * differential. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "profile/flamegraph.h"
#include "profile/folded.h"
#include "lib/log.h"
#include "lib/output.h"
#include "lib/teardown.h"

/* Malformed lines printed per file; the rest are counted. */
#define MAX_REPORTED_ERRORS 20

static void help(void)
{
	printf("Usage: netprof flame FILE [-o OUT.svg] [--title T] [--width PX] [--colors default]\n"
	       "       netprof flame --diff A B [-o OUT.svg] [--title T] [--width PX] [--colors default|diff]\n"
	       "\n"
	       "Renders folded stacks (frames joined by ';', a space, a sample count: what\n"
	       "'netprof run' writes to results/<run>/stacks.folded, and what perf, bpftrace\n"
	       "and stackcollapse scripts produce) as a self-contained interactive SVG flame\n"
	       "graph: hover for a frame's samples and share, click to zoom in, Search (or\n"
	       "Ctrl-F) to highlight frames and see the share they cover. FILE '-' is stdin.\n"
	       "\n"
	       "With --diff, widths come from B and colors from how each frame's share of\n"
	       "its profile changed from A to B: red grew, blue shrank, white unchanged; the\n"
	       "tooltip gives both counts and the change in percentage points. Frames only\n"
	       "in A are not drawn: run --diff B A to see those.\n"
	       "\n"
	       "The file is checked strictly; malformed lines are listed with their line\n"
	       "numbers (the first %d) and nothing is written.\n"
	       "\n"
	       "  -o, --output FILE   write the SVG there (default, or '-': stdout, unless it is a terminal)\n"
	       "  --title TEXT        the graph's title\n"
	       "  --width PX          image width (default %d)\n"
	       "  --colors PALETTE    default (warm, by name) or diff (the default with --diff)\n"
	       "  --min-width PX      leave out frames narrower than this (default %.1f; 0 keeps all)\n"
	       "  --diff              compare two profiles A and B\n"
	       "  --json              with -o: the summary as JSON\n"
	       "\n"
	       "Exit status: 0 written, 1 unreadable, malformed or empty input, 2 usage error.\n"
	       "\n"
	       "Examples:\n"
	       "  netprof flame results/calico-rr/stacks.folded -o calico.svg\n"
	       "  perf script | stackcollapse-perf.pl | netprof flame - > perf.svg\n"
	       "  netprof flame --diff results/calico-rr/stacks.folded results/cilium-rr/stacks.folded \\\n"
	       "      -o calico-to-cilium.svg --title 'calico -> cilium, request/response'\n",
	       MAX_REPORTED_ERRORS, FLAME_DEFAULT_WIDTH, FLAME_DEFAULT_MIN_FRAME_PX);
}

/* Reads one profile; on failure prints why and returns false. */
static bool load_profile(struct folded_profile *p, const char *path)
{
	bool from_stdin = !strcmp(path, "-");
	const char *name = from_stdin ? "stdin" : path;
	FILE *f = from_stdin ? stdin : fopen(path, "r");
	int rc;

	folded_profile_init(p, MAX_REPORTED_ERRORS);
	if (!f) {
		pr_warn("flame: cannot read %s: %s", name, strerror(errno));
		return false;
	}
	rc = folded_parse(p, f, name);
	if (!from_stdin)
		fclose(f);
	if (rc == -EINVAL) {
		/* Compiler style, so editors can jump to the line. */
		for (size_t i = 0; i < p->nr_kept_errors; i++)
			fprintf(stderr, "%s\n", p->errors[i]);
		if (p->nr_errors > p->nr_kept_errors)
			fprintf(stderr, "%s: %zu more errors\n", name, p->nr_errors - p->nr_kept_errors);
		pr_warn("flame: %s: %zu malformed line%s, no SVG written", name, p->nr_errors,
			p->nr_errors == 1 ? "" : "s");
		return false;
	}
	if (rc == -EINTR)
		return false;
	if (rc < 0) {
		pr_warn("flame: cannot read %s: %s", name, strerror(-rc));
		return false;
	}
	if (!p->root.total) {
		pr_warn("flame: %s: no samples (the file holds no stack lines)", name);
		return false;
	}
	return true;
}

static void remove_file(void *path)
{
	unlink(path);
}

/*
 * Writes the SVG to a temporary file next to path and renames it into
 * place, so a failure or a signal never leaves a half-written graph.
 */
static int write_svg_file(const char *path, const struct folded_profile *profile,
			  const struct folded_profile *base, const struct flame_options *o,
			  struct flame_stats *stats)
{
	char tmp[PATH_MAX];
	mode_t mask;
	int fd, handle, rc;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	handle = teardown_register(remove_file, tmp);
	/* mkstemp makes it 0600; give the graph the mode a new file gets. */
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	rc = flame_write_svg(f, profile, base, o, stats);
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && stop_requested())
		rc = -EINTR;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (!rc) {
		if (handle >= 0)
			teardown_cancel(handle);
		return 0;
	}
fail:
	if (handle >= 0)
		teardown_run_one(handle);
	else
		unlink(tmp);
	return rc;
}

/* Writes the graph (to stdout when output is NULL) and, for a file, the
 * summary. Returns 0 or -1 after saying what failed. */
static int render(const char *output, const struct folded_profile *shown,
		  const struct folded_profile *base, const struct flame_options *o)
{
	struct flame_stats stats;
	int err;

	if (output)
		err = write_svg_file(output, shown, base, o, &stats);
	else
		err = flame_write_svg(stdout, shown, base, o, &stats);
	if (err) {
		pr_warn("flame: cannot write %s: %s", output ? output : "stdout", strerror(-err));
		return -1;
	}
	if (!output)
		return 0;
	out_init(opt_json);
	out_object_begin(NULL);
	out_string("output", "wrote %s: ", output);
	out_uint("samples", "%llu samples, ", shown->root.total);
	out_uint("frames", "%llu frames", stats.frames_drawn);
	out_uint("frames_left_out",
		 stats.frames_left_out ? " (%llu narrower than --min-width left out)" : NULL,
		 stats.frames_left_out);
	out_uint("depth", ", %llu deep\n", stats.depth);
	out_object_end();
	out_finish();
	return 0;
}

struct flame_args {
	struct flame_options o;
	const char *output, *colors;
	bool diff, title_given;
};

static int title_option(const char *command, const struct cli_option *opt, const char *arg,
			void *base)
{
	struct flame_args *a = base;

	(void)command;
	(void)opt;
	a->o.title = arg;
	a->title_given = true;
	return 0;
}

static int min_width_option(const char *command, const struct cli_option *opt, const char *arg,
			    void *base)
{
	struct flame_args *a = base;
	char *end;
	double v;

	(void)opt;
	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0 && v <= FLAME_MAX_WIDTH_PX)) {
		usage_error("%s: --min-width '%s' is not a number of pixels (0 to %d)", command, arg,
			    FLAME_MAX_WIDTH_PX);
		return -1;
	}
	a->o.min_frame_px = v;
	return 0;
}

static const struct cli_option flame_cli_options[] = {
	{ "output", 'o', CLI_STRING, CLI_FIELD(struct flame_args, output) },
	{ "title", 0, CLI_CALL, .handler = title_option, .has_value = true },
	{ "width", 0, CLI_U64, CLI_FIELD(struct flame_args, o.width), .min = FLAME_MIN_WIDTH_PX,
	  .max = FLAME_MAX_WIDTH_PX },
	{ "colors", 0, CLI_STRING, CLI_FIELD(struct flame_args, colors) },
	{ "min-width", 0, CLI_CALL, .handler = min_width_option, .has_value = true },
	{ "diff", 0, CLI_FLAG, CLI_FIELD(struct flame_args, diff) },
	{}
};

int cmd_flame(int argc, char **argv)
{
	struct folded_profile profiles[2];
	int nr_loaded = 0, nr_inputs, rc;
	struct flame_args a = {};
	const struct cli_group groups[] = { CLI_GROUP(flame_cli_options, &a), {} };
	const struct cli_spec spec = { "flame", help, groups, .no_operands = false };
	struct flame_options *o = &a.o;
	const char *output, *colors;
	char subtitle[2 * PATH_MAX + 256];
	bool diff;

	flame_options_init(o);
	rc = cli_parse(&spec, argc, argv);
	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	output = a.output;
	colors = a.colors;
	diff = a.diff;
	if (output && !strcmp(output, "-"))
		output = NULL;	/* -o - is stdout, as usual */
	nr_inputs = argc - optind;
	if (nr_inputs != (diff ? 2 : 1)) {
		if (diff)
			usage_error("flame: --diff needs two profiles, A then B (usage: netprof flame --diff A B [-o out.svg])");
		else if (nr_inputs == 0)
			usage_error("flame: no input file (usage: netprof flame FILE [-o out.svg]; see 'netprof flame -h')");
		else
			usage_error("flame: one input file expected, got %d (to compare two, use --diff A B)",
				    nr_inputs);
		return EXIT_USAGE;
	}
	if (colors && strcmp(colors, "default") && strcmp(colors, "diff")) {
		usage_error("flame: --colors '%s': expected default or diff", colors);
		return EXIT_USAGE;
	}
	if (colors && !strcmp(colors, "diff") && !diff) {
		usage_error("flame: --colors diff compares two profiles: use --diff A B");
		return EXIT_USAGE;
	}
	/* A differential graph is painted by the change unless told otherwise. */
	o->palette = diff && !(colors && !strcmp(colors, "default")) ? FLAME_PALETTE_DIFF
								     : FLAME_PALETTE_WARM;
	if (o->min_frame_px > o->width) {
		usage_error("flame: --min-width %g is wider than the image (%u px)", o->min_frame_px,
			    o->width);
		return EXIT_USAGE;
	}
	if (!output && isatty(STDOUT_FILENO)) {
		usage_error("flame: stdout is a terminal: give -o out.svg or redirect the output to a file");
		return EXIT_USAGE;
	}
	if (!output && opt_json) {
		usage_error("flame: --json needs -o (without it the SVG itself goes to stdout)");
		return EXIT_USAGE;
	}

	rc = 1;
	for (int i = 0; i < nr_inputs; i++) {
		nr_loaded = i + 1;	/* a failed load holds allocations too */
		if (!load_profile(&profiles[i], argv[optind + i]))
			goto out;
	}

	if (diff) {
		uint64_t only_a = folded_samples_missing_from(&profiles[0], &profiles[1]);

		snprintf(subtitle, sizeof(subtitle),
			 "A: %s (%llu samples)  B: %s (%llu samples)\n"
			 "width: B; color: share change from A to B, red grew, blue shrank; "
			 "%.1f%% of A in frames B lacks, not drawn",
			 argv[optind], (unsigned long long)profiles[0].root.total, argv[optind + 1],
			 (unsigned long long)profiles[1].root.total,
			 100.0 * only_a / profiles[0].root.total);
		if (!a.title_given)
			o->title = "Differential flame graph";
	} else {
		snprintf(subtitle, sizeof(subtitle), "%s: %llu samples in %llu stacks", argv[optind],
			 (unsigned long long)profiles[0].root.total,
			 (unsigned long long)profiles[0].nr_stacks);
	}
	o->subtitle = subtitle;

	if (render(output, diff ? &profiles[1] : &profiles[0], diff ? &profiles[0] : NULL, o))
		goto out;
	rc = 0;
out:
	for (int i = 0; i < nr_loaded; i++)
		folded_profile_free(&profiles[i]);
	return rc;
}
