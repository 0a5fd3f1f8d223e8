/* Runs every registered unit test (or those named on the command line) and
 * ends with the suite's summary line. */
#include <stdarg.h>
#include <stdlib.h>

#include "lib/log.h"
#include "test.h"

#define MAX_TESTS 512

struct unit_test {
	const char *name, *file;
	void (*fn)(void);
};

static struct unit_test tests[MAX_TESTS];
static int nr_tests;
static bool current_failed;
static const char *current_skip;

void test_register(const char *name, const char *file, void (*fn)(void))
{
	if (nr_tests < MAX_TESTS)
		tests[nr_tests++] = (struct unit_test){ name, file, fn };
}

void test_failed(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	current_failed = true;
	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void test_skip(const char *reason)
{
	current_skip = reason;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;

	log_init(false);
	for (int i = 0; i < nr_tests; i++) {
		bool selected = argc < 2;

		for (int a = 1; a < argc; a++)
			selected |= !strcmp(argv[a], tests[i].name);
		if (!selected)
			continue;
		current_failed = false;
		current_skip = NULL;
		tests[i].fn();
		if (current_failed) {
			printf("FAIL unit/%s\n", tests[i].name);
			failed++;
		} else if (current_skip) {
			printf("SKIP unit/%s: %s\n", tests[i].name, current_skip);
			skipped++;
		} else {
			printf("PASS unit/%s\n", tests[i].name);
			passed++;
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
