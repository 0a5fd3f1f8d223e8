/*
 * The Cilium host-routing datapath on a two-node topology built here with ip
 * commands (root only): nodeA holds podA and podC, nodeB holds podB, joined
 * by a wire veth; pods have a /32 and `default via <router IP>` as Cilium's
 * CNI sets them up. The checks are the structural signature of issue #4:
 * eBPF host routing delivers with bpf_redirect_peer/redirect(_neigh) and the
 * node's FORWARD chain never sees a packet; legacy host routing goes through
 * it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "datapath/cilium.h"
#include "lib/exec.h"
#include "lib/netns.h"
#include "lib/netns_admin.h"
#include "test.h"

#define POD_A_IP	"198.18.10.10"
#define POD_C_IP	"198.18.10.12"
#define POD_B_IP	"198.18.11.11"
#define ROUTER_A_IP	"198.18.10.1"	/* Cilium's router IP (cilium_host); answered by BPF ARP */
#define ROUTER_B_IP	"198.18.11.1"
#define NODE_A_IP	"198.18.0.1"
#define NODE_B_IP	"198.18.0.2"
#define POD_CIDR_A	"198.18.10.0/24"
#define POD_CIDR_B	"198.18.11.0/24"
#define SERVER_PORT	5201
#define PAYLOAD_BYTES	(256 * 1024)

struct topo {
	char node_a[64], node_b[64], pod_a[64], pod_b[64], pod_c[64];
	struct cilium_dp *dp_a, *dp_b;
};

/* Runs one command line (words split on spaces) in `netns`; reports failures. */
static bool sh(int line, const char *netns, const char *fmt, ...)
{
	char cmd[512], out[1024], first[256];
	const char *argv[32];
	int argc = 0, rc;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	char words[sizeof(cmd)];
	memcpy(words, cmd, sizeof(cmd));
	for (char *save = NULL, *w = strtok_r(words, " ", &save); w && argc < 31;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	rc = run_cmd_full(netns, NULL, out, sizeof(out), RUN_TIMEOUT_MS, argv);
	if (rc != 0)
		test_failed(__FILE__, line, "`%s` in %s exited %d: %s", cmd, netns ? netns : "root",
			    rc, first_line(out, first, sizeof(first)));
	return rc == 0;
}
#define SH(ns, ...) sh(__LINE__, ns, __VA_ARGS__)

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	test_skip("needs root: builds network namespaces and loads tc BPF programs");
	return false;
}

static void topo_names(struct topo *t)
{
	static int seq;
	int id = getpid(), n = ++seq;

	memset(t, 0, sizeof(*t));
	snprintf(t->node_a, sizeof(t->node_a), "netprof-cil-%d-%d-nodeA", id, n);
	snprintf(t->node_b, sizeof(t->node_b), "netprof-cil-%d-%d-nodeB", id, n);
	snprintf(t->pod_a, sizeof(t->pod_a), "netprof-cil-%d-%d-podA", id, n);
	snprintf(t->pod_b, sizeof(t->pod_b), "netprof-cil-%d-%d-podB", id, n);
	snprintf(t->pod_c, sizeof(t->pod_c), "netprof-cil-%d-%d-podC", id, n);
}

