/* Diagnostics to stderr. Data goes to stdout through output.h, never here. */
#ifndef NETPROF_LOG_H
#define NETPROF_LOG_H

#include <stdbool.h>

enum log_level { LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void log_init(bool verbose);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* One line naming what was wrong and how to fix it; the caller returns EXIT_USAGE. */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A failure worded "netprof COMMAND: ..." (no "warning:"): the command then
 * exits 1. */
void pr_cmd_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The last warning, usage error or command error, without the "netprof: "
 * prefix ("" when there was none): what a failed command reports in JSON. */
const char *log_last_error(void);

#define EXIT_USAGE 2

#endif
