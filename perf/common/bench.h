/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every perf/ program shares: TSC timing, CPU pinning, percentiles over samples,
 * median/min/max over repetitions, machine facts and the flat JSON of
 * shared/notes/results-schema.md. Functions return 0 or -errno.
 */
#ifndef PERF_BENCH_H
#define PERF_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <x86intrin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Cycles since an arbitrary point; the lfence keeps earlier loads from drifting past it. */
static inline uint64_t bench_tsc(void)
{
	_mm_lfence();
	uint64_t t = __rdtsc();
	_mm_lfence();
	return t;
}

/* Measures the TSC rate against CLOCK_MONOTONIC_RAW (~50 ms). Idempotent. */
void bench_tsc_calibrate(void);
double bench_tsc_ghz(void);
static inline double bench_cycles_to_ns(uint64_t c)
{
	return (double)c / bench_tsc_ghz();
}
double bench_now_s(void);

/* Names the program in bench_die's messages (set once, first thing in main). */
void bench_set_prog(const char *name);
/* Prints "PROG: message" on stderr and exits 1. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A positive decimal number given to flag, or bench_die with a one-line message. */
uint64_t bench_parse_u64(const char *s, const char *flag);
/* An option getopt did not know, or one missing its value: one line on stderr, exit 2. */
void bench_bad_option(const char *arg) __attribute__((noreturn));
/* After getopt: bench_die on a stray argument or on more than max_reps repetitions. */
void bench_args_done(int optind, int argc, char **argv, uint64_t reps, uint64_t max_reps);
/* --cpus A,B: two different CPUs, or bench_die with a one-line message. */
void bench_parse_cpus(const char *s, int *a, int *b);

/* Pins the calling thread to cpu. 0 or -errno. */
int bench_pin(int cpu);

/* Smallest step the TSC advances by here (1 on most machines; ~26 cycles in some VMs). */
uint64_t bench_tsc_tick(void);

/* Sorts samples in place; p in [0,100]. */
void bench_sort_u64(uint64_t *v, size_t n);
uint64_t bench_pct_sorted(const uint64_t *v, size_t n, double p);
/*
 * Percentile of sorted samples that were quantized to steps of tick: the rank is placed
 * inside its step by the share of samples that fall on that step (the grouped-data
 * median), instead of snapping to the step. Returns the same unit as the samples.
 */
double bench_pct_interp(const uint64_t *v, size_t n, double p, uint64_t tick);

/* Median of n doubles (copied, not modified), and min/max. */
double bench_median(const double *v, size_t n);
double bench_min(const double *v, size_t n);
double bench_max(const double *v, size_t n);

/*
 * Absolute path of a file of this workspace's runfiles (e.g. "backends/shm/libvaccel-shm.so"):
 * the working directory (bazel run starts there), $RUNFILES_DIR, then <exe>.runfiles.
 * 0 or -ENOENT.
 */
int bench_runfile(const char *rel, char *out, size_t n);

/*
 * --samples: writes sorted samples (cycles) as DIR/NAME.dat "ns cumulative-fraction" lines
 * for a CDF plot (~1200 ranks, denser towards the tail). 0 (nothing to do when dir is NULL)
 * or -errno.
 */
int bench_write_cdf(const char *dir, const char *name, const uint64_t *sorted, size_t n);

/* A vaccel-agent a benchmark runs: socket and log under /tmp, named by a tag and the pid. */
struct bench_agent {
	int pid; /* -1 when not running */
	char sock[108];
	char log[160];
};

/*
 * Starts AGENT --socket SOCK followed by the NULL-terminated args, its output in the log
 * (VACCEL_PLUGINS unset: --plugins says what it loads), and waits up to 10 s until it logs
 * that it listens. 0; -ECHILD (it exited: see the log), -ETIMEDOUT, or -errno of fork.
 */
int bench_agent_start(struct bench_agent *a, const char *tag, const char *agent,
		      const char *const *args);
/* SIGTERM, wait for it, remove its socket. Fine on an agent that is not running. */
void bench_agent_stop(struct bench_agent *a);

/* Flat JSON object of numbers and strings, written at the end. */
struct bench_json;
struct bench_json *bench_json_new(void);
void bench_json_num(struct bench_json *j, const char *key, double v);
void bench_json_str(struct bench_json *j, const char *key, const char *v);
/* Adds machine.cpu, machine.cores, machine.kernel. */
void bench_json_machine(struct bench_json *j);
int bench_json_write(const struct bench_json *j, const char *path);
/* Writes j to path (nothing when path is NULL) or bench_die; then frees j. */
void bench_json_finish(struct bench_json *j, const char *path);
void bench_json_free(struct bench_json *j);

#ifdef __cplusplus
}
#endif

#endif /* PERF_BENCH_H */
