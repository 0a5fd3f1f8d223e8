/* Shared between the load generator's files: the wire protocol, the worker
 * threads and their hot loops. Not an API: see loadgen.h. */
#ifndef NETPROF_LOADGEN_INTERNAL_H
#define NETPROF_LOADGEN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/histogram.h"
#include "loadgen/loadgen.h"

/* ---- control protocol ------------------------------------------------ */

#define LG_MAGIC 0x6e7072664c470001ULL	/* "nprfLG" + protocol version 1 */

enum lg_msg_type {
	LG_MSG_REQUEST = 1,	/* client -> server: struct lg_wire_request */
	LG_MSG_ACCEPT,		/* server -> client: data port */
	LG_MSG_ERROR,		/* server -> client: text */
	LG_MSG_READY,		/* server -> client: data connections accepted, workers running */
	LG_MSG_MEASURE,		/* client -> server: the measured window begins */
	LG_MSG_STOP,		/* client -> server: the measured window ended, drain */
	LG_MSG_RESULT,		/* server -> client: struct lg_wire_result + conns */
};

/* Every field is a little-endian u64 on the wire, so both ends may differ. */
struct lg_wire_request {
	uint64_t magic, workload, conns, threads, req_size, resp_size, reverse;
	uint64_t duration_ns, warmup_ns, timeout_ns, busy_poll, pin;
};

struct lg_wire_accept {
	uint64_t port;
};

struct lg_wire_result {
	uint64_t bytes_sent, bytes_recv, transactions, packets_sent, packets_recv;
	uint64_t win_bytes_sent, win_bytes_recv, win_transactions, win_packets_sent,
		 win_packets_recv, win_connects;
	uint64_t errors[LG_ERR_COUNT];
	/* CPU in millionths of a core, and the window in ns */
	uint64_t cpu_ns, ncpus, m_user, m_system, m_softirq, m_irq, m_idle, m_busy, p_user,
		 p_system;
	uint64_t p_voluntary_switches, p_involuntary_switches;
	uint64_t nconns;	/* followed by this many lg_wire_conn */
};

struct lg_wire_conn {
	uint64_t peer_port, win_bytes_sent, win_bytes_recv, retransmits, rtt_us, cwnd;
};

/* What the http client sends on every request. */
#define LG_HTTP_REQUEST "GET / HTTP/1.1\r\nHost: netprof\r\nUser-Agent: netprof\r\n\r\n"

#define LG_MAX_MSG (1U << 20)
#define LG_MAX_REPORTED_CONNS 1024

/* Sends one message; 0 or -errno. */
int lg_msg_send(int fd, uint32_t type, const void *payload, uint32_t len);
/* Receives one message within timeout_ns into buf (NUL-terminated);
 * returns its type, 0 on a clean end of stream, -ETIMEDOUT or -errno. */
int lg_msg_recv(int fd, void *buf, uint32_t bufsize, uint32_t *len, uint64_t timeout_ns);
/* Convert a struct made only of uint64_t between host and wire order. */
void lg_wire_swap(void *s, size_t size);
/* A side's totals (not `valid`) into a result message and back, in host
 * order; CPU goes as integer nanoseconds and millionths of a core. */
void lg_wire_put_totals(struct lg_wire_result *w, const struct lg_side_totals *s);
void lg_wire_get_totals(struct lg_side_totals *s, const struct lg_wire_result *w);

/* ---- sockets --------------------------------------------------------- */

uint64_t lg_now_ns(void);
int lg_parse_addr(const char *text, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);
/* Non-blocking connect bounded by timeout_ns; returns a non-blocking fd or -errno. */
int lg_connect(const struct sockaddr_storage *ss, socklen_t len, int type, uint64_t timeout_ns);
uint16_t lg_sock_port(int fd, bool peer);
void lg_set_nodelay(int fd);
int lg_set_nonblock(int fd);
const char *lg_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len);

/* ---- workers --------------------------------------------------------- */

enum lg_phase { LG_PHASE_WARMUP, LG_PHASE_MEASURE, LG_PHASE_DRAIN, LG_PHASE_DONE };

/* What a test needs to know, the same on both sides (from the request). */
struct lg_params {
	enum lg_workload workload;	/* never LG_SWEEP or LG_PUSH: they map to others */
	uint32_t conns, threads;
	uint64_t req_size, resp_size;
	bool reverse, busy_poll;
	enum lg_pin pin;
	uint64_t rate;			/* client only */
	uint64_t timeout_ns;
};

/* Written by one worker only (relaxed atomic stores), read by the main thread. */
struct lg_counters {
	uint64_t bytes_sent, bytes_recv, transactions, packets_sent, packets_recv, connects;
	uint64_t errors[LG_ERR_COUNT];
} __attribute__((aligned(64)));

/* The whole test's totals from `end`, and the measured window's from c1 - c0
 * (left as they are when c0 is NULL: the window never began). CPU and
 * `valid` are the caller's. */
