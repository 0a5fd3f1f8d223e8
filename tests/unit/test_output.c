#include <stdlib.h>

#include "cli/cli.h"
#include "lib/output.h"
#include "test.h"

static char *render(void (*build)(struct json_writer *w))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json_writer w;

	jw_init(&w, f, false);
	build(&w);
	jw_finish(&w);
	fclose(f);
	return buf;
}

static void nested(struct json_writer *w)
{
	jw_object_begin(w, NULL);
	jw_string(w, "name", "a\"b\\c\n");
	jw_uint(w, "n", 18446744073709551615ULL);
	jw_array_begin(w, "list");
	jw_int(w, NULL, -3);
	jw_double(w, NULL, 0.5);
	jw_double(w, NULL, 0.0 / 0.0);
	jw_object_begin(w, NULL);
	jw_object_end(w);
	jw_array_end(w);
	jw_bool(w, "ok", true);
	jw_null(w, "none");
	jw_object_end(w);
}

TEST(json_writer_escapes_and_nests)
{
	char *s = render(nested);

	ASSERT_STREQ(s, "{\"name\":\"a\\\"b\\\\c\\n\",\"n\":18446744073709551615,"
		     "\"list\":[-3,0.5,null,{}],\"ok\":true,\"none\":null}\n", "compact JSON");
	free(s);
}

TEST(parse_size_suffixes)
{
	uint64_t v = 0;

	if (!ASSERT_EQ(parse_size("t", "--size", "64k", 1, 1ULL << 30, &v), 0, "64k parses"))
		return;
	ASSERT_EQ(v, 65536, "64k");
	ASSERT_EQ(parse_size("t", "--size", "256KiB", 1, 1ULL << 30, &v), 0, "256KiB parses");
	ASSERT_EQ(v, 262144, "256KiB");
	ASSERT_EQ(parse_size("t", "--size", "1m", 1, 1ULL << 30, &v), 0, "1m parses");
	ASSERT_EQ(v, 1048576, "1m");
	ASSERT_EQ(parse_size("t", "--size", "12x", 1, 100, &v), -1, "bad suffix refused");
	ASSERT_EQ(parse_size("t", "--size", "-1", 1, 100, &v), -1, "negative refused");
	ASSERT_EQ(parse_size("t", "--size", "0", 1, 100, &v), -1, "below minimum refused");
	ASSERT_EQ(parse_size("t", "--size", "99999999999999999999", 1, 100, &v), -1,
		  "overflow refused");
}

TEST(parse_duration_units)
{
	uint64_t ns = 0;

	ASSERT_EQ(parse_duration("t", "-d", "10", 1, UINT64_MAX, &ns), 0, "bare number");
	ASSERT_EQ(ns, 10000000000ULL, "bare number is seconds");
	ASSERT_EQ(parse_duration("t", "-d", "500ms", 1, UINT64_MAX, &ns), 0, "ms");
	ASSERT_EQ(ns, 500000000ULL, "500ms");
	ASSERT_EQ(parse_duration("t", "-d", "2m", 1, UINT64_MAX, &ns), 0, "minutes");
	ASSERT_EQ(ns, 120000000000ULL, "2m");
	ASSERT_EQ(parse_duration("t", "-d", "3parsecs", 1, UINT64_MAX, &ns), -1, "bad unit");
	ASSERT_EQ(parse_duration("t", "-d", "", 1, UINT64_MAX, &ns), -1, "empty");
}
