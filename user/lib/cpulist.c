#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cpulist.h"

int cpulist_parse_sep(const char *text, char sep, cpu_set_t *set)
{
	const char *p = text;

	CPU_ZERO(set);
	if (!text || !*text)
		return -EINVAL;
	for (;;) {
		unsigned long lo, hi;
		char *end;

		/* strtoul takes signs and spaces; a CPU number takes neither. */
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		lo = hi = strtoul(p, &end, 10);
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				return -EINVAL;
			hi = strtoul(p + 1, &end, 10);
			p = end;
		}
		if (lo > hi || hi >= CPU_SETSIZE)
			return -EINVAL;
		for (unsigned long c = lo; c <= hi; c++)
			CPU_SET(c, set);
		if (!*p)
			return 0;
		if (*p++ != sep)
			return -EINVAL;
	}
}

void cpulist_format(const cpu_set_t *set, char *out, size_t len)
{
	size_t n = 0;

	if (len)
		out[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && n < len; c++) {
		int last = c;

		if (!CPU_ISSET(c, set))
			continue;
		while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
			last++;
		n += snprintf(out + n, len - n, last == c ? "%s%d" : "%s%d-%d", n ? "," : "", c,
			      last);
		c = last;
	}
}

int cpulist_usable(cpu_set_t *set)
{
	CPU_ZERO(set);
	return sched_getaffinity(0, sizeof(*set), set) < 0 ? -errno : 0;
}

static int pin_tasks(pid_t pid, const cpu_set_t *set)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid <= 0)
			continue;
		/* A thread that ended since readdir saw it is no failure. */
		if (sched_setaffinity(tid, sizeof(*set), set) < 0 && errno != ESRCH && !err)
			err = -errno;
	}
	closedir(d);
	return err;
}

int cpulist_pin_process(pid_t pid, const cpu_set_t *set)
{
	int err = pin_tasks(pid, set);

	/* A thread created while we walked inherited its creator's old mask. */
	return err ? err : pin_tasks(pid, set);
}
