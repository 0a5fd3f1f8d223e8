/*
 * netprof's load generator, as a library: `netprof serve` and `netprof load`
 * are thin commands around it, and `netprof run` starts a server inside one
 * pod namespace and a client inside another, then reads the result struct.
 *
 * A test is negotiated on a control connection (TCP, port 12865 by default,
 * as netperf's netserver): the client sends the workload and its parameters,
 * the server opens a data port on the same address and answers with it, the
 * client opens the data connections, both sides run worker threads (pinned,
 * epoll, per-thread counters on their own cache line) through a warm-up and
 * the measured window, then drain the connections so that the bytes and
 * transactions counted by both sides can be compared exactly. The server
 * sends its counters and CPU figures back on the control connection.
 */
#ifndef NETPROF_LOADGEN_H
#define NETPROF_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/cpustat.h"
#include "lib/histogram.h"

#define LOADGEN_DEFAULT_PORT 12865

enum lg_workload {
	LG_STREAM,	/* TCP bulk, -P N streams, either direction */
	LG_RR,		/* request/response on persistent connections */
	LG_CRR,		/* connect, request, response, close */
	LG_PINGPONG,	/* one connection, one message each way (sockperf pp) */
	LG_UDP,		/* small datagrams, one way */
	LG_SWEEP,	/* stream and pingpong for sizes 1 B .. 256 KiB by x64 */
	LG_PUSH,	/* the server writes 100 kB chunks to 100 connections */
	LG_HTTP,	/* HTTP/1.1 keep-alive requests */
	LG_WORKLOAD_COUNT
};

const char *lg_workload_name(enum lg_workload w);
/* Whether a workload's headline figure is Gbit/s (stream, push, udp) rather
 * than transactions/s. */
bool lg_headline_is_gbps(enum lg_workload w);
/* -1 when the name is unknown */
int lg_workload_parse(const char *name);

enum lg_error_kind {
	LG_ERR_CONNECT,		/* connect refused, unreachable or timed out */
	LG_ERR_READ,		/* reset, or end of stream where data was due */
	LG_ERR_WRITE,
	LG_ERR_TIMEOUT,		/* no answer within the timeout */
	LG_ERR_STATUS,		/* http: a status other than 2xx */
	LG_ERR_PARSE,		/* http: a response that is not HTTP/1.x with Content-Length */
	LG_ERR_COUNT
};
const char *lg_error_name(enum lg_error_kind k);

/*
 * Worker placement. ON pins worker i of both sides: bulk workloads (stream,
 * push, udp) put sender and receiver on different CPUs, request/response
 * ones put worker i of both sides on CPU i, so no transaction waits for a
 * wake-up on another (maybe idle) CPU. AUTO pins request/response workloads
 * when 2 x workers <= CPUs, and leaves bulk ones to the scheduler: they need
 * two CPUs, and pinned apart they cannot step away from a CPU that other work
 * holds (on a shared 2-CPU machine a pinned stream fell from 12 to 1-5
 * Gbit/s while iperf3, unpinned, kept 9-13). OFF never pins.
 */
enum lg_pin { LG_PIN_AUTO, LG_PIN_ON, LG_PIN_OFF };

struct loadgen_opts {
	enum lg_workload workload;
	char server[64];	/* numeric IPv4 or IPv6 address of `netprof serve` */
	uint16_t port;		/* its control port */
	char netns[64];		/* run the client inside this named netns ("" = here) */
	/* Where the data connections go when not to the server's negotiated
	 * port on the control address: a ClusterIP in front of the server. */
	char data_addr[64];	/* "" = the control address */
	uint16_t data_port;	/* with data_addr: the port to dial there */
	uint32_t conns;		/* connections, streams or UDP flows */
	uint32_t threads;	/* worker threads; 0 = half the CPUs, at most one per connection */
	uint64_t req_size;	/* rr/crr/pingpong/http: request; stream/push/udp: message size */
	uint64_t resp_size;	/* rr/crr/pingpong/http: response (http: body) size */
	bool reverse;		/* stream: the server sends */
	uint64_t duration_ns, warmup_ns;
	uint64_t interval_ns;	/* 0 = no interval reports */
	uint64_t timeout_ns;	/* connect, answer and drain timeout */
	uint64_t rate;		/* rr/http: transactions/s, udp: packets/s, total; 0 = open throttle */
	bool busy_poll;		/* spin on the sockets instead of sleeping in epoll */
	enum lg_pin pin;	/* worker thread placement */
	/* The CPUs this side runs on, as a kernel CPU list ("0-1,4"): the
	 * client's threads stay there, and `pin` places workers within them
	 * (netprof run: the client node's CPUs). "" = wherever the caller may. */
	char cpus[64];
	bool progress;		/* a progress line on stderr */
	/* Called on the client's main thread after each interval. */
	void (*on_interval)(const struct loadgen_opts *o, double t_end, double gbps, double tps,
			    double pps);
};

