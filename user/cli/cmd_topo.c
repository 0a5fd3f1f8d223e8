/*
 * netprof topo up|show|down: build, list and remove an emulated datapath.
 *
 * `up` is a setup command: the topology outlives it. Its BPF programs,
 * socket-LB and proxies need an owner, so `up` builds in a child that stays
 * in the background as the topology's keeper (it answers SIGUSR1 with a
 * counters file and removes everything on SIGTERM); the foreground process
 * waits until the build is done, prints it, and returns. A signal during
 * the build is passed on to the builder, which removes what it made.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/output.h"
#include "lib/teardown.h"
#include "topo/topo.h"
#include "topo/topo_options.h"

static void help(void)
{
	printf("Usage: netprof topo up --cni NAME [options]\n"
	       "       netprof topo show [--run ID] [--json]\n"
	       "       netprof topo down [--run ID]\n"
	       "\n"
	       "Builds, shows or removes an emulated Kubernetes datapath: two node network\n"
	       "namespaces joined by a veth \"wire\", a client pod and a server pod, every\n"
	       "address in 198.18.0.0/15, every name netprof-<run>-*, nothing linked to the\n"
	       "root namespace. 'up' leaves the topology in place (a background keeper holds\n"
	       "its BPF programs and proxies) until 'netprof topo down'.\n"
	       "\n"
	       "Datapaths (--cni):\n"
	       "  host           the two nodes talk directly (node-to-node baseline)\n"
	       "  calico         cali* veths, proxy ARP, Calico's iptables ruleset\n"
	       "  cilium         lxc* veths, tc BPF host-routing (redirect_neigh / redirect_peer)\n"
	       "  cilium-legacy  lxc* veths, BPF hands packets to the host stack and netfilter\n"
	       "  macvlan        bridge-mode macvlan children of the node uplink in the pods\n"
	       "  sidecar        calico plus Istio's nat rules and a user-space proxy per pod\n"
	       "  bridge         veth* ports on a bridge cni0 per node, routed between nodes\n"
	       "  terway-eni     an ENI moved into each pod as its eth0: no veth, no host hop\n"
	       "  terway         cali* veths, pod IPs on the node's ENI eth1, policy routing\n"
	       "  vpc-cni        eni* veths, pod IPs secondary on the node's ENI, policy routing\n"
	       "  kata           calico pods in kata VMs: tc mirred to tap0_kata, a VMM relay\n"
	       "\n"
	       "Options of 'up':\n"
	       "%s"
	       "  --json                  output as JSON\n"
	       "\n"
	       "Processes that should use socket-LB must run in the run's cgroup (topo show\n"
	       "prints it): echo $$ > <cgroup>/cgroup.procs.\n"
	       "\n"
	       "Examples:\n"
	       "  sudo netprof topo up --cni calico --pods 100 --policies 3\n"
	       "  sudo netprof topo show --run calico\n"
	       "  sudo ip netns exec netprof-calico-pod-a ping -c1 198.18.2.2\n"
	       "  sudo netprof topo down --run calico\n"
	       "  sudo netprof topo up --cni cilium --target service --run c1 --json\n"
	       "  sudo netprof topo up --cni macvlan --subnets 2\n", topo_options_help);
}

static const struct option topo_longopts[] = { TOPO_LONGOPTS, {} };

/* The topology options, and which of them were given: show and down take
 * only --run. */
struct topo_args {
	struct topo_opts o;
	bool cni_given, run_given;
	const char *up_opt;	/* the last option given that only up takes */
};

static int topo_option(const char *command, int opt, const char *arg, void *base)
{
	struct topo_args *a = base;
	int rc = topo_parse_option(command, opt, arg, &a->o);

	if (rc <= 0)
		return rc;
	for (const struct option *lo = topo_longopts; lo->name && opt != TOPO_OPT_RUN; lo++)
		if (lo->val == opt)
			a->up_opt = lo->name;
	a->cni_given |= opt == TOPO_OPT_CNI;
	a->run_given |= opt == TOPO_OPT_RUN;
	return 1;
}

/* ---- the keeper ---- */

static volatile sig_atomic_t counters_wanted;

static void on_usr1(int sig)
{
	(void)sig;
	counters_wanted = 1;
}

static void keep(struct topo *t)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t block, old;

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!stop_requested()) {
		if (counters_wanted) {
			counters_wanted = 0;
			topo_write_counters(t);
			continue;
		}
		sigsuspend(&old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * The child: build, report readiness on `ready_fd`, keep, tear down. Its
 * stderr is a pipe the foreground relays until the build is done, and its
 * stdout /dev/null: what it starts (the proxies) inherits both, and must
 * not hold the caller's stdout open (`out=$(netprof topo up ...)` would
 * never end).
 */
static void builder(const struct topo_opts *opts, int ready_fd, int err_fd)
{
	static struct topo t;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int err;

	setsid();	/* a terminal's ^C reaches the foreground, which forwards it */
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
	}
	dup2(err_fd, STDERR_FILENO);
	close(err_fd);
	err = topo_up(opts, &t);
	if (!err) {
		t.keeper = getpid();
		err = topo_join_cgroup(&t);
		if (err)
			pr_warn("cannot join the run's cgroup %s: %s", t.cgroup, strerror(-err));
	}
	if (!err) {
		err = topo_save_state(&t);
		if (err)
			pr_warn("cannot write the state file under %s: %s", TOPO_STATE_DIR,
				strerror(-err));
	}
	if (err) {
		char no = 'E';

		if (write(ready_fd, &no, 1) < 0)
			pr_debug("the foreground process is gone");
		exit(1);	/* atexit: teardown_all() removes what was built */
	}
	detach_stdio();
	if (write(ready_fd, "K", 1) != 1)
		stop_signal = SIGTERM;	/* nobody waits for us: undo */
	close(ready_fd);
	keep(&t);
	teardown_all();
	exit(0);
}

