/*
 * The common frame of every emulated datapath: naming, the address plan,
 * node namespaces and the wire, the run's cgroup, iptables-restore input,
 * and the build / remove sequence that calls each datapath's operations.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "lib/cgroup.h"
#include "lib/exec.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/teardown.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static const char *const cni_names[TOPO_CNI_COUNT] = {
	[TOPO_CNI_HOST] = "host",
	[TOPO_CNI_CALICO] = "calico",
	[TOPO_CNI_CILIUM] = "cilium",
	[TOPO_CNI_CILIUM_LEGACY] = "cilium-legacy",
	[TOPO_CNI_MACVLAN] = "macvlan",
	[TOPO_CNI_SIDECAR] = "sidecar",
};

const struct topo_cni_ops *topo_ops(enum topo_cni cni)
{
	switch (cni) {
	case TOPO_CNI_HOST: return &topo_host_ops;
	case TOPO_CNI_CALICO: return &topo_calico_ops;
	case TOPO_CNI_CILIUM: return &topo_cilium_ops;
	case TOPO_CNI_CILIUM_LEGACY: return &topo_cilium_legacy_ops;
	case TOPO_CNI_MACVLAN: return &topo_macvlan_ops;
	case TOPO_CNI_SIDECAR: return &topo_sidecar_ops;
	default: return NULL;
	}
}

int topo_cni_from_name(const char *name)
{
	for (int i = 0; i < TOPO_CNI_COUNT; i++)
		if (!strcmp(cni_names[i], name))
			return i;
	return -1;
}

const char *topo_cni_name(enum topo_cni cni)
{
	return cni < TOPO_CNI_COUNT ? cni_names[cni] : "?";
}

const char *topo_cni_list(void)
{
	return "host, calico, cilium, cilium-legacy, macvlan, sidecar";
}

void topo_opts_defaults(struct topo_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cni = TOPO_CNI_CALICO;
	o->mtu = 1500;
	o->subnets = 1;
	snprintf(o->iptables, sizeof(o->iptables), "legacy");
}

int topo_opts_check(const struct topo_opts *o)
{
	const struct topo_cni_ops *ops = o->cni < TOPO_CNI_COUNT ? topo_ops(o->cni) : NULL;
	const char *cni = topo_cni_name(o->cni);

	if (!ops) {
		usage_error("topo: --cni %s is not in this build yet (its component has not landed)",
			    cni);
		return -EINVAL;
	}
	if (!o->run[0] || strspn(o->run, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(o->run)) {
		usage_error("topo: --run '%s': use 1 to %d characters of a-z, 0-9 and '-'", o->run,
			    TOPO_RUN_MAX);
		return -EINVAL;
	}
	if (strcmp(o->iptables, "legacy") && strcmp(o->iptables, "nft")) {
		usage_error("topo: --iptables '%s': use legacy or nft", o->iptables);
		return -EINVAL;
	}
	if (o->subnets != 1 && o->cni != TOPO_CNI_MACVLAN) {
		usage_error("topo: --subnets %u only applies to --cni macvlan (%s routes every pod "
			    "through its node); drop --subnets", o->subnets, cni);
		return -EINVAL;
	}
	if (!ops->has_pods && (o->same_node || o->target_service)) {
		usage_error("topo: --cni %s has no pods: drop --placement same-node and "
			    "--target service", cni);
		return -EINVAL;
	}
	if (o->socket_lb && !ops->socket_lb) {
		usage_error("topo: --socket-lb needs a BPF datapath (cilium, cilium-legacy, "
			    "macvlan); %s's ClusterIPs are kube-proxy NAT", cni);
		return -EINVAL;
	}
	if ((o->pods || o->policies) && !ops->calico_rules) {
		usage_error("topo: --pods and --policies size Calico's ruleset; --cni %s has none "
			    "(use calico or sidecar)", cni);
		return -EINVAL;
	}
	if (o->services && !o->target_service) {
		usage_error("topo: --services %u adds filler ClusterIPs: it needs --target service",
			    o->services);
		return -EINVAL;
	}
	return ops->check ? ops->check(o) : 0;
}

/* ---- naming ---- */

static uint64_t fnv1a(const char *a, const char *b)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *s = a; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h = (h ^ '/') * 0x100000001b3ULL;
	for (const char *s = b; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	/* murmur3's finaliser: every input bit reaches the top hex digits,
	 * which the dispatch tree splits on. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

void topo_veth_name(char *out, size_t len, const char *prefix, const char *run, const char *pod)
{
	/* 11 hex characters: 44 bits of the hash, as felix truncates its sha1. */
	snprintf(out, len, "%s%011llx", prefix,
		 (unsigned long long)(fnv1a(run, pod) & 0xfffffffffffULL));
}

void topo_pod_name(char *out, size_t len, int node, unsigned i)
{
	snprintf(out, len, "node%d-pod%u", node + 1, i);
}

void topo_pod_ip(char *out, size_t len, int node, unsigned host)
{
	snprintf(out, len, "198.18.%d.%u", node + 1, host);
}

int topo_node_index(const struct topo *t, const char *node_netns)
{
	return strcmp(node_netns, t->nodes[1]) ? 0 : 1;
}

static void set_endpoint_ip(struct topo_endpoint *ep, const char *ip)
{
	snprintf(ep->ip_str, sizeof(ep->ip_str), "%s", ip);
	inet_pton(AF_INET, ip, &ep->ip);
}

