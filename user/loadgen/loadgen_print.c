/* The result of a test as text or JSON, from the same calls (output.h).
 * Every JSON key carries its unit: _s, _us, _gbit_s, _per_s, _bytes,
 * _cores, _percent, _segments. */
#include <stdio.h>

#include "loadgen/loadgen.h"
#include "lib/output.h"

#define TEXT_STREAMS 8

static void print_latency(const char *key, const char *label, const struct histogram *h,
			  double scale)
{
	/* scale 0.5: half the round trip, sockperf's "latency" */
	out_object_begin(key);
	out_text("  %-25s", label);
	out_uint("samples", NULL, h->count);
	out_double("mean_us", "mean %.2f", hist_mean(h) * scale / 1e3);
	out_double("min_us", "  min %.2f", (double)(h->count ? h->min : 0) * scale / 1e3);
	out_double("p50_us", "  p50 %.2f", (double)hist_percentile(h, 50) * scale / 1e3);
	out_double("p90_us", "  p90 %.2f", (double)hist_percentile(h, 90) * scale / 1e3);
	out_double("p99_us", "  p99 %.2f", (double)hist_percentile(h, 99) * scale / 1e3);
	out_double("p99_9_us", "  p99.9 %.2f", (double)hist_percentile(h, 99.9) * scale / 1e3);
	out_double("max_us", "  max %.2f us\n", (double)h->max * scale / 1e3);
	out_object_end();
}

/* Text only: the JSON has these figures in each side's cpu object. */
static void print_machine_cpu(const struct loadgen_result *res)
{
	const struct lg_side_totals *s = res->client.valid ? &res->client : &res->server;
	const struct cpu_usage *u = &s->cpu;

	if (out_json() || !s->valid)
		return;
	out_text("  machine  cpu (%u CPUs, in cores, both sides and all else, softirq work\n"
		 "           for both included): usr %.2f sys %.2f softirq %.2f irq %.2f busy %.2f\n",
		 u->ncpus, u->machine_user, u->machine_system, u->machine_softirq, u->machine_irq,
		 u->machine_busy);
}

static void print_side(const char *key, const char *label, const struct lg_side_totals *s,
		       double us_per_tran, double ms_per_gbit, bool per_tran, bool per_gbit)
{
	const struct cpu_usage *u = &s->cpu;

	out_object_begin(key);
	out_bool("reported", NULL, s->valid);
	if (!s->valid) {
		out_text("  %-8s no report\n", label);
		out_object_end();
		return;
	}
	out_text("  %-8s", label);
	out_uint("bytes_sent", "sent %llu B", s->bytes_sent);
	out_uint("bytes_received", ", received %llu B", s->bytes_recv);
	out_uint("transactions", ", %llu transactions", s->transactions);
	out_uint("packets_sent", ", %llu pkts sent", s->packets_sent);
	out_uint("packets_received", ", %llu pkts received (whole test)\n", s->packets_recv);
	out_uint("window_bytes_sent", NULL, s->win_bytes_sent);
	out_uint("window_bytes_received", NULL, s->win_bytes_recv);
	out_uint("window_transactions", NULL, s->win_transactions);
	out_uint("window_packets_sent", NULL, s->win_packets_sent);
	out_uint("window_packets_received", NULL, s->win_packets_recv);
	out_uint("window_connects", NULL, s->win_connects);
	out_object_begin("errors");
	out_text("           errors:");
	for (int k = 0; k < LG_ERR_COUNT; k++) {
		char fmt[32];

		snprintf(fmt, sizeof(fmt), " %s %%llu", lg_error_name(k));
		out_uint(lg_error_name(k), fmt, s->errors[k]);
	}
	out_text("\n");
	out_object_end();
	/* The text gives each side its own process's time; the machine-wide
	 * figures, which both sides read off the same machine, once below. */
	out_object_begin("cpu");
	out_uint("cpus", NULL, u->ncpus);
	out_double("machine_user_cores", NULL, u->machine_user);
	out_double("machine_system_cores", NULL, u->machine_system);
	out_double("machine_softirq_cores", NULL, u->machine_softirq);
	out_double("machine_irq_cores", NULL, u->machine_irq);
	out_double("machine_busy_cores", NULL, u->machine_busy);
	out_double("process_user_cores", "           cpu (this side's process, in cores): usr %.2f",
		   u->proc_user);
	out_double("process_system_cores", " sys %.2f", u->proc_system);
	out_text(" total %.2f\n", u->proc_user + u->proc_system);
	out_double("window_s", NULL, u->seconds);
	out_object_end();
	if (per_tran)
		out_double("service_demand_us_per_transaction",
			   "           service demand %.2f us CPU per transaction\n", us_per_tran);
	if (per_gbit)
		out_double("service_demand_ms_per_gbit",
			   "           service demand %.1f ms CPU per Gbit\n", ms_per_gbit);
	out_object_end();
}