void lg_totals_from_counters(struct lg_side_totals *s, const struct lg_counters *end,
			     const struct lg_counters *c0, const struct lg_counters *c1);

#define LG_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define LG_LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

#define LG_RING 64	/* requests in flight per connection (open loop) */

struct lg_conn {
	int fd;
	uint16_t local_port, peer_port;
	bool wr_shut, closed, connecting, out_armed;
	uint64_t bytes_sent, bytes_recv;	/* owner writes, main reads */
	uint64_t win_sent0, win_recv0, win_sent1, win_recv1, retrans0, retrans1;
	uint32_t rtt_us, cwnd;
	/* request/response */
	uint64_t to_send;		/* bytes queued for sending */
	uint64_t send_pos;		/* position in the template, for http */
	uint64_t resp_left;		/* bytes still due of the current response */
	uint64_t req_left;		/* server: bytes still due of the current request */
	uint64_t next_due;		/* open loop: next scheduled send, ns */
	uint64_t started[LG_RING];	/* start time of each request in flight */
	uint32_t head, inflight;
	uint64_t connect_start;
	/* http parsing */
	uint32_t hdr_len, crlf_state;
	char hdr[512];
};

struct lg_ctx;

struct lg_worker {
	struct lg_counters c;		/* first, on its own cache line */
	struct lg_ctx *ctx;
	unsigned id;
	int cpu;
	int epfd;
	int udp_fd;
	pthread_t thread;
	bool started;
	struct lg_conn *conns;
	unsigned nconns, conns_cap;
	struct histogram *hist, *connect_hist;
	char *buf;
	size_t buflen;
	char *tx_template;		/* http request or response */
	uint64_t last_progress_ns;	/* stall detection */
	size_t tx_template_len;
} __attribute__((aligned(64)));

struct lg_ctx {
	struct lg_params p;
	bool server;
	_Atomic int phase;
	uint64_t drain_deadline_ns;	/* set when the drain begins */
	struct sockaddr_storage data_addr;	/* client: where to connect (crr) */
	socklen_t data_addr_len;
	int listen_fd;			/* server: crr accepts in the workers */
	unsigned nworkers;
	bool pinned;
	struct lg_worker *workers;
	_Atomic int failed;
	pthread_mutex_t error_lock;
	char error[200];
};

/* First error of a test wins; sets ctx->failed. */
void lg_fail(struct lg_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocates workers and buffers for ctx->p; the conns are added afterwards. */
int lg_workers_alloc(struct lg_ctx *ctx);
int lg_workers_start(struct lg_ctx *ctx);
void lg_workers_join(struct lg_ctx *ctx);
void lg_workers_free(struct lg_ctx *ctx);
/* Sum of the workers' counters, as the main thread sees them now. */
void lg_counters_sum(struct lg_ctx *ctx, struct lg_counters *sum);

/* ---- connections (loadgen_conn.c) ------------------------------------- */

int lg_worker_add_conn(struct lg_worker *w, int fd);
/* recv() into the worker's buffer, the bytes counted on c and w; recv's
 * return value, with errno as recv left it. */
ssize_t lg_conn_recv(struct lg_worker *w, struct lg_conn *c, int flags);
/* Closes a connection, once. */
void lg_conn_close(struct lg_worker *w, struct lg_conn *c);
/* A connection failed: count the error, fail the test with what happened,
 * and close it. */
void lg_conn_error(struct lg_worker *w, struct lg_conn *c, enum lg_error_kind kind, int err,
		   const char *what);
/* Closes every data connection (the workers have stopped); their counters stay. */
void lg_conns_close_all(struct lg_ctx *ctx);
/* Snapshot per-connection bytes and TCP_INFO at the window's start (0) or end (1). */
void lg_conns_snapshot(struct lg_ctx *ctx, int which);

/* Hot loops (loadgen_stream.c, loadgen_rr.c, loadgen_udp.c). */
void lg_loop_stream(struct lg_worker *w);
void lg_loop_rr(struct lg_worker *w);
void lg_loop_crr(struct lg_worker *w);
void lg_loop_udp(struct lg_worker *w);

/* The phase at which this side stops generating: the client at DRAIN,
 * the server at DRAIN too (it is set when STOP arrives). */
static inline int lg_phase(struct lg_ctx *ctx)
{
	return atomic_load_explicit(&ctx->phase, memory_order_relaxed);
}

/* Do the two sides' workers go on different CPUs (bulk) or the same ones? */
static inline bool lg_pin_apart(enum lg_workload w)
{
	return w == LG_STREAM || w == LG_UDP;
}

/* Does this side write the bulk data of a stream? */
static inline bool lg_stream_sender(const struct lg_ctx *ctx)
{
	return ctx->server == ctx->p.reverse;
}

#define LG_EPOLL_EVENTS 64
#define LG_POLL_MS 50		/* longest sleep of a worker: how fast it sees a phase change */

#endif
