/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Many guests on one agent: does one guest's load hurt another's calls, and do guests get
 * fair shares? Each guest is a process of its own (this program re-run with --role), with
 * the shm transport plugin, on a real vaccel-agent started here.
 *
 *   isolation  this process's small calls (noop, sgemm 16^3), alone, then while 3 other
 *              guests run sgemm 1024^3 back to back (repetitions interleave the two)
 *   jain       8 guests flood noops for --flood-s seconds: Jain's index of requests served
 *   share      1 guest floods 20 ms ops and 3 flood 1 ms ops (4 threads each, exec of a
 *              spin function): the smallest share of worker time, from `vaccel-agent stat`
 *
 * Figures are medians over the repetitions.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vaccel.h>

#include "perf/common/bench.h"

#define MAX_REPS 15
#define die bench_die
#define SMALL_SGEMM 16
#define LOAD_SGEMM 1024
#define NEIGHBOURS 3
#define JAIN_GUESTS 8

struct files {
	char agent[4096], shm[4096], noop[4096], blas[4096], exec[4096], spin[4096];
	char plugins[12400], allow[4096];
};

/* ---- guest roles (child processes) ---- */

static struct vaccel_session g_sess;
static volatile int g_stop;
static double g_until;
static const char *g_spin_lib;
static int64_t g_spin_us;
static uint64_t g_count;
static pthread_mutex_t g_count_lock = PTHREAD_MUTEX_INITIALIZER;

static void _session(void)
{
	if (vaccel_session_init(&g_sess, VACCEL_PLUGIN_REMOTE))
		die("guest %d: no session with the agent", (int)getpid());
}

static int _sgemm(int n, float *a, float *b, float *c)
{
	return vaccel_sgemm(&g_sess, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
}

static void *_spin_thread(void *arg)
{
	uint64_t n = 0;

	(void)arg;
	while (bench_now_s() < g_until) {
		struct vaccel_arg rd[1] = {{.buf = &g_spin_us, .size = sizeof(g_spin_us)}};
		if (vaccel_exec(&g_sess, g_spin_lib, "mt_spin", rd, 1, NULL, 0))
			die("guest %d: exec of mt_spin failed", (int)getpid());
		n++;
	}
	pthread_mutex_lock(&g_count_lock);
	g_count += n;
	pthread_mutex_unlock(&g_count_lock);
	return NULL;
}

/* Waits for the parent's go (a byte on stdin). */
static void _wait_go(void)
{
	char c;
	printf("ready\n");
	fflush(stdout);
	if (read(0, &c, 1) != 1)
		exit(0);
}

/* Roles: "sgemm" (back to back until killed), "noop S", "spin US THREADS S LIB". After a
 * timed flood the count is printed and the guest stays connected until stdin closes, so
 * the parent can read the agent's view of it. */
static int role_main(int argc, char **argv)
{
	_session();
	if (!strcmp(argv[0], "sgemm")) {
		size_t nn = (size_t)LOAD_SGEMM * LOAD_SGEMM;
		float *a = calloc(nn, sizeof(float)), *b = calloc(nn, sizeof(float)), *c = calloc(nn, sizeof(float));
		if (!a || !b || !c)
			die("out of memory");
		for (int i = 0; !g_stop; i++) {
			if (_sgemm(LOAD_SGEMM, a, b, c))
				die("guest %d: sgemm failed", (int)getpid());
			if (i == 0) {
				printf("ready\n");
				fflush(stdout);
			}
		}
		return 0;
	}
	if (!strcmp(argv[0], "noop") && argc == 2) {
		double s = atof(argv[1]);
		_wait_go();
		g_until = bench_now_s() + s;
		while (bench_now_s() < g_until) {
			for (int i = 0; i < 64; i++)
				if (vaccel_noop(&g_sess))
					die("guest %d: noop failed", (int)getpid());
			g_count += 64;
		}
	} else if (!strcmp(argv[0], "spin") && argc == 5) {
		pthread_t t[16];
		int nt = atoi(argv[2]);
		g_spin_us = atoll(argv[1]);
		g_spin_lib = argv[4];
		if (nt < 1 || nt > 16)
			die("spin: 1 to 16 threads");
		_wait_go();
		g_until = bench_now_s() + atof(argv[3]);
		for (int i = 0; i < nt; i++)
			pthread_create(&t[i], NULL, _spin_thread, NULL);
		for (int i = 0; i < nt; i++)
			pthread_join(t[i], NULL);
	} else {
		die("unknown role '%s'", argv[0]);
	}
	printf("count %llu\n", (unsigned long long)g_count);
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0) {
	}
	vaccel_session_release(&g_sess);
	return 0;
}

