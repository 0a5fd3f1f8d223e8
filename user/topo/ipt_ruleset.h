/*
 * iptables-restore input, built table by table: the Calico, Cilium and
 * kube-proxy generators add chains and rules in any order, and rs_load()
 * hands every table to one iptables-restore, as felix and kube-proxy do.
 */
#ifndef NETPROF_IPT_RULESET_H
#define NETPROF_IPT_RULESET_H

#include "lib/strbuf.h"

enum ipt_table { IPT_RAW, IPT_MANGLE, IPT_FILTER, IPT_NAT, IPT_NR_TABLES };

struct ipt_ruleset {
	struct strbuf chains[IPT_NR_TABLES];
	struct strbuf rules[IPT_NR_TABLES];
	unsigned nr_rules[IPT_NR_TABLES];
};

void rs_init(struct ipt_ruleset *rs);
void rs_chain(struct ipt_ruleset *rs, enum ipt_table table, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* One rule, "-A CHAIN ..." */
void rs_rule(struct ipt_ruleset *rs, enum ipt_table table, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
unsigned rs_count(const struct ipt_ruleset *rs);
/* iptables-restore --noflush of every table with rules, inside ns. */
int rs_load(const struct ipt_ruleset *rs, const char *ns, const char *backend);
void rs_free(struct ipt_ruleset *rs);
/* ("legacy", "restore") -> "iptables-legacy-restore"; any other backend is nft. */
const char *topo_ipt_binary(const char *backend, const char *what);

#endif
