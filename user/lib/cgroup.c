#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cgroup.h"

int cgroup2_mount(char *path, size_t len)
{
	FILE *f = setmntent("/proc/mounts", "r");
	struct mntent *m;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(path, len, "%s", m->mnt_dir);
			err = 0;
			break;
		}
	}
	endmntent(f);
	return err;
}

int cgroup_create(const char *name, char *path, size_t len)
{
	char root[PATH_MAX];
	int err = cgroup2_mount(root, sizeof(root));

	if (err)
		return err;
	if (snprintf(path, len, "%s/%s", root, name) >= (int)len)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : 0;
}

int cgroup_add_pid(const char *path, pid_t pid)
{
	char file[PATH_MAX + 32], text[32];

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	snprintf(text, sizeof(text), "%d", (int)pid);
	return write_file(file, text);
}

bool cgroup_is_netprofs(const char *path)
{
	char root[PATH_MAX];
	const char *base = strrchr(path, '/');

	return cgroup2_mount(root, sizeof(root)) == 0 && !strncmp(path, root, strlen(root)) &&
	       base && !strncmp(base + 1, "netprof-", 8) && access(path, F_OK) == 0;
}

int cgroup_of_self(char *path, size_t len)
{
	char root[PATH_MAX], line[PATH_MAX];
	FILE *f;
	int err = cgroup2_mount(root, sizeof(root));

	if (err)
		return err;
	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return -errno;
	err = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		/* The v2 hierarchy is the "0::/path" line. */
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (snprintf(path, len, "%s%s", root, strcmp(line + 3, "/") ? line + 3 : "") < (int)len)
			err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* cgroup.kill (5.14+) when present; else SIGKILL every listed process. */
static void kill_members(const char *path)
{
	char file[PATH_MAX + 32];
	FILE *f;
	int pid;

	snprintf(file, sizeof(file), "%s/cgroup.kill", path);
	if (write_file(file, "1") == 0)
		return;
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "r");
	if (!f)
		return;
	while (fscanf(f, "%d", &pid) == 1)
		kill(pid, SIGKILL);
	fclose(f);
}

int cgroup_remove_tree(const char *path)
{
	char child[PATH_MAX * 2];
	struct dirent *e;
	DIR *d = opendir(path);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		cgroup_remove_tree(child);
	}
	closedir(d);
	kill_members(path);
	/* Killed tasks leave the cgroup asynchronously; wait up to a second. */
	for (int i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	return -EBUSY;
}
