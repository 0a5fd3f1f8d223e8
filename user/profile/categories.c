#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "profile/categories.h"
#include "profile/folded.h"
#include "lib/log.h"
#include "lib/output.h"

/* categories.conf beside this file, as a C string made at build time. */
static const char default_rules[] =
#include "categories_default.h"
	;

enum rule_where { WHERE_KERNEL, WHERE_USER, WHERE_UCOMM };

struct rule {
	int category;
	enum rule_where where;
	regex_t re;
};

struct categories {
	char *names[CAT_MAX];
	int nr_names;
	struct rule *rules;
	int nr_rules;
};

static int category_index(struct categories *c, const char *name)
{
	for (int i = 0; i < c->nr_names; i++)
		if (!strcmp(c->names[i], name))
			return i;
	if (c->nr_names == CAT_MAX - 1)
		return -1;
	c->names[c->nr_names] = strdup(name);
	return c->names[c->nr_names] ? c->nr_names++ : -1;
}

static int parse_rules(struct categories *c, const char *text, const char *source)
{
	const char *p = text;
	int line_no = 0;

	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char line[1024], name[64], where[16], regex[900];
		struct rule *r;
		int n, err;

		line_no++;
		if (len >= sizeof(line)) {
			pr_warn("%s:%d: line too long", source, line_no);
			return -EINVAL;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p = end ? end + 1 : p + len;
		n = sscanf(line, " %63s %15s %899s", name, where, regex);
		if (n <= 0 || name[0] == '#')
			continue;
		if (n != 3) {
			pr_warn("%s:%d: expected CATEGORY WHERE REGEX", source, line_no);
			return -EINVAL;
		}
		r = realloc(c->rules, (c->nr_rules + 1) * sizeof(*r));
		if (!r)
			return -ENOMEM;
		c->rules = r;
		r = &c->rules[c->nr_rules];
		if (!strcmp(where, "kernel"))
			r->where = WHERE_KERNEL;
		else if (!strcmp(where, "user"))
			r->where = WHERE_USER;
		else if (!strcmp(where, "ucomm"))
			r->where = WHERE_UCOMM;
		else {
			pr_warn("%s:%d: WHERE is '%s'; use kernel, user or ucomm", source, line_no, where);
			return -EINVAL;
		}
		if (!strcmp(name, CAT_OTHER)) {
			pr_warn("%s:%d: '%s' is what matches nothing; name the category otherwise",
				source, line_no, CAT_OTHER);
			return -EINVAL;
		}
		r->category = category_index(c, name);
		if (r->category < 0) {
			pr_warn("%s:%d: more than %d categories", source, line_no, CAT_MAX - 1);
			return -E2BIG;
		}
		err = regcomp(&r->re, regex, REG_EXTENDED | REG_NOSUB);
		if (err) {
			char msg[128];

			regerror(err, &r->re, msg, sizeof(msg));
			pr_warn("%s:%d: bad regular expression: %s", source, line_no, msg);
			return -EINVAL;
		}
		c->nr_rules++;
	}
	if (category_index(c, CAT_OTHER) < 0)
		return -E2BIG;
	return 0;
}

struct categories *categories_load(const char *path)
{
	struct categories *c = calloc(1, sizeof(*c));
	char *text = NULL;
	int err;

	if (!c)
		return NULL;
	if (path) {
		FILE *f = fopen(path, "r");
		size_t cap = 0, len = 0, n;

		if (!f) {
			pr_warn("cannot read categories file %s: %s", path, strerror(errno));
			free(c);
			return NULL;
		}
		do {
			char *bigger;

			cap = cap ? cap * 2 : 8192;
			bigger = realloc(text, cap + 1);
			if (!bigger)
				break;
			text = bigger;
			n = fread(text + len, 1, cap - len, f);
			len += n;
		} while (len == cap);
		fclose(f);
		if (!text) {
			free(c);
			return NULL;
		}
		text[len] = '\0';
	}
	err = parse_rules(c, text ? text : default_rules, path ? path : "built-in categories");
	free(text);
	if (err) {
		categories_free(c);
		return NULL;
	}
	return c;
}

