/* The control protocol and the socket helpers both sides use. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loadgen/loadgen_internal.h"
#include "lib/teardown.h"

static const char *const workload_names[LG_WORKLOAD_COUNT] = {
	[LG_STREAM] = "stream", [LG_RR] = "rr", [LG_CRR] = "crr", [LG_PINGPONG] = "pingpong",
	[LG_UDP] = "udp", [LG_SWEEP] = "sweep", [LG_PUSH] = "push", [LG_HTTP] = "http",
};

const char *lg_workload_name(enum lg_workload w)
{
	return (unsigned)w < LG_WORKLOAD_COUNT ? workload_names[w] : "unknown";
}

bool lg_headline_is_gbps(enum lg_workload w)
{
	return w == LG_STREAM || w == LG_PUSH || w == LG_UDP;
}

int lg_workload_parse(const char *name)
{
	for (int i = 0; i < LG_WORKLOAD_COUNT; i++)
		if (!strcmp(name, workload_names[i]))
			return i;
	return -1;
}

const char *lg_error_name(enum lg_error_kind k)
{
	static const char *const names[LG_ERR_COUNT] = {
		[LG_ERR_CONNECT] = "connect", [LG_ERR_READ] = "read", [LG_ERR_WRITE] = "write",
		[LG_ERR_TIMEOUT] = "timeout", [LG_ERR_STATUS] = "status", [LG_ERR_PARSE] = "parse",
	};
	return (unsigned)k < LG_ERR_COUNT ? names[k] : "unknown";
}

void loadgen_opts_default(struct loadgen_opts *o, enum lg_workload w)
{
	memset(o, 0, sizeof(*o));
	o->workload = w;
	o->port = LOADGEN_DEFAULT_PORT;
	o->conns = 1;
	o->duration_ns = 10000000000ULL;
	o->warmup_ns = 1000000000ULL;
	o->timeout_ns = 5000000000ULL;
	switch (w) {
	case LG_STREAM:
	case LG_SWEEP:
		o->req_size = 128 * 1024;	/* iperf3's default write */
		break;
	case LG_RR:
	case LG_CRR:
		o->req_size = o->resp_size = 100;	/* netperf -r100,100 */
		break;
	case LG_PINGPONG:
		o->req_size = o->resp_size = 14;	/* sockperf's default message */
		break;
	case LG_UDP:
		o->req_size = 16;		/* the Terway test: iperf3 -u -l 16 */
		break;
	case LG_PUSH:
		o->req_size = 100 * 1000;	/* the Tencent test: 100 kB writes ... */
		o->conns = 100;			/* ... to 100 connections, one thread each side */
		o->threads = 1;
		o->reverse = true;
		break;
	case LG_HTTP:
		o->req_size = sizeof(LG_HTTP_REQUEST) - 1;
		o->resp_size = 100;		/* body */
		o->conns = 64;
		break;
	default:
		break;
	}
}

uint64_t lg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void lg_wire_swap(void *s, size_t size)
{
	uint64_t *v = s;

	for (size_t i = 0; i < size / sizeof(uint64_t); i++)
		v[i] = htole64(v[i]);	/* its own inverse on both kinds of host */
}

void lg_totals_from_counters(struct lg_side_totals *s, const struct lg_counters *end,
			     const struct lg_counters *c0, const struct lg_counters *c1)
{
	s->bytes_sent = end->bytes_sent;
	s->bytes_recv = end->bytes_recv;
	s->transactions = end->transactions;
	s->packets_sent = end->packets_sent;
	s->packets_recv = end->packets_recv;
	memcpy(s->errors, end->errors, sizeof(s->errors));
	if (!c0)
		return;
	s->win_bytes_sent = c1->bytes_sent - c0->bytes_sent;
	s->win_bytes_recv = c1->bytes_recv - c0->bytes_recv;
	s->win_transactions = c1->transactions - c0->transactions;
	s->win_packets_sent = c1->packets_sent - c0->packets_sent;
	s->win_packets_recv = c1->packets_recv - c0->packets_recv;
	s->win_connects = c1->connects - c0->connects;
}

/* The fields of a side's totals and their names on the wire, listed once
 * for both directions of the codec. */
#define LG_WIRE_COUNTS(X)						\
	X(bytes_sent) X(bytes_recv) X(transactions) X(packets_sent) X(packets_recv) \
	X(win_bytes_sent) X(win_bytes_recv) X(win_transactions) X(win_packets_sent) \
	X(win_packets_recv) X(win_connects)
/* Shares of a core, as millionths. */
#define LG_WIRE_CPU_SHARES(X)						\
	X(m_user, machine_user) X(m_system, machine_system)		\
	X(m_softirq, machine_softirq) X(m_irq, machine_irq)		\
	X(m_idle, machine_idle) X(m_busy, machine_busy)			\
	X(p_user, proc_user) X(p_system, proc_system)

