/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Many guests on one agent (issue 16.3 and 16.4). Two figures:
 *   connect  a fresh process's connect + handshake + first vaccel_noop (forked from here
 *            with the transport plugin loaded and not yet connected), p50 and p99
 *   idle256  256 idle guests connected: the agent's memory (its RSS without region pages,
 *            plus every region's resident pages, as mincore sees them through the guests'
 *            mappings), its CPU over a few seconds, and vaccel_noop p50 of this process
 *            among them, beside the same figure with no idle guests (same run)
 * The agent runs its poller on CPU B, this process on CPU A. Keys mt.* (results-schema.md).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vaccel.h>

#include "perf/common/bench.h"
#include "shm/region.h"
#include "vmm-glue/ivshmem_proto.h"

#define MAX_REPS 9
#define IDLE_MAX 1024

struct cfg {
	int quick, cpu_a, cpu_b;
	uint64_t reps, connects, calls, idle, cpu_ms;
	const char *json;
};

static struct bench_agent g_ag = {.pid = -1};

static void stop_agent(void)
{
	bench_agent_stop(&g_ag);
}

/* One connect: a child of this process opens a session (which connects) and calls noop. */
static uint64_t one_connect(const struct cfg *c)
{
	int fds[2];
	uint64_t t = 0;

	if (pipe(fds))
		bench_die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		struct vaccel_session s;
		bench_pin(c->cpu_a);
		uint64_t t0 = bench_tsc();
		int ok = vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG) == 0 &&
			 vaccel_noop(&s) == 0;
		uint64_t dt = ok ? bench_tsc() - t0 : 0;
		ssize_t w = write(fds[1], &dt, sizeof(dt));
		_exit(w == (ssize_t)sizeof(dt) ? 0 : 1); /* no cleanup: the agent sees the close */
	}
	close(fds[1]);
	if (read(fds[0], &t, sizeof(t)) != (ssize_t)sizeof(t) || t == 0)
		bench_die("a connecting child failed (agent log: %s)", g_ag.log);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return t;
}

static double noop_p50_us(struct vaccel_session *s, const struct cfg *c, uint64_t *samples)
{
	for (uint64_t i = 0; i < c->calls / 10; i++)
		if (vaccel_noop(s))
			bench_die("vaccel_noop failed during warm-up");
	for (uint64_t i = 0; i < c->calls; i++) {
		uint64_t t0 = bench_tsc();
		if (vaccel_noop(s))
			bench_die("vaccel_noop failed");
		samples[i] = bench_tsc() - t0;
	}
	bench_sort_u64(samples, c->calls);
	return bench_cycles_to_ns(bench_pct_sorted(samples, c->calls, 50)) / 1000.0;
}

/* An idle guest: the protocol's client with its region mapped (what a guest holds). */
struct idle {
	struct vivs_client cli;
	struct vshm_region *reg;
};

static void idle_open(struct idle *g, unsigned nr_qps)
{
	struct vshm_err err;

	if (vivs_client_open(g_ag.sock, &g->cli, 10000))
		bench_die("an idle guest could not connect (agent log: %s)", g_ag.log);
	if (vshm_region_attach_fd(g->cli.shm_fd, &g->reg, &err))
		bench_die("an idle guest's region: %s", err.msg);
	if (vivs_client_read_peers(&g->cli, nr_qps, 10000))
		bench_die("an idle guest's doorbells did not come");
}

static void idle_close(struct idle *g)
{
	vshm_region_close(g->reg);
	vivs_client_close(&g->cli);
}

/* Resident bytes of a region, as the page cache holds them. */
static uint64_t resident(const struct vshm_region *r)
{
	uint64_t size = vshm_region_size(r), pages = (size + 4095) / 4096, n = 0;
	unsigned char *vec = malloc(pages);

	if (!vec || mincore(vshm_region_base(r), size, vec))
		bench_die("mincore: %s", strerror(errno));
	for (uint64_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n * 4096;
}

static long status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = atol(line + kl + 1);
	if (f)
		fclose(f);
	return v;
}

static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		bench_die("cannot read %s", path);
	fclose(f);
	const char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		bench_die("cannot parse %s", path);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mt_bench [--quick] [--json FILE] [--reps N] [--connects N] [--calls N]\n"
		"                [--idle N] [--cpu-ms N] [--cpu-a N] [--cpu-b N]\n"
		"Many guests on one vaccel-agent: a fresh process's connect + handshake + first noop\n"
		"(p50, p99), and with N idle guests connected the agent's memory and CPU and a noop's\n"
		"p50 among them beside the same with no idle guests. Run with bazel run -c opt.\n"
		"  --quick       a smoke run (1 repetition, 10 connects, 2000 calls, 0.5 s of CPU)\n"
		"  --json FILE   results as flat JSON (keys mt.*)\n"
		"  --reps N      repetitions, median reported (default 3, max %d)\n"
		"  --connects N  connects per repetition (default 100)\n"
		"  --calls N     noop calls per measurement (default 20000)\n"
		"  --idle N      idle guests (default 256, max %d)\n"
		"  --cpu-ms N    how long the agent's CPU is measured with the idle guests (default 3000)\n"
		"  --cpu-a N     this process (default 0); --cpu-b N: the agent's poller (default 1)\n",
		MAX_REPS, IDLE_MAX);
}

