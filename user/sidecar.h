/*
 * An Istio-style sidecar in one pod (datapaths.md §5): Istio's nat rules
 * (ISTIO_INBOUND / ISTIO_OUTPUT, REDIRECT to 15006 and 15001, the uid/gid
 * 1337 exclusions) loaded into the pod namespace with iptables-restore, and
 * netprof's own envoy-like TCP proxy (`netprof proxy`, epoll, user-space
 * copies, SO_ORIGINAL_DST, inbound upstreams bound to 127.0.0.6) running as
 * uid 1337 inside the pod, in the run's cgroup.
 */
#ifndef NETPROF_SIDECAR_H
#define NETPROF_SIDECAR_H

#include <stdint.h>

#define SIDECAR_UID 1337
#define SIDECAR_OUTBOUND_PORT 15001
#define SIDECAR_INBOUND_PORT 15006
#define SIDECAR_INBOUND_SRC "127.0.0.6"

struct sidecar;

struct sidecar_stats {
	uint64_t outbound_conns, inbound_conns;		/* accepted on 15001 / 15006 */
	uint64_t bytes_to_upstream, bytes_to_downstream;
	uint64_t upstream_connect_errors;
};

/*
 * Installs the rules in `pod_netns` (iptables binary: "legacy" or "nft")
 * and starts the proxy there; cgroup_path may be NULL.
 */
int sidecar_start(struct sidecar **out, const char *pod_netns, const char *cgroup_path,
		  const char *iptables_backend);
int sidecar_read_stats(struct sidecar *s, struct sidecar_stats *st);
/* Stops the proxy (SIGTERM, then SIGKILL) and frees; accepts NULL. The rules
 * go away with the pod namespace. */
void sidecar_stop(struct sidecar *s);

#endif
