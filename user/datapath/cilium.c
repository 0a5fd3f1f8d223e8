/*
 * Loads bpf/cilium.bpf.c for one emulated node and attaches it with tc
 * clsact filters (as Cilium's loader does, pkg/datapath/loader): from-container
 * on each lxc* ingress, from-netdev on the wire's ingress. Filters live on the
 * devices of the node's namespace; cilium_dp_close removes them again.
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/cilium.h"
#include "cilium.skel.h"
#include "datapath/cilium.h"
#include "lib/log.h"
#include "lib/netns.h"

#define TC_HANDLE	1
#define TC_PRIORITY	1

struct tc_attachment {
	char ifname[IF_NAMESIZE];
	const char *prog_name;
	bool created_hook;	/* the clsact qdisc is ours to remove */
	struct bpf_tc_hook hook;
};

struct cilium_dp {
	char netns[NAME_MAX + 1];
	struct cilium_bpf *skel;
	struct tc_attachment *att;
	int nr_att;
};

/* What RTM_GETLINK says about one device. */
struct link_facts {
	unsigned char mac[6];
	bool has_mac;
	int link_ifindex;	/* IFLA_LINK: a veth's peer */
	int link_netnsid;	/* IFLA_LINK_NETNSID: the peer's namespace, -1 if same */
};

/*
 * RTM_GETLINK for ifindex, in the caller's namespace or, with
 * target_nsid >= 0, in the namespace that id names (IFLA_TARGET_NETNSID,
 * kernel 4.20): how the host side learns its pod's MAC without entering
 * the pod's namespace.
 */
static int rtnl_get_link(int ifindex, int target_nsid, struct link_facts *lf)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[RTA_SPACE(sizeof(int))];
	} req;
	char buf[16384];
	struct nlmsghdr *nh;
	struct rtattr *rta;
	int fd, len, rta_len, err = -EIO;

	memset(&req, 0, sizeof(req));
	memset(lf, 0, sizeof(*lf));
	lf->link_netnsid = -1;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	if (target_nsid >= 0) {
		rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = IFLA_TARGET_NETNSID;
		rta->rta_len = RTA_LENGTH(sizeof(int));
		memcpy(RTA_DATA(rta), &target_nsid, sizeof(int));
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_SPACE(sizeof(int));
	}

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	len = recv(fd, buf, sizeof(buf), 0);
	if (len < 0) {
		err = -errno;
		goto out;
	}
	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned int)len); nh = NLMSG_NEXT(nh, len)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			err = e->error ? e->error : -EIO;
			goto out;
		}
		if (nh->nlmsg_type != RTM_NEWLINK)
			continue;
		rta_len = IFLA_PAYLOAD(nh);
		for (rta = IFLA_RTA(NLMSG_DATA(nh)); RTA_OK(rta, rta_len); rta = RTA_NEXT(rta, rta_len)) {
			if (rta->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(rta) == 6) {
				memcpy(lf->mac, RTA_DATA(rta), 6);
				lf->has_mac = true;
			} else if (rta->rta_type == IFLA_LINK) {
				memcpy(&lf->link_ifindex, RTA_DATA(rta), sizeof(int));
			} else if (rta->rta_type == IFLA_LINK_NETNSID) {
				memcpy(&lf->link_netnsid, RTA_DATA(rta), sizeof(int));
			}
		}
		err = 0;
		break;
	}
out:
	close(fd);
	return err;
}