void loadgen_print_result(const struct loadgen_result *res)
{
	const struct loadgen_opts *o = &res->opts;
	enum lg_workload w = res->workload;
	bool stream = w == LG_STREAM || w == LG_PUSH, udp = w == LG_UDP, sweep = w == LG_SWEEP;
	bool trans = w == LG_RR || w == LG_CRR || w == LG_PINGPONG || w == LG_HTTP;
	char where[96];

	snprintf(where, sizeof(where), "%s:%u", o->server, o->port);
	out_object_begin(NULL);
	out_string("workload", "netprof load %s", lg_workload_name(w));
	out_string("server_address", " -> %s", where);
	out_bool("partial", NULL, res->partial);
	/* JSON always has the key: empty when the run was complete. */
	out_string("error", res->partial ? "  PARTIAL: %s" : NULL, res->partial ? res->error : "");
	out_text("\n");
	out_object_begin("config");
	out_uint("connections", "  %llu connection(s)", o->conns);
	out_uint("threads", o->threads ? ", %llu threads" : NULL, o->threads);
	out_uint("request_bytes", ", %llu B", o->req_size);
	if (trans)
		out_uint("response_bytes", " / %llu B", o->resp_size);
	out_string("direction", ", %s", o->reverse ? "server-to-client" : "client-to-server");
	out_double("duration_s", ", %.1f s", (double)o->duration_ns / 1e9);
	out_double("warmup_s", " after %.1f s warm-up", (double)o->warmup_ns / 1e9);
	out_uint("rate_per_s", o->rate ? ", rate %llu/s" : NULL, o->rate);
	out_bool("busy_poll", o->busy_poll ? ", busy-poll" : NULL, o->busy_poll);
	out_bool("pinned", res->pinned ? ", pinned" : ", unpinned", res->pinned);
	out_text("\n");
	out_object_end();
	out_double("measured_s", "  measured %.3f s\n", res->seconds);
	if (!out_json() && res->partial && res->seconds <= 0 && !sweep) {
		/* Nothing was measured: the error line above says it all. */
		out_object_end();
		return;
	}

	if (stream || udp)
		out_double("throughput_gbit_s", "  throughput %.3f Gbit/s\n", res->gbps);
	if (trans)
		out_double("transactions_per_s", "  %.0f transactions/s\n", res->tps);
	if (trans && res->latency) {
		out_bool("latency_from_scheduled_send", res->latency_from_intended ?
			 "  (open loop: latency counted from each request's scheduled send)\n" : NULL,
			 res->latency_from_intended);
		print_latency("latency_round_trip_us", "round trip (RTT):", res->latency, 1.0);
		if (w == LG_PINGPONG)
			print_latency("latency_half_round_trip_us", "half round trip (RTT/2):",
				      res->latency, 0.5);
	}
	if (w == LG_CRR && res->connect_latency)
		print_latency("connect_latency_us", "connect:", res->connect_latency, 1.0);
	if (udp) {
		out_object_begin("udp");
		out_double("packets_sent_per_s", "  sent %.0f pkt/s", res->pps_sent);
		out_double("packets_received_per_s", ", received %.0f pkt/s", res->pps_recv);
		out_double("loss_percent", ", loss %.3f %%\n", res->loss_pct);
		out_object_end();
	}
	if (stream && res->nstreams) {
		out_array_begin("streams");
		for (uint32_t i = 0; i < res->nstreams; i++) {
			const struct lg_stream_stat *st = &res->streams[i];

			/* Text lists a few streams; JSON has them all. */
			bool show = i < TEXT_STREAMS;

			out_object_begin(NULL);
			out_uint("client_port", show ? "    stream port %llu" : NULL, st->port);
			out_double("throughput_gbit_s", show ? ": %.3f Gbit/s" : NULL, st->gbps);
			out_uint("bytes", show ? ", %llu B" : NULL, st->bytes);
			out_uint("retransmits", show ? ", retrans %llu" : NULL, st->retransmits);
			out_uint("rtt_us", show ? ", rtt %llu us" : NULL, st->rtt_us);
			out_uint("cwnd_segments", show ? ", cwnd %llu\n" : NULL, st->cwnd);
			out_object_end();
		}
		out_array_end();
		if (res->nstreams > TEXT_STREAMS)
			out_text("    ... %u more streams (all of them with --json)\n",
				 res->nstreams - TEXT_STREAMS);
	}
	if (sweep) {
		out_array_begin("sweep");
		out_text("  %10s %14s %16s %16s %16s\n", "size", "bw Gbit/s", "RTT mean us",
			 "RTT/2 mean us", "RTT p99 us");
		for (uint32_t i = 0; i < res->nsweep; i++) {
			const struct lg_sweep_point *pt = &res->sweep[i];

			out_object_begin(NULL);
			out_uint("size_bytes", "  %10llu", pt->size);
			out_double("throughput_gbit_s", " %14.3f", pt->gbps);
			out_double("latency_round_trip_mean_us", " %16.2f", pt->rtt_mean_us);
			out_double("latency_half_round_trip_mean_us", " %16.2f", pt->rtt_mean_us / 2);
			out_double("latency_round_trip_p50_us", NULL, pt->rtt_p50_us);
			out_double("latency_round_trip_p99_us", " %16.2f\n", pt->rtt_p99_us);
			out_bool("partial", NULL, pt->partial);
			out_object_end();
		}
		out_array_end();
	}
	if (!sweep) {
		print_side("client", "client:", &res->client, res->client_us_per_tran,
			   res->client_ms_per_gbit, trans, stream || udp);
		print_side("server", "server:", &res->server, res->server_us_per_tran,
			   res->server_ms_per_gbit, trans, stream || udp);
		print_machine_cpu(res);
	}
	if (out_json()) {
		out_array_begin("intervals");
		for (uint32_t i = 0; i < res->nintervals; i++) {
			out_object_begin(NULL);
			out_double("end_s", NULL, res->intervals[i].end_s);
			out_double("throughput_gbit_s", NULL, res->intervals[i].gbps);
			out_double("transactions_per_s", NULL, res->intervals[i].tps);
			out_double("packets_per_s", NULL, res->intervals[i].pps);
			out_object_end();
		}
		out_array_end();
	}
	out_object_end();
}
