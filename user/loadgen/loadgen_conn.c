/* The data connections of a worker: adding them, receiving and counting,
 * closing, and the per-connection snapshots of the measured window. Below
 * both the worker threads and the loops they run. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen/loadgen_internal.h"

int lg_worker_add_conn(struct lg_worker *w, int fd)
{
	struct lg_conn *c;
	struct epoll_event ev = { 0 };

	if (w->nconns == w->conns_cap) {
		unsigned cap = w->conns_cap ? w->conns_cap * 2 : 16;
		struct lg_conn *nc = realloc(w->conns, sizeof(*nc) * cap);

		if (!nc)
			return -ENOMEM;
		w->conns = nc;
		w->conns_cap = cap;
	}
	c = &w->conns[w->nconns];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->local_port = lg_sock_port(fd, false);
	c->peer_port = lg_sock_port(fd, true);
	ev.events = EPOLLIN;
	ev.data.u32 = w->nconns;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	w->nconns++;
	return 0;
}

ssize_t lg_conn_recv(struct lg_worker *w, struct lg_conn *c, int flags)
{
	ssize_t r = recv(c->fd, w->buf, w->buflen, flags);

	if (r > 0) {
		LG_ADD(c->bytes_recv, (uint64_t)r);
		LG_ADD(w->c.bytes_recv, (uint64_t)r);
	}
	return r;
}

void lg_conns_snapshot(struct lg_ctx *ctx, int which)
{
	for (unsigned i = 0; i < ctx->nworkers; i++) {
		struct lg_worker *w = &ctx->workers[i];

		/* The conns array of a worker only grows in crr, which has no
		 * per-connection report; stream and push keep a fixed set. */
		if (ctx->p.workload != LG_STREAM)
			continue;
		for (unsigned j = 0; j < w->nconns; j++) {
			struct lg_conn *c = &w->conns[j];
			struct tcp_info ti;
			socklen_t len = sizeof(ti);
			bool have_info = false;

			memset(&ti, 0, sizeof(ti));
			if (!LG_LOAD(c->closed) &&
			    getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
				have_info = true;
			if (which == 0) {
				c->win_sent0 = LG_LOAD(c->bytes_sent);
				c->win_recv0 = LG_LOAD(c->bytes_recv);
				c->retrans0 = have_info ? ti.tcpi_total_retrans : 0;
			} else {
				c->win_sent1 = LG_LOAD(c->bytes_sent);
				c->win_recv1 = LG_LOAD(c->bytes_recv);
				c->retrans1 = have_info ? ti.tcpi_total_retrans : c->retrans0;
				c->rtt_us = have_info ? ti.tcpi_rtt : 0;
				c->cwnd = have_info ? ti.tcpi_snd_cwnd : 0;
			}
		}
	}
}

void lg_conn_close(struct lg_worker *w, struct lg_conn *c)
{
	if (c->closed)
		return;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	__atomic_store_n(&c->closed, true, __ATOMIC_RELAXED);
	close(c->fd);
	c->fd = -1;
}

void lg_conn_error(struct lg_worker *w, struct lg_conn *c, enum lg_error_kind kind, int err,
		   const char *what)
{
	struct lg_ctx *ctx = w->ctx;

	LG_ADD(w->c.errors[kind], 1);
	if (err)
		lg_fail(ctx, "%s data connection (port %u): %s: %s", ctx->server ? "client" : "server",
			ctx->server ? c->peer_port : c->local_port, what, strerror(err));
	else
		lg_fail(ctx, "%s data connection (port %u): %s", ctx->server ? "client" : "server",
			ctx->server ? c->peer_port : c->local_port, what);
	lg_conn_close(w, c);
}

void lg_conns_close_all(struct lg_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nworkers; i++)
		for (unsigned j = 0; j < ctx->workers[i].nconns; j++)
			lg_conn_close(&ctx->workers[i], &ctx->workers[i].conns[j]);
}
