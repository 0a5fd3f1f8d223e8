/* Reading the kernel's log-linear latency histograms (bpf/lat_hist.h). */
#include <math.h>

#include <linux/types.h>

#include "bpf/lat_hist.h"

double lat_bucket_low(int idx)
{
	int msb, sub;

	if (idx < 4)
		return idx;
	msb = (idx >> LAT_SUB_BITS) + 1;
	sub = idx & 3;
	return (double)((4ULL + sub) << (msb - LAT_SUB_BITS));
}

double lat_hist_percentile(const struct lat_hist *hist, double pct)
{
	__u64 want = (__u64)ceil(hist->count * pct / 100.0), seen = 0;

	if (!hist->count)
		return NAN;
	if (!want)
		want = 1;
	for (int i = 0; i < LAT_BUCKETS; i++) {
		seen += hist->buckets[i];
		if (seen >= want && hist->buckets[i]) {
			double lo = lat_bucket_low(i), hi = i + 1 < LAT_BUCKETS ? lat_bucket_low(i + 1) : lo;

			return (lo + hi) / 2;
		}
	}
	return NAN;
}

void lat_hist_add(struct lat_hist *sum, const struct lat_hist *h)
{
	sum->count += h->count;
	sum->sum_ns += h->sum_ns;
	for (int i = 0; i < LAT_BUCKETS; i++)
		sum->buckets[i] += h->buckets[i];
}
