/*
 * The one rule for every cgroup program a datapath attaches (socket-LB,
 * the socket bypass): only below the cgroup2 mount, never its root, and
 * only in a netprof-* cgroup, so no process outside netprof's runs is
 * ever affected.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cgroup.h"
#include "lib/log.h"
#include "datapath/cgroup_check.h"

int datapath_cgroup_check(const char *who, const char *path)
{
	char mount[PATH_MAX], mount_real[PATH_MAX], real[PATH_MAX];
	const char *rest;
	size_t mlen;
	int err = cgroup2_mount(mount, sizeof(mount));

	if (err) {
		pr_warn("%s: no cgroup2 mount: %s", who, strerror(-err));
		return err;
	}
	if (!realpath(mount, mount_real) || !realpath(path, real)) {
		err = -errno;
		pr_warn("%s: cannot resolve cgroup %s: %s", who, path, strerror(errno));
		return err;
	}
	mlen = strlen(mount_real);
	if (!strcmp(real, mount_real)) {
		pr_warn("%s: %s is the cgroup root; give a netprof-* cgroup below it", who, path);
		return -EINVAL;
	}
	if (strncmp(real, mount_real, mlen) != 0 || real[mlen] != '/') {
		pr_warn("%s: %s is not a cgroup below the cgroup2 mount %s", who, path, mount_real);
		return -EINVAL;
	}
	for (rest = real + mlen; rest; rest = strchr(rest + 1, '/')) {
		if (!strncmp(rest, "/netprof-", strlen("/netprof-")))
			return 0;
	}
	pr_warn("%s: %s is not a netprof-* cgroup; netprof attaches only to its own", who, path);
	return -EINVAL;
}
