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
#include <sys/types.h>

#define SIDECAR_UID 1337
#define SIDECAR_OUTBOUND_PORT 15001
#define SIDECAR_INBOUND_PORT 15006
#define SIDECAR_INBOUND_SRC "127.0.0.6"

struct sidecar;

struct sidecar_stats {
	uint64_t outbound_conns, inbound_conns;		/* accepted on 15001 / 15006 */
	uint64_t bytes_to_upstream, bytes_to_downstream;
	uint64_t upstream_connect_errors;
	uint64_t active_conns;			/* open now */
	uint64_t resets;			/* ended by an error on either side */
	uint64_t no_original_dst;		/* reached a listener unredirected */
};

/*
 * Installs the rules in `pod_netns` (iptables binary: "legacy" or "nft")
 * and starts the proxy there (`netprof proxy`, uid/gid 1337, ports 15001
 * and 15006), in cgroup_path when not NULL (before it opens a socket, so
 * cgroup BPF programs see its sockets); returns once it listens. Brings the
 * pod's lo up (127.0.0.6 and REDIRECT to 127.0.0.1 need it). Registers a
 * teardown that stops the proxy and removes its stats directory; the proxy
 * also gets SIGTERM if the calling thread dies. 0, or -errno after one
 * pr_warn line.
 */
int sidecar_start(struct sidecar **out, const char *pod_netns, const char *cgroup_path,
		  const char *iptables_backend);
/* The proxy's counters, at most 500 ms old; its last ones once halted.
 * -ECHILD (after a pr_warn) if the proxy died on its own. */
int sidecar_read_stats(struct sidecar *s, struct sidecar_stats *st);
pid_t sidecar_pid(const struct sidecar *s);
/* Stops the proxy now (SIGTERM, then SIGKILL after 2 s) and keeps its final
 * counters for sidecar_read_stats. Idempotent; the teardown calls it. */
void sidecar_halt(struct sidecar *s);
/* Halts, cancels the teardown and frees; accepts NULL. Safe before or after
 * teardown_all() (the teardown halts, never frees: without a call the
 * struct is only freed by the process's exit). The rules go away with the
 * pod namespace. */
void sidecar_stop(struct sidecar *s);

#endif
