/*
 * The probes of `netprof check` for the kernel pieces the emulated datapaths
 * need: device kinds and rulesets, each created inside the test namespace.
 */
#include <stdio.h>

#include "lib/exec.h"
#include "probe/check_impl.h"

static void probe_link_kind(struct check_fixture *ctx, struct check_result *r, const char *kind,
			    const char *const argv[])
{
	char err[160] = "";

	if (!need_veth(ctx, r))
		return;
	if (ip_in(ctx->ns_a, argv, err, sizeof(err)) == 0) {
		set_result(r, CHECK_YES, "%s device created in a test namespace", kind);
		IP_IN(ctx->ns_a, NULL, 0, "link", "delete", argv[3]);
	} else {
		set_result(r, CHECK_NO, "%s device refused: %s", kind, err);
	}
}

#define LINK_PROBE(fn, kind, ...)						\
	void fn(struct check_fixture *ctx, struct check_result *r)		\
	{ probe_link_kind(ctx, r, kind, (const char *const[]){ "ip", "link", "add", __VA_ARGS__, NULL }); }

LINK_PROBE(probe_veth_kind, "veth", "netprof-cv0", "type", "veth", "peer", "name", "netprof-cv1")
LINK_PROBE(probe_macvlan, "macvlan", "netprof-cm0", "link", CHECK_DEV_A, "type", "macvlan",
	   "mode", "bridge")
LINK_PROBE(probe_ipvlan, "ipvlan", "netprof-ci0", "link", CHECK_DEV_A, "type", "ipvlan", "mode",
	   "l2")
LINK_PROBE(probe_vxlan, "vxlan", "netprof-cx0", "type", "vxlan", "id", "4096", "dstport", "4789",
	   "dev", CHECK_DEV_A)
LINK_PROBE(probe_bridge, "bridge", "netprof-cbr0", "type", "bridge")

/* Loads a ruleset with the given restore binary inside test namespace A. */
static void probe_rules(struct check_fixture *ctx, struct check_result *r, const char *binary,
			const char *rules, const char *what)
{
	char out[512], line[160];
	int rc;

	if (!need_veth(ctx, r))
		return;
	rc = run_cmd_full(ctx->ns_a, rules, out, sizeof(out), RUN_TIMEOUT_MS,
			  (const char *const[]){ binary, "-w", NULL });
	if (rc == 0)
		set_result(r, CHECK_YES, "%s loaded with %s in a test namespace", what, binary);
	else if (rc == 127)
		set_result(r, CHECK_NO, "%s not found (apt-get install iptables)", binary);
	else
		set_result(r, CHECK_NO, "%s refused by %s: %s", what, binary,
			   first_line(out, line, sizeof(line)));
}

void probe_iptables_legacy(struct check_fixture *ctx, struct check_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n",
		    "a filter table");
}

void probe_iptables_nft(struct check_fixture *ctx, struct check_result *r)
{
	probe_rules(ctx, r, "iptables-nft-restore",
		    "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n",
		    "a filter table");
}

void probe_conntrack(struct check_fixture *ctx, struct check_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*filter\n:FORWARD ACCEPT [0:0]\n"
		    "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n",
		    "a conntrack state match");
}

void probe_nat_redirect(struct check_fixture *ctx, struct check_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*nat\n:OUTPUT ACCEPT [0:0]\n"
		    "-A OUTPUT -p tcp --dport 15 -j REDIRECT --to-ports 15001\n"
		    "-A OUTPUT -p tcp --dport 16 -j DNAT --to-destination 198.19.255.2:80\nCOMMIT\n",
		    "nat REDIRECT and DNAT");
}

void probe_statistic(struct check_fixture *ctx, struct check_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*nat\n:PREROUTING ACCEPT [0:0]\n"
		    "-A PREROUTING -m statistic --mode random --probability 0.5 -j RETURN\nCOMMIT\n",
		    "a statistic random match");
}

void probe_owner(struct check_fixture *ctx, struct check_result *r)
{
	probe_rules(ctx, r, "iptables-legacy-restore",
		    "*nat\n:OUTPUT ACCEPT [0:0]\n"
		    "-A OUTPUT -m owner --uid-owner 1337 -j RETURN\nCOMMIT\n",
		    "an owner (uid 1337) match");
}

