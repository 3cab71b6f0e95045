/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bulk benchmark: how the time of one call grows with the size of its input tensor. This
 * process is a guest of a real vaccel-agent (started here); each call is a vaccel_exec of
 * bulk_touch (libbulk_touch.so) on the host, which reads the tensor's first and last cache
 * lines and answers 8 bytes. Side by side in one run, for 4 KiB, 1 MiB and 64 MiB:
 *
 *   zc     the tensor from vaccel_buffer_alloc: it lives in the pool, the call carries its
 *          offset and the host reads it in place (the target: constant time)
 *   copy   the tensor in ordinary memory: the plugin copies it into a pool buffer per call
 *   unix   the same tensor written through a unix socket to a server process that reads
 *          it, touches the same two lines and answers 8 bytes (how socket RPC works)
 *   sgemm  512^3 with A, B, C from vaccel_buffer_alloc through the transport, against the
 *          local blas plugin in this process (and with the tensors copied, for contrast),
 *          same OpenBLAS thread count
 *
 * Repetitions are interleaved; each figure is the median over repetitions of the median
 * call, ratios are medians of per-repetition ratios.
 */
#include <errno.h>
#include <getopt.h>
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

#define MAX_REPS 15
#define AGENT_POOL "4k:64,64k:16,1m:16,16m:2,64m:3"

enum { ZC, COPY, UNIX_, NKIND };
enum { S4K, S1M, S64M, NSIZE };
static const size_t sizes[NSIZE] = {4096, 1 << 20, 64 << 20};
static const char *const size_name[NSIZE] = {"4 KiB", "1 MiB", "64 MiB"};
static const char *const size_key[NSIZE] = {"4k", "1m", "64m"};
static const char *const kind_key[NKIND] = {"zc", "copy", "unix"};

struct cfg {
	int cpu_a, cpu_b, reps, quick, blas_threads;
	uint64_t calls;       /* per measurement of a 4 KiB tensor, and of every zc size */
	uint64_t sgemm_calls; /* per side and repetition */
};

struct rep {
	double us[NKIND][NSIZE];
	double sg_local_ms, sg_zc_ms, sg_copy_ms;
};

#define die bench_die

/* What bulk_touch answers: the 64-bit words of the first and last 64 bytes, summed. */
static uint64_t touch_sum(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t s = 0, w;

	for (size_t i = 0; i < 64; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
		memcpy(&w, p + len - 64 + i, 8);
		s += w;
	}
	return s;
}

/* Calls for one measurement: big copies cost milliseconds each, so fewer of them. */
static uint64_t calls_for(const struct cfg *c, int kind, int s)
{
	uint64_t n = c->calls;

	if (kind != ZC)
		n = s == S4K ? n : s == S1M ? n / 10 : n / 100;
	return n < 3 ? 3 : n;
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

static void start_agent(const struct cfg *c, const char *agent, const char *plugins,
			const char *touch_lib)
{
	char cpus[16];

	snprintf(cpus, sizeof(cpus), "%d", c->cpu_b);
	/* The agent's side on CPU B: its poller and the workers that run sgemm 512. */
	const char *args[] = {"--plugins", plugins, "--cpus", cpus, "--worker-cpus", cpus,
			      "--pool", AGENT_POOL, "--exec-allow", touch_lib, NULL};
	_agent_started(bench_agent_start(&g_ag, "bulk-bench", agent, args), g_ag.log);
	setenv("VACCEL_SHM_SOCKET", g_ag.sock, 1);
}

/* ---- measurements ---- */

static double median_us(uint64_t *samples, uint64_t n)
{
	bench_sort_u64(samples, n);
	return bench_pct_interp(samples, n, 50, bench_tsc_tick()) / bench_tsc_ghz() / 1e3;
}

/* One vaccel_exec of bulk_touch on tensor t; dies on a failure or a wrong answer. */
static void touch_call(struct vaccel_session *s, const char *lib, void *t, size_t len,
		       uint64_t want)
{
	uint64_t got = 0;
	struct vaccel_arg rd[1] = {{.buf = t, .size = len, .type = VACCEL_ARG_RAW}};
	struct vaccel_arg wr[1] = {{.buf = &got, .size = sizeof(got), .type = VACCEL_ARG_RAW}};
	int ret = vaccel_exec(s, lib, "bulk_touch", rd, 1, wr, 1);

	if (ret)
		die("vaccel_exec of bulk_touch on %zu bytes failed: %d (%s); agent log: %s", len, ret,
		    strerror(ret), g_ag.log);
	if (got != want)
		die("bulk_touch answered %llu for %zu bytes, expected %llu", (unsigned long long)got,
		    len, (unsigned long long)want);
}

static double measure_exec(struct vaccel_session *s, const char *lib, void *t, size_t len,
			   uint64_t n, uint64_t *samples)
{
	uint64_t want = touch_sum(t, len);

	for (uint64_t i = 0; i < 2 + n / 20; i++) /* warm-up */
		touch_call(s, lib, t, len, want);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t0 = bench_tsc();
		touch_call(s, lib, t, len, want);
		samples[i] = bench_tsc() - t0;
	}
	return median_us(samples, n);
}