static bool netns_up(const char *ns)
{
	return netns_create(ns) == 0 && SH(ns, "ip link set lo up") &&
	       /* IPv6 chatter (DAD, router solicitations) would blur the counters. */
	       SH(ns, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1") &&
	       SH(ns, "sysctl -qw net.ipv6.conf.default.disable_ipv6=1");
}

/* A pod as Cilium's CNI plumbs it: lxc on the node, eth0 /32 in the pod. */
static bool pod_up(const char *node, const char *pod, const char *lxc, const char *ip,
		   const char *router)
{
	return SH(node, "ip link add %s type veth peer name eth0 netns %s", lxc, pod) &&
	       SH(node, "sysctl -qw net.ipv4.conf.%s.rp_filter=0", lxc) &&
	       SH(node, "ip link set %s up", lxc) &&
	       SH(node, "ip route add %s/32 dev %s scope link", ip, lxc) &&
	       SH(pod, "ip addr add %s/32 dev eth0", ip) &&
	       SH(pod, "ip link set eth0 up") &&
	       SH(pod, "ip route add %s dev eth0 scope link", router) &&
	       SH(pod, "ip route add default via %s dev eth0", router);
}

static bool node_up(const char *node, const char *ip, const char *peer_ip, const char *peer_cidr)
{
	return SH(node, "sysctl -qw net.ipv4.ip_forward=1") &&
	       SH(node, "sysctl -qw net.ipv4.conf.all.rp_filter=0") &&
	       SH(node, "ip addr add %s/24 dev eth0", ip) &&
	       SH(node, "ip link set eth0 up") &&
	       SH(node, "ip route add %s via %s dev eth0", peer_cidr, peer_ip) &&
	       /* One rule with no target: it only counts what FORWARD sees. */
	       SH(node, "iptables -w -A FORWARD");
}

static bool topo_up(struct topo *t)
{
	topo_names(t);
	return netns_up(t->node_a) && netns_up(t->node_b) && netns_up(t->pod_a) &&
	       netns_up(t->pod_b) && netns_up(t->pod_c) &&
	       SH(t->node_a, "ip link add eth0 type veth peer name eth0 netns %s", t->node_b) &&
	       node_up(t->node_a, NODE_A_IP, NODE_B_IP, POD_CIDR_B) &&
	       node_up(t->node_b, NODE_B_IP, NODE_A_IP, POD_CIDR_A) &&
	       pod_up(t->node_a, t->pod_a, "lxca", POD_A_IP, ROUTER_A_IP) &&
	       pod_up(t->node_a, t->pod_c, "lxcc", POD_C_IP, ROUTER_A_IP) &&
	       pod_up(t->node_b, t->pod_b, "lxcb", POD_B_IP, ROUTER_B_IP);
}

static uint32_t ip4(const char *text)
{
	struct in_addr a;

	inet_pton(AF_INET, text, &a);
	return a.s_addr;
}

static bool datapath_up(struct topo *t, bool legacy)
{
	return ASSERT_EQ(cilium_dp_open(&t->dp_a, t->node_a, legacy), 0, "load on nodeA") &&
	       ASSERT_EQ(cilium_dp_open(&t->dp_b, t->node_b, legacy), 0, "load on nodeB") &&
	       ASSERT_EQ(cilium_dp_add_endpoint(t->dp_a, "lxca", ip4(POD_A_IP)), 0, "podA endpoint") &&
	       ASSERT_EQ(cilium_dp_add_endpoint(t->dp_a, "lxcc", ip4(POD_C_IP)), 0, "podC endpoint") &&
	       ASSERT_EQ(cilium_dp_add_endpoint(t->dp_b, "lxcb", ip4(POD_B_IP)), 0, "podB endpoint") &&
	       ASSERT_EQ(cilium_dp_attach_netdev(t->dp_a, "eth0"), 0, "from-netdev on nodeA") &&
	       ASSERT_EQ(cilium_dp_attach_netdev(t->dp_b, "eth0"), 0, "from-netdev on nodeB");
}

static void topo_down(struct topo *t)
{
	/* Filters off the devices first, then the devices go with their namespaces. */
	cilium_dp_close(t->dp_a);
	cilium_dp_close(t->dp_b);
	t->dp_a = t->dp_b = NULL;
	const char *all[] = { t->pod_a, t->pod_b, t->pod_c, t->node_a, t->node_b };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i][0])
			netns_delete(all[i]);
}

/* Packets the node's FORWARD counting rule has seen; -1 when unreadable. */
static long long forward_packets(const char *node)
{
	char out[2048];
	const char *line = out;

	if (RUN(node, out, sizeof(out), "iptables", "-w", "-L", "FORWARD", "-v", "-x", "-n") != 0)
		return -1;
	/* "Chain FORWARD ...", the column header, then our rule. */
	for (int skip = 0; skip < 2 && line; skip++) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return line && *line ? strtoll(line, NULL, 10) : -1;
}

