/* A growing text buffer for generated input (iptables-restore, ipset restore). */
#ifndef NETPROF_STRBUF_H
#define NETPROF_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len, cap;
	/* Out of memory: later appends do nothing, and the user checks this
	 * once at the end instead of after every append. */
	bool failed;
};

void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct strbuf *sb);

#endif
