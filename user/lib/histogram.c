#include <string.h>

#include "lib/histogram.h"

void hist_reset(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned hist_bucket_index(uint64_t value)
{
	unsigned top, shift;

	if (value < HIST_SUB_COUNT)
		return (unsigned)value;
	top = 63 - __builtin_clzll(value);	/* value is in [2^top, 2^(top+1)) */
	if (top >= HIST_MAX_BITS)
		return HIST_BUCKETS - 1;
	shift = top - HIST_SUB_BITS;
	/* (value >> shift) is in [HIST_SUB_COUNT, 2 * HIST_SUB_COUNT) */
	return HIST_SUB_COUNT * (shift + 1) + (unsigned)(value >> shift) - HIST_SUB_COUNT;
}

uint64_t hist_bucket_low(unsigned index)
{
	unsigned group = index / HIST_SUB_COUNT, sub = index % HIST_SUB_COUNT;

	if (group == 0)
		return index;
	return (uint64_t)(HIST_SUB_COUNT + sub) << (group - 1);
}

uint64_t hist_bucket_high(unsigned index)
{
	unsigned group = index / HIST_SUB_COUNT;

	if (group == 0)
		return index;
	return hist_bucket_low(index) + (1ULL << (group - 1)) - 1;
}

void hist_record(struct histogram *h, uint64_t value)
{
	if (value >> HIST_MAX_BITS)
		h->clamped++;
	h->buckets[hist_bucket_index(value)]++;
	h->count++;
	h->sum += value;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
}

void hist_merge(struct histogram *dst, const struct histogram *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->clamped += src->clamped;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist_percentile(const struct histogram *h, double p)
{
	uint64_t rank, seen = 0, value;

	if (!h->count)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	/* The smallest value with at least p% of the samples at or below it. */
	rank = (uint64_t)(p / 100.0 * (double)h->count + 0.5);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen < rank)
			continue;
		value = hist_bucket_low(i) + (hist_bucket_high(i) - hist_bucket_low(i)) / 2;
		if (value < h->min)
			value = h->min;
		if (value > h->max)
			value = h->max;
		return value;
	}
	return h->max;
}

double hist_mean(const struct histogram *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
