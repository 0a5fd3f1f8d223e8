/*
 * The proxy's event loop.
 *
 * One thread, one epoll instance, level-triggered. A connection never moves
 * between threads in Envoy either (a worker owns it from accept to close),
 * so one thread gives a single connection exactly Envoy's per-hop work:
 * epoll_wait, read into a user-space buffer until EAGAIN, write it out
 * until EAGAIN. More threads would only spread many connections over the
 * machine's two cores, which the client, the server and the other pod's
 * proxy already share.
 *
 * Per connection: a downstream socket (accepted) and an upstream socket
 * (connected to the original destination), a ring buffer for each
 * direction. A side is only read while the ring towards the other side has
 * room (backpressure: a slow reader stalls its writer through TCP, as with
 * Envoy's watermarks); a socket with nothing to wait for is taken out of the
 * epoll set, so a hung-up peer cannot make a level-triggered loop spin.
 * A FIN is passed on as shutdown(SHUT_WR) once the data before it has been
 * written; an error (RST, EPIPE) on either side resets both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/output.h"
#include "datapath/proxy.h"
#include "lib/teardown.h"

#define STATS_INTERVAL_NS 500000000ULL
#define MAX_EVENTS 64
#define ACCEPT_BURST 64
/* Descriptors beyond the connections' two each: epoll, listeners, stats. */
#define SPARE_FDS 16

enum ep_kind { EP_LISTENER, EP_DOWN, EP_UP };

struct conn;

struct endpoint {
	enum ep_kind kind;
	int fd;
	uint32_t events;	/* what epoll watches now; 0: not in the set */
	struct conn *conn;	/* NULL for listeners */
	bool inbound;		/* listeners: which one */
};

struct ring {
	char *data;
	size_t size, head, len;	/* bytes [head, head+len) mod size are queued */
};

struct conn {
	struct endpoint down, up;
	struct ring to_up, to_down;
	bool connecting;
	bool closed;			/* fds gone; freed after the event batch */
	bool down_eof, up_eof;		/* read 0 from that side */
	bool down_shut, up_shut;	/* shutdown(SHUT_WR) sent to that side */
	uint64_t connect_deadline_ns;
	struct conn *prev, *next;
};

struct proxy {
	const struct proxy_config *cfg;
	int epfd;
	struct endpoint listeners[2];	/* [0] outbound, [1] inbound */
	struct sockaddr_in inbound_src;
	struct conn *conns;		/* live connections */
	struct conn *graveyard;		/* closed during this batch */
	struct proxy_counters c;
	uint64_t listeners_paused_until_ns;
	bool stats_warned;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* --- ring buffers ------------------------------------------------------ */

static int ring_free_iov(const struct ring *r, struct iovec iov[2])
{
	size_t free_bytes = r->size - r->len, tail = (r->head + r->len) % r->size;
	size_t first = free_bytes < r->size - tail ? free_bytes : r->size - tail;

	iov[0] = (struct iovec){ r->data + tail, first };
	iov[1] = (struct iovec){ r->data, free_bytes - first };
	return iov[1].iov_len ? 2 : 1;
}

static int ring_data_iov(const struct ring *r, struct iovec iov[2])
{
	size_t first = r->len < r->size - r->head ? r->len : r->size - r->head;

	iov[0] = (struct iovec){ r->data + r->head, first };
	iov[1] = (struct iovec){ r->data, r->len - first };
	return iov[1].iov_len ? 2 : 1;
}

static void ring_consumed(struct ring *r, size_t n)
{
	r->head = (r->head + n) % r->size;
	r->len -= n;
	if (!r->len)
		r->head = 0;	/* keep the next read in one piece */
}

/* --- epoll interest ---------------------------------------------------- */

static void ep_set(struct proxy *p, struct endpoint *e, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = e };
	int op;

	if (events == e->events)
		return;
	if (!events)
		op = EPOLL_CTL_DEL;
	else if (!e->events)
		op = EPOLL_CTL_ADD;
	else
		op = EPOLL_CTL_MOD;
	if (epoll_ctl(p->epfd, op, e->fd, &ev) < 0)
		pr_debug("proxy: epoll_ctl(%d) on fd %d: %s", op, e->fd, strerror(errno));
	e->events = events;
}

