/*
 * Named network namespaces, compatible with `ip netns` (/run/netns/NAME):
 * finding and entering them. Creating them is netns_admin.h's, which runs
 * ip through exec.h; exec's child enters its namespace with netns_switch().
 */
#ifndef NETPROF_NETNS_H
#define NETPROF_NETNS_H

#include <stdbool.h>
#include <stdint.h>

#define NETNS_RUN_DIR "/run/netns"

bool netns_exists(const char *name);
/* Moves the calling thread into NAME for good (used in forked children). */
int netns_switch(const char *name);
/*
 * Moves the calling thread into NAME and returns a descriptor of the
 * namespace it was in, for netns_leave(); -errno on failure.
 */
int netns_enter(const char *name);
int netns_leave(int saved_fd);

/* IP packets sent from a namespace so far (its Ip OutRequests), or -1. */
int64_t netns_ip_out_packets(const char *name);

#endif