/* Every name and address of the topology follows from its options. */
void topo_plan(const struct topo_opts *o, struct topo *t)
{
	const struct topo_cni_ops *ops = topo_ops(o->cni);
	struct topo_runtime *rt = t->rt;
	char root[PATH_MAX];

	memset(t, 0, sizeof(*t));
	t->rt = rt;
	t->opts = *o;
	snprintf(t->nodes[0], TOPO_NS_MAX, "netprof-%s-node1", o->run);
	snprintf(t->nodes[1], TOPO_NS_MAX, "netprof-%s-node2", o->run);
	if (o->cni == TOPO_CNI_MACVLAN && o->subnets == 2)
		snprintf(t->gateway, TOPO_NS_MAX, "netprof-%s-gw", o->run);

	if (!ops->has_pods) {
		snprintf(t->client.netns, TOPO_NS_MAX, "%s", t->nodes[0]);
		snprintf(t->server.netns, TOPO_NS_MAX, "%s", t->nodes[1]);
		snprintf(t->client.node_netns, TOPO_NS_MAX, "%s", t->nodes[0]);
		snprintf(t->server.node_netns, TOPO_NS_MAX, "%s", t->nodes[1]);
		set_endpoint_ip(&t->client, TOPO_WIRE_NET ".1");
		set_endpoint_ip(&t->server, TOPO_WIRE_NET ".2");
	} else {
		snprintf(t->client.netns, TOPO_NS_MAX, "netprof-%s-pod-a", o->run);
		snprintf(t->server.netns, TOPO_NS_MAX, "netprof-%s-pod-b", o->run);
		snprintf(t->client.node_netns, TOPO_NS_MAX, "%s", t->nodes[0]);
		snprintf(t->server.node_netns, TOPO_NS_MAX, "%s", t->nodes[o->same_node ? 0 : 1]);
		if (o->cni == TOPO_CNI_MACVLAN) {
			set_endpoint_ip(&t->client, TOPO_WIRE_NET ".11");
			set_endpoint_ip(&t->server, o->subnets == 2 ? TOPO_SEG2_NET ".12"
								    : TOPO_WIRE_NET ".12");
		} else {
			char ip[16];

			topo_pod_ip(ip, sizeof(ip), 0, 2);
			set_endpoint_ip(&t->client, ip);
			topo_pod_ip(ip, sizeof(ip), o->same_node ? 0 : 1, o->same_node ? 3 : 2);
			set_endpoint_ip(&t->server, ip);
		}
		if (o->cni != TOPO_CNI_MACVLAN) {
			const char *prefix = (o->cni == TOPO_CNI_CILIUM ||
					      o->cni == TOPO_CNI_CILIUM_LEGACY) ? "lxc" : "cali";

			topo_veth_name(t->client.host_ifname, 16, prefix, o->run, "pod-a");
			topo_veth_name(t->server.host_ifname, 16, prefix, o->run, "pod-b");
		}
	}
	snprintf(t->client.ifname, 16, "eth0");
	snprintf(t->server.ifname, 16, "eth0");
	t->server_port = TOPO_SERVER_PORT;
	if (o->target_service) {
		snprintf(t->vip_str, sizeof(t->vip_str), TOPO_VIP);
		inet_pton(AF_INET, TOPO_VIP, &t->vip);
		t->vip_port = TOPO_VIP_PORT;
		snprintf(t->dst_str, sizeof(t->dst_str), "%s", t->vip_str);
		t->dst_port = t->vip_port;
	} else {
		snprintf(t->dst_str, sizeof(t->dst_str), "%s", t->server.ip_str);
		t->dst_port = t->server_port;
	}
	if (cgroup2_mount(root, sizeof(root)) == 0)
		snprintf(t->cgroup, sizeof(t->cgroup), "%.*s/netprof-%s", PATH_MAX - 40, root,
			 o->run);
	ops->hops(t);
}

/* ---- running tools inside the namespaces ---- */

int topo_ip_batch(const char *ns, const char *cmds)
{
	char out[1024], line[256];
	int rc = RUN_INPUT(ns, cmds, out, sizeof(out), "ip", "-batch", "-");

	if (rc != 0) {
		pr_warn("ip in %s failed: %s", ns ? ns : "the root namespace",
			rc < 0 ? strerror(-rc) : first_line(out, line, sizeof(line)));
		pr_debug("ip commands were:\n%s", cmds);
		return -EIO;
	}
	return 0;
}

int topo_sysctls(const char *ns, const char *const kv[])
{
	const char *argv[48] = { "sysctl", "-q", "-w" };
	char out[512], line[256];
	int n = 3, rc;

	for (int i = 0; kv[i] && n < 47; i++)
		argv[n++] = kv[i];
	argv[n] = NULL;
	/* RUN() enters the namespace before exec, so /proc/sys/net is ns's. */
	rc = run_cmd_full(ns, NULL, out, sizeof(out), RUN_TIMEOUT_MS, argv);
	if (rc != 0) {
		pr_warn("sysctl in %s failed: %s", ns, rc < 0 ? strerror(-rc)
						   : first_line(out, line, sizeof(line)));
		return -EIO;
	}
	return 0;
}

int topo_sysctlf(const char *ns, const char *fmt, ...)
{
	char kv[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(kv, sizeof(kv), fmt, ap);
	va_end(ap);
	return topo_sysctls(ns, (const char *const[]){ kv, NULL });
}

static void remove_netns(void *arg)
{
	netns_delete(arg);
	free(arg);
}

int topo_netns_add(struct topo *t, const char *ns, bool forwarding)
{
	int err = netns_create(ns);

	(void)t;
	if (err)
		return err;
	teardown_register(remove_netns, strdup(ns));
	/* No IPv6: router solicitations and MLD reports would add packets
	 * that are not the workload's to every counter. */
	err = topo_ip_batch(ns, "link set lo up\n");
	if (!err)
		err = topo_sysctls(ns, (const char *const[]){
			"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
			forwarding ? "net.ipv4.ip_forward=1" : "net.ipv4.ip_forward=0",
			/* IPv4 conf is inherited from the root namespace: pin it. */
			"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
			"net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
			NULL });
	return err;
}

void topo_add_hop(struct topo *t, const char *ns, const char *dev, const char *fmt, ...)
{
	struct topo_hop *h;
	va_list ap;

	if (t->nr_hops >= TOPO_MAX_HOPS)
		return;
	h = &t->hops[t->nr_hops++];
	snprintf(h->netns, sizeof(h->netns), "%s", ns);
	snprintf(h->dev, sizeof(h->dev), "%s", dev ? dev : "");
	va_start(ap, fmt);
	vsnprintf(h->what, sizeof(h->what), fmt, ap);
	va_end(ap);
}

/* ---- iptables-restore input ---- */

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->failed)
		return;
	for (;;) {
		size_t room = sb->cap - sb->len;

		va_start(ap, fmt);
		n = vsnprintf(sb->buf ? sb->buf + sb->len : NULL, sb->buf ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->failed = true;
			return;
		}
		if (sb->buf && (size_t)n < room) {
			sb->len += n;
			return;
		}
		size_t cap = sb->cap ? sb->cap * 2 : 4096;
		while (cap < sb->len + n + 1)
			cap *= 2;
		char *grown = realloc(sb->buf, cap);
		if (!grown) {
			sb->failed = true;
			return;
		}
		sb->buf = grown;
		sb->cap = cap;
	}
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	memset(sb, 0, sizeof(*sb));
}

