/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inference benchmark: vaccel_torch_model_run of TorchScript models (made here with
 * libtorch: tests/torch/models.cc), p50 and p99 per call, three ways side by side:
 *
 *   local  the torch plugin in this process
 *   e2e    this process as a guest of a real vaccel-agent (started here) whose torch
 *          plugin runs the model: the call crosses the shared-memory transport
 *   unix   the same call over a unix socket: a forked server process runs the torch
 *          plugin; each request carries the input tensor, each response the output
 *
 * for a small model (1x256 float in, a two-layer perceptron, tens of us) and a
 * 3x224x224 CNN (a few ms). Local and transported calls take their inputs from
 * vaccel_buffer_alloc memory of their session, as a vAccel application keeps its tensors
 * (through the transport that is the pool: the call carries offsets); the unix socket
 * carries the bytes. Then a 4 MiB input tensor through the transport, from the
 * pool (vaccel_buffer_alloc: zero copy) against ordinary memory (copied), and 4 KiB from
 * the pool: the zero-copy time must not grow with the size. The model of that part
 * (Slice) returns the first 16 elements, so its own cost does not grow with the size.
 *
 * A CNN's speed also depends on where libtorch's buffers land in a process: copies of it
 * loaded one after another ran steadily at ~1.9 or at ~2.6 ms, so the CNN figures of two
 * processes can differ by ~30% for that alone (the comparison is then of placements).
 *
 * Every side uses the same libtorch thread count (--torch-threads) and runs the model on
 * the same CPU (B: the agent's worker, the unix server, and the local plugin's calls, which
 * move there for their turns). Within a repetition the sides take turns in slices of
 * calls, the order rotating, so that each sees the same phases of a noisy machine; each
 * figure is the median over repetitions, the overheads are medians of per-repetition
 * ratios. The transport part needs torch ops to cross the
 * transport: when the guest plugin answers VACCEL_ENOTSUP it is reported as unavailable.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vaccel.h>

#include "perf/common/bench.h"
#include "tests/torch/models.h"

#define MAX_REPS 15
#define AGENT_POOL "4k:64,64k:16,1m:16,4m:6,16m:2"
#define die bench_die

enum { LOCAL, E2E, UNIX_, NKIND };
enum { SMALL, CNN, SLICE, NMODEL };
static const char *const kind_key[NKIND] = {"local", "e2e", "unix"};
static const char *const kind_name[NKIND] = {"local plugin", "through the transport",
					     "unix socket"};
static const char *const model_key[NMODEL] = {"small", "cnn", "slice"};
/* Input shapes: [1, 256], [1, 3, 224, 224], and [1, N] for Slice. */
static const int64_t small_dims[2] = {1, 256}, cnn_dims[4] = {1, 3, 224, 224};
/* Calls per turn of a side (the sides take turns within a repetition). */
#define SLICE_SMALL 100
#define SLICE_CNN 5
#define SLICE_4K (4096 / 4)
#define SLICE_4M ((4 << 20) / 4)

struct cfg {
	int cpu_a, cpu_b, reps, quick, threads;
	uint64_t small_calls, cnn_calls, slice_calls;
};

/* Per repetition: p50/p99 (us) per kind and model; the slice figures (p50, us). */
struct rep {
	double p50[NKIND][2], p99[NKIND][2];
	double zc_4k, zc_4m, copy_4m, local_4k, local_4m;
};

static struct bench_agent g_ag = {.pid = -1};

static void stop_agent(void)
{
	bench_agent_stop(&g_ag);
}

/* ---- one timed call ---- */

struct model {
	struct vaccel_resource res;
	const int64_t *dims;
	int nr_dims;
};