/* Fills the defaults of a workload: sizes, connections, durations. */
void loadgen_opts_default(struct loadgen_opts *o, enum lg_workload w);

struct lg_stream_stat {
	uint16_t port;			/* the client's port of this connection */
	uint64_t bytes;			/* received by the receiving side, measured window */
	double gbps;
	uint64_t retransmits;		/* sender's TCP_INFO, measured window */
	uint32_t rtt_us, cwnd;		/* sender's TCP_INFO at the end */
};

struct lg_side_totals {
	/* Whole test, warm-up and drain included: the two sides must agree. */
	uint64_t bytes_sent, bytes_recv, transactions, packets_sent, packets_recv;
	/* The measured window only. */
	uint64_t win_bytes_sent, win_bytes_recv, win_transactions, win_packets_sent,
		 win_packets_recv, win_connects;
	uint64_t errors[LG_ERR_COUNT];
	struct cpu_usage cpu;
	bool valid;			/* server side: its report arrived */
};

struct lg_interval {
	double end_s;			/* since the measured window began */
	double gbps, tps, pps;
};

struct lg_sweep_point {
	uint64_t size;
	double gbps;			/* stream with this message size */
	double rtt_mean_us, rtt_p50_us, rtt_p99_us;	/* pingpong with this size each way */
	bool partial;
};

struct loadgen_result {
	enum lg_workload workload;
	struct loadgen_opts opts;
	bool partial;			/* the test did not run its full course */
	char error[256];		/* why, when partial */
	double seconds;			/* measured window */
	struct lg_side_totals client, server;
	/* Figures of the measured window. */
	double gbps;			/* payload received, all streams */
	double tps;			/* transactions (or connections for crr) per second */
	double pps_sent, pps_recv, loss_pct;
	struct histogram *latency;	/* round trip per transaction, ns */
	struct histogram *connect_latency;	/* crr: connect() to established, ns */
	bool latency_from_intended;	/* --rate: measured from the scheduled send time */
	bool pinned;			/* the client's workers were pinned to CPUs */
	uint32_t nstreams;
	struct lg_stream_stat *streams;
	uint32_t nsweep;
	struct lg_sweep_point *sweep;
	uint32_t nintervals;
	struct lg_interval *intervals;
	/* Service demand: machine CPU per unit of work, per side. */
	double client_us_per_tran, server_us_per_tran;
	double client_ms_per_gbit, server_ms_per_gbit;
};

/*
 * Runs one test against a server (inside opts->netns when set) and fills
 * *res. Returns 0 on a complete run, or -errno with res->partial set and
 * res->error saying what happened (the figures measured until then remain).
 * Free with loadgen_result_free().
 */
int loadgen_client_run(const struct loadgen_opts *opts, struct loadgen_result *res);
void loadgen_result_free(struct loadgen_result *res);
/* Text or JSON through output.h; intervals are the client's callback's job. */
void loadgen_print_result(const struct loadgen_result *res);

struct loadgen_server_opts {
	char bind[64];		/* address to listen on ("" = every address) */
	uint16_t port;		/* control port */
	char netns[64];		/* serve inside this named netns ("" = here) */
	uint16_t data_port;	/* listen for data on this port (0 = any free one) */
	bool no_pin;
	/* As loadgen_opts.cpus, for the server's threads; loadgen_server_start
	 * moves the calling thread there too, so that a process started to
	 * serve (netprof run's) runs on its node's CPUs as a whole. */
	char cpus[64];
	uint32_t max_tests;	/* stop after this many tests (0 = until stopped) */
};

struct loadgen_server;

/*
 * Starts a server on its own thread (inside o->netns when set) and returns
 * once it listens; NULL with errno set on failure. Stop with
 * loadgen_server_stop(), which waits for a running test to end.
 */
struct loadgen_server *loadgen_server_start(const struct loadgen_server_opts *o);
uint16_t loadgen_server_port(const struct loadgen_server *s);
void loadgen_server_stop(struct loadgen_server *s);
/* Serves on the calling thread until stop_requested() or max_tests; 0 or -errno. */
int loadgen_server_run(const struct loadgen_server_opts *o);

#endif
