/* Where a topology's nodes run and how its wire is shaped: the CPU lists,
 * --node-cpus, the default split, --link-rate's units, and the state file
 * carrying them (with the wire's NAPI threads) to `topo show`. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cpulist.h"
#include "test.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

static bool list_round_trip(const char *in, char sep, const char *want)
{
	char out[TOPO_CPUS_MAX];
	cpu_set_t set;

	if (!ASSERT_EQ(cpulist_parse_sep(in, sep, &set), 0, in))
		return false;
	cpulist_format(&set, out, sizeof(out));
	return ASSERT_STREQ(out, want, in);
}

TEST(cpulist_parse_and_format)
{
	cpu_set_t set;

	if (!list_round_trip("0", ',', "0") || !list_round_trip("3,1,2", ',', "1-3") ||
	    !list_round_trip("0-1,4,6-7", ',', "0-1,4,6-7") ||
	    !list_round_trip("0-1+4", '+', "0-1,4") || !list_round_trip("5-5", ',', "5"))
		return;
	static const char *const bad[] = { "", "a", "-1", "1-", "3-1", "1,,2", "1 ", " 1",
					   "+1", "0,1", "1024" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!ASSERT_EQ(cpulist_parse_sep(bad[i], '+', &set), -EINVAL, bad[i]))
			return;
}

TEST(topo_parse_rate_units)
{
	static const struct { const char *text; uint64_t bits; } good[] = {
		{ "10gbit", 10000000000ULL }, { "1gbit", 1000000000ULL }, { "500mbit", 500000000ULL },
		{ "1.5gbit", 1500000000ULL }, { "100mbps", 800000000ULL }, { "1GBit", 1000000000ULL },
		{ "1000000", 1000000ULL }, { "1mibit", 1048576ULL }, { "8kbit", 8000ULL },
	};
	static const char *const bad[] = { "foo", "", "gbit", "-1gbit", "0", "1furlong",
					   "1e30gbit", " 1gbit" };
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ASSERT_EQ(topo_parse_rate(good[i].text, &v), 0, good[i].text) ||
		    !ASSERT_EQ(v, good[i].bits, good[i].text))
			return;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!ASSERT_EQ(topo_parse_rate(bad[i], &v), -EINVAL, bad[i]))
			return;
}

TEST(topo_format_rate_reads_back)
{
	static const uint64_t rates[] = { 10000000000ULL, 1000000000ULL, 1500000000ULL,
					  1048576ULL, 123ULL };
	static const char *const text[] = { "10gbit", "1gbit", "1500mbit", "1048576bit",
					    "123bit" };
	char out[32];
	uint64_t back;

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		topo_format_rate(rates[i], out, sizeof(out));
		if (!ASSERT_STREQ(out, text[i], "formatted") ||
		    !ASSERT_EQ(topo_parse_rate(out, &back), 0, out) ||
		    !ASSERT_EQ(back, rates[i], out))
			return;
	}
}

TEST(topo_parse_node_cpus_lists)
{
	struct topo_opts o;

	topo_opts_defaults(&o);
	if (!ASSERT_EQ(topo_parse_node_cpus("t", "0-1+4,2", &o), 0, "two lists") ||
	    !ASSERT_STREQ(o.node_cpus[0], "0-1,4", "node1") ||
	    !ASSERT_STREQ(o.node_cpus[1], "2", "node2"))
		return;
	if (!ASSERT_EQ(topo_parse_node_cpus("t", "3", &o), 0, "one list") ||
	    !ASSERT_STREQ(o.node_cpus[0], "3", "node1 shares it") ||
	    !ASSERT_STREQ(o.node_cpus[1], "3", "node2 shares it"))
		return;
	ASSERT_EQ(topo_parse_node_cpus("t", "0,1,2", &o), -EINVAL, "three lists");
	ASSERT_EQ(topo_parse_node_cpus("t", "0,", &o), -EINVAL, "an empty list");
	ASSERT_EQ(topo_parse_node_cpus("t", "x,1", &o), -EINVAL, "not a CPU");
}

/* The CPUs this process may use, in order. */
static int usable(int *cpus)
{
	cpu_set_t set;
	int n = 0;

	sched_getaffinity(0, sizeof(set), &set);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

static void list_of(const int *cpus, int from, int to, char *out, size_t len)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int i = from; i < to; i++)
		CPU_SET(cpus[i], &set);
	cpulist_format(&set, out, len);
}

