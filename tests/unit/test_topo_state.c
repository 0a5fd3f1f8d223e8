/* The state file of a `topo up` topology: what `topo show`, `topo down` and
 * `netprof cleanup` rebuild a topology from, read back field by field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

struct state_dir {
	char dir[64];
	char path[96];
};

static bool state_dir_make(struct state_dir *d)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/netprof-unit-state-XXXXXX");
	if (!mkdtemp(d->dir))
		return false;
	snprintf(d->path, sizeof(d->path), "%s/run.json", d->dir);
	return true;
}

static void state_dir_remove(struct state_dir *d)
{
	unlink(d->path);
	rmdir(d->dir);
}

static bool write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

TEST(topo_state_read_hand_written)
{
	/* What topo_save_state wrote for `topo up --cni cilium-legacy ...`. */
	static const char text[] =
		"{\n"
		"  \"run\": \"other\",\n"
		"  \"cni\": \"cilium-legacy\",\n"
		"  \"placement\": \"same-node\",\n"
		"  \"target\": \"service\",\n"
		"  \"mtu\": 9000,\n"
		"  \"pods\": 0,\n"
		"  \"policies\": 0,\n"
		"  \"services\": 25,\n"
		"  \"subnets\": 1,\n"
		"  \"socket_lb\": true,\n"
		"  \"iptables\": \"nft\",\n"
		"  \"keeper\": 4242\n"
		"}\n";
	struct state_dir d;
	struct topo_opts o;
	pid_t keeper = 0;

	if (!ASSERT_TRUE(state_dir_make(&d), "temporary directory"))
		return;
	if (!ASSERT_TRUE(write_text(d.path, text), "state file written"))
		goto out;
	topo_opts_defaults(&o);
	snprintf(o.run, sizeof(o.run), "mine");
	if (!ASSERT_EQ(topo_state_read(d.path, &o, &keeper), 0, "read"))
		goto out;
	ASSERT_EQ(o.cni, TOPO_CNI_CILIUM_LEGACY, "cni");
	ASSERT_TRUE(o.same_node, "same-node placement");
	ASSERT_TRUE(o.target_service, "service target");
	ASSERT_EQ(o.mtu, 9000, "mtu");
	ASSERT_EQ(o.pods, 0, "pods");
	ASSERT_EQ(o.policies, 0, "policies");
	ASSERT_EQ(o.services, 25, "services");
	ASSERT_EQ(o.subnets, 1, "subnets");
	ASSERT_TRUE(o.socket_lb, "socket-LB");
	ASSERT_STREQ(o.iptables, "nft", "iptables backend");
	ASSERT_EQ(keeper, 4242, "keeper pid");
	/* The run is the one asked for, not the file's. */
	ASSERT_STREQ(o.run, "mine", "run kept");
out:
	state_dir_remove(&d);
}

TEST(topo_state_read_keeps_what_is_missing)
{
	/* An older file without the sizing keys, and a CNI this build lacks. */
	static const char text[] =
		"{\n"
		"  \"run\": \"old\",\n"
		"  \"cni\": \"flannel\",\n"
		"  \"placement\": \"cross-node\",\n"
		"  \"target\": \"pod\"\n"
		"}\n";
	struct state_dir d;
	struct topo_opts o;
	pid_t keeper = 7;

	if (!ASSERT_TRUE(state_dir_make(&d), "temporary directory"))
		return;
	if (!ASSERT_TRUE(write_text(d.path, text), "state file written"))
		goto out;
	topo_opts_defaults(&o);
	o.cni = TOPO_CNI_MACVLAN;
	o.subnets = 2;
	if (!ASSERT_EQ(topo_state_read(d.path, &o, &keeper), 0, "read"))
		goto out;
	ASSERT_EQ(o.cni, TOPO_CNI_MACVLAN, "unknown cni leaves the caller's");
	ASSERT_TRUE(!o.same_node && !o.target_service, "cross-node, to a pod");
	ASSERT_EQ(o.mtu, 1500, "default mtu");
	ASSERT_EQ(o.subnets, 2, "subnets untouched");
	ASSERT_STREQ(o.iptables, "legacy", "default backend");
	ASSERT_EQ(keeper, 7, "no keeper key: untouched");
out:
	state_dir_remove(&d);
}

TEST(topo_state_missing_file)
{
	struct topo_opts o;
	pid_t keeper = 0;

	topo_opts_defaults(&o);
	ASSERT_TRUE(topo_state_read("/nonexistent/netprof/run.json", &o, &keeper) < 0,
		    "no file is an error");
	ASSERT_EQ(o.cni, TOPO_CNI_CALICO, "options untouched");
}

TEST(topo_state_round_trip)
{
	static struct topo t;
	struct state_dir d;
	struct topo_opts o, back;
	pid_t keeper = 0;

	topo_opts_defaults(&o);
	o.cni = TOPO_CNI_SIDECAR;
	o.target_service = true;
	o.mtu = 1400;
	o.pods = 100;
	o.policies = 3;
	o.services = 10;
	snprintf(o.iptables, sizeof(o.iptables), "nft");
	snprintf(o.run, sizeof(o.run), "rt-1");
	topo_plan(&o, &t);
	t.keeper = 31337;
	if (!ASSERT_TRUE(state_dir_make(&d), "temporary directory"))
		return;
	if (!ASSERT_EQ(topo_state_write(d.path, &t), 0, "write"))
		goto out;
	topo_opts_defaults(&back);
	snprintf(back.run, sizeof(back.run), "rt-1");
	if (!ASSERT_EQ(topo_state_read(d.path, &back, &keeper), 0, "read"))
		goto out;
	ASSERT_EQ(back.cni, o.cni, "cni");
	ASSERT_EQ(back.same_node, o.same_node, "placement");
	ASSERT_EQ(back.target_service, o.target_service, "target");
	ASSERT_EQ(back.mtu, o.mtu, "mtu");
	ASSERT_EQ(back.pods, o.pods, "pods");
	ASSERT_EQ(back.policies, o.policies, "policies");
	ASSERT_EQ(back.services, o.services, "services");
	ASSERT_EQ(back.subnets, o.subnets, "subnets");
	ASSERT_EQ(back.socket_lb, o.socket_lb, "socket-LB");
	ASSERT_STREQ(back.iptables, o.iptables, "iptables backend");
	ASSERT_EQ(keeper, 31337, "keeper pid");
	ASSERT_TRUE(!memcmp(&back, &o, sizeof(o)), "every option back as written");
	/* Every CNI's name survives the trip. */
	for (int cni = 0; cni < TOPO_CNI_COUNT; cni++) {
		t.opts.cni = cni;
		back.cni = cni == TOPO_CNI_HOST ? TOPO_CNI_CALICO : TOPO_CNI_HOST;
		if (!ASSERT_EQ(topo_state_write(d.path, &t), 0, "write") ||
		    !ASSERT_EQ(topo_state_read(d.path, &back, &keeper), 0, "read"))
			break;
		ASSERT_EQ(back.cni, cni, topo_cni_name(cni));
	}
out:
	state_dir_remove(&d);
}
