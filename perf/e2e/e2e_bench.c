/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End-to-end benchmark: this process is a guest that calls vAccel through the shm transport
 * plugin; a real vaccel-agent (started here) serves it. Side by side in one run:
 *
 *   e2e     vaccel_noop through the transport (guest on CPU A, agent poller on CPU B)
 *   ring    the bare ring round trip between the same two CPUs (the floor for e2e)
 *   local   vaccel_noop on the local noop plugin, in this process
 *   unix    the same call carried over a unix socket, one request and one response per
 *           call, to a server process that runs vaccel_noop (how socket RPC transports work)
 *   sgemm   512^3 through the transport (arguments copied into the pool) against the local
 *           blas plugin, same OpenBLAS thread count, both computed on CPU B (the agent's
 *           poller and workers run there, and the local calls move there for their turn:
 *           the two vCPUs' speed can differ by 2x for a while on a shared host)
 *   idle    the agent's CPU use over 5 s with no guest activity
 *
 * Repetitions are interleaved; figures are medians, ratios are medians of per-repetition
 * ratios (the vCPU placement of this VM can change during a run).
 */
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vaccel.h>

#include "perf/common/bench.h"
#include "shm/region.h"
#include "transport/ring.h"

#define MAX_REPS 15

/* Parts of the run (--only): all by default. */
enum { PART_LAT = 1, PART_SGEMM = 2, PART_BATCH = 4, PART_IDLE = 8, PART_ALL = 15 };

struct cfg {
	int cpu_a, cpu_b, reps, quick, blas_threads, parts;
	uint64_t calls, sgemm_calls;
	double idle_s;
	const char *json;
	const char *samples; /* --samples DIR, or NULL */
};

enum { E2E, RING, LOCAL, UNIX_, NLAT };
static const char *const lat_name[NLAT] = {"noop via transport", "bare ring round trip",
					   "noop, local plugin", "noop via unix socket"};

struct rep {
	double p50[NLAT], p99[NLAT], p999[NLAT];
	double sg_e2e_ms, sg_local_ms;
	double batch_mops, batch4_mops, uring_mops;
};

#define die bench_die

static void lat_of(uint64_t *s, size_t n, double *p50, double *p99, double *p999)
{
	uint64_t tick = bench_tsc_tick();

	bench_sort_u64(s, n);
	*p50 = bench_pct_interp(s, n, 50, tick) / bench_tsc_ghz();
	*p99 = bench_pct_interp(s, n, 99, tick) / bench_tsc_ghz();
	*p999 = bench_pct_interp(s, n, 99.9, tick) / bench_tsc_ghz();
}

/* ---- the agent ---- */

static struct bench_agent g_ag = {.pid = -1};

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

static void start_agent(const struct cfg *c, const char *agent, const char *plugins)
{
	char cpus[16];

	snprintf(cpus, sizeof(cpus), "%d", c->cpu_b);
	const char *args[] = {"--plugins", plugins, "--cpus", cpus, "--worker-cpus", cpus,
			      "--pool", "4k:256,64k:64,1m:16,4m:8", NULL};
	_agent_started(bench_agent_start(&g_ag, "e2e-bench", agent, args), g_ag.log);
	setenv("VACCEL_SHM_SOCKET", g_ag.sock, 1);
}

static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	/* Fields 14 and 15 (utime, stime) follow the ")" that ends the command name. */
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- measurements ---- */

static void measure_noop(struct vaccel_session *s, const struct cfg *c, uint64_t *samples,
			 double *p50, double *p99, double *p999)
{
	for (uint64_t i = 0; i < c->calls / 10; i++) /* warm-up */
		if (vaccel_noop(s))
			die("vaccel_noop failed during warm-up");
	for (uint64_t i = 0; i < c->calls; i++) {
		uint64_t t0 = bench_tsc();
		int ret = vaccel_noop(s);
		samples[i] = bench_tsc() - t0;
		if (ret)
			die("vaccel_noop failed: %d", ret);
	}
	lat_of(samples, c->calls, p50, p99, p999);
}

/* Bare ring ping-pong between this process and a forked child on CPU B. */
static void measure_ring(const struct cfg *c, uint64_t *samples, double *p50, double *p99,
			 double *p999)
{
	struct vshm_layout l;
	struct vshm_region *r;
	struct vshm_err err;
	struct vshm_opts o = {.numa_cpu = -1};
	const struct vshm_area *a, *b;

	vshm_layout_init(&l);
	vshm_layout_add(&l, VSHM_AREA_RING, 0, vtr_ring_bytes(64, 64), 64, 64);
	vshm_layout_add(&l, VSHM_AREA_RING, 1, vtr_ring_bytes(64, 64), 64, 64);
	if (vshm_region_create(&o, &l, &r, &err))
		die("ring region: %s", err.msg);
	void *ma = vshm_region_area(r, VSHM_AREA_RING, 0, &a), *mb = vshm_region_area(r, VSHM_AREA_RING, 1, &b);
	vtr_ring_format(ma, a->size, 64, 64);
	vtr_ring_format(mb, b->size, 64, 64);
	pid_t pid = fork();
	if (pid == 0) {
		struct vtr_ring in, out;
		uint64_t msg[8];
		bench_pin(c->cpu_b);
		vtr_ring_attach(&in, ma, a->size, 64, 64, VTR_RING_CONSUMER);
		vtr_ring_attach(&out, mb, b->size, 64, 64, VTR_RING_PRODUCER);
		for (;;) {
			if (vtr_ring_pop_spin(&in, msg, UINT64_MAX) != 1 || msg[0] == UINT64_MAX)
				_exit(0);
			while (vtr_ring_push(&out, msg) == 0)
				vshm_cpu_relax();
		}
	}
	struct vtr_ring ping, pong;
	uint64_t msg[8] = {0}, back[8];
	vtr_ring_attach(&ping, ma, a->size, 64, 64, VTR_RING_PRODUCER);
	vtr_ring_attach(&pong, mb, b->size, 64, 64, VTR_RING_CONSUMER);
	uint64_t warm = c->calls / 10;
	for (uint64_t i = 0; i < warm + c->calls; i++) {
		msg[0] = i;
		uint64_t t0 = bench_tsc();
		while (vtr_ring_push(&ping, msg) == 0)
			vshm_cpu_relax();
		vtr_ring_pop_spin(&pong, back, UINT64_MAX);
		uint64_t t1 = bench_tsc();
		if (back[0] != i)
			die("ring payload mismatch");
		if (i >= warm)
			samples[i - warm] = t1 - t0;
	}
	msg[0] = UINT64_MAX;
	while (vtr_ring_push(&ping, msg) == 0)
		vshm_cpu_relax();
	waitpid(pid, NULL, 0);
	vshm_region_close(r);
	lat_of(samples, c->calls, p50, p99, p999);
}

/* Request/response per call over a unix socket, to a server that runs vaccel_noop. */
static void measure_unix(const struct cfg *c, uint64_t *samples, double *p50, double *p99, double *p999)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair: %s", strerror(errno));
	pid_t pid = fork();
	if (pid == 0) {
		struct vaccel_session s;
		char req[64];
		int32_t res[4] = {0};
		close(sv[0]);
		bench_pin(c->cpu_b);
		if (vaccel_session_init(&s, VACCEL_PLUGIN_DEBUG))
			_exit(1);
		for (;;) {
			ssize_t n = recv(sv[1], req, sizeof(req), MSG_WAITALL);
			if (n != sizeof(req))
				_exit(0);
			res[0] = vaccel_noop(&s);
			if (send(sv[1], res, sizeof(res), MSG_NOSIGNAL) != sizeof(res))
				_exit(1);
		}
	}
	close(sv[1]);
	char req[64] = {0};
	int32_t res[4];
	uint64_t warm = c->calls / 100, n = c->calls / 10; /* each call costs tens of us */
	for (uint64_t i = 0; i < warm + n; i++) {
		uint64_t t0 = bench_tsc();
		if (send(sv[0], req, sizeof(req), MSG_NOSIGNAL) != sizeof(req) ||
		    recv(sv[0], res, sizeof(res), MSG_WAITALL) != sizeof(res) || res[0] != 0)
			die("unix-socket call failed");
		if (i >= warm)
			samples[i - warm] = bench_tsc() - t0;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	lat_of(samples, n, p50, p99, p999);
}

static double sgemm_ms(struct vaccel_session *s, const struct cfg *c, float *a, float *b, float *cc)
{
	double t[64];
	uint64_t n = c->sgemm_calls;

	if (vaccel_sgemm(s, 512, 512, 512, 1.0f, a, 512, b, 512, 0.0f, cc, 512))
		die("sgemm failed");
	for (uint64_t i = 0; i < n; i++) {
		double t0 = bench_now_s();
		if (vaccel_sgemm(s, 512, 512, 512, 1.0f, a, 512, b, 512, 0.0f, cc, 512))
			die("sgemm failed");
		t[i] = (bench_now_s() - t0) * 1e3;
	}
	return bench_median(t, n);
}

/* Asynchronous noops in batches of 32 (one publish each), two batches in flight. */
struct batch_arg {
	struct vaccel_session *s;
	uint64_t ops;
	int failed;
};

static void *batch_worker(void *p)
{
	struct batch_arg *a = p;
	struct vaccel_completion c[64];
	uint64_t sent = 0, done = 0;

	while (done < a->ops) {
		while (sent < a->ops && sent - done <= 32) {
			for (int i = 0; i < 32; i++, sent++)
				if (vaccel_noop_async(a->s, sent, i == 31 ? 0 : VACCEL_ASYNC_MORE)) {
					a->failed = 1;
					return NULL;
				}
		}
		unsigned n = 0;
		if (vaccel_async_reap(a->s, c, 32, 64, 5000, &n) != VACCEL_OK) {
			a->failed = 1;
			return NULL;
		}
		done += n;
	}
	return NULL;
}

static double measure_batch(struct vaccel_session *s, int threads, uint64_t ops)
{
	pthread_t t[8];
	struct batch_arg a[8];
	double t0 = bench_now_s();

	for (int i = 0; i < threads; i++) {
		a[i] = (struct batch_arg){.s = s, .ops = ops / (uint64_t)threads / 32 * 32};
		pthread_create(&t[i], NULL, batch_worker, &a[i]);
	}
	uint64_t total = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		if (a[i].failed)
			die("asynchronous noops failed (thread %d of %d)", i, threads);
		total += a[i].ops;
	}
	return (double)total / (bench_now_s() - t0) / 1e6;
}

