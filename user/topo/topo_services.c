/*
 * The services of the cluster the two nodes belong to, as kube-proxy's
 * iptables mode writes them on every node (datapaths.md §2), from the
 * structure of pkg/proxy/iptables/proxier.go: nat PREROUTING/OUTPUT ->
 * KUBE-SERVICES, one `-d VIP --dport P -j KUBE-SVC-*` per service port
 * scanned linearly by the first packet of every connection, its last rule
 * `addrtype LOCAL -> KUBE-NODEPORTS`; KUBE-SVC-* marks off-cluster sources
 * for masquerade and picks an endpoint with `statistic --probability
 * 1/(n-i)`; KUBE-SEP-* DNATs; NodePorts go KUBE-NODEPORTS -> KUBE-EXT-*
 * (mark, then the KUBE-SVC-*); POSTROUTING masquerades what is marked;
 * filter FORWARD -> KUBE-FORWARD, and NEW flows through the firewall and
 * service chains, whose conntrack matches keep conntrack on in the node.
 * --services N filler services (two endpoints each, spread over the
 * emulated pods of both nodes) come ahead of the measured one, so that the
 * lookup costs what it costs in a cluster with that many services. A
 * service with no endpoint (--pods 0) is a REJECT in filter KUBE-SERVICES,
 * as kube-proxy writes it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "datapath/socklb.h"
#include "lib/output.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

#define KUBE_MARK_MASQ_BIT "0x4000"
#define FILLER_ENDPOINTS 2
/* One filler service in NODEPORT_EVERY is a NodePort service (a cluster's
 * ingress controllers and the like; most services are ClusterIP only),
 * its node port from the default --service-node-port-range 30000-32767. */
#define NODEPORT_EVERY 10
#define NODEPORT_BASE 30000

/* kube-proxy names chains with a hash of the service port (or endpoint). */
static void kube_chain(char *out, size_t len, const char *prefix, const char *run, const char *what)
{
	char hex[24];

	topo_veth_name(hex, sizeof(hex), "", run, what);
	snprintf(out, len, "%s%.11s", prefix, hex);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
}

/* Filler service i's ClusterIP: 198.19.1.1 onwards, 250 per /24. */
static void filler_vip(char *out, size_t len, unsigned i)
{
	snprintf(out, len, "198.19.%u.%u", (unsigned char)(1 + i / 250), (unsigned char)(1 + i % 250));
}

static unsigned cluster_pods(const struct topo *t)
{
	return topo_emulated_pods(t, 0) + topo_emulated_pods(t, 1);
}

/*
 * Endpoint k of the cluster's emulated pods, alternating between the
 * nodes while both have pods left, so that a service's endpoints sit on
 * both nodes as a scheduler spreads them. False when there are none.
 */
static bool cluster_pod_ip(const struct topo *t, unsigned k, char *out, size_t len)
{
	unsigned n0 = topo_emulated_pods(t, 0), n1 = topo_emulated_pods(t, 1);
	unsigned both = 2 * (n0 < n1 ? n0 : n1);

	if (!n0 && !n1)
		return false;
	k %= n0 + n1;
	if (k < both)
		topo_pod_ip(out, len, k % 2, 10 + k / 2);
	else
		topo_pod_ip(out, len, n0 > n1 ? 0 : 1, 10 + both / 2 + (k - both));
	return true;
}

unsigned kube_proxy_nodeports(const struct topo *t)
{
	return t->opts.services / NODEPORT_EVERY;
}

struct kube_service {
	char name[48];
	char vip[16];
	unsigned port;
	unsigned node_port;	/* 0: ClusterIP only */
	unsigned nr_eps;
	char ep_ip[FILLER_ENDPOINTS][16];
	unsigned ep_port;
};

