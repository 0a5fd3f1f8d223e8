/*
 * Function timing's report and summary: pure functions of a snapshot, in
 * text or JSON through the one print layer.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/output.h"
#include "trace/functime.h"

static int category_of(const struct categories *cats, const char *func)
{
	char frame[FUNC_NAME_MAX + 8];
	const char *frames[2] = { "swapper", frame };

	if (!cats)
		return -1;
	snprintf(frame, sizeof(frame), "%s_[k]", func);
	return categories_classify(cats, frames, 2);
}

static double per(double v, double n)
{
	return n > 0 ? v / n : NAN;
}

void func_timer_summarize(const struct func_snapshot *s, double packets,
			  const struct categories *cats, struct func_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	snprintf(sum->probe, sizeof(sum->probe), "%s",
		 func_probe_mode_name(s ? s->mode : FUNC_PROBE_OFF));
	if (!s || s->mode == FUNC_PROBE_OFF || packets <= 0)
		return;
	sum->valid = true;
	for (int i = 0; i < s->nr_funcs; i++) {
		double us = s->stats[i].self_ns / 1e3 / packets;
		int c = category_of(cats, s->funcs[i].name);

		if (!s->funcs[i].timed)
			continue;
		sum->total_self_us_per_packet += us;
		if (c >= 0 && c < CAT_MAX)
			sum->self_us_per_packet[c] += us;
	}
}

static void print_histogram(const struct lat_hist *h)
{
	out_array_begin("histogram");
	for (int b = 0; b < LAT_BUCKETS; b++) {
		if (!h->buckets[b])
			continue;
		out_object_begin(NULL);
		out_double("from_ns", NULL, lat_bucket_low(b));
		out_uint("count", NULL, h->buckets[b]);
		out_object_end();
	}
	out_array_end();
}

static const char *const counter_names[FCNT_MAX] = {
	[FCNT_OTHER_NETNS] = "other_netns_calls",
	[FCNT_UNRESOLVED] = "unresolved_calls",
	[FCNT_PENDING_FULL] = "unresolved_held_full",
	[FCNT_DEPTH_FULL] = "too_deep",
	[FCNT_UNMATCHED] = "exits_without_entry",
	[FCNT_LOST_EXITS] = "lost_exits",
	[FCNT_STACKS_FULL] = "stacks_full",
};

void func_timer_print(const struct func_snapshot *s, double packets, double transactions,
		      const struct categories *cats)
{
	int timed = 0;

	out_object_begin("functions");
	out_string("probe", "Kernel functions: %s", func_probe_mode_name(s ? s->mode : FUNC_PROBE_OFF));
	if (!s || s->mode == FUNC_PROBE_OFF) {
		out_string("why", " (%s)\n", s ? s->why : "not requested");
		out_object_end();
		return;
	}
	for (int i = 0; i < s->nr_funcs; i++)
		timed += s->funcs[i].timed;
	out_uint("timed", ", %llu", (unsigned long long)timed);
	out_uint("requested", " of %llu functions timed", (unsigned long long)s->nr_funcs);
	out_string("note", s->why[0] ? " (%s)" : NULL, s->why);
	out_bool("off_cpu_excluded", s->off_cpu ? "; self time excludes switched-out time" :
		 "; self time includes switched-out time (no sched_switch)", s->off_cpu);
	out_double("packets", "; per packet = per IP packet the endpoints sent (%.0f)", packets);
	out_text("\n");
	out_text("  %-26s %10s %9s %10s %10s %9s %9s %9s  %s\n", "function", "calls", "calls/pkt",
		 "total/pkt", "self/pkt", "self/tx", "p50", "p99", "category");
	out_text("  %-26s %10s %9s %10s %10s %9s %9s %9s\n", "", "", "", "us", "us", "us", "us", "us");
	out_array_begin("functions");
	for (int i = 0; i < s->nr_funcs; i++) {
		const struct func_snapshot_func *f = &s->funcs[i];
		const struct func_stats *st = &s->stats[i];
		int c = category_of(cats, f->name);

		if (!f->timed)
			continue;
		out_object_begin(NULL);
		out_string("name", "  %-26s", f->name);
		out_uint("calls", " %10llu", (unsigned long long)st->calls);
		out_double("calls_per_packet", " %9.2f", per(st->calls, packets));
		out_double("total_us_per_packet", " %10.3f", per(st->total_ns / 1e3, packets));
		out_double("self_us_per_packet", " %10.3f", per(st->self_ns / 1e3, packets));
		out_double("self_us_per_transaction", " %9.3f", per(st->self_ns / 1e3, transactions));
		out_double("p50_us", " %9.2f", lat_hist_percentile(&st->hist, 50) / 1e3);
		out_double("p99_us", " %9.2f", lat_hist_percentile(&st->hist, 99) / 1e3);
		out_string("category", "  %s\n", c >= 0 ? categories_name(cats, c) : "-");
		out_string("probe", NULL, f->status);
		out_uint("total_ns", NULL, st->total_ns);
		out_uint("self_ns", NULL, st->self_ns);
		out_uint("off_cpu_ns", NULL, st->off_cpu_ns);
		print_histogram(&st->hist);
		out_object_end();
	}
	out_array_end();
	out_array_begin("not_timed");
	for (int i = 0; i < s->nr_funcs; i++) {
		if (s->funcs[i].timed)
			continue;
		out_object_begin(NULL);
		out_string("name", "  not timed: %s", s->funcs[i].name);
		out_string("why", " (%s)\n", s->funcs[i].status);
		out_object_end();
	}
	out_array_end();
	if (cats) {
		struct func_summary sum;

		func_timer_summarize(s, packets, cats, &sum);
		out_object_begin("self_us_per_packet_by_category");
		out_text("  self time per packet by category:");
		for (int c = 0; c < categories_count(cats) && c < CAT_MAX; c++)
			if (sum.self_us_per_packet[c] > 0) {
				out_text(" %s", categories_name(cats, c));
				out_double(categories_name(cats, c), " %.3f us,",
					   sum.self_us_per_packet[c]);
			}
		out_double("total", " total %.3f us\n", sum.total_self_us_per_packet);
		out_object_end();
	}
	out_object_begin("lost");
	out_text("  not counted:");
	for (int i = 0; i < FCNT_MAX; i++) {
		out_text(" %s", counter_names[i]);
		out_uint(counter_names[i], " %llu", s->counters[i]);
	}
	out_text("\n");
	out_object_end();
	out_object_end();
}