/* What each side waits for follows from the buffers: read while there is
 * room towards the other side, write while there is something queued. */
static void conn_update_interest(struct proxy *p, struct conn *c)
{
	uint32_t down = 0, up = 0;

	if (!c->down_eof && c->to_up.len < c->to_up.size)
		down |= EPOLLIN;
	if (c->to_down.len)
		down |= EPOLLOUT;
	if (c->connecting) {
		up = EPOLLOUT;
	} else {
		if (!c->up_eof && c->to_down.len < c->to_down.size)
			up |= EPOLLIN;
		if (c->to_up.len)
			up |= EPOLLOUT;
	}
	ep_set(p, &c->down, down);
	ep_set(p, &c->up, up);
}

/* --- connection life --------------------------------------------------- */

static void reset_and_close(int fd)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(fd);
}

enum close_how { CLOSE_GRACEFUL, CLOSE_RESET, CLOSE_NO_UPSTREAM };

static void conn_close(struct proxy *p, struct conn *c, enum close_how how)
{
	if (c->closed)
		return;
	ep_set(p, &c->down, 0);
	ep_set(p, &c->up, 0);
	if (how != CLOSE_GRACEFUL) {
		reset_and_close(c->down.fd);
		reset_and_close(c->up.fd);
		if (how == CLOSE_RESET)
			p->c.resets++;
	} else {
		close(c->down.fd);
		close(c->up.fd);
	}
	c->closed = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = p->graveyard;
	p->graveyard = c;
	p->c.active_conns--;
}

static void bury_dead(struct proxy *p)
{
	while (p->graveyard) {
		struct conn *c = p->graveyard;

		p->graveyard = c->next;
		free(c->to_up.data);
		free(c->to_down.data);
		free(c);
	}
}

