#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/output.h"
#include "lib/parse.h"
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

TEST(json_key_belongs_to_its_writer)
{
	char *buf_a = NULL, *buf_b = NULL;
	size_t len_a = 0, len_b = 0;
	FILE *fa = open_memstream(&buf_a, &len_a), *fb = open_memstream(&buf_b, &len_b);
	struct json_writer a, b;

	jw_init(&a, fa, false);
	jw_init(&b, fb, false);
	jw_object_begin(&a, NULL);
	jw_object_begin(&b, NULL);
	jw_key(&a, "named");
	jw_uint(&b, "own", 1);	/* b's write must not take a's key */
	jw_uint(&a, NULL, 2);
	jw_object_end(&a);
	jw_object_end(&b);
	jw_finish(&a);
	jw_finish(&b);
	fclose(fa);
	fclose(fb);
	ASSERT_STREQ(buf_a, "{\"named\":2}\n", "a's value under a's key");
	ASSERT_STREQ(buf_b, "{\"own\":1}\n", "b untouched by a's key");
	free(buf_a);
	free(buf_b);
}

/* Runs fn in a child whose stdout and stderr go to files; returns both. */
static bool run_captured(void (*fn)(void), char *out, size_t out_len, char *err,
			 size_t err_len)
{
	FILE *fo = tmpfile(), *fe = tmpfile();
	size_t n;
	pid_t pid;
	int status;

	if (!fo || !fe)
		return false;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		dup2(fileno(fo), STDOUT_FILENO);
		dup2(fileno(fe), STDERR_FILENO);
		fn();
		fflush(NULL);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return false;
	rewind(fo);
	rewind(fe);
	n = fread(out, 1, out_len - 1, fo);
	out[n] = '\0';
	n = fread(err, 1, err_len - 1, fe);
	err[n] = '\0';
	fclose(fo);
	fclose(fe);
	return true;
}

static void fail_before_any_output(void)
{
	usage_error("demo: --size '%s' is not a size", "12\"x");
	out_error_document(log_last_error());
	out_error_document("a second failure adds nothing");
}

static void fail_after_own_document(void)
{
	out_init(true);
	out_object_begin(NULL);
	out_bool("partial", NULL, true);
	out_object_end();
	out_finish();
	pr_warn("demo: lost the connection");
	out_error_document(log_last_error());
}

static void command_error(void)
{
	pr_cmd_error("demo", "missing %s; run as root", "CAP_BPF");
	out_error_document(log_last_error());
}

TEST(json_error_document_on_failure)
{
	char out[512], err[512];

	if (!ASSERT_TRUE(run_captured(fail_before_any_output, out, sizeof(out), err, sizeof(err)),
			 "child ran"))
		return;
	ASSERT_STREQ(out, "{\n  \"error\": \"demo: --size '12\\\"x' is not a size\"\n}\n",
		     "the usage error as one JSON document");
	ASSERT_STREQ(err, "netprof: demo: --size '12\"x' is not a size\n", "stderr unchanged");

	if (!ASSERT_TRUE(run_captured(fail_after_own_document, out, sizeof(out), err, sizeof(err)),
			 "child ran"))
		return;
	ASSERT_STREQ(out, "{\n  \"partial\": true\n}\n", "no second document after the command's own");
	ASSERT_STREQ(err, "netprof: warning: demo: lost the connection\n", "the warning on stderr");

	if (!ASSERT_TRUE(run_captured(command_error, out, sizeof(out), err, sizeof(err)),
			 "child ran"))
		return;
	ASSERT_STREQ(out, "{\n  \"error\": \"demo: missing CAP_BPF; run as root\"\n}\n",
		     "a command error names its command");
	ASSERT_STREQ(err, "netprof demo: missing CAP_BPF; run as root\n",
		     "worded 'netprof COMMAND: ...' on stderr");
}
