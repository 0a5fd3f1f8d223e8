/*
 * Cost categories: which part of the datapath a stack sample belongs to,
 * from rules a user can edit (user/categories.conf, built in as default).
 */
#ifndef NETPROF_CATEGORIES_H
#define NETPROF_CATEGORIES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CAT_MAX 32
#define CAT_OTHER "other"

struct categories;

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

/* Shares of a folded-stacks file, per category. */
struct category_totals {
	uint64_t samples[CAT_MAX];
	uint64_t total;
};
int categories_tally_folded(const struct categories *c, FILE *folded, const char *name,
			    struct category_totals *t);
/* Text or JSON through output.h; per_unit > 0 adds samples per packet or transaction. */
void categories_print(const struct categories *c, const struct category_totals *t,
		      double units, const char *unit_name);

#endif
