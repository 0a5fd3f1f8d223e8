/*
 * The build / remove sequence of every emulated datapath: the CNI table and
 * its options, the plan of names and addresses, the nodes and the wire, the
 * run's cgroup and the nodes' iptables, with each datapath reached only
 * through its topo_cni_ops.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "lib/cgroup.h"
#include "lib/cpulist.h"
#include "lib/exec.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/netns_admin.h"
#include "lib/teardown.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static const struct topo_cni_ops *const cni_ops[TOPO_CNI_COUNT] = {
	[TOPO_CNI_HOST] = &topo_host_ops,
	[TOPO_CNI_CALICO] = &topo_calico_ops,
	[TOPO_CNI_CILIUM] = &topo_cilium_ops,
	[TOPO_CNI_CILIUM_LEGACY] = &topo_cilium_legacy_ops,
	[TOPO_CNI_MACVLAN] = &topo_macvlan_ops,
	[TOPO_CNI_SIDECAR] = &topo_sidecar_ops,
	[TOPO_CNI_BRIDGE] = &topo_bridge_ops,
	[TOPO_CNI_TERWAY_ENI] = &topo_terway_eni_ops,
	[TOPO_CNI_TERWAY] = &topo_terway_ops,
	[TOPO_CNI_VPC_CNI] = &topo_vpc_cni_ops,
	[TOPO_CNI_KATA] = &topo_kata_ops,
};

const struct topo_cni_ops *topo_ops(enum topo_cni cni)
{
	return (unsigned)cni < TOPO_CNI_COUNT ? cni_ops[cni] : NULL;
}

int topo_cni_from_name(const char *name)
{
	for (int i = 0; i < TOPO_CNI_COUNT; i++)
		if (!strcmp(cni_ops[i]->name, name))
			return i;
	return -1;
}

const char *topo_cni_name(enum topo_cni cni)
{
	return (unsigned)cni < TOPO_CNI_COUNT ? cni_ops[cni]->name : "?";
}

const char *topo_wire_name(enum topo_wire wire)
{
	return wire == TOPO_WIRE_BACKLOG ? "backlog" : "napi";
}

const char *topo_cni_list(void)
{
	static char list[128];

	if (!list[0])
		for (int i = 0, n = 0; i < TOPO_CNI_COUNT; i++)
			n += snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
				      cni_ops[i]->name);
	return list;
}

void topo_opts_defaults(struct topo_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cni = TOPO_CNI_CALICO;
	o->mtu = 1500;
	o->subnets = 1;
	/* A small real cluster (topo_options_help); --services 0 --pods 0
	 * leaves bare nodes. */
	o->services = 100;
	o->pods = 30;
	snprintf(o->iptables, sizeof(o->iptables), "legacy");
}

int topo_opts_check_cpus(const char *command, const struct topo_opts *o)
{
	cpu_set_t usable;
	char have[TOPO_CPUS_MAX];

	if (cpulist_usable(&usable))
		return 0;	/* nothing to check against: sched_setaffinity will say */
	cpulist_format(&usable, have, sizeof(have));
	for (int node = 0; node < 2; node++) {
		cpu_set_t want, inside;

		if (!o->node_cpus[node][0])
			continue;
		if (cpulist_parse(o->node_cpus[node], &want)) {
			usage_error("%s: --node-cpus: '%s' is not a CPU list", command,
				    o->node_cpus[node]);
			return -EINVAL;
		}
		CPU_AND(&inside, &want, &usable);
		if (!CPU_EQUAL(&inside, &want)) {
			usage_error("%s: --node-cpus: node%d's CPUs %s are not all among the CPUs "
				    "netprof may use here (%s)", command, node + 1, o->node_cpus[node],
				    have);
			return -EINVAL;
		}
	}
	return 0;
}

