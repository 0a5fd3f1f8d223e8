/* The server side: accepts control connections one test at a time (as
 * netserver forks per test, but in-process), opens a data port on the
 * address the client reached, runs the workers and reports its counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
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

#define MAX_CONNS 100000
#define MAX_MSG_SIZE (64ULL << 20)

struct loadgen_server {
	struct loadgen_server_opts o;
	int listen_fd;
	uint16_t port;
	pthread_t thread;
	_Atomic bool stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ready;
	int err;
};

static bool should_stop(const _Atomic bool *stop)
{
	return stop_requested() || (stop && atomic_load(stop));
}

static int send_error(int ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int send_error(int ctl, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pr_info("serve: refused a test: %s", text);
	return lg_msg_send(ctl, LG_MSG_ERROR, text, (uint32_t)strlen(text));
}

/* One line telling the client what it asked for that this server will not do. */
static const char *check_request(const struct lg_wire_request *q)
{
	if (q->magic != LG_MAGIC)
		return "protocol version mismatch (netprof load and serve differ)";
	if (q->workload != LG_STREAM && q->workload != LG_RR && q->workload != LG_CRR &&
	    q->workload != LG_UDP && q->workload != LG_HTTP)
		return "unknown workload";
	if (q->conns < 1 || q->conns > MAX_CONNS)
		return "connection count out of range";
	if (q->req_size < 1 || q->req_size > MAX_MSG_SIZE || q->resp_size > MAX_MSG_SIZE)
		return "message size out of range";
	if (q->workload == LG_UDP && q->req_size > 65507)
		return "datagram larger than 65507 bytes";
	if ((q->workload == LG_RR || q->workload == LG_CRR) && q->resp_size < 1)
		return "response size must be at least 1 byte";
	if (q->timeout_ns < 1000000ULL || q->duration_ns > 86400ULL * 1000000000ULL ||
	    q->warmup_ns > 86400ULL * 1000000000ULL)
		return "duration or timeout out of range";
	return NULL;
}

/* A data socket on the address the client used for the control connection. */
static int open_data_socket(int ctl, int type, uint16_t port, bool reuseport)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1, fd;

	if (getsockname(ctl, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4096) < 0)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Accepts the client's persistent data connections, spread over the workers. */
