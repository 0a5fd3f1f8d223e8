/* Folded stacks: a strict parser into a sorted frame tree, and the writer. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "profile/folded.h"
#include "lib/teardown.h"

#define TABLE_MIN_SIZE 1024
/* How often the parser looks at stop_requested(), in lines. */
#define STOP_POLL_LINES 4096
/* How much of a bad count a message quotes. */
#define QUOTE_MAX 32

void folded_profile_init(struct folded_profile *p, size_t max_errors)
{
	memset(p, 0, sizeof(*p));
	p->root.name = FOLDED_ROOT_NAME;
	p->max_errors = max_errors;
	p->sorted = true;
}

void folded_profile_free(struct folded_profile *p)
{
	for (size_t i = 0; i < p->table_size; i++) {
		struct folded_node *n = p->table[i];

		if (!n)
			continue;
		free(n->children);
		free((char *)n->name);
		free(n);
	}
	free(p->table);
	free(p->root.children);
	for (size_t i = 0; i < p->nr_kept_errors; i++)
		free(p->errors[i]);
	free(p->errors);
	folded_profile_init(p, p->max_errors);
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

static size_t slot_of(const struct folded_profile *p, const struct folded_node *parent,
		      uint32_t hash)
{
	/* The parent's address mixes the key so that the same name under
	 * different callers spreads over the table. */
	uint64_t k = hash ^ ((uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull);

	k ^= k >> 29;
	return (size_t)k & (p->table_size - 1);
}

static int table_grow(struct folded_profile *p)
{
	size_t old_size = p->table_size, new_size = old_size ? old_size * 2 : TABLE_MIN_SIZE;
	struct folded_node **old = p->table, **table = calloc(new_size, sizeof(*table));

	if (!table)
		return -ENOMEM;
	p->table = table;
	p->table_size = new_size;
	for (size_t i = 0; i < old_size; i++) {
		size_t s;

		if (!old[i])
			continue;
		s = slot_of(p, old[i]->parent, old[i]->hash);
		while (p->table[s])
			s = (s + 1) & (new_size - 1);
		p->table[s] = old[i];
	}
	free(old);
	return 0;
}

static int add_child(struct folded_node *parent, struct folded_node *child)
{
	if (parent->nr_children == parent->children_cap) {
		uint32_t cap = parent->children_cap ? parent->children_cap * 2 : 4;
		struct folded_node **c = realloc(parent->children, cap * sizeof(*c));

		if (!c)
			return -ENOMEM;
		parent->children = c;
		parent->children_cap = cap;
	}
	child->index_in_parent = parent->nr_children;
	parent->children[parent->nr_children++] = child;
	return 0;
}

/* The child of parent called name, made when it does not exist yet. */
static struct folded_node *child_of(struct folded_profile *p, struct folded_node *parent,
				    const char *name)
{
	uint32_t hash = name_hash(name);
	struct folded_node *n;
	size_t s;

	/* At most half full, so probes stay short and always end. */
	if ((p->nr_nodes + 1) * 2 > p->table_size && table_grow(p) < 0)
		return NULL;
	s = slot_of(p, parent, hash);
	for (; (n = p->table[s]); s = (s + 1) & (p->table_size - 1))
		if (n->parent == parent && n->hash == hash && !strcmp(n->name, name))
			return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name || add_child(parent, n) < 0) {
		free((char *)n->name);
		free(n);
		return NULL;
	}
	n->parent = parent;
	n->depth = parent->depth + 1;
	n->hash = hash;
	p->table[s] = n;
	p->nr_nodes++;
	p->sorted = false;
	return n;
}

static bool frame_ok(const char *frame)
{
	return frame && frame[0] && !strpbrk(frame, ";\n");
}

int folded_add_stack(struct folded_profile *p, const char *const frames[], size_t n,
		     uint64_t count)
{
	struct folded_node *node = &p->root;

	if (n < 1 || count == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!frame_ok(frames[i]))
			return -EINVAL;
	if (p->root.total + count < p->root.total)
		return -EOVERFLOW;
	for (size_t i = 0; i < n; i++) {
		node = child_of(p, node, frames[i]);
		if (!node)
			return -ENOMEM;
	}
	/* Counts go in only once the whole path exists. */
	node->self += count;
	for (; node; node = node->parent)
		node->total += count;
	if (n > p->max_depth)
		p->max_depth = n;
	p->nr_stacks++;
	return 0;
}

/* A copy of frame as folded_write_line() writes it. */
static char *replaced_frame(const char *frame)
{
	char *copy;

	if (!frame || !*frame)
		return strdup(FOLDED_EMPTY_FRAME);
	copy = strdup(frame);
	for (char *c = copy; c && *c; c++)
		if (*c == ';')
			*c = FOLDED_SEPARATOR_REPLACEMENT;
		else if (*c == '\n')
			*c = FOLDED_NEWLINE_REPLACEMENT;
	return copy;
}

int folded_add_stack_replacing(struct folded_profile *p, const char *const frames[], size_t n,
			       uint64_t count)
{
	const char **clean;
	char **copies;
	size_t ok = 0;
	int rc = 0;

	while (ok < n && frame_ok(frames[ok]))
		ok++;
	/* Most stacks are clean throughout: no copies then. */
	if (ok == n || count == 0)
		return folded_add_stack(p, frames, n, count);
	clean = calloc(n, sizeof(*clean));
	copies = calloc(n, sizeof(*copies));
	if (!clean || !copies) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		clean[i] = frames[i];
		if (frame_ok(frames[i]))
			continue;
		copies[i] = replaced_frame(frames[i]);
		clean[i] = copies[i];
		if (!copies[i])
			rc = -ENOMEM;
	}
	if (!rc)
		rc = folded_add_stack(p, clean, n, count);
out:
	for (size_t i = 0; copies && i < n; i++)
		free(copies[i]);
	free(copies);
	free(clean);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	const struct folded_node *x = *(const struct folded_node *const *)a;
	const struct folded_node *y = *(const struct folded_node *const *)b;

	return strcmp(x->name, y->name);
}

