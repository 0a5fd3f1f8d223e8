/*
 * What the hop tracer follows: the target's namespaces (their inums, as the
 * kernel names them), whether netfilter has rules there, and every device
 * in them with its kind, read from `ip -d -o link show`.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/exec.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "trace/hops_internal.h"

/* Parses `ip -d -o link show`: "N: name[@peer]: <FLAGS> ... \    kind ..." */
static int discover_devices(struct hops_tracer *h, int ns_slot, const char *const *wire,
			    int nr_wire)
{
	static char out[16384];
	char *line, *save = NULL;
	int rc = RUN(h->ns[ns_slot].name, out, sizeof(out), "ip", "-d", "-o", "link", "show");

	if (rc != 0)
		return -EIO;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct traced_dev *d;
		char name[IF_NAMESIZE + 32], *at, *seg;
		int ifindex;

		if (h->nr_devs >= HOPS_MAX_DEVS)
			break;
		if (sscanf(line, "%d: %47[^:]:", &ifindex, name) != 2)
			continue;
		at = strchr(name, '@');
		if (at)
			*at = '\0';
		name[IF_NAMESIZE - 1] = '\0';
		d = &h->devs[h->nr_devs++];
		memset(d, 0, sizeof(*d));
		d->copy_fd[0] = d->copy_fd[1] = d->copy_fd[2] = -1;
		d->ns = ns_slot;
		d->ifindex = ifindex;
		memcpy(d->name, name, IF_NAMESIZE);
		d->kind = strstr(line, "<LOOPBACK") ? DEV_LOOPBACK : DEV_OTHER;
		for (int w = 0; w < nr_wire; w++) {
			const char *slash = strchr(wire[w], '/');

			d->wire |= slash && !strcmp(slash + 1, d->name) &&
				   !strncmp(wire[w], h->ns[ns_slot].name, slash - wire[w]) &&
				   strlen(h->ns[ns_slot].name) == (size_t)(slash - wire[w]);
		}
		/* The kind is the first word of the third backslash-separated part. */
		seg = strstr(line, "\\    ");
		seg = seg ? strstr(seg + 5, "\\    ") : NULL;
		if (seg && d->kind == DEV_OTHER) {
			char token[32];

			if (sscanf(seg + 5, "%31s", token) == 1)
				d->kind = dev_kind_parse(token);
		}
	}
	return 0;
}

/* The hooks (bit per NF_INET_* hook) each iptables table registers. */
static unsigned table_hooks(const char *table)
{
	static const struct { const char *name; unsigned hooks; } tables[] = {
		{ "raw", 1u << 0 | 1u << 3 },
		{ "mangle", 0x1f },
		{ "nat", 1u << 0 | 1u << 1 | 1u << 3 | 1u << 4 },
		{ "filter", 1u << 1 | 1u << 2 | 1u << 3 },
		{ "security", 1u << 1 | 1u << 2 | 1u << 3 },
	};

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!strcmp(table, tables[i].name))
			return tables[i].hooks;
	return 0x1f;	/* a table we do not know: assume every hook */
}

/* Conntrack's hooks (PREROUTING, INPUT, OUTPUT, POSTROUTING): registered
 * in a namespace once NAT or a rule matching on connection state uses it. */
#define CONNTRACK_HOOKS (1u << 0 | 1u << 1 | 1u << 3 | 1u << 4)

static bool uses_conntrack(const char *rules)
{
	return strstr(rules, "*nat") || strstr(rules, "conntrack") || strstr(rules, " state ") ||
	       strstr(rules, "--state") || strstr(rules, " ct ") || strstr(rules, " nat ");
}

/*
 * Where netfilter works in this namespace: the hooks of every iptables
 * table it has (either backend; a table present runs at its hooks even with
 * empty chains), of every nftables base chain, and of conntrack when NAT or
 * a rule uses it. 0: nothing of netfilter's runs here.
 */
static unsigned ns_rule_hooks(const char *ns)
{
	static const char *const nft_hooks[NF_HOOKS] = {
		"prerouting", "input", "forward", "output", "postrouting",
	};
	static char out[1 << 20];
	char *line, *save = NULL;
	unsigned hooks = 0;

	if (RUN(ns, out, sizeof(out), "iptables-legacy-save") == 0) {
		if (uses_conntrack(out))
			hooks |= CONNTRACK_HOOKS;
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (line[0] == '*')
				hooks |= table_hooks(line + 1);
	}
	if (RUN(ns, out, sizeof(out), "nft", "list", "ruleset") == 0) {
		if (uses_conntrack(out))
			hooks |= CONNTRACK_HOOKS;
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			const char *at = strstr(line, " hook ");

			for (int k = 0; at && k < NF_HOOKS; k++)
				if (!strncmp(at + 6, nft_hooks[k], strlen(nft_hooks[k])))
					hooks |= 1u << k;
		}
	}
	return hooks;
}

/*
 * Every traced device's receive count as the kernel keeps it (packets the
 * device took in: on a NAPI device, segments before GRO merges them), from
 * `ip -s -o link show`: "N: name...\    RX: bytes packets ...\    B P ...".
 */
void hops_read_kernel_rx(const struct hops_tracer *h, uint64_t *rx)
{
	static char out[65536];

	for (int n = 0; n < h->nr_ns; n++) {
		char *line, *save = NULL;

		if (RUN(h->ns[n].name, out, sizeof(out), "ip", "-s", "-o", "link", "show"))
			continue;
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			unsigned long long bytes, packets;
			const char *stats = strstr(line, "RX:");
			int ifindex;

			stats = stats ? strstr(stats, "\\") : NULL;
			if (sscanf(line, "%d:", &ifindex) != 1 || !stats ||
			    sscanf(stats + 1, "%llu %llu", &bytes, &packets) != 2)
				continue;
			for (int i = 0; i < h->nr_devs; i++)
				if (h->devs[i].ns == n && h->devs[i].ifindex == ifindex)
					rx[i] = packets;
		}
	}
}

int hops_setup_namespaces(struct hops_tracer *h)
{
	for (int i = 0; i < h->target.nr_netns; i++) {
		const char *name = h->target.netns[i];
		char path[PATH_MAX];
		struct stat st;

		if (strncmp(name, "netprof-", 8)) {
			usage_error("trace: namespace '%s' is not netprof's (names start with netprof-)",
				    name);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
		if (stat(path, &st) < 0) {
			usage_error("trace: no network namespace '%s' (see 'ip netns list')", name);
			return -ENOENT;
		}
		if (h->nr_ns >= MAX_NETNS - 1)
			return -E2BIG;
		snprintf(h->ns[h->nr_ns].name, sizeof(h->ns[0].name), "%s", name);
		/* The nsfs file's inode is the namespace's inum, as the kernel sees it. */
		h->ns[h->nr_ns].inum = st.st_ino;
		h->ns[h->nr_ns].index = h->nr_ns + 1;
		h->ns[h->nr_ns].rule_hooks = ns_rule_hooks(name);
		if (discover_devices(h, h->nr_ns, h->target.wire, h->target.nr_wire) < 0) {
			pr_warn("cannot list the devices of %s", name);
			return -EIO;
		}
		h->nr_ns++;
	}
	return 0;
}
