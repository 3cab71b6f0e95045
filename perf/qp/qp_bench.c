/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wait-ladder benchmark: what the adaptive polling step (vtr_qp_set_spin_max_ns) buys on
 * requests that take about a millisecond, against the fixed budget in the same run.
 *
 * A guest thread (CPU A) makes synchronous calls through a queue pair with eventfd
 * doorbells; a host thread (CPU B) polls without sleeping, busy-waits each request's work
 * time and completes it. Per call, the guest records its wake-ups (sleeps on the doorbell)
 * and the overhead: call time minus the work time. Scenarios, per repetition:
 *   fixed     a 20 us polling budget, 1 ms calls: each call ends in a sleep and a wake-up
 *   adaptive  the same with a 5 ms bound: after a few calls the waiter polls them through
 *   long      adaptive, 1 ms calls with one 50 ms call in the middle: polling comes back
 * The first calls of each scenario are a warm-up (the waiter learns). Figures are medians
 * over repetitions; the adaptive/fixed ratio is the median of per-repetition ratios.
 *
 * These used to be unit-test claims (tests/qp/qp_adaptive_spin_test.cc); they hold only
 * when both threads get their CPU, so they are measured here, on an idle machine.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "perf/common/bench.h"
#include "transport/qp.h"

#define MAX_REPS 15
#define WARMUP 4	   /* calls the adaptive waiter needs to learn the call length */
#define LONG_AT 10	   /* the long call of the "long" scenario */
#define LONG_CALLS 30	   /* calls of the "long" scenario */
#define AFTER_LONG 14	   /* its calls from here on should be polled through again */
#define FIXED_SPIN_NS 20000
#define SPIN_MAX_NS 5000000

struct cfg {
	int quick, reps, calls, cpu_guest, cpu_host;
	const char *json;
};

/* The pair and the host thread that serves it. */
struct bench_pair {
	void *mem;
	struct vtr_qp guest, host;
	int guest_fd, host_fd;
	pthread_t thread;
	int cpu;
	atomic_uint_fast64_t work_cycles; /* the next request's work time */
	atomic_int stop;
};

static void *host_main(void *arg)
{
	struct bench_pair *p = arg;

	if (bench_pin(p->cpu))
		bench_die("cannot pin the host thread to CPU %d", p->cpu);
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		struct vtr_sqe s;
		if (vtr_qp_host_take(&p->host, &s, 1) != 1)
			continue; /* a busy poller: only the guest's ladder is measured */
		uint64_t end = bench_tsc() + atomic_load_explicit(&p->work_cycles, memory_order_relaxed);
		while (bench_tsc() < end)
			;
		struct vtr_cqe c = {.user_data = s.user_data};
		if (vtr_qp_host_complete(&p->host, &c, 1) != 1)
			bench_die("the host could not complete a request");
	}
	return NULL;
}

static void pair_open(struct bench_pair *p, int cpu_host)
{
	const uint32_t entries = 8;
	uint64_t bytes = vtr_qp_bytes(entries, entries);

	memset(p, 0, sizeof(*p));
	p->mem = aligned_alloc(64, (bytes + 63) / 64 * 64);
	p->guest_fd = eventfd(0, EFD_CLOEXEC);
	p->host_fd = eventfd(0, EFD_CLOEXEC);
	if (!p->mem || p->guest_fd < 0 || p->host_fd < 0)
		bench_die("out of memory or eventfds");
	struct vtr_doorbell to_host = {p->host_fd, NULL, 0}, to_guest = {p->guest_fd, NULL, 0};
	if (vtr_qp_format(p->mem, bytes, entries, entries) ||
	    vtr_qp_attach(&p->guest, p->mem, bytes, entries, entries, VTR_QP_GUEST, p->guest_fd, &to_host) ||
	    vtr_qp_attach(&p->host, p->mem, bytes, entries, entries, VTR_QP_HOST, p->host_fd, &to_guest))
		bench_die("cannot set up the queue pair");
	p->cpu = cpu_host;
	if (pthread_create(&p->thread, NULL, host_main, p))
		bench_die("cannot start the host thread");
}

static void pair_close(struct bench_pair *p)
{
	atomic_store(&p->stop, 1);
	pthread_join(p->thread, NULL);
	close(p->guest_fd);
	close(p->host_fd);
	free(p->mem);
}

/* One scenario's figures. */
struct run {
	double sleeps_per_call; /* over the calls after the warm-up (or after the long call) */
	double overhead_p50_us, overhead_p99_us;
	double guest_cpu_pct; /* the guest thread's CPU over its wall time */
};