static void sort_children(struct folded_node *n)
{
	if (n->nr_children > 1)
		qsort(n->children, n->nr_children, sizeof(*n->children), by_name);
	for (uint32_t i = 0; i < n->nr_children; i++)
		n->children[i]->index_in_parent = i;
}

void folded_sort(struct folded_profile *p)
{
	if (p->sorted)
		return;
	sort_children(&p->root);
	for (size_t i = 0; i < p->table_size; i++)
		if (p->table[i])
			sort_children(p->table[i]);
	p->sorted = true;
}

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct folded_node *const *)elem)->name);
}

const struct folded_node *folded_child(const struct folded_node *n, const char *name)
{
	struct folded_node **c;

	if (!n || !n->nr_children)
		return NULL;
	c = bsearch(name, n->children, n->nr_children, sizeof(*n->children), name_cmp);
	return c ? *c : NULL;
}

const struct folded_node *folded_next(const struct folded_node *n, bool descend)
{
	if (descend && n->nr_children)
		return n->children[0];
	for (; n->parent; n = n->parent)
		if (n->index_in_parent + 1 < n->parent->nr_children)
			return n->parent->children[n->index_in_parent + 1];
	return NULL;
}

uint64_t folded_samples_missing_from(const struct folded_profile *a,
				     const struct folded_profile *b)
{
	const struct folded_node **in_b = calloc((size_t)a->max_depth + 1, sizeof(*in_b));
	const struct folded_node *n;
	uint64_t missing = 0;

	if (!in_b)
		return 0;
	in_b[0] = &b->root;
	/* in_b[d]: the frame of b on the path of a's node at depth d. */
	for (n = folded_next(&a->root, true); n;) {
		const struct folded_node *match = folded_child(in_b[n->depth - 1], n->name);

		if (!match)
			missing += n->total;	/* and everything it called: skip them */
		else
			in_b[n->depth] = match;
		n = folded_next(n, match != NULL);
	}
	free(in_b);
	return missing;
}

/* Records one malformed line; only the first max_errors keep their text. */
static int __attribute__((format(printf, 4, 5)))
line_error(struct folded_profile *p, const char *source, unsigned long lineno,
	   const char *fmt, ...)
{
	char *what, *msg;
	va_list ap;
	int rc;

	p->nr_errors++;
	if (p->nr_kept_errors >= p->max_errors)
		return 0;
	if (!p->errors) {
		p->errors = calloc(p->max_errors, sizeof(*p->errors));
		if (!p->errors)
			return -ENOMEM;
	}
	va_start(ap, fmt);
	rc = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -ENOMEM;
	rc = asprintf(&msg, "%s:%lu: %s", source, lineno, what);
	free(what);
	if (rc < 0)
		return -ENOMEM;
	p->errors[p->nr_kept_errors++] = msg;
	return 0;
}

