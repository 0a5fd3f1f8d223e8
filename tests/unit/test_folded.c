#include <errno.h>
#include <stdlib.h>

#include "profile/folded.h"
#include "test.h"

/* Parses len bytes of text (which may hold a NUL) as file "t.folded". */
static int parse_bytes(struct folded_profile *p, const char *text, size_t len, size_t max_errors)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int rc;

	folded_profile_init(p, max_errors);
	if (!f)
		return -errno;
	rc = folded_parse(p, f, "t.folded");
	fclose(f);
	return rc;
}

static int parse_text(struct folded_profile *p, const char *text)
{
	/* fmemopen of an empty buffer fails with EINVAL, so give it room. */
	return parse_bytes(p, text, strlen(text), 20);
}

/* The node at path "a;b;c" (frames joined by ';'), or NULL. */
static const struct folded_node *at(const struct folded_profile *p, const char *path)
{
	const struct folded_node *n = &p->root;
	char *copy = strdup(path), *save = NULL;

	for (char *frame = strtok_r(copy, ";", &save); frame && n;
	     frame = strtok_r(NULL, ";", &save))
		n = folded_child(n, frame);
	free(copy);
	return n;
}

static char *write_profile(const struct folded_profile *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (folded_write_profile(f, p) < 0) {
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	return text;
}

TEST(folded_valid_lines_build_the_tree)
{
	struct folded_profile p;

	if (!ASSERT_EQ(parse_text(&p, "a;b;c 3\na;b 2\na;d 1\ne 4\n"), 0, "parse"))
		return;
	ASSERT_EQ(p.root.total, 10, "every sample");
	ASSERT_EQ(p.nr_stacks, 4, "stack lines");
	ASSERT_EQ(p.nr_nodes, 5, "distinct frame paths a, a;b, a;b;c, a;d, e");
	ASSERT_EQ(p.max_depth, 3, "deepest stack");
	ASSERT_STREQ(p.root.name, "all", "root name");
	if (ASSERT_TRUE(at(&p, "a") != NULL, "a exists")) {
		ASSERT_EQ(at(&p, "a")->total, 6, "a inclusive");
		ASSERT_EQ(at(&p, "a")->self, 0, "a self");
		ASSERT_EQ(at(&p, "a")->depth, 1, "a depth");
	}
	if (ASSERT_TRUE(at(&p, "a;b") != NULL, "a;b exists")) {
		ASSERT_EQ(at(&p, "a;b")->total, 5, "a;b inclusive");
		ASSERT_EQ(at(&p, "a;b")->self, 2, "a;b self");
	}
	if (ASSERT_TRUE(at(&p, "a;b;c") != NULL, "a;b;c exists"))
		ASSERT_EQ(at(&p, "a;b;c")->self, 3, "a;b;c self");
	ASSERT_TRUE(at(&p, "a;c") == NULL, "no a;c");
	ASSERT_TRUE(at(&p, "b") == NULL, "b only under a");
	folded_profile_free(&p);
}

TEST(folded_frames_may_hold_spaces_and_any_byte_but_separators)
{
	struct folded_profile p;

	if (!ASSERT_EQ(parse_text(&p, "main;operator new(unsigned long) 4\n"
				      "x y;[unknown] z;\xc3\xa9t\xc3\xa9 <&> 7\n"
				      "a  2\n"), 0, "parse"))
		return;
	ASSERT_TRUE(at(&p, "main;operator new(unsigned long)") != NULL, "frame with spaces");
	if (ASSERT_TRUE(at(&p, "x y;[unknown] z;\xc3\xa9t\xc3\xa9 <&>") != NULL, "three frames"))
		ASSERT_EQ(at(&p, "x y;[unknown] z;\xc3\xa9t\xc3\xa9 <&>")->self, 7, "count after the last space");
	/* The count is what follows the last space; the frame keeps its own. */
	if (ASSERT_TRUE(at(&p, "a ") != NULL, "frame 'a ' with a trailing space"))
		ASSERT_EQ(at(&p, "a ")->self, 2, "its count");
	folded_profile_free(&p);
}

TEST(folded_same_stack_aggregates_and_children_sort_by_name)
{
	struct folded_profile p;
	const char *order[] = { "B", "a", "b", "z" };

	if (!ASSERT_EQ(parse_text(&p, "r;z 1\nr;b 2\nr;a 3\nr;B 4\nr;b 5\nr 6\n"), 0, "parse"))
		return;
	ASSERT_EQ(p.nr_nodes, 5, "r and its four callees");
	ASSERT_EQ(p.nr_stacks, 6, "lines");
	ASSERT_EQ(at(&p, "r;b")->self, 7, "r;b twice: 2 + 5");
	ASSERT_EQ(at(&p, "r")->self, 6, "r's own samples");
	ASSERT_EQ(at(&p, "r")->total, 21, "r inclusive");
	if (ASSERT_EQ(at(&p, "r")->nr_children, 4, "children"))
		for (int i = 0; i < 4; i++)
			ASSERT_STREQ(at(&p, "r")->children[i]->name, order[i], "byte order");
	folded_profile_free(&p);
}

TEST(folded_walk_is_preorder)
{
	struct folded_profile p;
	const char *want[] = { "all", "a", "b", "c", "d", "e" };
	const struct folded_node *n;
	int i = 0;

	if (!ASSERT_EQ(parse_text(&p, "e 1\na;d 1\na;b;c 1\n"), 0, "parse"))
		return;
	for (n = &p.root; n && i < 6; n = folded_next(n, true), i++)
		ASSERT_STREQ(n->name, want[i], "pre-order");
	ASSERT_TRUE(n == NULL && i == 6, "walk ends after the last node");
	/* Not descending from a skips b and c and d. */
	ASSERT_STREQ(folded_next(at(&p, "a"), false)->name, "e", "skip a's callees");
	ASSERT_TRUE(folded_next(at(&p, "e"), true) == NULL, "e is last");
	folded_profile_free(&p);
}

/* Every malformed case, each on a known line among good ones. */
TEST(folded_malformed_lines_are_reported_with_their_numbers)
{
	static const char text[] =
		"good;line 1\n"			/* 1 */
		"\n"				/* 2 */
		"a;b\n"				/* 3 */
		"a;b x\n"			/* 4 */
		"a;b 0\n"			/* 5 */
		"a;b -3\n"			/* 6 */
		"a;b 18446744073709551616\n"	/* 7 */
		" 5\n"				/* 8 */
		"a;;b 5\n"			/* 9 */
		";a 5\n"			/* 10 */
		"a; 5\n"			/* 11 */
		"a;b 5\r\n"			/* 12 */
		"a;b 5 \n"			/* 13 */
		"a\t5\n"			/* 14 */
		"a;b 1.5\n"			/* 15 */
		"a;b +5\n"			/* 16 */
		"a\0b 5\n"			/* 17 */
		"good;line 2\n";		/* 18 */
	static const char *const want[] = {
		"t.folded:2: empty line",
		"t.folded:3: no count: expected frames joined by ';', a space and a sample count",
		"t.folded:4: count 'x' is not a positive integer",
		"t.folded:5: count '0' is not a positive integer",
		"t.folded:6: count '-3' is not a positive integer",
		"t.folded:7: count '18446744073709551616' is too large (the most is 18446744073709551615)",
		"t.folded:8: no frames before the count",
		"t.folded:9: frame 2 is empty (a ';' at the start, at the end or doubled)",
		"t.folded:10: frame 1 is empty (a ';' at the start, at the end or doubled)",
		"t.folded:11: frame 2 is empty (a ';' at the start, at the end or doubled)",
		"t.folded:12: ends with a carriage return (DOS line ending; convert the file with dos2unix)",
		"t.folded:13: nothing after the last space: expected a sample count",
		"t.folded:14: no count: expected frames joined by ';', a space and a sample count",
		"t.folded:15: count '1.5' is not a positive integer",
		"t.folded:16: count '+5' is not a positive integer",
		"t.folded:17: contains a NUL byte",
	};
	const size_t nr_want = sizeof(want) / sizeof(want[0]);
	struct folded_profile p;

	if (!ASSERT_EQ(parse_bytes(&p, text, sizeof(text) - 1, 20), -EINVAL, "malformed"))
		return;
	ASSERT_EQ(p.nr_errors, nr_want, "errors");
	if (ASSERT_EQ(p.nr_kept_errors, nr_want, "messages"))
		for (size_t i = 0; i < nr_want; i++)
			ASSERT_STREQ(p.errors[i], want[i], "message");
	/* Bad lines add nothing; the good ones are all there. */
	ASSERT_EQ(p.root.total, 3, "samples of lines 1 and 18");
	ASSERT_EQ(p.nr_stacks, 2, "good lines");
	ASSERT_EQ(p.nr_nodes, 2, "good and good;line");
	ASSERT_TRUE(at(&p, "a") == NULL, "nothing from the bad lines");
	folded_profile_free(&p);
}

TEST(folded_errors_beyond_the_limit_are_counted)
{
	struct folded_profile p;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	for (int i = 1; i <= 50; i++)
		fprintf(f, i % 2 ? "ok %d\n" : "bad%d\n", i);
	fclose(f);
	if (!ASSERT_EQ(parse_bytes(&p, text, len, 20), -EINVAL, "malformed"))
		goto out;
	ASSERT_EQ(p.nr_errors, 25, "every even line counted");
	ASSERT_EQ(p.nr_kept_errors, 20, "messages kept up to the limit");
	ASSERT_STREQ(p.errors[0], "t.folded:2: no count: expected frames joined by ';', a space and a sample count", "first");
	ASSERT_STREQ(p.errors[19], "t.folded:40: no count: expected frames joined by ';', a space and a sample count", "twentieth");
	ASSERT_EQ(p.root.total, 25 * 25, "sum of the odd line numbers");
out:
	folded_profile_free(&p);
	free(text);
}

TEST(folded_total_overflow_is_an_error)
{
	struct folded_profile p;

	if (!ASSERT_EQ(parse_text(&p, "a 18446744073709551615\nb 1\n"), -EINVAL, "malformed"))
		return;
	if (ASSERT_EQ(p.nr_kept_errors, 1, "one error"))
		ASSERT_STREQ(p.errors[0], "t.folded:2: the profile's total passes 2^64-1 samples", "message");
	ASSERT_EQ(p.root.total, UINT64_MAX, "the first line counted");
	folded_profile_free(&p);
}

TEST(folded_empty_input_and_final_newline)
{
	struct folded_profile p;
	char nothing[1] = "";

	ASSERT_EQ(parse_bytes(&p, nothing, 0, 20), 0, "an empty file is well formed");
	ASSERT_EQ(p.root.total, 0, "and has no samples");
	folded_profile_free(&p);

	ASSERT_EQ(parse_text(&p, "a;b 3"), 0, "no final newline is accepted");
	ASSERT_EQ(p.root.total, 3, "last line counted");
	folded_profile_free(&p);

	ASSERT_EQ(parse_text(&p, "a;b 3\n\n"), -EINVAL, "a blank last line is not");
	if (ASSERT_EQ(p.nr_kept_errors, 1, "one error"))
		ASSERT_STREQ(p.errors[0], "t.folded:2: empty line", "message");
	folded_profile_free(&p);
}

TEST(folded_write_line_replaces_what_a_frame_cannot_hold)
{
	const char *frames[] = { "a;b", "c\nd", "", NULL, "e f" };
	const char *one[] = { "x" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct folded_profile p;

	ASSERT_EQ(folded_write_line(f, frames, 5, 42), 0, "written");
	ASSERT_EQ(folded_write_line(f, one, 0, 1), -EINVAL, "no frames");
	ASSERT_EQ(folded_write_line(f, one, 1, 0), -EINVAL, "zero count");
	ASSERT_EQ(folded_write_line(f, one, 1, UINT64_MAX), 0, "largest count");
	fclose(f);
	ASSERT_STREQ(text, "a:b;c d;[unknown];[unknown];e f 42\nx 18446744073709551615\n", "text");
	/* What the writer writes, the parser reads back as the same frames
	 * (the first line: both together would pass 2^64-1 samples). */
	if (ASSERT_EQ(parse_bytes(&p, text, strchr(text, '\n') + 1 - text, 20), 0, "parses back")) {
		ASSERT_EQ(p.max_depth, 5, "five frames");
		ASSERT_TRUE(at(&p, "a:b;c d;[unknown];[unknown];e f") != NULL, "same path");
	}
	folded_profile_free(&p);
	free(text);
}

TEST(folded_add_stack_rejects_bad_frames)
{
	struct folded_profile p;
	const char *semi[] = { "a", "b;c" }, *nl[] = { "a\n" }, *empty[] = { "a", "" };
	const char *null[] = { NULL }, *ok[] = { "a", "b" };

	folded_profile_init(&p, 20);
	ASSERT_EQ(folded_add_stack(&p, semi, 2, 1), -EINVAL, "';' in a frame");
	ASSERT_EQ(folded_add_stack(&p, nl, 1, 1), -EINVAL, "newline in a frame");
	ASSERT_EQ(folded_add_stack(&p, empty, 2, 1), -EINVAL, "empty frame");
	ASSERT_EQ(folded_add_stack(&p, null, 1, 1), -EINVAL, "NULL frame");
	ASSERT_EQ(folded_add_stack(&p, ok, 0, 1), -EINVAL, "no frames");
	ASSERT_EQ(folded_add_stack(&p, ok, 2, 0), -EINVAL, "zero count");
	ASSERT_EQ(p.nr_nodes, 0, "nothing added");
	ASSERT_EQ(folded_add_stack(&p, ok, 2, 5), 0, "good stack");
	ASSERT_EQ(folded_add_stack(&p, ok, 2, UINT64_MAX), -EOVERFLOW, "total overflow");
	ASSERT_EQ(p.root.total, 5, "total unchanged by the refused stack");
	folded_profile_free(&p);
}

TEST(folded_round_trip)
{
	struct folded_profile p, q;
	char *text = NULL, *again = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const struct folded_node *x, *y;

	/* Many stacks, shared prefixes, repeats, self samples at every depth. */
	srandom(6);
	for (int i = 0; i < 3000; i++) {
		int depth = 1 + (int)(random() % 12);

		for (int d = 0; d < depth; d++)
			fprintf(f, "%sfn_%ld %s", d ? ";" : "", random() % 7, d == 2 ? "with space" : "x");
		fprintf(f, " %ld\n", 1 + random() % 1000);
	}
	fclose(f);
	if (!ASSERT_EQ(parse_bytes(&p, text, len, 20), 0, "first parse"))
		goto out;
	again = write_profile(&p);
	if (!ASSERT_TRUE(again != NULL, "written"))
		goto out_p;
	if (!ASSERT_EQ(parse_text(&q, again), 0, "second parse"))
		goto out_q;
	ASSERT_EQ(q.root.total, p.root.total, "total");
	ASSERT_EQ(q.nr_nodes, p.nr_nodes, "frame paths");
	ASSERT_EQ(q.max_depth, p.max_depth, "depth");
	ASSERT_TRUE(p.nr_stacks > q.nr_stacks, "repeats were merged");
	for (x = &p.root, y = &q.root; x && y; x = folded_next(x, true), y = folded_next(y, true))
		if (!ASSERT_STREQ(y->name, x->name, "same node") ||
		    !ASSERT_EQ(y->total, x->total, "same total") || !ASSERT_EQ(y->self, x->self, "same self"))
			break;
	ASSERT_TRUE(!x && !y, "same number of nodes walked");
	{
		char *third = write_profile(&q);

		ASSERT_STREQ(third, again, "writing is stable");
		free(third);
	}
out_q:
	folded_profile_free(&q);
out_p:
	folded_profile_free(&p);
out:
	free(again);
	free(text);
}

TEST(folded_samples_missing_from_another_profile)
{
	struct folded_profile a, b;

	folded_profile_init(&a, 20);
	folded_profile_init(&b, 20);
	/* a's iptables path (40) and c;d (5) are not in b; c;e is. */
	if (!ASSERT_EQ(parse_text(&a, "rx;nf;iptables 40\nrx;nf 10\nrx;tcp 30\nc;d 5\nc;e 15\n"), 0, "parse a") ||
	    !ASSERT_EQ(parse_text(&b, "rx;nf 3\nrx;tcp 30\nrx;bpf 50\nc;e 1\n"), 0, "parse b"))
		goto out;
	ASSERT_EQ(folded_samples_missing_from(&a, &b), 45, "iptables and c;d");
	ASSERT_EQ(folded_samples_missing_from(&b, &a), 50, "bpf");
	ASSERT_EQ(folded_samples_missing_from(&a, &a), 0, "nothing missing from itself");
out:
	folded_profile_free(&a);
	folded_profile_free(&b);
}

/* Stacks as the profiler has them: a name with ';', one with '\n', an empty
 * one, a NULL; the second and the fourth are one stack once written. */
static const char *const raw_stacks[][4] = {
	{ "netprof", "main", "tcp_sendmsg_[k]", NULL },
	{ "net;prof", "", "x\ny_[k]", NULL },
	{ "netprof", "main", NULL, NULL },
	{ "net:prof", "[unknown]", "x y_[k]", NULL },
	{ "netprof", "main", "tcp_sendmsg_[k]", NULL },
};
static const size_t raw_depth[] = { 3, 3, 3, 3, 2 };

TEST(folded_add_stack_replacing_equals_writing_and_parsing)
{
	struct folded_profile direct, parsed;
	char *lines = NULL, *from_direct = NULL, *from_parsed = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&lines, &len);

	folded_profile_init(&direct, 20);
	for (size_t i = 0; i < sizeof(raw_stacks) / sizeof(raw_stacks[0]); i++) {
		ASSERT_EQ(folded_add_stack_replacing(&direct, raw_stacks[i], raw_depth[i], i + 1), 0,
			  "added as it comes");
		folded_write_line(f, raw_stacks[i], (int)raw_depth[i], i + 1);
	}
	fclose(f);
	folded_sort(&direct);
	if (!ASSERT_EQ(parse_text(&parsed, lines), 0, "the written lines parse"))
		goto out;
	from_direct = write_profile(&direct);
	from_parsed = write_profile(&parsed);
	ASSERT_STREQ(from_direct, from_parsed, "the same tree either way");
	ASSERT_STREQ(from_direct,
		     "net:prof;[unknown];x y_[k] 6\n"
		     "netprof;main 5\n"
		     "netprof;main;[unknown] 3\n"
		     "netprof;main;tcp_sendmsg_[k] 1\n", "replaced and merged");
	ASSERT_EQ(direct.nr_stacks, parsed.nr_stacks, "one stack per call");
	ASSERT_EQ(folded_add_stack_replacing(&direct, raw_stacks[0], 0, 1), -EINVAL, "no frames");
	ASSERT_EQ(folded_add_stack_replacing(&direct, raw_stacks[1], 3, 0), -EINVAL, "no samples");
out:
	folded_profile_free(&parsed);
	folded_profile_free(&direct);
	free(from_parsed);
	free(from_direct);
	free(lines);
}
