/* Worker threads: allocation, CPU pinning, start, join and the counters the
 * main thread reads while they run. */
#include <errno.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loadgen/loadgen_internal.h"
#include "lib/log.h"

#define LG_BUF_MIN (128 * 1024)


/* The CPUs this thread may run on, in order. */
static int allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

static int build_http_response(struct lg_worker *w, uint64_t body)
{
	char hdr[160];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 200 OK\r\nServer: netprof\r\nContent-Length: %llu\r\n"
			 "Connection: keep-alive\r\n\r\n", (unsigned long long)body);

	w->tx_template_len = (size_t)n + body;
	w->tx_template = calloc(1, w->tx_template_len);
	if (!w->tx_template)
		return -ENOMEM;
	memcpy(w->tx_template, hdr, (size_t)n);
	memset(w->tx_template + n, 'x', body);
	return 0;
}

int lg_workers_alloc(struct lg_ctx *ctx)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = ctx->p.threads;
	int cpus[CPU_SETSIZE], ncpu_allowed = allowed_cpus(cpus, CPU_SETSIZE);

	/* Half the CPUs by default: the kernel's share of networking (softirq,
	 * and on one machine the other side) needs the other half. */
	if (!n)
		n = ncpus > 1 ? (unsigned)ncpus / 2 : 1;
	if (ctx->p.conns && n > ctx->p.conns)
		n = ctx->p.conns;
	ctx->nworkers = n;
	ctx->pinned = ncpu_allowed > 0 &&
		      (ctx->p.pin == LG_PIN_ON ||
		       (ctx->p.pin == LG_PIN_AUTO && !lg_pin_apart(ctx->p.workload) &&
		        (unsigned)ncpu_allowed >= 2 * n));
	ctx->workers = aligned_alloc(64, sizeof(struct lg_worker) * n);
	if (!ctx->workers)
		return -ENOMEM;
	memset(ctx->workers, 0, sizeof(struct lg_worker) * n);
	for (unsigned i = 0; i < n; i++) {
		struct lg_worker *w = &ctx->workers[i];
		uint64_t biggest = ctx->p.req_size > ctx->p.resp_size ? ctx->p.req_size
								      : ctx->p.resp_size;

		w->ctx = ctx;
		w->id = i;
		w->udp_fd = -1;
		/* Bulk workloads: the client takes CPUs from the first up, the
		 * server from the last down, so on one machine the sender and the
		 * receiver each get a core. Request/response: worker i of both
		 * sides shares CPU i, so a wake-up never waits for another (maybe
		 * idle) CPU: that is where sockperf's unpinned threads end up too. */
		if (!ctx->pinned)
			w->cpu = -1;
		else if (ctx->server && lg_pin_apart(ctx->p.workload))
			w->cpu = cpus[ncpu_allowed - 1 - (int)(i % (unsigned)ncpu_allowed)];
		else
			w->cpu = cpus[i % (unsigned)ncpu_allowed];
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->buflen = biggest > LG_BUF_MIN ? biggest : LG_BUF_MIN;
		w->buf = malloc(w->buflen);
		w->hist = malloc(sizeof(*w->hist));
		w->connect_hist = malloc(sizeof(*w->connect_hist));
		if (w->epfd < 0 || !w->buf || !w->hist || !w->connect_hist)
			return -ENOMEM;
		memset(w->buf, 0x5a, w->buflen);
		hist_reset(w->hist);
		hist_reset(w->connect_hist);
		if (ctx->p.workload == LG_HTTP) {
			if (ctx->server) {
				if (build_http_response(w, ctx->p.resp_size) < 0)
					return -ENOMEM;
			} else {
				w->tx_template = strdup(LG_HTTP_REQUEST);
				if (!w->tx_template)
					return -ENOMEM;
				w->tx_template_len = strlen(LG_HTTP_REQUEST);
			}
		}
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct lg_worker *w = arg;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	/* Sleeps end on time, not up to 50 us late: open-loop schedules and
	 * short epoll waits depend on it. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	switch (w->ctx->p.workload) {
	case LG_STREAM:
		lg_loop_stream(w);
		break;
	case LG_CRR:
		lg_loop_crr(w);
		break;
	case LG_UDP:
		lg_loop_udp(w);
		break;
	default:
		lg_loop_rr(w);
		break;
	}
	return NULL;
}

int lg_workers_start(struct lg_ctx *ctx)
{
	sigset_t all, old;
	int err = 0;

	/* Signals go to the main thread, which turns them into a stop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < ctx->nworkers; i++) {
		struct lg_worker *w = &ctx->workers[i];

		err = -pthread_create(&w->thread, NULL, worker_main, w);
		if (err)
			break;
		w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

void lg_workers_join(struct lg_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nworkers; i++) {
		if (ctx->workers[i].started)
			pthread_join(ctx->workers[i].thread, NULL);
		ctx->workers[i].started = false;
	}
}

void lg_workers_free(struct lg_ctx *ctx)
{
	for (unsigned i = 0; ctx->workers && i < ctx->nworkers; i++) {
		struct lg_worker *w = &ctx->workers[i];

		for (unsigned j = 0; j < w->nconns; j++)
			if (!w->conns[j].closed && w->conns[j].fd >= 0)
				close(w->conns[j].fd);
		if (w->udp_fd >= 0)
			close(w->udp_fd);
		if (w->epfd >= 0)
			close(w->epfd);
		free(w->conns);
		free(w->buf);
		free(w->hist);
		free(w->connect_hist);
		free(w->tx_template);
	}
	free(ctx->workers);
	ctx->workers = NULL;
	ctx->nworkers = 0;
}

void lg_counters_sum(struct lg_ctx *ctx, struct lg_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < ctx->nworkers; i++) {
		struct lg_counters *c = &ctx->workers[i].c;

		sum->bytes_sent += LG_LOAD(c->bytes_sent);
		sum->bytes_recv += LG_LOAD(c->bytes_recv);
		sum->transactions += LG_LOAD(c->transactions);
		sum->packets_sent += LG_LOAD(c->packets_sent);
		sum->packets_recv += LG_LOAD(c->packets_recv);
		sum->connects += LG_LOAD(c->connects);
		for (int k = 0; k < LG_ERR_COUNT; k++)
			sum->errors[k] += LG_LOAD(c->errors[k]);
	}
}
