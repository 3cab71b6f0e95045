/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local runtime benchmark: the cost of a call through libvaccel with no
 * transport, and the CPU backend's sgemm rate.
 *
 *   noop    vaccel_noop through the runtime to the noop plugin. Each call is
 *           timed on its own with the TSC (lfence; rdtsc; lfence), converted
 *           to ns with the rate calibrated against CLOCK_MONOTONIC_RAW; the
 *           figures include the timer's own cost, printed beside them.
 *   sgemm   vaccel_sgemm on the blas plugin (OpenBLAS) for 256/512/1024
 *           squares; per repetition the median of several calls, in GFLOP/s.
 *
 * The whole set runs --reps times (>= 3); the table shows the median and
 * [min..max] over repetitions, and the JSON holds the medians.
 *
 * Plugins are found in the runfiles tree (bazel run sets the working
 * directory there; otherwise <binary>.runfiles/vaccel_shm or $RUNFILES_DIR
 * is used), or in --plugin-dir DIR which holds the two .so files.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vaccel.h>

#include "perf/common/bench.h"

#define MAX_REPS 15
#define NOOP_REL "backends/noop/libvaccel-noop.so"
#define BLAS_REL "backends/blas/libvaccel-blas.so"

static const long long sgemm_sizes[] = { 256, 512, 1024 };
#define NR_SIZES (sizeof(sgemm_sizes) / sizeof(sgemm_sizes[0]))

struct cfg {
	int quick;
	int cpu;
	int blas_threads;
	int reps;
	const char *json;
	const char *plugin_dir;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: local_bench [--quick] [--json FILE] [--cpu N] "
		"[--blas-threads N] [--reps N] [--plugin-dir DIR]\n"
		"vaccel_noop latency (noop plugin) and vaccel_sgemm GFLOP/s (blas\n"
		"plugin) through the local runtime. Build with -c opt:\n"
		"  bazel run -c opt //perf/local:local_bench -- --quick\n"
		"  --quick           a few seconds; figures are indicative\n"
		"  --json FILE       write the flat results JSON (local.*)\n"
		"  --cpu N           pin to CPU N (default 0)\n"
		"  --blas-threads N  OpenBLAS threads (default 1)\n"
		"  --reps N          repetitions, 3..%d (default 3 quick, 5 full)\n"
		"  --plugin-dir DIR  folder holding libvaccel-noop.so and\n"
		"                    libvaccel-blas.so (default: runfiles)\n",
		MAX_REPS);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct cfg *c)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", required_argument, NULL, 'j' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "blas-threads", required_argument, NULL, 't' },
		{ "reps", required_argument, NULL, 'r' },
		{ "plugin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":qj:c:t:r:p:h", opts, NULL)) != -1) {
		switch (o) {
		case 'q':
			c->quick = 1;
			break;
		case 'j':
			c->json = optarg;
			break;
		case 'c':
			if (parse_int(optarg, 0, 4095, &c->cpu))
				goto bad_value;
			break;
		case 't':
			if (parse_int(optarg, 1, 256, &c->blas_threads))
				goto bad_value;
			break;
		case 'r':
			if (parse_int(optarg, 3, MAX_REPS, &c->reps))
				goto bad_value;
			break;
		case 'p':
			c->plugin_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "local_bench: option '%s' needs a value\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr,
				"local_bench: unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
		continue;
bad_value:
		fprintf(stderr, "local_bench: bad value '%s' for %s\n", optarg,
			argv[optind - 1]);
		return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "local_bench: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!c->reps)
		c->reps = c->quick ? 3 : 5;
	return 0;
}

static int file_ok(const char *dir, const char *rel, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%s", dir, rel) >= n)
		return 0;
	return access(out, R_OK) == 0;
}

/* Fills noop/blas with plugin paths: --plugin-dir, then the runfiles tree
 * (cwd under bazel run, $RUNFILES_DIR, <exe>.runfiles). 0 or -ENOENT. */
static int find_plugins(const struct cfg *c, char *noop, char *blas, size_t n)
{
	char exe[PATH_MAX], dir[PATH_MAX + 64];
	const char *env;

	if (c->plugin_dir) {
		if (file_ok(c->plugin_dir, "libvaccel-noop.so", noop, n) &&
		    file_ok(c->plugin_dir, "libvaccel-blas.so", blas, n))
			return 0;
		fprintf(stderr, "local_bench: no libvaccel-noop.so and "
				"libvaccel-blas.so in %s\n",
			c->plugin_dir);
		return -ENOENT;
	}
	if (getcwd(dir, sizeof(dir)) && file_ok(dir, NOOP_REL, noop, n) &&
	    file_ok(dir, BLAS_REL, blas, n))
		return 0;
	env = getenv("RUNFILES_DIR");
	if (env) {
		snprintf(dir, sizeof(dir), "%s/vaccel_shm", env);
		if (file_ok(dir, NOOP_REL, noop, n) &&
		    file_ok(dir, BLAS_REL, blas, n))
			return 0;
	}
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		snprintf(dir, sizeof(dir), "%s.runfiles/vaccel_shm", exe);
		if (file_ok(dir, NOOP_REL, noop, n) &&
		    file_ok(dir, BLAS_REL, blas, n))
			return 0;
	}
	fprintf(stderr, "local_bench: cannot find the plugins; run it with "
			"bazel run, or pass --plugin-dir\n");
	return -ENOENT;
}

