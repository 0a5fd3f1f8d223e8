#ifndef NETPROF_PARSE_H
#define NETPROF_PARSE_H

#include <stdint.h>

/* Number parsing for options: one clear line on error, -1 returned. */
int parse_u64(const char *command, const char *option, const char *text, uint64_t min,
	      uint64_t max, uint64_t *out);
/* 64, 64k, 4K, 1M, 256KiB: bytes, binary multiples. */
int parse_size(const char *command, const char *option, const char *text, uint64_t min,
	       uint64_t max, uint64_t *out);
/* 10, 10s, 500ms, 2m, 250us: returned in nanoseconds; a bare number is seconds. */
int parse_duration(const char *command, const char *option, const char *text, uint64_t min_ns,
		   uint64_t max_ns, uint64_t *out_ns);

#endif