/* The unix-socket baseline's server: length, bytes; answers the touch sum. */
static void unix_server(int fd, int cpu)
{
	unsigned char *buf = malloc(sizes[S64M]);
	uint64_t len;

	if (!buf)
		_exit(1);
	memset(buf, 0, sizes[S64M]);
	bench_pin(cpu);
	for (;;) {
		if (recv(fd, &len, sizeof(len), MSG_WAITALL) != sizeof(len) || len < 64 ||
		    len > sizes[S64M])
			_exit(0);
		if (recv(fd, buf, len, MSG_WAITALL) != (ssize_t)len)
			_exit(1);
		uint64_t s = touch_sum(buf, len);
		if (send(fd, &s, sizeof(s), MSG_NOSIGNAL) != sizeof(s))
			_exit(1);
	}
}

static double measure_unix(int fd, const void *t, size_t len, uint64_t n, uint64_t *samples)
{
	uint64_t want = touch_sum(t, len), got, l = len;

	for (uint64_t i = 0; i < 2 + n / 20 + n; i++) {
		uint64_t t0 = bench_tsc();
		if (send(fd, &l, sizeof(l), MSG_NOSIGNAL) != sizeof(l) ||
		    send(fd, t, len, MSG_NOSIGNAL) != (ssize_t)len ||
		    recv(fd, &got, sizeof(got), MSG_WAITALL) != sizeof(got))
			die("unix-socket call of %zu bytes failed: %s", len, strerror(errno));
		uint64_t t1 = bench_tsc();
		if (got != want)
			die("unix-socket server answered a wrong sum");
		if (i >= 2 + n / 20)
			samples[i - 2 - n / 20] = t1 - t0;
	}
	return median_us(samples, n);
}

static double sgemm_once_ms(struct vaccel_session *s, float *a, float *b, float *c)
{
	double t0 = bench_now_s();

	if (vaccel_sgemm(s, 512, 512, 512, 1.0f, a, 512, b, 512, 0.0f, c, 512))
		die("sgemm failed (agent log: %s)", g_ag.log);
	return (bench_now_s() - t0) * 1e3;
}

/* n timed calls in a row after one warm-up call; their median in ms. */
static double sgemm_block_ms(struct vaccel_session *s, uint64_t n, float *a, float *b, float *c)
{
	double t[64];

	sgemm_once_ms(s, a, b, c);
	for (uint64_t i = 0; i < n; i++)
		t[i] = sgemm_once_ms(s, a, b, c);
	return bench_median(t, n);
}

