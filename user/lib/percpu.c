#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/percpu.h"

static int lookup_all_cpus(int fd, const void *key, size_t value_size, char **values,
			   size_t *stride, int *ncpu)
{
	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu <= 0)
		return *ncpu < 0 ? *ncpu : -EINVAL;
	*stride = (value_size + 7) & ~(size_t)7;
	*values = calloc(*ncpu, *stride);
	if (!*values)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, *values)) {
		int err = -errno;

		free(*values);
		return err;
	}
	return 0;
}

int percpu_lookup_sum(int fd, const void *key, void *total, size_t value_size,
		      void (*add)(void *total, const void *one_cpu))
{
	size_t stride;
	char *values;
	int ncpu, err = lookup_all_cpus(fd, key, value_size, &values, &stride, &ncpu);

	if (err)
		return err;
	for (int c = 0; c < ncpu; c++)
		add(total, values + c * stride);
	free(values);
	return 0;
}

int percpu_lookup_sum_u64(int fd, const void *key, void *total, size_t value_size)
{
	size_t stride;
	char *values;
	int ncpu, err = lookup_all_cpus(fd, key, value_size, &values, &stride, &ncpu);

	if (err)
		return err;
	for (int c = 0; c < ncpu; c++) {
		const uint64_t *one = (const uint64_t *)(values + c * stride);

		for (size_t i = 0; i < value_size / sizeof(uint64_t); i++)
			((uint64_t *)total)[i] += one[i];
	}
	free(values);
	return 0;
}
