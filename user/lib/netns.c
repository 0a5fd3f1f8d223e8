#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/netns.h"

static int netns_path(const char *name, char *path, size_t len)
{
	if (snprintf(path, len, "%s/%s", NETNS_RUN_DIR, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
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

int64_t netns_ip_out_packets(const char *netns)
{
	char line[1024], names[1024] = "";
	int64_t value = -1;
	int saved = netns_enter(netns);
	FILE *f;

	if (saved < 0)
		return -1;
	/* thread-self: this thread's namespace, the one just entered. */
	f = fopen("/proc/thread-self/net/snmp", "r");
	netns_leave(saved);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL, *nsave = NULL, *name;

		if (strncmp(line, "Ip:", 3))
			continue;
		if (!names[0]) {
			snprintf(names, sizeof(names), "%s", line);
			continue;
		}
		/* The second "Ip:" line holds the values, in the first one's order. */
		name = strtok_r(names, " \n", &nsave);
		for (tok = strtok_r(line, " \n", &save); tok && name;
		     tok = strtok_r(NULL, " \n", &save), name = strtok_r(NULL, " \n", &nsave))
			if (!strcmp(name, "OutRequests"))
				value = strtoll(tok, NULL, 10);
		break;
	}
	fclose(f);
	return value;
}