/* Restart the runtime on exactly our two plugins. 0 or -errno. */
static int boot(const struct cfg *c)
{
	char noop[PATH_MAX + 128], blas[PATH_MAX + 128];
	char list[2 * (PATH_MAX + 128) + 2], threads[16];
	int ret = find_plugins(c, noop, blas, sizeof(noop));
	if (ret)
		return ret;
	snprintf(list, sizeof(list), "%s:%s", noop, blas);
	snprintf(threads, sizeof(threads), "%d", c->blas_threads);
	/* Before OpenBLAS loads it reads OPENBLAS_NUM_THREADS; if it is
	 * already loaded, the blas plugin applies VACCEL_BLAS_THREADS. */
	setenv("OPENBLAS_NUM_THREADS", threads, 1);
	setenv("VACCEL_BLAS_THREADS", threads, 1);

	vaccel_cleanup();
	struct vaccel_config conf;
	ret = vaccel_config_init(&conf, list, VACCEL_LOG_ERROR, NULL, false,
				 false);
	if (ret)
		return -ret;
	ret = vaccel_bootstrap_with_config(&conf);
	vaccel_config_release(&conf);
	if (ret)
		return -ret;
	if (vaccel_plugin_count() != 2) {
		fprintf(stderr, "local_bench: plugins did not load (%s)\n", list);
		return -ENOENT;
	}
	return 0;
}

struct noop_fig {
	double p50, p99, timer;
};

/* One repetition: n timed calls. 0 or a VACCEL_E* code. */
static int run_noop(struct vaccel_session *s, size_t n, uint64_t *samples,
		    struct noop_fig *f)
{
	for (size_t i = 0; i < n / 10; i++)
		if (vaccel_noop(s))
			return VACCEL_EIO;
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = bench_tsc();
		int ret = vaccel_noop(s);
		uint64_t t1 = bench_tsc();
		if (ret)
			return ret;
		samples[i] = t1 - t0;
	}
	bench_sort_u64(samples, n);
	uint64_t tick = bench_tsc_tick();
	f->p50 = bench_cycles_to_ns(
		(uint64_t)bench_pct_interp(samples, n, 50, tick));
	f->p99 = bench_cycles_to_ns(
		(uint64_t)bench_pct_interp(samples, n, 99, tick));

	/* The timer alone, measured the same way. */
	for (size_t i = 0; i < n / 4; i++) {
		uint64_t t0 = bench_tsc();
		uint64_t t1 = bench_tsc();
		samples[i] = t1 - t0;
	}
	bench_sort_u64(samples, n / 4);
	f->timer = bench_cycles_to_ns(
		(uint64_t)bench_pct_interp(samples, n / 4, 50, tick));
	return 0;
}

static void fill(float *v, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = (float)((seed >> 16) % 1000) / 1000.0f - 0.5f;
	}
}