void lg_wire_put_totals(struct lg_wire_result *w, const struct lg_side_totals *s)
{
#define PUT_COUNT(f) w->f = s->f;
#define PUT_SHARE(wf, sf) w->wf = (uint64_t)(s->cpu.sf * 1e6);
	LG_WIRE_COUNTS(PUT_COUNT)
	LG_WIRE_CPU_SHARES(PUT_SHARE)
#undef PUT_COUNT
#undef PUT_SHARE
	memcpy(w->errors, s->errors, sizeof(w->errors));
	w->cpu_ns = (uint64_t)(s->cpu.seconds * 1e9);
	w->ncpus = s->cpu.ncpus;
	w->p_voluntary_switches = s->cpu.proc_voluntary_switches;
	w->p_involuntary_switches = s->cpu.proc_involuntary_switches;
}

void lg_wire_get_totals(struct lg_side_totals *s, const struct lg_wire_result *w)
{
#define GET_COUNT(f) s->f = w->f;
#define GET_SHARE(wf, sf) s->cpu.sf = (double)w->wf / 1e6;
	LG_WIRE_COUNTS(GET_COUNT)
	LG_WIRE_CPU_SHARES(GET_SHARE)
#undef GET_COUNT
#undef GET_SHARE
	memcpy(s->errors, w->errors, sizeof(s->errors));
	s->cpu.seconds = (double)w->cpu_ns / 1e9;
	s->cpu.ncpus = (unsigned)w->ncpus;
	s->cpu.proc_voluntary_switches = w->p_voluntary_switches;
	s->cpu.proc_involuntary_switches = w->p_involuntary_switches;
}

void lg_fail(struct lg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int expected = 0;

	if (!atomic_compare_exchange_strong(&ctx->failed, &expected, 1))
		return;
	pthread_mutex_lock(&ctx->error_lock);
	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&ctx->error_lock);
}

/* Waits until fd is ready for `events` or the deadline passes. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = lg_now_ns();
		struct pollfd pfd = { .fd = fd, .events = events };
		int ms, n;

		if (now >= deadline)
			return -ETIMEDOUT;
		ms = (int)((deadline - now + 999999) / 1000000);
		n = poll(&pfd, 1, ms > 100 ? 100 : ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (stop_requested())
			return -EINTR;
	}
}

static int write_all(int fd, const void *data, size_t len, uint64_t deadline)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int err;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((err = wait_fd(fd, POLLOUT, deadline)) < 0)
			return err;
	}
	return 0;
}

/* 0 when complete, 1 on end of stream before any byte, -errno otherwise */
static int read_all(int fd, void *data, size_t len, uint64_t deadline)
{
	char *p = data;
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, MSG_DONTWAIT);
		int err;

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return got ? -ECONNRESET : 1;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((err = wait_fd(fd, POLLIN, deadline)) < 0)
			return err;
	}
	return 0;
}

int lg_msg_send(int fd, uint32_t type, const void *payload, uint32_t len)
{
	uint32_t hdr[2] = { htole32(type), htole32(len) };
	uint64_t deadline = lg_now_ns() + 5000000000ULL;
	int err;

	if ((err = write_all(fd, hdr, sizeof(hdr), deadline)) < 0)
		return err;
	return len ? write_all(fd, payload, len, deadline) : 0;
}

int lg_msg_recv(int fd, void *buf, uint32_t bufsize, uint32_t *len, uint64_t timeout_ns)
{
	uint64_t deadline = lg_now_ns() + timeout_ns;
	uint32_t hdr[2];
	int rc;

	rc = read_all(fd, hdr, sizeof(hdr), deadline);
	if (rc)
		return rc > 0 ? 0 : rc;
	hdr[0] = le32toh(hdr[0]);
	hdr[1] = le32toh(hdr[1]);
	if (hdr[1] >= bufsize || hdr[1] > LG_MAX_MSG)
		return -EPROTO;
	/* The rest of a message follows at once: a short deadline of its own. */
	rc = read_all(fd, buf, hdr[1], lg_now_ns() + 5000000000ULL);
	if (rc)
		return rc > 0 ? -ECONNRESET : rc;
	((char *)buf)[hdr[1]] = 0;
	*len = hdr[1];
	return (int)hdr[0];
}

int lg_parse_addr(const char *text, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

const char *lg_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	}
	return buf;
}

int lg_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

void lg_set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int lg_connect(const struct sockaddr_storage *ss, socklen_t len, int type, uint64_t timeout_ns)
{
	int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)ss, len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	}
	if ((err = wait_fd(fd, POLLOUT, lg_now_ns() + timeout_ns)) < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
		err = -(err ? err : errno);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

uint16_t lg_sock_port(int fd, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		      : getsockname(fd, (struct sockaddr *)&ss, &len);

	if (rc < 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}