/* The count after the last space: digits only, at least 1, at most 2^64-1. */
static const char *parse_count(const char *text, uint64_t *count)
{
	uint64_t v = 0;

	if (!*text)
		return "nothing after the last space: expected a sample count";
	for (const char *c = text; *c; c++) {
		if (*c < '0' || *c > '9')
			return "not a positive integer";
		if (v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			return "too large (the most is 18446744073709551615)";
		v = v * 10 + (uint64_t)(*c - '0');
	}
	if (!v)
		return "not a positive integer";
	*count = v;
	return NULL;
}

/*
 * Checks and adds one line (without its newline; it is modified). Returns
 * 0 whether or not the line was well formed (a malformed one is recorded),
 * or a negative errno for a memory error.
 */
static int parse_line(struct folded_profile *p, const char *source, unsigned long lineno,
		      char *line, size_t len, const char ***frames, size_t *frames_cap)
{
	const char *why;
	size_t n = 0;
	uint64_t count;
	char *space, *frame;
	int rc;

	if (len == 0)
		return line_error(p, source, lineno, "empty line");
	if (strlen(line) != len)
		return line_error(p, source, lineno, "contains a NUL byte");
	if (line[len - 1] == '\r')
		return line_error(p, source, lineno,
				  "ends with a carriage return (DOS line ending; convert the file with dos2unix)");
	space = strrchr(line, ' ');
	if (!space)
		return line_error(p, source, lineno,
				  "no count: expected frames joined by ';', a space and a sample count");
	*space = '\0';
	why = parse_count(space + 1, &count);
	if (why && space[1])
		return line_error(p, source, lineno, "count '%.*s' is %s", QUOTE_MAX, space + 1, why);
	if (why)
		return line_error(p, source, lineno, "%s", why);
	if (space == line)
		return line_error(p, source, lineno, "no frames before the count");
	for (frame = line;; n++) {
		char *end = strchr(frame, ';');

		if (end)
			*end = '\0';
		if (!*frame)
			return line_error(p, source, lineno,
					  "frame %zu is empty (a ';' at the start, at the end or doubled)",
					  n + 1);
		if (n == *frames_cap) {
			size_t cap = *frames_cap ? *frames_cap * 2 : 64;
			const char **f = realloc(*frames, cap * sizeof(*f));

			if (!f)
				return -ENOMEM;
			*frames = f;
			*frames_cap = cap;
		}
		(*frames)[n] = frame;
		if (!end)
			break;
		frame = end + 1;
	}
	rc = folded_add_stack(p, *frames, n + 1, count);
	if (rc == -EOVERFLOW)
		return line_error(p, source, lineno, "the profile's total passes 2^64-1 samples");
	return rc;
}

int folded_parse(struct folded_profile *p, FILE *f, const char *source)
{
	const char **frames = NULL;
	size_t frames_cap = 0, line_cap = 0;
	unsigned long lineno = 0;
	char *line = NULL;
	ssize_t len;
	int rc = 0;

	errno = 0;
	while ((len = getline(&line, &line_cap, f)) >= 0) {
		lineno++;
		if (lineno % STOP_POLL_LINES == 0 && stop_requested()) {
			rc = -EINTR;
			break;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		rc = parse_line(p, source, lineno, line, (size_t)len, &frames, &frames_cap);
		if (rc < 0)
			break;
	}
	if (!rc && ferror(f))
		rc = errno ? -errno : -EIO;
	else if (!rc && len < 0 && errno == ENOMEM)
		rc = -ENOMEM;
	free(line);
	free(frames);
	folded_sort(p);
	if (!rc && p->nr_errors)
		rc = -EINVAL;
	return rc;
}

int folded_write_line(FILE *f, const char *const frames[], int n, uint64_t count)
{
	if (n < 1 || count == 0)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		const char *s = frames[i];

		if (i)
			putc(';', f);
		if (!s || !*s) {
			fputs(FOLDED_EMPTY_FRAME, f);
			continue;
		}
		while (*s) {
			size_t plain = strcspn(s, ";\n");

			fwrite(s, 1, plain, f);
			s += plain;
			if (*s == ';')
				putc(FOLDED_SEPARATOR_REPLACEMENT, f);
			else if (*s == '\n')
				putc(FOLDED_NEWLINE_REPLACEMENT, f);
			if (*s)
				s++;
		}
	}
	fprintf(f, " %llu\n", (unsigned long long)count);
	return ferror(f) ? -EIO : 0;
}

int folded_write_profile(FILE *f, const struct folded_profile *p)
{
	const char **path;
	int rc = 0;

	if (!p->root.nr_children)
		return 0;
	path = calloc(p->max_depth, sizeof(*path));
	if (!path)
		return -ENOMEM;
	for (const struct folded_node *n = folded_next(&p->root, true); n && !rc;
	     n = folded_next(n, true)) {
		const struct folded_node *up = n;

		if (!n->self)
			continue;
		for (uint32_t d = n->depth; d > 0; d--, up = up->parent)
			path[d - 1] = up->name;
		rc = folded_write_line(f, path, (int)n->depth, n->self);
	}
	free(path);
	return rc;
}