void probe_nftables(struct check_fixture *ctx, struct check_result *r)
{
	char out[512], line[160];
	int rc;

	if (!need_veth(ctx, r))
		return;
	rc = run_cmd_full(ctx->ns_a,
			  "table ip netprof_check {\n chain c {\n  type filter hook input priority 0;\n }\n}\n",
			  out, sizeof(out), RUN_TIMEOUT_MS,
			  (const char *const[]){ "nft", "-f", "-", NULL });
	if (rc == 0)
		set_result(r, CHECK_YES, "an nftables base chain loaded with nft");
	else
		set_result(r, CHECK_NO, "nft: %s",
			   rc == 127 ? "not found" : first_line(out, line, sizeof(line)));
}


/* Runs one command in ns; its first output line in err when it fails. */
static int cmd_in(const char *ns, const char *const argv[], char *err, size_t errlen)
{
	char out[512];
	int rc = run_cmd_full(ns, NULL, out, sizeof(out), RUN_TIMEOUT_MS, argv);

	if (rc)
		snprintf(err, errlen, "%s", rc < 0 ? "could not run" : first_line(out, err, errlen));
	return rc;
}

/* kata's tap0_kata and the guest's NIC. */
void probe_tap(struct check_fixture *ctx, struct check_result *r)
{
	char err[160] = "";

	if (!need_veth(ctx, r))
		return;
	if (IP_IN(ctx->ns_a, err, sizeof(err), "tuntap", "add", "dev", "netprof-ct0", "mode", "tap")) {
		set_result(r, CHECK_NO, "tap device refused: %s", err);
		return;
	}
	set_result(r, CHECK_YES, "tap device created in a test namespace");
	IP_IN(ctx->ns_a, NULL, 0, "link", "delete", "netprof-ct0");
}

/* kata's tcfilter: a u32 match with a mirred redirect, on a veth of its own. */
void probe_mirred(struct check_fixture *ctx, struct check_result *r)
{
	char err[160] = "";

	if (!need_veth(ctx, r))
		return;
	if (IP_IN(ctx->ns_a, err, sizeof(err), "link", "add", "netprof-cm1", "type", "veth", "peer",
		  "name", "netprof-cm2") ||
	    cmd_in(ctx->ns_a, (const char *const[]){ "tc", "qdisc", "add", "dev", "netprof-cm1",
						    "clsact", NULL }, err, sizeof(err)) ||
	    cmd_in(ctx->ns_a, (const char *const[]){ "tc", "filter", "add", "dev", "netprof-cm1",
						    "ingress", "protocol", "all", "u32", "match",
						    "u8", "0", "0", "action", "mirred", "egress",
						    "redirect", "dev", CHECK_DEV_A, NULL },
		   err, sizeof(err)))
		set_result(r, CHECK_NO, "u32 + mirred redirect refused: %s", err);
	else
		set_result(r, CHECK_YES, "u32 match with a mirred egress redirect loaded");
	IP_IN(ctx->ns_a, NULL, 0, "link", "delete", "netprof-cm1");
}

/* The shared-ENI CNIs' source rule and its table. */
void probe_policy_routing(struct check_fixture *ctx, struct check_result *r)
{
	char err[160] = "";

	if (!need_veth(ctx, r))
		return;
	if (IP_IN(ctx->ns_a, err, sizeof(err), "rule", "add", "pref", "2048", "from",
		  CHECK_ADDR_A "/32", "lookup", "1002") ||
	    IP_IN(ctx->ns_a, err, sizeof(err), "route", "add", "default", "via", CHECK_ADDR_B, "dev",
		  CHECK_DEV_A, "onlink", "table", "1002"))
		set_result(r, CHECK_NO, "ip rule / route table refused: %s", err);
	else
		set_result(r, CHECK_YES, "a source rule and its route table in a test namespace");
	IP_IN(ctx->ns_a, NULL, 0, "rule", "del", "pref", "2048");
	IP_IN(ctx->ns_a, NULL, 0, "route", "flush", "table", "1002");
}