static void filler_service(const struct topo *t, unsigned i, struct kube_service *s)
{
	unsigned pods = cluster_pods(t);

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "default/filler-%u:http", i);
	filler_vip(s->vip, sizeof(s->vip), i);
	s->port = TOPO_VIP_PORT;
	if (i % NODEPORT_EVERY == NODEPORT_EVERY - 1)
		s->node_port = NODEPORT_BASE + i / NODEPORT_EVERY;
	s->nr_eps = pods < FILLER_ENDPOINTS ? pods : FILLER_ENDPOINTS;
	for (unsigned e = 0; e < s->nr_eps; e++)
		cluster_pod_ip(t, i * FILLER_ENDPOINTS + e, s->ep_ip[e], sizeof(s->ep_ip[e]));
	s->ep_port = TOPO_FILLER_PORT;
}

/* No endpoint: the filter table refuses the connection (icmp-port-unreachable). */
static void service_without_endpoints(struct ipt_ruleset *rs, const struct kube_service *s)
{
	rs_rule(rs, IPT_FILTER, "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"%s has no "
		"endpoints\" -m tcp --dport %u -j REJECT --reject-with icmp-port-unreachable",
		s->vip, s->name, s->port);
	if (s->node_port)
		rs_rule(rs, IPT_FILTER, "-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment \"%s "
			"has no endpoints\" -m addrtype --dst-type LOCAL -m tcp --dport %u -j REJECT "
			"--reject-with icmp-port-unreachable", s->name, s->node_port);
}

static void service_rules(const struct topo *t, struct ipt_ruleset *rs,
			  const struct kube_service *s)
{
	char svc[32], ext[32], sep[32], what[96];

	if (!s->nr_eps) {
		service_without_endpoints(rs, s);
		return;
	}
	kube_chain(svc, sizeof(svc), "KUBE-SVC-", t->opts.run, s->name);
	rs_chain(rs, IPT_NAT, "%s", svc);
	rs_rule(rs, IPT_NAT, "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"%s cluster IP\" "
		"-m tcp --dport %u -j %s", s->vip, s->name, s->port, svc);
	if (s->node_port) {
		kube_chain(ext, sizeof(ext), "KUBE-EXT-", t->opts.run, s->name);
		rs_chain(rs, IPT_NAT, "%s", ext);
		rs_rule(rs, IPT_NAT, "-A KUBE-NODEPORTS -p tcp -m comment --comment \"%s\" -m tcp "
			"--dport %u -j %s", s->name, s->node_port, ext);
		rs_rule(rs, IPT_NAT, "-A %s -m comment --comment \"masquerade traffic for %s external "
			"destinations\" -j KUBE-MARK-MASQ", ext, s->name);
		rs_rule(rs, IPT_NAT, "-A %s -j %s", ext, svc);
	}
	rs_rule(rs, IPT_NAT, "-A %s ! -s " TOPO_CLUSTER_CIDR " -d %s/32 -p tcp -m comment --comment "
		"\"%s cluster IP\" -m tcp --dport %u -j KUBE-MARK-MASQ", svc, s->vip, s->name, s->port);
	for (unsigned i = 0; i < s->nr_eps; i++) {
		snprintf(what, sizeof(what), "%s->%s", s->name, s->ep_ip[i]);
		kube_chain(sep, sizeof(sep), "KUBE-SEP-", t->opts.run, what);
		rs_chain(rs, IPT_NAT, "%s", sep);
		if (i + 1 < s->nr_eps)
			rs_rule(rs, IPT_NAT, "-A %s -m comment --comment \"%s -> %s:%u\" -m statistic "
				"--mode random --probability %0.10f -j %s", svc, s->name, s->ep_ip[i],
				s->ep_port, 1.0 / (s->nr_eps - i), sep);
		else
			rs_rule(rs, IPT_NAT, "-A %s -m comment --comment \"%s -> %s:%u\" -j %s", svc,
				s->name, s->ep_ip[i], s->ep_port, sep);
		rs_rule(rs, IPT_NAT, "-A %s -s %s/32 -m comment --comment \"%s\" -j KUBE-MARK-MASQ", sep,
			s->ep_ip[i], s->name);
		rs_rule(rs, IPT_NAT, "-A %s -p tcp -m comment --comment \"%s\" -m tcp -j DNAT "
			"--to-destination %s:%u", sep, s->name, s->ep_ip[i], s->ep_port);
	}
}