TEST(topo_plan_splits_cpus_between_nodes)
{
	static struct topo t;
	struct topo_opts o;
	int cpus[CPU_SETSIZE], n = usable(cpus), first = (n + 1) / 2;
	char want1[TOPO_CPUS_MAX], want2[TOPO_CPUS_MAX];

	list_of(cpus, 0, first, want1, sizeof(want1));
	list_of(cpus, n > 1 ? first : 0, n, want2, sizeof(want2));
	topo_opts_defaults(&o);
	snprintf(o.run, sizeof(o.run), "unit");
	topo_plan(&o, &t);
	if (!ASSERT_STREQ(t.node_cpus[0], want1, "node1: the first half") ||
	    !ASSERT_STREQ(t.node_cpus[1], want2, "node2: the rest") ||
	    !ASSERT_STREQ(t.client.cpus, want1, "the client is node1's") ||
	    !ASSERT_STREQ(t.server.cpus, want2, "the server is node2's"))
		return;
	o.same_node = true;
	topo_plan(&o, &t);
	if (!ASSERT_STREQ(t.server.cpus, want1, "same-node: the server on node1's CPUs"))
		return;
	o.same_node = false;
	snprintf(o.node_cpus[0], sizeof(o.node_cpus[0]), "7");
	snprintf(o.node_cpus[1], sizeof(o.node_cpus[1]), "2-3");
	topo_plan(&o, &t);
	ASSERT_STREQ(t.client.cpus, "7", "--node-cpus: the client");
	ASSERT_STREQ(t.server.cpus, "2-3", "--node-cpus: the server");
}

TEST(topo_opts_check_refuses_cpus_not_here)
{
	struct topo_opts o;
	int cpus[CPU_SETSIZE], n = usable(cpus);

	topo_opts_defaults(&o);
	snprintf(o.run, sizeof(o.run), "unit");
	snprintf(o.node_cpus[0], sizeof(o.node_cpus[0]), "%d", cpus[0]);
	snprintf(o.node_cpus[1], sizeof(o.node_cpus[1]), "%d", cpus[n - 1]);
	if (!ASSERT_EQ(topo_opts_check(&o), 0, "CPUs of this machine"))
		return;
	/* One past the last usable CPU is not this process's. */
	snprintf(o.node_cpus[1], sizeof(o.node_cpus[1]), "%d", cpus[n - 1] + 1);
	ASSERT_EQ(topo_opts_check(&o), -EINVAL, "a CPU netprof may not use");
}

TEST(topo_state_keeps_placement_and_napi_threads)
{
	static struct topo t;
	struct topo_opts o, r;
	char dir[] = "/tmp/netprof-unit-place-XXXXXX", path[64];
	pid_t keeper = 0;
	FILE *f;
	static char text[4096];

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "temporary directory"))
		return;
	snprintf(path, sizeof(path), "%s/run.json", dir);
	topo_opts_defaults(&o);
	snprintf(o.run, sizeof(o.run), "unit");
	snprintf(o.node_cpus[0], sizeof(o.node_cpus[0]), "0-1,4");
	snprintf(o.node_cpus[1], sizeof(o.node_cpus[1]), "2");
	o.wire = TOPO_WIRE_BACKLOG;
	o.link_rate = 2500000000ULL;
	topo_plan(&o, &t);
	t.nr_napi = 1;
	t.napi[0] = (struct topo_napi){ .pid = 4242 };
	snprintf(t.napi[0].comm, sizeof(t.napi[0].comm), "napi/eth0-77");
	snprintf(t.napi[0].netns, sizeof(t.napi[0].netns), "netprof-unit-node2");
	snprintf(t.napi[0].dev, sizeof(t.napi[0].dev), "eth0");
	snprintf(t.napi[0].cpus, sizeof(t.napi[0].cpus), "2");
	ASSERT_EQ(topo_state_write(path, &t), 0, "write");
	topo_opts_defaults(&r);
	if (ASSERT_EQ(topo_state_read(path, &r, &keeper), 0, "read")) {
		ASSERT_STREQ(r.node_cpus[0], "0-1,4", "node1's CPUs, commas and all");
		ASSERT_STREQ(r.node_cpus[1], "2", "node2's CPUs");
		ASSERT_EQ(r.wire, TOPO_WIRE_BACKLOG, "wire");
		ASSERT_EQ(r.link_rate, 2500000000ULL, "link rate");
	}
	f = fopen(path, "r");
	if (f) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);

		text[n] = '\0';
		fclose(f);
	}
	ASSERT_TRUE(strstr(text, "\"napi0\": \"4242 napi/eth0-77 netprof-unit-node2 eth0 2\"") !=
			    NULL, "the NAPI thread recorded");
	unlink(path);
	rmdir(dir);
}
