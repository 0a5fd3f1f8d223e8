/*
 * The probes of `netprof check`: each one finds out whether this kernel
 * offers a feature by using it (bpf/check.bpf.c holds their programs), and
 * says what netprof does instead when it does not. The tracers ask single
 * probes through feature_probe.h.
 */
#ifndef NETPROF_PROBE_CHECK_H
#define NETPROF_PROBE_CHECK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

enum check_verdict { CHECK_YES, CHECK_NO, CHECK_PARTIAL };

struct check_result {
	enum check_verdict verdict;
	char detail[200];
};

/*
 * Two throw-away namespaces joined by a veth pair, which the probes of hooks
 * and devices attach to. It must outlive the probes: what they leave behind
 * is removed at exit through the teardown registry, which keeps a pointer.
 */
struct check_fixture {
	char ns_a[64], ns_b[64];	/* A holds the veth probes attach to, B its peer */
	bool veth_ok;
	char veth_error[160];
	int ifindex_a;			/* A's veth end, inside ns_a */
	char cgroup_path[PATH_MAX];
	bool tracefs_mounted_by_us;
};

/* Creates the namespaces and the veth pair; on failure veth_error says why
 * and the probes that need them answer "not tested". */
void check_fixture_setup(struct check_fixture *ctx);

struct check_probe {
	const char *key;	/* JSON name, and the name --only and feature_probe() take */
	const char *group;	/* "bpf" or "datapath" */
	const char *label;	/* text table */
	void (*run)(struct check_fixture *ctx, struct check_result *r);
	const char *instead;	/* what netprof does when it is missing */
};

/* In the order `netprof check` prints them, grouped; at most CHECK_MAX_PROBES,
 * so a caller can keep their results in an array. */
#define CHECK_MAX_PROBES 64
extern const struct check_probe check_probes[];
extern const size_t check_nr_probes;

#endif
