/*
 * The wire between the nodes made to receive as a NIC does (--wire napi):
 * GRO on both veth ends, which gives veth a NAPI context, with TSO off at
 * the sending end, because veth only takes a TCP packet through NAPI when
 * the device that sends it does not offload segmentation
 * (veth_skb_is_eligible_for_gro); the sender then segments in software
 * where a NIC would in hardware, and the receiver's GRO merges again.
 * Threaded NAPI moves the poll into a kernel thread, napi/<dev>-<id>, that
 * netprof pins to the receiving node's CPUs: the receive work is the
 * receiver's, not the sender's, as with a NIC's interrupt and softirq.
 * Each end gets an egress queue as a NIC has (see set_qdisc), and
 * --link-rate makes it a tbf that caps each direction.
 * Everything here is inside the topology's namespaces (the threads end
 * with their devices), so it goes away with them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>

#include "lib/cpulist.h"
#include "lib/exec.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

/* One end of the wire: where it is, and whose CPUs take what it receives. */
struct wire_end {
	const char *netns;
	const char *dev;
	char cpus[TOPO_CPUS_MAX];
};

static int wire_ends(const struct topo *t, struct wire_end *ends)
{
	int n = 0;

	ends[n++] = (struct wire_end){ .netns = t->nodes[0], .dev = "eth0" };
	snprintf(ends[0].cpus, TOPO_CPUS_MAX, "%s", t->node_cpus[0]);
	if (t->gateway[0]) {
		cpu_set_t a, b;

		/* The gateway stands for a router between the machines: its
		 * legs' receive work is neither node's, so it may use both's. */
		cpulist_parse(t->node_cpus[0], &a);
		cpulist_parse(t->node_cpus[1], &b);
		CPU_OR(&a, &a, &b);
		for (int leg = 0; leg < 2; leg++) {
			ends[n] = (struct wire_end){ .netns = t->gateway, .dev = leg ? "eth1" : "eth0" };
			cpulist_format(&a, ends[n].cpus, TOPO_CPUS_MAX);
			n++;
		}
	}
	ends[n] = (struct wire_end){ .netns = t->nodes[1], .dev = "eth0" };
	snprintf(ends[n].cpus, TOPO_CPUS_MAX, "%s", t->node_cpus[1]);
	return n + 1;
}

/* ---- offloads, through the ethtool ioctl inside the namespace ---- */

static int ethtool_value(int fd, const char *dev, __u32 cmd, __u32 *data)
{
	struct ethtool_value ev = { .cmd = cmd, .data = *data };
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return -errno;
	*data = ev.data;
	return 0;
}

/* GRO on, TSO off; read back, since the kernel may refuse a feature silently. */
static int set_offloads(const struct wire_end *e)
{
	int saved = netns_enter(e->netns), fd, err;
	__u32 gro = 1, tso = 0;

	if (saved < 0)
		return saved;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	netns_leave(saved);
	if (fd < 0)
		return -errno;
	err = ethtool_value(fd, e->dev, ETHTOOL_SGRO, &gro);
	if (!err)
		err = ethtool_value(fd, e->dev, ETHTOOL_STSO, &tso);
	if (!err)
		err = ethtool_value(fd, e->dev, ETHTOOL_GGRO, &gro);
	if (!err)
		err = ethtool_value(fd, e->dev, ETHTOOL_GTSO, &tso);
	close(fd);
	if (!err && (!gro || tso))
		err = -EOPNOTSUPP;
	if (err)
		pr_warn("wire: cannot turn GRO on and TSO off on %s in %s: %s", e->dev, e->netns,
			strerror(-err));
	return err;
}

/* ---- threaded NAPI through the namespace's sysfs ---- */

/*
 * /sys/class/net shows the devices of the namespace sysfs was mounted
 * from, so the write happens in a child with a mount namespace of its own
 * (as `ip netns exec` does): the machine's /sys is never touched.
 */
static int write_threaded(const struct wire_end *e)
{
	char path[96];
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "/sys/class/net/%s/threaded", e->dev);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd;

		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    netns_switch(e->netns) < 0 ||
		    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			_exit(10);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(errno == ENOENT ? 11 : 12);
		_exit(write(fd, "1", 1) == 1 && close(fd) == 0 ? 0 : 13);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	pr_warn("wire: cannot turn threaded NAPI on for %s in %s (%s)", e->dev, e->netns,
		!WIFEXITED(status) ? "the helper was killed" :
		WEXITSTATUS(status) == 10 ? "no private sysfs of the namespace" :
		WEXITSTATUS(status) == 11 ? "this kernel has no threaded NAPI" :
		"the kernel refused the write");
	return -EOPNOTSUPP;
}