static void set_nodelay(int fd)
{
	int one = 1;

	/* Envoy sets TCP_NODELAY on both its downstream and upstream sockets. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Reads `from` into r until EAGAIN, EOF or a full ring. -1 on error. */
static int fill(int from, struct ring *r, bool *eof)
{
	while (!*eof && r->len < r->size) {
		struct iovec iov[2];
		ssize_t n = readv(from, iov, ring_free_iov(r, iov));

		if (n > 0) {
			r->len += n;
		} else if (n == 0) {
			*eof = true;
		} else if (errno == EINTR) {
			continue;
		} else {
			return errno == EAGAIN ? 0 : -1;
		}
	}
	return 0;
}

/* Writes r to `to` until EAGAIN or empty; counts the bytes. -1 on error. */
static int drain(int to, struct ring *r, uint64_t *counter)
{
	while (r->len) {
		struct iovec iov[2];
		ssize_t n = writev(to, iov, ring_data_iov(r, iov));

		if (n > 0) {
			ring_consumed(r, n);
			*counter += n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			return n < 0 && errno == EAGAIN ? 0 : -1;
		}
	}
	return 0;
}

/* A FIN read from one side goes to the other once its data has. */
static void propagate_half_close(struct conn *c)
{
	if (!c->connecting && c->down_eof && !c->to_up.len && !c->up_shut) {
		shutdown(c->up.fd, SHUT_WR);
		c->up_shut = true;
	}
	if (c->up_eof && !c->to_down.len && !c->down_shut) {
		shutdown(c->down.fd, SHUT_WR);
		c->down_shut = true;
	}
}

static void upstream_failed(struct proxy *p, struct conn *c, bool timeout)
{
	p->c.upstream_connect_errors++;
	if (timeout)
		p->c.upstream_connect_timeouts++;
	/* What Envoy's tcp_proxy does when no upstream can be had: the
	 * downstream connection is closed without a byte. */
	conn_close(p, c, CLOSE_NO_UPSTREAM);
}

static void conn_event(struct proxy *p, struct endpoint *e, uint32_t events)
{
	struct conn *c = e->conn;
	bool is_down = e->kind == EP_DOWN;
	int err = 0;

	if (c->closed)
		return;
	if (!is_down && c->connecting) {
		socklen_t len = sizeof(err);

		if (getsockopt(c->up.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			upstream_failed(p, c, false);
			return;
		}
		c->connecting = false;
		/* Whatever the client sent while we connected goes now. */
		if (drain(c->up.fd, &c->to_up, &p->c.bytes_to_upstream) < 0)
			goto reset;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (is_down) {
			if (fill(c->down.fd, &c->to_up, &c->down_eof) < 0)
				goto reset;
			if (!c->connecting &&
			    drain(c->up.fd, &c->to_up, &p->c.bytes_to_upstream) < 0)
				goto reset;
		} else {
			if (fill(c->up.fd, &c->to_down, &c->up_eof) < 0)
				goto reset;
			if (drain(c->down.fd, &c->to_down, &p->c.bytes_to_downstream) < 0)
				goto reset;
		}
	}
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
		if (is_down) {
			if (drain(c->down.fd, &c->to_down, &p->c.bytes_to_downstream) < 0)
				goto reset;
		} else if (drain(c->up.fd, &c->to_up, &p->c.bytes_to_upstream) < 0) {
			goto reset;
		}
	}
	propagate_half_close(c);
	if (c->down_shut && c->up_shut) {
		conn_close(p, c, CLOSE_GRACEFUL);
		return;
	}
	conn_update_interest(p, c);
	return;
reset:
	conn_close(p, c, CLOSE_RESET);
}

static bool same_endpoint(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static int new_upstream(struct proxy *p, bool inbound)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	if (inbound) {
		/* Istio's inbound clusters bind 127.0.0.6 and connect to the
		 * original destination, the pod's own IP and port, as done
		 * here: the app sees 127.0.0.6 as its peer, and ISTIO_OUTPUT
		 * lets the connection pass (-o lo -s 127.0.0.6 RETURN; any
		 * other source from uid 1337 to a non-127.0.0.1 address on lo
		 * would be sent back to 15006). A loopback source towards a
		 * non-loopback address is fine without route_localnet: the
		 * pod IP is local, so the packet leaves by lo and keeps the
		 * output route on the way in (no martian-source check), and
		 * its conntrack entry was made at OUTPUT, so PREROUTING's
		 * ISTIO_INBOUND is not consulted again.
		 * IP_BIND_ADDRESS_NO_PORT: the source port is picked at
		 * connect() per destination, not by bind() from the range. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&p->inbound_src, sizeof(p->inbound_src)) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	set_nodelay(fd);
	return fd;
}

static void accept_one(struct proxy *p, int fd, bool inbound)
{
	struct sockaddr_in dst, local;
	socklen_t len = sizeof(dst);
	struct conn *c;
	int up;

	if (p->c.active_conns >= p->cfg->max_conns) {
		p->c.rejected_conns++;
		reset_and_close(fd);
		return;
	}
	/* The destination the client asked for, before REDIRECT rewrote it.
	 * A connection made straight to the listener has none (or has the
	 * listener itself): proxying it would loop. */
	if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) < 0 || dst.sin_family != AF_INET) {
		p->c.no_original_dst++;
		reset_and_close(fd);
		return;
	}
	len = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &len) == 0 && same_endpoint(&dst, &local)) {
		p->c.no_original_dst++;
		reset_and_close(fd);
		return;
	}
	up = new_upstream(p, inbound);
	if (up < 0) {
		p->c.upstream_connect_errors++;
		reset_and_close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c) {
		c->to_up.data = malloc(p->cfg->buffer_size);
		c->to_down.data = malloc(p->cfg->buffer_size);
	}
	if (!c || !c->to_up.data || !c->to_down.data) {
		if (c) {
			free(c->to_up.data);
			free(c->to_down.data);
			free(c);
		}
		p->c.rejected_conns++;
		reset_and_close(fd);
		close(up);
		return;
	}
	set_nodelay(fd);
	c->to_up.size = c->to_down.size = p->cfg->buffer_size;
	c->down = (struct endpoint){ .kind = EP_DOWN, .fd = fd, .conn = c };
	c->up = (struct endpoint){ .kind = EP_UP, .fd = up, .conn = c };
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->c.active_conns++;
	if (inbound)
		p->c.inbound_conns++;
	else
		p->c.outbound_conns++;

	if (connect(up, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		if (errno != EINPROGRESS) {
			upstream_failed(p, c, false);
			return;
		}
		c->connecting = true;
		c->connect_deadline_ns = now_ns() + p->cfg->connect_timeout_ns;
	}
	conn_update_interest(p, c);
}