static const char *const table_names[IPT_NR_TABLES] = { "raw", "mangle", "filter", "nat" };
static const char *const builtin_chains[IPT_NR_TABLES][6] = {
	[IPT_RAW] = { "PREROUTING", "OUTPUT" },
	[IPT_MANGLE] = { "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING" },
	[IPT_FILTER] = { "INPUT", "FORWARD", "OUTPUT" },
	[IPT_NAT] = { "PREROUTING", "INPUT", "OUTPUT", "POSTROUTING" },
};

void rs_init(struct ipt_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	for (int tb = 0; tb < IPT_NR_TABLES; tb++)
		for (int c = 0; builtin_chains[tb][c]; c++)
			sb_printf(&rs->chains[tb], ":%s ACCEPT [0:0]\n", builtin_chains[tb][c]);
}

void rs_chain(struct ipt_ruleset *rs, enum ipt_table table, const char *fmt, ...)
{
	char name[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	sb_printf(&rs->chains[table], ":%s - [0:0]\n", name);
}

void rs_rule(struct ipt_ruleset *rs, enum ipt_table table, const char *fmt, ...)
{
	char rule[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	sb_printf(&rs->rules[table], "%s\n", rule);
	rs->nr_rules[table]++;
}

unsigned rs_count(const struct ipt_ruleset *rs)
{
	unsigned n = 0;

	for (int tb = 0; tb < IPT_NR_TABLES; tb++)
		n += rs->nr_rules[tb];
	return n;
}

const char *topo_ipt_binary(const char *backend, const char *what)
{
	static char name[48];

	snprintf(name, sizeof(name), "iptables-%s-%s", !strcmp(backend, "nft") ? "nft" : "legacy",
		 what);
	return name;
}

int rs_load(const struct ipt_ruleset *rs, const char *ns, const char *backend)
{
	struct strbuf all = {};
	char out[1024], line[256], bin[48];
	int rc;

	for (int tb = 0; tb < IPT_NR_TABLES; tb++) {
		if (!rs->nr_rules[tb])
			continue;
		sb_printf(&all, "*%s\n%s%sCOMMIT\n", table_names[tb],
			  rs->chains[tb].buf ? rs->chains[tb].buf : "",
			  rs->rules[tb].buf ? rs->rules[tb].buf : "");
	}
	if (!all.len)
		return 0;
	if (all.failed) {
		sb_free(&all);
		return -ENOMEM;
	}
	snprintf(bin, sizeof(bin), "%s", topo_ipt_binary(backend, "restore"));
	rc = RUN_INPUT(ns, all.buf, out, sizeof(out), bin, "--noflush");
	if (rc != 0) {
		pr_warn("%s in %s failed: %s", bin, ns,
			rc < 0 ? strerror(-rc) : first_line(out, line, sizeof(line)));
		pr_debug("its input was:\n%s", all.buf);
	}
	sb_free(&all);
	return rc == 0 ? 0 : -EIO;
}

void rs_free(struct ipt_ruleset *rs)
{
	for (int tb = 0; tb < IPT_NR_TABLES; tb++) {
		sb_free(&rs->chains[tb]);
		sb_free(&rs->rules[tb]);
	}
}

/* ---- shared pieces ---- */

int topo_add_pod_veth(struct topo *t, const struct topo_endpoint *ep, const char *pod_mac,
		      const char *host_mac)
{
	char cmd[1024];
	int n;

	n = snprintf(cmd, sizeof(cmd),
		     "link add %s mtu %u type veth peer name %s mtu %u netns %s\n",
		     ep->host_ifname, t->opts.mtu, ep->ifname, t->opts.mtu, ep->netns);
	if (host_mac)
		n += snprintf(cmd + n, sizeof(cmd) - n, "link set %s address %s\n",
			      ep->host_ifname, host_mac);
	snprintf(cmd + n, sizeof(cmd) - n, "link set %s up\n", ep->host_ifname);
	if (topo_ip_batch(ep->node_netns, cmd))
		return -EIO;
	n = 0;
	if (pod_mac)
		n += snprintf(cmd + n, sizeof(cmd) - n, "link set %s address %s\n", ep->ifname,
			      pod_mac);
	snprintf(cmd + n, sizeof(cmd) - n, "link set %s up\naddr add %s/32 dev %s\n", ep->ifname,
		 ep->ip_str, ep->ifname);
	return topo_ip_batch(ep->netns, cmd);
}

bool topo_uses_kube_proxy(const struct topo *t)
{
	const struct topo_cni_ops *ops = topo_ops(t->opts.cni);

	return t->opts.target_service && ops->kube_proxy && !t->opts.socket_lb;
}

bool topo_uses_socket_lb(const struct topo *t)
{
	const struct topo_cni_ops *ops = topo_ops(t->opts.cni);

	return t->opts.target_service && ops->socket_lb && (t->opts.socket_lb || !ops->kube_proxy);
}

int topo_load_node_rules(struct topo *t)
{
	const struct topo_cni_ops *ops = topo_ops(t->opts.cni);
	int err = 0;

	for (int node = 0; node < 2 && !err; node++) {
		struct ipt_ruleset rs;

		rs_init(&rs);
		if (ops->calico_rules) {
			struct strbuf sets = {};
			char out[512], line[256];

			err = calico_ipsets_build(t, node, &sets);
			if (!err && sets.len) {
				int rc = RUN_INPUT(t->nodes[node], sets.buf, out, sizeof(out),
						   "ipset", "restore");
				if (rc) {
					pr_warn("ipset restore in %s failed: %s", t->nodes[node],
						rc < 0 ? strerror(-rc)
						       : first_line(out, line, sizeof(line)));
					err = -EIO;
				}
			}
			sb_free(&sets);
			if (!err)
				err = calico_rules_build(t, node, &rs);
		}
		if (!err && topo_uses_kube_proxy(t))
			err = kube_proxy_rules_build(t, &rs);
		if (!err)
			err = rs_load(&rs, t->nodes[node], t->opts.iptables);
		if (!err && rs_count(&rs))
			pr_info("%s: %u iptables rules loaded (%s)", t->nodes[node], rs_count(&rs),
				t->opts.iptables);
		rs_free(&rs);
	}
	return err;
}

/* ---- build and remove ---- */

/* The cgroup this process started in, to step back into before removing
 * the run's (the keeper lives in the run's cgroup). */
static char home_cgroup[PATH_MAX];

static void remember_home_cgroup(void)
{
	char root[PATH_MAX], line[PATH_MAX];
	FILE *f;

	if (home_cgroup[0] || cgroup2_mount(root, sizeof(root)))
		return;
	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(home_cgroup, sizeof(home_cgroup), "%.2000s%.2000s", root,
			 strcmp(line + 3, "/") ? line + 3 : "");
	}
	fclose(f);
}

int topo_join_cgroup(const struct topo *t)
{
	remember_home_cgroup();
	return cgroup_add_pid(t->cgroup, getpid());
}

static void remove_cgroup(void *arg)
{
	/* Step out first: cgroup_remove_tree kills whatever is still inside. */
	if (home_cgroup[0] && strcmp(home_cgroup, arg))
		cgroup_add_pid(home_cgroup, getpid());
	cgroup_remove_tree(arg);
	free(arg);
}

static void remove_state_file(void *arg)
{
	unlink(arg);
	free(arg);
}

static int state_path(const char *run, char *path, size_t len)
{
	return snprintf(path, len, "%s/%s.json", TOPO_STATE_DIR, run) >= (int)len ? -ENAMETOOLONG
										  : 0;
}

int topo_counters_path(const char *run, char *path, size_t len)
{
	return snprintf(path, len, "%s/%s.counters.json", TOPO_STATE_DIR, run) >= (int)len
		       ? -ENAMETOOLONG : 0;
}

static int wire_up(struct topo *t)
{
	char cmd[512];
	int err;

	if (t->gateway[0]) {
		/* macvlan --subnets 2: node1 -- gw -- node2, one L2 segment each side. */
		snprintf(cmd, sizeof(cmd),
			 "link add eth0 mtu %u type veth peer name eth0 mtu %u netns %s\n"
			 "link add eth1 mtu %u type veth peer name eth0 mtu %u netns %s\n"
			 "link set eth0 up\nlink set eth1 up\n"
			 "addr add " TOPO_WIRE_NET ".%d/24 dev eth0\n"
			 "addr add " TOPO_SEG2_NET ".%d/24 dev eth1\n",
			 t->opts.mtu, t->opts.mtu, t->nodes[0], t->opts.mtu, t->opts.mtu,
			 t->nodes[1], TOPO_GW_HOST, TOPO_GW_HOST);
		if ((err = topo_ip_batch(t->gateway, cmd)))
			return err;
		snprintf(cmd, sizeof(cmd),
			 "link set eth0 up\naddr add " TOPO_WIRE_NET ".1/24 dev eth0\n"
			 "route add default via " TOPO_WIRE_NET ".%d dev eth0\n", TOPO_GW_HOST);
		if ((err = topo_ip_batch(t->nodes[0], cmd)))
			return err;
		snprintf(cmd, sizeof(cmd),
			 "link set eth0 up\naddr add " TOPO_SEG2_NET ".2/24 dev eth0\n"
			 "route add default via " TOPO_SEG2_NET ".%d dev eth0\n", TOPO_GW_HOST);
		return topo_ip_batch(t->nodes[1], cmd);
	}
	snprintf(cmd, sizeof(cmd),
		 "link add eth0 mtu %u type veth peer name eth0 mtu %u netns %s\n"
		 "link set eth0 up\naddr add " TOPO_WIRE_NET ".1/24 dev eth0\n",
		 t->opts.mtu, t->opts.mtu, t->nodes[1]);
	if ((err = topo_ip_batch(t->nodes[0], cmd)))
		return err;
	return topo_ip_batch(t->nodes[1], "link set eth0 up\naddr add " TOPO_WIRE_NET
					  ".2/24 dev eth0\n");
}

static void runtime_teardown(void *arg)
{
	struct topo *t = arg;

	if (!t->rt)
		return;
	/* The files that open these objects own their close functions. */
	topo_sidecar_close(t);
	topo_socket_lb_close(t);
	topo_cilium_close(t);
	free(t->rt);
	t->rt = NULL;
}

#define STEP(expr)							\
	do {								\
		if (stop_requested()) {					\
			err = -EINTR;					\
			goto out;					\
		}							\
		if ((err = (expr)))					\
			goto out;					\
	} while (0)

int topo_up(const struct topo_opts *opts, struct topo *t)
{
	const struct topo_cni_ops *ops;
	char *path, cg_name[TOPO_RUN_MAX + 16];
	int err;

	t->rt = NULL;
	if ((err = topo_opts_check(opts)))
		return err;
	ops = topo_ops(opts->cni);
	topo_plan(opts, t);
	if (netns_exists(t->nodes[0]) || netns_exists(t->client.netns)) {
		pr_warn("a topology named '%s' exists already (netprof topo down --run %s)",
			opts->run, opts->run);
		return -EEXIST;
	}
	t->rt = calloc(1, sizeof(*t->rt));
	if (!t->rt)
		return -ENOMEM;
	teardown_register(runtime_teardown, t);

	if (!t->cgroup[0]) {
		pr_warn("no cgroup2 mount found: the run needs a cgroup v2 directory");
		return -ENOENT;
	}
	snprintf(cg_name, sizeof(cg_name), "netprof-%s", opts->run);
	STEP(cgroup_create(cg_name, t->cgroup, sizeof(t->cgroup)));
	teardown_register(remove_cgroup, strdup(t->cgroup));

	STEP(topo_netns_add(t, t->nodes[0], ops->has_pods));
	STEP(topo_netns_add(t, t->nodes[1], ops->has_pods));
	if (t->gateway[0])
		STEP(topo_netns_add(t, t->gateway, true));
	STEP(wire_up(t));
	if (ops->has_pods) {
		STEP(topo_netns_add(t, t->client.netns, false));
		STEP(topo_netns_add(t, t->server.netns, false));
	}
	STEP(ops->build(t));
	STEP(topo_load_node_rules(t));
	if (ops->start)
		STEP(ops->start(t));
	if (topo_uses_socket_lb(t))
		STEP(topo_socket_lb_start(t));
	STEP(topo_scan_devices(t));
	path = malloc(PATH_MAX);
	if (path && state_path(opts->run, path, PATH_MAX) == 0)
		teardown_register(remove_state_file, path);
	else
		free(path);
out:
	if (err == -EINTR)
		pr_warn("topo: stopped by a signal while building '%s'", opts->run);
	return err;
}

int topo_down(struct topo *t)
{
	char path[PATH_MAX];
	int err = 0;

	if (t->keeper > 0 && kill(t->keeper, SIGTERM) == 0) {
		/* The keeper removes everything it built; wait for it (10 s). */
		for (int i = 0; i < 1000 && kill(t->keeper, 0) == 0; i++)
			nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	if (t->rt)
		runtime_teardown(t);
	/* Whatever is left (a SIGKILLed keeper), by name. */
	const char *nss[] = { t->client.netns, t->server.netns, t->gateway, t->nodes[0],
			      t->nodes[1] };
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++)
		if (nss[i][0] && netns_delete(nss[i]))
			err = -EIO;
	if (t->cgroup[0] && cgroup_remove_tree(t->cgroup))
		err = -EBUSY;
	if (state_path(t->opts.run, path, sizeof(path)) == 0)
		unlink(path);
	if (topo_counters_path(t->opts.run, path, sizeof(path)) == 0)
		unlink(path);
	return err;
}

/* ---- state file: a flat JSON object, one key per line ---- */

int topo_state_write(const char *path, const struct topo *t)
{
	char tmp[PATH_MAX + 8];
	struct json_writer w;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	jw_init(&w, f, true);
	jw_object_begin(&w, NULL);
	jw_string(&w, "run", t->opts.run);
	jw_string(&w, "cni", topo_cni_name(t->opts.cni));
	jw_string(&w, "placement", t->opts.same_node ? "same-node" : "cross-node");
	jw_string(&w, "target", t->opts.target_service ? "service" : "pod");
	jw_uint(&w, "mtu", t->opts.mtu);
	jw_uint(&w, "pods", t->opts.pods);
	jw_uint(&w, "policies", t->opts.policies);
	jw_uint(&w, "services", t->opts.services);
	jw_uint(&w, "subnets", t->opts.subnets);
	jw_bool(&w, "socket_lb", t->opts.socket_lb);
	jw_string(&w, "iptables", t->opts.iptables);
	jw_uint(&w, "keeper", (uint64_t)(t->keeper > 0 ? t->keeper : 0));
	jw_object_end(&w);
	jw_finish(&w);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -errno;
	}
	return 0;
}

