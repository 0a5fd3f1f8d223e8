/*
 * One profiled run of one datapath (see run.h). The order matters:
 * the topology first, then this process joins the run's cgroup (so sock_ops
 * and the context-switch count see exactly the load generator), then the
 * server, then the probes, then the workloads. run_datapath undoes it all in
 * the reverse order before it returns, on every path; each step is also in
 * teardown.h's registry until then, for an exit() on the way.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/output.h"
#include "lib/teardown.h"
#include "profile/folded.h"
#include "run/run.h"
#include "run/run_report.h"
#include "trace/trace_options.h"

void run_config_defaults(struct run_config *c)
{
	memset(c, 0, sizeof(*c));
	topo_opts_defaults(&c->topo);
	c->topo.cni = TOPO_CNI_CILIUM;
	c->trace = true;
	c->profile = true;
	c->profile_freq = 999;
	trace_hop_defaults(&c->tracer);
	trace_func_defaults(&c->funcs);
	c->overhead_rounds = 3;
	/* The first command a user types shows latency, throughput and hops. */
	loadgen_opts_default(&c->workloads[0], LG_PINGPONG);
	c->workloads[0].duration_ns = 5000000000ULL;
	loadgen_opts_default(&c->workloads[1], LG_STREAM);
	c->workloads[1].duration_ns = 5000000000ULL;
	c->nr_workloads = 2;
}

/* A step to undo: its teardown.h handle, and the function should it have none. */
struct run_undo {
	int handle;
	teardown_fn fn;
};

struct run_state {
	struct run_undo undo[8];	/* six steps at most: topology to function timer */
	int nr_undo;
	struct profiler *prof;
	struct categories *cats;
	struct hops_snapshot *snaps[RUN_MAX_WORKLOADS];
	struct topo *topo;
	bool topo_built;
	char old_cgroup[PATH_MAX];
	bool joined_cgroup;
	pid_t server_pid;
	struct hops_tracer *tracer;	/* attached in an explain phase only */
	struct func_timer *ftimer;
	bool tracer_undo, ftimer_undo;	/* their undo steps are registered */
	struct func_snapshot *fsnaps[RUN_MAX_WORKLOADS];
	const char *netns[TOPO_MAX_DEVS + 4];
	int nr_netns;
	char wire_names[4][TOPO_NS_MAX + 20];
	const char *wire[4];
	int nr_wire;
};

/* fn(s) is due when run_datapath returns, or at exit() should that come first. */
static void undo_later(struct run_state *s, teardown_fn fn)
{
	s->undo[s->nr_undo++] = (struct run_undo){ teardown_register(fn, s), fn };
}

/* Newest first, and out of the registry: s lives on run_datapath's stack. */
static void undo_all(struct run_state *s)
{
	while (s->nr_undo > 0) {
		struct run_undo *u = &s->undo[--s->nr_undo];

		if (u->handle >= 0)
			teardown_run_one(u->handle);
		else
			u->fn(s);
	}
}

static void teardown_topo(void *arg)
{
	struct run_state *s = arg;

	if (s->topo_built) {
		pr_info("removing the %s topology", topo_cni_name(s->topo->opts.cni));
		topo_down(s->topo);
		s->topo_built = false;
	}
}

static void leave_cgroup(void *arg)
{
	struct run_state *s = arg;

	/* Back where we came from, or topo_down would kill us with the cgroup. */
	if (s->joined_cgroup && cgroup_add_pid(s->old_cgroup, getpid()) == 0)
		s->joined_cgroup = false;
}

