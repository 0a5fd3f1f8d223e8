/*
 * Log-linear latency histograms, filled in the kernel and read by user space:
 * 4 buckets per power of two of nanoseconds, up to about 2^40 ns, so that a
 * bucket's width is at most a quarter of its value.
 */
#ifndef NETPROF_LAT_HIST_H
#define NETPROF_LAT_HIST_H

#define LAT_SUB_BITS 2
#define LAT_BUCKETS (41 << LAT_SUB_BITS)

struct lat_hist {
	__u64 count, sum_ns;
	__u64 buckets[LAT_BUCKETS];
};

/* Index of the bucket holding v nanoseconds. */
static inline __u32 lat_bucket(__u64 v)
{
	__u32 msb = 0, idx;
	__u64 x = v;

	if (v < 4)
		return v;
	if (x >> 32) { msb += 32; x >>= 32; }
	if (x >> 16) { msb += 16; x >>= 16; }
	if (x >> 8) { msb += 8; x >>= 8; }
	if (x >> 4) { msb += 4; x >>= 4; }
	if (x >> 2) { msb += 2; x >>= 2; }
	if (x >> 1) { msb += 1; }
	idx = ((msb - 1) << LAT_SUB_BITS) + ((v >> (msb - LAT_SUB_BITS)) & 3);
	return idx < LAT_BUCKETS ? idx : LAT_BUCKETS - 1;
}

#ifndef __bpf__
/* A percentile (0..100) of a histogram: the middle of the bucket holding it;
 * NaN when it is empty. */
double lat_hist_percentile(const struct lat_hist *hist, double pct);
/* Adds one histogram into another. */
void lat_hist_add(struct lat_hist *sum, const struct lat_hist *h);
/* The smallest value a bucket holds, in ns. */
double lat_bucket_low(int idx);
#endif

#endif
