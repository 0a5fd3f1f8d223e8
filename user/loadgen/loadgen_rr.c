/* Request/response: rr, pingpong and http on persistent connections, and crr
 * (a new connection per transaction). Both sides run these loops.
 *
 * Requests and responses are counted in bytes, so one recv() may complete
 * several transactions and no per-message buffer is needed. In open loop
 * (--rate) requests leave on a schedule whether or not the previous answer
 * came back, and latency runs from the scheduled time: a stalled server shows
 * up in the percentiles instead of slowing the schedule down (the
 * coordinated-omission correction). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "loadgen/loadgen_internal.h"

#define RR_BURST 8

static void arm_out(struct lg_worker *w, struct lg_conn *c, unsigned idx, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = idx };

	if (c->out_armed == on)
		return;
	c->out_armed = on;
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is queued; false when the connection failed. */
static bool flush(struct lg_worker *w, struct lg_conn *c, unsigned idx)
{
	while (c->to_send) {
		const char *src = w->buf;
		size_t len = c->to_send < w->buflen ? c->to_send : w->buflen;
		ssize_t r;

		if (w->tx_template) {
			size_t pos = c->send_pos % w->tx_template_len;

			src = w->tx_template + pos;
			if (len > w->tx_template_len - pos)
				len = w->tx_template_len - pos;
		}
		r = send(c->fd, src, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r > 0) {
			c->to_send -= (uint64_t)r;
			c->send_pos += (uint64_t)r;
			LG_ADD(c->bytes_sent, (uint64_t)r);
			LG_ADD(w->c.bytes_sent, (uint64_t)r);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			arm_out(w, c, idx, true);
			return true;
		}
		lg_conn_error(w, c, LG_ERR_WRITE, errno, "send");
		return false;
	}
	arm_out(w, c, idx, false);
	return true;
}

static void enqueue_request(struct lg_worker *w, struct lg_conn *c, uint64_t start)
{
	c->started[(c->head + c->inflight) % LG_RING] = start;
	c->inflight++;
	c->to_send += w->tx_template ? w->tx_template_len : w->ctx->p.req_size;
}

static void complete_transaction(struct lg_worker *w, struct lg_conn *c, uint64_t now,
				 bool measuring)
{
	uint64_t start = c->started[c->head];

	c->head = (c->head + 1) % LG_RING;
	c->inflight--;
	LG_ADD(w->c.transactions, 1);
	if (measuring)
		hist_record(w->hist, now > start ? now - start : 0);
}

/*
 * HTTP response headers: collects them up to the blank line and returns the
 * body length, or -1 when they are not HTTP/1.x with a Content-Length.
 * Sets *status_ok for a 2xx status.
 */
