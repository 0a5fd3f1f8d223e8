/*
 * `netprof topo show`: the plan of a topology next to what its namespaces
 * hold now (devices, routes, iptables counts, BPF programs), the keeper's
 * counters and the data packet's steps. One set of out_* calls writes the
 * text and the JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/exec.h"
#include "lib/output.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static const char *short_ns(const struct topo *t, const char *ns)
{
	size_t n = strlen(t->opts.run) + 9;

	return strlen(ns) > n ? ns + n : ns;
}

static void show_routes(const char *ns)
{
	static char out[16384];
	char *line, *save = NULL;

	if (RUN(ns, out, sizeof(out), "ip", "-4", "route", "show") != 0)
		return;
	out_array_begin("routes");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		out_string(NULL, "    route  %s\n", line);
	out_array_end();
}

/*
 * Rule counts per table and chain, from `iptables-save -c`: the number of
 * rules and the packets they matched, plus a built-in chain's policy count.
 */
static void show_iptables(const struct topo *t, const char *ns)
{
	/* --services 10000 makes tens of thousands of chains and rules. */
	const size_t out_len = 64 << 20;
	char *out = malloc(out_len), *line, *save = NULL, table[16] = "";
	struct chain { char name[32]; unsigned rules; uint64_t packets, policy_packets; bool builtin; };
	struct chain *chains = NULL;
	unsigned nr = 0, cap = 0, last = 0;
	int rc = out ? RUN(ns, out, out_len, topo_ipt_binary(t->opts.iptables, "save"), "-c") : -ENOMEM;

	if (rc != 0) {
		free(out);
		return;
	}
	out_array_begin("iptables");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long pk = 0, by = 0;
		char name[32], pol[16];

		if (line[0] == '*') {
			snprintf(table, sizeof(table), "%s", line + 1);
			nr = 0;
			continue;
		}
		if (line[0] == ':' && sscanf(line, ":%31s %15s [%llu:%llu]", name, pol, &pk, &by) == 4) {
			if (nr == cap) {
				struct chain *grown = realloc(chains, (cap ? cap * 2 : 256) *
							  sizeof(*chains));
				if (!grown)
					break;
				chains = grown;
				cap = cap ? cap * 2 : 256;
			}
			chains[nr] = (struct chain){ .packets = 0, .policy_packets = pk,
						     .builtin = strcmp(pol, "-") != 0 };
			snprintf(chains[nr].name, sizeof(chains[nr].name), "%s", name);
			nr++;
			continue;
		}
		if (line[0] == '[' && sscanf(line, "[%llu:%llu] -A %31s", &pk, &by, name) == 3) {
			/* iptables-save lists a chain's rules together: try the
			 * chain of the previous rule first. */
			if (last >= nr || strcmp(chains[last].name, name))
				for (last = 0; last < nr && strcmp(chains[last].name, name); last++)
					;
			if (last < nr) {
				chains[last].rules++;
				chains[last].packets += pk;
			}
			continue;
		}
		if (!strcmp(line, "COMMIT")) {
			unsigned rules = 0, brief_chains = 0, brief_rules = 0;
			unsigned long long brief_packets = 0;

			for (unsigned i = 0; i < nr; i++)
				rules += chains[i].rules;
			out_object_begin(NULL);
			out_string("table", "    %-7s", table);
			out_uint("rules", " %5" PRIu64 " rules", rules);
			out_uint("chains", " in %" PRIu64 " chains", nr);
			out_text(":");
			out_array_begin("chain");
			unsigned shown = 0;
			for (unsigned i = 0; i < nr; i++) {
				/* Text: every built-in chain, and user chains with rules
				 * (the per-endpoint ones) only in a count, so that
				 * --pods 250 stays readable; JSON: all of them. */
				bool brief = !chains[i].builtin && !out_json() &&
					     (!strncmp(chains[i].name, "cali-tw-", 8) ||
					      !strncmp(chains[i].name, "cali-fw-", 8) ||
					      !strncmp(chains[i].name, "KUBE-SEP-", 9) ||
					      !strncmp(chains[i].name, "KUBE-SVC-", 9) ||
					      !strncmp(chains[i].name, "KUBE-EXT-", 9) ||
					      !strncmp(chains[i].name, "cali-pi-", 8) ||
					      !strncmp(chains[i].name, "cali-from-wl-dispatch-", 22) ||
					      !strncmp(chains[i].name, "cali-to-wl-dispatch-", 20));
				if (brief) {
					brief_chains++;
					brief_rules += chains[i].rules;
					brief_packets += chains[i].packets;
					continue;
				}
				if (!chains[i].rules && !chains[i].builtin)
					continue;
				if (!out_json() && shown++ >= 24)
					continue;
				out_object_begin(NULL);
				out_string("name", " %s", chains[i].name);
				out_uint("rules", "=%" PRIu64 "r", chains[i].rules);
				out_uint("packets", "/%" PRIu64 "pk", chains[i].packets);
				if (chains[i].builtin)
					out_uint("policy_packets", NULL, chains[i].policy_packets);
				out_object_end();
			}
			out_array_end();
			if (brief_chains)
				out_text(" + %u per-endpoint/dispatch/policy/service chains=%ur/%llupk",
					 brief_chains, brief_rules, brief_packets);
			out_text("\n");
			out_object_end();
		}
	}
	out_array_end();
	free(chains);
	free(out);
}