/* The pids of napi/<dev>-* kernel threads now: at most max. */
static int napi_threads(const char *dev, pid_t *pids, char (*comms)[16], int max)
{
	char prefix[24], path[64], comm[32];
	struct dirent *e;
	DIR *d = opendir("/proc");
	int n = 0;

	if (!d)
		return -errno;
	snprintf(prefix, sizeof(prefix), "napi/%s-", dev);
	while ((e = readdir(d)) && n < max) {
		pid_t pid = (pid_t)atoi(e->d_name);
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, prefix, strlen(prefix))) {
			comm[strcspn(comm, "\n")] = '\0';
			pids[n] = pid;
			snprintf(comms[n], 16, "%.15s", comm);
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

#define NAPI_SCAN_MAX 1024

/*
 * Turning threaded NAPI on creates the device's threads there and then;
 * the thread's name carries the device's name but not its namespace (every
 * wire end is an eth0), so the new ones are told from the others by a look
 * at /proc before and after.
 */
static int start_napi_threads(struct topo *t, const struct wire_end *e)
{
	static pid_t before[NAPI_SCAN_MAX], after[NAPI_SCAN_MAX];
	static char comms[NAPI_SCAN_MAX][16], comms_before[NAPI_SCAN_MAX][16];
	int nb = napi_threads(e->dev, before, comms_before, NAPI_SCAN_MAX), na, found = 0, err;
	cpu_set_t set;

	if (nb < 0)
		return nb;
	if ((err = write_threaded(e)))
		return err;
	na = napi_threads(e->dev, after, comms, NAPI_SCAN_MAX);
	cpulist_parse(e->cpus, &set);
	for (int i = 0; i < na; i++) {
		struct topo_napi *z;
		bool old = false;

		for (int j = 0; j < nb && !old; j++)
			old = before[j] == after[i];
		if (old)
			continue;
		found++;
		if (sched_setaffinity(after[i], sizeof(set), &set) < 0) {
			err = -errno;
			pr_warn("wire: cannot pin %s (pid %d) to CPUs %s: %s", comms[i],
				(int)after[i], e->cpus, strerror(-err));
			return err;
		}
		if (t->nr_napi >= TOPO_MAX_NAPI)
			continue;
		z = &t->napi[t->nr_napi++];
		snprintf(z->netns, sizeof(z->netns), "%s", e->netns);
		snprintf(z->dev, sizeof(z->dev), "%s", e->dev);
		z->pid = after[i];
		snprintf(z->comm, sizeof(z->comm), "%s", comms[i]);
		snprintf(z->cpus, sizeof(z->cpus), "%s", e->cpus);
	}
	if (!found) {
		pr_warn("wire: no napi/%s-* thread appeared for %s in %s", e->dev, e->dev,
			e->netns);
		return -ENOENT;
	}
	pr_debug("wire: %d NAPI thread(s) of %s in %s on CPUs %s", found, e->dev, e->netns,
		 e->cpus);
	return 0;
}

/* ---- the egress queue and the line rate ---- */

/*
 * A NIC has a queue in front of its ring, and veth stops its queue when the
 * receiver's ring is full, but only if there is a qdisc to hold the packets
 * (on noqueue it drops them: a stream then loses about 1% and retransmits).
 * So the NAPI wire gets the queue a Debian NIC has (pfifo_fast), and
 * --link-rate a tbf instead.
 */
static int set_qdisc(const struct topo *t, const struct wire_end *e)
{
	char rate[32], burst[32], limit[32], out[512], line[256];
	/* A 1 ms bucket, never smaller than two 64 KiB GSO packets (tbf
	 * would split them), and a queue of 5 ms more, as a NIC ring holds. */
	uint64_t bytes_ms = t->opts.link_rate / 8 / 1000;
	uint64_t b = bytes_ms > 131072 ? bytes_ms : 131072;
	int rc;

	snprintf(rate, sizeof(rate), "%llubit", (unsigned long long)t->opts.link_rate);
	snprintf(burst, sizeof(burst), "%llu", (unsigned long long)b);
	snprintf(limit, sizeof(limit), "%llu", (unsigned long long)(b + 5 * bytes_ms));
	if (t->opts.link_rate)
		rc = RUN(e->netns, out, sizeof(out), "tc", "qdisc", "replace", "dev", e->dev,
			 "root", "tbf", "rate", rate, "burst", burst, "limit", limit);
	else
		rc = RUN(e->netns, out, sizeof(out), "tc", "qdisc", "replace", "dev", e->dev,
			 "root", "pfifo_fast");
	if (rc) {
		pr_warn("wire: cannot set %s's queue in %s (%s): %s", e->dev, e->netns,
			t->opts.link_rate ? rate : "pfifo_fast",
			rc < 0 ? strerror(-rc) : first_line(out, line, sizeof(line)));
		return -EIO;
	}
	return 0;
}

const char *topo_wire_hop(const struct topo *t)
{
	return t->opts.wire == TOPO_WIRE_NAPI
		       ? "NAPI (GRO), polled by the receiving node's napi thread"
		       : "backlog enqueue (the receive runs on the sending CPU)";
}

int topo_wire_setup(struct topo *t)
{
	struct wire_end ends[4];
	int n = wire_ends(t, ends), err;

	t->nr_napi = 0;
	for (int i = 0; i < n && t->opts.wire == TOPO_WIRE_NAPI; i++)
		if ((err = set_offloads(&ends[i])))
			return err;
	for (int i = 0; i < n && t->opts.wire == TOPO_WIRE_NAPI; i++)
		if ((err = start_napi_threads(t, &ends[i])))
			return err;
	for (int i = 0; i < n && (t->opts.link_rate || t->opts.wire == TOPO_WIRE_NAPI); i++)
		if ((err = set_qdisc(t, &ends[i])))
			return err;
	return 0;
}

int topo_nic_setup(struct topo *t, const char *netns, const char *dev, const char *cpus)
{
	struct wire_end e = { .netns = netns, .dev = dev };
	int err;

	snprintf(e.cpus, sizeof(e.cpus), "%s", cpus);
	if (t->opts.wire == TOPO_WIRE_NAPI &&
	    ((err = set_offloads(&e)) || (err = start_napi_threads(t, &e))))
		return err;
	if (t->opts.link_rate || t->opts.wire == TOPO_WIRE_NAPI)
		return set_qdisc(t, &e);
	return 0;
}
