#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "lib/log.h"

enum log_level log_level = LOG_INFO;

static char last_error[512];

/* libbpf's debug chatter (every relocation) is only useful with -v. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log_level < LOG_DEBUG)
		return 0;
	/* Warnings are expected while probing features; the caller reports
	 * the outcome in its own words, so show libbpf's only with -v. */
	if (level == LIBBPF_WARN && log_level < LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void log_init(bool verbose)
{
	log_level = verbose ? LOG_DEBUG : LOG_INFO;
	libbpf_set_print(libbpf_print);
}

/* Prints "netprof: <tag><message>", or "netprof COMMAND: <message>", and
 * keeps the message (truncated if need be) for log_last_error(). */
static void emit(const char *tag, const char *command, const char *fmt, va_list ap)
{
	va_list copy;
	int n = 0;

	va_copy(copy, ap);
	if (command) {
		fprintf(stderr, "netprof %s: ", command);
		n = snprintf(last_error, sizeof(last_error), "%s: ", command);
	} else {
		fprintf(stderr, "netprof: %s", tag);
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (n >= 0 && (size_t)n < sizeof(last_error))
		vsnprintf(last_error + n, sizeof(last_error) - n, fmt, copy);
	va_end(copy);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	if (level == LOG_WARN) {
		emit("warning: ", NULL, fmt, ap);
	} else {
		fputs("netprof: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("", NULL, fmt, ap);
	va_end(ap);
}

void pr_cmd_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("", command, fmt, ap);
	va_end(ap);
}

const char *log_last_error(void)
{
	return last_error;
}
