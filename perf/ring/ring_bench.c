/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ring benchmark: this project's SPSC ring against DPDK's rte_ring (SP/SC), side by side in
 * one run, two processes on one shared memfd region pinned to two CPUs.
 *
 *   rtt      64-byte ping-pong round trips (ours: vtr_ring; rte: rte_ring *_elem, esize 64)
 *   single   one-way 8-byte items, one push/pop at a time (rte: burst of 1)
 *   batch32  one-way 8-byte items in batches of 32 (rte: burst of 32)
 *   probe    a bare cache line bounced between the two CPUs (the physical floor)
 *
 * Every payload is checked by the receiver. The whole set runs --reps times, interleaved;
 * the table shows medians with [min..max] over repetitions, and ours/rte ratios.
 * The second process is forked and maps the region again through the attach path, at a
 * different address than the parent's mapping.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "perf/common/bench.h"
#include "shm/barrier.h"
#include "shm/region.h"
#include "transport/ring.h"

#define PING_SLOTS 64u
#define TPUT_SLOTS 4096u
#define STOP_SEQ UINT64_MAX
#define MAX_REPS 15

enum { A_OURS_PING, A_OURS_PONG, A_OURS_TPUT };       /* RING areas */
enum { A_RTE_PING, A_RTE_PONG, A_RTE_TPUT, A_PROBE }; /* RAW areas */

enum test { T_PROBE, T_OURS_RTT, T_RTE_RTT, T_OURS_1, T_RTE_1, T_OURS_32, T_RTE_32, T_MAX };

static const char *const test_name[T_MAX] = {
	[T_PROBE] = "probe (bare cache line)", [T_OURS_RTT] = "ours rtt",
	[T_RTE_RTT] = "rte_ring rtt",          [T_OURS_1] = "ours single",
	[T_RTE_1] = "rte_ring burst 1",        [T_OURS_32] = "ours batch 32",
	[T_RTE_32] = "rte_ring burst 32",
};

struct cfg {
	int cpu_a, cpu_b;
	int reps;
	uint64_t rtt_iters, warmup, items;
	const char *json;
	const char *samples; /* --samples DIR, or NULL */
	int quick;
};

/* Latency figures of one rtt run (ns). */
struct lat {
	double min, p50, p90, p99, p999;
};

struct rep {
	struct lat rtt[T_MAX];
	double mops[T_MAX];
};

struct maps {
	struct vshm_region *reg;
	struct vtr_ring_shared *ours[3];
	const struct vshm_area *ours_area[3];
	struct rte_ring *rte[3];
	uint64_t *probe;
};

#define die bench_die

static void map_areas(struct maps *m)
{
	for (int i = 0; i < 3; i++) {
		m->ours[i] = vshm_region_area(m->reg, VSHM_AREA_RING, (uint32_t)i, &m->ours_area[i]);
		m->rte[i] = vshm_region_area(m->reg, VSHM_AREA_RAW, (uint32_t)i, NULL);
		if (!m->ours[i] || !m->rte[i])
			die("region lacks ring areas");
	}
	m->probe = vshm_region_area(m->reg, VSHM_AREA_RAW, A_PROBE, NULL);
}

static struct vshm_region *create_region(void)
{
	struct vshm_layout l;
	struct vshm_region *r;
	struct vshm_err err;
	struct vshm_opts o = {.numa_cpu = -1, .name = "ring-bench"};

	vshm_layout_init(&l);
	vshm_layout_add(&l, VSHM_AREA_RING, A_OURS_PING, vtr_ring_bytes(PING_SLOTS, 64), PING_SLOTS, 64);
	vshm_layout_add(&l, VSHM_AREA_RING, A_OURS_PONG, vtr_ring_bytes(PING_SLOTS, 64), PING_SLOTS, 64);
	vshm_layout_add(&l, VSHM_AREA_RING, A_OURS_TPUT, vtr_ring_bytes(TPUT_SLOTS, 8), TPUT_SLOTS, 8);
	vshm_layout_add(&l, VSHM_AREA_RAW, A_RTE_PING, (uint64_t)rte_ring_get_memsize_elem(64, PING_SLOTS), 0, 0);
	vshm_layout_add(&l, VSHM_AREA_RAW, A_RTE_PONG, (uint64_t)rte_ring_get_memsize_elem(64, PING_SLOTS), 0, 0);
	vshm_layout_add(&l, VSHM_AREA_RAW, A_RTE_TPUT, (uint64_t)rte_ring_get_memsize_elem(8, TPUT_SLOTS), 0, 0);
	vshm_layout_add(&l, VSHM_AREA_RAW, A_PROBE, 128, 0, 0);
	if (vshm_region_create(&o, &l, &r, &err))
		die("cannot create region: %s", err.msg);
	return r;
}