static void show_tc(const char *ns, const struct topo *t)
{
	static char out[8192];

	out_array_begin("bpf");
	for (unsigned i = 0; i < t->nr_devs; i++) {
		const struct topo_dev *d = &t->devs[i];

		if (strcmp(d->netns, ns) || !strcmp(d->kind, "loopback"))
			continue;
		for (int dir = 0; dir < 2; dir++) {
			const char *dirname = dir ? "egress" : "ingress";
			char *line, *save = NULL;

			if (RUN(ns, out, sizeof(out), "tc", "filter", "show", "dev", d->name,
				dirname) != 0)
				continue;
			for (line = strtok_r(out, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				char prog[64] = "", id[16] = "";

				const char *p = strstr(line, " handle ");

				if (!strstr(line, " bpf ") || !p)
					continue;
				/* "... handle 0x1 NAME:[ID] direct-action ... id N" */
				if ((p = strchr(p + 8, ' ')))
					sscanf(p, " %63[^:[ ]", prog);
				topo_word_after(line, " id ", id, sizeof(id));
				out_object_begin(NULL);
				out_string("dev", "    bpf    %-16s", d->name);
				out_string("hook", " tc %-7s", dirname);
				out_string("program", " %s", prog);
				out_uint("id", " (id %" PRIu64 ")\n", strtoull(id, NULL, 10));
				out_object_end();
			}
		}
	}
	out_array_end();
}

static void show_cgroup_progs(const struct topo *t)
{
	static char out[8192];
	char *line, *save = NULL;

	if (!t->cgroup[0] || access(t->cgroup, F_OK) != 0)
		return;
	if (RUN(NULL, out, sizeof(out), "bpftool", "cgroup", "show", t->cgroup) != 0)
		return;
	out_array_begin("cgroup_bpf");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned id;
		char type[32], name[64] = "";

		if (sscanf(line, "%u %31s %*s %63s", &id, type, name) < 2)
			continue;
		out_object_begin(NULL);
		out_string("attach", "  bpf    cgroup %-16s", type);
		out_string("program", " %s", name);
		out_uint("id", " (id %" PRIu64 ")\n", id);
		out_object_end();
	}
	out_array_end();
}

static void show_counters(const struct topo *t)
{
	char path[PATH_MAX], text[8192];
	char *line, *save = NULL;

	if (t->keeper <= 0 || kill(t->keeper, 0) != 0)
		return;
	topo_counters_path(t->opts.run, path, sizeof(path));
	unlink(path);
	if (kill(t->keeper, SIGUSR1) != 0)
		return;
	for (int i = 0; i < 200 && access(path, F_OK) != 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	if (topo_read_file(path, text, sizeof(text)) <= 0 || !strchr(text, ':'))
		return;
	out_text("Counters (from the keeper, pid %d):\n", (int)t->keeper);
	out_object_begin("counters");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[64];
		unsigned long long v;

		if (sscanf(line, " \"%63[^\"]\": %llu", key, &v) != 2)
			continue;
		out_text("  %-34s", key);
		out_uint(key, "%" PRIu64 "\n", v);
	}
	out_object_end();
}

/* A task's Cpus_allowed_list, and whether it is still the thread named comm. */
static bool task_cpus(pid_t pid, const char *comm, char *cpus, size_t len)
{
	char path[64], text[4096], now[32] = "";
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (topo_read_file(path, now, sizeof(now)) <= 0)
		return false;
	now[strcspn(now, "\n")] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (strcmp(now, comm) || topo_read_file(path, text, sizeof(text)) <= 0 ||
	    !(p = strstr(text, "Cpus_allowed_list:")))
		return false;
	p += strlen("Cpus_allowed_list:");
	p += strspn(p, " \t");
	snprintf(cpus, len, "%.*s", (int)strcspn(p, "\n"), p);
	return true;
}

