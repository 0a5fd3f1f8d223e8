/*
 * One pod's Istio sidecar: the nat rules (istio_rules.c) and the proxy
 * (`netprof proxy`, proxy.c) started from this very binary inside the pod
 * namespace, as uid/gid 1337, the way istio-init and istio-proxy share a pod.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "lib/exec.h"
#include "datapath/istio_rules.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "datapath/sidecar.h"
#include "lib/teardown.h"

#define SIDECAR_READY_TIMEOUT_MS 5000
#define SIDECAR_STOP_GRACE_MS 2000
#define STATS_FILE "stats.json"

struct sidecar {
	char netns[NAME_MAX + 1];
	char dir[PATH_MAX];		/* the proxy's stats directory, owned by 1337 */
	char stats_path[PATH_MAX + 16];
	pid_t pid;			/* 0 once reaped */
	int teardown;			/* teardown handle, -1 when none */
	bool halted;
	bool have_final;
	struct sidecar_stats final;
};

/* Why the child could not exec the proxy, sent over a close-on-exec pipe:
 * the pipe reads EOF when exec succeeded. */
struct child_failure {
	int step;
	int err;
};
enum { STEP_CGROUP = 1, STEP_NETNS, STEP_EXEC };

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int json_u64(const char *text, const char *key, uint64_t *out)
{
	char needle[64];
	const char *p;
	char *end;

	snprintf(needle, sizeof(needle), "\"%s\":", key);
	p = strstr(text, needle);
	if (!p)
		return -ENOENT;
	p += strlen(needle);
	while (*p == ' ')
		p++;
	errno = 0;
	*out = strtoull(p, &end, 10);
	return end == p || errno ? -EINVAL : 0;
}

static int read_stats_file(const char *path, struct sidecar_stats *st)
{
	const struct { const char *key; uint64_t *field; } fields[] = {
		{ "outbound_conns", &st->outbound_conns },
		{ "inbound_conns", &st->inbound_conns },
		{ "bytes_to_upstream", &st->bytes_to_upstream },
		{ "bytes_to_downstream", &st->bytes_to_downstream },
		{ "upstream_connect_errors", &st->upstream_connect_errors },
		{ "active_conns", &st->active_conns },
		{ "resets", &st->resets },
		{ "no_original_dst", &st->no_original_dst },
	};
	char text[4096];
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	text[n] = '\0';
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((err = json_u64(text, fields[i].key, fields[i].field)) < 0)
			return -EBADMSG;
	return 0;
}