/* ---- the parent ---- */

struct child {
	pid_t pid;
	FILE *out; /* its stdout */
	int in;    /* its stdin */
};

/* Back onto every CPU (after a part that pinned this process). */
static void _unpin(void)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_CONF);

	CPU_ZERO(&set);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET((int)i, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("cannot unpin: %s", strerror(errno));
}

/* child_start's guests run on this CPU when >= 0 (set around a part that wants it). */
static int g_child_cpu = -1;

static void child_start(struct child *ch, const char *const *role)
{
	int to[2], from[2];
	const char *argv[12] = {"/proc/self/exe", "--role"};
	int n = 2;

	for (; role[n - 2] && n < 11; n++)
		argv[n] = role[n - 2];
	argv[n] = NULL;
	/* CLOEXEC: a later guest must not hold an earlier one's stdin open (its EOF ends it). */
	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	ch->pid = fork();
	if (ch->pid < 0)
		die("fork: %s", strerror(errno));
	if (ch->pid == 0) {
		if (g_child_cpu >= 0 && bench_pin(g_child_cpu))
			_exit(126);
		dup2(to[0], 0);
		dup2(from[1], 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	ch->in = to[1];
	ch->out = fdopen(from[0], "r");
}

/* The next line of the child that starts with word; bench_die if it ends first. */
static void child_expect(struct child *ch, const char *word, char *line, size_t n)
{
	while (fgets(line, (int)n, ch->out))
		if (!strncmp(line, word, strlen(word)))
			return;
	die("a guest (pid %d) ended before saying '%s'", (int)ch->pid, word);
}

static void child_end(struct child *ch, int sig)
{
	if (sig)
		kill(ch->pid, sig);
	close(ch->in);
	fclose(ch->out);
	waitpid(ch->pid, NULL, 0);
}

static struct bench_agent g_ag = {.pid = -1};

static void stop_agent(void)
{
	bench_agent_stop(&g_ag);
}

static void start_agent(const struct files *f, const char *extra)
{
	const char *args[] = {"--plugins", f->plugins, "--exec-allow", f->allow, "--cpus", "0",
			      extra ? "--workers" : NULL, extra, NULL};
	int ret = bench_agent_start(&g_ag, "mt-load", f->agent, args);

	if (ret)
		die("the agent did not come up: %s (log: %s)", strerror(-ret), g_ag.log);
	setenv("VACCEL_SHM_SOCKET", g_ag.sock, 1);
}

/* p50 and p99 (us) of calls small calls: noop when sgemm is NULL, else sgemm 16^3. */
static void measure(uint64_t calls, uint64_t *s, float *m, double *p50, double *p99)
{
	for (uint64_t i = 0; i < calls; i++) {
		uint64_t t0 = bench_tsc();
		int ret = m ? _sgemm(SMALL_SGEMM, m, m + 256, m + 512) : vaccel_noop(&g_sess);
		s[i] = bench_tsc() - t0;
		if (ret)
			die("a small call failed: %d", ret);
	}
	bench_sort_u64(s, calls);
	*p50 = bench_pct_interp(s, calls, 50, bench_tsc_tick()) / bench_tsc_ghz() / 1000.0;
	*p99 = bench_pct_interp(s, calls, 99, bench_tsc_tick()) / bench_tsc_ghz() / 1000.0;
}

static double jain(const double *x, int n)
{
	double s = 0, s2 = 0;
	for (int i = 0; i < n; i++) {
		s += x[i];
		s2 += x[i] * x[i];
	}
	return s2 > 0 ? s * s / (n * s2) : 0;
}

/* `vaccel-agent stat` of the running agent, to read with fgets and pclose. */
static FILE *stat_open(const struct files *f)
{
	char cmd[4400];

	snprintf(cmd, sizeof(cmd), "%s stat --socket %s", f->agent, g_ag.sock);
	FILE *p = popen(cmd, "r");
	if (!p)
		die("cannot run %s", cmd);
	return p;
}

/* Worker-time shares (%) of the guests in `vaccel-agent stat`, in *share; their count. */
static int stat_shares(const struct files *f, double *share, int max)
{
	char line[512];
	int n = 0;
	FILE *p = stat_open(f);

	while (fgets(line, sizeof(line), p)) {
		char *s = strstr(line, "share_pct ");
		unsigned long long ops;
		char *o = strstr(line, " ops ");
		if (s && strstr(line, "    workers:") && o && sscanf(o, " ops %llu", &ops) == 1 && ops && n < max)
			share[n++] = atof(s + 10);
	}
	pclose(p);
	return n;
}

/* The ops the agent's workers have done, from `vaccel-agent stat`. */
static double stat_worker_ops(const struct files *f)
{
	char line[512];
	double ops = -1;
	FILE *p = stat_open(f);

	while (fgets(line, sizeof(line), p)) {
		char *o = strstr(line, " ops ");
		if (!strncmp(line, "workers ", 8) && o)
			ops = atof(o + 5);
	}
	pclose(p);
	if (ops < 0)
		die("`vaccel-agent stat` showed no worker line");
	return ops;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mt_load [--quick] [--json FILE] [--reps N] [--calls N] [--flood-s S]\n"
		"               [--workers N] [--only PARTS]\n"
		"Several guest processes on one vaccel-agent: a guest's small calls alone and beside\n"
		"3 guests running sgemm 1024 back to back (mt.alone_*, mt.neighbour_*); Jain's index\n"
		"of noops served to 8 flooding guests (mt.jain_8); the smallest share of worker time\n"
		"among 1 guest flooding 20 ms ops and 3 flooding 1 ms ops (mt.worker_share_min_pct).\n"
		"Build with -c opt; run on an otherwise idle machine.\n"
		"  --quick        small counts, 1 s floods, 1 repetition (smoke run)\n"
		"  --json FILE    write the mt.* keys\n"
		"  --reps N       repetitions (default 3)\n"
		"  --calls N      timed small calls per measurement (default 5000)\n"
		"  --flood-s S    length of each flood (default 5)\n"
		"  --workers N    the agent's --workers (default: the agent's own default)\n"
		"  --only PARTS   isolation, jain, share, comma-separated (default all)\n");
}

int main(int argc, char **argv)
{
	bench_set_prog("mt_load");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "--role"))
		return role_main(argc - 2, argv + 2);
	static const struct option opts[] = {
		{"quick", no_argument, 0, 'q'},        {"json", required_argument, 0, 'j'},
		{"reps", required_argument, 0, 'r'},   {"calls", required_argument, 0, 'n'},
		{"flood-s", required_argument, 0, 'f'}, {"workers", required_argument, 0, 'w'},
		{"only", required_argument, 0, 'o'},   {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	uint64_t reps = 3, calls = 5000, flood_s = 5;
	int o, quick = 0, reps_set = 0, calls_set = 0, flood_set = 0;
	const char *json = NULL, *only = "isolation,jain,share", *workers = NULL;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'q': quick = 1; break;
		case 'j': json = optarg; break;
		case 'r': reps = bench_parse_u64(optarg, "--reps"); reps_set = 1; break;
		case 'n': calls = bench_parse_u64(optarg, "--calls"); calls_set = 1; break;
		case 'f': flood_s = bench_parse_u64(optarg, "--flood-s"); flood_set = 1; break;
		case 'w': bench_parse_u64(optarg, "--workers"); workers = optarg; break;
		case 'o': only = optarg; break;
		case 'h': usage(stdout); return 0;
		default: bench_bad_option(argv[optind - 1]);
		}
	}
	bench_args_done(optind, argc, argv, reps, MAX_REPS);
	if (quick) {
		reps = reps_set ? reps : 1;
		calls = calls_set ? calls : 1000;
		flood_s = flood_set ? flood_s : 1;
	}
	if (calls < 100)
		die("--calls must be at least 100");
	for (const char *p = only; *p;) {
		size_t l = strcspn(p, ",");
		if (!(l == 9 && !strncmp(p, "isolation", 9)) && !(l == 4 && !strncmp(p, "jain", 4)) &&
		    !(l == 5 && !strncmp(p, "share", 5)))
			die("--only wants isolation, jain or share, comma-separated; got '%s'", only);
		p += l + (p[l] == ',');
	}

	static struct files f;
	if (bench_runfile("runtime/agent/vaccel-agent", f.agent, sizeof(f.agent)) ||
	    bench_runfile("backends/remote/libvaccel-shm.so", f.shm, sizeof(f.shm)) ||
	    bench_runfile("backends/noop/libvaccel-noop.so", f.noop, sizeof(f.noop)) ||
	    bench_runfile("backends/blas/libvaccel-blas.so", f.blas, sizeof(f.blas)) ||
	    bench_runfile("backends/exec/libvaccel-exec.so", f.exec, sizeof(f.exec)) ||
	    bench_runfile("perf/mt/libmt_spin.so", f.spin, sizeof(f.spin)))
		die("cannot find the agent, plugins and libmt_spin.so in the runfiles (run it with bazel run)");
	/* blas first: guest sessions bind to it; noop and exec are routed to their plugins. */
	snprintf(f.plugins, sizeof(f.plugins), "%s:%s:%s", f.blas, f.exec, f.noop);
	snprintf(f.allow, sizeof(f.allow), "%s", f.spin);
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	setenv("VACCEL_BLAS_THREADS", "1", 1);
	setenv("VACCEL_PLUGINS", f.shm, 1);
	vaccel_cleanup();
	if (vaccel_bootstrap())
		die("vAccel runtime did not start");
	alarm(quick ? 300 : 1800);
	bench_tsc_calibrate();
	atexit(stop_agent);

	struct bench_json *j = bench_json_new();
	bench_json_machine(j);
	bench_json_num(j, "mt.blas_threads", 1);
	double a50[MAX_REPS], a99[MAX_REPS], n50[MAX_REPS], n99[MAX_REPS];
	double as50[MAX_REPS], as99[MAX_REPS], ns50[MAX_REPS], ns99[MAX_REPS];
	double jn[MAX_REPS], share_min[MAX_REPS], nb[MAX_REPS], nops[MAX_REPS], nwin[MAX_REPS];
	char line[256];

	if (strstr(only, "isolation")) {
		uint64_t *s = malloc(sizeof(uint64_t) * calls);
		float *m = calloc(3 * 256, sizeof(float));
		start_agent(&f, workers);
		/* The two sides pinned: the agent's poller on CPU 0, every guest (this one and
		 * its neighbours) on CPU 1; the agent's workers go where the kernel puts them.
		 * After the agent started, which must not inherit this CPU. */
		if (bench_pin(1))
			die("cannot move to CPU 1");
		g_child_cpu = 1;
		_session();
		printf("isolation: %llu small calls alone, then beside %d guests running sgemm %d\n",
		       (unsigned long long)calls, NEIGHBOURS, LOAD_SGEMM);
		measure(calls / 10, s, NULL, &a50[0], &a99[0]); /* warm-up */
		for (uint64_t r = 0; r < reps; r++) {
			struct child ch[NEIGHBOURS];
			const char *role[] = {"sgemm", NULL};
			measure(calls, s, NULL, &a50[r], &a99[r]);
			measure(calls, s, m, &as50[r], &as99[r]);
			for (int i = 0; i < NEIGHBOURS; i++)
				child_start(&ch[i], role);
			for (int i = 0; i < NEIGHBOURS; i++)
				child_expect(&ch[i], "ready", line, sizeof(line));
			/* What the neighbours got done meanwhile: on two CPUs, both taken by
			 * polling (the poller for this guest's calls, this guest waiting for
			 * them), the workers have what the kernel leaves them. */
			double ops0 = stat_worker_ops(&f), w0 = bench_now_s();
			measure(calls, s, NULL, &n50[r], &n99[r]);
			measure(calls, s, m, &ns50[r], &ns99[r]);
			double w1 = bench_now_s(), ops1 = stat_worker_ops(&f);
			/* sgemm 1024 that ended between the two stat calls: at ~13 ms of CPU
			 * each, the CPU the neighbours got. */
			nops[r] = ops1 - ops0;
			nwin[r] = (w1 - w0) * 1e3;
			nb[r] = nops[r] / (w1 - w0);
			for (int i = 0; i < NEIGHBOURS; i++)
				child_end(&ch[i], SIGKILL);
			printf("  rep %llu: noop alone p50 %.1f p99 %.1f us, beside p50 %.1f p99 %.1f us; "
			       "sgemm %d alone p50 %.1f p99 %.1f us, beside p50 %.1f p99 %.1f us; "
			       "neighbours meanwhile (%.0f ms): %.0f sgemm %d done\n",
			       (unsigned long long)r, a50[r], a99[r], n50[r], n99[r], SMALL_SGEMM, as50[r],
			       as99[r], ns50[r], ns99[r], nwin[r], nops[r], LOAD_SGEMM);
		}
		vaccel_session_release(&g_sess);
		stop_agent();
		g_child_cpu = -1;
		_unpin();
		bench_json_num(j, "mt.alone_p50_us", bench_median(a50, reps));
		bench_json_num(j, "mt.alone_p99_us", bench_median(a99, reps));
		bench_json_num(j, "mt.neighbour_p50_us", bench_median(n50, reps));
		bench_json_num(j, "mt.neighbour_p99_us", bench_median(n99, reps));
		bench_json_num(j, "mt.alone_sgemm16_p50_us", bench_median(as50, reps));
		bench_json_num(j, "mt.alone_sgemm16_p99_us", bench_median(as99, reps));
		bench_json_num(j, "mt.neighbour_sgemm16_p50_us", bench_median(ns50, reps));
		bench_json_num(j, "mt.neighbour_sgemm16_p99_us", bench_median(ns99, reps));
		bench_json_num(j, "mt.neighbour_sgemm_per_s", bench_median(nb, reps));
		free(s);
		free(m);
	}
	if (strstr(only, "jain")) {
		char secs[32];
		snprintf(secs, sizeof(secs), "%llu", (unsigned long long)flood_s);
		printf("jain: %d guests flooding noops for %s s\n", JAIN_GUESTS, secs);
		for (uint64_t r = 0; r < reps; r++) {
			struct child ch[JAIN_GUESTS];
			const char *role[] = {"noop", secs, NULL};
			double x[JAIN_GUESTS];
			start_agent(&f, workers);
			/* 8 guests on this machine's few CPUs: a guest spinning for its completion
			 * takes the CPU the others need; they sleep instead (mt.jain_guest_spin_us).
			 * The two sides pinned: the agent's poller on CPU 0, the guests on CPU 1,
			 * where the kernel shares that CPU out evenly between them. Unpinned, the
			 * count a guest gets follows where the kernel happened to put it (beside
			 * the poller or not), which is not the agent's doing: Jain 0.83-0.93. */
			setenv("VACCEL_SHM_SPIN_US", "0", 1);
			g_child_cpu = 1;
			for (int i = 0; i < JAIN_GUESTS; i++)
				child_start(&ch[i], role);
			g_child_cpu = -1;
			unsetenv("VACCEL_SHM_SPIN_US");
			for (int i = 0; i < JAIN_GUESTS; i++)
				child_expect(&ch[i], "ready", line, sizeof(line));
			for (int i = 0; i < JAIN_GUESTS; i++)
				if (write(ch[i].in, "g", 1) != 1)
					die("a guest went away");
			for (int i = 0; i < JAIN_GUESTS; i++) {
				child_expect(&ch[i], "count", line, sizeof(line));
				x[i] = atof(line + 6);
			}
			for (int i = 0; i < JAIN_GUESTS; i++)
				child_end(&ch[i], 0);
			stop_agent();
			jn[r] = jain(x, JAIN_GUESTS);
			printf("  rep %llu: Jain %.4f (noops per guest:", (unsigned long long)r, jn[r]);
			for (int i = 0; i < JAIN_GUESTS; i++)
				printf(" %.0f", x[i]);
			printf(")\n");
		}
		bench_json_num(j, "mt.jain_8", bench_median(jn, reps));
		bench_json_num(j, "mt.jain_guest_spin_us", 0);
	}
	if (strstr(only, "share")) {
		char secs[32];
		snprintf(secs, sizeof(secs), "%llu", (unsigned long long)flood_s);
		printf("share: 1 guest flooding 20 ms ops, 3 flooding 1 ms ops (4 threads each), %s s\n", secs);
		for (uint64_t r = 0; r < reps; r++) {
			struct child ch[4];
			double sh[8];
			start_agent(&f, workers);
			for (int i = 0; i < 4; i++) {
				const char *role[] = {"spin", i == 0 ? "20000" : "1000", "4", secs, f.spin, NULL};
				child_start(&ch[i], role);
			}
			for (int i = 0; i < 4; i++)
				child_expect(&ch[i], "ready", line, sizeof(line));
			for (int i = 0; i < 4; i++)
				if (write(ch[i].in, "g", 1) != 1)
					die("a guest went away");
			for (int i = 0; i < 4; i++)
				child_expect(&ch[i], "count", line, sizeof(line));
			int n = stat_shares(&f, sh, 8);
			for (int i = 0; i < 4; i++)
				child_end(&ch[i], 0);
			stop_agent();
			if (n != 4)
				die("`vaccel-agent stat` showed %d guests with worker ops, not 4", n);
			share_min[r] = bench_min(sh, 4);
			printf("  rep %llu: worker time shares %.1f%%, %.1f%%, %.1f%%, %.1f%% (as `vaccel-agent "
			       "stat` lists the guests)\n",
			       (unsigned long long)r, sh[0], sh[1], sh[2], sh[3]);
		}
		bench_json_num(j, "mt.worker_share_min_pct", bench_median(share_min, reps));
	}
	if (json && bench_json_write(j, json))
		die("cannot write %s", json);
	bench_json_free(j);
	return 0;
}