/* Median GFLOP/s of `calls` sgemm calls of size n. 0 or a VACCEL_E* code. */
static int run_sgemm(struct vaccel_session *s, long long n, int calls,
		     double *gflops)
{
	size_t elems = (size_t)(n * n);
	float *a = malloc(elems * sizeof(float));
	float *b = malloc(elems * sizeof(float));
	float *c = calloc(elems, sizeof(float));
	double t[16];
	int ret = VACCEL_ENOMEM;

	if (!a || !b || !c)
		goto out;
	fill(a, elems, 1);
	fill(b, elems, 2);
	ret = vaccel_sgemm(s, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
	for (int i = 0; i < calls && !ret; i++) {
		double t0 = bench_now_s();
		ret = vaccel_sgemm(s, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
		t[i] = bench_now_s() - t0;
	}
	if (!ret)
		*gflops = 2.0 * (double)n * (double)n * (double)n /
			  bench_median(t, (size_t)calls) * 1e-9;
out:
	free(a);
	free(b);
	free(c);
	return ret;
}

static void row(const char *name, const double *v, int n, const char *unit)
{
	printf("  %-22s %10.1f  [%.1f..%.1f] %s\n", name, bench_median(v, n),
	       bench_min(v, n), bench_max(v, n), unit);
}

int main(int argc, char **argv)
{
	struct cfg c = { .cpu = 0, .blas_threads = 1 };
	struct vaccel_session noop_s, blas_s;
	struct noop_fig nf[MAX_REPS];
	double p50[MAX_REPS], p99[MAX_REPS], timer[MAX_REPS];
	double gf[NR_SIZES][MAX_REPS];
	int ret;

	if (parse_args(argc, argv, &c))
		return 2;
	ret = bench_pin(c.cpu);
	if (ret) {
		fprintf(stderr, "local_bench: cannot pin to CPU %d: %s\n", c.cpu,
			strerror(-ret));
		return 1;
	}
	if (boot(&c))
		return 1;
	bench_tsc_calibrate();

	if (vaccel_session_init(&noop_s, VACCEL_PLUGIN_DEBUG) ||
	    vaccel_session_init(&blas_s, VACCEL_PLUGIN_CPU)) {
		fprintf(stderr, "local_bench: cannot create sessions\n");
		return 1;
	}

	size_t n_noop = c.quick ? 20000 : 200000;
	int calls = c.quick ? 3 : 7;
	uint64_t *samples = malloc(n_noop * sizeof(*samples));
	if (!samples)
		return 1;

	/* Repetitions interleave the two measurements. */
	for (int r = 0; r < c.reps; r++) {
		ret = run_noop(&noop_s, n_noop, samples, &nf[r]);
		if (ret) {
			fprintf(stderr, "local_bench: vaccel_noop failed: %d\n",
				ret);
			return 1;
		}
		p50[r] = nf[r].p50;
		p99[r] = nf[r].p99;
		timer[r] = nf[r].timer;
		for (size_t i = 0; i < NR_SIZES; i++) {
			ret = run_sgemm(&blas_s, sgemm_sizes[i], calls, &gf[i][r]);
			if (ret) {
				fprintf(stderr,
					"local_bench: vaccel_sgemm %lld failed: "
					"%d\n",
					sgemm_sizes[i], ret);
				return 1;
			}
		}
	}
	free(samples);

	printf("local runtime (CPU %d, TSC %.3f GHz, %d reps%s): median "
	       "[min..max]\n",
	       c.cpu, bench_tsc_ghz(), c.reps, c.quick ? ", quick" : "");
	printf(" vaccel_noop, noop plugin, %zu calls/rep, timed per call:\n",
	       n_noop);
	row("p50", p50, c.reps, "ns");
	row("p99", p99, c.reps, "ns");
	row("timer alone (p50)", timer, c.reps, "ns, included above");
	printf(" vaccel_sgemm, blas plugin, OpenBLAS %d thread(s), median of "
	       "%d calls/rep:\n",
	       c.blas_threads, calls);
	for (size_t i = 0; i < NR_SIZES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%lld^3", sgemm_sizes[i]);
		row(name, gf[i], c.reps, "GFLOP/s");
	}

	if (c.json) {
		char path[PATH_MAX];
		const char *wd = getenv("BUILD_WORKING_DIRECTORY");
		/* Under bazel run a relative path means the caller's folder. */
		if (c.json[0] != '/' && wd)
			snprintf(path, sizeof(path), "%s/%s", wd, c.json);
		else
			snprintf(path, sizeof(path), "%s", c.json);
		struct bench_json *j = bench_json_new();
		if (!j)
			return 1;
		bench_json_machine(j);
		bench_json_num(j, "local.noop_p50_ns", bench_median(p50, c.reps));
		bench_json_num(j, "local.noop_p99_ns", bench_median(p99, c.reps));
		bench_json_num(j, "local.noop_timer_ns",
			       bench_median(timer, c.reps));
		bench_json_num(j, "local.sgemm256_gflops",
			       bench_median(gf[0], c.reps));
		bench_json_num(j, "local.sgemm512_gflops",
			       bench_median(gf[1], c.reps));
		bench_json_num(j, "local.sgemm1024_gflops",
			       bench_median(gf[2], c.reps));
		bench_json_num(j, "local.blas_threads", c.blas_threads);
		ret = bench_json_write(j, path);
		bench_json_free(j);
		if (ret) {
			fprintf(stderr, "local_bench: cannot write %s: %s\n",
				path, strerror(-ret));
			return 1;
		}
	}
	vaccel_session_release(&noop_s);
	vaccel_session_release(&blas_s);
	return 0;
}
