/* stream and push: one side writes messages as fast as the connection takes
 * them, the other reads and counts. Both sides run this loop. */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "loadgen/loadgen_internal.h"

/* Sends or receives on one ready connection at most this many times before
 * looking at the others, so a fast connection cannot starve the rest. */
#define STREAM_BURST 16

static void set_events(struct lg_worker *w, struct lg_conn *c, uint32_t events, unsigned idx)
{
	struct epoll_event ev = { .events = events, .data.u32 = idx };

	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* End of stream from the peer: normal once this side drains (or, on the
 * server, whenever the client chose to end); otherwise the peer died. */
static void stream_eof(struct lg_worker *w, struct lg_conn *c, unsigned *open)
{
	struct lg_ctx *ctx = w->ctx;

	if (!ctx->server && lg_phase(ctx) < LG_PHASE_DRAIN)
		lg_conn_error(w, c, LG_ERR_READ, 0, "closed by the server mid-test");
	else
		lg_conn_close(w, c);
	(*open)--;
}

/*
 * A worker with one connection waits in send() or recv() itself, as netperf
 * does: the sender sleeps inside the kernel until the socket buffer has room
 * and goes on copying, without a round trip through epoll. SO_SNDTIMEO and
 * SO_RCVTIMEO bound every wait, so phase changes and deadlines are still seen.
 */
static void stream_single(struct lg_worker *w)
{
	struct lg_ctx *ctx = w->ctx;
	struct lg_conn *c = &w->conns[0];
	struct timeval tv = { 0, LG_POLL_MS * 1000 };
	bool sender = lg_stream_sender(ctx), draining = false, moved = false;
	size_t msg = ctx->p.req_size;
	unsigned open = 1, iterations = 0;
	int fl = fcntl(c->fd, F_GETFL);

	if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		lg_conn_error(w, c, LG_ERR_READ, errno, "socket options");
		return;
	}
	w->last_progress_ns = lg_now_ns();
	while (open && !c->closed) {
		int phase = lg_phase(ctx);
		bool timed_out = false;
		ssize_t r;

		if (phase == LG_PHASE_DONE)
			break;
		if (phase == LG_PHASE_DRAIN && !draining) {
			draining = true;
			if (sender) {
				shutdown(c->fd, SHUT_WR);
				c->wr_shut = true;
			}
		}
		if (sender && !c->wr_shut) {
			r = send(c->fd, w->buf, msg, MSG_NOSIGNAL);
			if (r > 0) {
				LG_ADD(c->bytes_sent, (uint64_t)r);
				LG_ADD(w->c.bytes_sent, (uint64_t)r);
				moved = true;
			} else if (errno == EAGAIN || errno == EINTR) {
				timed_out = true;
			} else {
				lg_conn_error(w, c, LG_ERR_WRITE, errno, "send");
				return;
			}
		} else {
			r = lg_conn_recv(w, c, 0);
			if (r > 0) {
				moved = true;
			} else if (r == 0) {
				stream_eof(w, c, &open);
				return;
			} else if (errno == EAGAIN || errno == EINTR) {
				timed_out = true;
			} else {
				lg_conn_error(w, c, LG_ERR_READ, errno, "recv");
				return;
			}
		}
		if (!timed_out && ++iterations % 1024)
			continue;
		{
			uint64_t now = lg_now_ns();

			if (moved)
				w->last_progress_ns = now;
			moved = false;
			if (draining && now > ctx->drain_deadline_ns) {
				LG_ADD(w->c.errors[LG_ERR_TIMEOUT], 1);
				lg_fail(ctx, "%s: the peer did not end its data connection within the timeout",
					ctx->server ? "server" : "client");
				return;
			}
			if (!draining && now - w->last_progress_ns > ctx->p.timeout_ns) {
				LG_ADD(w->c.errors[LG_ERR_TIMEOUT], 1);
				lg_fail(ctx, "no data moved on the connection for %.1f s",
					(double)ctx->p.timeout_ns / 1e9);
				return;
			}
		}
	}
}

void lg_loop_stream(struct lg_worker *w)
{
	struct lg_ctx *ctx = w->ctx;
	struct epoll_event evs[LG_EPOLL_EVENTS];
	bool sender = lg_stream_sender(ctx), draining = false;
	size_t msg = ctx->p.req_size;
	int poll_ms = ctx->p.busy_poll ? 0 : LG_POLL_MS;
	unsigned open = w->nconns;

	if (w->nconns == 1 && !ctx->p.busy_poll) {
		stream_single(w);
		return;
	}
	if (sender)
		for (unsigned i = 0; i < w->nconns; i++)
			set_events(w, &w->conns[i], EPOLLOUT, i);
	w->last_progress_ns = lg_now_ns();
	while (open > 0) {
		int phase = lg_phase(ctx), n;

		if (phase == LG_PHASE_DONE)
			break;
		if (phase == LG_PHASE_DRAIN && !draining) {
			draining = true;
			/* The sender ends its half; the receiver reads to the end
			 * of stream and closes, which ends the sender's wait. */
			for (unsigned i = 0; sender && i < w->nconns; i++) {
				struct lg_conn *c = &w->conns[i];

				if (c->closed)
					continue;
				shutdown(c->fd, SHUT_WR);
				c->wr_shut = true;
				set_events(w, c, EPOLLIN, i);
			}
		}
		n = epoll_wait(w->epfd, evs, LG_EPOLL_EVENTS, poll_ms);
		if (n <= 0) {
			uint64_t now = lg_now_ns();

			if (draining && now > ctx->drain_deadline_ns) {
				lg_fail(ctx, "%s: the peer did not end its data connections within the timeout",
					ctx->server ? "server" : "client");
				LG_ADD(w->c.errors[LG_ERR_TIMEOUT], 1);
				break;
			}
			if (!draining && now - w->last_progress_ns > ctx->p.timeout_ns) {
				LG_ADD(w->c.errors[LG_ERR_TIMEOUT], 1);
				lg_fail(ctx, "no data moved on %u connection(s) for %.1f s", open,
					(double)ctx->p.timeout_ns / 1e9);
				break;
			}
			continue;
		}
		w->last_progress_ns = lg_now_ns();
		for (int e = 0; e < n; e++) {
			struct lg_conn *c = &w->conns[evs[e].data.u32];

			if (c->closed)
				continue;
			if (sender && !c->wr_shut) {
				for (int k = 0; k < STREAM_BURST; k++) {
					ssize_t r = send(c->fd, w->buf, msg, MSG_DONTWAIT | MSG_NOSIGNAL);

					if (r > 0) {
						LG_ADD(c->bytes_sent, (uint64_t)r);
						LG_ADD(w->c.bytes_sent, (uint64_t)r);
						if ((size_t)r < msg)
							break;	/* the send buffer is full */
						continue;
					}
					if (r < 0 && (errno == EAGAIN || errno == EINTR))
						break;
					lg_conn_error(w, c, LG_ERR_WRITE, errno, "send");
					open--;
					break;
				}
				continue;
			}
			for (int k = 0; k < STREAM_BURST; k++) {
				ssize_t r = lg_conn_recv(w, c, MSG_DONTWAIT);

				if (r > 0) {
					if ((size_t)r < w->buflen)
						break;	/* drained: no EAGAIN round trip */
					continue;
				}
				if (r == 0) {
					stream_eof(w, c, &open);
				} else if (errno != EAGAIN && errno != EINTR) {
					lg_conn_error(w, c, LG_ERR_READ, errno, "recv");
					open--;
				}
				break;
			}
		}
	}
}