/* Where each node's work runs, and how the wire receives. */
static void show_placement(const struct topo *t)
{
	char rate[32] = "uncapped";

	if (t->opts.link_rate)
		topo_format_rate(t->opts.link_rate, rate, sizeof(rate));
	out_object_begin("placement");
	out_string("node1_cpus", "  cpus   node1 %s", t->node_cpus[0]);
	out_string("node2_cpus", ", node2 %s", t->node_cpus[1]);
	out_string("client_cpus", " (client on %s", t->client.cpus);
	out_string("server_cpus", ", server on %s)\n", t->server.cpus);
	out_string("wire", "  wire   %s", topo_wire_name(t->opts.wire));
	out_uint("link_rate_bit_s", NULL, t->opts.link_rate);
	out_text(", %s\n", rate);
	out_object_end();
	out_array_begin("napi");
	for (unsigned i = 0; i < t->nr_napi; i++) {
		const struct topo_napi *z = &t->napi[i];
		char now[TOPO_CPUS_MAX];
		bool alive = task_cpus(z->pid, z->comm, now, sizeof(now));

		out_object_begin(NULL);
		out_string("thread", "  napi   %-16s", z->comm);
		out_uint("pid", " pid %-7" PRIu64, (uint64_t)z->pid);
		out_string("netns", " %s", short_ns(t, z->netns));
		out_string("dev", "/%s", z->dev);
		out_string("cpus", " pinned to %s", z->cpus);
		out_string("cpus_now", alive ? ", allowed now %s\n" : "%s", alive ? now : "");
		if (!alive)
			out_text(", gone\n");
		out_object_end();
	}
	out_array_end();
}

int topo_show(struct topo *t)
{
	const char *nss[6];
	int n = topo_namespaces(t, nss);

	out_object_begin(NULL);
	out_string("run", "Topology %s", t->opts.run);
	out_string("cni", ": --cni %s", topo_cni_name(t->opts.cni));
	out_string("placement", ", %s", t->opts.same_node ? "same-node" : "cross-node");
	out_string("target", ", target %s", t->opts.target_service ? "service" : "pod");
	out_uint("mtu", ", mtu %" PRIu64, t->opts.mtu);
	out_string("iptables", ", iptables-%s\n", t->opts.iptables);
	out_text("  ");
	topo_print_rules(t);
	out_object_begin("client");
	out_string("netns", "  client %s", t->client.netns);
	out_string("ip", " %s\n", t->client.ip_str);
	out_object_end();
	out_object_begin("server");
	out_string("netns", "  server %s", t->server.netns);
	out_string("ip", " %s", t->server.ip_str);
	out_uint("port", ":%" PRIu64 "\n", t->server_port);
	out_object_end();
	if (t->opts.target_service) {
		out_object_begin("service");
		out_string("vip", "  service %s", t->vip_str);
		out_uint("port", ":%" PRIu64, t->vip_port);
		out_string("lb", " via %s", topo_uses_socket_lb(t) ? "socket-LB (cgroup/connect4)"
								: "kube-proxy iptables NAT");
		out_uint("filler_services", ", %" PRIu64 " filler services\n", t->opts.services);
		out_object_end();
	}
	out_string("dial", "  the client dials %s", t->dst_str);
	out_uint("dial_port", ":%" PRIu64 "\n", t->dst_port);
	out_string("cgroup", "  cgroup %s\n", t->cgroup);
	show_placement(t);
	if (t->keeper > 0)
		out_uint("keeper", "  keeper pid %" PRIu64 "\n", (uint64_t)t->keeper);

	out_array_begin("namespaces");
	for (int i = 0; i < n; i++) {
		out_object_begin(NULL);
		out_string("name", "\nNamespace %s\n", nss[i]);
		out_array_begin("devices");
		for (unsigned d = 0; d < t->nr_devs; d++) {
			const struct topo_dev *dv = &t->devs[d];

			if (strcmp(dv->netns, nss[i]))
				continue;
			out_object_begin(NULL);
			out_string("name", "    dev    %-16s", dv->name);
			out_uint("ifindex", " #%-3" PRIu64, dv->ifindex);
			out_string("kind", " %-9s", dv->kind);
			out_string("role", " %-14s", topo_dev_role_name(dv->role));
			out_uint("mtu", " mtu %-5" PRIu64, dv->mtu);
			out_string("addr", " %-18s", dv->addr[0] ? dv->addr : "-");
			if (dv->peer[0]) {
				out_string("peer_netns", " peer %s", short_ns(t, dv->peer_netns));
				out_string("peer", "/%s", dv->peer);
			}
			if (dv->master[0])
				out_string("master", " master %s", dv->master);
			out_text("\n");
			out_object_end();
		}
		out_array_end();
		show_routes(nss[i]);
		show_iptables(t, nss[i]);
		show_tc(nss[i], t);
		out_object_end();
	}
	out_array_end();
	out_text("\n");
	show_cgroup_progs(t);
	show_counters(t);

	out_text("\nA data packet %s -> %s:%u, step by step:\n", t->client.ip_str, t->dst_str,
		 t->dst_port);
	out_array_begin("hops");
	for (unsigned i = 0; i < t->nr_hops; i++) {
		out_object_begin(NULL);
		out_uint("step", "  %2" PRIu64 ".", i + 1);
		out_string("netns", " %-6s", short_ns(t, t->hops[i].netns));
		out_string("dev", " %-16s", t->hops[i].dev[0] ? t->hops[i].dev : "");
		out_string("what", " %s\n", t->hops[i].what);
		out_object_end();
	}
	out_array_end();
	out_object_end();
	return 0;
}
