/*
 * Everything netprof creates is registered here when it is created and
 * removed, newest first, on every exit path: normal return, error, exit(),
 * SIGINT and SIGTERM (the signal sets a flag that long loops poll; the main
 * thread then unwinds and tears down). `netprof cleanup` covers SIGKILL.
 */
#ifndef NETPROF_TEARDOWN_H
#define NETPROF_TEARDOWN_H

#include <signal.h>
#include <stdbool.h>

typedef void (*teardown_fn)(void *arg);

void teardown_init(void);
/* Returns a handle for teardown_cancel(), or -1 when the table is full. */
int teardown_register(teardown_fn fn, void *arg);
/* Runs and forgets one entry now (the owner removed its object early). */
void teardown_run_one(int handle);
void teardown_cancel(int handle);
void teardown_all(void);
/* In a forked child: forget the parent's entries, they are not the child's to run. */
void teardown_forget(void);

extern volatile sig_atomic_t stop_signal;
static inline bool stop_requested(void) { return stop_signal != 0; }

#endif