static int attach_ingress(struct cilium_dp *dp, const char *ifname, int ifindex,
			  struct bpf_program *prog)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY,
			    .prog_fd = bpf_program__fd(prog));
	struct tc_attachment *grown, *a;
	int err;

	grown = realloc(dp->att, (dp->nr_att + 1) * sizeof(*dp->att));
	if (!grown)
		return -ENOMEM;
	dp->att = grown;
	a = &dp->att[dp->nr_att];
	memset(a, 0, sizeof(*a));
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->prog_name = bpf_program__name(prog);
	a->hook.sz = sizeof(a->hook);
	a->hook.ifindex = ifindex;
	a->hook.attach_point = BPF_TC_INGRESS;

	err = bpf_tc_hook_create(&a->hook);
	if (err && err != -EEXIST) {
		pr_warn("cilium: cannot add a clsact qdisc to %s in %s: %s", ifname, dp->netns,
			strerror(-err));
		return err;
	}
	a->created_hook = err == 0;
	err = bpf_tc_attach(&a->hook, &opts);
	if (err) {
		pr_warn("cilium: cannot attach %s to %s ingress in %s: %s", a->prog_name, ifname,
			dp->netns, strerror(-err));
		if (a->created_hook) {
			a->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&a->hook);
		}
		return err;
	}
	dp->nr_att++;
	return 0;
}

static void detach(struct tc_attachment *a)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);
	int err = bpf_tc_detach(&a->hook, &opts);

	/* A device already gone took its filters with it. */
	if (err && err != -ENOENT && err != -ENODEV)
		pr_warn("cilium: cannot detach %s from %s: %s", a->prog_name, a->ifname,
			strerror(-err));
	if (a->created_hook) {
		/* Both attach points: libbpf then deletes the clsact qdisc itself. */
		a->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&a->hook);
	}
}