/* Fresh ring state before each test (run by the parent before it forks). */
static void reset_rings(struct maps *m)
{
	for (int i = 0; i < 3; i++) {
		const struct vshm_area *a = m->ours_area[i];
		if (vtr_ring_format(m->ours[i], a->size, a->param0, a->param1))
			die("vtr_ring_format failed");
	}
	const unsigned counts[3] = {PING_SLOTS, PING_SLOTS, TPUT_SLOTS};
	for (int i = 0; i < 3; i++)
		if (rte_ring_init(m->rte[i], i == 2 ? "tput" : i ? "pong" : "ping", counts[i],
				  RING_F_SP_ENQ | RING_F_SC_DEQ))
			die("rte_ring_init failed");
	memset(m->probe, 0, 128);
}

static void attach_ours(struct maps *m, int idx, struct vtr_ring *r, enum vtr_ring_role role)
{
	const struct vshm_area *a = m->ours_area[idx];

	if (vtr_ring_attach(r, m->ours[idx], a->size, a->param0, a->param1, role))
		die("vtr_ring_attach failed");
}

static void fill_msg(uint64_t *msg, uint64_t seq)
{
	for (int w = 0; w < 8; w++)
		msg[w] = seq * 8 + (uint64_t)w;
}

static int msg_ok(const uint64_t *msg, uint64_t seq)
{
	for (int w = 0; w < 8; w++)
		if (msg[w] != seq * 8 + (uint64_t)w)
			return 0;
	return 1;
}

/* ---- the child's side of each test ---- */

static int child_run(struct maps *m, enum test t, const struct cfg *c)
{
	uint64_t msg[8], buf[32];
	struct vtr_ring in, out;

	switch (t) {
	case T_PROBE: {
		volatile uint64_t *line = m->probe;
		for (uint64_t i = 0;; i++) {
			uint64_t v;
			while (((v = vshm_load_acquire(line)) & 1) == 0)
				vshm_cpu_relax();
			if (v == STOP_SEQ)
				return 0;
			vshm_store_release(line, v + 1);
		}
	}
	case T_OURS_RTT:
		attach_ours(m, A_OURS_PING, &in, VTR_RING_CONSUMER);
		attach_ours(m, A_OURS_PONG, &out, VTR_RING_PRODUCER);
		for (;;) {
			if (vtr_ring_pop_spin(&in, msg, UINT64_MAX) != 1)
				return 3;
			if (msg[0] == STOP_SEQ)
				return 0;
			while (vtr_ring_push(&out, msg) == 0)
				vshm_cpu_relax();
		}
	case T_RTE_RTT:
		for (;;) {
			while (rte_ring_sc_dequeue_elem(m->rte[A_RTE_PING], msg, 64) != 0)
				vshm_cpu_relax();
			if (msg[0] == STOP_SEQ)
				return 0;
			while (rte_ring_sp_enqueue_elem(m->rte[A_RTE_PONG], msg, 64) != 0)
				vshm_cpu_relax();
		}
	case T_OURS_1:
		attach_ours(m, A_OURS_TPUT, &out, VTR_RING_PRODUCER);
		for (uint64_t i = 0; i < c->items; i++) {
			buf[0] = i;
			while (vtr_ring_push(&out, buf) == 0)
				vshm_cpu_relax();
		}
		return 0;
	case T_RTE_1:
		for (uint64_t i = 0; i < c->items; i++) {
			buf[0] = i;
			while (rte_ring_sp_enqueue_burst_elem(m->rte[A_RTE_TPUT], buf, 8, 1, NULL) == 0)
				vshm_cpu_relax();
		}
		return 0;
	case T_OURS_32:
		attach_ours(m, A_OURS_TPUT, &out, VTR_RING_PRODUCER);
		for (uint64_t i = 0; i < c->items;) {
			uint32_t n = c->items - i < 32 ? (uint32_t)(c->items - i) : 32;
			for (uint32_t k = 0; k < n; k++)
				buf[k] = i + k;
			for (uint32_t done = 0; done < n;) {
				int got = vtr_ring_push_burst(&out, buf + done, n - done);
				if (got == 0)
					vshm_cpu_relax();
				done += (uint32_t)got;
			}
			i += n;
		}
		return 0;
	case T_RTE_32:
		for (uint64_t i = 0; i < c->items;) {
			uint32_t n = c->items - i < 32 ? (uint32_t)(c->items - i) : 32;
			for (uint32_t k = 0; k < n; k++)
				buf[k] = i + k;
			for (uint32_t done = 0; done < n;) {
				unsigned got = rte_ring_sp_enqueue_burst_elem(m->rte[A_RTE_TPUT], buf + done,
									      8, n - done, NULL);
				if (got == 0)
					vshm_cpu_relax();
				done += got;
			}
			i += n;
		}
		return 0;
	default:
		return 2;
	}
}