static void stop_server(void *arg)
{
	struct run_state *s = arg;
	int status;

	if (s->server_pid <= 0)
		return;
	kill(s->server_pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(s->server_pid, &status, WNOHANG) == s->server_pid) {
			s->server_pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(s->server_pid, SIGKILL);
	waitpid(s->server_pid, &status, 0);
	s->server_pid = 0;
}

/*
 * The load generator's server runs in a process of its own, inside the
 * server pod and the run's cgroup, so that each side's CPU figures are its
 * own (as two machines would have them). Returns once it listens.
 */
static int start_server(struct run_state *s, const struct loadgen_server_opts *so)
{
	int ready[2];
	char c = 0;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	s->server_pid = fork();
	if (s->server_pid < 0)
		return -errno;
	if (s->server_pid == 0) {
		struct loadgen_server *srv;

		teardown_forget();
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		close(ready[0]);
		srv = loadgen_server_start(so);
		c = srv ? 'K' : 'E';
		if (write(ready[1], &c, 1) != 1 || !srv)
			_exit(1);
		while (!stop_requested() && getppid() != 1)
			usleep(100000);
		loadgen_server_stop(srv);
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		c = 0;
	close(ready[0]);
	undo_later(s, stop_server);
	return c == 'K' ? 0 : -EIO;
}

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int run_results_dir_check(const char *cmd, const char *dir)
{
	if (mkdir_p(dir) == 0 && access(dir, W_OK) == 0)
		return 0;
	usage_error("%s: --results %s: %s (name a directory netprof can create and write)", cmd,
		    dir, strerror(errno));
	return -1;
}

static void free_categories(void *arg)
{
	struct run_state *s = arg;

	profiler_close(s->prof);
	s->prof = NULL;
	categories_free(s->cats);
	s->cats = NULL;
}

/* The workload's stacks to results/<run>/stacks-<n>-<workload>.folded, and its categories. */
static void save_profile(const struct run_config *c, struct run_state *s,
			 struct run_workload_result *w, int index)
{
	struct folded_profile stacks;
	FILE *f = NULL;
	int err;

	if (c->results_dir[0] && mkdir_p(c->results_dir) == 0)
		snprintf(w->folded, sizeof(w->folded), "%s/stacks-%d-%s.folded", c->results_dir,
			 index + 1, lg_workload_name(w->lg.workload));
	if (w->folded[0] && !(f = fopen(w->folded, "w"))) {
		pr_warn("cannot write %s: %s", w->folded, strerror(errno));
		return;
	}
	folded_profile_init(&stacks, 0);
	err = profiler_collect(s->prof, &stacks, &w->prof);
	if (!err && f && (folded_write_profile(f, &stacks) || fflush(f)))
		err = -EIO;
	if (!err)
		w->have_profile = categories_tally_profile(s->cats, &stacks, &w->cats) == 0;
	folded_profile_free(&stacks);
	if (f)
		fclose(f);
}

static void close_tracer(void *arg)
{
	struct run_state *s = arg;

	hops_close(s->tracer);
	s->tracer = NULL;
}

static void close_func_timer(void *arg)
{
	struct run_state *s = arg;

	func_timer_close(s->ftimer);
	s->ftimer = NULL;
}

/* Function timing on the topology's namespaces (NULL: out of memory). */
static struct func_timer *open_func_timer(const struct run_config *c, const struct run_state *s)
{
	struct func_timer_opts fo = c->funcs;

	fo.netns = s->netns;
	fo.nr_netns = s->nr_netns;
	return func_timer_open(&fo);
}

/* IP packets the client and server pods have sent so far, or -1. */
static int64_t endpoint_packets(const struct run_state *s)
{
	int64_t c = netns_ip_out_packets(s->topo->client.netns);
	int64_t v = netns_ip_out_packets(s->topo->server.netns);

	return c < 0 || v < 0 ? -1 : c + v;
}

/* Every namespace of the topology, once. */
static void collect_namespaces(struct run_state *s)
{
	const struct topo *t = s->topo;
	const char *candidates[4] = { t->nodes[0], t->nodes[1], t->gateway, NULL };

	s->nr_netns = 0;
	for (unsigned i = 0; i < t->nr_devs + 3; i++) {
		const char *ns = i < 3 ? candidates[i] : t->devs[i - 3].netns;
		bool seen = false;

		if (!ns || !ns[0])
			continue;
		for (int j = 0; j < s->nr_netns; j++)
			seen |= !strcmp(s->netns[j], ns);
		if (!seen && s->nr_netns < (int)(sizeof(s->netns) / sizeof(s->netns[0])))
			s->netns[s->nr_netns++] = ns;
	}
	s->nr_wire = 0;
	for (unsigned i = 0; i < t->nr_devs && s->nr_wire < 4; i++) {
		if (t->devs[i].role != TOPO_ROLE_WIRE)
			continue;
		snprintf(s->wire_names[s->nr_wire], sizeof(s->wire_names[0]), "%s/%s",
			 t->devs[i].netns, t->devs[i].name);
		s->wire[s->nr_wire] = s->wire_names[s->nr_wire];
		s->nr_wire++;
	}
}

/* The tracer's target: the topology's namespaces, wire, cgroup and ports. */
static struct hops_target tracer_target(const struct run_config *c, const struct run_state *s)
{
	struct hops_target t = c->tracer;

	t.netns = s->netns;
	t.nr_netns = s->nr_netns;
	t.wire = s->wire;
	t.nr_wire = s->nr_wire;
	t.cgroup_path = s->joined_cgroup ? s->topo->cgroup : NULL;
	t.server_port = s->topo->server_port;
	t.service_port = s->topo->vip_port;
	/* The load generator's two processes are the run's tasks, and count
	 * their own switches; a sidecar's proxies are processes of their own,
	 * which only the cgroup's scheduler tracepoints see. */
	t.switches_given = s->topo->opts.cni != TOPO_CNI_SIDECAR;
	return t;
}


static double mean_of(const double *v, int n)
{
	double sum = 0;

	for (int i = 0; i < n; i++)
		sum += v[i];
	return n ? sum / n : NAN;
}

/* The client options of one workload, aimed at this topology. */
static void aim(const struct run_state *s, const struct loadgen_opts *tmpl, struct loadgen_opts *o)
{
	const struct topo *t = s->topo;

	*o = *tmpl;
	/* Control straight to the server pod; data to what the client dials:
	 * the pod, or the ClusterIP in front of it. */
	snprintf(o->server, sizeof(o->server), "%s", t->server.ip_str);
	snprintf(o->data_addr, sizeof(o->data_addr), "%s", t->dst_str);
	o->data_port = t->dst_port;
	snprintf(o->netns, sizeof(o->netns), "%s", t->client.netns);
	snprintf(o->cpus, sizeof(o->cpus), "%s", t->client.cpus);
	o->progress = isatty(STDERR_FILENO);
}

/*
 * The probes' calibration window: the workload runs briefly with the tracer
 * just attached, its programs counted and clocked by the kernel; then the
 * clocking and the calibration slot come off and the aggregates start anew,
 * so what follows is traced as cheaply as the probes allow.
 */
static int drive(const struct run_state *s, const struct loadgen_opts *o, const char *phase,
		 struct loadgen_result *lg, double *ip_packets);

static void calibrate_tracer(const struct run_state *s, const struct loadgen_opts *workload)
{
	struct loadgen_opts o = *workload;
	struct loadgen_result lr;
	double packets;

	o.duration_ns = RUN_CALIBRATION_NS;
	if (o.warmup_ns > RUN_CALIBRATION_WARMUP_NS)
		o.warmup_ns = RUN_CALIBRATION_WARMUP_NS;
	drive(s, &o, "explain: pricing the probes", &lr, &packets);
	loadgen_result_free(&lr);
	hops_calibrate_end(s->tracer);
}

/* --overhead: alternate untraced and traced runs of one workload. */
static int measure_overhead(struct run_state *s, const struct run_config *c,
			    const struct loadgen_opts *o, struct run_workload_result *w)
{
	double gbps[2][16] = {}, tps[2][16] = {};
	int rounds = c->overhead_rounds > 16 ? 16 : c->overhead_rounds;

	for (int r = 0; r < rounds && !stop_requested(); r++) {
		for (int traced = 0; traced < 2; traced++) {
			struct loadgen_result lr;
			int err;

			if (traced) {
				struct hops_target t = tracer_target(c, s);

				if (hops_open(&s->tracer, &t))
					return -1;
				calibrate_tracer(s, o);
				/* Function timing is part of what a run attaches. */
				if (c->funcs.mode != FUNC_PROBE_OFF)
					s->ftimer = open_func_timer(c, s);
			}
			pr_info("overhead round %d/%d: %s %s", r + 1, rounds,
				lg_workload_name(o->workload), traced ? "with probes" : "without probes");
			err = loadgen_client_run(o, &lr);
			if (traced) {
				hops_close(s->tracer);
				s->tracer = NULL;
				func_timer_close(s->ftimer);
				s->ftimer = NULL;
			}
			gbps[traced][r] = lr.gbps;
			tps[traced][r] = lr.tps;
			loadgen_result_free(&lr);
			if (err)
				return -1;
		}
	}
	w->rounds = rounds;
	w->untraced_gbps = mean_of(gbps[0], rounds);
	w->traced_gbps = mean_of(gbps[1], rounds);
	w->untraced_tps = mean_of(tps[0], rounds);
	w->traced_tps = mean_of(tps[1], rounds);
	return 0;
}

/* The report as text or JSON, in memory (NULL, and a warning: out of memory). */
static char *render_report(const struct run_report *r, bool json, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f) {
		pr_warn("cannot render the report: %s", strerror(errno));
		return NULL;
	}
	out_to(f, json);
	run_report_print(r);
	out_finish();
	fclose(f);
	return text;
}

/*
 * The report on stdout, and as report.txt and report.json in the results:
 * each format rendered once, so stdout and its file hold the same bytes.
 */
static void write_reports(const struct run_config *c, const struct run_report *r)
{
	bool save = c->results_dir[0], shown = !c->quiet;
	char *text[2] = {}, path[PATH_MAX];
	size_t len[2] = {};
	FILE *f;

	for (int json = 0; json < 2; json++)
		if (save || (shown && json == c->json))
			text[json] = render_report(r, json, &len[json]);
	out_init(c->json);
	if (shown && text[c->json]) {
		fwrite(text[c->json], 1, len[c->json], stdout);
		fflush(stdout);
	}
	if (save && mkdir_p(c->results_dir) < 0) {
		pr_warn("cannot create %s: %s", c->results_dir, strerror(errno));
		save = false;
	}
	for (int json = 0; save && json < 2; json++) {
		snprintf(path, sizeof(path), "%s/report.%s", c->results_dir, json ? "json" : "txt");
		f = fopen(path, "w");
		if (!f) {
			pr_warn("cannot write %s: %s", path, strerror(errno));
			continue;
		}
		if (text[json])
			fwrite(text[json], 1, len[json], f);
		fclose(f);
	}
	if (save)
		pr_info("report written to %s/report.txt and report.json", c->results_dir);
	free(text[0]);
	free(text[1]);
}

/* How long a profile or explain phase runs: its option, else a few seconds,
 * never longer than the measure phase. */
static uint64_t phase_ns(uint64_t option_ns, const struct loadgen_opts *measure)
{
	if (option_ns)
		return option_ns;
	return measure->duration_ns < RUN_PHASE_NS ? measure->duration_ns : RUN_PHASE_NS;
}

/* One run of the load generator; the packets the endpoints sent meanwhile. */
static int drive(const struct run_state *s, const struct loadgen_opts *o, const char *phase,
		 struct loadgen_result *lg, double *ip_packets)
{
	int64_t before = endpoint_packets(s), after;
	int err;

	pr_info("%s: %s for %.1f s (+%.1f s warm-up)", phase, lg_workload_name(o->workload),
		o->duration_ns / 1e9, o->warmup_ns / 1e9);
	err = loadgen_client_run(o, lg);
	after = endpoint_packets(s);
	*ip_packets = before >= 0 && after >= before ? after - before : 0;
	if (err)
		pr_warn("%s did not complete (%s phase): %s", lg_workload_name(o->workload), phase,
			lg->error);
	return err;
}

/* The stack sampler alone: nothing else of netprof's is attached meanwhile. */
static int profile_phase(const struct run_config *c, struct run_state *s,
			 const struct loadgen_opts *measure, struct run_workload_result *w, int i)
{
	struct profiler_opts po = { .cgroup_path = s->joined_cgroup ? s->topo->cgroup : NULL,
				    .freq = c->profile_freq };
	struct loadgen_opts o = *measure;
	int err;

	o.duration_ns = phase_ns(c->profile_ns, measure);
	if (profiler_open(&s->prof, &po)) {
		pr_warn("stack sampling unavailable: no CPU profile for %s",
			lg_workload_name(o.workload));
		return 0;
	}
	err = drive(s, &o, "profile", &w->profile_phase.lg, &w->profile_phase.ip_packets);
	w->profile_phase.ran = true;
	save_profile(c, s, w, i);
	profiler_close(s->prof);
	s->prof = NULL;
	return err;
}

/* The hop tracer and function timing, attached for this phase only. */
static int explain_phase(const struct run_config *c, struct run_state *s,
			 const struct loadgen_opts *measure, struct run_workload_result *w, int i)
{
	struct loadgen_opts o = *measure;
	struct run_phase *e = &w->explain_phase;
	int err;

	o.duration_ns = phase_ns(c->explain_ns, measure);
	if (c->trace) {
		struct hops_target t = tracer_target(c, s);

		pr_info("attaching probes to %d namespaces", s->nr_netns);
		if (hops_open(&s->tracer, &t))
			return -1;
		if (!s->tracer_undo) {
			undo_later(s, close_tracer);
			s->tracer_undo = true;
		}
	}
	if (c->funcs.mode != FUNC_PROBE_OFF) {
		pr_info("attaching function probes");
		s->ftimer = open_func_timer(c, s);
		if (!s->ftimer)
			return -1;
		if (!s->ftimer_undo) {
			undo_later(s, close_func_timer);
			s->ftimer_undo = true;
		}
	}
	if (s->tracer)
		calibrate_tracer(s, &o);
	err = drive(s, &o, "explain", &e->lg, &e->ip_packets);
	e->ran = true;
	/* Even when off: the snapshot says why. */
	if (s->ftimer) {
		s->fsnaps[i] = func_timer_snapshot(s->ftimer);
		func_timer_summarize(s->fsnaps[i], e->ip_packets, s->cats, &w->funcs);
	}
	if (s->tracer) {
		s->snaps[i] = hops_snapshot(s->tracer);
		if (s->snaps[i]) {
			const struct cpu_usage *cc = &e->lg.client.cpu, *sc = &e->lg.server.cpu;

			hops_snapshot_set_switches(s->snaps[i],
						   cc->proc_voluntary_switches + sc->proc_voluntary_switches,
						   cc->proc_involuntary_switches +
						   sc->proc_involuntary_switches);
			hops_summarize(s->snaps[i], &w->hops);
			w->have_hops = true;
		}
	}
	/* Detached before the next workload measures, or profiles. */
	close_tracer(s);
	close_func_timer(s);
	return err;
}

/*
 * The workloads, one after the other, each in its phases: measured with no
 * probe attached, then profiled with the sampler alone, then explained with
 * the tracers.
 */
static int run_workloads(const struct run_config *c, struct run_state *s, struct run_result *res)
{
	for (int i = 0; i < c->nr_workloads && !stop_requested(); i++) {
		struct run_workload_result *w = &res->w[i];
		struct loadgen_opts o;
		int err;

		aim(s, &c->workloads[i], &o);
		res->nr_workloads = i + 1;
		if (c->overhead) {
			/* A/B only: the probes come and go between rounds. */
			w->lg.workload = o.workload;
			if (measure_overhead(s, c, &o, w)) {
				res->partial = true;
				break;
			}
			continue;
		}
		err = drive(s, &o, "measure", &w->lg, &w->ip_packets);
		if (!err && c->profile && s->cats && !stop_requested())
			err = profile_phase(c, s, &o, w, i);
		if (!err && (c->trace || c->funcs.mode != FUNC_PROBE_OFF) && !stop_requested()) {
			err = explain_phase(c, s, &o, w, i);
			if (err < 0 && !w->explain_phase.ran)
				return -1;
		}
		if (err) {
			res->partial = true;
			break;
		}
	}
	return 0;
}

static void print_reports(const struct run_config *c, const struct run_state *s,
			  const struct run_result *res)
{
	struct run_report r = { .config = c, .result = res, .cats = s->cats };

	for (int i = 0; i < RUN_MAX_WORKLOADS; i++) {
		r.hops[i] = s->snaps[i];
		r.funcs[i] = s->fsnaps[i];
	}
	write_reports(c, &r);
}

int run_datapath(const struct run_config *c, struct run_result *res)
{
	struct loadgen_server_opts so = { .port = LOADGEN_DEFAULT_PORT };
	struct run_state s = { .topo = &res->topo };
	int err, rc = 1;

	memset(res, 0, sizeof(*res));
	if (topo_opts_check(&c->topo))
		return EXIT_USAGE;

	pr_info("building the %s datapath (%s, to a %s)", topo_cni_name(c->topo.cni),
		c->topo.same_node ? "same node" : "across nodes",
		c->topo.target_service ? "ClusterIP" : "pod");
	err = topo_up(&c->topo, s.topo);
	if (err) {
		if (err != -EINTR)
			pr_warn("cannot build the %s datapath: %s", topo_cni_name(c->topo.cni),
				strerror(-err));
		return 1;
	}
	s.topo_built = true;
	undo_later(&s, teardown_topo);
	collect_namespaces(&s);

	if (cgroup_of_self(s.old_cgroup, sizeof(s.old_cgroup)) == 0 &&
	    cgroup_add_pid(s.topo->cgroup, getpid()) == 0) {
		s.joined_cgroup = true;
		undo_later(&s, leave_cgroup);
	} else {
		pr_warn("cannot join the run's cgroup %s: no sock_ops or context-switch figures",
			s.topo->cgroup);
	}

	snprintf(so.netns, sizeof(so.netns), "%s", s.topo->server.netns);
	snprintf(so.cpus, sizeof(so.cpus), "%s", s.topo->server.cpus);
	so.data_port = s.topo->server_port;
	/* The profile and the function timings both sort into categories. */
	if (c->profile || c->funcs.mode != FUNC_PROBE_OFF) {
		s.cats = categories_load(c->categories[0] ? c->categories : NULL);
		if (!s.cats) {
			rc = c->categories[0] ? EXIT_USAGE : 1;
			goto out;
		}
		for (int k = 0; k < categories_count(s.cats) && k < CAT_MAX; k++)
			snprintf(res->cat_names[k], sizeof(res->cat_names[k]), "%s",
				 categories_name(s.cats, k));
		undo_later(&s, free_categories);
	}
	if (start_server(&s, &so)) {
		pr_warn("cannot start the load generator's server in %s", so.netns);
		goto out;
	}
	if (run_workloads(c, &s, res))
		goto out;
	print_reports(c, &s, res);
	rc = res->partial ? 1 : 0;
out:
	for (int i = 0; i < RUN_MAX_WORKLOADS; i++) {
		hops_snapshot_free(s.snaps[i]);
		func_snapshot_free(s.fsnaps[i]);
	}
	undo_all(&s);
	return rc;
}

void run_result_free(struct run_result *res)
{
	for (int i = 0; i < res->nr_workloads; i++) {
		loadgen_result_free(&res->w[i].lg);
		loadgen_result_free(&res->w[i].profile_phase.lg);
		loadgen_result_free(&res->w[i].explain_phase.lg);
	}
	res->nr_workloads = 0;
}