static double thread_cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * n calls of 1 ms (call long_at, if >= 0, of 50 ms) with the given bound; sleeps counted
 * from call `from` on, overheads over the 1 ms calls from `from` on.
 */
static struct run scenario(struct bench_pair *p, uint64_t spin_max_ns, int n, int long_at, int from)
{
	uint64_t ms = (uint64_t)(bench_tsc_ghz() * 1e6), *over = calloc((size_t)n, sizeof(*over));
	uint64_t wake0 = 0;
	size_t nover = 0;
	struct run r = {0};

	if (!over)
		bench_die("out of memory");
	vtr_qp_set_spin_ns(&p->guest, FIXED_SPIN_NS);
	vtr_qp_set_spin_max_ns(&p->guest, spin_max_ns);
	double cpu0 = thread_cpu_s(), wall0 = bench_now_s();
	for (int i = 0; i < n; i++) {
		uint64_t work = i == long_at ? 50 * ms : ms;
		atomic_store_explicit(&p->work_cycles, work, memory_order_relaxed);
		if (i == from)
			wake0 = p->guest.wakeups;
		struct vtr_sqe s = {.opcode = VTR_OP_NOP, .user_data = (uint64_t)i};
		struct vtr_cqe c;
		uint64_t t0 = bench_tsc();
		if (vtr_qp_submit(&p->guest, &s, 1) != 1)
			bench_die("submit failed");
		int got = vtr_qp_wait(&p->guest, &c, 1, 5000);
		uint64_t t1 = bench_tsc();
		if (got != 1 || c.user_data != (uint64_t)i)
			bench_die("call %d: no completion (%d)", i, got);
		if (i >= from && i != long_at)
			over[nover++] = t1 - t0 > work ? t1 - t0 - work : 0;
	}
	r.guest_cpu_pct = 100 * (thread_cpu_s() - cpu0) / (bench_now_s() - wall0);
	r.sleeps_per_call = (double)(p->guest.wakeups - wake0) / (n - from);
	bench_sort_u64(over, nover);
	r.overhead_p50_us = bench_cycles_to_ns(bench_pct_sorted(over, nover, 50)) / 1e3;
	r.overhead_p99_us = bench_cycles_to_ns(bench_pct_sorted(over, nover, 99)) / 1e3;
	free(over);
	return r;
}

enum { S_FIXED, S_ADAPTIVE, S_LONG, S_MAX };
static const char *const s_name[S_MAX] = {"fixed 20 us budget", "adaptive, 5 ms bound",
					   "adaptive, one 50 ms call"};

static void report(const struct cfg *c, struct run (*reps)[S_MAX])
{
	double v[MAX_REPS], ratio[MAX_REPS];
	int n = c->reps;
	struct bench_json *j = bench_json_new();
	static const char *const prefix[S_MAX] = {"qp.fixed_1ms", "qp.adaptive_1ms", "qp.adaptive_after_long"};

	printf("\nqp benchmark: the wait ladder on 1 ms calls, guest on CPU %d, polling host on CPU %d,\n"
	       "%d calls per scenario (the first %d a warm-up), %d repetitions; median [min..max]\n\n",
	       c->cpu_guest, c->cpu_host, c->calls, WARMUP, n);
	printf("  %-26s %18s %22s %22s %16s\n", "scenario", "sleeps per call", "overhead p50 (us)",
	       "overhead p99 (us)", "guest CPU (%)");
	for (int s = 0; s < S_MAX; s++) {
		char key[96];
		double med[4];
		printf("  %-26s", s_name[s]);
		for (int f = 0; f < 4; f++) {
			for (int r = 0; r < n; r++)
				v[r] = f == 0 ? reps[r][s].sleeps_per_call
				       : f == 1 ? reps[r][s].overhead_p50_us
				       : f == 2 ? reps[r][s].overhead_p99_us
						: reps[r][s].guest_cpu_pct;
			med[f] = bench_median(v, (size_t)n);
			printf(" %8.2f [%.2f..%.2f]", med[f], bench_min(v, (size_t)n), bench_max(v, (size_t)n));
		}
		printf("\n");
		snprintf(key, sizeof(key), "%s_sleeps_per_call", prefix[s]);
		bench_json_num(j, key, med[0]);
		if (s == S_LONG)
			continue; /* its overheads repeat the adaptive scenario's */
		snprintf(key, sizeof(key), "%s_overhead_p50_us", prefix[s]);
		bench_json_num(j, key, med[1]);
		snprintf(key, sizeof(key), "%s_overhead_p99_us", prefix[s]);
		bench_json_num(j, key, med[2]);
		snprintf(key, sizeof(key), "%s_guest_cpu_pct", prefix[s]);
		bench_json_num(j, key, med[3]);
	}
	for (int r = 0; r < n; r++)
		ratio[r] = reps[r][S_FIXED].overhead_p50_us > 0
				   ? reps[r][S_ADAPTIVE].overhead_p50_us / reps[r][S_FIXED].overhead_p50_us
				   : 0;
	double rmed = bench_median(ratio, (size_t)n);
	printf("\n  adaptive/fixed overhead p50: %.3fx (median of per-repetition ratios)\n", rmed);
	printf("  the adaptive waiter should poll 1 ms calls through: target <= 0.15 sleeps per call\n");
	bench_json_num(j, "qp.adaptive_vs_fixed_overhead_p50_ratio", rmed);
	bench_json_num(j, "qp.reps", n);
	bench_json_machine(j);
	bench_json_finish(j, c->json);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qp_bench [--quick] [--json FILE] [--reps N] [--calls N] [--cpus A,B]\n"
		"The wait ladder on 1 ms calls: sleeps per call, the overhead beyond the work time\n"
		"and the waiter's CPU, with the fixed polling budget and the adaptive one, in one run.\n"
		"Build with -c opt: bazel run -c opt //perf/qp:qp_bench -- --quick\n"
		"  --quick      3 repetitions of 40 calls (about 1 s); figures are indicative\n"
		"  --json FILE  write the flat results JSON (qp.*)\n"
		"  --reps N     repetitions, 3..%d (default 5; 3 with --quick)\n"
		"  --calls N    1 ms calls per scenario, at least %d (default 200; 40 with --quick)\n"
		"  --cpus A,B   the guest's and the host's CPU (default 0,1)\n",
		MAX_REPS, 2 * WARMUP);
}

