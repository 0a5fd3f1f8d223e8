/*
 * --cni kata: kata containers on Calico with kata's default "tcfilter"
 * networking (src/runtime/virtcontainers/network_linux.go, datapaths.md
 * §6). The pod's namespace is the sandbox: Calico's veth eth0 is there
 * and, beside it, the tap tap0_kata that stands for the VM's NIC on the
 * host side; each has an ingress filter list with `u32 match u8 0 0 action
 * mirred egress redirect` to the other, so every frame from the CNI goes
 * to the tap and every frame from the tap to the CNI's veth. Behind the
 * tap is the guest: a namespace of its own (the client and server run
 * there) whose eth0 is a tap with eth0's MAC, the pod address and Calico's
 * routes, as kata's agent configures the VM's virtio NIC; between the two
 * taps a relay process per pod (vmm_relay.h) stands for the VMM's
 * virtio/vhost path, one copy per frame, pinned to the pod's node CPUs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/exec.h"
#include "lib/log.h"
#include "datapath/vmm_relay.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

#define KATA_TAP "tap0_kata"

static void kata_plan(struct topo *t)
{
	struct topo_endpoint *eps[2] = { &t->client, &t->server };

	for (int i = 0; i < 2; i++) {
		snprintf(t->sandbox[i], TOPO_NS_MAX, "%s", eps[i]->netns);
		snprintf(eps[i]->netns, TOPO_NS_MAX, "%.55s-vm", t->sandbox[i]);
	}
}

/* Points the endpoints' namespaces at the sandboxes, where the CNI
 * (Calico) puts the pods' links (on), or back at the guests. */
static void with_sandboxes(struct topo *t, bool on)
{
	struct topo_endpoint *eps[2] = { &t->client, &t->server };

	for (int i = 0; i < 2; i++)
		snprintf(eps[i]->netns, TOPO_NS_MAX, on ? "%s" : "%.55s-vm", t->sandbox[i]);
}

static int eth0_mac(const char *ns, char *mac, size_t len)
{
	char out[1024];

	if (RUN(ns, out, sizeof(out), "ip", "-o", "link", "show", "dev", "eth0") != 0)
		return -EIO;
	topo_word_after(out, "link/ether ", mac, len);
	return mac[0] ? 0 : -EIO;
}

static int tc_batch(const char *ns, const char *cmds)
{
	char out[1024], line[256];
	int rc = RUN_INPUT(ns, cmds, out, sizeof(out), "tc", "-batch", "-");

	if (rc) {
		pr_warn("tc in %s failed: %s", ns,
			rc < 0 ? strerror(-rc) : first_line(out, line, sizeof(line)));
		return -EIO;
	}
	return 0;
}

static int kata_sandbox(struct topo *t, int i, const struct topo_endpoint *guest)
{
	char cmd[1024], mac[20];
	int err;

	if ((err = eth0_mac(t->sandbox[i], mac, sizeof(mac)))) {
		pr_warn("kata: no eth0 MAC in %s", t->sandbox[i]);
		return err;
	}
	snprintf(cmd, sizeof(cmd), "tuntap add dev " KATA_TAP " mode tap\n"
		 "link set " KATA_TAP " mtu %u up\n", t->opts.mtu);
	if ((err = topo_ip_batch(t->sandbox[i], cmd)))
		return err;
	/* clsact holds the same ingress list (ffff:fff1) as kata's ingress
	 * qdisc, and leaves egress free for the tracer's hooks. */
	if ((err = tc_batch(t->sandbox[i],
			    "qdisc add dev eth0 clsact\nqdisc add dev " KATA_TAP " clsact\n"
			    "filter add dev eth0 ingress protocol all u32 match u8 0 0 "
			    "action mirred egress redirect dev " KATA_TAP "\n"
			    "filter add dev " KATA_TAP " ingress protocol all u32 match u8 0 0 "
			    "action mirred egress redirect dev eth0\n")))
		return err;
	snprintf(cmd, sizeof(cmd),
		 "tuntap add dev eth0 mode tap\n"
		 "link set eth0 address %s mtu %u up\n"
		 "addr add %s/32 dev eth0\n"
		 "route add 169.254.1.1 dev eth0 scope link\n"
		 "route add default via 169.254.1.1 dev eth0\n", mac, t->opts.mtu, guest->ip_str);
	return topo_ip_batch(guest->netns, cmd);
}

