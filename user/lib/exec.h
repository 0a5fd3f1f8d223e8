/* Running the system's network tools (ip, iptables-restore, nft) as iproute2 users would. */
#ifndef NETPROF_EXEC_H
#define NETPROF_EXEC_H

#include <stddef.h>

/*
 * Runs argv[0] (searched in PATH) with argv, optionally inside the named
 * network namespace (/run/netns/NAME), optionally feeding `input` on stdin.
 * stdout and stderr are captured into `out` (NUL-terminated, truncated to
 * outlen) when out is non-NULL, else discarded. A command that runs longer
 * than timeout_ms is killed.
 * Returns the exit status (0..255), 128+signal if killed, or -errno when it
 * could not be started.
 */
int run_cmd_full(const char *netns, const char *input, char *out, size_t outlen,
		 int timeout_ms, const char *const argv[]);

#define RUN_TIMEOUT_MS 30000

/* RUN(netns, out, outlen, "ip", "link", ...) */
#define RUN(netns, out, outlen, ...) \
	run_cmd_full(netns, NULL, out, outlen, RUN_TIMEOUT_MS, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_INPUT(netns, input, out, outlen, ...) \
	run_cmd_full(netns, input, out, outlen, RUN_TIMEOUT_MS, (const char *const[]){ __VA_ARGS__, NULL })

/* First line of a command's output, for error messages. */
const char *first_line(const char *text, char *buf, size_t len);

#endif
