/*
 * One print layer for text and JSON, so the two cannot drift: every datum is
 * written once, with its JSON key and its text format side by side (the
 * iproute2 json_print idea). In JSON mode the format is ignored; in text mode
 * the key is ignored and a NULL format prints nothing.
 *
 * A writer can also target a file in JSON only (report.json) with jw_*.
 */
#ifndef NETPROF_OUTPUT_H
#define NETPROF_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

struct json_writer {
	FILE *f;
	int depth;
	bool pretty;
	bool first[JW_MAX_DEPTH];	/* no element yet at this depth */
	bool in_array[JW_MAX_DEPTH];
	const char *pending_key;	/* jw_key(): the next keyless value's key */
};

void jw_init(struct json_writer *w, FILE *f, bool pretty);
void jw_object_begin(struct json_writer *w, const char *key);
void jw_object_end(struct json_writer *w);
void jw_array_begin(struct json_writer *w, const char *key);
void jw_array_end(struct json_writer *w);
void jw_string(struct json_writer *w, const char *key, const char *value);
void jw_uint(struct json_writer *w, const char *key, uint64_t value);
void jw_int(struct json_writer *w, const char *key, int64_t value);
void jw_double(struct json_writer *w, const char *key, double value);
void jw_bool(struct json_writer *w, const char *key, bool value);
void jw_null(struct json_writer *w, const char *key);
/* Names the next value written with a NULL key. */
void jw_key(struct json_writer *w, const char *key);
/* Ends the top-level value with a newline. */
void jw_finish(struct json_writer *w);

/* The process-wide output: stdout, text unless --json was given. */
void out_init(bool json);
/* Sends what follows to `f` (JSON or text) until the next out_to/out_init:
 * the same print calls then write a report file. */
void out_to(FILE *f, bool json);
bool out_json(void);
void out_object_begin(const char *key);
void out_object_end(void);
/* Names the next value a callee writes without a key (it prints a whole
 * object of its own, anonymous where it stands in an array). */
void out_key(const char *key);
void out_array_begin(const char *key);
void out_array_end(void);
void out_string(const char *key, const char *fmt, const char *value);
void out_uint(const char *key, const char *fmt, uint64_t value);
void out_int(const char *key, const char *fmt, int64_t value);
void out_double(const char *key, const char *fmt, double value);
void out_bool(const char *key, const char *fmt, bool value);
/* Text only: headings, padding, newlines. */
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Flushes and, in JSON mode, terminates the document. */
void out_finish(void);

/*
 * A failed command's JSON, as bpftool's p_err writes it: {"error": message}
 * on stdout, unless the command already put JSON there (its own document,
 * perhaps marked partial), which a second document would make invalid.
 */
void out_error_document(const char *message);

#endif