/* Copies what the builder wrote to stderr: 1 data, 0 EOF, -1 nothing yet. */
static int relay(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0)
		return write(STDERR_FILENO, buf, n) == n ? 1 : 1;	/* a closed stderr: drop it */
	return n == 0 ? 0 : -1;
}

static int topo_cmd_up(const struct topo_opts *opts)
{
	struct topo t;
	int pipefd[2], errpipe[2], status = 0, err;
	bool forwarded = false, err_open = true;
	char ready = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(errpipe, O_CLOEXEC) < 0) {
		pr_warn("pipe: %s", strerror(errno));
		return 1;
	}
	fflush(NULL);
	if (stop_requested())
		return 1;
	pid = fork();
	if (pid < 0) {
		pr_warn("fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		close(errpipe[0]);
		builder(opts, pipefd[1], errpipe[1]);
	}
	close(pipefd[1]);
	close(errpipe[1]);
	fcntl(errpipe[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = pipefd[0], .events = POLLIN },
					 { .fd = err_open ? errpipe[0] : -1, .events = POLLIN } };

		if (stop_requested() && !forwarded) {
			kill(pid, SIGTERM);	/* the builder undoes its work */
			forwarded = true;
		}
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents)
			err_open = relay(errpipe[0]) != 0;
		if (pfd[0].revents) {
			if (read(pipefd[0], &ready, 1) < 0 && errno == EINTR)
				continue;
			break;
		}
	}
	/* A failed builder tears down, then exits: relay its last words. */
	while (ready != 'K') {
		struct pollfd pfd = { .fd = err_open ? errpipe[0] : -1, .events = POLLIN };
		pid_t w;

		if (poll(&pfd, 1, 100) > 0)
			err_open = relay(errpipe[0]) != 0;
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
	}
	while (err_open && relay(errpipe[0]) > 0)
		;
	close(pipefd[0]);
	close(errpipe[0]);
	if (ready != 'K') {
		pr_warn("topo up: nothing was left in place");
		return 1;
	}
	err = topo_load(opts->run, &t);
	if (err) {
		pr_warn("topo up: built '%s' but cannot read it back: %s", opts->run, strerror(-err));
		return 1;
	}
	out_init(opt_json);
	topo_show(&t);
	out_text("\nTopology '%s' is up (keeper pid %d). Remove it with: netprof topo down --run %s\n",
		 opts->run, (int)pid, opts->run);
	out_finish();
	return 0;
}

static int topo_cmd_show_down(bool down, const char *run)
{
	struct topo t;
	int err = topo_load(run, &t);

	if (err == -ENOENT) {
		if (run)
			usage_error("topo: no topology named '%s' (ip netns | grep netprof-%s-)", run, run);
		else
			usage_error("topo: no topology is up (netprof topo up --cni NAME)");
		return EXIT_USAGE;
	}
	if (err == -EEXIST)
		return EXIT_USAGE;
	if (err) {
		pr_warn("topo: cannot read topology: %s", strerror(-err));
		return 1;
	}
	if (down) {
		err = topo_down(&t);
		if (err) {
			pr_warn("topo down: some objects of '%s' could not be removed: %s",
				t.opts.run, strerror(-err));
			return 1;
		}
		pr_info("topology '%s' removed", t.opts.run);
		return 0;
	}
	out_init(opt_json);
	topo_show(&t);
	out_finish();
	return 0;
}

int cmd_topo(int argc, char **argv)
{
	const char *verb = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
	struct topo_args a = {};
	const struct cli_group groups[] = {
		{ .longopts = topo_longopts, .parse = topo_option, .base = &a },
		{}
	};
	const struct cli_spec spec = { "topo", help, groups, .no_operands = false };
	struct topo_opts *o = &a.o;
	char node1[TOPO_NS_MAX + 16];
	enum cli_result rc;

	topo_opts_defaults(o);
	if (verb) {
		argv[1] = argv[0];	/* let getopt start after the verb */
		argc--;
		argv++;
	}
	rc = cli_parse(&spec, argc, argv);
	if (rc != CLI_PARSED)
		return cli_exit_code(rc);
	if (!verb) {
		usage_error("topo: say up, show or down (see 'netprof topo -h')");
		return EXIT_USAGE;
	}
	if (!cli_no_args("topo", argc, argv))
		return EXIT_USAGE;
	if (!strcmp(verb, "up")) {
		if (!a.cni_given) {
			usage_error("topo up: --cni is required (one of: %s)", topo_cni_list());
			return EXIT_USAGE;
		}
		if (!a.run_given)
			snprintf(o->run, sizeof(o->run), "%s", topo_cni_name(o->cni));
		if (topo_opts_check(o))
			return EXIT_USAGE;
		snprintf(node1, sizeof(node1), "netprof-%s-node1", o->run);
		if (netns_exists(node1)) {
			usage_error("topo up: a topology named '%s' is up already: pick another --run, "
				    "or 'netprof topo down --run %s'", o->run, o->run);
			return EXIT_USAGE;
		}
		if (!cli_require_caps())
			return 1;
		return topo_cmd_up(o);
	}
	if (strcmp(verb, "show") && strcmp(verb, "down")) {
		usage_error("topo: unknown action '%s': use up, show or down", verb);
		return EXIT_USAGE;
	}
	if (a.up_opt) {
		usage_error("topo %s: option '--%s' only applies to 'topo up'", verb, a.up_opt);
		return EXIT_USAGE;
	}
	if (!cli_require_caps())
		return 1;
	return topo_cmd_show_down(!strcmp(verb, "down"), a.run_given ? o->run : NULL);
}
