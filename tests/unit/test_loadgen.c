/* The load generator's library API, as `netprof run` uses it: a server on its
 * own thread and a client run in the same process, over loopback (no root). */
#include <string.h>

#include "loadgen/loadgen.h"
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
