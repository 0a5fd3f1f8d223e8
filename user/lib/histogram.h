/*
 * A log-linear latency histogram (the HdrHistogram idea, written for
 * netprof): values below 2^SUB_BITS are exact, and every power-of-two range
 * above is split into 2^SUB_BITS equal buckets, so a bucket's width is at
 * most 1/128 of its lower bound. Reported values are bucket midpoints: the
 * relative error is below 0.4%, inside the 1% the load generator promises.
 *
 * Recording is one index computation and one increment, no allocation and no
 * lock: each worker thread owns a histogram and the reader merges them after
 * the workers stopped.
 */
#ifndef NETPROF_HISTOGRAM_H
#define NETPROF_HISTOGRAM_H

#include <stdbool.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB_COUNT (1U << HIST_SUB_BITS)
/* Values up to 2^HIST_MAX_BITS - 1 (ns: about 18 minutes); larger ones are
 * clamped to the top bucket and counted in `clamped`. */
#define HIST_MAX_BITS 40
#define HIST_BUCKETS (HIST_SUB_COUNT * (HIST_MAX_BITS - HIST_SUB_BITS + 1))

struct histogram {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t clamped;
	uint64_t buckets[HIST_BUCKETS];
};

void hist_reset(struct histogram *h);
void hist_record(struct histogram *h, uint64_t value);
/* dst += src */
void hist_merge(struct histogram *dst, const struct histogram *src);
/* The value at percentile p (0..100), as the midpoint of its bucket clamped
 * to [min, max]; 0 for an empty histogram. */
uint64_t hist_percentile(const struct histogram *h, double p);
double hist_mean(const struct histogram *h);

/* Exposed for the tests: the bucket of a value and the bucket's range. */
unsigned hist_bucket_index(uint64_t value);
uint64_t hist_bucket_low(unsigned index);
uint64_t hist_bucket_high(unsigned index);	/* inclusive */

#endif