int topo_save_state(const struct topo *t)
{
	char path[PATH_MAX];

	if (mkdir(TOPO_STATE_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	state_path(t->opts.run, path, sizeof(path));
	return topo_state_write(path, t);
}

/* The value of "key" in a flat, one-key-per-line JSON file. */
static bool state_value(const char *text, const char *key, char *val, size_t len)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(text, pat);
	if (!p)
		return false;
	p += strlen(pat);
	if (*p == '"')
		p++;
	while (p[n] && p[n] != '"' && p[n] != ',' && p[n] != '\n' && n + 1 < len) {
		val[n] = p[n];
		n++;
	}
	val[n] = '\0';
	return true;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

static int find_only_run(char *run, size_t len)
{
	DIR *d = opendir(NETNS_RUN_DIR);
	struct dirent *e;
	int found = 0;

	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, "netprof-", 8) || n < 15 ||
		    strcmp(e->d_name + n - 6, "-node1"))
			continue;
		if (found++ == 0)
			snprintf(run, len, "%.*s", (int)(n - 14), e->d_name + 8);
	}
	closedir(d);
	if (!found)
		return -ENOENT;
	return found > 1 ? -EEXIST : 0;
}

/* Every key the state file holds over *o; the run stays the caller's. */
static void state_parse(const char *text, struct topo_opts *o, pid_t *keeper)
{
	char val[64];
	int cni;

	if (state_value(text, "cni", val, sizeof(val)) && (cni = topo_cni_from_name(val)) >= 0)
		o->cni = cni;
	if (state_value(text, "placement", val, sizeof(val)))
		o->same_node = !strcmp(val, "same-node");
	if (state_value(text, "target", val, sizeof(val)))
		o->target_service = !strcmp(val, "service");
	if (state_value(text, "mtu", val, sizeof(val)))
		o->mtu = atoi(val);
	if (state_value(text, "pods", val, sizeof(val)))
		o->pods = atoi(val);
	if (state_value(text, "policies", val, sizeof(val)))
		o->policies = atoi(val);
	if (state_value(text, "services", val, sizeof(val)))
		o->services = atoi(val);
	if (state_value(text, "subnets", val, sizeof(val)))
		o->subnets = atoi(val);
	if (state_value(text, "socket_lb", val, sizeof(val)))
		o->socket_lb = !strcmp(val, "true");
	if (state_value(text, "iptables", val, sizeof(val)))
		snprintf(o->iptables, sizeof(o->iptables), "%.7s", val);
	if (state_value(text, "keeper", val, sizeof(val)))
		*keeper = atoi(val);
}

