/*
 * A kata pod's guest boundary: a process standing for the VMM's
 * virtio/vhost-net path, which moves every frame between the sandbox's
 * tap (tap0_kata, the host side) and the guest's NIC (a tap in the guest
 * namespace), one user-space copy per frame and direction, on its own
 * thread and CPUs.
 */
#ifndef NETPROF_VMM_RELAY_H
#define NETPROF_VMM_RELAY_H

#include <stdint.h>
#include <sys/types.h>

struct vmm_relay;

struct vmm_relay_counts {
	uint64_t frames_to_guest, bytes_to_guest;
	uint64_t frames_from_guest, bytes_from_guest;
	uint64_t write_errors;	/* frames the other tap refused (its queue full) */
};

/*
 * Forks the relay between persistent taps host_tap in host_ns and guest_tap
 * in guest_ns (both IFF_TAP | IFF_NO_PI), moves it into cgroup and onto
 * cpus (a kernel CPU list). It dies with the calling process. 0 or -errno
 * after one pr_warn line.
 */
int vmm_relay_start(struct vmm_relay **out, const char *host_ns, const char *host_tap,
		    const char *guest_ns, const char *guest_tap, const char *cgroup,
		    const char *cpus);
pid_t vmm_relay_pid(const struct vmm_relay *r);
void vmm_relay_read(const struct vmm_relay *r, struct vmm_relay_counts *c);
/* Ends the relay and waits for it; NULL is fine. */
void vmm_relay_stop(struct vmm_relay *r);

#endif
