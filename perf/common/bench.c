/* SPDX-License-Identifier: Apache-2.0 */
#include "perf/common/bench.h"

#include <errno.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double g_tsc_ghz;
static const char *g_prog = "bench";

void bench_set_prog(const char *name)
{
	g_prog = name;
}

void bench_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", g_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void bench_bad_option(const char *arg)
{
	fprintf(stderr, "%s: unknown option or missing value: '%s' (see --help)\n", g_prog, arg);
	exit(2);
}

void bench_args_done(int optind, int argc, char **argv, uint64_t reps, uint64_t max_reps)
{
	if (optind < argc)
		bench_die("unexpected argument '%s' (see --help)", argv[optind]);
	if (reps > max_reps)
		bench_die("--reps is at most %llu", (unsigned long long)max_reps);
}

void bench_parse_cpus(const char *s, int *a, int *b)
{
	char tail;

	if (sscanf(s, "%d,%d%c", a, b, &tail) != 2 || *a < 0 || *b < 0 || *a == *b)
		bench_die("--cpus wants two different CPUs like 0,1, got '%s'", s);
}

uint64_t bench_parse_u64(const char *s, const char *flag)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);

	if (errno || *end || end == s || v == 0)
		bench_die("%s wants a positive number, got '%s'", flag, s);
	return v;
}
static uint64_t g_tsc_tick;

double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_tsc_calibrate(void)
{
	if (g_tsc_ghz > 0)
		return;
	double t0 = bench_now_s();
	uint64_t c0 = bench_tsc();
	while (bench_now_s() - t0 < 0.05)
		;
	double t1 = bench_now_s();
	uint64_t c1 = bench_tsc();
	g_tsc_ghz = (double)(c1 - c0) / ((t1 - t0) * 1e9);

	/* The tick: the most common non-zero step between back-to-back reads. */
	uint64_t steps[64], prev = __rdtsc();
	for (int k = 0; k < 64;) {
		uint64_t t = __rdtsc();
		if (t != prev)
			steps[k++] = t - prev;
		prev = t;
	}
	bench_sort_u64(steps, 64);
	uint64_t best = steps[0];
	for (int i = 0, run = 0, best_run = 0; i < 64; i++) {
		run = (i && steps[i] == steps[i - 1]) ? run + 1 : 1;
		if (run > best_run) {
			best_run = run;
			best = steps[i];
		}
	}
	g_tsc_tick = best ? best : 1;
}

uint64_t bench_tsc_tick(void)
{
	if (!g_tsc_tick)
		bench_tsc_calibrate();
	return g_tsc_tick;
}

double bench_tsc_ghz(void)
{
	if (g_tsc_ghz <= 0)
		bench_tsc_calibrate();
	return g_tsc_ghz;
}

int bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	return 0;
}

static int _cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void bench_sort_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), _cmp_u64);
}

uint64_t bench_pct_sorted(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

double bench_pct_interp(const uint64_t *v, size_t n, double p, uint64_t tick)
{
	if (n == 0)
		return 0;
	if (tick <= 1)
		return (double)bench_pct_sorted(v, n, p);
	double rank = p / 100.0 * (double)n;
	size_t i = (size_t)rank < n ? (size_t)rank : n - 1;
	/* The step holding the rank spans [v - tick/2, v + tick/2); find its population. */
	uint64_t lo_v = v[i] > tick / 2 ? v[i] - tick / 2 : 0, hi_v = v[i] + (tick + 1) / 2;
	size_t lo = i, hi = i;
	while (lo > 0 && v[lo - 1] >= lo_v)
		lo--;
	while (hi + 1 < n && v[hi + 1] < hi_v)
		hi++;
	double frac = (rank - (double)lo) / (double)(hi - lo + 1);
	if (frac < 0)
		frac = 0;
	if (frac > 1)
		frac = 1;
	return (double)lo_v + frac * (double)tick;
}

static int _cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_median(const double *v, size_t n)
{
	double tmp[64];

	if (n == 0 || n > 64)
		return 0;
	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), _cmp_d);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

