/*
 * Cost categories: which part of the datapath a stack sample belongs to,
 * from rules a user can edit (user/profile/categories.conf, built in as default).
 */
#ifndef NETPROF_CATEGORIES_H
#define NETPROF_CATEGORIES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CAT_MAX 32
#define CAT_OTHER "other"

struct categories;
struct folded_profile;

/* Loads rules from a file, or the built-in ones when path is NULL. Errors
 * name the file and line; NULL is returned then. */
struct categories *categories_load(const char *path);
void categories_free(struct categories *c);
int categories_count(const struct categories *c);	/* "other" included, last */
const char *categories_name(const struct categories *c, int index);
/*
 * The category of one sample: frames[0] is the root (the process name),
 * frames[n-1] the leaf; kernel frames carry the "_[k]" suffix.
 */
int categories_classify(const struct categories *c, const char *const *frames, int n);

/* Samples per category. */
struct category_totals {
	uint64_t samples[CAT_MAX];
	uint64_t total;
};
/* Every frame path with samples of its own is one stack. 0 or -ENOMEM. */
int categories_tally_profile(const struct categories *c, const struct folded_profile *p,
			     struct category_totals *t);
/* The same for a folded-stacks file; its malformed lines are warned about
 * (named after `name`) and fail the tally. */
int categories_tally_folded(const struct categories *c, FILE *folded, const char *name,
			    struct category_totals *t);
/* Text or JSON through output.h; units > 0 adds the samples per one of them (unit_name). */
void categories_print(const struct categories *c, const struct category_totals *t,
		      double units, const char *unit_name);

#endif