static void pause_listeners(struct proxy *p)
{
	/* Out of descriptors or memory: stop accepting for a tick instead
	 * of spinning on a listener that stays readable. */
	for (int i = 0; i < 2; i++)
		ep_set(p, &p->listeners[i], 0);
	p->listeners_paused_until_ns = now_ns() + STATS_INTERVAL_NS;
}

static void listener_event(struct proxy *p, struct endpoint *l)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			accept_one(p, fd, l->inbound);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			pr_warn("proxy: accept: %s; pausing for %llu ms", strerror(errno),
				STATS_INTERVAL_NS / 1000000);
			pause_listeners(p);
		}
		return;
	}
}

static void check_timers(struct proxy *p, uint64_t now)
{
	struct conn *c, *next;

	for (c = p->conns; c; c = next) {
		next = c->next;
		if (c->connecting && now >= c->connect_deadline_ns)
			upstream_failed(p, c, true);
	}
	if (p->listeners_paused_until_ns && now >= p->listeners_paused_until_ns) {
		p->listeners_paused_until_ns = 0;
		for (int i = 0; i < 2; i++)
			ep_set(p, &p->listeners[i], EPOLLIN);
	}
}

/* --- stats ------------------------------------------------------------- */

static int write_stats(struct proxy *p, bool running)
{
	const struct proxy_counters *c = &p->c;
	char tmp[PATH_MAX];
	struct json_writer w;
	int fd, err = 0;
	FILE *f;

	if (!p->cfg->stats_path)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", p->cfg->stats_path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	jw_init(&w, f, false);
	jw_object_begin(&w, NULL);
	jw_uint(&w, "pid", getpid());
	jw_uint(&w, "uid", geteuid());
	jw_uint(&w, "outbound_port", p->cfg->outbound_port);
	jw_uint(&w, "inbound_port", p->cfg->inbound_port);
	jw_bool(&w, "running", running);
	jw_uint(&w, "outbound_conns", c->outbound_conns);
	jw_uint(&w, "inbound_conns", c->inbound_conns);
	jw_uint(&w, "active_conns", c->active_conns);
	jw_uint(&w, "bytes_to_upstream", c->bytes_to_upstream);
	jw_uint(&w, "bytes_to_downstream", c->bytes_to_downstream);
	jw_uint(&w, "upstream_connect_errors", c->upstream_connect_errors);
	jw_uint(&w, "upstream_connect_timeouts", c->upstream_connect_timeouts);
	jw_uint(&w, "no_original_dst", c->no_original_dst);
	jw_uint(&w, "rejected_conns", c->rejected_conns);
	jw_uint(&w, "resets", c->resets);
	jw_object_end(&w);
	jw_finish(&w);
	if (ferror(f))
		err = -EIO;
	if (fclose(f) != 0 && !err)
		err = -errno;
	/* rename() replaces the old file in one step: a reader sees the
	 * previous counters or these, never half a file. */
	if (!err && rename(tmp, p->cfg->stats_path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void periodic_stats(struct proxy *p)
{
	int err = write_stats(p, true);

	if (err && !p->stats_warned) {
		pr_warn("proxy: cannot write %s: %s", p->cfg->stats_path, strerror(-err));
		p->stats_warned = true;
	}
}

/* --- setup ------------------------------------------------------------- */

static int listen_on(struct proxy *p, int idx, uint16_t port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_ANY) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, SOMAXCONN) < 0) {
		int err = -errno;

		close(fd);
		pr_warn("proxy: cannot listen on port %u: %s", port, strerror(-err));
		return err;
	}
	p->listeners[idx] = (struct endpoint){ .kind = EP_LISTENER, .fd = fd, .inbound = idx == 1 };
	ep_set(p, &p->listeners[idx], EPOLLIN);
	return 0;
}

static int ensure_fd_limit(unsigned max_conns)
{
	rlim_t need = (rlim_t)max_conns * 2 + SPARE_FDS;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		pr_warn("proxy: --max-conns %u needs %llu descriptors but the hard limit is %llu; "
			"lower --max-conns", max_conns, (unsigned long long)need,
			(unsigned long long)rl.rlim_max);
		return -EMFILE;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		pr_warn("proxy: cannot raise the descriptor limit to %llu: %s",
			(unsigned long long)need, strerror(errno));
		return -errno;
	}
	return 0;
}

