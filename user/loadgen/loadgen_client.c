/* The client side of a test: negotiate, connect, run the workers through
 * warm-up and the measured window, drain, collect the server's report. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen/loadgen_internal.h"
#include "lib/log.h"
#include "lib/cpulist.h"
#include "lib/netns.h"
#include "lib/teardown.h"

struct client_run {
	const struct loadgen_opts *o;
	struct loadgen_result *res;
	struct lg_ctx ctx;
	int ctl;
	struct sockaddr_storage ctl_addr;
	socklen_t ctl_len;
	char where[80];
	uint64_t t_measure0, t_measure1;
	struct lg_counters c0, c1;
	struct cpu_sample cpu0, cpu1;
	bool measured;			/* the window began */
	bool progress_shown;
};

static int fail_run(struct client_run *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_run(struct client_run *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (!r->res->partial) {
		va_start(ap, fmt);
		vsnprintf(r->res->error, sizeof(r->res->error), fmt, ap);
		va_end(ap);
	}
	r->res->partial = true;
	return err < 0 ? err : -EIO;
}

/* The server side's view of a workload: pingpong is rr, push is stream. */
static void wire_params(const struct loadgen_opts *o, struct lg_params *p)
{
	memset(p, 0, sizeof(*p));
	p->workload = o->workload;
	if (o->workload == LG_PINGPONG)
		p->workload = LG_RR;
	else if (o->workload == LG_PUSH || o->workload == LG_SWEEP)
		p->workload = LG_STREAM;
	p->conns = o->conns;
	p->threads = o->threads;
	p->req_size = o->req_size;
	p->resp_size = o->resp_size;
	p->reverse = o->reverse;
	p->busy_poll = o->busy_poll;
	p->pin = o->pin;
	p->rate = o->rate;
	p->timeout_ns = o->timeout_ns;
}

static int negotiate(struct client_run *r, uint16_t *data_port)
{
	const struct loadgen_opts *o = r->o;
	struct lg_wire_request req = {
		.magic = LG_MAGIC, .workload = r->ctx.p.workload, .conns = o->conns,
		.threads = o->threads, .req_size = o->req_size, .resp_size = o->resp_size,
		.reverse = o->reverse, .duration_ns = o->duration_ns, .warmup_ns = o->warmup_ns,
		.timeout_ns = o->timeout_ns, .busy_poll = o->busy_poll, .pin = o->pin,
	};
	char buf[512];
	uint32_t len;
	int rc;

	rc = lg_parse_addr(o->server, o->port, &r->ctl_addr, &r->ctl_len);
	if (rc < 0)
		return fail_run(r, rc, "'%s' is not a numeric IPv4 or IPv6 address", o->server);
	lg_addr_text(&r->ctl_addr, r->where, sizeof(r->where));
	r->ctl = lg_connect(&r->ctl_addr, r->ctl_len, SOCK_STREAM, o->timeout_ns);
	if (r->ctl < 0)
		return fail_run(r, r->ctl, "cannot reach netprof serve at %s: %s", r->where,
				r->ctl == -ETIMEDOUT ? "no answer within the timeout" : strerror(-r->ctl));
	lg_set_nodelay(r->ctl);
	lg_wire_swap(&req, sizeof(req));
	rc = lg_msg_send(r->ctl, LG_MSG_REQUEST, &req, sizeof(req));
	if (rc < 0)
		return fail_run(r, rc, "sending the test request to %s: %s", r->where, strerror(-rc));
	rc = lg_msg_recv(r->ctl, buf, sizeof(buf), &len, o->timeout_ns);
	if (rc == LG_MSG_ERROR)
		return fail_run(r, -EPROTO, "the server at %s refused the test: %s", r->where, buf);
	if (rc != LG_MSG_ACCEPT || len != sizeof(struct lg_wire_accept))
		return fail_run(r, rc < 0 ? rc : -EPROTO, "no valid answer from %s: %s", r->where,
				rc == 0 ? "it closed the control connection" :
				rc < 0 ? strerror(-rc) : "unexpected message (is it netprof serve?)");
	lg_wire_swap(buf, sizeof(struct lg_wire_accept));
	*data_port = (uint16_t)((struct lg_wire_accept *)buf)->port;
	return 0;
}

static int open_data_connections(struct client_run *r, uint16_t port)
{
	struct lg_ctx *ctx = &r->ctx;
	int type = ctx->p.workload == LG_UDP ? SOCK_DGRAM : SOCK_STREAM;

	if (r->o->data_addr[0]) {
		/* A ClusterIP in front of the server: dial it, NAT or socket-LB
		 * takes the connection to the server's data port. */
		int rc = lg_parse_addr(r->o->data_addr, r->o->data_port ?: port, &ctx->data_addr,
				       &ctx->data_addr_len);

		if (rc < 0)
			return fail_run(r, rc, "data address '%s' is not a numeric address",
					r->o->data_addr);
		port = r->o->data_port ?: port;
	} else {
		ctx->data_addr = r->ctl_addr;
		ctx->data_addr_len = r->ctl_len;
		if (ctx->data_addr.ss_family == AF_INET)
			((struct sockaddr_in *)&ctx->data_addr)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&ctx->data_addr)->sin6_port = htons(port);
	}
	if (ctx->p.workload == LG_CRR)
		return 0;	/* the workers connect, once per transaction */
	for (uint32_t i = 0; i < ctx->p.conns; i++) {
		int fd = lg_connect(&ctx->data_addr, ctx->data_addr_len, type, r->o->timeout_ns);
		int rc;

		if (fd < 0)
			return fail_run(r, fd, "data connection %u of %u to port %u: %s", i + 1,
					ctx->p.conns, port, strerror(-fd));
		rc = lg_worker_add_conn(&ctx->workers[i % ctx->nworkers], fd);
		if (rc < 0) {
			close(fd);
			return fail_run(r, rc, "data connection: %s", strerror(-rc));
		}
	}
	return 0;
}