int topo_state_read(const char *path, struct topo_opts *o, pid_t *keeper)
{
	char text[4096];
	int n = read_file(path, text, sizeof(text));

	if (n < 0)
		return n;
	state_parse(text, o, keeper);
	return 0;
}

int topo_load(const char *run, struct topo *t)
{
	char path[PATH_MAX], found[TOPO_RUN_MAX + 8];
	struct topo_opts o;
	pid_t keeper = 0;
	int err;

	if (!run) {
		err = find_only_run(found, sizeof(found));
		if (err == -EEXIST)
			pr_warn("several topologies exist: name one with --run (ip netns | grep node1)");
		if (err)
			return err;
		run = found;
	}
	topo_opts_defaults(&o);
	snprintf(o.run, sizeof(o.run), "%.*s", TOPO_RUN_MAX, run);
	if (state_path(run, path, sizeof(path)) || topo_state_read(path, &o, &keeper) < 0) {
		/* No state file (a run of `netprof run` killed hard): rediscover. */
		char ns[TOPO_NS_MAX + 8];

		snprintf(ns, sizeof(ns), "netprof-%s-node1", run);
		if (!netns_exists(ns))
			return -ENOENT;
		pr_warn("no state file for run '%s': showing what its namespaces hold", run);
		o.cni = TOPO_CNI_HOST;
	}
	if (!topo_ops(o.cni)) {
		pr_warn("run '%s' uses --cni %s, which is not in this build", run,
			topo_cni_name(o.cni));
		return -ENOTSUP;
	}
	t->rt = NULL;
	topo_plan(&o, t);
	t->keeper = keeper;
	if (!netns_exists(t->nodes[0]))
		return -ENOENT;
	return topo_scan_devices(t);
}

