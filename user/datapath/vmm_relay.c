/*
 * The relay of vmm_relay.h: a child process with one thread that polls
 * both tap descriptors and copies each frame read from one into the other,
 * as vhost-net's worker moves frames between a tap and the guest's
 * virtqueues (without virtio's rings and offload headers: every frame is
 * an MTU-sized Ethernet frame, the taps having no GSO). The counters live
 * in a shared anonymous mapping the parent reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#include "lib/cgroup.h"
#include "lib/cpulist.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "datapath/vmm_relay.h"

struct vmm_relay {
	pid_t pid;
	struct vmm_relay_counts *shared;
};

/* Attaches to the persistent tap `name` of namespace ns. */
static int open_tap(const char *ns, const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int saved = netns_enter(ns), fd, err = 0;

	if (saved < 0)
		return saved;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
		err = -errno;
	netns_leave(saved);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

static void count(uint64_t *frames, uint64_t *bytes, ssize_t n)
{
	__atomic_fetch_add(frames, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(bytes, (uint64_t)n, __ATOMIC_RELAXED);
}

static void __attribute__((noreturn)) relay_loop(int host_fd, int guest_fd,
						 struct vmm_relay_counts *c)
{
	static unsigned char frame[65536];
	struct pollfd p[2] = { { .fd = host_fd, .events = POLLIN },
			       { .fd = guest_fd, .events = POLLIN } };

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!(p[i].revents & POLLIN))
				continue;
			n = read(p[i].fd, frame, sizeof(frame));
			if (n <= 0)
				continue;
			/* A full tap queue drops, as a full virtqueue would. */
			if (write(p[!i].fd, frame, (size_t)n) != n) {
				__atomic_fetch_add(&c->write_errors, 1, __ATOMIC_RELAXED);
				continue;
			}
			if (i == 0)
				count(&c->frames_to_guest, &c->bytes_to_guest, n);
			else
				count(&c->frames_from_guest, &c->bytes_from_guest, n);
		}
	}
}

int vmm_relay_start(struct vmm_relay **out, const char *host_ns, const char *host_tap,
		    const char *guest_ns, const char *guest_tap, const char *cgroup,
		    const char *cpus)
{
	struct vmm_relay *r;
	int host_fd, guest_fd, err;
	cpu_set_t set;

	*out = NULL;
	if (cpulist_parse(cpus, &set)) {
		pr_warn("vmm relay: '%s' is not a CPU list", cpus);
		return -EINVAL;
	}
	host_fd = open_tap(host_ns, host_tap);
	if (host_fd < 0) {
		pr_warn("vmm relay: cannot attach to %s in %s: %s", host_tap, host_ns,
			strerror(-host_fd));
		return host_fd;
	}
	guest_fd = open_tap(guest_ns, guest_tap);
	if (guest_fd < 0) {
		pr_warn("vmm relay: cannot attach to %s in %s: %s", guest_tap, guest_ns,
			strerror(-guest_fd));
		close(host_fd);
		return guest_fd;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto fail;
	}
	r->shared = mmap(NULL, sizeof(*r->shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r->shared == MAP_FAILED) {
		err = -errno;
		pr_warn("vmm relay: cannot map its counters: %s", strerror(-err));
		goto fail;
	}
	fflush(NULL);
	r->pid = fork();
	if (r->pid < 0) {
		err = -errno;
		pr_warn("vmm relay: cannot fork: %s", strerror(-err));
		goto fail;
	}
	if (r->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		relay_loop(host_fd, guest_fd, r->shared);
	}
	close(host_fd);
	close(guest_fd);
	host_fd = guest_fd = -1;
	if ((err = cgroup_add_pid(cgroup, r->pid)) || (err = cpulist_pin_process(r->pid, &set))) {
		pr_warn("vmm relay: cannot place it in %s on CPUs %s: %s", cgroup, cpus,
			strerror(-err));
		vmm_relay_stop(r);
		return err;
	}
	*out = r;
	return 0;
fail:
	if (r && r->shared && r->shared != MAP_FAILED)
		munmap(r->shared, sizeof(*r->shared));
	free(r);
	close(host_fd);
	close(guest_fd);
	return err;
}

pid_t vmm_relay_pid(const struct vmm_relay *r)
{
	return r ? r->pid : 0;
}

void vmm_relay_read(const struct vmm_relay *r, struct vmm_relay_counts *c)
{
	memset(c, 0, sizeof(*c));
	if (!r)
		return;
	c->frames_to_guest = __atomic_load_n(&r->shared->frames_to_guest, __ATOMIC_RELAXED);
	c->bytes_to_guest = __atomic_load_n(&r->shared->bytes_to_guest, __ATOMIC_RELAXED);
	c->frames_from_guest = __atomic_load_n(&r->shared->frames_from_guest, __ATOMIC_RELAXED);
	c->bytes_from_guest = __atomic_load_n(&r->shared->bytes_from_guest, __ATOMIC_RELAXED);
	c->write_errors = __atomic_load_n(&r->shared->write_errors, __ATOMIC_RELAXED);
}

void vmm_relay_stop(struct vmm_relay *r)
{
	if (!r)
		return;
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	munmap(r->shared, sizeof(*r->shared));
	free(r);
}
