/*
 * Cost categories: the rules file, which category a hand-written stack
 * lands in, the totals of a folded file and the table categories_print
 * writes, in text and JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/output.h"
#include "profile/categories.h"
#include "profile/folded.h"
#include "assert_text.h"
#include "test.h"

/*
 * alpha 0, beta 1, gamma 2, other 3. alpha's second rule and beta's kernel
 * rule both match "baz": the file's order decides.
 */
static const char rules[] =
	"# a comment, then a blank line\n"
	"\n"
	"alpha  kernel ^foo_.*$\n"
	"beta   user   ^bar$\n"
	"  alpha kernel ^baz$\n"
	"beta   kernel ^ba.$\n"
	"gamma  ucomm  ^proc$\n";

/* Rules text through a file, as --categories FILE reads it; NULL on error. */
static struct categories *load_text(const char *text)
{
	char path[] = "/tmp/netprof-unit-categories-XXXXXX";
	struct categories *c;
	int fd = mkstemp(path);

	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	c = categories_load(path);
	unlink(path);
	return c;
}

static int classify(const struct categories *c, const char *stack)
{
	const char *frames[16];
	char *copy = strdup(stack), *save = NULL;
	int n = 0, k;

	for (char *f = strtok_r(copy, ";", &save); f && n < 16; f = strtok_r(NULL, ";", &save))
		frames[n++] = f;
	k = categories_classify(c, frames, n);
	free(copy);
	return k;
}

TEST(categories_rules_file_names_in_order)
{
	struct categories *c = load_text(rules);

	if (!ASSERT_TRUE(c != NULL, "rules load"))
		return;
	ASSERT_EQ(categories_count(c), 4, "alpha, beta, gamma and other");
	ASSERT_STREQ(categories_name(c, 0), "alpha", "first named first");
	ASSERT_STREQ(categories_name(c, 1), "beta", "second");
	ASSERT_STREQ(categories_name(c, 2), "gamma", "third");
	ASSERT_STREQ(categories_name(c, 3), "other", "other last");
	ASSERT_STREQ(categories_name(c, 4), "other", "out of range");
	ASSERT_STREQ(categories_name(c, -1), "other", "negative");
	categories_free(c);
}

TEST(categories_bad_rules_refused)
{
	static const char *const bad[] = {
		"alpha kernel\n",			/* no regex */
		"alpha kern ^a$\n",			/* bad WHERE */
		"other kernel ^a$\n",			/* other is what matches nothing */
		"alpha kernel ^(a$\n",			/* bad regex */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct categories *c = load_text(bad[i]);

		ASSERT_TRUE(c == NULL, bad[i]);
		categories_free(c);
	}
	ASSERT_TRUE(categories_load("/nonexistent/categories.conf") == NULL, "missing file");
}

TEST(categories_too_many_refused)
{
	char text[CAT_MAX * 32] = "";
	struct categories *c;

	/* Two slots short of CAT_MAX is the most a file can name: "other"
	 * takes one and category_index keeps the last free. */
	for (int i = 0; i < CAT_MAX - 2; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "c%d kernel ^a%d$\n", i, i);
	c = load_text(text);
	if (ASSERT_TRUE(c != NULL, "CAT_MAX - 2 categories"))
		ASSERT_EQ(categories_count(c), CAT_MAX - 1, "with other");
	categories_free(c);
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "extra kernel ^b$\n");
	c = load_text(text);
	ASSERT_TRUE(c == NULL, "CAT_MAX - 1 named categories");
	categories_free(c);
}

TEST(categories_classify_leaf_first)
{
	struct categories *c = load_text(rules);

	if (!ASSERT_TRUE(c != NULL, "rules load"))
		return;
	ASSERT_EQ(classify(c, "proc;main;foo_x_[k]"), 0, "kernel leaf matches alpha");
	ASSERT_EQ(classify(c, "proc;bar;zzz_[k]"), 1, "unmatched leaf, then the user frame");
	ASSERT_EQ(classify(c, "proc;bar;foo_x_[k]"), 0, "the leaf decides before its callers");
	ASSERT_EQ(classify(c, "proc;foo_x_[k];bar"), 1, "a user leaf decides too");
	ASSERT_EQ(classify(c, "proc;baz_[k]"), 0, "the first matching line wins");
	ASSERT_EQ(classify(c, "proc;bat_[k]"), 1, "the later line where the first does not match");
	ASSERT_EQ(classify(c, "proc;foo_x"), 2, "a kernel rule does not match a user frame");
	ASSERT_EQ(classify(c, "proc;bar_[k]"), 1, "beta's kernel rule, not its user one");
	ASSERT_EQ(classify(c, "proc;main"), 2, "ucomm for a user-space sample");
	ASSERT_EQ(classify(c, "proc;main;zzz_[k]"), 3, "ucomm not for a kernel-mode sample");
	ASSERT_EQ(classify(c, "other;main"), 3, "nothing matches");
	ASSERT_EQ(classify(c, "foo_x_[k]"), 3, "the root frame is the process, not a function");
	categories_free(c);
}

