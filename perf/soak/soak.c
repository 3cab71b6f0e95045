/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Soak: a real vaccel-agent (noop, blas and exec plugins) under several guest processes
 * with several threads each, for a fixed time, checking that every request gets exactly one
 * completion with the right result and that the agent's memory stays flat.
 *
 * Each guest thread mixes, at random: synchronous vaccel_noop, vaccel_exec of mytestfunc
 * (doubles an int), vaccel_sgemm of a random size (small integers, so the reference computed
 * here must match exactly), and batches of asynchronous noops whose user_data must each come
 * back exactly once. Counters and latency histograms live in memory shared with this
 * parent, so a guest that hangs or dies still leaves its figures (a call still in flight at
 * the end counts as lost).
 *
 *   lost  a call that returned an error, or never returned (a completion that never came)
 *   dup   a wrong result, or an asynchronous completion that came twice or was never asked for
 *
 * The agent's RSS (VmRSS, which includes the regions' touched pages) is read after a
 * warm-up, when every region and OpenBLAS buffer is in use, and again at the end while the
 * guests are still connected. Exit 1 if anything was lost or duplicated, or the end RSS is
 * more than 10% above the start.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vaccel.h>

#include "perf/common/bench.h"

#define MAX_GUESTS 16
#define MAX_THREADS 8
#define CALL_TIMEOUT_S 10.0 /* a call in flight this long at the end is lost */
#define MAX_DIM 64          /* sgemm sides are 1 .. MAX_DIM */
#define BATCH_MAX 32        /* asynchronous noops per batch */

/* Latency histogram over nanoseconds: exact below 64, then 32 steps per power of two. */
#define H_SUB 32
#define H_BUCKETS (64 + 40 * H_SUB)

struct tstat {
	uint64_t ops, lost, dup, wrong, async_ops;
	uint64_t max_ns;
	int64_t inflight_ns; /* start of the call in flight, 0 if none */
	int started, done;
	char err[160];       /* the first failure, for the report */
	uint64_t hist[H_BUCKETS];
};

struct shared {
	int64_t deadline_ns; /* guests stop starting calls at this CLOCK_MONOTONIC time */
	int release;         /* parent has read the end RSS: guests may disconnect */
	struct tstat t[MAX_GUESTS * MAX_THREADS];
};

struct cfg {
	double seconds, warmup;
	int guests, threads, quick;
	unsigned seed;
	const char *json;
	char agent[PATH_MAX], shm[PATH_MAX], noop[PATH_MAX], blas[PATH_MAX], exec[PATH_MAX],
		testlib[PATH_MAX];
};

