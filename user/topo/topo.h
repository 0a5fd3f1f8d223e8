/*
 * The emulated Kubernetes datapaths: a model of one topology that
 * `netprof topo` builds, shows and removes and that `netprof run` profiles.
 *
 * Common frame: two node namespaces joined by a veth pair (the "wire"), pods
 * in namespaces of their own, no link to the root namespace, every name
 * netprof-<run>-*, every address from 198.18.0.0/15:
 *
 *   198.18.0.0/24     the wire (node1 198.18.0.1, node2 198.18.0.2); with
 *                     macvlan also the pods' L2 segment (pods .11, .12, ...)
 *   198.18.3.0/24     macvlan --subnets 2: node2's segment (gateway .254 on both)
 *   198.18.N.0/24     the pod block of node N (N = 1, 2) for calico and cilium:
 *                     .1 cilium_host (router IP), .2 .. real pods; on every
 *                     datapath .10 .. the emulated pods (--pods) that exist
 *                     only in rules (Calico's endpoints, kube-proxy's
 *                     service endpoints): nothing is sent to them
 *   198.19.0.10:80    the ClusterIP of the server pod (--target service)
 *   198.19.1.0/16..   --services N filler ClusterIPs (kube-proxy's, or socket-LB's)
 *
 * Everything here runs as root and only inside netprof's own namespaces.
 */
#ifndef NETPROF_TOPO_H
#define NETPROF_TOPO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum topo_cni {
	TOPO_CNI_HOST,		/* the two nodes talk directly: node-to-node baseline */
	TOPO_CNI_CALICO,	/* cali* veths, proxy ARP, Calico's iptables ruleset */
	TOPO_CNI_CILIUM,	/* lxc* veths, tc BPF host-routing (redirect_neigh/peer) */
	TOPO_CNI_CILIUM_LEGACY,	/* lxc* veths, BPF hands packets to the host stack */
	TOPO_CNI_MACVLAN,	/* bridge-mode macvlan children of the node uplink */
	TOPO_CNI_SIDECAR,	/* calico + Istio's nat rules and a proxy in each pod */
	TOPO_CNI_BRIDGE,	/* veths on a Linux bridge per node, routed between nodes */
	TOPO_CNI_TERWAY_ENI,	/* an ENI (NIC) moved into each pod: no host hop */
	TOPO_CNI_TERWAY,	/* veths, pod IPs on the node's ENI, policy routing */
	TOPO_CNI_VPC_CNI,	/* the same with the AWS/Tencent shared ENI's numbers */
	TOPO_CNI_KATA,		/* calico pods in kata VMs: tc mirred, tap, a VMM relay */
	TOPO_CNI_COUNT
};

#define TOPO_RUN_MAX 24		/* run ids: [a-z0-9-], short enough for every name */
#define TOPO_NS_MAX 64
#define TOPO_MAX_DEVS 48
#define TOPO_MAX_HOPS 24
#define TOPO_MAX_PODS 240	/* per node, real and emulated: hosts .10-.249 of a /24 */
#define TOPO_MAX_POLICIES 100
#define TOPO_MAX_SERVICES 10000
#define TOPO_CPUS_MAX 64	/* a CPU list in the kernel's format: "0-3,8" */
#define TOPO_MAX_NAPI 8		/* NAPI threads of the wire's ends */

/*
 * How the wire between the nodes receives. NAPI (the default) is a NIC's
 * way: GRO on, the packets polled by a NAPI thread pinned to the receiving
 * node's CPUs. BACKLOG is a plain veth's: the receive work is queued on the
 * sending CPU's backlog (netif_rx) and runs there, on the sender's node.
 */
enum topo_wire { TOPO_WIRE_NAPI, TOPO_WIRE_BACKLOG };