/* The kernel's own round trip for comparison: io_uring NOPs, submitted and reaped 32 at once. */
static double measure_uring(uint64_t ops)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;

	if (io_uring_queue_init(64, &ring, 0))
		return 0;
	double t0 = bench_now_s();
	for (uint64_t done = 0; done < ops; done += 32) {
		for (int i = 0; i < 32; i++)
			io_uring_prep_nop(io_uring_get_sqe(&ring));
		if (io_uring_submit_and_wait(&ring, 32) < 0)
			die("io_uring_submit_and_wait failed");
		unsigned head, n = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
			n++;
		io_uring_cq_advance(&ring, n);
	}
	double mops = (double)ops / (bench_now_s() - t0) / 1e6;
	io_uring_queue_exit(&ring);
	return mops;
}

/* --samples DIR: the sorted samples of the last repetition, for the CDF plot. */
static void dump_samples(const char *dir, const char *name, const uint64_t *sorted, size_t n)
{
	int ret = bench_write_cdf(dir, name, sorted, n);

	if (ret)
		die("cannot write %s/%s.dat: %s", dir, name, strerror(-ret));
}

/* --only: a comma-separated list of part names. */
static int parse_parts(const char *arg)
{
	static const struct {
		const char *name;
		int bit;
	} names[] = {{"latency", PART_LAT}, {"sgemm", PART_SGEMM}, {"batch", PART_BATCH}, {"idle", PART_IDLE}};
	int parts = 0;

	for (const char *p = arg; *p;) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && !strncmp(p, names[i].name, n))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			die("--only: unknown part '%.*s' (latency, sgemm, batch, idle)", (int)n, p);
		parts |= names[i].bit;
		p += n + (p[n] == ',');
	}
	if (!parts)
		die("--only wants at least one part");
	return parts;
}

