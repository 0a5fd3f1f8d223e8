#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/exec.h"
#include "lib/log.h"
#include "topo/ipt_ruleset.h"

static const char *const table_names[IPT_NR_TABLES] = { "raw", "mangle", "filter", "nat" };
static const char *const builtin_chains[IPT_NR_TABLES][6] = {
	[IPT_RAW] = { "PREROUTING", "OUTPUT" },
	[IPT_MANGLE] = { "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING" },
	[IPT_FILTER] = { "INPUT", "FORWARD", "OUTPUT" },
	[IPT_NAT] = { "PREROUTING", "INPUT", "OUTPUT", "POSTROUTING" },
};

void rs_init(struct ipt_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	for (int tb = 0; tb < IPT_NR_TABLES; tb++)
		for (int c = 0; builtin_chains[tb][c]; c++)
			sb_printf(&rs->chains[tb], ":%s ACCEPT [0:0]\n", builtin_chains[tb][c]);
}

void rs_chain(struct ipt_ruleset *rs, enum ipt_table table, const char *fmt, ...)
{
	char name[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	sb_printf(&rs->chains[table], ":%s - [0:0]\n", name);
}

void rs_rule(struct ipt_ruleset *rs, enum ipt_table table, const char *fmt, ...)
{
	char rule[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	sb_printf(&rs->rules[table], "%s\n", rule);
	rs->nr_rules[table]++;
}

unsigned rs_count(const struct ipt_ruleset *rs)
{
	unsigned n = 0;

	for (int tb = 0; tb < IPT_NR_TABLES; tb++)
		n += rs->nr_rules[tb];
	return n;
}

const char *topo_ipt_binary(const char *backend, const char *what)
{
	static char name[48];

	snprintf(name, sizeof(name), "iptables-%s-%s", !strcmp(backend, "nft") ? "nft" : "legacy",
		 what);
	return name;
}

int rs_load(const struct ipt_ruleset *rs, const char *ns, const char *backend)
{
	struct strbuf all = {};
	char out[1024], line[256], bin[48];
	int rc;

	for (int tb = 0; tb < IPT_NR_TABLES; tb++) {
		if (!rs->nr_rules[tb])
			continue;
		sb_printf(&all, "*%s\n%s%sCOMMIT\n", table_names[tb],
			  rs->chains[tb].buf ? rs->chains[tb].buf : "",
			  rs->rules[tb].buf ? rs->rules[tb].buf : "");
	}
	if (!all.len)
		return 0;
	if (all.failed) {
		sb_free(&all);
		return -ENOMEM;
	}
	snprintf(bin, sizeof(bin), "%s", topo_ipt_binary(backend, "restore"));
	rc = RUN_INPUT(ns, all.buf, out, sizeof(out), bin, "--noflush");
	if (rc != 0) {
		pr_warn("%s in %s failed: %s", bin, ns,
			rc < 0 ? strerror(-rc) : first_line(out, line, sizeof(line)));
		pr_debug("its input was:\n%s", all.buf);
	}
	sb_free(&all);
	return rc == 0 ? 0 : -EIO;
}

void rs_free(struct ipt_ruleset *rs)
{
	for (int tb = 0; tb < IPT_NR_TABLES; tb++) {
		sb_free(&rs->chains[tb]);
		sb_free(&rs->rules[tb]);
	}
}
