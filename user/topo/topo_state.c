/*
 * The state files of `topo up` topologies under TOPO_STATE_DIR (a flat JSON
 * object, one key per line), and topo_load(), which rebuilds a topology from
 * its state file or, without one, from the namespaces a run left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/netns.h"
#include "lib/output.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

int topo_state_write(const char *path, const struct topo *t)
{
	char tmp[PATH_MAX + 8];
	struct json_writer w;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	jw_init(&w, f, true);
	jw_object_begin(&w, NULL);
	jw_string(&w, "run", t->opts.run);
	jw_string(&w, "cni", topo_cni_name(t->opts.cni));
	jw_string(&w, "placement", t->opts.same_node ? "same-node" : "cross-node");
	jw_string(&w, "target", t->opts.target_service ? "service" : "pod");
	jw_uint(&w, "mtu", t->opts.mtu);
	jw_uint(&w, "pods", t->opts.pods);
	jw_uint(&w, "policies", t->opts.policies);
	jw_uint(&w, "services", t->opts.services);
	jw_uint(&w, "subnets", t->opts.subnets);
	jw_bool(&w, "socket_lb", t->opts.socket_lb);
	jw_bool(&w, "socket_bypass", t->opts.socket_bypass);
	jw_string(&w, "iptables", t->opts.iptables);
	/* The CPUs as resolved, so that show says where the nodes ran even
	 * if this machine's CPUs change meanwhile; whether --node-cpus chose
	 * them, so that the options read back are the ones given. */
	jw_bool(&w, "node_cpus_given", t->opts.node_cpus[0][0] != '\0');
	jw_string(&w, "node1_cpus", t->node_cpus[0]);
	jw_string(&w, "node2_cpus", t->node_cpus[1]);
	jw_string(&w, "wire", topo_wire_name(t->opts.wire));
	jw_uint(&w, "link_rate", t->opts.link_rate);
	for (unsigned i = 0; i < t->nr_napi; i++) {
		char key[16], val[TOPO_NS_MAX + 64];

		snprintf(key, sizeof(key), "napi%u", i);
		snprintf(val, sizeof(val), "%d %s %s %s %s", (int)t->napi[i].pid, t->napi[i].comm,
			 t->napi[i].netns, t->napi[i].dev, t->napi[i].cpus);
		jw_string(&w, key, val);
	}
	jw_uint(&w, "keeper", (uint64_t)(t->keeper > 0 ? t->keeper : 0));
	jw_object_end(&w);
	jw_finish(&w);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -errno;
	}
	return 0;
}

int topo_save_state(const struct topo *t)
{
	char path[PATH_MAX];

	if (mkdir(TOPO_STATE_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	topo_state_path(t->opts.run, path, sizeof(path));
	return topo_state_write(path, t);
}

/* The value of "key" in a flat, one-key-per-line JSON file. */
static bool state_value(const char *text, const char *key, char *val, size_t len)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(text, pat);
	if (!p)
		return false;
	p += strlen(pat);
	/* A string ends at its quote only: CPU lists hold commas. */
	if (*p == '"') {
		for (p++; p[n] && p[n] != '"' && n + 1 < len; n++)
			val[n] = p[n];
		val[n] = '\0';
		return true;
	}
	while (p[n] && p[n] != ',' && p[n] != '\n' && n + 1 < len) {
		val[n] = p[n];
		n++;
	}
	val[n] = '\0';
	return true;
}

int topo_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

static int find_only_run(char *run, size_t len)
{
	DIR *d = opendir(NETNS_RUN_DIR);
	struct dirent *e;
	int found = 0;

	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, "netprof-", 8) || n < 15 ||
		    strcmp(e->d_name + n - 6, "-node1"))
			continue;
		if (found++ == 0)
			snprintf(run, len, "%.*s", (int)(n - 14), e->d_name + 8);
	}
	closedir(d);
	if (!found)
		return -ENOENT;
	return found > 1 ? -EEXIST : 0;
}