int main(int argc, char **argv)
{
	enum { O_JSON = 1000, O_REPS, O_CONN, O_CALLS, O_IDLE, O_CPUMS, O_CPUA, O_CPUB };
	static const struct option lo[] = {
		{"quick", no_argument, 0, 'q'}, {"json", required_argument, 0, O_JSON},
		{"reps", required_argument, 0, O_REPS}, {"connects", required_argument, 0, O_CONN},
		{"calls", required_argument, 0, O_CALLS}, {"idle", required_argument, 0, O_IDLE},
		{"cpu-ms", required_argument, 0, O_CPUMS}, {"cpu-a", required_argument, 0, O_CPUA},
		{"cpu-b", required_argument, 0, O_CPUB}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	struct cfg c = {.cpu_a = 0, .cpu_b = 1, .reps = 3, .connects = 100, .calls = 20000, .idle = 256,
			.cpu_ms = 3000};
	int opt;

	bench_set_prog("mt_bench");
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'q': c.quick = 1; break;
		case O_JSON: c.json = optarg; break;
		case O_REPS: c.reps = bench_parse_u64(optarg, "--reps"); break;
		case O_CONN: c.connects = bench_parse_u64(optarg, "--connects"); break;
		case O_CALLS: c.calls = bench_parse_u64(optarg, "--calls"); break;
		case O_IDLE: c.idle = bench_parse_u64(optarg, "--idle"); break;
		case O_CPUMS: c.cpu_ms = bench_parse_u64(optarg, "--cpu-ms"); break;
		case O_CPUA: c.cpu_a = (int)bench_parse_u64(optarg, "--cpu-a"); break;
		case O_CPUB: c.cpu_b = (int)bench_parse_u64(optarg, "--cpu-b"); break;
		case 'h': usage(stdout); return 0;
		default: bench_bad_option(argv[optind - 1]);
		}
	}
	if (c.quick) {
		c.reps = 1;
		c.connects = 10;
		c.calls = 2000;
		c.cpu_ms = 500;
	}
	bench_args_done(optind, argc, argv, c.reps, MAX_REPS);
	if (c.idle > IDLE_MAX)
		bench_die("--idle is at most %d", IDLE_MAX);
	if (c.calls < 100)
		bench_die("--calls must be at least 100");

	char agent[4096], shm[4096], noop[4096], cpus[16];
	if (bench_runfile("runtime/agent/vaccel-agent", agent, sizeof(agent)) ||
	    bench_runfile("backends/remote/libvaccel-shm.so", shm, sizeof(shm)) ||
	    bench_runfile("backends/noop/libvaccel-noop.so", noop, sizeof(noop)))
		bench_die("cannot find the agent and plugins in the runfiles (run it with bazel run)");
	/* Every idle guest holds about twenty fds here. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	alarm(c.quick ? 120 : 900);
	bench_tsc_calibrate();
	/* The default pool: 256 MiB regions, as an operator would run it. */
	snprintf(cpus, sizeof(cpus), "%d", c.cpu_b);
	const char *args[] = {"--plugins", noop, "--cpus", cpus, "--max-guests", "1100", NULL};
	int ret = bench_agent_start(&g_ag, "mt-bench", agent, args);
	if (ret)
		bench_die("the agent did not come up: %s (log: %s)", strerror(-ret), g_ag.log);
	atexit(stop_agent);
	setenv("VACCEL_SHM_SOCKET", g_ag.sock, 1);
	/* The transport plugin is loaded but not connected: children connect on their own. */
	vaccel_cleanup();
	setenv("VACCEL_PLUGINS", shm, 1);
	if (vaccel_bootstrap())
		bench_die("vAccel runtime did not start");
	if (bench_pin(c.cpu_a))
		bench_die("cannot pin to CPU %d", c.cpu_a);

	uint64_t *samples = malloc((c.calls > c.connects ? c.calls : c.connects) * sizeof(uint64_t));
	struct idle *idle = calloc(c.idle ? c.idle : 1, sizeof(*idle));
	double conn50[MAX_REPS], conn99[MAX_REPS], alone[MAX_REPS], among[MAX_REPS], mib[MAX_REPS],
		cpu[MAX_REPS], ratio[MAX_REPS];
	if (!samples || !idle)
		bench_die("out of memory");
	struct vaccel_session s;
	double t_start = bench_now_s();

	/* Connects first: a child forked after this process connected would share its
	 * connection instead of making one. */
	for (uint64_t r = 0; r < c.reps; r++) {
		for (uint64_t i = 0; i < c.connects; i++)
			samples[i] = one_connect(&c);
		bench_sort_u64(samples, c.connects);
		conn50[r] = bench_cycles_to_ns(bench_pct_sorted(samples, c.connects, 50)) / 1000.0;
		conn99[r] = bench_cycles_to_ns(bench_pct_sorted(samples, c.connects, 99)) / 1000.0;
	}
	if (vaccel_session_init(&s, VACCEL_PLUGIN_REMOTE | VACCEL_PLUGIN_DEBUG))
		bench_die("cannot open a session (agent log: %s)", g_ag.log);
	for (uint64_t r = 0; r < c.reps; r++) {
		alone[r] = noop_p50_us(&s, &c, samples);

		unsigned nr_qps = 0;
		for (uint64_t i = 0; i < c.idle; i++) {
			if (i == 0) {
				/* The number of queue pairs comes from the first region's layout. */
				idle_open(&idle[0], 0);
				while (vshm_layout_find(vshm_region_layout(idle[0].reg), VSHM_AREA_QP, nr_qps))
					nr_qps++;
				if (vivs_client_read_peers(&idle[0].cli, nr_qps, 10000))
					bench_die("an idle guest's doorbells did not come");
				continue;
			}
			idle_open(&idle[i], nr_qps);
		}
		/* Idle: the agent's CPU while nothing happens (the guests get parked meanwhile). */
		double c0 = proc_cpu_s(g_ag.pid), t0 = bench_now_s();
		usleep((useconds_t)(c.cpu_ms * 1000));
		cpu[r] = 100.0 * (proc_cpu_s(g_ag.pid) - c0) / (bench_now_s() - t0);
		uint64_t res = 0;
		for (uint64_t i = 0; i < c.idle; i++)
			res += resident(idle[i].reg);
		long rss = status_kb(g_ag.pid, "VmRSS"), shmem = status_kb(g_ag.pid, "RssShmem");
		mib[r] = ((double)(rss - (shmem > 0 ? shmem : 0)) * 1024.0 + (double)res) / (1 << 20);
		among[r] = noop_p50_us(&s, &c, samples);
		ratio[r] = among[r] / alone[r];
		for (uint64_t i = 0; i < c.idle; i++)
			idle_close(&idle[i]);
		fprintf(stderr, "mt_bench: repetition %llu/%llu done (%.1f s)\n", (unsigned long long)r + 1,
			(unsigned long long)c.reps, bench_now_s() - t_start);
	}
	vaccel_session_release(&s);

	printf("mt: many guests on one agent (%llu repetitions, median [min..max])\n",
	       (unsigned long long)c.reps);
	printf("  connect + handshake + first noop p50  %10.1f us [%.1f..%.1f]\n", bench_median(conn50, c.reps),
	       bench_min(conn50, c.reps), bench_max(conn50, c.reps));
	printf("  connect + handshake + first noop p99  %10.1f us [%.1f..%.1f]\n", bench_median(conn99, c.reps),
	       bench_min(conn99, c.reps), bench_max(conn99, c.reps));
	printf("  %llu idle guests: memory            %10.1f MiB [%.1f..%.1f]\n", (unsigned long long)c.idle,
	       bench_median(mib, c.reps), bench_min(mib, c.reps), bench_max(mib, c.reps));
	printf("  %llu idle guests: agent CPU         %10.2f %% of a core [%.2f..%.2f]\n",
	       (unsigned long long)c.idle, bench_median(cpu, c.reps), bench_min(cpu, c.reps),
	       bench_max(cpu, c.reps));
	printf("  noop p50 alone                        %10.2f us [%.2f..%.2f]\n", bench_median(alone, c.reps),
	       bench_min(alone, c.reps), bench_max(alone, c.reps));
	printf("  noop p50 among the idle guests        %10.2f us [%.2f..%.2f] (ratio %.2f)\n",
	       bench_median(among, c.reps), bench_min(among, c.reps), bench_max(among, c.reps),
	       bench_median(ratio, c.reps));
	if (c.json) {
		struct bench_json *j = bench_json_new();
		bench_json_machine(j);
		bench_json_num(j, "mt.connect_p50_us", bench_median(conn50, c.reps));
		bench_json_num(j, "mt.connect_p99_us", bench_median(conn99, c.reps));
		bench_json_num(j, "mt.idle256_mib", bench_median(mib, c.reps));
		bench_json_num(j, "mt.idle256_cpu_pct", bench_median(cpu, c.reps));
		bench_json_num(j, "mt.idle_guests", (double)c.idle);
		bench_json_num(j, "mt.noop_p50_alone_us", bench_median(alone, c.reps));
		bench_json_num(j, "mt.noop_p50_idle256_us", bench_median(among, c.reps));
		bench_json_num(j, "mt.noop_idle256_vs_alone_ratio", bench_median(ratio, c.reps));
		if (bench_json_write(j, c.json))
			bench_die("cannot write %s", c.json);
		bench_json_free(j);
	}
	free(samples);
	free(idle);
	return 0;
}