/*
 * sgemm 512, each side as blocks of calls in a row as an application makes them: local
 * (ordinary memory), through the transport with pool tensors (pm), and with the ordinary
 * tensors copied. Local and pool blocks come in the order A B B A (flipped every
 * repetition) and each side is the mean of its two block medians, so that a drift of the
 * machine's speed during the repetition hits both sides alike. (Taking the sides call by
 * call in turn would instead let the agent's poller fall asleep before every transported
 * call: in this VM, waking an idle vCPU costs tens of us.) The local blocks run on CPU B,
 * where the agent's worker runs the transported ones: both sides' sgemm on the same CPU.
 */
static void measure_sgemm(const struct cfg *c, struct vaccel_session *l, struct vaccel_session *r,
			  uint64_t n, float *const m[3], float *const pm[3], int odd, struct rep *p)
{
	double zc = 0, local = 0;

	for (int k = 0; k < 4; k++) {
		if ((k == 0 || k == 3) == !odd) {
			if (bench_pin(c->cpu_b))
				die("cannot move to CPU %d", c->cpu_b);
			local += sgemm_block_ms(l, n, m[0], m[1], m[2]) / 2;
			if (bench_pin(c->cpu_a))
				die("cannot move back to CPU %d", c->cpu_a);
		} else
			zc += sgemm_block_ms(r, n, pm[0], pm[1], pm[2]) / 2;
	}
	p->sg_local_ms = local;
	p->sg_zc_ms = zc;
	p->sg_copy_ms = sgemm_block_ms(r, n, m[0], m[1], m[2]);
}