/* Waits for one control message; 0 when none came within timeout_ms. */
static int ctl_poll(struct client_run *r, int timeout_ms, char *buf, size_t size)
{
	struct pollfd pfd = { .fd = r->ctl, .events = POLLIN };
	uint32_t len;
	int n = poll(&pfd, 1, timeout_ms);

	if (n <= 0)
		return 0;
	n = lg_msg_recv(r->ctl, buf, (uint32_t)size, &len, r->o->timeout_ns);
	return n == 0 ? -ECONNRESET : n;
}

static void snapshot(struct client_run *r, int which)
{
	if (which == 0) {
		lg_counters_sum(&r->ctx, &r->c0);
		cpu_sample_take(&r->cpu0);
		r->t_measure0 = r->cpu0.wall_ns;
	} else {
		lg_counters_sum(&r->ctx, &r->c1);
		cpu_sample_take(&r->cpu1);
		r->t_measure1 = r->cpu1.wall_ns;
	}
	lg_conns_snapshot(&r->ctx, which);
}

static void progress_line(struct client_run *r, uint64_t now, uint64_t t_start,
			  const struct lg_counters *prev, const struct lg_counters *cur, double dt)
{
	const struct loadgen_opts *o = r->o;
	double total = (double)(o->warmup_ns + o->duration_ns) / 1e9;
	double gbps = (double)((cur->bytes_sent + cur->bytes_recv) -
			       (prev->bytes_sent + prev->bytes_recv)) * 8 / dt / 1e9;

	fprintf(stderr, "\r\033[K%s %s: %4.1f/%.1f s %s  %.2f Gbit/s  %.0f trans/s  %.0f pkt/s",
		lg_workload_name(o->workload), r->where, (double)(now - t_start) / 1e9, total,
		r->measured ? "measuring" : "warm-up  ", gbps,
		(double)(cur->transactions - prev->transactions) / dt,
		(double)(cur->packets_sent - prev->packets_sent) / dt);
	r->progress_shown = true;
}

static void add_interval(struct client_run *r, double end_s, const struct lg_counters *a,
			 const struct lg_counters *b, double dt)
{
	struct loadgen_result *res = r->res;
	struct lg_interval iv = { .end_s = end_s };
	struct lg_interval *n;
	uint64_t bytes = r->ctx.p.workload == LG_STREAM
			 ? (r->o->reverse ? b->bytes_recv - a->bytes_recv : b->bytes_sent - a->bytes_sent)
			 : (b->bytes_sent - a->bytes_sent) + (b->bytes_recv - a->bytes_recv);

	iv.gbps = (double)bytes * 8 / dt / 1e9;
	iv.tps = (double)(b->transactions - a->transactions) / dt;
	iv.pps = (double)(b->packets_sent - a->packets_sent) / dt;
	n = realloc(res->intervals, sizeof(*n) * (res->nintervals + 1));
	if (!n)
		return;
	res->intervals = n;
	res->intervals[res->nintervals++] = iv;
	if (r->o->on_interval)
		r->o->on_interval(r->o, iv.end_s, iv.gbps, iv.tps, iv.pps);
}