/* ---- the parent's side ---- */

static void lat_from(uint64_t *samples, size_t n, struct lat *out)
{
	uint64_t tick = bench_tsc_tick();

	bench_sort_u64(samples, n);
	out->min = bench_cycles_to_ns(samples[0]);
	out->p50 = bench_pct_interp(samples, n, 50, tick) / bench_tsc_ghz();
	out->p90 = bench_pct_interp(samples, n, 90, tick) / bench_tsc_ghz();
	out->p99 = bench_pct_interp(samples, n, 99, tick) / bench_tsc_ghz();
	out->p999 = bench_pct_interp(samples, n, 99.9, tick) / bench_tsc_ghz();
}

static void parent_rtt(struct maps *m, enum test t, const struct cfg *c, uint64_t *samples,
		       struct lat *out)
{
	uint64_t msg[8], back[8];
	struct vtr_ring ping, pong;
	volatile uint64_t *line = m->probe;
	uint64_t total = c->warmup + c->rtt_iters;

	if (t == T_OURS_RTT) {
		attach_ours(m, A_OURS_PING, &ping, VTR_RING_PRODUCER);
		attach_ours(m, A_OURS_PONG, &pong, VTR_RING_CONSUMER);
	}
	for (uint64_t i = 0; i < total; i++) {
		uint64_t t0, t1;

		fill_msg(msg, i);
		if (t == T_PROBE) {
			t0 = bench_tsc();
			vshm_store_release(line, 2 * i + 1);
			while (vshm_load_acquire(line) != 2 * i + 2)
				vshm_cpu_relax();
			t1 = bench_tsc();
		} else if (t == T_OURS_RTT) {
			t0 = bench_tsc();
			while (vtr_ring_push(&ping, msg) == 0)
				vshm_cpu_relax();
			if (vtr_ring_pop_spin(&pong, back, UINT64_MAX) != 1)
				die("%s: corrupt ring index", test_name[t]);
			t1 = bench_tsc();
			if (!msg_ok(back, i))
				die("%s: payload mismatch at round trip %llu", test_name[t],
				    (unsigned long long)i);
		} else {
			t0 = bench_tsc();
			while (rte_ring_sp_enqueue_elem(m->rte[A_RTE_PING], msg, 64) != 0)
				vshm_cpu_relax();
			while (rte_ring_sc_dequeue_elem(m->rte[A_RTE_PONG], back, 64) != 0)
				vshm_cpu_relax();
			t1 = bench_tsc();
			if (!msg_ok(back, i))
				die("%s: payload mismatch at round trip %llu", test_name[t],
				    (unsigned long long)i);
		}
		if (i >= c->warmup)
			samples[i - c->warmup] = t1 - t0;
	}
	/* Tell the echo side to leave. */
	msg[0] = STOP_SEQ;
	if (t == T_PROBE)
		vshm_store_release(line, STOP_SEQ);
	else if (t == T_OURS_RTT)
		while (vtr_ring_push(&ping, msg) == 0)
			vshm_cpu_relax();
	else
		while (rte_ring_sp_enqueue_elem(m->rte[A_RTE_PING], msg, 64) != 0)
			vshm_cpu_relax();
	lat_from(samples, c->rtt_iters, out);
}

