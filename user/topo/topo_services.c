/*
 * ClusterIP services in front of the server pod (datapaths.md §2): kube-proxy's
 * iptables mode, written from the structure of pkg/proxy/iptables/proxier.go.
 * nat PREROUTING/OUTPUT -> KUBE-SERVICES, one `-d VIP --dport P -j KUBE-SVC-*`
 * per service port scanned linearly by the first packet of every connection;
 * KUBE-SVC-* picks an endpoint with `statistic --probability 1/(n-i)`;
 * KUBE-SEP-* DNATs. --services N adds N filler services (two endpoints each,
 * on emulated pods) ahead of the measured one, so that the lookup costs what
 * it costs in a cluster with that many services.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "datapath/socklb.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

#define KUBE_MARK_MASQ_BIT "0x4000"
#define FILLER_ENDPOINTS 2

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

struct kube_service {
	char name[48];
	char vip[16];
	unsigned port;
	unsigned nr_eps;
	char ep_ip[FILLER_ENDPOINTS][16];
	unsigned ep_port;
};

static void service_rules(const struct topo *t, struct ipt_ruleset *rs,
			  const struct kube_service *s)
{
	char svc[32], sep[32], what[96];

	kube_chain(svc, sizeof(svc), "KUBE-SVC-", t->opts.run, s->name);
	rs_chain(rs, IPT_NAT, "%s", svc);
	rs_rule(rs, IPT_NAT, "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"%s cluster IP\" "
		"-m tcp --dport %u -j %s", s->vip, s->name, s->port, svc);
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
		memset(&s, 0, sizeof(s));
		snprintf(s.name, sizeof(s.name), "default/filler-%u:http", i);
		filler_vip(s.vip, sizeof(s.vip), i);
		s.port = TOPO_VIP_PORT;
		s.nr_eps = FILLER_ENDPOINTS;
		for (unsigned e = 0; e < FILLER_ENDPOINTS; e++)
			topo_pod_ip(s.ep_ip[e], sizeof(s.ep_ip[e]), e, 10 + (i + e) % 200);
		s.ep_port = TOPO_FILLER_PORT;
		service_rules(t, rs, &s);
	}
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "default/netprof-server:tcp");
	snprintf(s.vip, sizeof(s.vip), "%s", t->vip_str);
	s.port = t->vip_port;
	s.nr_eps = 1;
	snprintf(s.ep_ip[0], sizeof(s.ep_ip[0]), "%s", t->server.ip_str);
	s.ep_port = t->server_port;
	service_rules(t, rs, &s);
	rs_rule(rs, IPT_NAT, "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be "
		"the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
	return 0;
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
	/* The filler services of kube_proxy_rules_build, each to its first endpoint. */
	for (unsigned i = 0; i < t->opts.services; i++) {
		char vip[16], ep[16];
		uint32_t vip_be, ep_be;

		filler_vip(vip, sizeof(vip), i);
		topo_pod_ip(ep, sizeof(ep), 0, 10 + i % 200);
		inet_pton(AF_INET, vip, &vip_be);
		inet_pton(AF_INET, ep, &ep_be);
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
