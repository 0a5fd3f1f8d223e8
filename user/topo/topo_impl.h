/*
 * Between the topo_*.c files: the per-CNI operations table, and the helpers
 * below the datapaths (topo_core.c, ipt_ruleset.h) that every datapath uses
 * to configure its namespaces. topo.c reaches a datapath only through its
 * operations, and the datapaths never call back up into topo.c.
 */
#ifndef NETPROF_TOPO_IMPL_H
#define NETPROF_TOPO_IMPL_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/output.h"
#include "lib/strbuf.h"
#include "topo/ipt_ruleset.h"
#include "topo/topo.h"

struct topo_cni_ops {
	const char *name;
	const char *summary;
	bool has_pods;		/* false: the node namespaces are the endpoints */
	const char *veth_prefix;	/* of the pods' host-side veths; NULL: no veths */
	bool calico_rules;	/* node_rules is Calico's: --policies applies to it */
	/*
	 * The real datapath runs kube-proxy (iptables mode): both nodes carry
	 * its ruleset for the cluster's --services (unless --socket-lb), and
	 * a ClusterIP is kube-proxy NAT. False: kube-proxy replacement.
	 */
	bool kube_proxy;
	bool socket_lb;		/* a ClusterIP is socket-LB (always, or with --socket-lb) */
	/* The datapath's own host rules, for reports ("Calico's felix chains");
	 * NULL when it has none. */
	const char *cni_rules;
	bool pod_nic;		/* the pods' eth0 is a NIC of their own (an ENI), not a veth */
	/* Addresses that differ from the common plan (after it). May be NULL. */
	void (*plan)(struct topo *t);
	/* Datapath-specific option checks (one usage_error line, -EINVAL). */
	int (*check)(const struct topo_opts *o);
	/* Pods and their links; the nodes and the wire exist already. */
	int (*build)(struct topo *t);
	/*
	 * The iptables rules of node `node` (0/1) into rs, and the ipsets they
	 * match on into ipsets (`ipset restore` input, loaded first). Built
	 * without side effects; topo.c loads both. May be NULL.
	 */
	int (*node_rules)(const struct topo *t, int node, struct ipt_ruleset *rs,
			  struct strbuf *ipsets);
	/* After the rules are loaded: BPF programs, proxies. May be NULL. */
	int (*start)(struct topo *t);
	/* Closes what `start` opened; idempotent, and safe after a failed start. */
	void (*close)(struct topo *t);
	/* The pod-to-pod (or pod-to-ClusterIP) data packet, step by step. */
	void (*hops)(struct topo *t);
	/* Live counters of what `start` attached (keeper only). May be NULL. */
	void (*counters)(struct topo *t, struct json_writer *w);
};

extern const struct topo_cni_ops topo_host_ops, topo_calico_ops, topo_cilium_ops,
	topo_cilium_legacy_ops, topo_macvlan_ops, topo_sidecar_ops;
extern const struct topo_cni_ops topo_bridge_ops;
extern const struct topo_cni_ops topo_terway_eni_ops, topo_terway_ops;
extern const struct topo_cni_ops topo_vpc_cni_ops;
extern const struct topo_cni_ops topo_kata_ops;

/* What start() attached, for counters and teardown; owned by the builder. */
struct cilium_dp;
struct socklb;
struct sidecar;
struct sockbypass;
struct vmm_relay;
struct topo_runtime {
	struct cilium_dp *dp[2];
	struct socklb *lb;
	struct sidecar *sidecar[2];
	struct sockbypass *bypass;
	struct vmm_relay *relay[2];
};

/* The operations of a CNI (topo.c's table); NULL when unknown. */
const struct topo_cni_ops *topo_ops(enum topo_cni cni);

/* ---- naming and addressing (topo.c: the plan; topo_core.c: the rest) ---- */
/* Every name, address and hop of a topology, from its options alone. */
void topo_plan(const struct topo_opts *o, struct topo *t);
#define TOPO_WIRE_NET	"198.18.0"	/* node uplinks, and macvlan segment 1 */
#define TOPO_SEG2_NET	"198.18.3"	/* macvlan segment 2 */
#define TOPO_GW_HOST	254		/* segment gateway's host number */
#define TOPO_VIP	"198.19.0.10"
#define TOPO_SERVICE_CIDR "198.19.0.0/16"
#define TOPO_CLUSTER_CIDR "198.18.0.0/15"
#define TOPO_VIP_PORT	80
#define TOPO_SERVER_PORT 5201
#define TOPO_FILLER_PORT 8080