double bench_min(const double *v, size_t n)
{
	double m = n ? v[0] : 0;

	for (size_t i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

double bench_max(const double *v, size_t n)
{
	double m = n ? v[0] : 0;

	for (size_t i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

int bench_runfile(const char *rel, char *out, size_t n)
{
	char cand[8192], exe[4096];
	const char *env = getenv("RUNFILES_DIR");
	ssize_t len;

	snprintf(cand, sizeof(cand), "%s", rel);
	if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < n)
		return 0;
	if (env) {
		snprintf(cand, sizeof(cand), "%s/vaccel_shm/%s", env, rel);
		if (access(cand, R_OK) == 0 && realpath(cand, out))
			return 0;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = 0;
		snprintf(cand, sizeof(cand), "%s.runfiles/vaccel_shm/%s", exe, rel);
		if (access(cand, R_OK) == 0 && realpath(cand, out))
			return 0;
	}
	return -ENOENT;
}

/*
 * --samples DIR: the sorted samples (cycles) of one series of the last repetition, written to
 * DIR/NAME.dat as "ns cumulative-fraction" lines: 1000 evenly spaced ranks up to p99, then
 * ranks ever closer to the tail (p99.9, p99.99, ...) and the maximum, ~1200 lines in all.
 */
int bench_write_cdf(const char *dir, const char *name, const uint64_t *sorted, size_t n)
{
	char path[4096];
	FILE *f;
	size_t last = 0;
	int first = 1;

	if (!dir || n == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "# %s: %zu samples of the last repetition, sorted\n# ns cumulative-fraction\n",
		name, n);
	for (int k = 0;; k++) {
		double tail = 0.01;
		size_t i;

		if (k < 1000) {
			i = (size_t)((double)k / 999.0 * 0.99 * (double)(n - 1));
		} else {
			for (int s = 1000; s < k; s++)
				tail *= 0.9772; /* 10^-0.01 */
			if (tail * (double)n < 1.0)
				break;
			i = (size_t)((1.0 - tail) * (double)(n - 1));
		}
		if (i >= n)
			i = n - 1;
		if (!first && i <= last)
			continue;
		first = 0;
		last = i;
		fprintf(f, "%.2f %.6f\n", bench_cycles_to_ns(sorted[i]), (double)(i + 1) / (double)n);
	}
	if (first || last != n - 1)
		fprintf(f, "%.2f %.6f\n", bench_cycles_to_ns(sorted[n - 1]), 1.0);
	if (fclose(f))
		return -errno;
	return 0;
}

static int _log_has(const char *path, const char *needle)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

int bench_agent_start(struct bench_agent *a, const char *tag, const char *agent,
		      const char *const *args)
{
	const char *argv[64];
	int n = 0;

	snprintf(a->sock, sizeof(a->sock), "/tmp/vaccel-%s-%d.sock", tag, (int)getpid());
	snprintf(a->log, sizeof(a->log), "/tmp/vaccel-%s-%d.log", tag, (int)getpid());
	unlink(a->sock);
	unlink(a->log);
	argv[n++] = agent;
	argv[n++] = "--socket";
	argv[n++] = a->sock;
	for (int i = 0; args && args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	a->pid = fork();
	if (a->pid < 0) {
		a->pid = -1;
		return -errno;
	}
	if (a->pid == 0) {
		FILE *f = fopen(a->log, "w");
		if (f) {
			dup2(fileno(f), 1);
			dup2(fileno(f), 2);
		}
		unsetenv("VACCEL_PLUGINS");
		execv(agent, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", agent, strerror(errno));
		_exit(127);
	}
	/* The agent logs once it listens (a connect probe would make it build a region). */
	for (int i = 0; i < 2000; i++) {
		if (_log_has(a->log, "listening on"))
			return 0;
		if (waitpid(a->pid, NULL, WNOHANG) == a->pid) {
			a->pid = -1;
			return -ECHILD;
		}
		usleep(5000);
	}
	return -ETIMEDOUT;
}

void bench_agent_stop(struct bench_agent *a)
{
	if (a->pid > 0) {
		kill(a->pid, SIGTERM);
		waitpid(a->pid, NULL, 0);
		a->pid = -1;
	}
	unlink(a->sock);
}

struct bench_json_ent {
	char key[64];
	int is_str;
	double num;
	char str[128];
};

struct bench_json {
	size_t n;
	struct bench_json_ent e[256];
};

struct bench_json *bench_json_new(void)
{
	return calloc(1, sizeof(struct bench_json));
}

static struct bench_json_ent *_json_slot(struct bench_json *j, const char *key)
{
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->e[i].key, key))
			return &j->e[i];
	if (j->n == sizeof(j->e) / sizeof(j->e[0]))
		return NULL;
	struct bench_json_ent *e = &j->e[j->n++];
	snprintf(e->key, sizeof(e->key), "%s", key);
	return e;
}

void bench_json_num(struct bench_json *j, const char *key, double v)
{
	struct bench_json_ent *e = _json_slot(j, key);

	if (e) {
		e->is_str = 0;
		e->num = v;
	}
}

void bench_json_str(struct bench_json *j, const char *key, const char *v)
{
	struct bench_json_ent *e = _json_slot(j, key);

	if (e) {
		e->is_str = 1;
		snprintf(e->str, sizeof(e->str), "%s", v);
	}
}

void bench_json_machine(struct bench_json *j)
{
	char model[128] = "unknown", line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");
	struct utsname u;

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *c = strchr(line, ':');
			if (!strncmp(line, "model name", 10) && c) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = 0;
				break;
			}
		}
		fclose(f);
	}
	bench_json_str(j, "machine.cpu", model);
	bench_json_num(j, "machine.cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
	if (uname(&u) == 0)
		bench_json_str(j, "machine.kernel", u.release);
}

static void _json_escape(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

int bench_json_write(const struct bench_json *j, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs("{\n", f);
	for (size_t i = 0; i < j->n; i++) {
		fputs("  ", f);
		_json_escape(f, j->e[i].key);
		fputs(": ", f);
		if (j->e[i].is_str)
			_json_escape(f, j->e[i].str);
		else if (j->e[i].num == (double)(long long)j->e[i].num && j->e[i].num < 1e15 &&
			 j->e[i].num > -1e15)
			fprintf(f, "%lld", (long long)j->e[i].num); /* counts keep every digit */
		else
			fprintf(f, "%.9g", j->e[i].num);
		fputs(i + 1 < j->n ? ",\n" : "\n", f);
	}
	fputs("}\n", f);
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

void bench_json_finish(struct bench_json *j, const char *path)
{
	int ret = path ? bench_json_write(j, path) : 0;

	if (ret)
		bench_die("cannot write %s: %s", path, strerror(-ret));
	bench_json_free(j);
}

void bench_json_free(struct bench_json *j)
{
	free(j);
}