static long long parse_http_head(const char *hdr, bool *status_ok)
{
	const char *p;
	int status;

	if (sscanf(hdr, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	*status_ok = status >= 200 && status < 300;
	for (p = strchr(hdr, '\n'); p; p = strchr(p, '\n')) {
		p++;
		if (!strncasecmp(p, "content-length:", 15))
			return strtoll(p + 15, NULL, 10);
	}
	return -1;
}

/* Client: consumes n received bytes of responses. False on a fatal error. */
static bool client_consume(struct lg_worker *w, struct lg_conn *c, const char *p, size_t n,
			   uint64_t now, bool measuring)
{
	bool closed_loop = !w->ctx->p.rate;
	bool http = w->tx_template != NULL;

	while (n) {
		if (!c->inflight) {
			lg_conn_error(w, c, LG_ERR_PARSE, 0, "data arrived with no request in flight");
			return false;
		}
		if (http && !c->resp_left) {
			/* Inside the headers of the next response. */
			bool ok = false, done = false;
			long long body;

			while (n && !done) {
				char ch = *p++;

				n--;
				if (c->hdr_len < sizeof(c->hdr) - 1)
					c->hdr[c->hdr_len++] = ch;
				c->crlf_state = (ch == (c->crlf_state % 2 ? '\n' : '\r'))
						? c->crlf_state + 1 : (ch == '\r');
				done = c->crlf_state == 4;
			}
			if (!done)
				break;
			c->hdr[c->hdr_len] = 0;
			c->hdr_len = 0;
			c->crlf_state = 0;
			body = parse_http_head(c->hdr, &ok);
			if (body < 0) {
				lg_conn_error(w, c, LG_ERR_PARSE, 0,
					      "a response that is not HTTP/1.x with Content-Length");
				return false;
			}
			if (!ok)
				LG_ADD(w->c.errors[LG_ERR_STATUS], 1);
			c->resp_left = (uint64_t)body;
			if (body > 0)
				continue;
		} else {
			size_t take = n < c->resp_left ? n : c->resp_left;

			c->resp_left -= take;
			p += take;
			n -= take;
			if (c->resp_left)
				break;
		}
		complete_transaction(w, c, now, measuring);
		if (!http)
			c->resp_left = w->ctx->p.resp_size;
		/* crr sends one request per connection */
		if (closed_loop && w->ctx->p.workload != LG_CRR && lg_phase(w->ctx) < LG_PHASE_DRAIN)
			enqueue_request(w, c, now);
	}
	return true;
}

/* Server: consumes n received bytes of requests and queues the answers. */
static void server_consume(struct lg_worker *w, struct lg_conn *c, const char *p, size_t n)
{
	if (w->tx_template) {
		for (size_t i = 0; i < n; i++) {
			char ch = p[i];

			c->crlf_state = (ch == (c->crlf_state % 2 ? '\n' : '\r')) ? c->crlf_state + 1
										 : (ch == '\r');
			if (c->crlf_state == 4) {
				c->crlf_state = 0;
				c->to_send += w->tx_template_len;
				LG_ADD(w->c.transactions, 1);
			}
		}
		return;
	}
	while (n) {
		size_t take = n < c->req_left ? n : c->req_left;

		c->req_left -= take;
		n -= take;
		if (!c->req_left) {
			c->req_left = w->ctx->p.req_size;
			c->to_send += w->ctx->p.resp_size;
			LG_ADD(w->c.transactions, 1);
		}
	}
}

/* Bytes just received into w->buf: requests on the server, responses on the
 * client; false when the client closed the connection over them. */
static bool rr_consume(struct lg_worker *w, struct lg_conn *c, size_t n, bool measuring)
{
	if (w->ctx->server) {
		server_consume(w, c, w->buf, n);
		return true;
	}
	return client_consume(w, c, w->buf, n, lg_now_ns(), measuring);
}

/* End of stream: the server's answer to the client's shutdown, or any end
 * the client chose; before the client shut down, the server died. */
static void rr_eof(struct lg_worker *w, struct lg_conn *c)
{
	if (!w->ctx->server && !c->wr_shut)
		lg_conn_error(w, c, LG_ERR_READ, 0, "closed by the server mid-test");
	else
		lg_conn_close(w, c);
}

/* Reads what is there; false when the connection is gone. */
static bool rr_read(struct lg_worker *w, struct lg_conn *c, unsigned idx, unsigned *open)
{
	struct lg_ctx *ctx = w->ctx;

	for (int k = 0; k < RR_BURST; k++) {
		ssize_t r = lg_conn_recv(w, c, MSG_DONTWAIT);

		if (r > 0) {
			if (!rr_consume(w, c, (size_t)r, lg_phase(ctx) == LG_PHASE_MEASURE)) {
				(*open)--;
				return false;
			}
			if ((size_t)r < w->buflen)
				break;
			continue;
		}
		if (r == 0) {
			rr_eof(w, c);
			(*open)--;
			return false;
		}
		if (errno == EAGAIN || errno == EINTR)
			break;
		lg_conn_error(w, c, LG_ERR_READ, errno, "recv");
		(*open)--;
		return false;
	}
	if (c->to_send && !flush(w, c, idx)) {
		(*open)--;
		return false;
	}
	return true;
}

static int epoll_wait_ns(int epfd, struct epoll_event *evs, int max, int64_t timeout_ns)
{
	struct timespec ts;

	if (timeout_ns < 0)
		timeout_ns = 0;
	ts.tv_sec = timeout_ns / 1000000000LL;
	ts.tv_nsec = timeout_ns % 1000000000LL;
	return epoll_pwait2(epfd, evs, max, &ts, NULL);
}

/*
 * A worker with one connection has nothing to multiplex, so it waits in
 * recv() itself, as sockperf does with one socket: two system calls per
 * transaction instead of three. SO_RCVTIMEO bounds every wait, so the loop
 * still sees phase changes and deadlines as the epoll loop does.
 */
static void rr_single(struct lg_worker *w, unsigned *open)
{
	struct lg_ctx *ctx = w->ctx;
	struct lg_conn *c = &w->conns[0];
	struct timeval tv = { 0, LG_POLL_MS * 1000 };
	unsigned iterations = 0;
	int fl = fcntl(c->fd, F_GETFL);

	if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		lg_conn_error(w, c, LG_ERR_READ, errno, "socket options");
		(*open)--;
		return;
	}
	while (*open) {
		int phase = lg_phase(ctx);
		bool timed_out = false;
		ssize_t r;

		if (phase == LG_PHASE_DONE)
			break;
		if (!ctx->server && phase == LG_PHASE_DRAIN && !c->wr_shut && !c->inflight &&
		    !c->to_send) {
			shutdown(c->fd, SHUT_WR);
			c->wr_shut = true;
		}
		if (c->to_send) {
			/* A message bigger than the socket buffer: finish it first. */
			struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };

			if (poll(&pfd, 1, LG_POLL_MS) > 0 && !flush(w, c, 0)) {
				(*open)--;
				return;
			}
			timed_out = c->to_send != 0;
		} else {
			r = lg_conn_recv(w, c, 0);
			if (r > 0) {
				if (!rr_consume(w, c, (size_t)r, phase == LG_PHASE_MEASURE)) {
					(*open)--;
					return;
				}
				if (c->to_send && !flush(w, c, 0)) {
					(*open)--;
					return;
				}
			} else if (r == 0) {
				rr_eof(w, c);
				(*open)--;
				return;
			} else if (errno == EAGAIN || errno == EINTR) {
				timed_out = true;
			} else {
				lg_conn_error(w, c, LG_ERR_READ, errno, "recv");
				(*open)--;
				return;
			}
		}
		if (!timed_out && ++iterations % 1024)
			continue;
		{
			uint64_t now = lg_now_ns();

			if (phase == LG_PHASE_DRAIN && now > ctx->drain_deadline_ns) {
				LG_ADD(w->c.errors[LG_ERR_TIMEOUT], 1);
				lg_fail(ctx, "%s: the connection did not finish within the timeout",
					ctx->server ? "server" : "client");
				return;
			}
			if (!ctx->server && c->inflight && now > c->started[c->head] &&
			    now - c->started[c->head] > ctx->p.timeout_ns) {
				lg_conn_error(w, c, LG_ERR_TIMEOUT, 0, "no response within the timeout");
				(*open)--;
				return;
			}
		}
	}
}

