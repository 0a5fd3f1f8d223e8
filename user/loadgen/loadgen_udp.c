/* udp: the client sends small datagrams on connected sockets, as fast as
 * they go or at --rate; the server counts what arrives. Batched with
 * sendmmsg/recvmmsg, which is what makes a small-packet rate test measure
 * the path rather than the system-call cost. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "loadgen/loadgen_internal.h"

#define UDP_BATCH 32

void lg_loop_udp(struct lg_worker *w)
{
	struct lg_ctx *ctx = w->ctx;
	struct epoll_event evs[LG_EPOLL_EVENTS];
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	size_t size = ctx->p.req_size;
	uint64_t start = lg_now_ns(), sent = 0;
	/* this worker's share of the rate, packets per second */
	uint64_t rate = ctx->p.rate ? (ctx->p.rate * w->nconns + ctx->p.conns - 1) / ctx->p.conns : 0;

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < UDP_BATCH; i++) {
		/* Receives land in slices of the buffer; sends share one payload. */
		iov[i].iov_base = ctx->server ? w->buf + (size_t)i * 2048 : w->buf;
		iov[i].iov_len = ctx->server ? 2048 : size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	if (!ctx->server)
		for (unsigned i = 0; i < w->nconns; i++) {
			struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = i };

			epoll_ctl(w->epfd, EPOLL_CTL_MOD, w->conns[i].fd, &ev);
		}
	for (;;) {
		int phase = lg_phase(ctx);
		int n;

		if (phase == LG_PHASE_DONE || (!ctx->server && phase == LG_PHASE_DRAIN))
			break;
		if (ctx->server && phase == LG_PHASE_DRAIN) {
			/* The client stopped sending before STOP: take what is queued. */
			for (unsigned i = 0; i < w->nconns; i++) {
				int r;

				while ((r = recvmmsg(w->conns[i].fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL)) > 0)
					for (int k = 0; k < r; k++) {
						LG_ADD(w->c.packets_recv, 1);
						LG_ADD(w->c.bytes_recv, msgs[k].msg_len);
					}
			}
			break;
		}
		if (!ctx->server && rate) {
			uint64_t now = lg_now_ns();
			uint64_t due = (now - start) * rate / 1000000000ULL;

			if (due <= sent) {
				/* Sleep until the next packet is due (at most a poll period). */
				uint64_t wait = (sent + 1) * 1000000000ULL / rate - (now - start);
				struct timespec ts = { 0, (long)(wait < 50000000ULL ? wait : 50000000ULL) };

				nanosleep(&ts, NULL);
				continue;
			}
		}
		n = epoll_wait(w->epfd, evs, LG_EPOLL_EVENTS, ctx->p.busy_poll ? 0 : LG_POLL_MS);
		for (int e = 0; e < n; e++) {
			struct lg_conn *c = &w->conns[evs[e].data.u32];
			int r;

			if (c->closed)
				continue;
			if (ctx->server) {
				r = recvmmsg(c->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
				for (int k = 0; k < r; k++) {
					LG_ADD(w->c.packets_recv, 1);
					LG_ADD(w->c.bytes_recv, msgs[k].msg_len);
				}
				continue;
			}
			{
				unsigned batch = UDP_BATCH;

				if (rate) {
					uint64_t due = (lg_now_ns() - start) * rate / 1000000000ULL;

					batch = due - sent < UDP_BATCH ? (unsigned)(due - sent) : UDP_BATCH;
					if (!batch)
						continue;
				}
				r = sendmmsg(c->fd, msgs, batch, MSG_DONTWAIT);
			}
			if (r > 0) {
				sent += (uint64_t)r;
				LG_ADD(w->c.packets_sent, (uint64_t)r);
				LG_ADD(w->c.bytes_sent, (uint64_t)r * size);
				LG_ADD(c->bytes_sent, (uint64_t)r * size);
			} else if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS) {
				/* ECONNREFUSED: an ICMP port unreachable came back */
				lg_conn_error(w, c, LG_ERR_WRITE, errno, "sendmmsg");
				return;
			}
		}
	}
}
