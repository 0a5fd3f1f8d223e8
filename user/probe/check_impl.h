/* What the probe files of `netprof check` share: the fixture's helpers and
 * the probes that live outside check.c. */
#ifndef NETPROF_PROBE_CHECK_IMPL_H
#define NETPROF_PROBE_CHECK_IMPL_H

#include <stddef.h>

#include "probe/check.h"

#define TRACEFS "/sys/kernel/tracing"

/* Addresses of the fixture's veth pair, from the benchmarking range. */
#define CHECK_ADDR_A "198.19.255.1"
#define CHECK_ADDR_B "198.19.255.2"
#define CHECK_DEV_A "netprof-ca"
#define CHECK_DEV_B "netprof-cb"

void set_result(struct check_result *r, enum check_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A CHECK_NO verdict naming what failed and the errno (negative or not). */
void set_error(struct check_result *r, const char *what, int err);

/* Runs an ip command in a namespace; on failure err gets its first output line. */
int ip_in(const char *ns, const char *const argv[], char *err, size_t errlen);
#define IP_IN(ns, err, errlen, ...) ip_in(ns, (const char *const[]){ "ip", __VA_ARGS__, NULL }, err, errlen)

/* UDP datagrams from B to A: they cross the veth into A's ingress (tc, XDP)
 * and A's PREROUTING (netfilter). Returns how many were sent. */
int send_probe_packets(struct check_fixture *ctx, int count);
/* False, with a "not tested" verdict, when the fixture has no veth pair. */
bool need_veth(struct check_fixture *ctx, struct check_result *r);
/* Removes ctx->cgroup_path, or the tracefs mount a probe made, at exit. */
void fixture_adopt_cgroup(struct check_fixture *ctx);
void fixture_adopt_tracefs(struct check_fixture *ctx);

/* check_datapath.c: devices and rulesets the emulated datapaths need. */
void probe_veth_kind(struct check_fixture *ctx, struct check_result *r);
void probe_macvlan(struct check_fixture *ctx, struct check_result *r);
void probe_ipvlan(struct check_fixture *ctx, struct check_result *r);
void probe_vxlan(struct check_fixture *ctx, struct check_result *r);
void probe_bridge(struct check_fixture *ctx, struct check_result *r);
void probe_iptables_legacy(struct check_fixture *ctx, struct check_result *r);
void probe_iptables_nft(struct check_fixture *ctx, struct check_result *r);
void probe_nftables(struct check_fixture *ctx, struct check_result *r);
void probe_conntrack(struct check_fixture *ctx, struct check_result *r);
void probe_nat_redirect(struct check_fixture *ctx, struct check_result *r);
void probe_statistic(struct check_fixture *ctx, struct check_result *r);
void probe_owner(struct check_fixture *ctx, struct check_result *r);
void probe_tap(struct check_fixture *ctx, struct check_result *r);
void probe_mirred(struct check_fixture *ctx, struct check_result *r);
void probe_policy_routing(struct check_fixture *ctx, struct check_result *r);

#endif