int main(int argc, char **argv)
{
	bench_set_prog("qp_bench");
	static const struct option opts[] = {
		{"quick", no_argument, 0, 'q'},	    {"json", required_argument, 0, 'j'},
		{"reps", required_argument, 0, 'r'}, {"calls", required_argument, 0, 'n'},
		{"cpus", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cfg c = {.reps = 0, .calls = 0, .cpu_guest = 0, .cpu_host = 1};
	int o;

	opterr = 0; /* one line of our own for a bad flag */
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'q': c.quick = 1; break;
		case 'j': c.json = optarg; break;
		case 'r': c.reps = (int)bench_parse_u64(optarg, "--reps"); break;
		case 'n': c.calls = (int)bench_parse_u64(optarg, "--calls"); break;
		case 'c': bench_parse_cpus(optarg, &c.cpu_guest, &c.cpu_host); break;
		case 'h': usage(stdout); return 0;
		default:
			bench_bad_option(argv[optind - 1]);
		}
	}
	if (!c.reps)
		c.reps = c.quick ? 3 : 5;
	if (!c.calls)
		c.calls = c.quick ? 40 : 200;
	bench_args_done(optind, argc, argv, (uint64_t)c.reps, MAX_REPS);
	if (c.reps < 3)
		bench_die("--reps is at least 3 (figures are medians over repetitions)");
	if (c.calls < 2 * WARMUP || c.calls > 100000)
		bench_die("--calls must be between %d and 100000, got %d", 2 * WARMUP, c.calls);

	alarm(c.quick ? 60 : 600); /* a lost wake-up must not hang the run */
	bench_tsc_calibrate();
	if (bench_pin(c.cpu_guest))
		bench_die("cannot pin to CPU %d", c.cpu_guest);
	struct bench_pair p;
	pair_open(&p, c.cpu_host);
	struct run reps[MAX_REPS][S_MAX];
	int tty = isatty(STDERR_FILENO);
	double t0 = bench_now_s();
	for (int r = 0; r < c.reps; r++) {
		reps[r][S_FIXED] = scenario(&p, 0, c.calls, -1, WARMUP);
		reps[r][S_ADAPTIVE] = scenario(&p, SPIN_MAX_NS, c.calls, -1, WARMUP);
		reps[r][S_LONG] = scenario(&p, SPIN_MAX_NS, LONG_CALLS, LONG_AT, AFTER_LONG);
		fprintf(stderr, tty ? "\r  qp: repetition %d/%d done (%.1f s)" : "  qp: repetition %d/%d done (%.1f s)\n",
			r + 1, c.reps, bench_now_s() - t0);
	}
	if (tty)
		fprintf(stderr, "\r%60s\r", "");
	pair_close(&p);
	report(&c, reps);
	return 0;
}
