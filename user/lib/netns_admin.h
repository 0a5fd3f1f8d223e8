/*
 * Creating and removing named network namespaces, through iproute2 (as
 * `ip netns add/delete`). Above exec.h, which runs ip, while netns.h's
 * low-level helpers stay below it: exec's child enters a namespace with them.
 */
#ifndef NETPROF_NETNS_ADMIN_H
#define NETPROF_NETNS_ADMIN_H

int netns_create(const char *name);
/* 0 also when there is no such namespace. */
int netns_delete(const char *name);

#endif