/* Consumes c->items sequence numbers; returns Mops/s from first to last item. */
static double parent_tput(struct maps *m, enum test t, const struct cfg *c)
{
	uint64_t buf[32], expect = 0, t_first = 0;
	struct vtr_ring in;
	uint32_t want = (t == T_OURS_32 || t == T_RTE_32) ? 32 : 1;

	if (t == T_OURS_1 || t == T_OURS_32)
		attach_ours(m, A_OURS_TPUT, &in, VTR_RING_CONSUMER);
	while (expect < c->items) {
		int got;

		if (t == T_OURS_1)
			got = vtr_ring_pop(&in, buf);
		else if (t == T_OURS_32)
			got = vtr_ring_pop_burst(&in, buf, want);
		else
			got = (int)rte_ring_sc_dequeue_burst_elem(m->rte[A_RTE_TPUT], buf, 8, want, NULL);
		if (got <= 0) {
			if (got < 0)
				die("%s: corrupt ring index", test_name[t]);
			vshm_cpu_relax();
			continue;
		}
		if (expect == 0)
			t_first = bench_tsc();
		for (int k = 0; k < got; k++, expect++)
			if (buf[k] != expect)
				die("%s: item %llu arrived as %llu", test_name[t],
				    (unsigned long long)expect, (unsigned long long)buf[k]);
	}
	uint64_t t_last = bench_tsc();
	return (double)(c->items - 1) / bench_cycles_to_ns(t_last - t_first) * 1e3;
}

static void run_test(struct maps *m, enum test t, const struct cfg *c, uint64_t *samples,
		     struct rep *rep)
{
	pid_t pid;
	int st;

	reset_rings(m);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		struct maps cm;
		struct vshm_err err;

		/* The second process maps the region anew, through the same attach path a guest uses. */
		if (bench_pin(c->cpu_b))
			fprintf(stderr, "ring_bench: cannot pin to CPU %d\n", c->cpu_b);
		if (vshm_region_attach_fd(vshm_region_fd(m->reg), &cm.reg, &err))
			die("child attach: %s", err.msg);
		map_areas(&cm);
		_exit(child_run(&cm, t, c));
	}
	if (t == T_PROBE || t == T_OURS_RTT || t == T_RTE_RTT)
		parent_rtt(m, t, c, samples, &rep->rtt[t]);
	else
		rep->mops[t] = parent_tput(m, t, c);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("%s: the second process failed (status %d)", test_name[t], st);
}

/* --samples DIR: the sorted samples of the last repetition, for the CDF plot. */
static void dump_samples(const char *dir, const char *name, const uint64_t *sorted, size_t n)
{
	int ret = bench_write_cdf(dir, name, sorted, n);

	if (ret)
		die("cannot write %s/%s.dat: %s", dir, name, strerror(-ret));
}

/* ---- reporting ---- */

struct fig {
	double med, lo, hi;
};

static struct fig fig_of(const double *v, int n)
{
	struct fig f = {bench_median(v, (size_t)n), bench_min(v, (size_t)n), bench_max(v, (size_t)n)};
	return f;
}

static void lat_vals(const struct rep *reps, int n, enum test t, size_t off, double *v)
{
	for (int i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&reps[i].rtt[t] + off);
}

static void tput_vals(const struct rep *reps, int n, enum test t, double *v)
{
	for (int i = 0; i < n; i++)
		v[i] = reps[i].mops[t];
}

/*
 * The ratio is the median of per-repetition ratios: ours and rte_ring of one repetition run
 * back to back, so a change of vCPU placement between repetitions cancels out.
 */
static struct fig ratio_fig(const double *ours, const double *rte, int n)
{
	double v[MAX_REPS];

	for (int i = 0; i < n; i++)
		v[i] = rte[i] > 0 ? ours[i] / rte[i] : 0;
	return fig_of(v, n);
}

static void row(const char *name, const double *ours_v, const double *rte_v, int n,
		const char *target, struct fig *ours, struct fig *ratio)
{
	char a[48], b[48], r[40];
	struct fig rte = fig_of(rte_v, n);

	*ours = fig_of(ours_v, n);
	*ratio = ratio_fig(ours_v, rte_v, n);
	snprintf(a, sizeof(a), "%.1f [%.1f..%.1f]", ours->med, ours->lo, ours->hi);
	snprintf(b, sizeof(b), "%.1f [%.1f..%.1f]", rte.med, rte.lo, rte.hi);
	snprintf(r, sizeof(r), "%.2fx [%.2f..%.2f]", ratio->med, ratio->lo, ratio->hi);
	printf("  %-20s %-24s %-24s %-20s %s\n", name, a, b, r, target);
}