void categories_free(struct categories *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nr_rules; i++)
		regfree(&c->rules[i].re);
	for (int i = 0; i < c->nr_names; i++)
		free(c->names[i]);
	free(c->rules);
	free(c);
}

int categories_count(const struct categories *c)
{
	return c->nr_names;
}

const char *categories_name(const struct categories *c, int index)
{
	return index >= 0 && index < c->nr_names ? c->names[index] : CAT_OTHER;
}

static bool is_kernel_frame(const char *frame, char *bare, size_t len)
{
	size_t n = strlen(frame);
	bool kernel = n >= 4 && !strcmp(frame + n - 4, "_[k]");

	if (kernel)
		n -= 4;
	if (n >= len)
		n = len - 1;
	memcpy(bare, frame, n);
	bare[n] = '\0';
	return kernel;
}

int categories_classify(const struct categories *c, const char *const *frames, int n)
{
	char bare[512];
	bool leaf_is_user = false;

	for (int i = n - 1; i >= 1; i--) {
		bool kernel = is_kernel_frame(frames[i], bare, sizeof(bare));

		if (i == n - 1)
			leaf_is_user = !kernel;
		for (int r = 0; r < c->nr_rules; r++) {
			const struct rule *rule = &c->rules[r];

			if (rule->where == WHERE_UCOMM ||
			    (rule->where == WHERE_KERNEL) != kernel)
				continue;
			if (regexec(&rule->re, bare, 0, NULL, 0) == 0)
				return rule->category;
		}
	}
	for (int r = 0; n > 0 && r < c->nr_rules; r++) {
		const struct rule *rule = &c->rules[r];

		if (rule->where == WHERE_UCOMM && leaf_is_user &&
		    regexec(&rule->re, frames[0], 0, NULL, 0) == 0)
			return rule->category;
	}
	return categories_count(c) - 1;	/* other */
}

int categories_tally_profile(const struct categories *c, const struct folded_profile *p,
			     struct category_totals *t)
{
	const char **frames = calloc(p->max_depth + 1, sizeof(*frames));
	const struct folded_node *n;

	memset(t, 0, sizeof(*t));
	if (!frames)
		return -ENOMEM;
	for (n = folded_next(&p->root, true); n; n = folded_next(n, true)) {
		const struct folded_node *f = n;
		int depth = n->depth;

		if (!n->self)
			continue;
		for (int i = depth - 1; i >= 0 && f && f->parent; i--, f = f->parent)
			frames[i] = f->name;
		t->samples[categories_classify(c, frames, depth)] += n->self;
		t->total += n->self;
	}
	free(frames);
	return 0;
}

int categories_tally_folded(const struct categories *c, FILE *folded, const char *name,
			    struct category_totals *t)
{
	struct folded_profile prof;
	int err;

	memset(t, 0, sizeof(*t));
	/* The same strict parser as `netprof flame`: every bad line is named. */
	folded_profile_init(&prof, 20);
	err = folded_parse(&prof, folded, name);
	if (err) {
		for (size_t i = 0; i < prof.nr_kept_errors; i++)
			pr_warn("%s", prof.errors[i]);
		if (prof.nr_errors > prof.nr_kept_errors)
			pr_warn("%s: %zu more errors", name, prof.nr_errors - prof.nr_kept_errors);
	} else {
		err = categories_tally_profile(c, &prof, t);
	}
	folded_profile_free(&prof);
	return err;
}

void categories_print(const struct categories *c, const struct category_totals *t,
		      double units, const char *unit_name)
{
	out_array_begin("categories");
	for (int i = 0; i < categories_count(c); i++) {
		if (!t->samples[i] && out_json() == false)
			continue;
		out_object_begin(NULL);
		out_string("category", "   %-14s", categories_name(c, i));
		out_double("share_pct", " %6.1f%%", t->total ? 100.0 * t->samples[i] / t->total : 0);
		out_uint("samples", " %9llu samples", t->samples[i]);
		if (units > 0) {
			out_double("samples_per_unit", " %10.4f", t->samples[i] / units);
			out_text(" per %s", unit_name);
		}
		out_text("\n");
		out_object_end();
	}
	out_array_end();
}