static int kata_build(struct topo *t)
{
	int err;

	for (int i = 0; i < 2; i++)
		if ((err = topo_netns_add(t, t->sandbox[i], false)))
			return err;
	with_sandboxes(t, true);
	err = calico_build_pods(t);
	with_sandboxes(t, false);
	if (err)
		return err;
	if ((err = kata_sandbox(t, 0, &t->client)))
		return err;
	return kata_sandbox(t, 1, &t->server);
}

static int kata_start(struct topo *t)
{
	const struct topo_endpoint *eps[2] = { &t->client, &t->server };

	for (int i = 0; i < 2; i++) {
		int err = vmm_relay_start(&t->rt->relay[i], t->sandbox[i], KATA_TAP, eps[i]->netns,
					  "eth0", t->cgroup, eps[i]->cpus);
		if (err)
			return err;
	}
	return 0;
}

static void kata_close(struct topo *t)
{
	for (int i = 0; t->rt && i < 2; i++) {
		vmm_relay_stop(t->rt->relay[i]);
		t->rt->relay[i] = NULL;
	}
}

static void kata_counters(struct topo *t, struct json_writer *w)
{
	static const char *const who[2] = { "client_relay", "server_relay" };

	for (int i = 0; t->rt && i < 2; i++) {
		struct vmm_relay_counts c;
		char key[64];

		if (!t->rt->relay[i])
			continue;
		vmm_relay_read(t->rt->relay[i], &c);
#define RELAY_COUNTER(f) snprintf(key, sizeof(key), "%s.%s", who[i], #f); jw_uint(w, key, c.f)
		RELAY_COUNTER(frames_to_guest);
		RELAY_COUNTER(bytes_to_guest);
		RELAY_COUNTER(frames_from_guest);
		RELAY_COUNTER(bytes_from_guest);
		RELAY_COUNTER(write_errors);
#undef RELAY_COUNTER
		snprintf(key, sizeof(key), "%s.pid", who[i]);
		jw_uint(w, key, (uint64_t)vmm_relay_pid(t->rt->relay[i]));
	}
}

/* Calico's node steps between the two guest boundaries. */
static void kata_hops(struct topo *t)
{
	struct topo_hop mid[TOPO_MAX_HOPS];
	unsigned n;

	with_sandboxes(t, true);
	calico_hops(t, false);
	with_sandboxes(t, false);
	/* Calico's list: the pod's send, the nodes' steps up to the veth into
	 * pod B, then pod B's receive and socket; keep the nodes' steps. */
	n = t->nr_hops > 3 ? t->nr_hops - 3 : 0;
	memcpy(mid, t->hops + 1, n * sizeof(mid[0]));
	t->nr_hops = 0;
	topo_add_hop(t, t->client.netns, "eth0", "TCP socket in the guest: ip_output, the guest "
		     "NIC's xmit (a tap: the frame to the VMM)");
	topo_add_hop(t, t->sandbox[0], KATA_TAP, "the VMM relay (virtio/vhost's place, its own "
		     "thread and CPU) copies the frame into tap0_kata: tap receive");
	topo_add_hop(t, t->sandbox[0], KATA_TAP, "tc ingress: u32 match, mirred egress redirect "
		     "to eth0");
	topo_add_hop(t, t->sandbox[0], "eth0", "veth xmit: backlog enqueue");
	for (unsigned i = 0; i < n; i++)
		topo_add_hop(t, mid[i].netns, mid[i].dev, "%s", mid[i].what);
	topo_add_hop(t, t->sandbox[1], "eth0", "receive from backlog, tc ingress: u32 match, "
		     "mirred egress redirect to tap0_kata");
	topo_add_hop(t, t->sandbox[1], KATA_TAP, "tap xmit: queued for the VMM relay, which "
		     "copies it into the guest's NIC (its own thread and CPU)");
	topo_add_hop(t, t->server.netns, "eth0", "the guest NIC's receive: ip_rcv, then the "
		     "server's TCP socket");
}

const struct topo_cni_ops topo_kata_ops = {
	.name = "kata",
	.summary = "calico pods in kata VMs: tc mirred between eth0 and tap0_kata, a VMM relay "
		   "into the guest",
	.has_pods = true,
	.veth_prefix = "cali",
	.calico_rules = true,
	.kube_proxy = true,
	.plan = kata_plan,
	.build = kata_build,
	.node_rules = calico_node_rules,
	.start = kata_start,
	.close = kata_close,
	.hops = kata_hops,
	.counters = kata_counters,
};