int topo_opts_check(const struct topo_opts *o)
{
	const struct topo_cni_ops *ops = topo_ops(o->cni);
	const char *cni = topo_cni_name(o->cni);

	if (!ops) {
		usage_error("topo: --cni %s is not in this build", cni);
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
	if (o->policies && !ops->calico_rules) {
		usage_error("topo: --policies applies to Calico's ruleset; --cni %s has none "
			    "(use calico or sidecar)", cni);
		return -EINVAL;
	}
	if (topo_opts_check_cpus("topo", o))
		return -EINVAL;
	if (topo_socket_bypass_check(o))
		return -EINVAL;
	return ops->check ? ops->check(o) : 0;
}

/* ---- the plan ---- */

static void set_endpoint_ip(struct topo_endpoint *ep, const char *ip)
{
	snprintf(ep->ip_str, sizeof(ep->ip_str), "%s", ip);
	inet_pton(AF_INET, ip, &ep->ip);
}

/*
 * Each node's CPUs: as --node-cpus says, else the CPUs this process may use
 * split in two, node1 the first half (the larger one when they are odd in
 * number) and node2 the rest; with one CPU both nodes have it.
 */
static void plan_cpus(const struct topo_opts *o, struct topo *t)
{
	cpu_set_t usable, half[2];
	int n = 0, first;

	cpulist_usable(&usable);
	first = (CPU_COUNT(&usable) + 1) / 2;
	CPU_ZERO(&half[0]);
	CPU_ZERO(&half[1]);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &usable))
			CPU_SET(c, &half[n++ < first ? 0 : 1]);
	if (!CPU_COUNT(&half[1]))
		half[1] = half[0];
	for (int node = 0; node < 2; node++) {
		if (o->node_cpus[node][0])
			snprintf(t->node_cpus[node], TOPO_CPUS_MAX, "%s", o->node_cpus[node]);
		else
			cpulist_format(&half[node], t->node_cpus[node], TOPO_CPUS_MAX);
	}
	snprintf(t->client.cpus, TOPO_CPUS_MAX, "%s",
		 t->node_cpus[topo_node_index(t, t->client.node_netns)]);
	snprintf(t->server.cpus, TOPO_CPUS_MAX, "%s",
		 t->node_cpus[topo_node_index(t, t->server.node_netns)]);
}

/* Every name and address of the topology follows from its options. */
void topo_plan(const struct topo_opts *o, struct topo *t)
{
	const struct topo_cni_ops *ops = topo_ops(o->cni);
	struct topo_runtime *rt = t->rt;
	char root[PATH_MAX];

	memset(t, 0, sizeof(*t));
	t->rt = rt;
	t->ops = ops;
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
		if (ops->veth_prefix) {
			topo_veth_name(t->client.host_ifname, 16, ops->veth_prefix, o->run, "pod-a");
			topo_veth_name(t->server.host_ifname, 16, ops->veth_prefix, o->run, "pod-b");
		}
	}
	if (ops->plan)
		ops->plan(t);
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
	plan_cpus(o, t);
	if (cgroup2_mount(root, sizeof(root)) == 0)
		snprintf(t->cgroup, sizeof(t->cgroup), "%.*s/netprof-%s", PATH_MAX - 40, root,
			 o->run);
	ops->hops(t);
	topo_socket_bypass_hops(t);
}

/* ---- the nodes' iptables ---- */

int topo_load_node_rules(struct topo *t)
{
	int err = 0;

	for (int node = 0; node < 2 && !err; node++) {
		struct ipt_ruleset rs;
		struct strbuf sets = {};

		rs_init(&rs);
		err = topo_node_rules(t, node, &rs, &sets);
		/* The rules match on the sets: they go first. */
		if (!err && sets.len) {
			char out[512], line[256];
			int rc = RUN_INPUT(t->nodes[node], sets.buf, out, sizeof(out), "ipset",
					   "restore");

			if (rc) {
				pr_warn("ipset restore in %s failed: %s", t->nodes[node],
					rc < 0 ? strerror(-rc) : first_line(out, line, sizeof(line)));
				err = -EIO;
			}
		}
		sb_free(&sets);
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

int topo_join_cgroup(const struct topo *t)
{
	if (!home_cgroup[0] && cgroup_of_self(home_cgroup, sizeof(home_cgroup)))
		home_cgroup[0] = '\0';
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
	if (t->ops->close)
		t->ops->close(t);
	topo_socket_bypass_close(t);
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
	STEP(topo_wire_setup(t));
	if (ops->has_pods) {
		STEP(topo_netns_add(t, t->client.netns, false));
		STEP(topo_netns_add(t, t->server.netns, false));
	}
	STEP(ops->build(t));
	STEP(topo_load_node_rules(t));
	if (ops->start)
		STEP(ops->start(t));
	STEP(topo_socket_bypass_start(t));
	STEP(topo_scan_devices(t));
	path = malloc(PATH_MAX);
	if (path && topo_state_path(opts->run, path, PATH_MAX) == 0)
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
	for (int i = 0; i < 2; i++)
		if (t->sandbox[i][0] && netns_delete(t->sandbox[i]))
			err = -EIO;
	if (t->cgroup[0] && cgroup_remove_tree(t->cgroup))
		err = -EBUSY;
	if (topo_state_path(t->opts.run, path, sizeof(path)) == 0)
		unlink(path);
	if (topo_counters_path(t->opts.run, path, sizeof(path)) == 0)
		unlink(path);
	return err;
}

/* ---- the keeper's counters file ---- */

int topo_write_counters(struct topo *t)
{
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
	if (t->ops->counters)
		t->ops->counters(t, &w);
	topo_socket_bypass_counters(t, &w);
	jw_object_end(&w);
	jw_finish(&w);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -errno;
	}
	return 0;
}