void lg_loop_rr(struct lg_worker *w)
{
	struct lg_ctx *ctx = w->ctx;
	struct epoll_event evs[LG_EPOLL_EVENTS];
	uint64_t now = lg_now_ns(), period = 0, last_check = now;
	unsigned open = w->nconns, total_conns = ctx->p.conns ? ctx->p.conns : 1;
	bool draining = false;

	if (!ctx->server && ctx->p.rate) {
		/* Each connection gets an equal share of the rate, its schedule
		 * offset so that the connections do not fire together. */
		period = 1000000000ULL * total_conns / ctx->p.rate;
		if (!period)
			period = 1;
	}
	for (unsigned i = 0; i < w->nconns; i++) {
		struct lg_conn *c = &w->conns[i];

		c->req_left = ctx->p.req_size;
		c->resp_left = w->tx_template ? 0 : ctx->p.resp_size;
		if (ctx->server)
			continue;
		lg_set_nodelay(c->fd);
		if (period) {
			c->next_due = now + period * (w->id + i * ctx->nworkers) / total_conns;
		} else {
			enqueue_request(w, c, now);
			if (!flush(w, c, i))
				open--;
		}
	}
	if (ctx->server)
		for (unsigned i = 0; i < w->nconns; i++)
			lg_set_nodelay(w->conns[i].fd);
	if (w->nconns == 1 && open == 1 && !period && !ctx->p.busy_poll) {
		rr_single(w, &open);
		return;
	}

	while (open > 0) {
		int phase = lg_phase(ctx), n;
		int64_t timeout = ctx->p.busy_poll ? 0 : LG_POLL_MS * 1000000LL;

		if (phase == LG_PHASE_DONE)
			break;
		draining = phase == LG_PHASE_DRAIN;
		now = lg_now_ns();
		if (!ctx->server) {
			for (unsigned i = 0; i < w->nconns; i++) {
				struct lg_conn *c = &w->conns[i];

				if (c->closed)
					continue;
				if (period && !draining) {
					while (c->next_due <= now && c->inflight < LG_RING) {
						enqueue_request(w, c, c->next_due);
						c->next_due += period;
					}
					if (c->inflight < LG_RING && (int64_t)(c->next_due - now) < timeout)
						timeout = (int64_t)(c->next_due - now);
					if (c->to_send && !c->out_armed && !flush(w, c, i)) {
						open--;
						continue;
					}
				}
				/* Every answer in, so this side ends its half; the
				 * server then closes, which ends the connection. */
				if (draining && !c->wr_shut && !c->inflight && !c->to_send) {
					shutdown(c->fd, SHUT_WR);
					c->wr_shut = true;
				}
			}
		}
		n = epoll_wait_ns(w->epfd, evs, LG_EPOLL_EVENTS, timeout);
		for (int e = 0; e < n; e++) {
			unsigned idx = evs[e].data.u32;
			struct lg_conn *c = &w->conns[idx];

			if (c->closed)
				continue;
			if ((evs[e].events & EPOLLOUT) && !flush(w, c, idx)) {
				open--;
				continue;
			}
			if (evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				rr_read(w, c, idx, &open);
		}
		now = lg_now_ns();
		if (now - last_check < 50000000ULL)
			continue;
		last_check = now;
		if (draining && now > ctx->drain_deadline_ns) {
			LG_ADD(w->c.errors[LG_ERR_TIMEOUT], 1);
			lg_fail(ctx, "%s: %u connection(s) did not finish within the timeout",
				ctx->server ? "server" : "client", open);
			break;
		}
		for (unsigned i = 0; !ctx->server && i < w->nconns; i++) {
			struct lg_conn *c = &w->conns[i];

			if (!c->closed && c->inflight && now - c->started[c->head] > ctx->p.timeout_ns &&
			    now > c->started[c->head]) {
				lg_conn_error(w, c, LG_ERR_TIMEOUT, 0, "no response within the timeout");
				open--;
			}
		}
	}
}

/* ---- crr ---------------------------------------------------------------- */

#define LISTEN_TAG UINT32_MAX

static bool crr_connect(struct lg_worker *w, struct lg_conn *c, unsigned idx)
{
	struct lg_ctx *ctx = w->ctx;
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = idx };
	int fd = socket(ctx->data_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	c->closed = true;
	if (fd < 0) {
		LG_ADD(w->c.errors[LG_ERR_CONNECT], 1);
		lg_fail(ctx, "socket: %s", strerror(errno));
		return false;
	}
	c->fd = fd;
	c->connect_start = lg_now_ns();
	if (connect(fd, (struct sockaddr *)&ctx->data_addr, ctx->data_addr_len) < 0 &&
	    errno != EINPROGRESS) {
		LG_ADD(w->c.errors[LG_ERR_CONNECT], 1);
		lg_fail(ctx, "connect to the server's data port: %s", strerror(errno));
		close(fd);
		return false;
	}
	lg_set_nodelay(fd);
	c->closed = false;
	c->connecting = true;
	c->out_armed = true;
	c->wr_shut = false;
	c->inflight = 0;
	c->head = 0;
	c->to_send = 0;
	c->resp_left = ctx->p.resp_size;
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
	return true;
}

static void crr_client_event(struct lg_worker *w, struct lg_conn *c, unsigned idx,
			     uint32_t events, unsigned *open)
{
	struct lg_ctx *ctx = w->ctx;
	bool measuring = lg_phase(ctx) == LG_PHASE_MEASURE;

	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		uint64_t now = lg_now_ns();

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & EPOLLERR)) {
			lg_conn_error(w, c, LG_ERR_CONNECT, err, "connect");
			(*open)--;
			return;
		}
		c->connecting = false;
		LG_ADD(w->c.connects, 1);
		if (measuring)
			hist_record(w->connect_hist, now - c->connect_start);
		enqueue_request(w, c, c->connect_start);
		c->out_armed = true;	/* flush() turns EPOLLOUT off */
		if (!flush(w, c, idx))
			(*open)--;
		return;
	}
	if ((events & EPOLLOUT) && !flush(w, c, idx)) {
		(*open)--;
		return;
	}
	for (;;) {
		ssize_t r = lg_conn_recv(w, c, MSG_DONTWAIT);

		if (r > 0) {
			if (c->inflight && !client_consume(w, c, w->buf, (size_t)r, lg_now_ns(), measuring)) {
				(*open)--;
				return;
			}
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r < 0 || c->inflight) {
			lg_conn_error(w, c, LG_ERR_READ, r < 0 ? errno : 0,
				      "closed by the server before the response");
			(*open)--;
			return;
		}
		/* The server closes after its answer: the transaction is over. */
		lg_conn_close(w, c);
		if (lg_phase(ctx) >= LG_PHASE_DRAIN || !crr_connect(w, c, idx))
			(*open)--;
		return;
	}
}

