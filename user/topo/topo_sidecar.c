/*
 * --cni sidecar: Calico's datapath with an Istio sidecar in each of the two
 * pods (datapaths.md §5): sidecar.h installs Istio's nat rules in the pod
 * and runs netprof's proxy there as uid 1337, in the run's cgroup. One
 * request crosses three TCP connections and two user-space proxies.
 */
#include <stdio.h>
#include <string.h>

#include "lib/cpulist.h"
#include "lib/log.h"
#include "datapath/sidecar.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static int sidecar_start_pods(struct topo *t)
{
	const struct topo_endpoint *eps[2] = { &t->client, &t->server };
	cpu_set_t set;
	int err;

	for (int i = 0; i < 2; i++) {
		err = sidecar_start(&t->rt->sidecar[i], eps[i]->netns, t->cgroup, t->opts.iptables);
		if (err) {
			pr_warn("sidecar in %s: %s", eps[i]->netns, strerror(-err));
			return err;
		}
		/* The proxy is one of the pod's processes: its node's CPUs. */
		if (cpulist_parse(eps[i]->cpus, &set) == 0 &&
		    (err = cpulist_pin_process(sidecar_pid(t->rt->sidecar[i]), &set))) {
			pr_warn("sidecar in %s: cannot run it on CPUs %s: %s", eps[i]->netns,
				eps[i]->cpus, strerror(-err));
			return err;
		}
	}
	return 0;
}

static void sidecar_close(struct topo *t)
{
	for (int i = 0; t->rt && i < 2; i++) {
		sidecar_stop(t->rt->sidecar[i]);
		t->rt->sidecar[i] = NULL;
	}
}

static void sidecar_counters(struct topo *t, struct json_writer *w)
{
	static const char *const who[2] = { "client_proxy", "server_proxy" };

	for (int i = 0; i < 2; i++) {
		struct sidecar_stats st;
		char key[64];

		if (!t->rt || !t->rt->sidecar[i] || sidecar_read_stats(t->rt->sidecar[i], &st))
			continue;
#define SIDECAR_COUNTER(f) snprintf(key, sizeof(key), "%s.%s", who[i], #f); jw_uint(w, key, st.f)
		SIDECAR_COUNTER(outbound_conns);
		SIDECAR_COUNTER(inbound_conns);
		SIDECAR_COUNTER(bytes_to_upstream);
		SIDECAR_COUNTER(bytes_to_downstream);
		SIDECAR_COUNTER(upstream_connect_errors);
#undef SIDECAR_COUNTER
	}
}

static void sidecar_hops(struct topo *t)
{
	calico_hops(t, true);
}

const struct topo_cni_ops topo_sidecar_ops = {
	.name = "sidecar",
	.summary = "calico plus Istio's nat rules and a user-space proxy (uid 1337) in each pod",
	.has_pods = true,
	.veth_prefix = "cali",
	.calico_rules = true,
	.kube_proxy = true,
	.cni_rules = "Calico's felix chains, Istio's nat in the pods",
	.build = calico_build_pods,
	.node_rules = calico_node_rules,
	.start = sidecar_start_pods,
	.close = sidecar_close,
	.hops = sidecar_hops,
	.counters = sidecar_counters,
};