struct client {
	const char *netns;
	const char *server_ip;
	int err;		/* 0 when the server confirmed every byte */
	char reply[32];
};

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 5 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* In the client pod: connect, send PAYLOAD_BYTES, read the server's count. */
static void *client_main(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(SERVER_PORT) };
	static char buf[PAYLOAD_BYTES];
	size_t sent = 0, got = 0;
	ssize_t n;
	int fd;

	c->err = netns_switch(c->netns);
	if (c->err)
		return NULL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		c->err = -errno;
		return NULL;
	}
	set_timeouts(fd);
	inet_pton(AF_INET, c->server_ip, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		c->err = -errno;
		goto out;
	}
	memset(buf, 'x', sizeof(buf));
	while (sent < sizeof(buf)) {
		n = send(fd, buf + sent, sizeof(buf) - sent, MSG_NOSIGNAL);
		if (n <= 0) {
			c->err = n < 0 ? -errno : -EPIPE;
			goto out;
		}
		sent += n;
	}
	shutdown(fd, SHUT_WR);
	while (got + 1 < sizeof(c->reply) && (n = recv(fd, c->reply + got, sizeof(c->reply) - 1 - got, 0)) > 0)
		got += n;
	c->reply[got] = '\0';
	c->err = strtoul(c->reply, NULL, 10) == sizeof(buf) ? 0 : -EPROTO;
out:
	close(fd);
	return NULL;
}

/*
 * One TCP connection from `client_ns` to server_ip:SERVER_PORT in
 * `server_ns`, carrying PAYLOAD_BYTES; the server answers with the count it
 * received. Returns 0 or -errno.
 */
static int tcp_exchange(const char *client_ns, const char *server_ns, const char *server_ip)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(SERVER_PORT) };
	struct client c = { .netns = client_ns, .server_ip = server_ip };
	int lfd, cfd = -1, saved, err = 0, one = 1;
	size_t total = 0;
	pthread_t thread;
	char buf[65536];
	ssize_t n;

	saved = netns_enter(server_ns);
	if (saved < 0)
		return saved;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	netns_leave(saved);
	if (lfd < 0)
		return -errno;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_timeouts(lfd);
	inet_pton(AF_INET, server_ip, &sa.sin_addr);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0) {
		err = -errno;
		close(lfd);
		return err;
	}
	if ((err = -pthread_create(&thread, NULL, client_main, &c))) {
		close(lfd);
		return err;
	}
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0) {
		err = -errno;
	} else {
		set_timeouts(cfd);
		while ((n = recv(cfd, buf, sizeof(buf), 0)) > 0)
			total += n;
		n = snprintf(buf, sizeof(buf), "%zu", total);
		send(cfd, buf, n, MSG_NOSIGNAL);
		close(cfd);
	}
	pthread_join(thread, NULL);
	close(lfd);
	return err ? err : c.err;
}

static void show(const char *what, const struct cilium_dp_counters *c)
{
	if (!getenv("NETPROF_TEST_VERBOSE"))
		return;
	printf("    %s: from_container=%llu from_netdev=%llu redirect_peer=%llu redirect_neigh=%llu "
	       "redirect=%llu to_stack=%llu fib_miss=%llu arp_reply=%llu\n", what,
	       (unsigned long long)c->from_container, (unsigned long long)c->from_netdev,
	       (unsigned long long)c->redirect_peer, (unsigned long long)c->redirect_neigh,
	       (unsigned long long)c->redirect, (unsigned long long)c->to_stack,
	       (unsigned long long)c->fib_miss, (unsigned long long)c->arp_reply);
}

static void show_forward(const struct topo *t)
{
	if (getenv("NETPROF_TEST_VERBOSE"))
		printf("    FORWARD packets: nodeA=%lld nodeB=%lld\n", forward_packets(t->node_a),
		       forward_packets(t->node_b));
}

/* A 256 KiB transfer is well over 10 segments each way, even with GSO/GRO. */
#define MIN_PACKETS 5

