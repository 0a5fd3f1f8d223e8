/*
 * netprof's envoy-like TCP proxy: the user-space half of an Istio sidecar
 * (datapaths.md §5). Two listeners take the connections Istio's nat rules
 * REDIRECT to them (outbound 15001, inbound 15006); each connection's real
 * destination comes back from conntrack with getsockopt(SO_ORIGINAL_DST),
 * and bytes are copied through user space, one bounded buffer per direction,
 * as Envoy's TCP proxy does: that read()/write() pair per hop is the cost a
 * sidecar adds, so no splice() shortcut.
 */
#ifndef NETPROF_PROXY_H
#define NETPROF_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proxy_config {
	uint16_t outbound_port;		/* app -> world, via ISTIO_REDIRECT */
	uint16_t inbound_port;		/* world -> app, via ISTIO_IN_REDIRECT */
	const char *inbound_src;	/* inbound upstreams bind here: 127.0.0.6 */
	bool drop_privileges;		/* switch to uid/gid after binding */
	uid_t uid;
	gid_t gid;
	const char *stats_path;		/* JSON counters; NULL: none */
	size_t buffer_size;		/* per direction, per connection */
	unsigned max_conns;		/* accepted beyond it are reset */
	uint64_t connect_timeout_ns;	/* upstream connect bound */
};

/* The counters, as written to the stats file under these names. */
struct proxy_counters {
	uint64_t outbound_conns, inbound_conns;	/* accepted and proxied */
	uint64_t active_conns;
	uint64_t bytes_to_upstream, bytes_to_downstream;
	uint64_t upstream_connect_errors;	/* refused, unreachable or timed out */
	uint64_t upstream_connect_timeouts;	/* the timed-out part of the above */
	uint64_t no_original_dst;	/* not redirected: no destination to go to */
	uint64_t rejected_conns;	/* over max_conns */
	uint64_t resets;		/* connections ended by an error on either side */
};

/*
 * Binds both listeners, drops privileges, writes the stats file once (its
 * appearance means "listening") and proxies until SIGINT/SIGTERM/SIGHUP
 * (teardown.h's stop flag); then closes everything and writes the stats a
 * last time. 0 on a clean stop; -errno after one pr_warn line when it could
 * not start.
 */
int proxy_run(const struct proxy_config *cfg);

#endif
