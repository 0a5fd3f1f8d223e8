/*
 * The stack sampler's maps, shared by bpf/profile.bpf.c and user/profile/profile.c.
 */
#ifndef NETPROF_PROFILE_H
#define NETPROF_PROFILE_H

#define PROFILE_COMM_LEN 16
/* Frames kept per stack, from the leaf (the categories read leaf first). */
#define PROFILE_MAX_DEPTH 64

enum profile_flags {
	PROF_IN_CGROUP = 1,	/* the sampled task is in the run's cgroup */
	PROF_KERNEL_THREAD = 2,	/* no user address space (ksoftirqd, kworker) */
};

struct profile_key {
	__u32 pid;		/* thread group */
	__u32 tid;
	__s32 kstack;		/* stack map ids; negative: no stack (-errno) */
	__s32 ustack;
	__u32 flags;
	char comm[PROFILE_COMM_LEN];
};

enum profile_counter {
	PROF_SAMPLES,		/* every sample taken */
	PROF_IDLE,		/* the idle task: excluded */
	PROF_KSTACK_LOST,	/* kernel stack not recorded (map full or collision) */
	PROF_USTACK_LOST,
	PROF_KEYS_FULL,		/* counts map full: sample dropped */
	PROF_COUNTER_MAX,
};

#endif
