/*
 * ASSERT_TEXT for tests of printed reports: exact equality, and on a
 * mismatch the first line that differs, both versions, rather than two
 * pages of output.
 */
#ifndef NETPROF_UNIT_ASSERT_TEXT_H
#define NETPROF_UNIT_ASSERT_TEXT_H

#include <stdbool.h>
#include <string.h>

#include "test.h"

/* The first line where two texts differ, so a failure shows one row, not the whole table. */
static inline bool same_text(const char *file, int line, const char *actual, const char *expected)
{
	const char *a = actual, *e = expected, *a_line = actual, *e_line = expected;
	int lineno = 1;

	if (!actual) {
		test_failed(file, line, "no output");
		return false;
	}
	for (; *a && *a == *e; a++, e++)
		if (*a == '\n') {
			lineno++;
			a_line = a + 1;
			e_line = e + 1;
		}
	if (!*a && !*e)
		return true;
	test_failed(file, line, "line %d differs:\n  got      \"%.*s\"\n  expected \"%.*s\"", lineno,
		    (int)strcspn(a_line, "\n"), a_line, (int)strcspn(e_line, "\n"), e_line);
	return false;
}
#define ASSERT_TEXT(actual, expected) same_text(__FILE__, __LINE__, actual, expected)

#endif
