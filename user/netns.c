#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "log.h"
#include "netns.h"

static int netns_path(const char *name, char *path, size_t len)
{
	if (snprintf(path, len, "%s/%s", NETNS_RUN_DIR, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* iproute2 owns the bind-mount dance (shared /run/netns propagation); using
 * it keeps our namespaces visible and removable with `ip netns` as well. */
int netns_create(const char *name)
{
	char out[512], line[256];
	int rc = RUN(NULL, out, sizeof(out), "ip", "netns", "add", name);

	if (rc != 0) {
		pr_warn("cannot create network namespace %s: %s", name,
			rc < 0 ? "ip not found" : first_line(out, line, sizeof(line)));
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

int netns_delete(const char *name)
{
	if (!netns_exists(name))
		return 0;
	return RUN(NULL, NULL, 0, "ip", "netns", "delete", name) == 0 ? 0 : -EIO;
}

bool netns_exists(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return netns_path(name, path, sizeof(path)) == 0 && stat(path, &st) == 0;
}

int netns_switch(const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	if ((err = netns_path(name, path, sizeof(path))) < 0)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return err;
}

int netns_enter(const char *name)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int err;

	if (saved < 0)
		return -errno;
	err = netns_switch(name);
	if (err < 0) {
		close(saved);
		return err;
	}
	return saved;
}

int netns_leave(int saved_fd)
{
	int err = setns(saved_fd, CLONE_NEWNET) < 0 ? -errno : 0;

	close(saved_fd);
	return err;
}