/* "<prefix><11 hex chars>" derived from the run and the pod, as Calico
 * (cali + 11) and Cilium (lxc + 11) name host-side veths. */
void topo_veth_name(char *out, size_t len, const char *prefix, const char *run, const char *pod);
/* The pod name of emulated endpoint i (0, 1: the real client/server). */
void topo_pod_name(char *out, size_t len, int node, unsigned i);
/* 198.18.<node+1>.<host> */
void topo_pod_ip(char *out, size_t len, int node, unsigned host);
/* Node index (0/1) a pod endpoint sits on. */
int topo_node_index(const struct topo *t, const char *node_netns);

/* ---- the wire (topo_wire.c) ---- */
/* After the wire is up: --wire napi's offloads and pinned NAPI threads
 * (into t->napi), --link-rate's tbf on every end. 0, or -errno after one
 * pr_warn line. */
int topo_wire_setup(struct topo *t);
/* What a packet sent over the wire meets, for the hop lists. */
const char *topo_wire_hop(const struct topo *t);
/* One more NIC (a veth end standing for an ENI) made to receive as the
 * wire's ends do: --wire napi's offloads and a NAPI thread pinned to cpus
 * (into t->napi), --link-rate's tbf. 0, or -errno after one pr_warn line. */
int topo_nic_setup(struct topo *t, const char *netns, const char *dev, const char *cpus);

