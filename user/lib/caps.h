#ifndef NETPROF_CAPS_H
#define NETPROF_CAPS_H

#include <stdbool.h>

/* Capability numbers (linux/capability.h may predate CAP_BPF/CAP_PERFMON). */
#define NP_CAP_NET_ADMIN 12
#define NP_CAP_SYS_ADMIN 21
#define NP_CAP_PERFMON   38
#define NP_CAP_BPF       39

#define NEED_CAP(c) (1ULL << (c))
#define NEEDS_PROFILER (NEED_CAP(NP_CAP_BPF) | NEED_CAP(NP_CAP_NET_ADMIN) | \
			NEED_CAP(NP_CAP_PERFMON) | NEED_CAP(NP_CAP_SYS_ADMIN))

bool cap_effective(int cap);
/* Prints one line naming the first missing capability; returns false then. */
bool caps_require(const char *command, unsigned long long mask);

#endif