/* ---- device inventory: `ip -o -d link` and `ip -o -4 addr` of each namespace ---- */

static enum topo_dev_role dev_role(const struct topo *t, const char *ns, const char *name,
				   const char *kind)
{
	if (!strcmp(kind, "loopback"))
		return TOPO_ROLE_LOOPBACK;
	if (t->gateway[0] && !strcmp(ns, t->gateway))
		return TOPO_ROLE_GATEWAY;
	if (!strcmp(ns, t->nodes[0]) || !strcmp(ns, t->nodes[1])) {
		if (!strcmp(name, "eth0"))
			return TOPO_ROLE_WIRE;
		if (!strncmp(name, "cali", 4) || !strncmp(name, "lxc", 3))
			return TOPO_ROLE_HOST_VETH;
		if (!strncmp(name, "cilium_", 7))
			return TOPO_ROLE_ROUTER;
		return TOPO_ROLE_OTHER;
	}
	return !strcmp(name, "eth0") ? TOPO_ROLE_POD : TOPO_ROLE_OTHER;
}

static const char *const role_names[] = {
	[TOPO_ROLE_WIRE] = "wire", [TOPO_ROLE_POD] = "pod",
	[TOPO_ROLE_HOST_VETH] = "pod-veth-host", [TOPO_ROLE_ROUTER] = "router",
	[TOPO_ROLE_GATEWAY] = "gateway", [TOPO_ROLE_LOOPBACK] = "loopback",
	[TOPO_ROLE_OTHER] = "other",
};

static void word_after(const char *line, const char *key, char *out, size_t len)
{
	const char *p = strstr(line, key);
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	while (p[n] && p[n] != ' ' && p[n] != '\\' && n + 1 < len) {
		out[n] = p[n];
		n++;
	}
	out[n] = '\0';
}

struct raw_peer {
	int ifindex;
	char netns[TOPO_NS_MAX];
};

static int scan_netns(struct topo *t, const char *ns, struct raw_peer *peers)
{
	static char out[65536];
	char *line, *save = NULL;
	int rc = RUN(ns, out, sizeof(out), "ip", "-o", "-d", "link", "show");

	if (rc != 0)
		return rc < 0 ? rc : -EIO;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct topo_dev *d;
		char name[32], tmp[TOPO_NS_MAX];
		const char *p;
		int ifindex;

		if (t->nr_devs >= TOPO_MAX_DEVS)
			break;
		if (sscanf(line, "%d: %31[^:@]", &ifindex, name) != 2)
			continue;
		d = &t->devs[t->nr_devs];
		memset(d, 0, sizeof(*d));
		memset(&peers[t->nr_devs], 0, sizeof(peers[0]));
		snprintf(d->netns, sizeof(d->netns), "%s", ns);
		snprintf(d->name, sizeof(d->name), "%.15s", name);
		d->ifindex = ifindex;
		word_after(line, " mtu ", tmp, sizeof(tmp));
		d->mtu = atoi(tmp);
		word_after(line, " master ", d->master, sizeof(d->master));
		/* The kind is the word after "maxmtu N" in -d output. */
		if ((p = strstr(line, " maxmtu "))) {
			p = strchr(p + 8, ' ');
			while (p && (*p == ' ' || *p == '\\'))
				p++;
			if (p)
				sscanf(p, "%15s", d->kind);
		}
		if (strstr(line, "link/loopback"))
			snprintf(d->kind, sizeof(d->kind), "loopback");
		else if (!d->kind[0] || !strcmp(d->kind, "addrgenmode"))
			snprintf(d->kind, sizeof(d->kind), "device");
		/* "eth0@if12": the peer's (or lower device's) ifindex. */
		if ((p = strstr(line, "@if")))
			peers[t->nr_devs].ifindex = atoi(p + 3);
		else if ((p = strchr(line, '@')) && p < strchr(line, ':') + 32) {
			char lower[16] = "";

			sscanf(p + 1, "%15[^:]", lower);
			snprintf(d->peer, sizeof(d->peer), "%s", lower);
			snprintf(d->peer_netns, sizeof(d->peer_netns), "%s", ns);
		}
		word_after(line, " link-netns ", peers[t->nr_devs].netns, TOPO_NS_MAX);
		if (peers[t->nr_devs].ifindex && !peers[t->nr_devs].netns[0])
			snprintf(peers[t->nr_devs].netns, TOPO_NS_MAX, "%s", ns);
		d->role = dev_role(t, ns, d->name, d->kind);
		t->nr_devs++;
	}
	rc = RUN(ns, out, sizeof(out), "ip", "-o", "-4", "addr", "show");
	if (rc != 0)
		return 0;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[32], addr[20];

		if (sscanf(line, "%*d: %31s inet %19s", name, addr) != 2)
			continue;
		for (unsigned i = 0; i < t->nr_devs; i++)
			if (!strcmp(t->devs[i].netns, ns) && !strcmp(t->devs[i].name, name) &&
			    !t->devs[i].addr[0])
				snprintf(t->devs[i].addr, sizeof(t->devs[i].addr), "%s", addr);
	}
	return 0;
}

/* The namespaces of the topology, in show order. */
static int topo_namespaces(const struct topo *t, const char *out[6])
{
	int n = 0;

	out[n++] = t->nodes[0];
	out[n++] = t->nodes[1];
	if (t->gateway[0])
		out[n++] = t->gateway;
	if (strcmp(t->client.netns, t->nodes[0])) {
		out[n++] = t->client.netns;
		out[n++] = t->server.netns;
	}
	return n;
}

int topo_scan_devices(struct topo *t)
{
	struct raw_peer peers[TOPO_MAX_DEVS];
	const char *nss[6];
	int n = topo_namespaces(t, nss), err;

	t->nr_devs = 0;
	for (int i = 0; i < n; i++)
		if (netns_exists(nss[i]) && (err = scan_netns(t, nss[i], peers)))
			return err;
	for (unsigned i = 0; i < t->nr_devs; i++) {
		if (!peers[i].ifindex)
			continue;
		for (unsigned j = 0; j < t->nr_devs; j++) {
			if (t->devs[j].ifindex == peers[i].ifindex &&
			    !strcmp(t->devs[j].netns, peers[i].netns)) {
				snprintf(t->devs[i].peer, sizeof(t->devs[i].peer), "%s",
					 t->devs[j].name);
				snprintf(t->devs[i].peer_netns, TOPO_NS_MAX, "%s",
					 t->devs[j].netns);
			}
		}
	}
	return 0;
}