static void crr_server_accept(struct lg_worker *w)
{
	struct lg_ctx *ctx = w->ctx;

	for (int k = 0; k < RR_BURST; k++) {
		int fd = accept4(ctx->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned idx;

		if (fd < 0)
			return;
		/* Reuse a closed slot; the array only grows with concurrency. */
		for (idx = 0; idx < w->nconns && !w->conns[idx].closed; idx++)
			;
		if (idx == w->nconns) {
			if (lg_worker_add_conn(w, fd) < 0) {
				close(fd);
				return;
			}
		} else {
			struct lg_conn *c = &w->conns[idx];
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = idx };

			memset(c, 0, sizeof(*c));
			c->fd = fd;
			epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
		}
		lg_set_nodelay(fd);
		w->conns[idx].req_left = ctx->p.req_size;
		LG_ADD(w->c.connects, 1);
	}
}

static void crr_server_event(struct lg_worker *w, struct lg_conn *c, unsigned idx,
			     uint32_t events)
{
	if ((events & EPOLLOUT) && !flush(w, c, idx))
		return;
	for (;;) {
		ssize_t r = lg_conn_recv(w, c, MSG_DONTWAIT);

		if (r > 0) {
			server_consume(w, c, w->buf, (size_t)r);
			if (!flush(w, c, idx))
				return;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		lg_conn_close(w, c);	/* the client went away */
		return;
	}
	/* Answered in full: close, as an HTTP/1.0 server would, so the
	 * TIME_WAIT state stays here and the client's ports stay free. */
	if (!c->to_send && c->req_left == w->ctx->p.req_size &&
	    LG_LOAD(c->bytes_sent) > 0)
		lg_conn_close(w, c);
}

void lg_loop_crr(struct lg_worker *w)
{
	struct lg_ctx *ctx = w->ctx;
	struct epoll_event evs[LG_EPOLL_EVENTS];
	int poll_ms = ctx->p.busy_poll ? 0 : LG_POLL_MS;
	unsigned open = 0;

	if (ctx->server) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = LISTEN_TAG };

		epoll_ctl(w->epfd, EPOLL_CTL_ADD, ctx->listen_fd, &ev);
	} else {
		/* This worker's share of the concurrent connections. */
		unsigned share = ctx->p.conns / ctx->nworkers +
				 (w->id < ctx->p.conns % ctx->nworkers);

		w->conns = calloc(share ? share : 1, sizeof(*w->conns));
		if (!w->conns) {
			lg_fail(ctx, "out of memory");
			return;
		}
		w->nconns = w->conns_cap = share;
		for (unsigned i = 0; i < share; i++) {
			w->conns[i].fd = -1;
			if (!crr_connect(w, &w->conns[i], i))
				return;
			open++;
		}
	}
	for (;;) {
		int phase = lg_phase(ctx), n;
		uint64_t now;

		if (phase == LG_PHASE_DONE || (!ctx->server && !open))
			break;
		if (ctx->server && phase == LG_PHASE_DRAIN) {
			bool any = false;

			for (unsigned i = 0; i < w->nconns && !any; i++)
				any = !w->conns[i].closed;
			if (!any)
				break;
		}
		n = epoll_wait(w->epfd, evs, LG_EPOLL_EVENTS, poll_ms);
		for (int e = 0; e < n; e++) {
			unsigned idx = evs[e].data.u32;

			if (idx == LISTEN_TAG) {
				crr_server_accept(w);
				continue;
			}
			if (w->conns[idx].closed)
				continue;
			if (ctx->server)
				crr_server_event(w, &w->conns[idx], idx, evs[e].events);
			else
				crr_client_event(w, &w->conns[idx], idx, evs[e].events, &open);
		}
		now = lg_now_ns();
		if (phase == LG_PHASE_DRAIN && now > ctx->drain_deadline_ns) {
			LG_ADD(w->c.errors[LG_ERR_TIMEOUT], 1);
			lg_fail(ctx, "%s: connections did not finish within the timeout",
				ctx->server ? "server" : "client");
			break;
		}
		for (unsigned i = 0; !ctx->server && i < w->nconns; i++) {
			struct lg_conn *c = &w->conns[i];

			if (!c->closed && now > c->connect_start &&
			    now - c->connect_start > ctx->p.timeout_ns) {
				lg_conn_error(w, c, c->connecting ? LG_ERR_CONNECT : LG_ERR_TIMEOUT, 0,
					      c->connecting ? "connect timed out"
							    : "no response within the timeout");
				open--;
			}
		}
	}
	if (ctx->server)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, ctx->listen_fd, NULL);
}