int cilium_dp_open(struct cilium_dp **out, const char *node_netns, bool legacy_host_routing)
{
	struct cilium_dp *dp;
	int err;

	*out = NULL;
	if (!node_netns || !*node_netns || strlen(node_netns) > NAME_MAX)
		return -EINVAL;
	if (!netns_exists(node_netns)) {
		pr_warn("cilium: no network namespace %s", node_netns);
		return -ENOENT;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	snprintf(dp->netns, sizeof(dp->netns), "%s", node_netns);

	dp->skel = cilium_bpf__open();
	if (!dp->skel) {
		err = -errno;
		pr_warn("cilium: cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	dp->skel->rodata->legacy_host_routing = legacy_host_routing;
	err = cilium_bpf__load(dp->skel);
	if (err) {
		pr_warn("cilium: cannot load the tc programs: %s", strerror(-err));
		goto fail;
	}
	*out = dp;
	return 0;
fail:
	cilium_dp_close(dp);
	return err;
}

int cilium_dp_add_endpoint(struct cilium_dp *dp, const char *lxc_ifname, uint32_t pod_ip_be)
{
	struct cilium_endpoint ep;
	struct link_facts lxc, pod;
	__u32 ifindex;
	int saved, err;

	if (!dp || !lxc_ifname)
		return -EINVAL;
	saved = netns_enter(dp->netns);
	if (saved < 0) {
		pr_warn("cilium: cannot enter %s: %s", dp->netns, strerror(-saved));
		return saved;
	}
	ifindex = if_nametoindex(lxc_ifname);
	if (!ifindex) {
		err = -errno;
		pr_warn("cilium: no device %s in %s", lxc_ifname, dp->netns);
		goto leave;
	}
	err = rtnl_get_link(ifindex, -1, &lxc);
	if (!err && (!lxc.has_mac || !lxc.link_ifindex || lxc.link_netnsid < 0))
		err = -EINVAL;
	if (!err)
		err = rtnl_get_link(lxc.link_ifindex, lxc.link_netnsid, &pod);
	if (!err && !pod.has_mac)
		err = -EINVAL;
	if (err) {
		pr_warn("cilium: %s in %s is not a veth whose peer sits in a pod namespace (%s)",
			lxc_ifname, dp->netns, strerror(-err));
		goto leave;
	}

	memset(&ep, 0, sizeof(ep));
	ep.lxc_ifindex = ifindex;
	ep.pod_ip = pod_ip_be;
	memcpy(ep.lxc_mac, lxc.mac, 6);
	memcpy(ep.pod_mac, pod.mac, 6);
	err = bpf_map__update_elem(dp->skel->maps.endpoints, &ep.pod_ip, sizeof(ep.pod_ip), &ep,
				   sizeof(ep), BPF_NOEXIST);
	if (err) {
		pr_warn("cilium: cannot add endpoint %s: %s", lxc_ifname,
			err == -EEXIST ? "its address is already an endpoint" : strerror(-err));
		goto leave;
	}
	err = bpf_map__update_elem(dp->skel->maps.lxc_devices, &ifindex, sizeof(ifindex), &ep,
				   sizeof(ep), BPF_NOEXIST);
	if (err) {
		pr_warn("cilium: cannot add endpoint %s: %s", lxc_ifname,
			err == -EEXIST ? "already an endpoint" : strerror(-err));
		goto forget_ip;
	}
	err = attach_ingress(dp, lxc_ifname, ifindex, dp->skel->progs.cil_from_container);
	if (!err)
		goto leave;
	bpf_map__delete_elem(dp->skel->maps.lxc_devices, &ifindex, sizeof(ifindex), 0);
forget_ip:
	bpf_map__delete_elem(dp->skel->maps.endpoints, &ep.pod_ip, sizeof(ep.pod_ip), 0);
leave:
	netns_leave(saved);
	return err;
}

int cilium_dp_attach_netdev(struct cilium_dp *dp, const char *ifname)
{
	unsigned int ifindex;
	int saved, err;

	if (!dp || !ifname)
		return -EINVAL;
	saved = netns_enter(dp->netns);
	if (saved < 0) {
		pr_warn("cilium: cannot enter %s: %s", dp->netns, strerror(-saved));
		return saved;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		err = -errno;
		pr_warn("cilium: no device %s in %s", ifname, dp->netns);
	} else {
		err = attach_ingress(dp, ifname, ifindex, dp->skel->progs.cil_from_netdev);
	}
	netns_leave(saved);
	return err;
}

int cilium_dp_read_counters(struct cilium_dp *dp, struct cilium_dp_counters *c)
{
	uint64_t sums[CIL_NR_COUNTERS] = { 0 };
	int ncpus = libbpf_num_possible_cpus();
	__u64 *percpu;
	int err = 0;

	if (!dp || !c)
		return -EINVAL;
	if (ncpus < 0)
		return ncpus;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (__u32 key = 0; key < CIL_NR_COUNTERS; key++) {
		err = bpf_map__lookup_elem(dp->skel->maps.counters, &key, sizeof(key), percpu,
					   ncpus * sizeof(*percpu), 0);
		if (err)
			break;
		for (int cpu = 0; cpu < ncpus; cpu++)
			sums[key] += percpu[cpu];
	}
	free(percpu);
	if (err)
		return err;
	*c = (struct cilium_dp_counters){
		.from_container = sums[CIL_FROM_CONTAINER],
		.from_netdev = sums[CIL_FROM_NETDEV],
		.redirect_peer = sums[CIL_REDIRECT_PEER],
		.redirect_neigh = sums[CIL_REDIRECT_NEIGH],
		.redirect = sums[CIL_REDIRECT],
		.to_stack = sums[CIL_TO_STACK],
		.fib_miss = sums[CIL_FIB_MISS],
		.arp_reply = sums[CIL_ARP_REPLY],
	};
	return 0;
}

int cilium_dp_describe(struct cilium_dp *dp, void (*cb)(const char *dev, const char *dir,
							const char *prog, void *arg), void *arg)
{
	if (!dp || !cb)
		return -EINVAL;
	for (int i = 0; i < dp->nr_att; i++)
		cb(dp->att[i].ifname, "ingress", dp->att[i].prog_name, arg);
	return 0;
}

void cilium_dp_close(struct cilium_dp *dp)
{
	int saved;

	if (!dp)
		return;
	if (dp->nr_att) {
		/* A namespace already deleted took its devices and filters along. */
		saved = netns_enter(dp->netns);
		if (saved >= 0) {
			for (int i = dp->nr_att - 1; i >= 0; i--)
				detach(&dp->att[i]);
			netns_leave(saved);
		}
	}
	cilium_bpf__destroy(dp->skel);
	free(dp->att);
	free(dp);
}
