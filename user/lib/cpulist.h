/*
 * CPU sets as the kernel prints them in /sys and /proc/<pid>/status
 * (Cpus_allowed_list: "0-3,8"), so that what netprof records and what a
 * test reads back compare as text.
 */
#ifndef NETPROF_CPULIST_H
#define NETPROF_CPULIST_H

#include <sched.h>
#include <stddef.h>
#include <sys/types.h>

/* "0-3,8" (sep ','), or with another separator between pieces ("0-1+4");
 * 0, or -EINVAL for anything else, an empty set included. */
int cpulist_parse_sep(const char *text, char sep, cpu_set_t *set);
static inline int cpulist_parse(const char *text, cpu_set_t *set)
{
	return cpulist_parse_sep(text, ',', set);
}
/* The kernel's format, shortest form; "" for an empty set. */
void cpulist_format(const cpu_set_t *set, char *out, size_t len);
/* The CPUs this process may run on (its affinity), or -errno. */
int cpulist_usable(cpu_set_t *set);
/* Every thread of pid onto set; 0, or -errno of the first that could not
 * be moved (one that ended meanwhile is not a failure). */
int cpulist_pin_process(pid_t pid, const cpu_set_t *set);

#endif
