/* Strict number, size and duration parsers for option values: a value that is
 * not wholly a number in range gets one usage line naming the option. The
 * option tables apply them, and print their help. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/parse.h"

static int parse_scaled(const char *command, const char *option, const char *text,
			uint64_t min, uint64_t max, uint64_t *out,
			const char *(*scale)(const char *suffix, uint64_t *mult), const char *what,
			void (*fmt)(uint64_t v, char *buf, size_t len))
{
	char lo[32], hi[32];

	unsigned long long v;
	uint64_t mult = 1;
	const char *err;
	char *end;

	errno = 0;
	if (!text || !isdigit((unsigned char)text[0]))
		goto bad;
	v = strtoull(text, &end, 10);
	if (errno)
		goto bad;
	err = scale(end, &mult);
	if (err) {
		usage_error("%s: %s '%s': %s", command, option, text, err);
		return -1;
	}
	if (mult && v > UINT64_MAX / mult)
		goto range;
	v *= mult;
	if (v < min || v > max)
		goto range;
	*out = v;
	return 0;
bad:
	usage_error("%s: %s '%s' is not %s", command, option, text ? text : "", what);
	return -1;
range:
	fmt(min, lo, sizeof(lo));
	fmt(max, hi, sizeof(hi));
	usage_error("%s: %s '%s' is out of range (%s to %s)", command, option, text, lo, hi);
	return -1;
}

static void fmt_plain(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v >= (1ULL << 30) && v % (1ULL << 30) == 0)
		snprintf(buf, len, "%llug", (unsigned long long)(v >> 30));
	else if (v >= (1ULL << 20) && v % (1ULL << 20) == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(v >> 20));
	else if (v >= (1ULL << 10) && v % (1ULL << 10) == 0)
		snprintf(buf, len, "%lluk", (unsigned long long)(v >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void fmt_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns % 1000000000ULL == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ULL));
	else if (ns % 1000000ULL == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ULL));
	else if (ns % 1000ULL == 0)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000ULL));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

static const char *no_suffix(const char *s, uint64_t *mult)
{
	*mult = 1;
	return *s ? "unexpected characters after the number" : NULL;
}

static const char *size_suffix(const char *s, uint64_t *mult)
{
	static const struct { const char *sfx; uint64_t mult; } tab[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1ULL << 10 }, { "kib", 1ULL << 10 }, { "kb", 1ULL << 10 },
		{ "m", 1ULL << 20 }, { "mib", 1ULL << 20 }, { "mb", 1ULL << 20 },
		{ "g", 1ULL << 30 }, { "gib", 1ULL << 30 }, { "gb", 1ULL << 30 },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (!strcasecmp(s, tab[i].sfx)) {
			*mult = tab[i].mult;
			return NULL;
		}
	}
	return "unknown size suffix (use k, m or g)";
}

static const char *duration_suffix(const char *s, uint64_t *mult)
{
	static const struct { const char *sfx; uint64_t mult; } tab[] = {
		{ "", 1000000000ULL }, { "s", 1000000000ULL }, { "ms", 1000000ULL },
		{ "us", 1000ULL }, { "ns", 1ULL }, { "m", 60000000000ULL }, { "h", 3600000000000ULL },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (!strcmp(s, tab[i].sfx)) {
			*mult = tab[i].mult;
			return NULL;
		}
	}
	return "unknown time unit (use ns, us, ms, s, m or h)";
}

int parse_u64(const char *command, const char *option, const char *text, uint64_t min,
	      uint64_t max, uint64_t *out)
{
	return parse_scaled(command, option, text, min, max, out, no_suffix, "a number", fmt_plain);
}

int parse_size(const char *command, const char *option, const char *text, uint64_t min,
	       uint64_t max, uint64_t *out)
{
	return parse_scaled(command, option, text, min, max, out, size_suffix,
			    "a size (like 100, 64k, 1m)", fmt_size);
}

int parse_duration(const char *command, const char *option, const char *text, uint64_t min_ns,
		   uint64_t max_ns, uint64_t *out_ns)
{
	return parse_scaled(command, option, text, min_ns, max_ns, out_ns, duration_suffix,
			    "a duration (like 10, 10s, 500ms)",
			    fmt_duration);
}

/* ---- option tables ---- */

static void store_uint(void *field, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)field = (uint8_t)v; break;
	case 2: *(uint16_t *)field = (uint16_t)v; break;
	case 4: *(uint32_t *)field = (uint32_t)v; break;
	default: *(uint64_t *)field = v; break;
	}
}

int cli_option_apply(const char *command, const struct cli_option *o, const char *arg,
		     void *base)
{
	void *field = (char *)base + o->offset;
	char name[64];
	uint64_t v;
	int rc;

	snprintf(name, sizeof(name), "--%s", o->name);
	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)field = true;
		return 0;
	case CLI_SET:
		store_uint(field, o->size, (uint64_t)o->value);
		return 0;
	case CLI_STRING:
		*(const char **)field = arg;
		return 0;
	case CLI_U64:
		rc = parse_u64(command, name, arg, o->min, o->max, &v);
		break;
	case CLI_SIZE:
		rc = parse_size(command, name, arg, o->min, o->max, &v);
		break;
	case CLI_DURATION:
		rc = parse_duration(command, name, arg, o->min, o->max, &v);
		break;
	case CLI_CALL:
		return o->handler(command, o, arg, base);
	default:
		return -1;
	}
	if (rc)
		return -1;
	store_uint(field, o->size, v);
	return 0;
}

/* The option column is as wide as in every hand-written -h. */
#define HELP_COLUMN 22

void cli_print_options(FILE *f, const struct cli_option *options)
{
	for (const struct cli_option *o = options; o->name; o++) {
		char left[80];
		const char *line = o->help, *nl;
		int n = 0;

		if (!o->help)
			continue;
		if (o->letter)
			n = snprintf(left, sizeof(left), "-%c, ", o->letter);
		snprintf(left + n, sizeof(left) - n, "--%s%s%s", o->name, o->arg_name ? " " : "",
			 o->arg_name ? o->arg_name : "");
		fprintf(f, "  %-*s", HELP_COLUMN - 1, left);
		/* A long name pushes the text to a line of its own. */
		if (strlen(left) >= HELP_COLUMN - 1)
			fprintf(f, "\n  %-*s", HELP_COLUMN - 1, "");
		for (;;) {
			nl = strchr(line, '\n');
			fprintf(f, " %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
			if (!nl)
				break;
			line = nl + 1;
			fprintf(f, "  %-*s", HELP_COLUMN - 1, "");
		}
	}
}