struct topo_opts {
	enum topo_cni cni;
	bool same_node;		/* --placement same-node; cross-node is the default */
	bool target_service;	/* --target service: the client dials a ClusterIP */
	unsigned mtu;		/* every device of the topology (1500) */
	unsigned pods;		/* workload endpoints per node in the ruleset (0: real ones) */
	unsigned policies;	/* network policies applied to every endpoint (calico) */
	unsigned services;	/* filler ClusterIP services besides the target one */
	unsigned subnets;	/* macvlan: 1, or 2 with a gateway namespace between */
	bool socket_lb;		/* ClusterIP by cgroup/connect4 instead of kube-proxy */
	bool socket_bypass;	/* sock_ops + sk_msg sockhash between same-node sockets */
	char iptables[8];	/* "legacy" (default) or "nft" */
	/* --node-cpus: each node's CPUs as a kernel CPU list; "" = the even
	 * split of the CPUs netprof may use (topo_plan resolves it). */
	char node_cpus[2][TOPO_CPUS_MAX];
	enum topo_wire wire;	/* --wire napi (default) or backlog */
	uint64_t link_rate;	/* --link-rate, bit/s on each wire end's egress; 0: uncapped */
	char run[TOPO_RUN_MAX + 1];
};

/* The server and client sides of the measured traffic. */
struct topo_endpoint {
	char netns[TOPO_NS_MAX];	/* where the application runs */
	char node_netns[TOPO_NS_MAX];	/* the node it sits on */
	char ifname[16];		/* its device (eth0 in a pod) */
	char host_ifname[16];		/* host side of its veth (cali*, lxc*), or "" */
	uint32_t ip;			/* network byte order */
	char ip_str[16];
	/* The CPUs of its node (topo.node_cpus): every process of the pod
	 * runs there. */
	char cpus[TOPO_CPUS_MAX];
};

/* A kernel thread that polls one wire end (threaded NAPI), and where it may run. */
struct topo_napi {
	char netns[TOPO_NS_MAX];
	char dev[16];
	pid_t pid;
	char comm[16];			/* napi/<dev>-<napi id> */
	char cpus[TOPO_CPUS_MAX];	/* its affinity as set: the receiving node's */
};

enum topo_dev_role {
	TOPO_ROLE_WIRE,		/* a node's uplink (the veth standing for the NIC) */
	TOPO_ROLE_POD,		/* a pod's eth0 */
	TOPO_ROLE_HOST_VETH,	/* host end of a pod veth (cali*, lxc*) */
	TOPO_ROLE_ROUTER,	/* cilium_host: the pods' gateway address */
	TOPO_ROLE_GATEWAY,	/* macvlan --subnets 2: the segment router's legs */
	TOPO_ROLE_LOOPBACK,
	TOPO_ROLE_OTHER,
};

struct topo_dev {
	char netns[TOPO_NS_MAX];
	char name[16];
	int ifindex;
	char kind[16];			/* veth, macvlan, dummy, loopback */
	char peer_netns[TOPO_NS_MAX];	/* veth peer or macvlan lower device */
	char peer[16];
	char master[16];
	char addr[20];			/* first IPv4 address/prefix, or "" */
	unsigned mtu;
	enum topo_dev_role role;
};

/* One step of a pod-to-pod data packet, in order. */
struct topo_hop {
	char netns[TOPO_NS_MAX];
	char dev[16];			/* "" when the step is not on a device */
	char what[160];
};

struct topo_runtime;
struct topo_cni_ops;

struct topo {
	struct topo_opts opts;
	const struct topo_cni_ops *ops;	/* the datapath of opts.cni (topo_plan) */
	char nodes[2][TOPO_NS_MAX];
	/* The CPUs each node owns: its pods' processes and its wire end's
	 * receive work run there (resolved from opts.node_cpus). */
	char node_cpus[2][TOPO_CPUS_MAX];
	char gateway[TOPO_NS_MAX];	/* macvlan --subnets 2, else "" */
	/* kata: the pods' sandboxes (the CNI's eth0, tap0_kata); client and
	 * server run in the guests behind them. Else "". */
	char sandbox[2][TOPO_NS_MAX];
	struct topo_endpoint client, server;
	uint32_t vip;			/* ClusterIP (network order), 0 without a service */
	char vip_str[16];
	uint16_t vip_port, server_port;
	char dst_str[16];		/* what the client dials: the server or the VIP */
	uint16_t dst_port;
	char cgroup[PATH_MAX];		/* the run's cgroup v2 directory */
	pid_t keeper;			/* `topo up`'s background holder, 0 in-process */
	struct topo_dev devs[TOPO_MAX_DEVS];
	unsigned nr_devs;
	struct topo_hop hops[TOPO_MAX_HOPS];
	unsigned nr_hops;
	/* --wire napi: the wire ends' NAPI threads (topo_up; topo_load reads
	 * them back from the state file). */
	struct topo_napi napi[TOPO_MAX_NAPI];
	unsigned nr_napi;
	struct topo_runtime *rt;	/* BPF objects and proxies, in the builder only */
};