/* ---- topo show ---- */

static const char *short_ns(const struct topo *t, const char *ns)
{
	size_t n = strlen(t->opts.run) + 9;

	return strlen(ns) > n ? ns + n : ns;
}

static void show_routes(const char *ns)
{
	static char out[16384];
	char *line, *save = NULL;

	if (RUN(ns, out, sizeof(out), "ip", "-4", "route", "show") != 0)
		return;
	out_array_begin("routes");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		out_string(NULL, "    route  %s\n", line);
	out_array_end();
}

/*
 * Rule counts per table and chain, from `iptables-save -c`: the number of
 * rules and the packets they matched, plus a built-in chain's policy count.
 */
static void show_iptables(const struct topo *t, const char *ns)
{
	/* --services 10000 makes tens of thousands of chains and rules. */
	const size_t out_len = 64 << 20;
	char *out = malloc(out_len), *line, *save = NULL, table[16] = "";
	struct chain { char name[32]; unsigned rules; uint64_t packets, policy_packets; bool builtin; };
	struct chain *chains = NULL;
	unsigned nr = 0, cap = 0, last = 0;
	int rc = out ? RUN(ns, out, out_len, topo_ipt_binary(t->opts.iptables, "save"), "-c") : -ENOMEM;

	if (rc != 0) {
		free(out);
		return;
	}
	out_array_begin("iptables");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long pk = 0, by = 0;
		char name[32], pol[16];

		if (line[0] == '*') {
			snprintf(table, sizeof(table), "%s", line + 1);
			nr = 0;
			continue;
		}
		if (line[0] == ':' && sscanf(line, ":%31s %15s [%llu:%llu]", name, pol, &pk, &by) == 4) {
			if (nr == cap) {
				struct chain *grown = realloc(chains, (cap ? cap * 2 : 256) *
							  sizeof(*chains));
				if (!grown)
					break;
				chains = grown;
				cap = cap ? cap * 2 : 256;
			}
			chains[nr] = (struct chain){ .packets = 0, .policy_packets = pk,
						     .builtin = strcmp(pol, "-") != 0 };
			snprintf(chains[nr].name, sizeof(chains[nr].name), "%s", name);
			nr++;
			continue;
		}
		if (line[0] == '[' && sscanf(line, "[%llu:%llu] -A %31s", &pk, &by, name) == 3) {
			/* iptables-save lists a chain's rules together: try the
			 * chain of the previous rule first. */
			if (last >= nr || strcmp(chains[last].name, name))
				for (last = 0; last < nr && strcmp(chains[last].name, name); last++)
					;
			if (last < nr) {
				chains[last].rules++;
				chains[last].packets += pk;
			}
			continue;
		}
		if (!strcmp(line, "COMMIT")) {
			unsigned rules = 0, brief_chains = 0, brief_rules = 0;
			unsigned long long brief_packets = 0;

			for (unsigned i = 0; i < nr; i++)
				rules += chains[i].rules;
			out_object_begin(NULL);
			out_string("table", "    %-7s", table);
			out_uint("rules", " %5" PRIu64 " rules", rules);
			out_uint("chains", " in %" PRIu64 " chains", nr);
			out_text(":");
			out_array_begin("chain");
			unsigned shown = 0;
			for (unsigned i = 0; i < nr; i++) {
				/* Text: every built-in chain, and user chains with rules
				 * (the per-endpoint ones) only in a count, so that
				 * --pods 250 stays readable; JSON: all of them. */
				bool brief = !chains[i].builtin && !out_json() &&
					     (!strncmp(chains[i].name, "cali-tw-", 8) ||
					      !strncmp(chains[i].name, "cali-fw-", 8) ||
					      !strncmp(chains[i].name, "KUBE-SEP-", 9) ||
					      !strncmp(chains[i].name, "KUBE-SVC-", 9) ||
					      !strncmp(chains[i].name, "cali-pi-", 8) ||
					      !strncmp(chains[i].name, "cali-from-wl-dispatch-", 22) ||
					      !strncmp(chains[i].name, "cali-to-wl-dispatch-", 20));
				if (brief) {
					brief_chains++;
					brief_rules += chains[i].rules;
					brief_packets += chains[i].packets;
					continue;
				}
				if (!chains[i].rules && !chains[i].builtin)
					continue;
				if (!out_json() && shown++ >= 24)
					continue;
				out_object_begin(NULL);
				out_string("name", " %s", chains[i].name);
				out_uint("rules", "=%" PRIu64 "r", chains[i].rules);
				out_uint("packets", "/%" PRIu64 "pk", chains[i].packets);
				if (chains[i].builtin)
					out_uint("policy_packets", NULL, chains[i].policy_packets);
				out_object_end();
			}
			out_array_end();
			if (brief_chains)
				out_text(" + %u per-endpoint/dispatch/policy/service chains=%ur/%llupk",
					 brief_chains, brief_rules, brief_packets);
			out_text("\n");
			out_object_end();
		}
	}
	out_array_end();
	free(chains);
	free(out);
}

static void show_tc(const char *ns, const struct topo *t)
{
	static char out[8192];

	out_array_begin("bpf");
	for (unsigned i = 0; i < t->nr_devs; i++) {
		const struct topo_dev *d = &t->devs[i];

		if (strcmp(d->netns, ns) || !strcmp(d->kind, "loopback"))
			continue;
		for (int dir = 0; dir < 2; dir++) {
			const char *dirname = dir ? "egress" : "ingress";
			char *line, *save = NULL;

			if (RUN(ns, out, sizeof(out), "tc", "filter", "show", "dev", d->name,
				dirname) != 0)
				continue;
			for (line = strtok_r(out, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				char prog[64] = "", id[16] = "";

				const char *p = strstr(line, " handle ");

				if (!strstr(line, " bpf ") || !p)
					continue;
				/* "... handle 0x1 NAME:[ID] direct-action ... id N" */
				if ((p = strchr(p + 8, ' ')))
					sscanf(p, " %63[^:[ ]", prog);
				word_after(line, " id ", id, sizeof(id));
				out_object_begin(NULL);
				out_string("dev", "    bpf    %-16s", d->name);
				out_string("hook", " tc %-7s", dirname);
				out_string("program", " %s", prog);
				out_uint("id", " (id %" PRIu64 ")\n", strtoull(id, NULL, 10));
				out_object_end();
			}
		}
	}
	out_array_end();
}

static void show_cgroup_progs(const struct topo *t)
{
	static char out[8192];
	char *line, *save = NULL;

	if (!t->cgroup[0] || access(t->cgroup, F_OK) != 0)
		return;
	if (RUN(NULL, out, sizeof(out), "bpftool", "cgroup", "show", t->cgroup) != 0)
		return;
	out_array_begin("cgroup_bpf");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned id;
		char type[32], name[64] = "";

		if (sscanf(line, "%u %31s %*s %63s", &id, type, name) < 2)
			continue;
		out_object_begin(NULL);
		out_string("attach", "  bpf    cgroup %-16s", type);
		out_string("program", " %s", name);
		out_uint("id", " (id %" PRIu64 ")\n", id);
		out_object_end();
	}
	out_array_end();
}