/* Warm-up, measured window, interval reports; stops early on a failure. */
static int run_window(struct client_run *r)
{
	const struct loadgen_opts *o = r->o;
	struct lg_ctx *ctx = &r->ctx;
	uint64_t t_start = lg_now_ns(), t_measure = t_start + o->warmup_ns, t_end;
	uint64_t next_interval = 0, next_progress = t_start + 250000000ULL;
	struct lg_counters iv_prev = { 0 }, pg_prev = { 0 }, cur;
	uint64_t iv_prev_t = 0, pg_prev_t = t_start;
	char buf[512];

	t_end = t_measure + o->duration_ns;
	for (;;) {
		uint64_t now = lg_now_ns(), wake = t_end;
		int rc;

		if (atomic_load(&ctx->failed)) {
			pthread_mutex_lock(&ctx->error_lock);
			fail_run(r, -EIO, "%s", ctx->error);
			pthread_mutex_unlock(&ctx->error_lock);
			break;
		}
		if (stop_requested())
			return fail_run(r, -EINTR, "interrupted");
		if (!r->measured && now >= t_measure) {
			rc = lg_msg_send(r->ctl, LG_MSG_MEASURE, NULL, 0);
			if (rc < 0)
				return fail_run(r, rc, "the control connection to %s failed: %s", r->where,
						strerror(-rc));
			snapshot(r, 0);
			atomic_store(&ctx->phase, LG_PHASE_MEASURE);
			r->measured = true;
			iv_prev = r->c0;
			iv_prev_t = r->t_measure0;
			next_interval = o->interval_ns ? r->t_measure0 + o->interval_ns : 0;
		}
		if (now >= t_end)
			break;
		if (next_interval && now >= next_interval) {
			lg_counters_sum(ctx, &cur);
			add_interval(r, (double)(now - r->t_measure0) / 1e9, &iv_prev, &cur,
				     (double)(now - iv_prev_t) / 1e9);
			iv_prev = cur;
			iv_prev_t = now;
			next_interval += o->interval_ns;
		}
		if (o->progress && now >= next_progress) {
			lg_counters_sum(ctx, &cur);
			progress_line(r, now, t_start, &pg_prev, &cur, (double)(now - pg_prev_t) / 1e9);
			pg_prev = cur;
			pg_prev_t = now;
			next_progress = now + 250000000ULL;
		}
		if (!r->measured)
			wake = t_measure;
		if (next_interval && next_interval < wake)
			wake = next_interval;
		if (o->progress && next_progress < wake)
			wake = next_progress;
		if (wake > now + 100000000ULL)
			wake = now + 100000000ULL;
		rc = ctl_poll(r, wake > now ? (int)((wake - now + 999999) / 1000000) : 0, buf, sizeof(buf));
		if (rc == LG_MSG_ERROR)
			return fail_run(r, -EIO, "the server reported: %s", buf);
		if (rc < 0 || rc > 0)
			return fail_run(r, rc < 0 ? rc : -EPROTO,
					"the server at %s closed the control connection mid-test%s%s",
					r->where, rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
	}
	return r->res->partial ? -EIO : 0;
}

static void fill_server(struct client_run *r, const char *buf, uint32_t len)
{
	struct loadgen_result *res = r->res;
	struct lg_wire_result w;
	struct lg_side_totals *s = &res->server;

	if (len < sizeof(w))
		return;
	memcpy(&w, buf, sizeof(w));
	lg_wire_swap(&w, sizeof(w));
	if (len < sizeof(w) + w.nconns * sizeof(struct lg_wire_conn))
		return;
	s->valid = true;
	lg_wire_get_totals(s, &w);
	/* Per-connection figures of the sender (download) or receiver (upload). */
	for (uint64_t i = 0; i < w.nconns; i++) {
		struct lg_wire_conn wc;

		memcpy(&wc, buf + sizeof(w) + i * sizeof(wc), sizeof(wc));
		lg_wire_swap(&wc, sizeof(wc));
		for (uint32_t k = 0; k < res->nstreams; k++) {
			struct lg_stream_stat *st = &res->streams[k];

			if (st->port != wc.peer_port)
				continue;
			if (r->o->reverse) {
				st->retransmits = wc.retransmits;
				st->rtt_us = (uint32_t)wc.rtt_us;
				st->cwnd = (uint32_t)wc.cwnd;
			} else {
				st->bytes = wc.win_bytes_recv;
			}
		}
	}
}

static void fill_client(struct client_run *r)
{
	struct loadgen_result *res = r->res;
	struct lg_ctx *ctx = &r->ctx;
	struct lg_side_totals *c = &res->client;
	struct lg_counters end;
	uint32_t k = 0;

	lg_counters_sum(ctx, &end);
	c->valid = true;
	lg_totals_from_counters(c, &end, r->measured ? &r->c0 : NULL, &r->c1);
	if (r->measured) {
		cpu_usage_between(&r->cpu0, &r->cpu1, &c->cpu);
		res->seconds = (double)(r->t_measure1 - r->t_measure0) / 1e9;
	}
	res->pinned = ctx->pinned;
	for (unsigned i = 0; i < ctx->nworkers; i++) {
		hist_merge(res->latency, ctx->workers[i].hist);
		hist_merge(res->connect_latency, ctx->workers[i].connect_hist);
	}
	if (ctx->p.workload != LG_STREAM)
		return;
	for (unsigned i = 0; i < ctx->nworkers; i++)
		res->nstreams += ctx->workers[i].nconns;
	res->streams = calloc(res->nstreams ? res->nstreams : 1, sizeof(*res->streams));
	if (!res->streams) {
		res->nstreams = 0;
		return;
	}
	for (unsigned i = 0; i < ctx->nworkers; i++) {
		for (unsigned j = 0; j < ctx->workers[i].nconns; j++) {
			struct lg_conn *cn = &ctx->workers[i].conns[j];
			struct lg_stream_stat *st = &res->streams[k++];

			st->port = cn->local_port;
			if (r->o->reverse) {
				st->bytes = cn->win_recv1 - cn->win_recv0;
			} else {
				st->retransmits = cn->retrans1 - cn->retrans0;
				st->rtt_us = cn->rtt_us;
				st->cwnd = cn->cwnd;
			}
		}
	}
}

static void compute_figures(struct client_run *r)
{
	struct loadgen_result *res = r->res;
	struct lg_side_totals *c = &res->client, *s = &res->server;
	double secs = res->seconds, ssecs = s->cpu.seconds > 0 ? s->cpu.seconds : secs;

	if (secs <= 0)
		return;
	if (r->ctx.p.workload == LG_STREAM) {
		/* What the receiver got, over the receiver's window. */
		if (r->o->reverse)
			res->gbps = (double)c->win_bytes_recv * 8 / secs / 1e9;
		else if (s->valid)
			res->gbps = (double)s->win_bytes_recv * 8 / ssecs / 1e9;
		else
			res->gbps = (double)c->win_bytes_sent * 8 / secs / 1e9;
		for (uint32_t i = 0; i < res->nstreams; i++)
			res->streams[i].gbps = (double)res->streams[i].bytes * 8 /
					       (r->o->reverse ? secs : ssecs) / 1e9;
	}
	res->tps = (double)c->win_transactions / secs;
	if (r->ctx.p.workload == LG_UDP) {
		res->pps_sent = (double)c->win_packets_sent / secs;
		if (s->valid) {
			res->pps_recv = (double)s->win_packets_recv / ssecs;
			if (c->packets_sent)
				res->loss_pct = 100.0 * (double)(c->packets_sent - (s->packets_recv < c->packets_sent ? s->packets_recv : c->packets_sent)) /
						(double)c->packets_sent;
		}
		res->gbps = (double)c->win_bytes_sent * 8 / secs / 1e9;
	}
	if (c->win_transactions) {
		res->client_us_per_tran = c->cpu.machine_busy * secs * 1e6 / (double)c->win_transactions;
		if (s->valid && s->win_transactions)
			res->server_us_per_tran = s->cpu.machine_busy * ssecs * 1e6 /
						  (double)s->win_transactions;
	}
	if (res->gbps > 0) {
		res->client_ms_per_gbit = c->cpu.machine_busy * 1e3 / res->gbps;
		if (s->valid)
			res->server_ms_per_gbit = s->cpu.machine_busy * 1e3 / res->gbps;
	}
}

static int run_one(const struct loadgen_opts *o, struct loadgen_result *res)
{
	struct client_run r = { .o = o, .res = res, .ctl = -1 };
	struct lg_ctx *ctx = &r.ctx;
	char *buf = NULL;
	uint16_t port = 0;
	uint32_t len;
	int rc, msg;

	pthread_mutex_init(&ctx->error_lock, NULL);
	ctx->listen_fd = -1;
	wire_params(o, &ctx->p);
	rc = lg_workers_alloc(ctx);
	if (rc < 0) {
		fail_run(&r, rc, "cannot allocate the workers: %s", strerror(-rc));
		goto out;
	}
	if ((rc = negotiate(&r, &port)) < 0 || (rc = open_data_connections(&r, port)) < 0)
		goto out;
	buf = malloc(LG_MAX_MSG + 1);
	if (!buf) {
		rc = fail_run(&r, -ENOMEM, "out of memory");
		goto out;
	}
	msg = lg_msg_recv(r.ctl, buf, LG_MAX_MSG + 1, &len, o->timeout_ns);
	if (msg != LG_MSG_READY) {
		rc = fail_run(&r, msg < 0 ? msg : -EPROTO, "the server at %s did not start the test: %s",
			      r.where, msg == LG_MSG_ERROR ? buf : msg < 0 ? strerror(-msg)
			      : msg == 0 ? "it closed the control connection" : "unexpected message");
		goto out;
	}
	atomic_store(&ctx->phase, LG_PHASE_WARMUP);
	rc = lg_workers_start(ctx);
	if (rc < 0) {
		fail_run(&r, rc, "cannot start the worker threads: %s", strerror(-rc));
		goto stop;
	}
	rc = run_window(&r);
	if (r.measured && !r.t_measure1)
		snapshot(&r, 1);	/* the window ends now, complete or not */
stop:
	if (r.progress_shown)
		fprintf(stderr, "\r\033[K");
	ctx->drain_deadline_ns = lg_now_ns() + o->timeout_ns;
	if (rc == 0) {
		/* Both sides end their halves; the counts then agree. */
		atomic_store(&ctx->phase, LG_PHASE_DRAIN);
		if (ctx->p.workload == LG_UDP) {
			lg_workers_join(ctx);
			usleep(20000);	/* datagrams still in flight */
		}
		if (lg_msg_send(r.ctl, LG_MSG_STOP, NULL, 0) < 0)
			fail_run(&r, -EIO, "the server at %s closed the control connection at the end",
				 r.where);
		lg_workers_join(ctx);
		if (atomic_load(&ctx->failed) && !res->partial)
			fail_run(&r, -EIO, "%s", ctx->error);
	} else {
		atomic_store(&ctx->phase, LG_PHASE_DONE);
		lg_workers_join(ctx);
		lg_conns_close_all(ctx);	/* so the server's drain ends at once */
		/* The server may still be there (a client-side failure or ^C):
		 * ask for its figures, briefly. */
		if (r.ctl >= 0)
			lg_msg_send(r.ctl, LG_MSG_STOP, NULL, 0);
	}
	fill_client(&r);
	if (r.ctl >= 0 && buf) {
		msg = lg_msg_recv(r.ctl, buf, LG_MAX_MSG + 1, &len,
				  rc == 0 ? o->timeout_ns + 1000000000ULL : 1000000000ULL);
		if (msg == LG_MSG_RESULT)
			fill_server(&r, buf, len);
		else if (rc == 0)
			rc = fail_run(&r, msg < 0 ? msg : -EPROTO, "no report from the server at %s: %s",
				      r.where, msg < 0 ? strerror(-msg) : msg == 0 ? "it closed the control connection"
				      : msg == LG_MSG_ERROR ? buf : "unexpected message");
	}
	compute_figures(&r);
out:
	if (res->partial && !rc)
		rc = -EIO;
	free(buf);
	lg_workers_free(ctx);
	if (r.ctl >= 0)
		close(r.ctl);
	pthread_mutex_destroy(&ctx->error_lock);
	return rc;
}

static int run_sweep(const struct loadgen_opts *o, struct loadgen_result *res)
{
	static const uint64_t sizes[] = { 1, 64, 4096, 256 * 1024 };
	const unsigned n = sizeof(sizes) / sizeof(sizes[0]);
	int rc = 0;

	res->sweep = calloc(n, sizeof(*res->sweep));
	if (!res->sweep)
		return -ENOMEM;
	for (unsigned i = 0; i < n && !rc; i++) {
		struct lg_sweep_point *pt = &res->sweep[res->nsweep++];
		struct loadgen_opts sub = *o;
		struct loadgen_result part;

		pt->size = sizes[i];
		sub.on_interval = NULL;
		sub.netns[0] = 0;	/* already inside it */
		sub.conns = 1;
		sub.threads = 1;
		/* Bandwidth: one stream of this message size ... */
		sub.workload = LG_STREAM;
		sub.req_size = sizes[i];
		sub.reverse = false;
		memset(&part, 0, sizeof(part));
		rc = loadgen_client_run(&sub, &part);
		pt->gbps = part.gbps;
		if (rc) {
			res->partial = pt->partial = true;
			snprintf(res->error, sizeof(res->error), "size %llu stream: %.200s",
				 (unsigned long long)sizes[i], part.error);
		}
		loadgen_result_free(&part);
		if (rc)
			break;
		/* ... latency: ping-pong with this size each way. */
		sub.workload = LG_PINGPONG;
		sub.req_size = sub.resp_size = sizes[i];
		memset(&part, 0, sizeof(part));
		rc = loadgen_client_run(&sub, &part);
		pt->rtt_mean_us = hist_mean(part.latency) / 1e3;
		pt->rtt_p50_us = (double)hist_percentile(part.latency, 50) / 1e3;
		pt->rtt_p99_us = (double)hist_percentile(part.latency, 99) / 1e3;
		res->client.errors[LG_ERR_TIMEOUT] += part.client.errors[LG_ERR_TIMEOUT];
		if (rc) {
			res->partial = pt->partial = true;
			snprintf(res->error, sizeof(res->error), "size %llu pingpong: %.200s",
				 (unsigned long long)sizes[i], part.error);
		}
		res->seconds += part.seconds;
		loadgen_result_free(&part);
	}
	return rc;
}

int loadgen_client_run(const struct loadgen_opts *o, struct loadgen_result *res)
{
	cpu_set_t before, side;
	bool moved = false;
	int saved = -1, rc;

	memset(res, 0, sizeof(*res));
	res->workload = o->workload;
	res->opts = *o;
	res->latency_from_intended = o->rate && o->workload != LG_UDP;
	res->latency = malloc(sizeof(*res->latency));
	res->connect_latency = malloc(sizeof(*res->connect_latency));
	if (!res->latency || !res->connect_latency) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		res->partial = true;
		return -ENOMEM;
	}
	hist_reset(res->latency);
	hist_reset(res->connect_latency);
	errno = 0;
	if (o->cpus[0]) {
		/* Workers inherit this thread's CPUs, and place themselves
		 * within them: the whole side stays there. */
		if (cpulist_parse(o->cpus, &side) || sched_getaffinity(0, sizeof(before), &before) ||
		    sched_setaffinity(0, sizeof(side), &side)) {
			snprintf(res->error, sizeof(res->error), "cannot run the client on CPUs %s: %s",
				 o->cpus, errno ? strerror(errno) : "not a CPU list");
			res->partial = true;
			return -EINVAL;
		}
		moved = true;
	}
	if (o->netns[0]) {
		saved = netns_enter(o->netns);
		if (saved < 0) {
			snprintf(res->error, sizeof(res->error), "cannot enter network namespace %s: %s",
				 o->netns, strerror(-saved));
			res->partial = true;
			if (moved)
				sched_setaffinity(0, sizeof(before), &before);
			return saved;
		}
	}
	rc = o->workload == LG_SWEEP ? run_sweep(o, res) : run_one(o, res);
	if (saved >= 0)
		netns_leave(saved);
	if (moved)
		sched_setaffinity(0, sizeof(before), &before);
	return rc;
}

void loadgen_result_free(struct loadgen_result *res)
{
	free(res->latency);
	free(res->connect_latency);
	free(res->streams);
	free(res->sweep);
	free(res->intervals);
	res->latency = res->connect_latency = NULL;
	res->streams = NULL;
	res->sweep = NULL;
	res->intervals = NULL;
}
