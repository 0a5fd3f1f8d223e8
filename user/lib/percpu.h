/*
 * Per-CPU map values summed over the CPUs. A lookup in a per-CPU map fills
 * one value per possible CPU, each rounded up to 8 bytes; readers want the
 * total.
 */
#ifndef NETPROF_LIB_PERCPU_H
#define NETPROF_LIB_PERCPU_H

#include <stddef.h>

/*
 * Looks key up in the per-CPU map fd and adds every CPU's value into
 * *total with add(total, one_cpu); *total is left as it was when the key is
 * absent. 0, or a negative errno.
 */
int percpu_lookup_sum(int fd, const void *key, void *total, size_t value_size,
		      void (*add)(void *total, const void *one_cpu));
/* The same for values made only of __u64 counters, added one by one. */
int percpu_lookup_sum_u64(int fd, const void *key, void *total, size_t value_size);

#endif