/* ---- report ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bulk_bench [--quick] [--json FILE] [--reps N] [--cpus A,B] [--calls N]\n"
		"                  [--sgemm-calls N] [--blas-threads N]\n"
		"Time per call with one input tensor of 4 KiB, 1 MiB and 64 MiB through the\n"
		"shared-memory transport to a real vaccel-agent: allocated in the pool with\n"
		"vaccel_buffer_alloc (zero copy), in ordinary memory (copied into the pool), and over\n"
		"a unix socket; plus sgemm 512 with pool tensors against the local blas plugin.\n"
		"Build with -c opt; run on an otherwise idle machine (both CPUs busy-poll).\n"
		"  --quick           small counts (smoke run)\n"
		"  --json FILE       write bulk.* and e2e.sgemm512_zc_overhead_pct\n"
		"  --reps N          interleaved repetitions (default 5)\n"
		"  --cpus A,B        guest CPU and agent poller CPU (default 0,1)\n"
		"  --calls N         timed calls per zero-copy measurement and per 4 KiB one; 1 MiB\n"
		"                    copies get N/10, 64 MiB copies N/100 (default 2000)\n"
		"  --sgemm-calls N   timed sgemm calls in a row per block (local and pool: two\n"
		"                    blocks per side and repetition, A B B A)\n"
		"                    (default 15, max 64)\n"
		"  --blas-threads N  OpenBLAS threads on both sides (default 1)\n");
}

static void *xalloc_pool(struct vaccel_session *s, size_t len)
{
	void *p;
	int ret = vaccel_buffer_alloc(s, len, &p);

	if (ret)
		die("vaccel_buffer_alloc(%zu) failed: %d (%s); the agent's pool is %s", len, ret,
		    strerror(ret), AGENT_POOL);
	return p;
}

static void fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		w[i] = seed + i * 0x9e3779b97f4a7c15ull;
}

int main(int argc, char **argv)
{
	bench_set_prog("bulk_bench");
	static const struct option opts[] = {
		{"quick", no_argument, 0, 'q'},       {"json", required_argument, 0, 'j'},
		{"reps", required_argument, 0, 'r'},  {"cpus", required_argument, 0, 'c'},
		{"calls", required_argument, 0, 'n'}, {"sgemm-calls", required_argument, 0, 's'},
		{"blas-threads", required_argument, 0, 'b'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cfg c = {.cpu_a = 0, .cpu_b = 1, .reps = 5, .calls = 2000, .sgemm_calls = 15,
			.blas_threads = 1};
	const char *json = NULL;
	int o, calls_set = 0, sg_set = 0;

	opterr = 0; /* one line of our own for a bad flag */
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'q': c.quick = 1; break;
		case 'j': json = optarg; break;
		case 'r': c.reps = (int)bench_parse_u64(optarg, "--reps"); break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &c.cpu_a, &c.cpu_b) != 2 || c.cpu_a < 0 || c.cpu_b < 0 ||
			    c.cpu_a == c.cpu_b)
				die("--cpus wants two different CPUs like 0,1, got '%s'", optarg);
			break;
		case 'n': c.calls = bench_parse_u64(optarg, "--calls"); calls_set = 1; break;
		case 's': c.sgemm_calls = bench_parse_u64(optarg, "--sgemm-calls"); sg_set = 1; break;
		case 'b': c.blas_threads = (int)bench_parse_u64(optarg, "--blas-threads"); break;
		case 'h': usage(stdout); return 0;
		default:
			bench_bad_option(argv[optind - 1]);
		}
	}
	bench_args_done(optind, argc, argv, c.reps, MAX_REPS);
	if (c.quick) {
		if (!calls_set)
			c.calls = 200;
		if (!sg_set)
			c.sgemm_calls = 3;
	}
	if (c.sgemm_calls > 64)
		die("--sgemm-calls is at most 64");

	char agent[4096], shm[4096], exec[4096], blas[4096], touch[4096], plugins[12300], bt[16];
	if (bench_runfile("runtime/agent/vaccel-agent", agent, sizeof(agent)) ||
	    bench_runfile("backends/remote/libvaccel-shm.so", shm, sizeof(shm)) ||
	    bench_runfile("backends/exec/libvaccel-exec.so", exec, sizeof(exec)) ||
	    bench_runfile("backends/blas/libvaccel-blas.so", blas, sizeof(blas)) ||
	    bench_runfile("perf/bulk/libbulk_touch.so", touch, sizeof(touch)))
		die("cannot find the agent, plugins and libbulk_touch.so in the runfiles (run it with "
		    "bazel run)");
	snprintf(bt, sizeof(bt), "%d", c.blas_threads);
	setenv("OPENBLAS_NUM_THREADS", bt, 1);
	setenv("VACCEL_BLAS_THREADS", bt, 1);
	alarm(c.quick ? 180 : 1200);
	bench_tsc_calibrate();

	/* The unix-socket server first: forked before this process has any threads. */
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair: %s", strerror(errno));
	pid_t server = fork();
	if (server < 0)
		die("fork: %s", strerror(errno));
	if (server == 0) {
		close(sv[0]);
		unix_server(sv[1], c.cpu_b);
	}
	close(sv[1]);

	snprintf(plugins, sizeof(plugins), "%s:%s", exec, blas);
	start_agent(&c, agent, plugins, touch);
	atexit(stop_agent);

	/* This process: the transport plugin, and the local blas plugin for the baseline. */
	snprintf(plugins, sizeof(plugins), "%s:%s", shm, blas);
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", plugins, 1);
	if (vaccel_bootstrap())
		die("vAccel runtime did not start");
	if (bench_pin(c.cpu_a))
		die("cannot pin to CPU %d", c.cpu_a);
	struct vaccel_session r_exec, r_blas, l_blas;
	if (vaccel_session_init(&r_exec, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_GENERIC) ||
	    vaccel_session_init(&r_blas, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_CPU) ||
	    vaccel_session_init(&l_blas, VACCEL_PLUGIN_CPU))
		die("cannot open the sessions (is the agent up? log: %s)", g_ag.log);
	if (l_blas.is_virtio)
		die("the local sgemm session got the transport plugin");

	/* Tensors: one in the pool and one in ordinary memory per size; sgemm's in both. */
	void *zc[NSIZE], *plain[NSIZE];
	for (int s = 0; s < NSIZE; s++) {
		zc[s] = xalloc_pool(&r_exec, sizes[s]);
		plain[s] = malloc(sizes[s]);
		if (!plain[s])
			die("out of memory");
		fill(zc[s], sizes[s], 1 + s);
		fill(plain[s], sizes[s], 1 + s);
	}
	const size_t mat = 512 * 512 * sizeof(float);
	float *pa = xalloc_pool(&r_blas, mat), *pb = xalloc_pool(&r_blas, mat), *pc = xalloc_pool(&r_blas, mat);
	float *ma = malloc(mat), *mb = malloc(mat), *mc = malloc(mat);
	uint64_t *samples = malloc((c.calls < 3 ? 3 : c.calls) * sizeof(*samples));
	struct rep reps[MAX_REPS] = {0};
	if (!ma || !mb || !mc || !samples)
		die("out of memory");
	for (int i = 0; i < 512 * 512; i++) {
		pa[i] = ma[i] = (float)(i % 7) * 0.25f;
		pb[i] = mb[i] = (float)(i % 5) - 2;
	}

	int tty = isatty(STDERR_FILENO);
	double t_start = bench_now_s();
	for (int r = 0; r < c.reps; r++) {
		struct rep *p = &reps[r];
		if (tty)
			fprintf(stderr, "\r  bulk: repetition %d/%d (%.0f s)   ", r + 1, c.reps,
				bench_now_s() - t_start);
		for (int s = 0; s < NSIZE; s++) {
			p->us[ZC][s] = measure_exec(&r_exec, touch, zc[s], sizes[s], calls_for(&c, ZC, s), samples);
			p->us[COPY][s] = measure_exec(&r_exec, touch, plain[s], sizes[s], calls_for(&c, COPY, s),
						      samples);
			p->us[UNIX_][s] = measure_unix(sv[0], plain[s], sizes[s], calls_for(&c, UNIX_, s), samples);
		}
		measure_sgemm(&c, &l_blas, &r_blas, c.sgemm_calls, (float *const[3]){ma, mb, mc},
			      (float *const[3]){pa, pb, pc}, r & 1, p);
		if (!tty)
			fprintf(stderr, "  bulk: repetition %d/%d done (%.1f s)\n", r + 1, c.reps,
				bench_now_s() - t_start);
	}
	if (tty)
		fprintf(stderr, "\r%60s\r", "");
	/* mc holds the last copied-argument result; the pool result must be the same. */
	if (memcmp(pc, mc, mat))
		die("sgemm with pool tensors differs from the one with copied tensors");

	/* Report. */
	int n = c.reps;
	double v[MAX_REPS], w[MAX_REPS];
	char key[64];
	struct bench_json *j = bench_json_new();
	printf("\nbulk: one input tensor per call (the host reads its first and last cache lines), "
	       "8-byte answer\n");
	printf("  guest on CPU %d, vaccel-agent poller on CPU %d, %d repetitions%s; us per call, "
	       "median [min..max]\n\n",
	       c.cpu_a, c.cpu_b, n, c.quick ? " (quick)" : "");
	printf("  %-8s %-28s %-28s %-28s\n", "tensor", "zero copy (in the pool)", "copied into the pool",
	       "unix socket");
	for (int s = 0; s < NSIZE; s++) {
		printf("  %-8s", size_name[s]);
		for (int k = 0; k < NKIND; k++) {
			char cell[64];
			for (int i = 0; i < n; i++)
				v[i] = reps[i].us[k][s];
			snprintf(cell, sizeof(cell), "%.1f [%.1f..%.1f]", bench_median(v, n), bench_min(v, n),
				 bench_max(v, n));
			printf(" %-28s", cell);
			snprintf(key, sizeof(key), "bulk.%s_%s_us", kind_key[k], size_key[s]);
			bench_json_num(j, key, bench_median(v, n));
		}
		printf("\n");
	}
	printf("  %-8s", "64M/4K");
	for (int k = 0; k < NKIND; k++) {
		char cell[64];
		for (int i = 0; i < n; i++)
			v[i] = reps[i].us[k][S64M] / reps[i].us[k][S4K];
		snprintf(cell, sizeof(cell), "%.2fx [%.2f..%.2f]%s", bench_median(v, n), bench_min(v, n),
			 bench_max(v, n), k == ZC ? " <=2x" : "");
		printf(" %-28s", cell);
		snprintf(key, sizeof(key), "bulk.%s_64m_vs_4k_ratio", kind_key[k]);
		bench_json_num(j, key, bench_median(v, n));
	}
	printf("\n");
	for (int i = 0; i < n; i++) {
		v[i] = reps[i].us[COPY][S64M] / reps[i].us[ZC][S64M];
		w[i] = reps[i].us[UNIX_][S64M] / reps[i].us[ZC][S64M];
	}
	printf("  64 MiB: copied / zero copy %.0fx [%.0f..%.0f], unix socket / zero copy %.0fx [%.0f..%.0f]\n",
	       bench_median(v, n), bench_min(v, n), bench_max(v, n), bench_median(w, n), bench_min(w, n),
	       bench_max(w, n));

	for (int i = 0; i < n; i++) {
		v[i] = (reps[i].sg_zc_ms - reps[i].sg_local_ms) / reps[i].sg_local_ms * 100.0;
		w[i] = (reps[i].sg_copy_ms - reps[i].sg_local_ms) / reps[i].sg_local_ms * 100.0;
	}
	double zc_over = bench_median(v, n), copy_over = bench_median(w, n);
	double loc[MAX_REPS], zcm[MAX_REPS];
	for (int i = 0; i < n; i++) {
		loc[i] = reps[i].sg_local_ms;
		zcm[i] = reps[i].sg_zc_ms;
	}
	printf("\n  sgemm 512^3, OpenBLAS %d thread(s), blocks of %llu calls in a row, local and pool\n"
	       "  blocks as A B B A per repetition (each side: the mean of its two block medians):\n",
	       c.blas_threads, (unsigned long long)c.sgemm_calls);
	printf("    local %.3f ms, through the transport with A, B, C in the pool %.3f ms\n",
	       bench_median(loc, n), bench_median(zcm, n));
	printf("    zero-copy overhead %.2f%% [%.2f..%.2f]   target < 1%%\n", zc_over, bench_min(v, n),
	       bench_max(v, n));
	printf("    copied-argument overhead %.2f%% [%.2f..%.2f] (for contrast)\n", copy_over,
	       bench_min(w, n), bench_max(w, n));
	bench_json_num(j, "e2e.sgemm512_zc_overhead_pct", zc_over);
	bench_json_num(j, "bulk.sgemm512_copy_overhead_pct", copy_over);
	bench_json_num(j, "bulk.sgemm512_local_ms", bench_median(loc, n));
	bench_json_num(j, "bulk.blas_threads", c.blas_threads);
	bench_json_machine(j);
	if (json && bench_json_write(j, json))
		die("cannot write %s", json);
	bench_json_free(j);

	for (int s = 0; s < NSIZE; s++) {
		vaccel_buffer_free(&r_exec, zc[s]);
		free(plain[s]);
	}
	vaccel_buffer_free(&r_blas, pa);
	vaccel_buffer_free(&r_blas, pb);
	vaccel_buffer_free(&r_blas, pc);
	free(ma);
	free(mb);
	free(mc);
	free(samples);
	vaccel_session_release(&r_exec);
	vaccel_session_release(&r_blas);
	vaccel_session_release(&l_blas);
	close(sv[0]);
	waitpid(server, NULL, 0);
	return 0;
}