static int drop_privileges(const struct proxy_config *cfg)
{
	int pdeath = 0;
	pid_t parent = getppid();

	if (!cfg->drop_privileges || (geteuid() == cfg->uid && getegid() == cfg->gid))
		return 0;
	if (geteuid() != 0) {
		pr_warn("proxy: only root can switch to uid %u/gid %u (running as uid %u)",
			(unsigned)cfg->uid, (unsigned)cfg->gid, (unsigned)geteuid());
		return -EPERM;
	}
	/* A credential change clears the parent-death signal; keep it, so
	 * the proxy still goes when the netprof run that started it does. */
	if (prctl(PR_GET_PDEATHSIG, &pdeath) < 0)
		pdeath = 0;
	if (setgroups(0, NULL) < 0 || setgid(cfg->gid) < 0 || setuid(cfg->uid) < 0) {
		int err = -errno;

		pr_warn("proxy: cannot switch to uid %u/gid %u: %s", (unsigned)cfg->uid,
			(unsigned)cfg->gid, strerror(-err));
		return err;
	}
	if (pdeath) {
		prctl(PR_SET_PDEATHSIG, pdeath);
		if (getppid() != parent)
			raise(pdeath);
	}
	return 0;
}

int proxy_run(const struct proxy_config *cfg)
{
	struct proxy p = { .cfg = cfg, .epfd = -1, .listeners = { { .fd = -1 }, { .fd = -1 } } };
	struct epoll_event events[MAX_EVENTS];
	sigset_t block, orig;
	uint64_t next_stats;
	int err;

	p.inbound_src = (struct sockaddr_in){ .sin_family = AF_INET };
	if (inet_pton(AF_INET, cfg->inbound_src, &p.inbound_src.sin_addr) != 1) {
		pr_warn("proxy: '%s' is not an IPv4 address", cfg->inbound_src);
		return -EINVAL;
	}
	if ((err = ensure_fd_limit(cfg->max_conns)) < 0)
		return err;
	p.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p.epfd < 0)
		return -errno;
	if ((err = listen_on(&p, 0, cfg->outbound_port)) < 0 ||
	    (err = listen_on(&p, 1, cfg->inbound_port)) < 0 ||
	    (err = drop_privileges(cfg)) < 0)
		goto out;
	/* The first stats file says "listening" to whoever started us. */
	if (cfg->stats_path && (err = write_stats(&p, true)) < 0) {
		pr_warn("proxy: cannot write %s as uid %u: %s (its directory must be writable "
			"by that uid)", cfg->stats_path, (unsigned)geteuid(), strerror(-err));
		goto out;
	}
	pr_debug("proxy: listening on %u (outbound) and %u (inbound) as uid %u",
		 cfg->outbound_port, cfg->inbound_port, (unsigned)geteuid());

	/* The stop signals are only let in while epoll_pwait sleeps, so one
	 * cannot slip in between the flag check and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);
	next_stats = now_ns() + STATS_INTERVAL_NS;
	while (!stop_requested()) {
		uint64_t now = now_ns();
		int n, timeout_ms = now >= next_stats ? 0 : (int)((next_stats - now) / 1000000) + 1;

		n = epoll_pwait(p.epfd, events, MAX_EVENTS, timeout_ms, &orig);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			pr_warn("proxy: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct endpoint *e = events[i].data.ptr;

			if (e->kind == EP_LISTENER)
				listener_event(&p, e);
			else
				conn_event(&p, e, events[i].events);
		}
		bury_dead(&p);
		now = now_ns();
		if (now >= next_stats) {
			check_timers(&p, now);
			bury_dead(&p);
			periodic_stats(&p);
			next_stats = now + STATS_INTERVAL_NS;
		}
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	while (p.conns)
		conn_close(&p, p.conns, CLOSE_GRACEFUL);
	bury_dead(&p);
	if (write_stats(&p, false) < 0 && !p.stats_warned)
		pr_warn("proxy: cannot write the final stats to %s", cfg->stats_path);
out:
	for (int i = 0; i < 2; i++)
		if (p.listeners[i].fd >= 0)
			close(p.listeners[i].fd);
	close(p.epfd);
	return err;
}