/* ---- report ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: e2e_bench [--quick] [--json FILE] [--reps N] [--cpus A,B] [--calls N]\n"
		"                 [--blas-threads N] [--idle-s S] [--only PARTS]\n"
		"vaccel_noop through the shared-memory transport to a real vaccel-agent, beside the\n"
		"bare ring, the local plugin and a unix-socket RPC, plus sgemm 512 overhead and the\n"
		"idle agent's CPU use. Build with -c opt; run on an otherwise idle machine.\n"
		"  --quick           small counts, 1 s idle window (smoke run)\n"
		"  --json FILE       write e2e.*, unix.*, agent.* keys\n"
		"  --reps N          interleaved repetitions (default 5)\n"
		"  --cpus A,B        guest CPU and agent poller CPU (default 0,1)\n"
		"  --calls N         timed calls per measurement (default 200000)\n"
		"  --blas-threads N  OpenBLAS threads on both sides (default 1)\n"
		"  --idle-s S        idle window for agent CPU use (default 5)\n"
		"  --only PARTS      run only these parts, comma-separated: latency (noop, ring,\n"
		"                    local, unix), sgemm, batch (asynchronous batches and the\n"
		"                    io_uring NOP), idle; default all\n"
		"  --samples DIR     write the sorted per-call times (ns) of the last repetition,\n"
		"                    thinned to ~1200 ranks, to DIR/e2e_{noop,ring,local,unix}.dat\n");
}

int main(int argc, char **argv)
{
	bench_set_prog("e2e_bench");
	static const struct option opts[] = {
		{"quick", no_argument, 0, 'q'},        {"json", required_argument, 0, 'j'},
		{"reps", required_argument, 0, 'r'},   {"cpus", required_argument, 0, 'c'},
		{"calls", required_argument, 0, 'n'},  {"blas-threads", required_argument, 0, 'b'},
		{"idle-s", required_argument, 0, 'i'}, {"help", no_argument, 0, 'h'},
		{"samples", required_argument, 0, 's'}, {"only", required_argument, 0, 'o'},
		{0, 0, 0, 0},
	};
	struct cfg c = {.cpu_a = 0, .cpu_b = 1, .reps = 5, .calls = 200000, .sgemm_calls = 11,
			.blas_threads = 1, .idle_s = 5, .parts = PART_ALL};
	int o, calls_set = 0, idle_set = 0;

	opterr = 0; /* one line of our own for a bad flag */
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'q': c.quick = 1; break;
		case 'j': c.json = optarg; break;
		case 'r': c.reps = (int)bench_parse_u64(optarg, "--reps"); break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &c.cpu_a, &c.cpu_b) != 2 || c.cpu_a < 0 || c.cpu_b < 0 ||
			    c.cpu_a == c.cpu_b)
				die("--cpus wants two different CPUs like 0,1, got '%s'", optarg);
			break;
		case 'n': c.calls = bench_parse_u64(optarg, "--calls"); calls_set = 1; break;
		case 'b': c.blas_threads = (int)bench_parse_u64(optarg, "--blas-threads"); break;
		case 'i': c.idle_s = (double)bench_parse_u64(optarg, "--idle-s"); idle_set = 1; break;
		case 's': c.samples = optarg; break;
		case 'o': c.parts = parse_parts(optarg); break;
		case 'h': usage(stdout); return 0;
		default:
			bench_bad_option(argv[optind - 1]);
		}
	}
	bench_args_done(optind, argc, argv, c.reps, MAX_REPS);
	if (c.quick) {
		if (!calls_set)
			c.calls = 20000;
		if (!idle_set)
			c.idle_s = 1;
		c.sgemm_calls = 3;
	}
	if (c.calls < 100)
		die("--calls must be at least 100");

	char agent[4096], shm[4096], noop[4096], blas[4096], plugins[12300], bt[16];
	if (bench_runfile("runtime/agent/vaccel-agent", agent, sizeof(agent)) ||
	    bench_runfile("backends/remote/libvaccel-shm.so", shm, sizeof(shm)) ||
	    bench_runfile("backends/noop/libvaccel-noop.so", noop, sizeof(noop)) ||
	    bench_runfile("backends/blas/libvaccel-blas.so", blas, sizeof(blas)))
		die("cannot find the agent and plugins in the runfiles (run it with bazel run)");
	snprintf(bt, sizeof(bt), "%d", c.blas_threads);
	setenv("OPENBLAS_NUM_THREADS", bt, 1);
	setenv("VACCEL_BLAS_THREADS", bt, 1);
	alarm(c.quick ? 120 : 900);
	bench_tsc_calibrate();
	snprintf(plugins, sizeof(plugins), "%s:%s", noop, blas);
	start_agent(&c, agent, plugins);
	atexit(stop_agent);

	/* This process: the transport plugin plus the local plugins for the baselines. */
	snprintf(plugins, sizeof(plugins), "%s:%s:%s", shm, noop, blas);
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", plugins, 1);
	if (vaccel_bootstrap())
		die("vAccel runtime did not start");
	if (bench_pin(c.cpu_a))
		die("cannot pin to CPU %d", c.cpu_a);
	struct vaccel_session r_noop, l_noop, r_blas, l_blas;
	if (vaccel_session_init(&r_noop, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG) ||
	    vaccel_session_init(&l_noop, VACCEL_PLUGIN_DEBUG) ||
	    vaccel_session_init(&r_blas, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU) ||
	    vaccel_session_init(&l_blas, VACCEL_PLUGIN_CPU))
		die("cannot open the sessions (is the agent up? log: /tmp/vaccel-e2e-bench-%d.log)", (int)getpid());

	uint64_t *samples = malloc(c.calls * sizeof(*samples));
	float *a = malloc(512 * 512 * 4), *b = malloc(512 * 512 * 4), *cc = malloc(512 * 512 * 4);
	struct rep reps[MAX_REPS] = {0};
	if (!samples || !a || !b || !cc)
		die("out of memory");
	for (int i = 0; i < 512 * 512; i++) {
		a[i] = (float)(i % 7) * 0.25f;
		b[i] = (float)(i % 5) - 2;
	}
	int tty = isatty(STDERR_FILENO);
	double t_start = bench_now_s();
	for (int r = 0; r < c.reps; r++) {
		struct rep *p = &reps[r];
		if (tty)
			fprintf(stderr, "\r  e2e: repetition %d/%d (%.0f s)   ", r + 1, c.reps, bench_now_s() - t_start);
		const char *sd = r == c.reps - 1 ? c.samples : NULL;
		if (c.parts & PART_LAT) {
			measure_noop(&r_noop, &c, samples, &p->p50[E2E], &p->p99[E2E], &p->p999[E2E]);
			dump_samples(sd, "e2e_noop", samples, c.calls);
			measure_ring(&c, samples, &p->p50[RING], &p->p99[RING], &p->p999[RING]);
			dump_samples(sd, "e2e_ring", samples, c.calls);
			measure_noop(&l_noop, &c, samples, &p->p50[LOCAL], &p->p99[LOCAL], &p->p999[LOCAL]);
			dump_samples(sd, "e2e_local", samples, c.calls);
			measure_unix(&c, samples, &p->p50[UNIX_], &p->p99[UNIX_], &p->p999[UNIX_]);
			dump_samples(sd, "e2e_unix", samples, c.calls / 10);
		}
		if (c.parts & PART_SGEMM) {
			p->sg_e2e_ms = sgemm_ms(&r_blas, &c, a, b, cc);
			if (bench_pin(c.cpu_b))
				die("cannot move to CPU %d", c.cpu_b);
			p->sg_local_ms = sgemm_ms(&l_blas, &c, a, b, cc);
			if (bench_pin(c.cpu_a))
				die("cannot move back to CPU %d", c.cpu_a);
		}
		if (c.parts & PART_BATCH) {
			p->batch_mops = measure_batch(&r_noop, 1, c.calls * 10);
			p->batch4_mops = measure_batch(&r_noop, 4, c.calls * 10);
			p->uring_mops = measure_uring(c.calls * 5);
		}
		if (!tty)
			fprintf(stderr, "  e2e: repetition %d/%d done (%.1f s)\n", r + 1, c.reps, bench_now_s() - t_start);
	}
	double idle_pct = 0;
	if (c.parts & PART_IDLE) {
		if (tty)
			fprintf(stderr, "\r  e2e: measuring the idle agent for %.0f s   ", c.idle_s);
		/* Idle: sessions stay open, nothing is called. Let the poller's spin budget run out. */
		usleep(100000);
		double cpu0 = proc_cpu_s(g_ag.pid), w0 = bench_now_s();
		usleep((useconds_t)(c.idle_s * 1e6));
		idle_pct = (proc_cpu_s(g_ag.pid) - cpu0) / (bench_now_s() - w0) * 100.0;
	}
	if (tty)
		fprintf(stderr, "\r%60s\r", "");

	/* Report. */
	int n = c.reps;
	double v[MAX_REPS], w[MAX_REPS];
	struct bench_json *j = bench_json_new();
	printf("\nend-to-end: guest process on CPU %d, vaccel-agent poller on CPU %d, %d repetitions%s\n",
	       c.cpu_a, c.cpu_b, n, c.quick ? " (quick)" : "");
	if (c.parts & PART_LAT) {
		printf("  %llu timed calls each (unix socket: %llu); median [min..max] over repetitions\n\n",
		       (unsigned long long)c.calls, (unsigned long long)c.calls / 10);
		printf("  %-26s %-26s %-12s %-12s\n", "", "p50 ns", "p99 ns", "p99.9 ns");
		for (int k = 0; k < NLAT; k++) {
			double q[MAX_REPS], z[MAX_REPS];
			for (int i = 0; i < n; i++) {
				v[i] = reps[i].p50[k];
				q[i] = reps[i].p99[k];
				z[i] = reps[i].p999[k];
			}
			printf("  %-26s %-9.1f [%.1f..%.1f]%*s %-12.1f %-12.1f\n", lat_name[k],
			       bench_median(v, n), bench_min(v, n), bench_max(v, n), 2, "",
			       bench_median(q, n), bench_median(z, n));
			static const char *const keys[NLAT][3] = {
				{"e2e.noop_p50_ns", "e2e.noop_p99_ns", "e2e.noop_p999_ns"},
				{"e2e.ring_rtt_p50_ns", "e2e.ring_rtt_p99_ns", "e2e.ring_rtt_p999_ns"},
				{"e2e.local_noop_p50_ns", "e2e.local_noop_p99_ns", "e2e.local_noop_p999_ns"},
				{"unix.noop_p50_ns", "unix.noop_p99_ns", "unix.noop_p999_ns"},
			};
			bench_json_num(j, keys[k][0], bench_median(v, n));
			bench_json_num(j, keys[k][1], bench_median(q, n));
			bench_json_num(j, keys[k][2], bench_median(z, n));
		}
		for (int i = 0; i < n; i++) {
			v[i] = reps[i].p50[E2E] / reps[i].p50[RING];
			w[i] = reps[i].p50[UNIX_] / reps[i].p50[E2E];
		}
		double vs_ring = bench_median(v, n), vs_unix = bench_median(w, n);
		printf("\n  noop via transport / bare ring (p50):   %.2fx [%.2f..%.2f]   target <= 2x\n",
		       vs_ring, bench_min(v, n), bench_max(v, n));
		printf("  unix socket / noop via transport (p50): %.0fx [%.0f..%.0f]   target >= 50x\n",
		       vs_unix, bench_min(w, n), bench_max(w, n));
		bench_json_num(j, "e2e.vs_ring_p50_ratio", vs_ring);
		bench_json_num(j, "e2e.unix_vs_e2e_p50_ratio", vs_unix);
	}
	if (c.parts & PART_SGEMM) {
		for (int i = 0; i < n; i++) {
			v[i] = reps[i].sg_e2e_ms;
			w[i] = (reps[i].sg_e2e_ms - reps[i].sg_local_ms) / reps[i].sg_local_ms * 100.0;
		}
		double over = bench_median(w, n);
		printf("  sgemm 512^3, OpenBLAS %d thread(s): transport %.3f ms, local %.3f ms, overhead "
		       "%.1f%% [%.1f..%.1f] (arguments copied into the pool)\n",
		       c.blas_threads, bench_median(v, n), reps[n / 2].sg_local_ms, over, bench_min(w, n),
		       bench_max(w, n));
		bench_json_num(j, "e2e.sgemm512_copy_overhead_pct", over);
		bench_json_num(j, "e2e.blas_threads", c.blas_threads);
	}
	if (c.parts & PART_BATCH) {
		double bv[MAX_REPS], b4[MAX_REPS], uv[MAX_REPS], br[MAX_REPS];
		for (int i = 0; i < n; i++) {
			bv[i] = reps[i].batch_mops;
			b4[i] = reps[i].batch4_mops;
			uv[i] = reps[i].uring_mops;
			br[i] = uv[i] > 0 ? bv[i] / uv[i] : 0;
		}
		printf("  noop, asynchronous, batches of 32: %.1f Mops/s [%.1f..%.1f] with 1 thread, %.1f "
		       "Mops/s with 4 threads (oversubscribed: sleep path)\n",
		       bench_median(bv, n), bench_min(bv, n), bench_max(bv, n), bench_median(b4, n));
		printf("  io_uring NOP, batches of 32 (same run): %.1f Mops/s; transport/io_uring %.1fx "
		       "[%.1f..%.1f]   target >= 5x\n",
		       bench_median(uv, n), bench_median(br, n), bench_min(br, n), bench_max(br, n));
		bench_json_num(j, "e2e.noop_batch32_mops", bench_median(bv, n));
		bench_json_num(j, "e2e.noop_batch32_4thr_mops", bench_median(b4, n));
		bench_json_num(j, "uring.nop_batch32_mops", bench_median(uv, n));
		bench_json_num(j, "e2e.batch32_vs_uring_ratio", bench_median(br, n));
	}
	if (c.parts & PART_IDLE) {
		printf("  idle agent: %.2f%% of one core over %.0f s   target < 1%%\n", idle_pct, c.idle_s);
		bench_json_num(j, "agent.idle_cpu_pct", idle_pct);
	}
	bench_json_machine(j);
	if (c.json && bench_json_write(j, c.json))
		die("cannot write %s", c.json);
	bench_json_free(j);
	vaccel_session_release(&r_noop);
	vaccel_session_release(&l_noop);
	vaccel_session_release(&r_blas);
	vaccel_session_release(&l_blas);
	free(samples);
	return 0;
}
