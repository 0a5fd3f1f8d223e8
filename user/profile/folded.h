/*
 * Folded stacks, the text format that flamegraph.pl, speedscope and inferno
 * read: one line per distinct stack, its frames from the outermost (root) to
 * the innermost joined by ';', then one space and a positive sample count:
 *
 *   netprof;main;run_worker;sendmsg 120
 *
 * A frame may contain spaces and any byte except ';' and '\n'; the count is
 * whatever follows the last space. Empty lines are malformed; the file ends
 * with a newline (a missing final newline is accepted).
 *
 * The parser is strict: every malformed line is reported with its line
 * number, and the stacks are aggregated into a tree whose children are
 * sorted by name (byte order, as flamegraph.pl sorts its input), so the
 * same profile always lays out the same way.
 */
#ifndef NETPROF_FOLDED_H
#define NETPROF_FOLDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What folded_write_line() puts in place of the bytes a frame cannot hold. */
#define FOLDED_SEPARATOR_REPLACEMENT ':'	/* for ';' */
#define FOLDED_NEWLINE_REPLACEMENT   ' '	/* for '\n' */
#define FOLDED_EMPTY_FRAME           "[unknown]"	/* for "" or NULL, as perf prints */

/* The name of the root frame every stack hangs from, as flamegraph.pl calls it. */
#define FOLDED_ROOT_NAME "all"

struct folded_node {
	const char *name;
	uint64_t total;			/* samples in this frame and everything it called */
	uint64_t self;			/* samples whose stack ends in this frame */
	struct folded_node *parent;	/* NULL for the root */
	struct folded_node **children;	/* sorted by name once folded_sort() ran */
	uint32_t nr_children;
	uint32_t children_cap;
	uint32_t index_in_parent;	/* position in parent->children after sorting */
	uint32_t depth;			/* root 0, a stack's first frame 1 */
	uint32_t hash;			/* of the name; the lookup table's key with parent */
};

struct folded_profile {
	struct folded_node root;	/* root.total: every sample */
	uint64_t nr_stacks;		/* well-formed stack lines (or folded_add_stack calls) */
	size_t nr_nodes;		/* distinct frame paths, the root not counted */
	uint32_t max_depth;		/* deepest stack, in frames */
	bool sorted;

	/* Malformed lines: all are counted, the first max_errors are kept as
	 * "SOURCE:LINE: what is wrong" for the caller to print. */
	size_t nr_errors;
	size_t nr_kept_errors;
	size_t max_errors;
	char **errors;

	/* (parent, name) -> node, open addressing; owns every node. */
	struct folded_node **table;
	size_t table_size;
};

void folded_profile_init(struct folded_profile *p, size_t max_errors);
/* Frees every node and message; the profile can be initialised again. */
void folded_profile_free(struct folded_profile *p);

/*
 * Reads folded stacks from f (named source in the messages) and adds them to
 * p, then sorts the tree. Returns 0 when every line was well formed,
 * -EINVAL when some were not (p->nr_errors of them, messages in p->errors;
 * the well-formed lines are still in the tree), -EINTR when stop_requested()
 * interrupted the read, or another negative errno for a read or memory error.
 * Lines with errors add nothing to the tree.
 */
int folded_parse(struct folded_profile *p, FILE *f, const char *source);

/*
 * Adds count samples of one stack (frames[0] outermost). Frames must be
 * non-empty and hold neither ';' nor '\n'. Returns 0, -EINVAL for a bad
 * stack, -EOVERFLOW when the profile's total would pass 2^64-1, -ENOMEM.
 * Call folded_sort() before walking the tree.
 */
int folded_add_stack(struct folded_profile *p, const char *const frames[], size_t n,
		     uint64_t count);
/*
 * folded_add_stack for frames as they come (symbol names, a process name):
 * each is first made what folded_write_line() would write, so the tree is
 * the one that writing the stack and parsing it back would give.
 */
int folded_add_stack_replacing(struct folded_profile *p, const char *const frames[], size_t n,
			       uint64_t count);
void folded_sort(struct folded_profile *p);

/* The child of n called name, or NULL (binary search: the tree must be sorted). */
const struct folded_node *folded_child(const struct folded_node *n, const char *name);

/*
 * Pre-order walk of a sorted tree without recursion (stacks can be
 * thousands of frames deep): the node after n, visiting n's children first
 * when descend is true, else skipping them. NULL after the last node.
 */
const struct folded_node *folded_next(const struct folded_node *n, bool descend);

/*
 * Samples of a in frame paths that b does not have (a differential graph
 * drawn with b's widths cannot show them). Both trees must be sorted.
 */
uint64_t folded_samples_missing_from(const struct folded_profile *a,
				     const struct folded_profile *b);

/*
 * Writes one folded line. A frame is written as given except that ';'
 * becomes FOLDED_SEPARATOR_REPLACEMENT, '\n' becomes
 * FOLDED_NEWLINE_REPLACEMENT and an empty or NULL frame becomes
 * FOLDED_EMPTY_FRAME, so the line always parses back as n frames.
 * Returns 0, -EINVAL when n < 1 or count is 0, -EIO on a write error.
 */
int folded_write_line(FILE *f, const char *const frames[], int n, uint64_t count);

/* Writes the profile back as folded lines (one per frame path with self
 * samples, in tree order). Returns 0, -ENOMEM or -EIO. */
int folded_write_profile(FILE *f, const struct folded_profile *p);

#endif