static void report(const struct cfg *c, const struct rep *reps)
{
	int n = c->reps;
	static const struct {
		const char *name;
		size_t off;
		const char *key_ours, *key_rte, *target;
	} lats[] = {
		{"rtt min (ns)", offsetof(struct lat, min), "ring.rtt_min_ns", "rte.rtt_min_ns", ""},
		{"rtt p50 (ns)", offsetof(struct lat, p50), "ring.rtt_p50_ns", "rte.rtt_p50_ns", "<= 0.75x"},
		{"rtt p90 (ns)", offsetof(struct lat, p90), "ring.rtt_p90_ns", "rte.rtt_p90_ns", ""},
		{"rtt p99 (ns)", offsetof(struct lat, p99), "ring.rtt_p99_ns", "rte.rtt_p99_ns", ""},
		{"rtt p99.9 (ns)", offsetof(struct lat, p999), "ring.rtt_p999_ns", "rte.rtt_p999_ns", ""},
	};
	static const struct {
		const char *name;
		enum test ours, rte;
		const char *key_ours, *key_rte, *key_ratio, *target;
	} tputs[] = {
		{"single (Mops/s)", T_OURS_1, T_RTE_1, "ring.tput_single_mops", "rte.tput_burst1_mops",
		 "ring.vs_rte.tput_single_ratio", ">= 3x"},
		{"batch 32 (Mops/s)", T_OURS_32, T_RTE_32, "ring.tput_batch32_mops",
		 "rte.tput_burst32_mops", "ring.vs_rte.tput_batch32_ratio", ">= 1.5x"},
	};
	struct bench_json *j = bench_json_new();
	double ov[MAX_REPS], rv[MAX_REPS], pv[MAX_REPS];
	struct fig o, ratio, probe;

	printf("\nring benchmark: 2 processes on one shared region, CPUs %d and %d, %d repetitions"
	       "%s\n", c->cpu_a, c->cpu_b, n, c->quick ? " (quick)" : "");
	printf("  %llu round trips of 64 bytes after %llu warm-up; %llu one-way 8-byte items; "
	       "TSC %.3f GHz, tick %llu cycles\n", (unsigned long long)c->rtt_iters,
	       (unsigned long long)c->warmup, (unsigned long long)c->items, bench_tsc_ghz(),
	       (unsigned long long)bench_tsc_tick());
	if (bench_tsc_tick() > 1)
		printf("  percentiles are placed inside the TSC's %.1f ns steps (grouped-data interpolation)\n",
		       (double)bench_tsc_tick() / bench_tsc_ghz());
	printf("  median [min..max] over repetitions; ratio = median of per-repetition ratios\n\n");
	printf("  %-20s %-24s %-24s %-20s %s\n", "", "ours (vtr_ring)", "DPDK rte_ring SP/SC",
	       "ours/rte", "target");
	for (size_t i = 0; i < sizeof(lats) / sizeof(lats[0]); i++) {
		lat_vals(reps, n, T_OURS_RTT, lats[i].off, ov);
		lat_vals(reps, n, T_RTE_RTT, lats[i].off, rv);
		row(lats[i].name, ov, rv, n, lats[i].target, &o, &ratio);
		bench_json_num(j, lats[i].key_ours, o.med);
		bench_json_num(j, lats[i].key_rte, bench_median(rv, (size_t)n));
		if (i == 1)
			bench_json_num(j, "ring.vs_rte.rtt_p50_ratio", ratio.med);
	}
	for (size_t i = 0; i < sizeof(tputs) / sizeof(tputs[0]); i++) {
		tput_vals(reps, n, tputs[i].ours, ov);
		tput_vals(reps, n, tputs[i].rte, rv);
		row(tputs[i].name, ov, rv, n, tputs[i].target, &o, &ratio);
		bench_json_num(j, tputs[i].key_ours, o.med);
		bench_json_num(j, tputs[i].key_rte, bench_median(rv, (size_t)n));
		bench_json_num(j, tputs[i].key_ratio, ratio.med);
	}
	lat_vals(reps, n, T_PROBE, offsetof(struct lat, p50), pv);
	lat_vals(reps, n, T_OURS_RTT, offsetof(struct lat, p50), ov);
	probe = fig_of(pv, n);
	ratio = ratio_fig(ov, pv, n);
	printf("\n  probe: bare cache-line round trip p50 %.1f ns [%.1f..%.1f]; ours p50 is %.2fx of it\n",
	       probe.med, probe.lo, probe.hi, ratio.med);

	bench_json_machine(j);
	bench_json_num(j, "machine.probe_rtt_ns", probe.med);
	bench_json_num(j, "ring.reps", n);
	if (c->json) {
		int ret = bench_json_write(j, c->json);
		if (ret)
			die("cannot write %s: %s", c->json, strerror(-ret));
	}
	bench_json_free(j);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ring_bench [--quick] [--json FILE] [--reps N] [--cpus A,B]\n"
		"                  [--rtt-iters N] [--items N]\n"
		"Ring round-trip latency and one-way throughput, ours against DPDK rte_ring,\n"
		"two processes on one shared region. Build with -c opt.\n"
		"  --quick        small counts, for a smoke run (a few seconds)\n"
		"  --json FILE    write ring.*, rte.*, machine.* keys (results-schema.md)\n"
		"  --reps N       repetitions of the whole set, interleaved (default 5, max %d)\n"
		"  --cpus A,B     CPUs of the two processes (default 0,1)\n"
		"  --rtt-iters N  measured round trips per run (default 200000)\n"
		"  --items N      one-way items per throughput run (default 33554432)\n"
		"  --samples DIR  write the sorted round trips (ns) of the last repetition, thinned to\n"
		"                 ~1200 ranks, to DIR/ring_{ours,rte,probe}_rtt.dat (for CDF plots)\n",
		MAX_REPS);
}

