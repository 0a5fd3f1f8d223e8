#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/teardown.h"

#define TEARDOWN_MAX 256

struct teardown_entry {
	teardown_fn fn;
	void *arg;
};

static struct teardown_entry entries[TEARDOWN_MAX];
static int nr_entries;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	/* A second ^C while tearing down is ignored so teardown can finish. */
	stop_signal = sig;
}

void teardown_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	/* No SA_RESTART: blocking calls return EINTR so loops notice the stop. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(teardown_all);
}

int teardown_register(teardown_fn fn, void *arg)
{
	int handle = -1;

	pthread_mutex_lock(&lock);
	if (nr_entries < TEARDOWN_MAX) {
		handle = nr_entries++;
		entries[handle] = (struct teardown_entry){ fn, arg };
	}
	pthread_mutex_unlock(&lock);
	return handle;
}

void teardown_cancel(int handle)
{
	pthread_mutex_lock(&lock);
	if (handle >= 0 && handle < nr_entries)
		entries[handle].fn = NULL;
	pthread_mutex_unlock(&lock);
}

void teardown_run_one(int handle)
{
	struct teardown_entry e = { 0 };

	pthread_mutex_lock(&lock);
	if (handle >= 0 && handle < nr_entries) {
		e = entries[handle];
		entries[handle].fn = NULL;
	}
	pthread_mutex_unlock(&lock);
	if (e.fn)
		e.fn(e.arg);
}

void teardown_all(void)
{
	for (;;) {
		struct teardown_entry e = { 0 };

		pthread_mutex_lock(&lock);
		while (nr_entries > 0 && !e.fn)
			e = entries[--nr_entries];
		pthread_mutex_unlock(&lock);
		if (!e.fn)
			break;
		e.fn(e.arg);
	}
}

void teardown_forget(void)
{
	pthread_mutex_lock(&lock);
	nr_entries = 0;
	pthread_mutex_unlock(&lock);
}
