/*
 * Socket-LB (Cilium's kube-proxy replacement, bpf_sock.c): a process in a
 * netprof-* cgroup connects to a ClusterIP and reaches the backend, sees the
 * ClusterIP as its peer, and conntrack holds no NAT entry because no packet
 * ever carried the ClusterIP; an unconnected UDP socket's datagrams go to the
 * backend and come back from the ClusterIP. A process outside the cgroup is
 * not balanced.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "lib/exec.h"
#include "lib/netns.h"
#include "lib/netns_admin.h"
#include "datapath/socklb.h"
#include "test.h"

#define VIP		"198.19.100.1"
#define VIP_PORT	80
#define BACKEND_IP	"198.19.200.10"
#define BACKEND_PORT	8080

struct client_result {
	int err;
	struct sockaddr_in peer;	/* what getpeername() told the app */
	int udp_err;
	struct sockaddr_in udp_from;	/* what recvfrom() told the app */
};

static uint32_t ip4(const char *text)
{
	struct in_addr a;

	inet_pton(AF_INET, text, &a);
	return a.s_addr;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 5 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The forked client: waits until it sits in the cgroup, then talks to the VIP. */
static void client_child(const char *netns, int go_fd, int result_fd)
{
	struct sockaddr_in vip = { .sin_family = AF_INET, .sin_port = htons(VIP_PORT),
				   .sin_addr.s_addr = ip4(VIP) };
	struct client_result r = { .udp_err = -EIO };
	socklen_t len = sizeof(r.peer);
	char go, reply[8] = "";
	int fd;

	if (read(go_fd, &go, 1) != 1 || (r.err = netns_switch(netns)))
		goto out;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r.err = -errno;
		goto out;
	}
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&vip, sizeof(vip)) < 0 ||
	    getpeername(fd, (struct sockaddr *)&r.peer, &len) < 0 ||
	    send(fd, "ping", 4, MSG_NOSIGNAL) != 4 || recv(fd, reply, 4, MSG_WAITALL) != 4)
		r.err = -errno;
	else if (memcmp(reply, "pong", 4) != 0)
		r.err = -EPROTO;
	close(fd);

	/* Unconnected UDP: sendmsg4 balances each datagram, recvmsg4 shows the VIP. */
	len = sizeof(r.udp_from);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r.udp_err = -errno;
		goto out;
	}
	set_timeouts(fd);
	memset(reply, 0, sizeof(reply));
	r.udp_err = 0;
	if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&vip, sizeof(vip)) != 4 ||
	    recvfrom(fd, reply, 4, 0, (struct sockaddr *)&r.udp_from, &len) != 4)
		r.udp_err = -errno;
	else if (memcmp(reply, "pong", 4) != 0)
		r.udp_err = -EPROTO;
	close(fd);
out:
	if (write(result_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

/* Connecting to the VIP from outside the cgroup: nothing rewrites it. */
static int connect_outside_cgroup(const char *netns)
{
	struct sockaddr_in vip = { .sin_family = AF_INET, .sin_port = htons(VIP_PORT),
				   .sin_addr.s_addr = ip4(VIP) };
	int saved = netns_enter(netns), fd, err = 0;

	if (saved < 0)
		return saved;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	netns_leave(saved);
	if (fd < 0)
		return -errno;
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&vip, sizeof(vip)) < 0)
		err = -errno;
	close(fd);
	return err;
}

