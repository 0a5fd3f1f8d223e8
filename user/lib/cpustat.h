/*
 * CPU accounting for one side of a test, as `netperf -c -C` does: the whole
 * machine's user, system, softirq and irq time from /proc/stat, and this
 * process's own user and system time (all threads) from getrusage. Take a
 * sample before and after, then turn the difference into cores busy.
 */
#ifndef NETPROF_CPUSTAT_H
#define NETPROF_CPUSTAT_H

#include <stdint.h>

struct cpu_sample {
	uint64_t wall_ns;		/* CLOCK_MONOTONIC */
	/* machine-wide, in USER_HZ ticks summed over CPUs */
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
	/* this process, in microseconds */
	uint64_t proc_user_us, proc_system_us;
	uint64_t proc_voluntary_switches, proc_involuntary_switches;	/* getrusage's nvcsw, nivcsw */
};

/* All figures in cores (1.0 = one CPU fully busy during the interval). */
struct cpu_usage {
	double seconds;
	unsigned ncpus;
	double machine_user, machine_system, machine_softirq, machine_irq, machine_idle;
	double machine_busy;		/* everything but idle and iowait */
	double proc_user, proc_system;
	/* This process's context switches in the interval, all its threads
	 * (those that ended too): sleeps, and preemptions. */
	uint64_t proc_voluntary_switches, proc_involuntary_switches;
};

int cpu_sample_take(struct cpu_sample *s);
void cpu_usage_between(const struct cpu_sample *a, const struct cpu_sample *b,
		       struct cpu_usage *u);

#endif
