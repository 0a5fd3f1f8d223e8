/* cgroup v2: where BPF cgroup programs of a run attach, never at the root. */
#ifndef NETPROF_CGROUP_H
#define NETPROF_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The cgroup2 mount point, read from /proc/mounts; -ENOENT if none. */
int cgroup2_mount(char *path, size_t len);
/* mkdir <mount>/<name>; the full path goes to `path`. */
int cgroup_create(const char *name, char *path, size_t len);
int cgroup_add_pid(const char *path, pid_t pid);
/* An existing netprof-* directory under the cgroup2 mount (what a user may
 * hand netprof with --cgroup). */
bool cgroup_is_netprofs(const char *path);
/* The cgroup v2 directory this process is in, from /proc/self/cgroup. */
int cgroup_of_self(char *path, size_t len);
/* Kills what is left in the cgroup (and its children) and removes it. */
int cgroup_remove_tree(const char *path);

#endif