static int accept_conns(struct lg_ctx *ctx, int ctl, int lfd, uint64_t deadline,
			const _Atomic bool *stop)
{
	uint32_t got = 0;

	while (got < ctx->p.conns) {
		struct pollfd pfd[2] = { { .fd = lfd, .events = POLLIN }, { .fd = ctl, .events = POLLIN } };
		int fd, rc;

		if (lg_now_ns() > deadline)
			return -ETIMEDOUT;
		if (should_stop(stop))
			return -EINTR;
		if (poll(pfd, 2, 100) <= 0)
			continue;
		if (pfd[1].revents)
			return -ECONNRESET;	/* the client gave up or sent out of turn */
		while (got < ctx->p.conns &&
		       (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			rc = lg_worker_add_conn(&ctx->workers[got % ctx->nworkers], fd);
			if (rc < 0) {
				close(fd);
				return rc;
			}
			got++;
		}
	}
	return 0;
}

static int send_result(struct lg_ctx *ctx, int ctl, const struct lg_counters *c0,
		       const struct lg_counters *c1, const struct cpu_usage *cpu)
{
	struct lg_counters end;
	struct lg_side_totals totals = { 0 };
	struct lg_wire_result w = { 0 };
	unsigned nconns = 0;
	size_t size;
	char *msg;
	int rc;

	lg_counters_sum(ctx, &end);
	lg_totals_from_counters(&totals, &end, c0, c1);
	totals.cpu = *cpu;
	lg_wire_put_totals(&w, &totals);
	if (ctx->p.workload == LG_STREAM)
		for (unsigned i = 0; i < ctx->nworkers; i++)
			nconns += ctx->workers[i].nconns;
	if (nconns > LG_MAX_REPORTED_CONNS)
		nconns = LG_MAX_REPORTED_CONNS;
	w.nconns = nconns;
	size = sizeof(w) + nconns * sizeof(struct lg_wire_conn);
	msg = malloc(size);
	if (!msg)
		return -ENOMEM;
	lg_wire_swap(&w, sizeof(w));
	memcpy(msg, &w, sizeof(w));
	for (unsigned i = 0, k = 0; i < ctx->nworkers && k < nconns; i++) {
		for (unsigned j = 0; j < ctx->workers[i].nconns && k < nconns; j++, k++) {
			struct lg_conn *c = &ctx->workers[i].conns[j];
			struct lg_wire_conn wc = {
				.peer_port = c->peer_port,
				.win_bytes_sent = c->win_sent1 - c->win_sent0,
				.win_bytes_recv = c->win_recv1 - c->win_recv0,
				.retransmits = c->retrans1 - c->retrans0,
				.rtt_us = c->rtt_us,
				.cwnd = c->cwnd,
			};

			lg_wire_swap(&wc, sizeof(wc));
			memcpy(msg + sizeof(w) + (size_t)k * sizeof(wc), &wc, sizeof(wc));
		}
	}
	rc = lg_msg_send(ctl, LG_MSG_RESULT, msg, (uint32_t)size);
	free(msg);
	return rc;
}

static void run_session(int ctl, const struct loadgen_server_opts *o, const _Atomic bool *stop)
{
	struct lg_wire_request q;
	struct lg_ctx ctx = { 0 };
	struct lg_counters c0 = { 0 }, c1 = { 0 };
	struct cpu_sample s0, s1;
	struct cpu_usage cpu = { 0 };
	struct lg_wire_accept acc = { 0 };
	uint64_t session_deadline;
	bool measured = false, stopped = false;
	char buf[512], peer[80];
	struct sockaddr_storage pss;
	socklen_t plen = sizeof(pss);
	const char *bad;
	uint32_t len;
	int lfd = -1, rc;

	pthread_mutex_init(&ctx.error_lock, NULL);
	ctx.listen_fd = -1;
	getpeername(ctl, (struct sockaddr *)&pss, &plen);
	lg_addr_text(&pss, peer, sizeof(peer));
	lg_set_nodelay(ctl);
	rc = lg_msg_recv(ctl, buf, sizeof(buf), &len, 5000000000ULL);
	if (rc != LG_MSG_REQUEST || len != sizeof(q)) {
		if (rc != 0)
			send_error(ctl, "expected a test request");
		goto out;
	}
	memcpy(&q, buf, sizeof(q));
	lg_wire_swap(&q, sizeof(q));
	if ((bad = check_request(&q))) {
		send_error(ctl, "%s", bad);
		goto out;
	}
	ctx.server = true;
	ctx.p.workload = (enum lg_workload)q.workload;
	ctx.p.conns = (uint32_t)q.conns;
	ctx.p.threads = (uint32_t)q.threads;
	ctx.p.req_size = q.req_size;
	ctx.p.resp_size = q.resp_size;
	ctx.p.reverse = q.reverse;
	ctx.p.busy_poll = q.busy_poll;
	ctx.p.pin = o->no_pin ? LG_PIN_OFF : q.pin <= LG_PIN_OFF ? (enum lg_pin)q.pin : LG_PIN_AUTO;
	ctx.p.timeout_ns = q.timeout_ns;
	session_deadline = lg_now_ns() + q.warmup_ns + q.duration_ns + 4 * q.timeout_ns + 10000000000ULL;
	rc = lg_workers_alloc(&ctx);
	if (rc < 0) {
		send_error(ctl, "server out of memory");
		goto out;
	}
	if (ctx.p.workload == LG_UDP) {
		/* One socket per worker on one port; the kernel spreads the flows. */
		for (unsigned i = 0; i < ctx.nworkers; i++) {
			int fd = open_data_socket(ctl, SOCK_DGRAM,
						  i == 0 ? o->data_port : (uint16_t)acc.port, true);

			if (fd < 0 || lg_worker_add_conn(&ctx.workers[i], fd) < 0) {
				send_error(ctl, "cannot open a UDP data socket: %s", strerror(fd < 0 ? -fd : ENOMEM));
				if (fd >= 0)
					close(fd);
				goto out;
			}
			if (i == 0)
				acc.port = lg_sock_port(fd, false);
		}
	} else {
		lfd = open_data_socket(ctl, SOCK_STREAM, o->data_port, false);
		if (lfd < 0) {
			send_error(ctl, "cannot open a data port: %s", strerror(-lfd));
			goto out;
		}
		acc.port = lg_sock_port(lfd, false);
	}
	pr_info("serve: %s test from %s, %u connection(s), data port %llu",
		lg_workload_name(ctx.p.workload), peer, ctx.p.conns, (unsigned long long)acc.port);
	lg_wire_swap(&acc, sizeof(acc));
	if (lg_msg_send(ctl, LG_MSG_ACCEPT, &acc, sizeof(acc)) < 0)
		goto out;
	if (ctx.p.workload == LG_CRR) {
		ctx.listen_fd = lfd;
	} else if (ctx.p.workload != LG_UDP) {
		rc = accept_conns(&ctx, ctl, lfd, lg_now_ns() + q.timeout_ns + 5000000000ULL, stop);
		if (rc < 0) {
			pr_warn("serve: test from %s: data connections did not arrive: %s", peer,
				strerror(-rc));
			goto out;
		}
	}
	atomic_store(&ctx.phase, LG_PHASE_WARMUP);
	cpu_sample_take(&s0);
	rc = lg_workers_start(&ctx);
	if (rc < 0) {
		send_error(ctl, "cannot start worker threads: %s", strerror(-rc));
		goto stop;
	}
	if (lg_msg_send(ctl, LG_MSG_READY, NULL, 0) < 0)
		goto stop;
	while (!stopped) {
		struct pollfd pfd = { .fd = ctl, .events = POLLIN };

		if (should_stop(stop)) {
			send_error(ctl, "the server is shutting down");
			goto stop;
		}
		if (lg_now_ns() > session_deadline) {
			pr_warn("serve: test from %s overran its duration; ending it", peer);
			goto stop;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		rc = lg_msg_recv(ctl, buf, sizeof(buf), &len, q.timeout_ns);
		switch (rc) {
		case LG_MSG_MEASURE:
			lg_counters_sum(&ctx, &c0);
			cpu_sample_take(&s0);
			lg_conns_snapshot(&ctx, 0);
			atomic_store(&ctx.phase, LG_PHASE_MEASURE);
			measured = true;
			break;
		case LG_MSG_STOP:
			lg_counters_sum(&ctx, &c1);
			cpu_sample_take(&s1);
			lg_conns_snapshot(&ctx, 1);
			if (!measured)
				c0 = c1;
			cpu_usage_between(&s0, &s1, &cpu);
			ctx.drain_deadline_ns = lg_now_ns() + q.timeout_ns;
			atomic_store(&ctx.phase, LG_PHASE_DRAIN);
			lg_workers_join(&ctx);
			send_result(&ctx, ctl, &c0, &c1, &cpu);
			stopped = true;
			break;
		default:
			pr_warn("serve: test from %s: the client %s", peer,
				rc == 0 ? "closed the control connection mid-test" : "sent garbage");
			goto stop;
		}
	}
stop:
	atomic_store(&ctx.phase, LG_PHASE_DONE);
	lg_workers_join(&ctx);
out:
	lg_workers_free(&ctx);
	if (lfd >= 0)
		close(lfd);
	pthread_mutex_destroy(&ctx.error_lock);
}

static int control_listen(const struct loadgen_server_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, zero = 0, fd;

	if (o->bind[0]) {
		if (lg_parse_addr(o->bind, o->port, &ss, &len) < 0)
			return -EINVAL;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		memset(&ss, 0, sizeof(ss));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(o->port);
		len = sizeof(*sin6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)	/* "every address": IPv4 too */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int serve_loop(int lfd, const struct loadgen_server_opts *o, const _Atomic bool *stop)
{
	uint32_t tests = 0;

	while (!should_stop(stop)) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int ctl;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ctl = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (ctl < 0)
			continue;
		run_session(ctl, o, stop);
		close(ctl);
		if (o->max_tests && ++tests >= o->max_tests)
			break;
	}
	return 0;
}

/* o->cpus for the calling thread, which the server's threads inherit. */
static int move_to_cpus(const struct loadgen_server_opts *o)
{
	cpu_set_t set;

	if (!o->cpus[0])
		return 0;
	if (cpulist_parse(o->cpus, &set))
		return -EINVAL;
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

int loadgen_server_run(const struct loadgen_server_opts *o)
{
	int saved = -1, lfd, rc;

	if ((rc = move_to_cpus(o)))
		return rc;
	/* The whole loop stays inside: every data socket is made there too. */
	if (o->netns[0] && (saved = netns_enter(o->netns)) < 0)
		return saved;
	lfd = control_listen(o);
	rc = lfd < 0 ? lfd : serve_loop(lfd, o, NULL);
	if (lfd >= 0)
		close(lfd);
	if (saved >= 0)
		netns_leave(saved);
	return rc;
}

static void *server_thread(void *arg)
{
	struct loadgen_server *s = arg;
	int rc = 0;

	if (s->o.netns[0])
		rc = netns_switch(s->o.netns);	/* this thread only, for good */
	if (rc == 0) {
		s->listen_fd = control_listen(&s->o);
		if (s->listen_fd < 0)
			rc = s->listen_fd;
		else
			s->port = lg_sock_port(s->listen_fd, false);
	}
	pthread_mutex_lock(&s->lock);
	s->err = rc;
	s->ready = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (rc == 0)
		serve_loop(s->listen_fd, &s->o, &s->stop);
	return NULL;
}

struct loadgen_server *loadgen_server_start(const struct loadgen_server_opts *o)
{
	struct loadgen_server *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	int err;

	if (!s)
		return NULL;
	/* The server thread and its workers inherit this thread's CPUs. */
	if ((err = move_to_cpus(o))) {
		free(s);
		errno = -err;
		return NULL;
	}
	s->o = *o;
	s->listen_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&s->thread, NULL, server_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(s);
		errno = err;
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->ready)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (s->err) {
		pthread_join(s->thread, NULL);
		errno = -s->err;
		free(s);
		return NULL;
	}
	return s;
}

uint16_t loadgen_server_port(const struct loadgen_server *s)
{
	return s->port;
}

void loadgen_server_stop(struct loadgen_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}
