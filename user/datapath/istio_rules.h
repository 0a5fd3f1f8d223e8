/*
 * Istio's sidecar capture rules (istio-iptables, the default injection:
 * every inbound port captured but 15008/15090/15021/15020, every outbound
 * destination captured), as iptables-restore input for the nat table of a
 * pod namespace. The text has the shape of istio's own golden files
 * (tools/istio-iptables/pkg/capture/testdata), written by netprof.
 */
#ifndef NETPROF_ISTIO_RULES_H
#define NETPROF_ISTIO_RULES_H

#include <stddef.h>

struct istio_rules_opts {
	unsigned proxy_uid, proxy_gid;	/* the proxy's own traffic is not captured */
	unsigned outbound_port;		/* ISTIO_REDIRECT target (15001) */
	unsigned inbound_port;		/* ISTIO_IN_REDIRECT target (15006) */
	const char *inbound_src;	/* inbound upstream source (127.0.0.6) */
};

/* The values Istio's injector uses. */
void istio_rules_defaults(struct istio_rules_opts *o);

/*
 * Writes the `*nat ... COMMIT` block for `iptables-restore --noflush` into
 * buf. Returns its length, or -ENOSPC when buf is too small, -EINVAL for an
 * out-of-range port or a missing address.
 */
int istio_rules_generate(const struct istio_rules_opts *o, char *buf, size_t len);

/* "legacy" -> iptables-legacy-restore, "nft" -> iptables-nft-restore, else NULL. */
const char *istio_rules_restore_binary(const char *backend);

/*
 * Generates the rules and loads them (all or nothing; a namespace that has
 * Istio's chains already is refused) with the backend's iptables-restore
 * inside the named network namespace. 0, or -errno after one pr_warn line
 * naming the failure (iptables-restore's first line of output included).
 */
int istio_rules_load(const char *netns, const char *backend, const struct istio_rules_opts *o);

#endif