TEST(categories_built_in_rules)
{
	struct categories *c = categories_load(NULL);
	int tcp = -1, loadgen = -1, netprof = -1;

	if (!ASSERT_TRUE(c != NULL, "built-in rules load"))
		return;
	for (int k = 0; k < categories_count(c); k++) {
		tcp = strcmp(categories_name(c, k), "tcp-ip") ? tcp : k;
		loadgen = strcmp(categories_name(c, k), "loadgen") ? loadgen : k;
		netprof = strcmp(categories_name(c, k), "netprof") ? netprof : k;
	}
	ASSERT_EQ(categories_count(c), 17, "16 categories and other");
	ASSERT_EQ(netprof, 0, "netprof's own probes come first");
	ASSERT_EQ(classify(c, "netprof;main;tcp_sendmsg_[k]"), tcp, "tcp_sendmsg");
	ASSERT_EQ(classify(c, "netprof;main;run_worker"), loadgen, "the load generator's own code");
	ASSERT_EQ(classify(c, "swapper;bpf_prog_0123abcd_hop_tc_ingress_[k]"), netprof,
		  "a hop tracer program");
	ASSERT_STREQ(categories_name(c, categories_count(c) - 1), "other", "other last");
	categories_free(c);
}

static const char folded_text[] =
	"proc;main;foo_x_[k] 3\n"
	"proc;bar 2\n"
	"proc;main 5\n"
	"proc;main;zzz_[k] 1\n"
	"proc;bar 4\n";

static int tally_text(const struct categories *c, const char *text, struct category_totals *t)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	if (!f)
		return -errno;
	rc = categories_tally_folded(c, f, "t.folded", t);
	fclose(f);
	return rc;
}

TEST(categories_tally_folded_file)
{
	struct categories *c = load_text(rules);
	struct category_totals t;

	if (!ASSERT_TRUE(c != NULL, "rules load"))
		return;
	if (ASSERT_EQ(tally_text(c, folded_text, &t), 0, "tally")) {
		ASSERT_EQ(t.samples[0], 3, "alpha");
		ASSERT_EQ(t.samples[1], 6, "beta, both lines of the same stack");
		ASSERT_EQ(t.samples[2], 5, "gamma: a frame with callers and samples of its own");
		ASSERT_EQ(t.samples[3], 1, "other");
		ASSERT_EQ(t.total, 15, "total");
	}
	ASSERT_EQ(tally_text(c, "proc;main 1\nbroken\n", &t), -EINVAL, "a malformed line fails");
	categories_free(c);
}

/* The profiler's way: folded_text's stacks added to a tree in memory, in
 * another order, never written. */
TEST(categories_tally_profile_equals_the_file)
{
	static const char *const stacks[][3] = {
		{ "proc", "bar" }, { "proc", "main", "zzz_[k]" }, { "proc", "main" },
		{ "proc", "bar" }, { "proc", "main", "foo_x_[k]" },
	};
	static const size_t depth[] = { 2, 3, 2, 2, 3 };
	static const uint64_t count[] = { 4, 1, 5, 2, 3 };
	struct categories *c = load_text(rules);
	struct category_totals from_file, from_tree;
	struct folded_profile p;

	folded_profile_init(&p, 20);
	if (!ASSERT_TRUE(c != NULL, "rules load"))
		goto out;
	for (size_t i = 0; i < sizeof(stacks) / sizeof(stacks[0]); i++)
		ASSERT_EQ(folded_add_stack(&p, stacks[i], depth[i], count[i]), 0, "add");
	folded_sort(&p);
	ASSERT_EQ(categories_tally_profile(c, &p, &from_tree), 0, "tally the tree");
	ASSERT_EQ(tally_text(c, folded_text, &from_file), 0, "tally the file");
	for (int k = 0; k < CAT_MAX; k++)
		ASSERT_EQ(from_tree.samples[k], from_file.samples[k], categories_name(c, k));
	ASSERT_EQ(from_tree.total, 15, "total");
	ASSERT_EQ(from_tree.samples[1], 6, "beta");
out:
	folded_profile_free(&p);
	categories_free(c);
}