static void show_counters(const struct topo *t)
{
	char path[PATH_MAX], text[8192];
	char *line, *save = NULL;

	if (t->keeper <= 0 || kill(t->keeper, 0) != 0)
		return;
	topo_counters_path(t->opts.run, path, sizeof(path));
	unlink(path);
	if (kill(t->keeper, SIGUSR1) != 0)
		return;
	for (int i = 0; i < 200 && access(path, F_OK) != 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	if (read_file(path, text, sizeof(text)) <= 0 || !strchr(text, ':'))
		return;
	out_text("Counters (from the keeper, pid %d):\n", (int)t->keeper);
	out_object_begin("counters");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[64];
		unsigned long long v;

		if (sscanf(line, " \"%63[^\"]\": %llu", key, &v) != 2)
			continue;
		out_text("  %-34s", key);
		out_uint(key, "%" PRIu64 "\n", v);
	}
	out_object_end();
}

int topo_show(struct topo *t)
{
	const char *nss[6];
	int n = topo_namespaces(t, nss);

	out_object_begin(NULL);
	out_string("run", "Topology %s", t->opts.run);
	out_string("cni", ": --cni %s", topo_cni_name(t->opts.cni));
	out_string("placement", ", %s", t->opts.same_node ? "same-node" : "cross-node");
	out_string("target", ", target %s", t->opts.target_service ? "service" : "pod");
	out_uint("mtu", ", mtu %" PRIu64, t->opts.mtu);
	out_string("iptables", ", iptables-%s\n", t->opts.iptables);
	out_object_begin("client");
	out_string("netns", "  client %s", t->client.netns);
	out_string("ip", " %s\n", t->client.ip_str);
	out_object_end();
	out_object_begin("server");
	out_string("netns", "  server %s", t->server.netns);
	out_string("ip", " %s", t->server.ip_str);
	out_uint("port", ":%" PRIu64 "\n", t->server_port);
	out_object_end();
	if (t->opts.target_service) {
		out_object_begin("service");
		out_string("vip", "  service %s", t->vip_str);
		out_uint("port", ":%" PRIu64, t->vip_port);
		out_string("lb", " via %s", topo_uses_socket_lb(t) ? "socket-LB (cgroup/connect4)"
								: "kube-proxy iptables NAT");
		out_uint("filler_services", ", %" PRIu64 " filler services\n", t->opts.services);
		out_object_end();
	}
	out_string("dial", "  the client dials %s", t->dst_str);
	out_uint("dial_port", ":%" PRIu64 "\n", t->dst_port);
	out_string("cgroup", "  cgroup %s\n", t->cgroup);
	if (t->keeper > 0)
		out_uint("keeper", "  keeper pid %" PRIu64 "\n", (uint64_t)t->keeper);

	out_array_begin("namespaces");
	for (int i = 0; i < n; i++) {
		out_object_begin(NULL);
		out_string("name", "\nNamespace %s\n", nss[i]);
		out_array_begin("devices");
		for (unsigned d = 0; d < t->nr_devs; d++) {
			const struct topo_dev *dv = &t->devs[d];

			if (strcmp(dv->netns, nss[i]))
				continue;
			out_object_begin(NULL);
			out_string("name", "    dev    %-16s", dv->name);
			out_uint("ifindex", " #%-3" PRIu64, dv->ifindex);
			out_string("kind", " %-9s", dv->kind);
			out_string("role", " %-14s", role_names[dv->role]);
			out_uint("mtu", " mtu %-5" PRIu64, dv->mtu);
			out_string("addr", " %-18s", dv->addr[0] ? dv->addr : "-");
			if (dv->peer[0]) {
				out_string("peer_netns", " peer %s", short_ns(t, dv->peer_netns));
				out_string("peer", "/%s", dv->peer);
			}
			if (dv->master[0])
				out_string("master", " master %s", dv->master);
			out_text("\n");
			out_object_end();
		}
		out_array_end();
		show_routes(nss[i]);
		show_iptables(t, nss[i]);
		show_tc(nss[i], t);
		out_object_end();
	}
	out_array_end();
	out_text("\n");
	show_cgroup_progs(t);
	show_counters(t);

	out_text("\nA data packet %s -> %s:%u, step by step:\n", t->client.ip_str, t->dst_str,
		 t->dst_port);
	out_array_begin("hops");
	for (unsigned i = 0; i < t->nr_hops; i++) {
		out_object_begin(NULL);
		out_uint("step", "  %2" PRIu64 ".", i + 1);
		out_string("netns", " %-6s", short_ns(t, t->hops[i].netns));
		out_string("dev", " %-16s", t->hops[i].dev[0] ? t->hops[i].dev : "");
		out_string("what", " %s\n", t->hops[i].what);
		out_object_end();
	}
	out_array_end();
	out_object_end();
	return 0;
}

/* ---- the keeper's counters file ---- */

int topo_write_counters(struct topo *t)
{
	const struct topo_cni_ops *ops = topo_ops(t->opts.cni);
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	struct json_writer w;
	FILE *f;

	topo_counters_path(t->opts.run, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	jw_init(&w, f, true);
	jw_object_begin(&w, NULL);
	if (ops->counters)
		ops->counters(t, &w);
	if (topo_uses_socket_lb(t))
		topo_socket_lb_counters(t, &w);
	jw_object_end(&w);
	jw_finish(&w);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -errno;
	}
	return 0;
}
