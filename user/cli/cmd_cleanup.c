/* netprof cleanup: removes what a SIGKILLed run could not (namespaces, stray
 * links, cgroups, files), all found by the netprof- prefix. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <mntent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/exec.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/netns_admin.h"
#include "lib/output.h"

static void help(void)
{
	printf("Usage: netprof cleanup [-n] [--json] [-v]\n"
	       "\n"
	       "Removes every object a netprof run creates, in case a run was killed with\n"
	       "SIGKILL and could not remove its own: network namespaces named netprof-*\n"
	       "(and so every device, route, iptables rule and tc/XDP program inside them),\n"
	       "links named netprof-* in the current namespace, cgroups named netprof-*\n"
	       "(their processes are killed first), sidecar stats directories\n"
	       "/tmp/netprof-sidecar-* and 'topo up' state files in /run/netprof.\n"
	       "\n"
	       "netprof pins no BPF object: its programs and maps live as long as its\n"
	       "process, devices or namespaces, so none outlives a cleanup. Pins named\n"
	       "netprof or netprof-* on any mounted BPF filesystem (left by a tool that\n"
	       "pinned under netprof's name) are removed too. Nothing else is touched.\n"
	       "\n"
	       "  -n, --dry-run   list what would be removed, remove nothing\n"
	       "\n"
	       "Examples:\n"
	       "  sudo netprof cleanup\n"
	       "  sudo netprof cleanup --dry-run --json\n");
}

static bool has_prefix(const char *s)
{
	return !strncmp(s, "netprof-", 8);
}

struct cleanup_tally {
	unsigned removed, failed;
	bool dry_run;
};

static void report(struct cleanup_tally *t, const char *kind, const char *name, int err)
{
	out_object_begin(NULL);
	out_string("kind", "%-9s ", kind);
	out_string("name", "%-40s ", name);
	if (t->dry_run) {
		out_string("action", "%s\n", "would remove");
	} else if (err) {
		out_string("action", "%s", "failed");
		out_string("error", ": %s\n", strerror(-err));
		t->failed++;
	} else {
		out_string("action", "%s\n", "removed");
		t->removed++;
	}
	out_object_end();
}

static void clean_netns(struct cleanup_tally *t)
{
	DIR *d = opendir(NETNS_RUN_DIR);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!has_prefix(e->d_name))
			continue;
		report(t, "netns", e->d_name, t->dry_run ? 0 : netns_delete(e->d_name));
	}
	closedir(d);
}

static void clean_links(struct cleanup_tally *t)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int rc = 0;

		if (!has_prefix(e->d_name))
			continue;
		if (!t->dry_run)
			rc = RUN(NULL, NULL, 0, "ip", "link", "delete", e->d_name) ? -EIO : 0;
		report(t, "link", e->d_name, rc);
	}
	closedir(d);
}

static void clean_cgroups(struct cleanup_tally *t)
{
	char root[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *e;
	DIR *d;

	if (cgroup2_mount(root, sizeof(root)) < 0)
		return;
	d = opendir(root);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!has_prefix(e->d_name) || e->d_type != DT_DIR)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
		report(t, "cgroup", path, t->dry_run ? 0 : cgroup_remove_tree(path));
	}
	closedir(d);
}

static int remove_pins(const char *dir)
{
	char path[PATH_MAX * 2];
	struct dirent *e;
	int err = 0;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			err = remove_pins(path) ?: err;
		else if (unlink(path) < 0)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		err = -errno;
	return err;
}

/* Files and directories netprof keeps outside the kernel: sidecar stats
 * directories in /tmp and `topo up` state files in /run/netprof. */
static void clean_files(struct cleanup_tally *t, const char *dir, const char *prefix,
			const char *kind)
{
	char path[PATH_MAX * 2];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		int err = 0;

		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!t->dry_run)
			err = e->d_type == DT_DIR ? remove_pins(path) : (unlink(path) ? -errno : 0);
		report(t, kind, path, err);
	}
	closedir(d);
}

static bool is_netprof_pin(const char *name)
{
	return !strcmp(name, "netprof") || has_prefix(name);
}

/* Every bpffs mount, not just /sys/fs/bpf: a machine may have none there and
 * one elsewhere, or the same one mounted twice (seen once, by inode). */
static void clean_pins(struct cleanup_tally *t)
{
	struct { dev_t dev; ino_t ino; } seen[64];
	unsigned nr_seen = 0;
	char path[PATH_MAX * 2];
	struct mntent *m;
	FILE *mounts = setmntent("/proc/mounts", "r");

	if (!mounts)
		return;
	while ((m = getmntent(mounts))) {
		struct dirent *e;
		DIR *d;

		if (strcmp(m->mnt_type, "bpf"))
			continue;
		d = opendir(m->mnt_dir);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			struct stat st;
			bool dup = false;
			int err = 0;

			if (!is_netprof_pin(e->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", m->mnt_dir, e->d_name);
			if (lstat(path, &st) < 0)
				continue;
			for (unsigned i = 0; i < nr_seen && !dup; i++)
				dup = seen[i].dev == st.st_dev && seen[i].ino == st.st_ino;
			if (dup)
				continue;
			if (nr_seen < sizeof(seen) / sizeof(seen[0]))
				seen[nr_seen++] = (typeof(seen[0])){ st.st_dev, st.st_ino };
			if (!t->dry_run)
				err = S_ISDIR(st.st_mode) ? remove_pins(path)
							  : (unlink(path) ? -errno : 0);
			report(t, "bpf-pin", path, err);
		}
		closedir(d);
	}
	endmntent(mounts);
}

static const struct cli_option cleanup_options[] = {
	{ "dry-run", 'n', CLI_FLAG, CLI_FIELD(struct cleanup_tally, dry_run) },
	{}
};

int cmd_cleanup(int argc, char **argv)
{
	struct cleanup_tally t = {};
	const struct cli_group groups[] = { CLI_GROUP(cleanup_options, &t), {} };
	const struct cli_spec spec = { "cleanup", help, groups, .no_operands = true };
	enum cli_result rc = cli_parse(&spec, argc, argv);

	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	if (!cli_require_caps())
		return 1;

	out_init(opt_json);
	out_object_begin(NULL);
	out_array_begin("objects");
	/* Cgroups first: killing a run's processes releases its BPF links. */
	clean_cgroups(&t);
	clean_netns(&t);
	clean_links(&t);
	clean_pins(&t);
	clean_files(&t, "/tmp", "netprof-sidecar-", "directory");
	clean_files(&t, "/run/netprof", "", "state");
	out_array_end();
	out_uint("removed", NULL, t.removed);
	out_uint("failed", NULL, t.failed);
	out_bool("dry_run", NULL, t.dry_run);
	out_object_end();
	if (!opt_json && !t.removed && !t.failed && !t.dry_run)
		out_text("nothing to clean up\n");
	else if (!opt_json && !t.dry_run)
		out_text("%u removed, %u failed\n", t.removed, t.failed);
	out_finish();
	return t.failed ? 1 : 0;
}
