#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "lib/log.h"

enum log_level log_level = LOG_INFO;

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

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	fputs("netprof: ", stderr);
	if (level == LOG_WARN)
		fputs("warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("netprof: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
