#include <stdlib.h>

#include "lib/histogram.h"
#include "test.h"

static struct histogram *new_hist(void)
{
	struct histogram *h = malloc(sizeof(*h));

	hist_reset(h);
	return h;
}

TEST(histogram_buckets_tile_the_range)
{
	/* Every bucket starts right after the previous one ends. */
	for (unsigned i = 1; i < HIST_BUCKETS; i++)
		if (!ASSERT_EQ(hist_bucket_low(i), hist_bucket_high(i - 1) + 1, "contiguous buckets"))
			return;
	for (uint64_t v = 0; v < (1ULL << 20); v += 7)
		if (!ASSERT_TRUE(hist_bucket_low(hist_bucket_index(v)) <= v &&
				 v <= hist_bucket_high(hist_bucket_index(v)), "value inside its bucket"))
			return;
}

TEST(histogram_relative_error_below_one_percent)
{
	struct histogram *h = new_hist();
	double worst = 0;

	/* One value at a time over nine decades: the reported median is the value. */
	for (uint64_t v = 1; v < (1ULL << 39); v = v * 1.37 + 1) {
		uint64_t got;
		double err;

		hist_reset(h);
		hist_record(h, v);
		hist_record(h, v + v / 1000);	/* a neighbour, so min/max clamping does not hide the error */
		hist_record(h, v - v / 1000);
		got = hist_percentile(h, 50);
		err = got > v ? (double)(got - v) / v : (double)(v - got) / v;
		if (err > worst)
			worst = err;
	}
	ASSERT_TRUE(worst < 0.011, "worst relative error (incl. 0.1% spread) under 1%");
	free(h);
}

TEST(histogram_percentiles_of_uniform_values)
{
	struct histogram *h = new_hist();

	for (uint64_t v = 1; v <= 100000; v++)
		hist_record(h, v * 1000);	/* 1 us .. 100 ms in ns */
	ASSERT_EQ(h->count, 100000, "count");
	ASSERT_EQ(h->min, 1000, "min");
	ASSERT_EQ(h->max, 100000000, "max");
	ASSERT_NEAR((double)hist_percentile(h, 50), 50e6, 50e6 * 0.01, "p50");
	ASSERT_NEAR((double)hist_percentile(h, 90), 90e6, 90e6 * 0.01, "p90");
	ASSERT_NEAR((double)hist_percentile(h, 99), 99e6, 99e6 * 0.01, "p99");
	ASSERT_NEAR((double)hist_percentile(h, 99.9), 99.9e6, 99.9e6 * 0.01, "p99.9");
	ASSERT_EQ(hist_percentile(h, 100), 100000000, "p100 is the max");
	ASSERT_NEAR(hist_mean(h), 50000.5 * 1000, 1, "mean is exact");
	ASSERT_TRUE(hist_percentile(h, 50) <= hist_percentile(h, 90) &&
		    hist_percentile(h, 90) <= hist_percentile(h, 99) &&
		    hist_percentile(h, 99) <= hist_percentile(h, 99.9), "monotone");
	free(h);
}

TEST(histogram_merge_equals_recording_into_one)
{
	struct histogram *a = new_hist(), *b = new_hist(), *all = new_hist();

	for (uint64_t v = 1; v < 50000; v++) {
		uint64_t x = v * v % 9999991;

		hist_record(v % 3 ? a : b, x);
		hist_record(all, x);
	}
	hist_merge(a, b);
	ASSERT_EQ(a->count, all->count, "count");
	ASSERT_EQ(a->sum, all->sum, "sum");
	ASSERT_EQ(a->min, all->min, "min");
	ASSERT_EQ(a->max, all->max, "max");
	ASSERT_TRUE(!memcmp(a->buckets, all->buckets, sizeof(a->buckets)), "same buckets");
	ASSERT_EQ(hist_percentile(a, 99), hist_percentile(all, 99), "p99");
	free(a);
	free(b);
	free(all);
}

TEST(histogram_empty_and_clamped)
{
	struct histogram *h = new_hist();

	ASSERT_EQ(hist_percentile(h, 99), 0, "empty histogram reports 0");
	hist_record(h, 1ULL << 50);
	ASSERT_EQ(h->clamped, 1, "value beyond range is counted as clamped");
	ASSERT_EQ(hist_percentile(h, 50), 1ULL << 50, "clamped value still reported as max");
	free(h);
}
