/*
 * What every datapath builds with: the names and addresses derived from a
 * run, the tools run inside the namespaces, pod veths and the hop list.
 * Below the datapaths: nothing here knows which CNI it serves.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/exec.h"
#include "lib/log.h"
#include "lib/netns_admin.h"
#include "lib/teardown.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

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

/* ---- the files of a `topo up` run ---- */

int topo_state_path(const char *run, char *path, size_t len)
{
	return snprintf(path, len, "%s/%s.json", TOPO_STATE_DIR, run) >= (int)len ? -ENAMETOOLONG
										  : 0;
}

int topo_counters_path(const char *run, char *path, size_t len)
{
	return snprintf(path, len, "%s/%s.counters.json", TOPO_STATE_DIR, run) >= (int)len
		       ? -ENAMETOOLONG : 0;
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

/* ---- pieces every datapath uses ---- */

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
	return t->opts.target_service && t->ops->kube_proxy && !t->opts.socket_lb;
}

bool topo_uses_socket_lb(const struct topo *t)
{
	return t->opts.target_service && t->ops->socket_lb &&
	       (t->opts.socket_lb || !t->ops->kube_proxy);
}

bool topo_runs_kube_proxy(const struct topo *t)
{
	/* From the options alone: a report's topology has no ops. */
	const struct topo_cni_ops *ops = topo_ops(t->opts.cni);

	return ops && ops->kube_proxy && !t->opts.socket_lb &&
	       (t->opts.services || t->opts.target_service);
}

unsigned topo_emulated_pods(const struct topo *t, int node)
{
	unsigned real = 0;

	if (t->ops->has_pods)
		real = (topo_node_index(t, t->client.node_netns) == node) +
		       (topo_node_index(t, t->server.node_netns) == node);
	return t->opts.pods > real ? t->opts.pods - real : 0;
}