int main(int argc, char **argv)
{
	bench_set_prog("ring_bench");
	static const struct option opts[] = {
		{"quick", no_argument, 0, 'q'},     {"json", required_argument, 0, 'j'},
		{"reps", required_argument, 0, 'r'}, {"cpus", required_argument, 0, 'c'},
		{"rtt-iters", required_argument, 0, 'i'}, {"items", required_argument, 0, 'n'},
		{"samples", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cfg c = {.cpu_a = 0, .cpu_b = 1, .reps = 5, .rtt_iters = 200000, .warmup = 20000,
			.items = 1u << 25};
	int o, rtt_set = 0, items_set = 0;

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
		case 'i': c.rtt_iters = bench_parse_u64(optarg, "--rtt-iters"); rtt_set = 1; break;
		case 'n': c.items = bench_parse_u64(optarg, "--items"); items_set = 1; break;
		case 's': c.samples = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			bench_bad_option(argv[optind - 1]);
		}
	}
	bench_args_done(optind, argc, argv, c.reps, MAX_REPS);
	if (c.quick) {
		if (!rtt_set)
			c.rtt_iters = 20000;
		if (!items_set)
			c.items = 1u << 21;
		c.warmup = 2000;
	}
	if (c.items < 64)
		die("--items must be at least 64");

	/* Nothing here may wait forever if the other process dies. */
	alarm(c.quick ? 60 : 600);
	bench_tsc_calibrate();
	if (bench_pin(c.cpu_a))
		die("cannot pin to CPU %d", c.cpu_a);

	struct maps m = {.reg = create_region()};
	map_areas(&m);
	uint64_t *samples = malloc(c.rtt_iters * sizeof(*samples));
	struct rep reps[MAX_REPS];
	if (!samples)
		die("out of memory for %llu samples", (unsigned long long)c.rtt_iters);
	memset(reps, 0, sizeof(reps));

	int tty = isatty(STDERR_FILENO);
	double t_start = bench_now_s();
	for (int r = 0; r < c.reps; r++) {
		for (int t = 0; t < T_MAX; t++) {
			if (tty)
				fprintf(stderr, "\r  ring: repetition %d/%d, %-24s (%.0f s)", r + 1, c.reps,
					test_name[t], bench_now_s() - t_start);
			run_test(&m, (enum test)t, &c, samples, &reps[r]);
			if (r == c.reps - 1 && (t == T_PROBE || t == T_OURS_RTT || t == T_RTE_RTT))
				dump_samples(c.samples,
					     t == T_PROBE ? "ring_probe_rtt" : t == T_OURS_RTT ? "ring_ours_rtt"
											   : "ring_rte_rtt",
					     samples, c.rtt_iters);
		}
		if (!tty)
			fprintf(stderr, "  ring: repetition %d/%d done (%.1f s)\n", r + 1, c.reps,
				bench_now_s() - t_start);
	}
	if (tty)
		fprintf(stderr, "\r%70s\r", "");
	report(&c, reps);
	free(samples);
	vshm_region_close(m.reg);
	return 0;
}