int kube_proxy_rules_build(const struct topo *t, struct ipt_ruleset *rs)
{
	static const char *const nat_chains[] = { "KUBE-SERVICES", "KUBE-POSTROUTING",
		"KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-PROXY-CANARY", NULL };
	static const char *const filter_chains[] = { "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES",
		"KUBE-PROXY-FIREWALL", "KUBE-FORWARD", "KUBE-NODEPORTS", "KUBE-PROXY-CANARY", NULL };
	struct kube_service s;

	for (int i = 0; nat_chains[i]; i++)
		rs_chain(rs, IPT_NAT, "%s", nat_chains[i]);
	for (int i = 0; filter_chains[i]; i++)
		rs_chain(rs, IPT_FILTER, "%s", filter_chains[i]);

	rs_rule(rs, IPT_NAT, "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
	rs_rule(rs, IPT_NAT, "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
	rs_rule(rs, IPT_NAT, "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING");
	rs_rule(rs, IPT_NAT, "-A KUBE-MARK-MASQ -j MARK --or-mark " KUBE_MARK_MASQ_BIT);
	rs_rule(rs, IPT_NAT, "-A KUBE-POSTROUTING -m mark ! --mark " KUBE_MARK_MASQ_BIT "/" KUBE_MARK_MASQ_BIT " -j RETURN");
	rs_rule(rs, IPT_NAT, "-A KUBE-POSTROUTING -j MARK --xor-mark " KUBE_MARK_MASQ_BIT);
	rs_rule(rs, IPT_NAT, "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" "
		"-j MASQUERADE --random-fully");

	rs_rule(rs, IPT_FILTER, "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL");
	rs_rule(rs, IPT_FILTER, "-A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS");
	rs_rule(rs, IPT_FILTER, "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES");
	rs_rule(rs, IPT_FILTER, "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL");
	rs_rule(rs, IPT_FILTER, "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD");
	rs_rule(rs, IPT_FILTER, "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
	rs_rule(rs, IPT_FILTER, "-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES");
	rs_rule(rs, IPT_FILTER, "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL");
	rs_rule(rs, IPT_FILTER, "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
	rs_rule(rs, IPT_FILTER, "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP");
	rs_rule(rs, IPT_FILTER, "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark "
		KUBE_MARK_MASQ_BIT "/" KUBE_MARK_MASQ_BIT " -j ACCEPT");
	rs_rule(rs, IPT_FILTER, "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" "
		"-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");

	/* Filler services first: the measured one is found at the end of the scan. */
	for (unsigned i = 0; i < t->opts.services; i++) {
		filler_service(t, i, &s);
		service_rules(t, rs, &s);
	}
	if (topo_uses_kube_proxy(t)) {
		memset(&s, 0, sizeof(s));
		snprintf(s.name, sizeof(s.name), "default/netprof-server:tcp");
		snprintf(s.vip, sizeof(s.vip), "%s", t->vip_str);
		s.port = t->vip_port;
		s.nr_eps = 1;
		snprintf(s.ep_ip[0], sizeof(s.ep_ip[0]), "%s", t->server.ip_str);
		s.ep_port = t->server_port;
		service_rules(t, rs, &s);
	}
	rs_rule(rs, IPT_NAT, "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be "
		"the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
	for (int tb = 0; tb < IPT_NR_TABLES; tb++)
		if (rs->chains[tb].failed || rs->rules[tb].failed)
			return -ENOMEM;
	return 0;
}

int topo_node_rules(const struct topo *t, int node, struct ipt_ruleset *rs,
		    struct strbuf *ipsets)
{
	int err = t->ops->node_rules ? t->ops->node_rules(t, node, rs, ipsets) : 0;

	/* The same services on every node: kube-proxy programs the cluster's. */
	if (!err && topo_runs_kube_proxy(t))
		err = kube_proxy_rules_build(t, rs);
	return err;
}

void topo_print_rules(const struct topo *t)
{
	const struct topo_cni_ops *ops = topo_ops(t->opts.cni);
	bool kube_proxy = topo_runs_kube_proxy(t);
	unsigned kube_rules = 0;

	if (kube_proxy && t->ops) {
		struct ipt_ruleset rs;

		rs_init(&rs);
		if (kube_proxy_rules_build(t, &rs) == 0)
			kube_rules = rs_count(&rs);
		rs_free(&rs);
	}
	out_object_begin("rules");
	out_bool("kube_proxy", NULL, kube_proxy);
	out_uint("services", kube_proxy ? "rules: kube-proxy %" PRIu64 " services" : NULL,
		 t->opts.services + (kube_proxy && t->opts.target_service));
	out_uint("nodeports", kube_proxy ? " (NodePort %" PRIu64 ")" : NULL,
		 kube_proxy_nodeports(t));
	out_uint("pods_per_node", kube_proxy ? ", %" PRIu64 " pods per node" : NULL, t->opts.pods);
	out_uint("kube_proxy_rules", kube_proxy && kube_rules ? ", %" PRIu64 " rules per node" : NULL,
		 kube_rules);
	if (!kube_proxy)
		out_text("rules: no kube-proxy (%s)", !ops ? "?" : !ops->kube_proxy ?
			 "kube-proxy replacement: socket-LB" : t->opts.socket_lb ?
			 "--socket-lb serves the ClusterIPs" : "--services 0");
	out_string("cni_rules", ops && ops->cni_rules ? "; %s" : NULL,
		   ops && ops->cni_rules ? ops->cni_rules : "");
	if (ops && ops->calico_rules)
		out_uint("policies", ", %" PRIu64 " policies", t->opts.policies);
	out_text(ops && ops->cni_rules ? "\n" : "; no CNI host rules\n");
	out_object_end();
}

/*
 * Socket-LB (Cilium's kube-proxy replacement, bpf/bpf_sock.c): socklb.h's
 * cgroup/connect4 program on the run's cgroup rewrites each ClusterIP to its
 * backend at connect() time, so no packet is DNATed. Only processes in the
 * run's cgroup see the rewrite.
 */

int topo_socket_lb_start(struct topo *t)
{
	int err = socklb_open(&t->rt->lb, t->cgroup);

	if (err)
		return err;
	/* The filler services of kube_proxy_rules_build, each to its first
	 * endpoint; one without endpoints has no backend to rewrite to. */
	for (unsigned i = 0; i < t->opts.services; i++) {
		struct kube_service s;
		uint32_t vip_be, ep_be;

		filler_service(t, i, &s);
		if (!s.nr_eps)
			continue;
		inet_pton(AF_INET, s.vip, &vip_be);
		inet_pton(AF_INET, s.ep_ip[0], &ep_be);
		if ((err = socklb_add_service(t->rt->lb, vip_be, htons(TOPO_VIP_PORT), ep_be,
					      htons(TOPO_FILLER_PORT))))
			return err;
	}
	return socklb_add_service(t->rt->lb, t->vip, htons(t->vip_port), t->server.ip,
				  htons(t->server_port));
}

void topo_socket_lb_counters(struct topo *t, struct json_writer *w)
{
	if (t->rt && t->rt->lb)
		jw_uint(w, "socklb.rewrites", socklb_rewrites(t->rt->lb));
}

void topo_socket_lb_close(struct topo *t)
{
	if (t->rt && t->rt->lb) {
		socklb_close(t->rt->lb);
		t->rt->lb = NULL;
	}
}