/* Every key the state file holds over *o; the run stays the caller's. */
static void state_parse(const char *text, struct topo_opts *o, pid_t *keeper)
{
	char val[64];
	uint64_t rate;
	int cni;

	if (state_value(text, "cni", val, sizeof(val)) && (cni = topo_cni_from_name(val)) >= 0)
		o->cni = cni;
	if (state_value(text, "placement", val, sizeof(val)))
		o->same_node = !strcmp(val, "same-node");
	if (state_value(text, "target", val, sizeof(val)))
		o->target_service = !strcmp(val, "service");
	if (state_value(text, "mtu", val, sizeof(val)))
		o->mtu = atoi(val);
	if (state_value(text, "pods", val, sizeof(val)))
		o->pods = atoi(val);
	if (state_value(text, "policies", val, sizeof(val)))
		o->policies = atoi(val);
	if (state_value(text, "services", val, sizeof(val)))
		o->services = atoi(val);
	if (state_value(text, "subnets", val, sizeof(val)))
		o->subnets = atoi(val);
	if (state_value(text, "socket_lb", val, sizeof(val)))
		o->socket_lb = !strcmp(val, "true");
	if (state_value(text, "socket_bypass", val, sizeof(val)))
		o->socket_bypass = !strcmp(val, "true");
	if (state_value(text, "iptables", val, sizeof(val)))
		snprintf(o->iptables, sizeof(o->iptables), "%.7s", val);
	if (state_value(text, "node_cpus_given", val, sizeof(val)) && !strcmp(val, "true")) {
		if (state_value(text, "node1_cpus", val, sizeof(val)))
			snprintf(o->node_cpus[0], sizeof(o->node_cpus[0]), "%.63s", val);
		if (state_value(text, "node2_cpus", val, sizeof(val)))
			snprintf(o->node_cpus[1], sizeof(o->node_cpus[1]), "%.63s", val);
	}
	if (state_value(text, "wire", val, sizeof(val)))
		o->wire = strcmp(val, "backlog") ? TOPO_WIRE_NAPI : TOPO_WIRE_BACKLOG;
	if (state_value(text, "link_rate", val, sizeof(val)) && topo_parse_rate(val, &rate) == 0)
		o->link_rate = rate;
	if (state_value(text, "keeper", val, sizeof(val)))
		*keeper = atoi(val);
}

/* What topo_up found and set: each node's CPUs as they were resolved then,
 * and the NAPI threads ("pid comm netns dev cpus" each). */
static void state_runtime(const char *text, struct topo *t)
{
	char key[16], val[TOPO_NS_MAX + 64];

	for (int node = 0; node < 2; node++) {
		snprintf(key, sizeof(key), "node%d_cpus", node + 1);
		if (state_value(text, key, val, sizeof(val)) && val[0])
			snprintf(t->node_cpus[node], TOPO_CPUS_MAX, "%.63s", val);
	}
	snprintf(t->client.cpus, TOPO_CPUS_MAX, "%s",
		 t->node_cpus[topo_node_index(t, t->client.node_netns)]);
	snprintf(t->server.cpus, TOPO_CPUS_MAX, "%s",
		 t->node_cpus[topo_node_index(t, t->server.node_netns)]);

	t->nr_napi = 0;
	for (unsigned i = 0; i < TOPO_MAX_NAPI; i++) {
		struct topo_napi *z = &t->napi[t->nr_napi];
		int pid;

		snprintf(key, sizeof(key), "napi%u", i);
		if (!state_value(text, key, val, sizeof(val)))
			break;
		if (sscanf(val, "%d %15s %63s %15s %63s", &pid, z->comm, z->netns, z->dev,
			   z->cpus) != 5)
			continue;
		z->pid = pid;
		t->nr_napi++;
	}
}

int topo_state_read(const char *path, struct topo_opts *o, pid_t *keeper)
{
	char text[4096];
	int n = topo_read_file(path, text, sizeof(text));

	if (n < 0)
		return n;
	state_parse(text, o, keeper);
	return 0;
}

int topo_load(const char *run, struct topo *t)
{
	static char text[4096];
	char path[PATH_MAX], found[TOPO_RUN_MAX + 8];
	struct topo_opts o;
	pid_t keeper = 0;
	int err;

	if (!run) {
		err = find_only_run(found, sizeof(found));
		if (err == -EEXIST)
			pr_warn("several topologies exist: name one with --run (ip netns | grep node1)");
		if (err)
			return err;
		run = found;
	}
	topo_opts_defaults(&o);
	snprintf(o.run, sizeof(o.run), "%.*s", TOPO_RUN_MAX, run);
	if (topo_state_path(run, path, sizeof(path)) || topo_state_read(path, &o, &keeper) < 0) {
		/* No state file (a run of `netprof run` killed hard): rediscover. */
		char ns[TOPO_NS_MAX + 8];

		snprintf(ns, sizeof(ns), "netprof-%s-node1", run);
		if (!netns_exists(ns))
			return -ENOENT;
		pr_warn("no state file for run '%s': showing what its namespaces hold", run);
		o.cni = TOPO_CNI_HOST;
	}
	if (!topo_ops(o.cni)) {
		pr_warn("run '%s' uses --cni %s, which is not in this build", run,
			topo_cni_name(o.cni));
		return -ENOTSUP;
	}
	t->rt = NULL;
	topo_plan(&o, t);
	t->keeper = keeper;
	if (topo_read_file(path, text, sizeof(text)) > 0)
		state_runtime(text, t);
	if (!netns_exists(t->nodes[0]))
		return -ENOENT;
	return topo_scan_devices(t);
}