/* ---- running tools inside namespaces (topo_core.c) ---- */
/* `ip -batch -` inside ns; commands separated by newlines. */
int topo_ip_batch(const char *ns, const char *cmds);
/* sysctl -w k=v ... inside ns (NULL-terminated list of "k=v"). */
int topo_sysctls(const char *ns, const char *const kv[]);
int topo_sysctlf(const char *ns, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Creates ns (lo up, forwarding as asked) and registers its removal. */
int topo_netns_add(struct topo *t, const char *ns, bool forwarding);
void topo_add_hop(struct topo *t, const char *ns, const char *dev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- pieces shared by datapaths (topo_core.c) ---- */
/* veth pod<->node: pod side eth0 with ip/32; host side `host_if`. */
int topo_add_pod_veth(struct topo *t, const struct topo_endpoint *ep, const char *pod_mac,
		      const char *host_mac);
/* How a ClusterIP is served: kube-proxy NAT or socket-LB (or neither). */
bool topo_uses_kube_proxy(const struct topo *t);
bool topo_uses_socket_lb(const struct topo *t);
/* The nodes carry kube-proxy's ruleset: a kube-proxy datapath without
 * --socket-lb, with services to hold (--services, or the measured one). */
bool topo_runs_kube_proxy(const struct topo *t);
/*
 * The emulated pods of node `node` (--pods per node, less the real ones
 * there): pod i is 198.18.<node+1>.<10+i>. They exist only as addresses in
 * rules (Calico's endpoints, kube-proxy's service endpoints): nothing is
 * ever sent to them.
 */
unsigned topo_emulated_pods(const struct topo *t, int node);

/* ---- rule generators ---- */
/* Calico's ruleset for node `node` (0/1), with the real pods' host veths. */
int calico_rules_build(const struct topo *t, int node, struct ipt_ruleset *rs);
/* ipsets Calico's rules refer to, for `ipset restore` (created before rules). */
int calico_ipsets_build(const struct topo *t, int node, struct strbuf *sb);
/* kube-proxy's iptables (nat and filter) for the filler services and the
 * measured one, as on every node of the cluster. */
int kube_proxy_rules_build(const struct topo *t, struct ipt_ruleset *rs);
/* Filler services with a NodePort among --services N. */
unsigned kube_proxy_nodeports(const struct topo *t);
/* Node `node`'s whole ruleset: the datapath's node_rules, then kube-proxy's
 * when the node runs it (topo_runs_kube_proxy). */
int topo_node_rules(const struct topo *t, int node, struct ipt_ruleset *rs,
		    struct strbuf *ipsets);
/* Loads the nodes' iptables (topo_node_rules), if any. */
int topo_load_node_rules(struct topo *t);

/* ---- services: socket-LB (topo_services.c), for the BPF datapaths' start and close ---- */
int topo_socket_lb_start(struct topo *t);
void topo_socket_lb_counters(struct topo *t, struct json_writer *w);
void topo_socket_lb_close(struct topo *t);

/* ---- --socket-bypass on any datapath with pods (topo_bypass.c) ---- */
int topo_socket_bypass_check(const struct topo_opts *o);
int topo_socket_bypass_start(struct topo *t);
void topo_socket_bypass_counters(struct topo *t, struct json_writer *w);
void topo_socket_bypass_close(struct topo *t);
/* With --socket-bypass, replaces the hop list with the payload's. */
void topo_socket_bypass_hops(struct topo *t);

/* ---- Calico's pieces the sidecar datapath reuses (topo_calico.c) ---- */
/* Calico's pods and routes, and its hop list (sidecar: with the proxies). */
int calico_build_pods(struct topo *t);
void calico_hops(struct topo *t, bool sidecar);
/* Calico's ruleset and ipsets. */
int calico_node_rules(const struct topo *t, int node, struct ipt_ruleset *rs,
		      struct strbuf *ipsets);

/* ---- the VPC datapaths' ENIs (topo_eni.c) ---- */
#define ENI_GATEWAY	TOPO_WIRE_NET ".254"	/* the VPC subnet's gateway */
#define ENI_NODE_DEV	"eth1"			/* a node's second NIC: the pods' ENI */
enum { ENI_MAC_NIC = 0x00, ENI_MAC_HOST_VETH = 0xfe };
/* One end of an ENI pair: its namespace, address and receiving CPUs. */
struct eni_end {
	const char *netns;
	char ip[16];
	char cpus[TOPO_CPUS_MAX];
};
/* How a shared-ENI CNI routes a pod (the numbers are the CNI's own). */
struct eni_layout {
	unsigned to_pod_pref;	/* `to <pod> lookup main` */
	unsigned from_pod_pref;	/* `from <pod> lookup <the ENI's table>` */
	bool from_to_vpc;	/* that rule also says `to <VPC CIDR>` */
	int table;		/* the ENI's table, or its base when by ifindex */
	bool table_by_ifindex;	/* table + the ENI's ifindex */
	bool gateway_host_route; /* the table also has `<gateway> dev <ENI> scope link` */
};
/* Pod A .11, pod B .12 of the VPC subnet (an ops->plan). */
void eni_plan(struct topo *t);
/* "02:<kind>:<the four bytes of ip>". */
void eni_mac(char *out, size_t len, unsigned kind, const char *ip);
/* A veth pair `dev` between the two ends standing for two ENIs in one VPC:
 * addresses ip/prefix, the gateway's neighbour entry the other end's MAC,
 * each end receiving as a NIC on its CPUs (topo_nic_setup). */
int eni_pair(struct topo *t, const struct eni_end ends[2], const char *dev, unsigned prefix);
/* Each node's ENI eth1 (198.18.0.3, .4), paired through the VPC. */
int eni_node_nics(struct topo *t);
/* The ENI's route table in node_ns as layout l numbers it, or -errno. */
int eni_table(const struct eni_layout *l, const char *node_ns);
/* The nodes' ENIs and tables, the pods on veths with their rules. */
int eni_policy_build(struct topo *t, const struct eni_layout *l);
void eni_policy_hops(struct topo *t, const struct eni_layout *l);

/* ---- files, devices, show ---- */
/* TOPO_STATE_DIR/<run>.json (topo_core.c; topo_counters_path's sibling). */
int topo_state_path(const char *run, char *path, size_t len);
/* A whole small file, NUL-terminated; its length, or -errno (topo_state.c). */
int topo_read_file(const char *path, char *buf, size_t len);
/* topo_devices.c: the namespaces of the topology, in show order; how many. */
int topo_namespaces(const struct topo *t, const char *out[6]);
const char *topo_dev_role_name(enum topo_dev_role role);
/* The word after `key` in an `ip -o` or `tc` line, up to a space or '\\'. */
void topo_word_after(const char *line, const char *key, char *out, size_t len);

#endif
