/* The load generator's library API, as `netprof run` uses it: a server on its
 * own thread and a client run in the same process, over loopback (no root). */
#include <string.h>

#include "loadgen/loadgen.h"
#include "loadgen/loadgen_internal.h"
#include "test.h"

static struct loadgen_server *start_server(void)
{
	struct loadgen_server_opts so = { .port = 0 };

	strcpy(so.bind, "127.0.0.1");
	return loadgen_server_start(&so);
}

static void client_opts(struct loadgen_opts *o, enum lg_workload w, uint16_t port)
{
	loadgen_opts_default(o, w);
	strcpy(o->server, "127.0.0.1");
	o->port = port;
	o->duration_ns = 300000000ULL;
	o->warmup_ns = 100000000ULL;
	o->timeout_ns = 2000000000ULL;
	o->pin = LG_PIN_OFF;
}

TEST(loadgen_rr_in_process_counts_agree)
{
	struct loadgen_server *s = start_server();
	struct loadgen_result res;
	struct loadgen_opts o;
	int rc;

	if (!ASSERT_TRUE(s != NULL, "server starts on loopback"))
		return;
	client_opts(&o, LG_RR, loadgen_server_port(s));
	o.conns = 2;
	rc = loadgen_client_run(&o, &res);
	ASSERT_EQ(rc, 0, "complete run");
	ASSERT_TRUE(!res.partial, res.error);
	ASSERT_TRUE(res.server.valid, "server report");
	ASSERT_TRUE(res.client.transactions > 0, "transactions");
	ASSERT_EQ(res.client.transactions, res.server.transactions, "both sides count the same");
	ASSERT_EQ(res.client.bytes_sent, res.server.bytes_recv, "request bytes");
	ASSERT_EQ(res.client.bytes_recv, res.client.transactions * 100, "100 B responses");
	ASSERT_TRUE(res.latency->count > 0, "latency samples");
	ASSERT_TRUE(hist_percentile(res.latency, 50) <= hist_percentile(res.latency, 99),
		    "p50 <= p99");
	loadgen_result_free(&res);
	loadgen_server_stop(s);
}

TEST(loadgen_stream_in_process_bytes_agree)
{
	struct loadgen_server *s = start_server();
	struct loadgen_result res;
	struct loadgen_opts o;

	if (!ASSERT_TRUE(s != NULL, "server starts on loopback"))
		return;
	client_opts(&o, LG_STREAM, loadgen_server_port(s));
	o.reverse = true;
	ASSERT_EQ(loadgen_client_run(&o, &res), 0, "complete run");
	ASSERT_EQ(res.server.bytes_sent, res.client.bytes_recv, "server sent = client received");
	ASSERT_TRUE(res.gbps > 0, "throughput");
	ASSERT_EQ(res.nstreams, 1, "one stream");
	loadgen_result_free(&res);
	loadgen_server_stop(s);
}

TEST(loadgen_no_server_is_partial_with_error)
{
	struct loadgen_server *s = start_server();
	struct loadgen_result res;
	struct loadgen_opts o;
	uint16_t port;

	if (!ASSERT_TRUE(s != NULL, "server starts on loopback"))
		return;
	port = loadgen_server_port(s);
	loadgen_server_stop(s);	/* nothing listens there any more */
	client_opts(&o, LG_RR, port);
	ASSERT_TRUE(loadgen_client_run(&o, &res) < 0, "run fails");
	ASSERT_TRUE(res.partial, "marked partial");
	ASSERT_TRUE(strstr(res.error, "cannot reach netprof serve") != NULL, res.error);
	loadgen_result_free(&res);
}

TEST(loadgen_totals_window_from_counters)
{
	struct lg_counters c0 = { .bytes_sent = 100, .bytes_recv = 200, .transactions = 3,
				  .packets_sent = 4, .packets_recv = 5, .connects = 6 };
	struct lg_counters c1 = { .bytes_sent = 1100, .bytes_recv = 2200, .transactions = 33,
				  .packets_sent = 44, .packets_recv = 55, .connects = 66 };
	struct lg_counters end = c1;
	struct lg_side_totals s = { .win_bytes_sent = 77 };

	end.bytes_sent = 5000;
	end.errors[LG_ERR_READ] = 2;
	lg_totals_from_counters(&s, &end, NULL, &c1);
	ASSERT_EQ(s.bytes_sent, 5000, "whole test from end");
	ASSERT_EQ(s.errors[LG_ERR_READ], 2, "errors from end");
	ASSERT_EQ(s.win_bytes_sent, 77, "no window: untouched");
	lg_totals_from_counters(&s, &end, &c0, &c1);
	ASSERT_EQ(s.win_bytes_sent, 1000, "window bytes sent");
	ASSERT_EQ(s.win_bytes_recv, 2000, "window bytes received");
	ASSERT_EQ(s.win_transactions, 30, "window transactions");
	ASSERT_EQ(s.win_packets_sent, 40, "window packets sent");
	ASSERT_EQ(s.win_packets_recv, 50, "window packets received");
	ASSERT_EQ(s.win_connects, 60, "window connects");
}

TEST(loadgen_totals_wire_round_trip)
{
	struct lg_side_totals in, out;
	struct lg_wire_result w = { 0 };

	/* Whole structs compared below: their padding too. */
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.bytes_sent = 1;
	in.bytes_recv = 2;
	in.transactions = 3;
	in.packets_sent = 4;
	in.packets_recv = 5;
	in.win_bytes_sent = 6;
	in.win_bytes_recv = 7;
	in.win_transactions = 8;
	in.win_packets_sent = 9;
	in.win_packets_recv = 10;
	in.win_connects = 11;
	/* Binary fractions: exact through millionths and back. */
	in.cpu.seconds = 1.5;
	in.cpu.ncpus = 2;
	in.cpu.machine_user = 0.25;
	in.cpu.machine_system = 0.125;
	in.cpu.machine_softirq = 0.5;
	in.cpu.machine_irq = 0.0625;
	in.cpu.machine_idle = 1.0;
	in.cpu.machine_busy = 0.9375;
	in.cpu.proc_user = 0.75;
	in.cpu.proc_system = 0.375;
	in.errors[LG_ERR_COUNT - 1] = 12;
	lg_wire_put_totals(&w, &in);
	/* The units on the wire: ns, and millionths of a core. */
	ASSERT_EQ(w.cpu_ns, 1500000000ULL, "cpu seconds as ns");
	ASSERT_EQ(w.m_user, 250000, "machine user share");
	ASSERT_EQ(w.p_system, 375000, "process system share");
	ASSERT_EQ(w.win_connects, 11, "window connects");
	lg_wire_swap(&w, sizeof(w));
	lg_wire_swap(&w, sizeof(w));
	lg_wire_get_totals(&out, &w);
	ASSERT_TRUE(!out.valid, "valid is the caller's");
	out.valid = in.valid;
	ASSERT_TRUE(!memcmp(&out, &in, sizeof(in)), "every field back as sent");
}