/* "calico" -> TOPO_CNI_CALICO; -1 when unknown. */
int topo_cni_from_name(const char *name);
const char *topo_wire_name(enum topo_wire wire);
/* "10gbit", "1.5mbit", "100mbps" (bytes/s), a bare number (bit/s): tc's
 * rate units. 0 and the rate in bit/s, or -EINVAL. */
int topo_parse_rate(const char *text, uint64_t *bits_per_s);
/* 10000000000 -> "10gbit", as tc would accept it back. */
void topo_format_rate(uint64_t bits_per_s, char *out, size_t len);
/* --node-cpus: "0,1" (node1's CPUs, node2's) or one list both nodes share;
 * within a node's list, pieces join with '+' ("0-1+4"). The lists go into
 * o->node_cpus in the kernel's format. 0, or -EINVAL after one usage line. */
int topo_parse_node_cpus(const char *command, const char *arg, struct topo_opts *o);
const char *topo_cni_name(enum topo_cni cni);
/* "host, calico, ..." for help and errors. */
const char *topo_cni_list(void);
void topo_opts_defaults(struct topo_opts *o);
/*
 * Options that make no sense together (--subnets 2 with calico, --socket-lb
 * with kube-proxy-only datapaths, ...): one usage_error() line and -EINVAL.
 */
int topo_opts_check(const struct topo_opts *o);
/* --node-cpus names only CPUs this process may run on (a usage line and
 * -EINVAL otherwise). */
int topo_opts_check_cpus(const char *command, const struct topo_opts *o);

/*
 * Builds the topology. Everything created is registered with teardown.h as
 * it is created, so an error, exit() or SIGINT/SIGTERM removes it; stop
 * signals are polled between steps (-EINTR). On success the caller owns it:
 * topo_down() removes it. `t` is referenced by the teardown entries: keep
 * it alive (static or heap) until the process exits.
 */
int topo_up(const struct topo_opts *opts, struct topo *t);
/*
 * Removes a topology: the builder's BPF objects and proxies, the keeper of a
 * `topo up` (signalled and waited for), the namespaces, the cgroup and the
 * state file. Works on a topo_load()ed topology too. 0, or -errno.
 */
int topo_down(struct topo *t);
/*
 * Finds the topology of run `run` (NULL: the only one there is) from its
 * state file /run/netprof/<run>.json and its namespaces. -ENOENT when none,
 * -EEXIST (with a message) when run is NULL and there are several.
 */
int topo_load(const char *run, struct topo *t);
/* The "rules:" line of `topo show` and of the run report (text and JSON
 * "rules"): what the nodes' rulesets hold, kube-proxy's for the cluster's
 * services and pods and the datapath's own. */
void topo_print_rules(const struct topo *t);
/* Namespaces, devices, addresses, routes, rule counts, BPF programs, counters, hops. */
int topo_show(struct topo *t);
/* Re-reads the devices of every namespace of the topology into t->devs. */
int topo_scan_devices(struct topo *t);

/*
 * State files of `topo up` topologies. t->keeper, when set, must be a
 * process that answers SIGUSR1 with topo_write_counters() (`topo show`
 * signals it); leave it 0 otherwise.
 */
#define TOPO_STATE_DIR "/run/netprof"
int topo_save_state(const struct topo *t);
/*
 * The state file's format on any path (topo_save_state and topo_load use
 * TOPO_STATE_DIR). Reading sets each option the file names and *keeper,
 * and leaves the rest of *o, the run included, as the caller set it.
 */
int topo_state_write(const char *path, const struct topo *t);
int topo_state_read(const char *path, struct topo_opts *o, pid_t *keeper);

/*
 * For `topo up`: after topo_up, the builder stays in the background as the
 * topology's keeper, holding its BPF objects and proxies, answering SIGUSR1
 * with a counters file, and removing everything on SIGTERM.
 */
int topo_write_counters(struct topo *t);
/* Moves the calling process into the run's cgroup (and out again when the
 * cgroup is removed), so that `netprof cleanup` finds and ends a keeper. */
int topo_join_cgroup(const struct topo *t);
int topo_counters_path(const char *run, char *path, size_t len);

#endif