TEST(cilium_dp_cross_node_bypasses_netfilter)
{
	struct cilium_dp_counters a, b;
	struct topo t;

	if (!need_root())
		return;
	if (!topo_up(&t) || !datapath_up(&t, false))
		goto out;
	if (!ASSERT_EQ(tcp_exchange(t.pod_a, t.pod_b, POD_B_IP), 0, "podA -> podB over TCP"))
		goto out;
	if (!ASSERT_EQ(cilium_dp_read_counters(t.dp_a, &a), 0, "nodeA counters") ||
	    !ASSERT_EQ(cilium_dp_read_counters(t.dp_b, &b), 0, "nodeB counters"))
		goto out;
	show("nodeA", &a);
	show("nodeB", &b);
	show_forward(&t);
	/* Out of nodeA: FIB, then neighbour resolution by the kernel (no entry
	 * yet for nodeB), then the resolved MACs. */
	ASSERT_TRUE(a.from_container >= MIN_PACKETS, "nodeA from-container saw podA's packets");
	ASSERT_TRUE(a.redirect_neigh >= 1, "nodeA used bpf_redirect_neigh for the first packet");
	ASSERT_TRUE(a.redirect_neigh + a.redirect >= MIN_PACKETS, "nodeA routed podA's packets in BPF");
	ASSERT_TRUE(a.arp_reply >= 1, "podA's ARP for its gateway answered in BPF");
	/* Into podB on nodeB, and the replies into podA on nodeA. */
	ASSERT_TRUE(b.from_netdev >= MIN_PACKETS, "nodeB from-netdev saw the wire's packets");
	ASSERT_TRUE(b.redirect_peer >= MIN_PACKETS, "nodeB delivered into podB with redirect_peer");
	ASSERT_TRUE(b.redirect_neigh + b.redirect >= MIN_PACKETS, "nodeB routed podB's replies in BPF");
	ASSERT_TRUE(a.redirect_peer >= MIN_PACKETS, "nodeA delivered the replies with redirect_peer");
	ASSERT_EQ(a.fib_miss + b.fib_miss, 0, "every FIB lookup found a route");
	/* The signature: not one packet through the nodes' netfilter FORWARD hook. */
	ASSERT_EQ(forward_packets(t.node_a), 0, "nodeA FORWARD packets");
	ASSERT_EQ(forward_packets(t.node_b), 0, "nodeB FORWARD packets");
out:
	topo_down(&t);
}

TEST(cilium_dp_same_node_redirect_peer)
{
	struct cilium_dp_counters a, b;
	struct topo t;

	if (!need_root())
		return;
	if (!topo_up(&t) || !datapath_up(&t, false))
		goto out;
	if (!ASSERT_EQ(tcp_exchange(t.pod_a, t.pod_c, POD_C_IP), 0, "podA -> podC over TCP"))
		goto out;
	if (!ASSERT_EQ(cilium_dp_read_counters(t.dp_a, &a), 0, "nodeA counters") ||
	    !ASSERT_EQ(cilium_dp_read_counters(t.dp_b, &b), 0, "nodeB counters"))
		goto out;
	show("nodeA", &a);
	show("nodeB", &b);
	show_forward(&t);
	/* lxcA -> podC and lxcC -> podA, both straight into the peer. */
	ASSERT_TRUE(a.redirect_peer >= 2 * MIN_PACKETS, "both directions used redirect_peer");
	ASSERT_EQ(a.redirect + a.redirect_neigh, 0, "no FIB redirect for a local pod");
	ASSERT_EQ(a.from_netdev, 0, "nothing crossed the wire");
	ASSERT_EQ(b.from_container + b.redirect_peer, 0, "nodeB saw nothing");
	ASSERT_EQ(forward_packets(t.node_a), 0, "nodeA FORWARD packets");
out:
	topo_down(&t);
}

TEST(cilium_dp_legacy_routes_through_netfilter)
{
	struct cilium_dp_counters a, b;
	struct topo t;

	if (!need_root())
		return;
	if (!topo_up(&t) || !datapath_up(&t, true))
		goto out;
	if (!ASSERT_EQ(tcp_exchange(t.pod_a, t.pod_b, POD_B_IP), 0, "podA -> podB over TCP"))
		goto out;
	if (!ASSERT_EQ(cilium_dp_read_counters(t.dp_a, &a), 0, "nodeA counters") ||
	    !ASSERT_EQ(cilium_dp_read_counters(t.dp_b, &b), 0, "nodeB counters"))
		goto out;
	show("nodeA", &a);
	show("nodeB", &b);
	show_forward(&t);
	ASSERT_TRUE(a.from_container >= MIN_PACKETS, "from-container still runs");
	ASSERT_TRUE(a.to_stack >= MIN_PACKETS, "from-container hands podA's packets to the stack");
	ASSERT_TRUE(b.from_netdev >= MIN_PACKETS, "from-netdev still runs");
	ASSERT_EQ(a.redirect_peer + a.redirect + a.redirect_neigh, 0, "nodeA redirected nothing");
	ASSERT_EQ(b.redirect_peer + b.redirect + b.redirect_neigh, 0, "nodeB redirected nothing");
	ASSERT_TRUE(a.arp_reply >= 1, "ARP for the gateway is still answered in BPF");
	ASSERT_TRUE(forward_packets(t.node_a) >= MIN_PACKETS, "nodeA FORWARD counts the flow");
	ASSERT_TRUE(forward_packets(t.node_b) >= MIN_PACKETS, "nodeB FORWARD counts the flow");
out:
	topo_down(&t);
}

