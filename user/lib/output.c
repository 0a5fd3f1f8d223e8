#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "lib/output.h"

void jw_init(struct json_writer *w, FILE *f, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
	w->first[0] = true;
}

static void jw_indent(struct json_writer *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

static void jw_quoted(struct json_writer *w, const char *s)
{
	fputc('"', w->f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", w->f); break;
		case '\\': fputs("\\\\", w->f); break;
		case '\n': fputs("\\n", w->f); break;
		case '\r': fputs("\\r", w->f); break;
		case '\t': fputs("\\t", w->f); break;
		default:
			if (*p < 0x20)
				fprintf(w->f, "\\u%04x", *p);
			else
				fputc(*p, w->f);
		}
	}
	fputc('"', w->f);
}

/* Separator, indentation and key before a value at the current depth. */
static void jw_prefix(struct json_writer *w, const char *key)
{
	if (!key && w->pending_key)
		key = w->pending_key;
	w->pending_key = NULL;
	if (!w->first[w->depth])
		fputc(',', w->f);
	if (w->depth > 0)
		jw_indent(w);
	w->first[w->depth] = false;
	if (key && w->depth > 0 && !w->in_array[w->depth]) {
		jw_quoted(w, key);
		fputs(w->pretty ? ": " : ":", w->f);
	}
}

static void jw_open(struct json_writer *w, const char *key, char c, bool array)
{
	jw_prefix(w, key);
	fputc(c, w->f);
	if (w->depth + 1 < JW_MAX_DEPTH) {
		w->depth++;
		w->first[w->depth] = true;
		w->in_array[w->depth] = array;
	}
}

static void jw_close(struct json_writer *w, char c)
{
	bool empty = w->first[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (!empty)
		jw_indent(w);
	fputc(c, w->f);
}

void jw_object_begin(struct json_writer *w, const char *key) { jw_open(w, key, '{', false); }
void jw_object_end(struct json_writer *w) { jw_close(w, '}'); }
void jw_array_begin(struct json_writer *w, const char *key) { jw_open(w, key, '[', true); }
void jw_array_end(struct json_writer *w) { jw_close(w, ']'); }

void jw_string(struct json_writer *w, const char *key, const char *value)
{
	jw_prefix(w, key);
	if (value)
		jw_quoted(w, value);
	else
		fputs("null", w->f);
}

void jw_uint(struct json_writer *w, const char *key, uint64_t value)
{
	jw_prefix(w, key);
	fprintf(w->f, "%llu", (unsigned long long)value);
}

void jw_int(struct json_writer *w, const char *key, int64_t value)
{
	jw_prefix(w, key);
	fprintf(w->f, "%lld", (long long)value);
}

void jw_double(struct json_writer *w, const char *key, double value)
{
	jw_prefix(w, key);
	/* JSON has no NaN or infinity: an unmeasurable figure is null. */
	if (isnan(value) || isinf(value))
		fputs("null", w->f);
	else
		fprintf(w->f, "%.17g", value);
}

void jw_bool(struct json_writer *w, const char *key, bool value)
{
	jw_prefix(w, key);
	fputs(value ? "true" : "false", w->f);
}

void jw_null(struct json_writer *w, const char *key)
{
	jw_prefix(w, key);
	fputs("null", w->f);
}

void jw_key(struct json_writer *w, const char *key)
{
	w->pending_key = key;
}

void jw_finish(struct json_writer *w)
{
	fputc('\n', w->f);
	fflush(w->f);
}

static struct json_writer out_writer;
static bool out_is_json;
static FILE *out_file;
/* Some JSON went to stdout: a failure must not add a second document. */
static bool stdout_has_json;
/* Before out_init, plain stdout. */
#define OUT_FILE (out_file ? out_file : stdout)

void out_init(bool json)
{
	out_to(stdout, json);
}

void out_to(FILE *f, bool json)
{
	out_file = f;
	out_is_json = json;
	jw_init(&out_writer, f, true);
}

bool out_json(void) { return out_is_json; }

/* The writer, for a JSON write about to happen. */
static struct json_writer *json_out(void)
{
	if (out_file == stdout)
		stdout_has_json = true;
	return &out_writer;
}

void out_object_begin(const char *key)
{
	if (out_is_json)
		jw_object_begin(json_out(), key);
}

void out_key(const char *key)
{
	if (out_is_json)
		jw_key(&out_writer, key);
}

void out_object_end(void)
{
	if (out_is_json)
		jw_object_end(&out_writer);
}

void out_array_begin(const char *key)
{
	if (out_is_json)
		jw_array_begin(json_out(), key);
}

void out_array_end(void)
{
	if (out_is_json)
		jw_array_end(&out_writer);
}

#define OUT_VALUE(jw_fn, key, fmt, value)			\
	do {							\
		if (out_is_json)				\
			jw_fn(json_out(), key, value);		\
		else if (fmt)					\
			fprintf(OUT_FILE, fmt, value);		\
	} while (0)

void out_string(const char *key, const char *fmt, const char *value)
{
	if (out_is_json)
		jw_string(json_out(), key, value);
	else if (fmt)
		fprintf(OUT_FILE, fmt, value ? value : "-");
}

void out_uint(const char *key, const char *fmt, uint64_t value)
{
	OUT_VALUE(jw_uint, key, fmt, (unsigned long long)value);
}

void out_int(const char *key, const char *fmt, int64_t value)
{
	OUT_VALUE(jw_int, key, fmt, (long long)value);
}

/* A figure that could not be measured prints as "-" in the width its format gives. */
static void print_unmeasured(const char *fmt)
{
	const char *pct = strchr(fmt, '%'), *conv;
	int width = 0;

	if (!pct) {
		fputs(fmt, OUT_FILE);
		return;
	}
	fwrite(fmt, 1, pct - fmt, OUT_FILE);
	conv = pct + 1;
	while (*conv && strchr("-+ #0", *conv))
		conv++;
	while (*conv >= '0' && *conv <= '9')
		width = width * 10 + (*conv++ - '0');
	if (*conv == '.')
		for (conv++; *conv >= '0' && *conv <= '9'; conv++)
			;
	while (*conv && strchr("hlLqjzt", *conv))
		conv++;
	fprintf(OUT_FILE, "%*s", width, "-");
	if (*conv)
		fputs(conv + 1, OUT_FILE);
}

void out_double(const char *key, const char *fmt, double value)
{
	if (!out_is_json && fmt && (isnan(value) || isinf(value))) {
		print_unmeasured(fmt);
		return;
	}
	OUT_VALUE(jw_double, key, fmt, value);
}

void out_bool(const char *key, const char *fmt, bool value)
{
	if (out_is_json)
		jw_bool(json_out(), key, value);
	else if (fmt)
		fprintf(OUT_FILE, fmt, value ? "yes" : "no");
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (out_is_json)
		return;
	va_start(ap, fmt);
	vfprintf(OUT_FILE, fmt, ap);
	va_end(ap);
}

void out_finish(void)
{
	if (out_is_json)
		jw_finish(&out_writer);
	fflush(OUT_FILE);
}

void out_error_document(const char *message)
{
	struct json_writer w;

	if (stdout_has_json)
		return;
	jw_init(&w, stdout, true);
	jw_object_begin(&w, NULL);
	jw_string(&w, "error", message);
	jw_object_end(&w);
	jw_finish(&w);
	stdout_has_json = true;
}