static void remove_stats_dir(struct sidecar *s)
{
	char tmp[PATH_MAX + 32];

	if (!s->dir[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->stats_path);
	unlink(tmp);
	unlink(s->stats_path);
	if (rmdir(s->dir) < 0 && errno != ENOENT)
		pr_warn("sidecar: cannot remove %s: %s", s->dir, strerror(errno));
	s->dir[0] = '\0';
}

/* Reaps the proxy if it has exited: true then. */
static bool reap(struct sidecar *s, int *status, int options)
{
	pid_t r;

	if (!s->pid)
		return true;
	do
		r = waitpid(s->pid, status, options);
	while (r < 0 && errno == EINTR);
	if (r == s->pid || (r < 0 && errno == ECHILD)) {
		s->pid = 0;
		return true;
	}
	return false;
}

static void keep_final_stats(struct sidecar *s)
{
	if (s->dir[0] && read_stats_file(s->stats_path, &s->final) == 0)
		s->have_final = true;
}

void sidecar_halt(struct sidecar *s)
{
	long long deadline;
	int status;

	if (!s || s->halted)
		return;
	if (s->pid) {
		kill(s->pid, SIGTERM);
		deadline = now_ms() + SIDECAR_STOP_GRACE_MS;
		while (!reap(s, &status, WNOHANG) && now_ms() < deadline)
			sleep_ms(5);
		if (s->pid) {
			pr_warn("sidecar: proxy %d in %s ignored SIGTERM for %d ms; killing it",
				(int)s->pid, s->netns, SIDECAR_STOP_GRACE_MS);
			kill(s->pid, SIGKILL);
			reap(s, &status, 0);
		}
	}
	/* The proxy writes its counters once more as it exits. */
	keep_final_stats(s);
	remove_stats_dir(s);
	s->halted = true;
}

static void sidecar_teardown(void *arg)
{
	struct sidecar *s = arg;

	s->teardown = -1;
	sidecar_halt(s);
}

void sidecar_stop(struct sidecar *s)
{
	if (!s)
		return;
	if (s->teardown >= 0)
		teardown_cancel(s->teardown);
	sidecar_halt(s);
	free(s);
}

pid_t sidecar_pid(const struct sidecar *s)
{
	return s ? s->pid : 0;
}

int sidecar_read_stats(struct sidecar *s, struct sidecar_stats *st)
{
	int status, err;

	if (s->halted) {
		if (!s->have_final)
			return -ENODATA;
		*st = s->final;
		return 0;
	}
	if (reap(s, &status, WNOHANG)) {
		pr_warn("sidecar: the proxy in %s exited on its own (%s %d)", s->netns,
			WIFSIGNALED(status) ? "signal" : "status",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		sidecar_halt(s);
		if (s->have_final)
			*st = s->final;
		return -ECHILD;
	}
	err = read_stats_file(s->stats_path, st);
	if (err < 0)
		pr_warn("sidecar: cannot read %s: %s", s->stats_path, strerror(-err));
	return err;
}

static void child_fail(int fd, int step, int err)
{
	struct child_failure f = { step, err };

	if (write(fd, &f, sizeof(f)) < 0) {
		/* nothing left to tell it with */
	}
	_exit(126);
}

/* In the forked child: only async-signal-safe-ish work until exec. */
static void child_exec(const struct sidecar *s, const char *cgroup_path, pid_t parent,
		       int status_fd)
{
	char uid[16], gid[16];
	const char *argv[16];
	sigset_t none;
	int devnull, argc = 0;

	/* Its own process group: a terminal's ^C reaches netprof, whose
	 * teardown stops the proxy in order. PDEATHSIG covers a netprof
	 * that dies without tearing down (the proxy re-arms it after it
	 * changes uid, which clears it). */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Into the run's cgroup before the proxy opens any socket: a socket
	 * belongs to the cgroup its creator was in. */
	if (cgroup_path) {
		int err = cgroup_add_pid(cgroup_path, getpid());

		if (err < 0)
			child_fail(status_fd, STEP_CGROUP, -err);
	}
	{
		int err = netns_switch(s->netns);

		if (err < 0)
			child_fail(status_fd, STEP_NETNS, -err);
	}
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	snprintf(uid, sizeof(uid), "%d", SIDECAR_UID);
	snprintf(gid, sizeof(gid), "%d", SIDECAR_UID);
	argv[argc++] = "netprof";
	if (log_level >= LOG_DEBUG)
		argv[argc++] = "-v";
	argv[argc++] = "proxy";
	argv[argc++] = "--stats";
	argv[argc++] = s->stats_path;
	argv[argc++] = "--uid";
	argv[argc++] = uid;
	argv[argc++] = "--gid";
	argv[argc++] = gid;
	argv[argc] = NULL;
	execv("/proc/self/exe", (char *const *)argv);
	child_fail(status_fd, STEP_EXEC, errno);
}

static int wait_listening(struct sidecar *s)
{
	long long deadline = now_ms() + SIDECAR_READY_TIMEOUT_MS;
	int status;

	while (now_ms() < deadline) {
		if (access(s->stats_path, F_OK) == 0)
			return 0;
		if (reap(s, &status, WNOHANG)) {
			pr_warn("sidecar: the proxy in %s exited (%s %d) before listening",
				s->netns, WIFSIGNALED(status) ? "signal" : "status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			return -ECHILD;
		}
		if (stop_requested())
			return -EINTR;
		sleep_ms(5);
	}
	pr_warn("sidecar: the proxy in %s did not listen within %d ms", s->netns,
		SIDECAR_READY_TIMEOUT_MS);
	return -ETIMEDOUT;
}

int sidecar_start(struct sidecar **out, const char *pod_netns, const char *cgroup_path,
		  const char *iptables_backend)
{
	static const char *const step_names[] = { "", "joining the cgroup", "entering the namespace",
						  "executing /proc/self/exe" };
	struct istio_rules_opts rules;
	struct child_failure failure;
	struct sidecar *s;
	int pipefd[2], err, rc;
	pid_t parent = getpid();
	ssize_t n;
	char line[256], msg[512];

	*out = NULL;
	if (!istio_rules_restore_binary(iptables_backend)) {
		pr_warn("sidecar: unknown iptables backend '%s' (use legacy or nft)",
			iptables_backend ? iptables_backend : "(none)");
		return -EINVAL;
	}
	if (!pod_netns || strlen(pod_netns) > NAME_MAX || !netns_exists(pod_netns)) {
		pr_warn("sidecar: no network namespace '%s'", pod_netns ? pod_netns : "(none)");
		return -ENOENT;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->teardown = -1;
	snprintf(s->netns, sizeof(s->netns), "%s", pod_netns);

	rc = RUN(pod_netns, msg, sizeof(msg), "ip", "link", "set", "lo", "up");
	if (rc != 0) {
		pr_warn("sidecar: cannot bring lo up in %s: %s", pod_netns,
			rc < 0 ? strerror(-rc) : first_line(msg, line, sizeof(line)));
		err = rc < 0 ? rc : -EIO;
		goto fail;
	}
	istio_rules_defaults(&rules);
	if ((err = istio_rules_load(pod_netns, iptables_backend, &rules)) < 0)
		goto fail;

	/* The proxy runs as 1337 and replaces its stats file with rename(),
	 * so it needs a directory of its own that it can write. */
	snprintf(s->dir, sizeof(s->dir), "/tmp/netprof-sidecar-XXXXXX");
	if (!mkdtemp(s->dir)) {
		err = -errno;
		s->dir[0] = '\0';
		pr_warn("sidecar: cannot create a stats directory in /tmp: %s", strerror(-err));
		goto fail;
	}
	snprintf(s->stats_path, sizeof(s->stats_path), "%s/%s", s->dir, STATS_FILE);
	if (chown(s->dir, SIDECAR_UID, SIDECAR_UID) < 0 || chmod(s->dir, 0755) < 0) {
		err = -errno;
		pr_warn("sidecar: cannot hand %s to uid %d: %s", s->dir, SIDECAR_UID,
			strerror(-err));
		goto fail;
	}

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		err = -errno;
		goto fail;
	}
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0) {
		err = -errno;
		s->pid = 0;
		close(pipefd[0]);
		close(pipefd[1]);
		pr_warn("sidecar: fork: %s", strerror(-err));
		goto fail;
	}
	if (s->pid == 0) {
		close(pipefd[0]);
		child_exec(s, cgroup_path, parent, pipefd[1]);
	}
	close(pipefd[1]);
	s->teardown = teardown_register(sidecar_teardown, s);
	do
		n = read(pipefd[0], &failure, sizeof(failure));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == sizeof(failure)) {
		err = -failure.err;
		pr_warn("sidecar: starting the proxy in %s failed %s%s%s: %s", pod_netns,
			step_names[failure.step],
			failure.step == STEP_CGROUP ? " " : "",
			failure.step == STEP_CGROUP ? cgroup_path : "", strerror(failure.err));
		goto fail;
	}
	if (s->teardown < 0) {
		pr_warn("sidecar: the teardown table is full");
		err = -ENOSPC;
		goto fail;
	}
	if ((err = wait_listening(s)) < 0)
		goto fail;
	pr_debug("sidecar: proxy %d listening in %s", (int)s->pid, pod_netns);
	*out = s;
	return 0;
fail:
	sidecar_stop(s);
	return err;
}
