#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/exec.h"
#include "lib/netns.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void child_exec(const char *netns, int in_fd, int out_fd, const char *const argv[])
{
	int devnull = open("/dev/null", O_RDWR);

	if (netns && netns_switch(netns) < 0)
		_exit(126);
	dup2(in_fd >= 0 ? in_fd : devnull, STDIN_FILENO);
	dup2(out_fd >= 0 ? out_fd : devnull, STDOUT_FILENO);
	dup2(out_fd >= 0 ? out_fd : devnull, STDERR_FILENO);
	/* Run in the parent's process group: a terminal's ^C reaches both,
	 * and the parent's teardown still runs. */
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

int run_cmd_full(const char *netns, const char *input, char *out, size_t outlen,
		 int timeout_ms, const char *const argv[])
{
	int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 };
	size_t used = 0, in_len = input ? strlen(input) : 0, in_off = 0;
	long long deadline = now_ms() + timeout_ms;
	int status = 0, err;
	bool killed = false;
	pid_t pid;

	if (out && outlen)
		out[0] = '\0';
	if ((input && pipe2(in_pipe, O_CLOEXEC) < 0) || pipe2(out_pipe, O_CLOEXEC) < 0) {
		err = -errno;
		goto close_pipes;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto close_pipes;
	}
	if (pid == 0)
		child_exec(netns, in_pipe[0], out_pipe[1], argv);

	close(out_pipe[1]);
	out_pipe[1] = -1;
	if (input) {
		close(in_pipe[0]);
		in_pipe[0] = -1;
		fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	}
	/* Feed stdin and drain stdout together so that neither pipe can fill
	 * up and deadlock a large iptables-restore. */
	for (;;) {
		struct pollfd pfd[2] = { { .fd = out_pipe[0], .events = POLLIN },
					 { .fd = in_pipe[1], .events = POLLOUT } };
		int nfds = in_pipe[1] >= 0 ? 2 : 1;
		long long left = deadline - now_ms();
		char chunk[4096];
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (poll(pfd, nfds, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (nfds == 2 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(in_pipe[1], input + in_off, in_len - in_off);
			if (n > 0)
				in_off += n;
			if (n < 0 && errno != EAGAIN) {
				close(in_pipe[1]);
				in_pipe[1] = -1;
			} else if (in_off == in_len) {
				close(in_pipe[1]);
				in_pipe[1] = -1;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(out_pipe[0], chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (out && used + 1 < outlen) {
				size_t take = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;

				memcpy(out + used, chunk, take);
				used += take;
				out[used] = '\0';
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (killed)
		err = 128 + SIGKILL;
	else if (WIFEXITED(status))
		err = WEXITSTATUS(status);
	else
		err = 128 + WTERMSIG(status);

close_pipes:
	for (int i = 0; i < 2; i++) {
		if (in_pipe[i] >= 0)
			close(in_pipe[i]);
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
	}
	return err;
}

const char *first_line(const char *text, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return buf;
	while (text && text[n] && text[n] != '\n' && n + 1 < len) {
		buf[n] = text[n];
		n++;
	}
	buf[n] = '\0';
	return buf;
}