TEST(cilium_dp_refuses_bad_input)
{
	struct cilium_dp *dp = (struct cilium_dp *)&dp;
	struct topo t;

	ASSERT_EQ(cilium_dp_open(&dp, "netprof-cil-no-such-namespace", false), -ENOENT,
		  "a missing namespace");
	ASSERT_TRUE(dp == NULL, "no handle on failure");
	cilium_dp_close(NULL);
	if (!need_root())
		return;
	if (!topo_up(&t))
		goto out;
	if (!ASSERT_EQ(cilium_dp_open(&t.dp_a, t.node_a, false), 0, "load on nodeA"))
		goto out;
	ASSERT_EQ(cilium_dp_add_endpoint(t.dp_a, "lxcnone", ip4(POD_A_IP)), -ENODEV, "no such lxc");
	ASSERT_EQ(cilium_dp_add_endpoint(t.dp_a, "lo", ip4(POD_A_IP)), -EINVAL, "not a veth");
	ASSERT_EQ(cilium_dp_add_endpoint(t.dp_a, "lxca", ip4(POD_A_IP)), 0, "podA endpoint");
	ASSERT_EQ(cilium_dp_add_endpoint(t.dp_a, "lxcc", ip4(POD_A_IP)), -EEXIST, "address taken");
	ASSERT_EQ(cilium_dp_add_endpoint(t.dp_a, "lxca", ip4(POD_C_IP)), -EEXIST, "lxc taken");
	ASSERT_EQ(cilium_dp_attach_netdev(t.dp_a, "wire9"), -ENODEV, "no such netdev");
out:
	topo_down(&t);
}

static void count_attachment(const char *dev, const char *dir, const char *prog, void *arg)
{
	char *seen = arg;
	size_t used = strlen(seen);

	snprintf(seen + used, 256 - used, "%s/%s/%s ", dev, dir, prog);
}

/* The filters sit on the node's devices while open, and are gone, with the
 * clsact qdiscs the library added, once it is closed. */
TEST(cilium_dp_close_detaches)
{
	char out[2048], seen[256] = "";
	struct topo t;

	if (!need_root())
		return;
	if (!topo_up(&t) || !datapath_up(&t, false))
		goto out;
	ASSERT_EQ(cilium_dp_describe(t.dp_a, count_attachment, seen), 0, "describe nodeA");
	ASSERT_STREQ(seen, "lxca/ingress/cil_from_container lxcc/ingress/cil_from_container "
		     "eth0/ingress/cil_from_netdev ", "nodeA attachments");
	if (ASSERT_EQ(RUN(t.node_a, out, sizeof(out), "tc", "filter", "show", "dev", "lxca",
			  "ingress"), 0, "tc filter show"))
		/* tc shows the kernel's name for the program: 15 characters. */
		ASSERT_TRUE(strstr(out, "cil_from_contai") && strstr(out, "direct-action"),
			    "from-container is a direct-action filter on lxca ingress");
	if (ASSERT_EQ(RUN(t.node_b, out, sizeof(out), "tc", "filter", "show", "dev", "eth0",
			  "ingress"), 0, "tc filter show"))
		ASSERT_TRUE(strstr(out, "cil_from_netdev") != NULL, "from-netdev on nodeB's wire");
	/* podC goes first, and lxcc with it: close must still clean the rest. */
	ASSERT_EQ(netns_delete(t.pod_c), 0, "podC removed");
	cilium_dp_close(t.dp_a);
	cilium_dp_close(t.dp_b);
	t.dp_a = t.dp_b = NULL;
	const char *devs[][2] = { { t.node_a, "lxca" }, { t.node_a, "eth0" },
				  { t.node_b, "lxcb" }, { t.node_b, "eth0" } };
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		if (ASSERT_EQ(RUN(devs[i][0], out, sizeof(out), "tc", "qdisc", "show", "dev",
				  devs[i][1]), 0, "tc qdisc show"))
			ASSERT_TRUE(strstr(out, "clsact") == NULL, devs[i][1]);
	}
out:
	topo_down(&t);
}
