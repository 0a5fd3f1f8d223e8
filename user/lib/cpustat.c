#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib/cpustat.h"

int cpu_sample_take(struct cpu_sample *s)
{
	unsigned long long v[8] = { 0 };
	struct rusage ru;
	struct timespec ts;
	FILE *f;
	int n;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->wall_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		s->proc_user_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
		s->proc_system_us = (uint64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
		s->proc_voluntary_switches = (uint64_t)ru.ru_nvcsw;
		s->proc_involuntary_switches = (uint64_t)ru.ru_nivcsw;
	}
	f = fopen("/proc/stat", "re");
	if (!f)
		return -errno;
	/* The first line sums every CPU: cpu user nice system idle iowait irq softirq steal */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 7)
		return -EINVAL;
	s->user = v[0];
	s->nice = v[1];
	s->system = v[2];
	s->idle = v[3];
	s->iowait = v[4];
	s->irq = v[5];
	s->softirq = v[6];
	s->steal = v[7];
	return 0;
}

void cpu_usage_between(const struct cpu_sample *a, const struct cpu_sample *b,
		       struct cpu_usage *u)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	double secs = (double)(b->wall_ns - a->wall_ns) / 1e9;

	memset(u, 0, sizeof(*u));
	u->ncpus = ncpus > 0 ? (unsigned)ncpus : 1;
	u->seconds = secs;
	u->proc_voluntary_switches = b->proc_voluntary_switches - a->proc_voluntary_switches;
	u->proc_involuntary_switches = b->proc_involuntary_switches - a->proc_involuntary_switches;
	if (secs <= 0 || hz <= 0)
		return;
	/* ticks / hz = CPU-seconds; divided by wall seconds = cores */
#define CORES(field) ((double)(b->field - a->field) / hz / secs)
	u->machine_user = CORES(user) + CORES(nice);
	u->machine_system = CORES(system);
	u->machine_softirq = CORES(softirq);
	u->machine_irq = CORES(irq);
	u->machine_idle = CORES(idle) + CORES(iowait);
	u->machine_busy = u->machine_user + u->machine_system + u->machine_softirq +
			  u->machine_irq + CORES(steal);
#undef CORES
	u->proc_user = (double)(b->proc_user_us - a->proc_user_us) / 1e6 / secs;
	u->proc_system = (double)(b->proc_system_us - a->proc_system_us) / 1e6 / secs;
}