TEST(socklb_balances_tcp_and_udp_without_nat)
{
	struct sockaddr_in backend = { .sin_family = AF_INET, .sin_port = htons(BACKEND_PORT),
				       .sin_addr.s_addr = ip4(BACKEND_IP) };
	char netns[64], cgname[64], cgpath[PATH_MAX], out[8192], buf[8];
	int go[2] = { -1, -1 }, res[2] = { -1, -1 }, lfd = -1, ufd = -1, cfd, saved, one = 1;
	struct sockaddr_in from;
	socklen_t from_len = sizeof(from);
	struct client_result r = { .err = -EIO };
	struct socklb *lb = NULL;
	bool have_cgroup = false;
	pid_t child = -1;

	if (geteuid() != 0) {
		test_skip("needs root: makes a cgroup and a network namespace, loads cgroup BPF");
		return;
	}
	snprintf(netns, sizeof(netns), "netprof-cil-%d-lb", (int)getpid());
	snprintf(cgname, sizeof(cgname), "netprof-cil-%d", (int)getpid());
	if (!ASSERT_EQ(netns_create(netns), 0, "namespace") ||
	    !ASSERT_EQ(RUN(netns, NULL, 0, "ip", "link", "set", "lo", "up"), 0, "lo up") ||
	    !ASSERT_EQ(RUN(netns, NULL, 0, "ip", "addr", "add", BACKEND_IP "/32", "dev", "lo"), 0,
		       "backend address") ||
	    /* A conntrack match turns connection tracking on in the namespace, so
	     * an empty NAT picture below means something. */
	    !ASSERT_EQ(RUN(netns, NULL, 0, "iptables", "-w", "-A", "OUTPUT", "-m", "conntrack",
			   "--ctstate", "NEW,ESTABLISHED"), 0, "conntrack rule"))
		goto out;
	if (!ASSERT_EQ(cgroup_create(cgname, cgpath, sizeof(cgpath)), 0, "cgroup"))
		goto out;
	have_cgroup = true;
	if (!ASSERT_EQ(socklb_open(&lb, cgpath), 0, "socket-LB on the cgroup") ||
	    !ASSERT_EQ(socklb_add_service(lb, ip4(VIP), htons(VIP_PORT), ip4(BACKEND_IP),
					  htons(BACKEND_PORT)), 0, "service"))
		goto out;

	saved = netns_enter(netns);
	if (!ASSERT_TRUE(saved >= 0, "enter the namespace"))
		goto out;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	netns_leave(saved);
	set_timeouts(ufd);
	if (!ASSERT_EQ(bind(ufd, (struct sockaddr *)&backend, sizeof(backend)), 0, "UDP backend bind"))
		goto out;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_timeouts(lfd);
	if (!ASSERT_EQ(bind(lfd, (struct sockaddr *)&backend, sizeof(backend)), 0, "backend bind") ||
	    !ASSERT_EQ(listen(lfd, 4), 0, "backend listen"))
		goto out;

	/* No route to the VIP: only the cgroup's connect4 program makes it reachable. */
	ASSERT_EQ(connect_outside_cgroup(netns), -ENETUNREACH, "VIP unbalanced outside the cgroup");
	ASSERT_EQ(socklb_rewrites(lb), 0, "no rewrite outside the cgroup");

	if (!ASSERT_EQ(pipe2(go, O_CLOEXEC), 0, "pipe") || !ASSERT_EQ(pipe2(res, O_CLOEXEC), 0, "pipe"))
		goto out;
	child = fork();
	if (child == 0)
		client_child(netns, go[0], res[1]);
	if (!ASSERT_TRUE(child > 0, "fork") ||
	    !ASSERT_EQ(cgroup_add_pid(cgpath, child), 0, "client into the cgroup") ||
	    !ASSERT_EQ(write(go[1], "g", 1), 1, "start the client"))
		goto out;
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (ASSERT_TRUE(cfd >= 0, "the backend accepted a connection")) {
		set_timeouts(cfd);
		if (ASSERT_EQ(recv(cfd, buf, 4, MSG_WAITALL), 4, "request at the backend"))
			send(cfd, "pong", 4, MSG_NOSIGNAL);
		close(cfd);
	}
	if (ASSERT_EQ(recvfrom(ufd, buf, 4, 0, (struct sockaddr *)&from, &from_len), 4,
		      "datagram at the backend"))
		sendto(ufd, "pong", 4, 0, (struct sockaddr *)&from, from_len);
	if (!ASSERT_EQ(read(res[0], &r, sizeof(r)), sizeof(r), "client result"))
		goto out;
	ASSERT_EQ(r.err, 0, "client connect, getpeername, ping/pong");
	ASSERT_EQ(r.peer.sin_addr.s_addr, ip4(VIP), "getpeername shows the VIP");
	ASSERT_EQ(ntohs(r.peer.sin_port), VIP_PORT, "getpeername shows the service port");
	ASSERT_EQ(r.udp_err, 0, "client sendto, recvfrom over UDP");
	ASSERT_EQ(r.udp_from.sin_addr.s_addr, ip4(VIP), "recvfrom shows the VIP");
	ASSERT_EQ(ntohs(r.udp_from.sin_port), VIP_PORT, "recvfrom shows the service port");
	ASSERT_EQ(socklb_rewrites(lb), 2, "one connect and one datagram rewritten");

	/* Both flows are tracked, to the backend; nothing anywhere carries the VIP. */
	if (ASSERT_EQ(RUN(netns, out, sizeof(out), "conntrack", "-L"), 0, "conntrack -L")) {
		ASSERT_TRUE(strstr(out, "tcp ") && strstr(out, "dport=8080"),
			    "conntrack tracks the TCP flow to the backend");
		ASSERT_TRUE(strstr(out, "udp ") != NULL, "conntrack tracks the UDP flow");
		ASSERT_TRUE(strstr(out, VIP) == NULL, "no conntrack entry mentions the VIP (no DNAT)");
		if (getenv("NETPROF_TEST_VERBOSE"))
			printf("    conntrack -L:\n%s", out);
	}
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (res[i] >= 0)
			close(res[i]);
	}
	if (lfd >= 0)
		close(lfd);
	if (ufd >= 0)
		close(ufd);
	socklb_close(lb);
	if (have_cgroup)
		ASSERT_EQ(cgroup_remove_tree(cgpath), 0, "cgroup removed");
	netns_delete(netns);
}

TEST(socklb_refuses_foreign_cgroups)
{
	char mount[PATH_MAX];
	struct socklb *lb = (struct socklb *)&lb;

	if (cgroup2_mount(mount, sizeof(mount)) != 0) {
		test_skip("no cgroup2 mount on this machine");
		return;
	}
	ASSERT_EQ(socklb_open(&lb, mount), -EINVAL, "the cgroup root is refused");
	ASSERT_TRUE(lb == NULL, "no handle on failure");
	ASSERT_EQ(socklb_open(&lb, "/tmp"), -EINVAL, "a path outside cgroup2 is refused");
	strncat(mount, "/netprof-cil-no-such-cgroup", sizeof(mount) - strlen(mount) - 1);
	ASSERT_EQ(socklb_open(&lb, mount), -ENOENT, "a missing cgroup");
	socklb_close(NULL);
}