static struct shared *sh;
static struct bench_agent g_ag = {.pid = -1};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("soak: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static unsigned h_index(uint64_t v)
{
	if (v < 64)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned idx = 64 + (msb - 6) * H_SUB + (unsigned)((v >> (msb - 5)) & (H_SUB - 1));
	return idx < H_BUCKETS ? idx : H_BUCKETS - 1;
}

/* The middle of bucket i, in ns. */
static double h_value(unsigned i)
{
	if (i < 64)
		return i;
	unsigned msb = (i - 64) / H_SUB + 6, sub = (i - 64) % H_SUB;
	double lo = (double)(1ull << msb) + (double)sub * (double)(1ull << (msb - 5));
	return lo + (double)(1ull << (msb - 5)) / 2;
}

static void note(struct tstat *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct tstat *t, const char *fmt, ...)
{
	va_list ap;

	if (t->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
}

/* ---- the guests ---- */

struct worker {
	const struct cfg *c;
	struct tstat *t;
	unsigned seed;
	uint64_t next_ud;
	struct vaccel_session noop, blas, exec;
};

static void begin(struct tstat *t)
{
	__atomic_store_n(&t->inflight_ns, now_ns(), __ATOMIC_RELEASE);
}

static void end(struct tstat *t, int64_t ns)
{
	__atomic_store_n(&t->inflight_ns, 0, __ATOMIC_RELEASE);
	t->hist[h_index((uint64_t)ns)]++;
	if ((uint64_t)ns > t->max_ns)
		t->max_ns = (uint64_t)ns;
	t->ops++;
}

static void do_noop(struct worker *w)
{
	int64_t t0 = now_ns();

	begin(w->t);
	int ret = vaccel_noop(&w->noop);
	end(w->t, now_ns() - t0);
	if (ret) {
		w->t->lost++;
		note(w->t, "vaccel_noop: %d", ret);
	}
}

static void do_exec(struct worker *w)
{
	int x = (int)(rand_r(&w->seed) % 2000000) - 1000000, out = 0x5a5a5a5a;
	struct vaccel_arg read[1] = {{.buf = &x, .size = sizeof(x)}};
	struct vaccel_arg write[1] = {{.buf = &out, .size = sizeof(out)}};
	int64_t t0 = now_ns();

	begin(w->t);
	int ret = vaccel_exec(&w->exec, w->c->testlib, "mytestfunc", read, 1, write, 1);
	end(w->t, now_ns() - t0);
	if (ret) {
		w->t->lost++;
		note(w->t, "vaccel_exec(mytestfunc, %d): %d", x, ret);
	} else if (out != 2 * x) {
		w->t->wrong++;
		note(w->t, "mytestfunc(%d) = %d, expected %d", x, out, 2 * x);
	}
}

static void do_sgemm(struct worker *w, float *a, float *b, float *c, float *ref)
{
	int m = 1 + (int)(rand_r(&w->seed) % MAX_DIM), n = 1 + (int)(rand_r(&w->seed) % MAX_DIM);
	int k = 1 + (int)(rand_r(&w->seed) % MAX_DIM);

	/* Small integers: every product and sum is exact in float, in any order. */
	for (int i = 0; i < m * k; i++)
		a[i] = (float)(rand_r(&w->seed) % 7) - 3;
	for (int i = 0; i < k * n; i++)
		b[i] = (float)(rand_r(&w->seed) % 5) - 2;
	for (int i = 0; i < m * n; i++)
		c[i] = (float)(i % 4);
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++) {
			float acc = 0;
			for (int p = 0; p < k; p++)
				acc += a[i * k + p] * b[p * n + j];
			ref[i * n + j] = 2.0f * acc + 0.5f * c[i * n + j];
		}
	int64_t t0 = now_ns();
	begin(w->t);
	int ret = vaccel_sgemm(&w->blas, m, n, k, 2.0f, a, k, b, n, 0.5f, c, n);
	end(w->t, now_ns() - t0);
	if (ret) {
		w->t->lost++;
		note(w->t, "vaccel_sgemm %dx%dx%d: %d", m, n, k, ret);
		return;
	}
	for (int i = 0; i < m * n; i++)
		if (c[i] != ref[i]) {
			w->t->wrong++;
			note(w->t, "sgemm %dx%dx%d: C[%d] = %g, expected %g", m, n, k, i, (double)c[i],
			     (double)ref[i]);
			return;
		}
}

/* A batch of asynchronous noops: each user_data must come back exactly once. */
static void do_batch(struct worker *w)
{
	unsigned nb = 1 + (unsigned)(rand_r(&w->seed) % BATCH_MAX), got = 0;
	uint64_t base = w->next_ud;
	uint8_t seen[BATCH_MAX] = {0};
	struct vaccel_completion done[BATCH_MAX];
	unsigned submitted = 0;

	w->next_ud += BATCH_MAX;
	begin(w->t);
	for (unsigned i = 0; i < nb; i++) {
		int ret = vaccel_noop_async(&w->noop, base + i, i + 1 < nb ? VACCEL_ASYNC_MORE : 0);
		if (ret) {
			w->t->lost++; /* the one refused; the rest of the batch is not tried */
			w->t->ops++;
			note(w->t, "vaccel_noop_async: %d", ret);
			break;
		}
		submitted++;
	}
	if (submitted && submitted < nb)
		vaccel_async_flush(&w->noop);
	while (got < submitted) {
		unsigned n = 0;
		int ret = vaccel_async_reap(&w->noop, done, 1, BATCH_MAX, (int)(CALL_TIMEOUT_S * 1000), &n);
		for (unsigned i = 0; i < n; i++) {
			uint64_t k = done[i].user_data - base;
			if (k >= submitted || seen[k]) {
				w->t->dup++;
				note(w->t, "asynchronous completion %llu %s",
				     (unsigned long long)done[i].user_data,
				     k >= submitted ? "was never submitted" : "came twice");
				continue;
			}
			seen[k] = 1;
			got++;
			if (done[i].ret) {
				w->t->lost++;
				note(w->t, "asynchronous noop: %d", done[i].ret);
			}
		}
		if (ret) {
			w->t->lost += submitted - got;
			note(w->t, "vaccel_async_reap: %d with %u of %u completions", ret, got, submitted);
			break;
		}
	}
	__atomic_store_n(&w->t->inflight_ns, 0, __ATOMIC_RELEASE);
	w->t->ops += submitted;
	w->t->async_ops += submitted;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	size_t mat = sizeof(float) * MAX_DIM * MAX_DIM;
	float *a = malloc(mat), *b = malloc(mat), *c = malloc(mat), *ref = malloc(mat);

	if (!a || !b || !c || !ref) {
		note(w->t, "out of memory");
		w->t->lost++;
		return NULL;
	}
	if (vaccel_session_init(&w->noop, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG) ||
	    vaccel_session_init(&w->blas, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU) ||
	    vaccel_session_init(&w->exec, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC)) {
		note(w->t, "cannot open the sessions");
		w->t->lost++;
		__atomic_store_n(&w->t->done, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&w->t->started, 1, __ATOMIC_RELEASE);
	while (now_ns() < __atomic_load_n(&sh->deadline_ns, __ATOMIC_ACQUIRE)) {
		unsigned r = (unsigned)rand_r(&w->seed) % 100;
		if (r < 35)
			do_noop(w);
		else if (r < 60)
			do_exec(w);
		else if (r < 85)
			do_sgemm(w, a, b, c, ref);
		else
			do_batch(w);
	}
	__atomic_store_n(&w->t->done, 1, __ATOMIC_RELEASE);
	/* Stay connected until the parent has read the agent's RSS at the end. */
	while (!__atomic_load_n(&sh->release, __ATOMIC_ACQUIRE))
		usleep(2000);
	vaccel_session_release(&w->noop);
	vaccel_session_release(&w->blas);
	vaccel_session_release(&w->exec);
	free(a);
	free(b);
	free(c);
	free(ref);
	return NULL;
}

/* A guest process: the transport plugin only, its own connection to the agent. */
static void guest_main(const struct cfg *c, int gi)
{
	struct worker w[MAX_THREADS];
	pthread_t th[MAX_THREADS];

	g_ag.pid = -1; /* the parent's: never stopped from here */
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", c->shm, 1);
	setenv("VACCEL_SHM_SOCKET", g_ag.sock, 1);
	if (vaccel_bootstrap()) {
		note(&sh->t[gi * c->threads], "vaccel_bootstrap failed");
		_exit(1);
	}
	for (int i = 0; i < c->threads; i++) {
		w[i] = (struct worker){.c = c, .t = &sh->t[gi * c->threads + i],
				       .seed = c->seed * 7919u + (unsigned)(gi * MAX_THREADS + i) * 104729u + 1,
				       .next_ud = (uint64_t)(gi * MAX_THREADS + i) << 40};
		if (pthread_create(&th[i], NULL, worker_main, &w[i]))
			_exit(1);
	}
	for (int i = 0; i < c->threads; i++)
		pthread_join(th[i], NULL);
	vaccel_cleanup();
	_exit(0);
}

/* ---- the agent ---- */

static void stop_agent(void)
{
	bench_agent_stop(&g_ag);
}

static void _agent_started(int ret, const char *log)
{
	if (ret == -ECHILD)
		die("the agent exited at start (log: %s)", log);
	if (ret)
		die("the agent did not come up: %s (log: %s)", strerror(-ret), log);
}

static void start_agent(const struct cfg *c)
{
	char plugins[3 * PATH_MAX + 4];

	snprintf(plugins, sizeof(plugins), "%s:%s:%s", c->noop, c->blas, c->exec);
	/* One OpenBLAS thread in the agent (the guests use blas only through it). */
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	setenv("VACCEL_BLAS_THREADS", "1", 1);
	/* A pool of 13 MiB (16 MiB regions) instead of 234 MiB: RSS figures stay readable. */
	const char *args[] = {"--plugins", plugins, "--exec-allow", c->testlib, "--pool",
			      "4k:256,64k:64,1m:8", NULL};
	_agent_started(bench_agent_start(&g_ag, "soak", c->agent, args), g_ag.log);
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---- main ---- */

static pid_t g_kids[MAX_GUESTS];
static int g_nkids;

/* The overall time limit: stop the agent and the guests, never leave them behind. */
static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "soak: time limit exceeded; stopping everything\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	for (int i = 0; i < g_nkids; i++)
		kill(g_kids[i], SIGKILL);
	if (g_ag.pid > 0)
		kill(g_ag.pid, SIGKILL);
	unlink(g_ag.sock);
	_exit(3);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: soak [--seconds N] [--guests N] [--threads N] [--json FILE] [--quick] [--seed N]\n"
		"Starts a real vaccel-agent (noop, blas, exec plugins) and runs guest processes x threads\n"
		"that mix noop, exec (mytestfunc) and sgemm of random sizes, synchronous and asynchronous,\n"
		"checking every result. Exit 1 if a request was lost or answered twice or wrongly, or the\n"
		"agent's RSS grew more than 10%% between the warm-up and the end. Run with bazel run.\n"
		"  --seconds N   duration (default 60; --quick: 5)\n"
		"  --guests N    guest processes (default 4, max %d)\n"
		"  --threads N   threads per guest (default 2, max %d)\n"
		"  --json FILE   write the soak.* keys\n"
		"  --quick       a few seconds (smoke test)\n"
		"  --seed N      random seed (default 1)\n",
		MAX_GUESTS, MAX_THREADS);
}

static long parse_num(const char *s, const char *flag, long lo, long hi)
{
	char *e;
	errno = 0;
	long v = strtol(s, &e, 10);

	if (errno || *e || e == s || v < lo || v > hi)
		die("%s wants a number from %ld to %ld, got '%s'", flag, lo, hi, s);
	return v;
}

static void find_files(struct cfg *c)
{
	if (bench_runfile("runtime/agent/vaccel-agent", c->agent, sizeof(c->agent)) ||
	    bench_runfile("backends/remote/libvaccel-shm.so", c->shm, sizeof(c->shm)) ||
	    bench_runfile("backends/noop/libvaccel-noop.so", c->noop, sizeof(c->noop)) ||
	    bench_runfile("backends/blas/libvaccel-blas.so", c->blas, sizeof(c->blas)) ||
	    bench_runfile("backends/exec/libvaccel-exec.so", c->exec, sizeof(c->exec)) ||
	    bench_runfile("examples/libmytestlib.so", c->testlib, sizeof(c->testlib)))
		die("cannot find the agent, plugins and libmytestlib.so in the runfiles (use bazel run)");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seconds", required_argument, 0, 's'}, {"guests", required_argument, 0, 'g'},
		{"threads", required_argument, 0, 't'}, {"json", required_argument, 0, 'j'},
		{"quick", no_argument, 0, 'q'},          {"seed", required_argument, 0, 'r'},
		{"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
	};
	static struct cfg c = {.guests = 4, .threads = 2, .seed = 1};
	pid_t *kids = g_kids;
	int o, secs_set = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': c.seconds = (double)parse_num(optarg, "--seconds", 1, 86400); secs_set = 1; break;
		case 'g': c.guests = (int)parse_num(optarg, "--guests", 1, MAX_GUESTS); break;
		case 't': c.threads = (int)parse_num(optarg, "--threads", 1, MAX_THREADS); break;
		case 'j': c.json = optarg; break;
		case 'q': c.quick = 1; break;
		case 'r': c.seed = (unsigned)parse_num(optarg, "--seed", 0, INT_MAX); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!secs_set)
		c.seconds = c.quick ? 5 : 60;
	/* Long enough for every region, session and OpenBLAS buffer to be in use. */
	c.warmup = c.seconds >= 30 ? 3 : c.seconds / 4 < 1 ? c.seconds / 4 : 1;
	find_files(&c);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	/* Bounded whatever happens: the run, the grace for hung calls, start-up and teardown. */
	signal(SIGALRM, on_alarm);
	alarm((unsigned)(c.seconds + CALL_TIMEOUT_S + 60));
	start_agent(&c);
	atexit(stop_agent);

	int64_t t_start = now_ns();
	sh->deadline_ns = t_start + (int64_t)(c.seconds * 1e9);
	for (int g = 0; g < c.guests; g++) {
		fflush(NULL);
		kids[g] = fork();
		if (kids[g] < 0)
			die("fork: %s", strerror(errno));
		if (kids[g] == 0)
			guest_main(&c, g);
		g_nkids = g + 1;
	}
	usleep((useconds_t)(c.warmup * 1e6));
	long rss_start = rss_kb(g_ag.pid);

	/* Wait for every thread to finish its last call, or to be hung for good. */
	int nt = c.guests * c.threads, all_done = 0;
	int64_t give_up = sh->deadline_ns + (int64_t)(CALL_TIMEOUT_S * 1e9);
	while (!all_done && now_ns() < give_up) {
		usleep(10000);
		all_done = 1;
		for (int i = 0; i < nt; i++)
			all_done &= __atomic_load_n(&sh->t[i].done, __ATOMIC_ACQUIRE);
	}
	long rss_end = rss_kb(g_ag.pid);
	int agent_alive = waitpid(g_ag.pid, NULL, WNOHANG) == 0;
	double elapsed = (double)(now_ns() - t_start) / 1e9;

	/* Calls that never returned are lost; their guests are stopped by force. */
	uint64_t hung = 0;
	for (int i = 0; i < nt; i++) {
		struct tstat *t = &sh->t[i];
		if (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE)) {
			hung++;
			t->lost++;
			note(t, "%s", __atomic_load_n(&t->inflight_ns, __ATOMIC_ACQUIRE)
					      ? "a call never returned" : "the thread never finished");
		}
	}
	__atomic_store_n(&sh->release, 1, __ATOMIC_RELEASE);
	int guests_failed = 0;
	for (int g = 0; g < c.guests; g++) {
		int st;
		double wait_end = bench_now_s() + (hung ? 1 : 20);
		pid_t r;
		while ((r = waitpid(kids[g], &st, WNOHANG)) == 0 && bench_now_s() < wait_end)
			usleep(5000);
		if (r == 0) {
			kill(kids[g], SIGKILL);
			waitpid(kids[g], &st, 0);
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			guests_failed++;
	}

	/* Totals. */
	static uint64_t hist[H_BUCKETS];
	uint64_t ops = 0, lost = 0, dup = 0, wrong = 0, async_ops = 0, max_ns = 0, samples = 0;
	for (int i = 0; i < nt; i++) {
		struct tstat *t = &sh->t[i];
		ops += t->ops;
		lost += t->lost;
		dup += t->dup;
		wrong += t->wrong;
		async_ops += t->async_ops;
		if (t->max_ns > max_ns)
			max_ns = t->max_ns;
		for (unsigned b = 0; b < H_BUCKETS; b++) {
			hist[b] += t->hist[b];
			samples += t->hist[b];
		}
		if (t->err[0])
			fprintf(stderr, "soak: guest %d thread %d: %s\n", i / c.threads, i % c.threads, t->err);
	}
	double p99 = 0;
	for (uint64_t b = 0, seen = 0, rank = (uint64_t)((double)samples * 0.99); b < H_BUCKETS; b++) {
		seen += hist[b];
		if (samples && seen > rank) {
			p99 = h_value((unsigned)b);
			break;
		}
	}
	uint64_t bad_dup = dup + wrong;
	int rss_bad = rss_start <= 0 || rss_end <= 0 || (double)rss_end > (double)rss_start * 1.10;

	printf("soak: %d guest(s) x %d thread(s), %.0f s (warm-up %.0f s), agent pid %d\n", c.guests,
	       c.threads, c.seconds, c.warmup, (int)g_ag.pid);
	printf("  ops %llu (%.0f/s; %llu asynchronous noops in batches)\n", (unsigned long long)ops,
	       (double)ops / elapsed, (unsigned long long)async_ops);
	printf("  lost %llu   dup/wrong %llu (duplicated or unknown completions %llu, wrong results %llu)\n",
	       (unsigned long long)lost, (unsigned long long)bad_dup, (unsigned long long)dup,
	       (unsigned long long)wrong);
	printf("  per call (synchronous): p99 %.1f us, max %.1f us over %llu calls\n", p99 / 1e3,
	       (double)max_ns / 1e3, (unsigned long long)samples);
	printf("  agent RSS: %ld kB after warm-up, %ld kB at the end (%+.1f%%, limit +10%%)\n", rss_start,
	       rss_end, rss_start > 0 ? ((double)rss_end / (double)rss_start - 1) * 100 : 0.0);
	if (!agent_alive)
		printf("  the agent died during the run (log: %s)\n", g_ag.log);
	if (guests_failed)
		printf("  %d guest process(es) did not exit cleanly\n", guests_failed);

	struct bench_json *j = bench_json_new();
	bench_json_num(j, "soak.ops", (double)ops);
	bench_json_num(j, "soak.lost", (double)lost);
	bench_json_num(j, "soak.dup", (double)bad_dup);
	bench_json_num(j, "soak.p99_us", p99 / 1e3);
	bench_json_num(j, "soak.max_us", (double)max_ns / 1e3);
	bench_json_num(j, "soak.rss_start_kb", (double)rss_start);
	bench_json_num(j, "soak.rss_end_kb", (double)rss_end);
	bench_json_num(j, "soak.seconds", c.seconds);
	bench_json_num(j, "soak.guests", c.guests);
	bench_json_num(j, "soak.threads", c.threads);
	bench_json_num(j, "soak.wrong", (double)wrong);
	bench_json_num(j, "soak.async_ops", (double)async_ops);
	bench_json_machine(j);
	if (c.json && bench_json_write(j, c.json))
		die("cannot write %s", c.json);
	bench_json_free(j);

	int fail = lost || bad_dup || rss_bad || !agent_alive || guests_failed || ops == 0;
	printf("%s\n", fail ? "soak: FAILED" : "soak: ok");
	if (agent_alive && !fail)
		unlink(g_ag.log);
	return fail ? 1 : 0;
}