static char *print(const struct categories *c, const struct category_totals *t, bool json,
		   double units, const char *unit_name)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	out_to(f, json);
	out_object_begin(NULL);
	categories_print(c, t, units, unit_name);
	out_object_end();
	out_finish();
	fclose(f);
	out_init(false);
	return text;
}

/* alpha 3, beta none, gamma 5, other 1: a zero row is text-silent, JSON-present. */
static struct categories *totals_without_beta(struct category_totals *t)
{
	struct categories *c = load_text(rules);

	memset(t, 0, sizeof(*t));
	t->samples[0] = 3;
	t->samples[2] = 5;
	t->samples[3] = 1;
	t->total = 9;
	return c;
}

TEST(categories_print_text)
{
	struct category_totals t;
	struct categories *c = totals_without_beta(&t);
	char *text;

	if (!ASSERT_TRUE(c != NULL, "rules load"))
		return;
	text = print(c, &t, false, 0, NULL);
	ASSERT_TEXT(text,
		"   alpha            33.3%         3 samples\n"
		"   gamma            55.6%         5 samples\n"
		"   other            11.1%         1 samples\n");
	free(text);
	text = print(c, &t, false, 4, "packet");
	ASSERT_TEXT(text,
		"   alpha            33.3%         3 samples     0.7500 per packet\n"
		"   gamma            55.6%         5 samples     1.2500 per packet\n"
		"   other            11.1%         1 samples     0.2500 per packet\n");
	free(text);
	categories_free(c);
}

TEST(categories_print_json)
{
	struct category_totals t;
	struct categories *c = totals_without_beta(&t);
	char *text;

	if (!ASSERT_TRUE(c != NULL, "rules load"))
		return;
	text = print(c, &t, true, 0, NULL);
	ASSERT_TEXT(text,
		"{\n"
		"  \"categories\": [\n"
		"    {\n"
		"      \"category\": \"alpha\",\n"
		"      \"share_pct\": 33.333333333333336,\n"
		"      \"samples\": 3\n"
		"    },\n"
		"    {\n"
		"      \"category\": \"beta\",\n"
		"      \"share_pct\": 0,\n"
		"      \"samples\": 0\n"
		"    },\n"
		"    {\n"
		"      \"category\": \"gamma\",\n"
		"      \"share_pct\": 55.555555555555557,\n"
		"      \"samples\": 5\n"
		"    },\n"
		"    {\n"
		"      \"category\": \"other\",\n"
		"      \"share_pct\": 11.111111111111111,\n"
		"      \"samples\": 1\n"
		"    }\n"
		"  ]\n"
		"}\n");
	free(text);
	text = print(c, &t, true, 4, "packet");
	ASSERT_TEXT(text,
		"{\n"
		"  \"categories\": [\n"
		"    {\n"
		"      \"category\": \"alpha\",\n"
		"      \"share_pct\": 33.333333333333336,\n"
		"      \"samples\": 3,\n"
		"      \"samples_per_unit\": 0.75\n"
		"    },\n"
		"    {\n"
		"      \"category\": \"beta\",\n"
		"      \"share_pct\": 0,\n"
		"      \"samples\": 0,\n"
		"      \"samples_per_unit\": 0\n"
		"    },\n"
		"    {\n"
		"      \"category\": \"gamma\",\n"
		"      \"share_pct\": 55.555555555555557,\n"
		"      \"samples\": 5,\n"
		"      \"samples_per_unit\": 1.25\n"
		"    },\n"
		"    {\n"
		"      \"category\": \"other\",\n"
		"      \"share_pct\": 11.111111111111111,\n"
		"      \"samples\": 1,\n"
		"      \"samples_per_unit\": 0.25\n"
		"    }\n"
		"  ]\n"
		"}\n");
	free(text);
	categories_free(c);
}