static int run_once(struct vaccel_session *s, struct model *m, void *in, size_t bytes,
		    const int64_t *dims, int nr_dims)
{
	struct vaccel_torch_tensor t = {.data = in, .size = bytes, .owned = false,
					.nr_dims = nr_dims, .dims = (int64_t *)dims,
					.data_type = VACCEL_TORCH_FLOAT};
	struct vaccel_torch_tensor *tp = &t, *out = NULL;
	int ret = vaccel_torch_model_run(s, &m->res, NULL, &tp, 1, &out, 1);
	if (!ret)
		vaccel_torch_tensor_delete(out);
	return ret;
}

/* One untimed call, then n timed ones into samples. */
static void timed(struct vaccel_session *s, struct model *m, void *in, size_t bytes,
		  const int64_t *dims, int nr_dims, uint64_t n, uint64_t *samples)
{
	if (run_once(s, m, in, bytes, dims, nr_dims))
		die("vaccel_torch_model_run failed (agent log: %s)", g_ag.log);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t0 = bench_tsc();
		int ret = run_once(s, m, in, bytes, dims, nr_dims);
		samples[i] = bench_tsc() - t0;
		if (ret)
			die("vaccel_torch_model_run failed: %d (%s)", ret, strerror(ret));
	}
}

/* p50 and (p99 non-NULL) p99 in us of n samples, which it sorts. */
static void pcts(uint64_t *samples, uint64_t n, double *p50, double *p99)
{
	uint64_t tick = bench_tsc_tick();

	bench_sort_u64(samples, n);
	*p50 = bench_pct_interp(samples, n, 50, tick) / bench_tsc_ghz() / 1e3;
	if (p99)
		*p99 = bench_pct_interp(samples, n, 99, tick) / bench_tsc_ghz() / 1e3;
}

/* n timed calls after n/10 + 2 warm-up ones; p50 and p99 in us. */
static void measure(struct vaccel_session *s, struct model *m, void *in, size_t bytes,
		    const int64_t *dims, int nr_dims, uint64_t n, uint64_t *samples, double *p50,
		    double *p99)
{
	timed(s, m, in, bytes, dims, nr_dims, n / 10 + 1, samples); /* warm-up */
	timed(s, m, in, bytes, dims, nr_dims, n, samples);
	pcts(samples, n, p50, p99);
}

/* ---- the unix-socket baseline ---- */

/* A request: model index and input bytes, then the bytes. A response: the result code and
 * the output bytes, then the bytes. */
struct unix_req {
	uint32_t model;
	uint32_t pad;
	uint64_t bytes;
};
struct unix_res {
	int32_t ret;
	uint32_t pad;
	uint64_t bytes;
};

