#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/exec.h"
#include "datapath/istio_rules.h"
#include "lib/log.h"

/* Ports Istio never captures inbound: 15008 (HBONE tunnel), 15090
 * (Prometheus), 15021 (health), 15020 (merged metrics). */
static const unsigned inbound_excluded_ports[] = { 15090, 15021, 15020 };
#define ISTIO_HBONE_PORT 15008

void istio_rules_defaults(struct istio_rules_opts *o)
{
	*o = (struct istio_rules_opts){
		.proxy_uid = 1337,
		.proxy_gid = 1337,
		.outbound_port = 15001,
		.inbound_port = 15006,
		.inbound_src = "127.0.0.6",
	};
}

struct text {
	char *buf;
	size_t len, used;
	bool overflow;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->len - t->used) {
		t->overflow = true;
		return;
	}
	t->used += n;
}

static bool valid_port(unsigned p)
{
	return p >= 1 && p <= 65535;
}

int istio_rules_generate(const struct istio_rules_opts *o, char *buf, size_t len)
{
	struct text t = { .buf = buf, .len = len };
	const char *owner[2] = { "uid", "gid" };
	unsigned id[2] = { o->proxy_uid, o->proxy_gid };

	if (!valid_port(o->outbound_port) || !valid_port(o->inbound_port) || !o->inbound_src ||
	    !*o->inbound_src)
		return -EINVAL;
	if (!len)
		return -ENOSPC;
	buf[0] = '\0';

	/* Rule order follows istio-iptables: chains, then the redirect
	 * targets, then the inbound and outbound dispatch. */
	/* -N, not ":CHAIN": with --noflush a ":" line would flush an
	 * existing chain and the jumps below would be added a second time;
	 * -N makes a second load fail as a whole instead. */
	add(&t, "*nat\n");
	add(&t, "-N ISTIO_INBOUND\n");
	add(&t, "-N ISTIO_REDIRECT\n");
	add(&t, "-N ISTIO_IN_REDIRECT\n");
	add(&t, "-N ISTIO_OUTPUT\n");
	add(&t, "-A ISTIO_INBOUND -p tcp --dport %u -j RETURN\n", ISTIO_HBONE_PORT);
	add(&t, "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports %u\n", o->outbound_port);
	add(&t, "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports %u\n", o->inbound_port);

	/* Inbound: every TCP connection to the pod goes to the proxy's
	 * inbound listener, but for the proxy's own service ports. */
	add(&t, "-A PREROUTING -p tcp -j ISTIO_INBOUND\n");
	for (size_t i = 0; i < sizeof(inbound_excluded_ports) / sizeof(inbound_excluded_ports[0]); i++)
		add(&t, "-A ISTIO_INBOUND -p tcp --dport %u -j RETURN\n", inbound_excluded_ports[i]);
	add(&t, "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT\n");

	/* Outbound: the proxy's inbound upstreams (source 127.0.0.6) pass;
	 * the proxy talking to its own pod's IP over lo is inbound traffic;
	 * the app's loopback traffic passes; the proxy's own (uid or gid
	 * 1337) traffic passes, which is what keeps it from looping; the
	 * rest goes to the outbound listener. */
	add(&t, "-A OUTPUT -j ISTIO_OUTPUT\n");
	add(&t, "-A ISTIO_OUTPUT -o lo -s %s/32 -j RETURN\n", o->inbound_src);
	for (int k = 0; k < 2; k++) {
		add(&t, "-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --%s-owner %u -j ISTIO_IN_REDIRECT\n",
		    owner[k], id[k]);
		add(&t, "-A ISTIO_OUTPUT -o lo -m owner ! --%s-owner %u -j RETURN\n", owner[k], id[k]);
		add(&t, "-A ISTIO_OUTPUT -m owner --%s-owner %u -j RETURN\n", owner[k], id[k]);
	}
	add(&t, "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN\n");
	add(&t, "-A ISTIO_OUTPUT -j ISTIO_REDIRECT\n");
	add(&t, "COMMIT\n");
	return t.overflow ? -ENOSPC : (int)t.used;
}

static const struct {
	const char *backend, *restore, *save;
} backends[] = {
	{ "legacy", "iptables-legacy-restore", "iptables-legacy-save" },
	{ "nft", "iptables-nft-restore", "iptables-nft-save" },
};

static int backend_index(const char *backend)
{
	for (int i = 0; backend && i < (int)(sizeof(backends) / sizeof(backends[0])); i++)
		if (!strcmp(backend, backends[i].backend))
			return i;
	return -1;
}

const char *istio_rules_restore_binary(const char *backend)
{
	int i = backend_index(backend);

	return i < 0 ? NULL : backends[i].restore;
}

int istio_rules_load(const char *netns, const char *backend, const struct istio_rules_opts *o)
{
	int b = backend_index(backend), rc;
	char rules[4096], out[16384], line[256];

	if (b < 0) {
		pr_warn("sidecar: unknown iptables backend '%s' (use legacy or nft)",
			backend ? backend : "(none)");
		return -EINVAL;
	}
	rc = istio_rules_generate(o, rules, sizeof(rules));
	if (rc < 0) {
		pr_warn("sidecar: cannot generate Istio's rules: %s", strerror(-rc));
		return rc;
	}
	/* One sidecar per pod: say so plainly rather than let the restore
	 * fail on its first -N line. */
	rc = RUN(netns, out, sizeof(out), backends[b].save, "-t", "nat");
	if (rc == 0 && strstr(out, "\n:ISTIO_OUTPUT ")) {
		pr_warn("sidecar: %s already has Istio's chains (one sidecar per pod)", netns);
		return -EEXIST;
	}
	/* --noflush: add Istio's chains next to whatever the pod's nat table
	 * already has, as istio-iptables does; -w: the legacy backend shares
	 * one xtables lock between all namespaces. */
	rc = RUN_INPUT(netns, rules, out, sizeof(out), backends[b].restore, "--noflush", "-w", "10");
	if (rc != 0) {
		pr_warn("sidecar: %s in %s failed: %s", backends[b].restore, netns,
			rc < 0 ? strerror(-rc) : first_line(out, line, sizeof(line)));
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}
