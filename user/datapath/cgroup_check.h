/* Where the datapaths' cgroup BPF programs may attach: netprof's own cgroups. */
#ifndef NETPROF_DATAPATH_CGROUP_CHECK_H
#define NETPROF_DATAPATH_CGROUP_CHECK_H

/*
 * 0 when path resolves below the cgroup2 mount (not to the mount itself)
 * and one of its components is a netprof-* one; else one pr_warn line
 * starting "<who>: " and -errno.
 */
int datapath_cgroup_check(const char *who, const char *path);

#endif