static int xfer(int fd, void *buf, size_t n, int out)
{
	char *p = buf;
	while (n) {
		ssize_t k = out ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, MSG_WAITALL);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The server: waits for the model paths, starts its own runtime with the torch plugin,
 * then runs each request with vaccel_torch_model_run. Forked before this process has
 * threads (libtorch's pool must not be forked). */
static void unix_server(int fd, int cpu, const char *plugin)
{
	char paths[2][4096];
	struct model m[2] = {{.dims = small_dims, .nr_dims = 2}, {.dims = cnn_dims, .nr_dims = 4}};
	struct vaccel_session s;
	size_t cap = sizeof(float) * 3 * 224 * 224;
	float *in = malloc(cap);

	if (!in || xfer(fd, paths, sizeof(paths), 0))
		_exit(1);
	bench_pin(cpu);
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", plugin, 1);
	if (vaccel_bootstrap() || vaccel_session_init(&s, VACCEL_PLUGIN_TORCH))
		_exit(1);
	for (int i = 0; i < 2; i++)
		if (vaccel_resource_init(&m[i].res, paths[i], VACCEL_RESOURCE_MODEL) ||
		    vaccel_resource_register(&m[i].res, &s) ||
		    vaccel_torch_model_load(&s, &m[i].res))
			_exit(1);
	for (;;) {
		struct unix_req rq;
		struct unix_res rs = {0};
		struct vaccel_torch_tensor *out = NULL;
		if (xfer(fd, &rq, sizeof(rq), 0))
			_exit(0);
		if (rq.model > CNN || rq.bytes > cap || xfer(fd, in, rq.bytes, 0))
			_exit(1);
		struct vaccel_torch_tensor t = {.data = in, .size = rq.bytes,
						.nr_dims = m[rq.model].nr_dims,
						.dims = (int64_t *)m[rq.model].dims,
						.data_type = VACCEL_TORCH_FLOAT};
		struct vaccel_torch_tensor *tp = &t;
		rs.ret = vaccel_torch_model_run(&s, &m[rq.model].res, NULL, &tp, 1, &out, 1);
		rs.bytes = rs.ret ? 0 : out->size;
		if (xfer(fd, &rs, sizeof(rs), 1) || (rs.bytes && xfer(fd, out->data, rs.bytes, 1)))
			_exit(1);
		if (out)
			vaccel_torch_tensor_delete(out);
	}
}

/* One untimed call, then n timed ones into samples. */
static void unix_timed(int fd, int model, const float *in, size_t bytes, uint64_t n,
		       uint64_t *samples)
{
	char out[4096];

	for (uint64_t i = 0; i < n + 1; i++) {
		struct unix_req rq = {.model = (uint32_t)model, .bytes = bytes};
		struct unix_res rs;
		uint64_t t0 = bench_tsc();
		if (xfer(fd, &rq, sizeof(rq), 1) || xfer(fd, (void *)in, bytes, 1) ||
		    xfer(fd, &rs, sizeof(rs), 0) || rs.ret || rs.bytes > sizeof(out) ||
		    xfer(fd, out, rs.bytes, 0))
			die("unix-socket model run failed");
		uint64_t dt = bench_tsc() - t0;
		if (i >= 1)
			samples[i - 1] = dt;
	}
}

/* ---- set-up ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: infer_bench [--quick] [--json FILE] [--reps N] [--cpus A,B]\n"
		"                   [--calls N] [--cnn-calls N] [--torch-threads N]\n"
		"vaccel_torch_model_run of a small model and of a 3x224x224 CNN (both made here with\n"
		"libtorch): the local torch plugin, through the shared-memory transport to a real\n"
		"vaccel-agent, and over a unix socket; p50 and p99 per call. Then a 4 MiB input\n"
		"tensor through the transport from the pool (zero copy) and from ordinary memory.\n"
		"Build with -c opt; run on an otherwise idle machine (both CPUs busy-poll).\n"
		"  --quick            small counts (smoke run)\n"
		"  --json FILE        write the infer.* keys\n"
		"  --reps N           repetitions, the order of the sides rotated (default 5)\n"
		"  --cpus A,B         guest CPU and agent poller / server CPU (default 0,1)\n"
		"  --calls N          timed calls of the small and the slice model (default 2000)\n"
		"  --cnn-calls N      timed calls of the CNN (default 60)\n"
		"  --torch-threads N  libtorch intra-op threads on every side (default 1)\n");
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

static void model_open(struct model *m, const char *path, struct vaccel_session *s)
{
	int ret = vaccel_resource_init(&m->res, path, VACCEL_RESOURCE_MODEL);
	if (!ret)
		ret = vaccel_resource_register(&m->res, s);
	if (ret)
		die("cannot register the model %s: %d (%s)", path, ret, strerror(ret));
}

static void fill(float *p, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
}

/* "m [min..max]" of one figure over the repetitions. */
static const char *cell(char *buf, size_t n, const double *v, int reps)
{
	snprintf(buf, n, "%.1f [%.1f..%.1f]", bench_median(v, reps), bench_min(v, reps),
		 bench_max(v, reps));
	return buf;
}

int main(int argc, char **argv)
{
	bench_set_prog("infer_bench");
	static const struct option opts[] = {
		{"quick", no_argument, 0, 'q'},        {"json", required_argument, 0, 'j'},
		{"reps", required_argument, 0, 'r'},   {"cpus", required_argument, 0, 'c'},
		{"calls", required_argument, 0, 'n'},  {"cnn-calls", required_argument, 0, 'C'},
		{"torch-threads", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cfg c = {.cpu_a = 0, .cpu_b = 1, .reps = 5, .threads = 1, .small_calls = 2000,
			.cnn_calls = 60};
	const char *json = NULL;
	int o, calls_set = 0, cnn_set = 0;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'q': c.quick = 1; break;
		case 'j': json = optarg; break;
		case 'r': c.reps = (int)bench_parse_u64(optarg, "--reps"); break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &c.cpu_a, &c.cpu_b) != 2 || c.cpu_a < 0 ||
			    c.cpu_b < 0 || c.cpu_a == c.cpu_b)
				die("--cpus wants two different CPUs like 0,1, got '%s'", optarg);
			break;
		case 'n': c.small_calls = bench_parse_u64(optarg, "--calls"); calls_set = 1; break;
		case 'C': c.cnn_calls = bench_parse_u64(optarg, "--cnn-calls"); cnn_set = 1; break;
		case 't':
			c.threads = (int)bench_parse_u64(optarg, "--torch-threads");
			if (c.threads > 64)
				die("--torch-threads is at most 64");
			break;
		case 'h': usage(stdout); return 0;
		default: bench_bad_option(argv[optind - 1]);
		}
	}
	bench_args_done(optind, argc, argv, c.reps, MAX_REPS);
	if (c.quick) {
		if (!calls_set)
			c.small_calls = 200;
		if (!cnn_set)
			c.cnn_calls = 6;
		if (c.reps > 3)
			c.reps = 3;
	}
	c.slice_calls = c.small_calls;

	char agent[4096], shm[4096], torch[4096], plugins[8300], thr[16];
	if (bench_runfile("runtime/agent/vaccel-agent", agent, sizeof(agent)) ||
	    bench_runfile("backends/remote/libvaccel-shm.so", shm, sizeof(shm)) ||
	    bench_runfile("backends/torch/libvaccel-torch.so", torch, sizeof(torch)))
		die("cannot find the agent and the plugins in the runfiles (run it with bazel run)");
	snprintf(thr, sizeof(thr), "%d", c.threads);
	setenv("VACCEL_TORCH_THREADS", thr, 1); /* this process, the server and the agent */
	alarm(c.quick ? 300 : 1800);
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
		unix_server(sv[1], c.cpu_b, torch);
	}
	close(sv[1]);

	/* The models, in a folder of our own. */
	char dir[] = "/tmp/infer-bench-XXXXXX";
	char paths[NMODEL][4096];
	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	for (int m = 0; m < NMODEL; m++)
		snprintf(paths[m], sizeof(paths[m]), "%s/%s.pt", dir, model_key[m]);
	if (torch_models_save_small(paths[SMALL]) || torch_models_save_cnn(paths[CNN]) ||
	    torch_models_save_slice(paths[SLICE]))
		die("cannot make the models in %s", dir);
	char spaths[2][4096];
	memcpy(spaths, paths, sizeof(spaths));
	if (xfer(sv[0], spaths, sizeof(spaths), 1))
		die("the unix-socket server is gone");

	char cpus[16];
	snprintf(cpus, sizeof(cpus), "%d", c.cpu_b);
	/* The agent's side on CPU B: its poller and the workers that run the models. */
	const char *args[] = {"--plugins", torch, "--cpus", cpus, "--worker-cpus", cpus,
			      "--pool", AGENT_POOL, NULL};
	int ret = bench_agent_start(&g_ag, "infer-bench", agent, args);
	if (ret)
		die("the agent did not come up: %s (log: %s)", strerror(-ret), g_ag.log);
	atexit(stop_agent);
	setenv("VACCEL_SHM_SOCKET", g_ag.sock, 1);

	snprintf(plugins, sizeof(plugins), "%s:%s", torch, shm);
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", plugins, 1);
	if (vaccel_bootstrap())
		die("vAccel runtime did not start");
	if (bench_pin(c.cpu_a))
		die("cannot pin to CPU %d", c.cpu_a);
	struct vaccel_session ls, rs;
	if (vaccel_session_init(&ls, VACCEL_PLUGIN_TORCH) || ls.is_virtio)
		die("cannot open a session on the local torch plugin");
	if (vaccel_session_init(&rs, VACCEL_PLUGIN_REMOTE))
		die("cannot open a session through the transport (agent log: %s)", g_ag.log);

	struct model lm[NMODEL], rm[NMODEL];
	for (int m = 0; m < NMODEL; m++) {
		model_open(&lm[m], paths[m], &ls);
		model_open(&rm[m], paths[m], &rs);
		if (vaccel_torch_model_load(&ls, &lm[m].res))
			die("the local torch plugin cannot load %s", paths[m]);
	}
	ret = vaccel_torch_model_load(&rs, &rm[SMALL].res);
	int e2e = ret == 0;
	if (ret && ret != VACCEL_ENOTSUP)
		die("loading a model through the transport failed: %d (%s); agent log: %s", ret,
		    strerror(ret), g_ag.log);
	if (!e2e)
		fprintf(stderr, "infer_bench: torch ops do not cross the transport in this build "
				"(VACCEL_ENOTSUP): the transport figures are left out\n");
	for (int m = CNN; e2e && m < NMODEL; m++)
		if (vaccel_torch_model_load(&rs, &rm[m].res))
			die("loading %s through the transport failed (agent log: %s)", paths[m],
			    g_ag.log);

	/* Inputs: ordinary memory for every side; pool buffers for the zero-copy part. */
	const size_t small_b = 256 * sizeof(float), cnn_b = 3 * 224 * 224 * sizeof(float);
	float *small_in = malloc(small_b), *cnn_in = malloc(cnn_b);
	float *big = malloc((size_t)SLICE_4M * sizeof(float));
	uint64_t nmax = c.small_calls > c.cnn_calls ? c.small_calls : c.cnn_calls;
	uint64_t *samples = malloc(nmax * sizeof(*samples)), *smp[NKIND];
	for (int k = 0; k < NKIND; k++)
		smp[k] = malloc(nmax * sizeof(*smp[k]));
	if (!small_in || !cnn_in || !big || !samples || !smp[LOCAL] || !smp[E2E] || !smp[UNIX_])
		die("out of memory");
	fill(small_in, 256, 1);
	fill(cnn_in, 3 * 224 * 224, 2);
	fill(big, SLICE_4M, 3);
	/* The small and CNN inputs as an application written for vAccel keeps them: in
	 * vaccel_buffer_alloc memory of its session (ordinary memory for the local plugin,
	 * the pool through the transport, so the call carries offsets). */
	float *buf_small[NKIND] = {0}, *buf_cnn[NKIND] = {0};
	for (int k = LOCAL; k <= E2E; k++) {
		struct vaccel_session *s = k == LOCAL ? &ls : &rs;
		if (k == E2E && !e2e)
			continue;
		buf_small[k] = xalloc_pool(s, small_b);
		buf_cnn[k] = xalloc_pool(s, cnn_b);
		memcpy(buf_small[k], small_in, small_b);
		memcpy(buf_cnn[k], cnn_in, cnn_b);
	}
	float *pool_4k = NULL, *pool_4m = NULL;
	if (e2e) {
		pool_4k = xalloc_pool(&rs, (size_t)SLICE_4K * sizeof(float));
		pool_4m = xalloc_pool(&rs, (size_t)SLICE_4M * sizeof(float));
		memcpy(pool_4k, big, (size_t)SLICE_4K * sizeof(float));
		memcpy(pool_4m, big, (size_t)SLICE_4M * sizeof(float));
	}
	const int64_t d4k[2] = {1, SLICE_4K}, d4m[2] = {1, SLICE_4M};

	/* Warm-up: TorchScript's profiling executor optimizes a model after its first runs. */
	for (int mi = SMALL; mi <= CNN; mi++) {
		size_t bytes = mi == SMALL ? small_b : cnn_b;
		unix_timed(sv[0], mi, mi == SMALL ? small_in : cnn_in, bytes, 5, samples);
		for (int k = LOCAL; k <= E2E; k++)
			if (k == LOCAL || e2e)
				timed(k == LOCAL ? &ls : &rs, &(k == LOCAL ? lm : rm)[mi],
				      mi == SMALL ? buf_small[k] : buf_cnn[k], bytes,
				      mi == SMALL ? small_dims : cnn_dims, mi == SMALL ? 2 : 4, 5, samples);
	}
	struct rep reps[MAX_REPS];
	memset(reps, 0, sizeof(reps));
	double t_start = bench_now_s();
	for (int r = 0; r < c.reps; r++) {
		struct rep *p = &reps[r];
		for (int mi = SMALL; mi <= CNN; mi++) {
			/* The sides take turns in slices of calls (the order rotated), so that
			 * each sees the same phases of a noisy machine. The local plugin runs on
			 * CPU B for its turns, where the agent's worker and the unix server run
			 * the model: every side's model runs on the same CPU. */
			uint64_t calls = mi == SMALL ? c.small_calls : c.cnn_calls;
			uint64_t slice = mi == SMALL ? SLICE_SMALL : SLICE_CNN;
			size_t bytes = mi == SMALL ? small_b : cnn_b;
			const float *in = mi == SMALL ? small_in : cnn_in;
			for (uint64_t done = 0, si = 0; done < calls; done += slice, si++) {
				uint64_t cnt = calls - done < slice ? calls - done : slice;
				for (int k0 = 0; k0 < NKIND; k0++) {
					int k = (int)((k0 + (uint64_t)r + si) % NKIND);
					if (k == E2E && !e2e)
						continue;
					if (k == UNIX_) {
						unix_timed(sv[0], mi, in, bytes, cnt, smp[k] + done);
						continue;
					}
					struct model *m = k == LOCAL ? lm : rm;
					void *buf = mi == SMALL ? buf_small[k] : buf_cnn[k];
					if (k == LOCAL && bench_pin(c.cpu_b))
						die("cannot move to CPU %d", c.cpu_b);
					timed(k == LOCAL ? &ls : &rs, &m[mi], buf, bytes,
					      mi == SMALL ? small_dims : cnn_dims, mi == SMALL ? 2 : 4,
					      cnt, smp[k] + done);
					if (k == LOCAL && bench_pin(c.cpu_a))
						die("cannot move back to CPU %d", c.cpu_a);
				}
			}
			for (int k = 0; k < NKIND; k++)
				if (k != E2E || e2e)
					pcts(smp[k], calls, &p->p50[k][mi], &p->p99[k][mi]);
		}
		/* Local on CPU B, as above. */
		if (bench_pin(c.cpu_b))
			die("cannot move to CPU %d", c.cpu_b);
		measure(&ls, &lm[SLICE], big, (size_t)SLICE_4K * 4, d4k, 2, c.slice_calls, samples,
			&p->local_4k, NULL);
		measure(&ls, &lm[SLICE], big, (size_t)SLICE_4M * 4, d4m, 2, c.slice_calls, samples,
			&p->local_4m, NULL);
		if (bench_pin(c.cpu_a))
			die("cannot move back to CPU %d", c.cpu_a);
		if (e2e) {
			measure(&rs, &rm[SLICE], pool_4k, (size_t)SLICE_4K * 4, d4k, 2,
				c.slice_calls, samples, &p->zc_4k, NULL);
			measure(&rs, &rm[SLICE], pool_4m, (size_t)SLICE_4M * 4, d4m, 2,
				c.slice_calls, samples, &p->zc_4m, NULL);
			measure(&rs, &rm[SLICE], big, (size_t)SLICE_4M * 4, d4m, 2,
				c.slice_calls / 10 + 3, samples, &p->copy_4m, NULL);
		}
		fprintf(stderr, "  infer: repetition %d/%d done (%.1f s)\n", r + 1, c.reps,
			bench_now_s() - t_start);
	}

	/* Report. */
	int n = c.reps;
	double v[MAX_REPS];
	char key[96], b1[64], b2[64];
	struct bench_json *j = bench_json_new();
	printf("\ninfer: vaccel_torch_model_run, libtorch %d thread(s) on every side; inputs in\n"
	       "  vaccel_buffer_alloc memory (local, transport), sent over the socket (unix)\n",
	       c.threads);
	printf("  guest on CPU %d; agent poller and unix server on CPU %d; %d repetitions%s;\n"
	       "  us per call, median [min..max] over repetitions\n\n",
	       c.cpu_a, c.cpu_b, n, c.quick ? " (quick)" : "");
	printf("  %-24s %-26s %-26s %-26s %-26s\n", "", "small p50", "small p99", "CNN p50",
	       "CNN p99");
	for (int k = 0; k < NKIND; k++) {
		if (k == E2E && !e2e) {
			printf("  %-24s not available: torch ops do not cross the transport in "
			       "this build\n",
			       kind_name[k]);
			continue;
		}
		printf("  %-24s", kind_name[k]);
		for (int m = SMALL; m <= CNN; m++) {
			for (int pct = 0; pct < 2; pct++) {
				for (int i = 0; i < n; i++)
					v[i] = pct ? reps[i].p99[k][m] : reps[i].p50[k][m];
				printf(" %-26s", cell(b1, sizeof(b1), v, n));
				snprintf(key, sizeof(key), "infer.%s_%s_p%d_us", kind_key[k],
					 model_key[m], pct ? 99 : 50);
				bench_json_num(j, key, bench_median(v, n));
			}
		}
		printf("\n");
	}
	bench_json_str(j, "infer.e2e.mode", e2e ? "transport" : "unavailable");
	if (e2e) {
		static const double target[2] = {10, 1};
		printf("\n");
		for (int m = SMALL; m <= CNN; m++) {
			for (int i = 0; i < n; i++)
				v[i] = (reps[i].p50[E2E][m] - reps[i].p50[LOCAL][m]) /
				       reps[i].p50[LOCAL][m] * 100.0;
			printf("  transport overhead at p50, %s: %.2f%% [%.2f..%.2f]   target <= "
			       "%.0f%%\n",
			       model_key[m], bench_median(v, n), bench_min(v, n), bench_max(v, n),
			       target[m]);
			snprintf(key, sizeof(key), "infer.e2e_%s_overhead_pct", model_key[m]);
			bench_json_num(j, key, bench_median(v, n));
		}
	}
	printf("\n  Slice model (first 16 elements of a [1, N] float input), p50 us:\n");
	for (int i = 0; i < n; i++)
		v[i] = reps[i].local_4k;
	printf("    local plugin, 4 KiB input          %s\n", cell(b1, sizeof(b1), v, n));
	bench_json_num(j, "infer.local_4k_us", bench_median(v, n));
	for (int i = 0; i < n; i++)
		v[i] = reps[i].local_4m;
	printf("    local plugin, 4 MiB input          %s\n", cell(b1, sizeof(b1), v, n));
	bench_json_num(j, "infer.local_4m_us", bench_median(v, n));
	if (e2e) {
		double w[MAX_REPS];
		for (int i = 0; i < n; i++)
			v[i] = reps[i].zc_4k;
		printf("    transport, 4 KiB from the pool     %s\n", cell(b1, sizeof(b1), v, n));
		bench_json_num(j, "infer.zc_4k_us", bench_median(v, n));
		for (int i = 0; i < n; i++)
			v[i] = reps[i].zc_4m;
		printf("    transport, 4 MiB from the pool     %s\n", cell(b1, sizeof(b1), v, n));
		bench_json_num(j, "infer.zc_4m_us", bench_median(v, n));
		for (int i = 0; i < n; i++)
			v[i] = reps[i].copy_4m;
		printf("    transport, 4 MiB ordinary memory   %s\n", cell(b1, sizeof(b1), v, n));
		bench_json_num(j, "infer.copy_4m_us", bench_median(v, n));
		for (int i = 0; i < n; i++) {
			v[i] = reps[i].zc_4m / reps[i].zc_4k;
			w[i] = reps[i].copy_4m / reps[i].zc_4m;
		}
		snprintf(b2, sizeof(b2), "%.2fx [%.2f..%.2f]", bench_median(w, n), bench_min(w, n),
			 bench_max(w, n));
		printf("    zero copy 4 MiB / 4 KiB %.2fx [%.2f..%.2f]   target <= 2x (constant in "
		       "size); copied / zero copy at 4 MiB %s\n",
		       bench_median(v, n), bench_min(v, n), bench_max(v, n), b2);
		bench_json_num(j, "infer.zc_4m_vs_4k_ratio", bench_median(v, n));
		bench_json_num(j, "infer.copy_vs_zc_4m_ratio", bench_median(w, n));
		/* What the transport adds to the same call, at each size. (Slice reads its
		 * input in place; a model the torch plugin copies the inputs of would pay
		 * that copy on both sides.) */
		for (int i = 0; i < n; i++) {
			v[i] = reps[i].zc_4k - reps[i].local_4k;
			w[i] = reps[i].zc_4m - reps[i].local_4m;
		}
		snprintf(b2, sizeof(b2), "%.1f [%.1f..%.1f]", bench_median(w, n), bench_min(w, n),
			 bench_max(w, n));
		printf("    transport minus local, same call: 4 KiB %.1f [%.1f..%.1f] us, 4 MiB %s us\n",
		       bench_median(v, n), bench_min(v, n), bench_max(v, n), b2);
		bench_json_num(j, "infer.zc_added_4k_us", bench_median(v, n));
		bench_json_num(j, "infer.zc_added_4m_us", bench_median(w, n));
	}
	bench_json_num(j, "infer.torch_threads", c.threads);
	bench_json_machine(j);
	if (json && bench_json_write(j, json))
		die("cannot write %s", json);
	bench_json_free(j);

	if (e2e) {
		vaccel_buffer_free(&rs, pool_4k);
		vaccel_buffer_free(&rs, pool_4m);
	}
	for (int k = LOCAL; k <= E2E; k++) {
		struct vaccel_session *s = k == LOCAL ? &ls : &rs;
		if (buf_small[k])
			vaccel_buffer_free(s, buf_small[k]);
		if (buf_cnn[k])
			vaccel_buffer_free(s, buf_cnn[k]);
	}
	for (int m = 0; m < NMODEL; m++) {
		vaccel_resource_unregister(&lm[m].res, &ls);
		vaccel_resource_release(&lm[m].res);
		vaccel_resource_unregister(&rm[m].res, &rs);
		vaccel_resource_release(&rm[m].res);
		unlink(paths[m]);
	}
	rmdir(dir);
	vaccel_session_release(&ls);
	vaccel_session_release(&rs);
	close(sv[0]);
	waitpid(server, NULL, 0);
	free(small_in);
	free(cnn_in);
	free(big);
	free(samples);
	for (int k = 0; k < NKIND; k++)
		free(smp[k]);
	return 0;
}
