/*
 * The device inventory of a topology: `ip -o -d link` and `ip -o -4 addr`
 * of each namespace, with veth peers resolved across the namespaces.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/exec.h"
#include "lib/netns.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

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
		if (!strcmp(name, "eth1"))
			return TOPO_ROLE_WIRE;	/* a second NIC: the pods' ENI */
		if (!strncmp(name, "cali", 4) || !strncmp(name, "lxc", 3))
			return TOPO_ROLE_HOST_VETH;
		if (!strncmp(name, "cilium_", 7))
			return TOPO_ROLE_ROUTER;
		if (t->ops && t->ops->veth_prefix && !strncmp(name, t->ops->veth_prefix,
							    strlen(t->ops->veth_prefix)))
			return TOPO_ROLE_HOST_VETH;
		if (!strcmp(kind, "bridge"))
			return TOPO_ROLE_ROUTER;	/* cni0: the pods' gateway address */
		return TOPO_ROLE_OTHER;
	}
	if (t->ops && t->ops->pod_nic && !strcmp(name, "eth0"))
		return TOPO_ROLE_WIRE;	/* an ENI moved into the pod */
	return !strcmp(name, "eth0") ? TOPO_ROLE_POD : TOPO_ROLE_OTHER;
}

static const char *const role_names[] = {
	[TOPO_ROLE_WIRE] = "wire", [TOPO_ROLE_POD] = "pod",
	[TOPO_ROLE_HOST_VETH] = "pod-veth-host", [TOPO_ROLE_ROUTER] = "router",
	[TOPO_ROLE_GATEWAY] = "gateway", [TOPO_ROLE_LOOPBACK] = "loopback",
	[TOPO_ROLE_OTHER] = "other",
};

const char *topo_dev_role_name(enum topo_dev_role role)
{
	return role_names[role];
}

void topo_word_after(const char *line, const char *key, char *out, size_t len)
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
		topo_word_after(line, " mtu ", tmp, sizeof(tmp));
		d->mtu = atoi(tmp);
		topo_word_after(line, " master ", d->master, sizeof(d->master));
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
		topo_word_after(line, " link-netns ", peers[t->nr_devs].netns, TOPO_NS_MAX);
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
int topo_namespaces(const struct topo *t, const char *out[6])
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
	for (int i = 0; i < 2 && n < 6; i++)
		if (t->sandbox[i][0])
			out[n++] = t->sandbox[i];
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
