/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: a hostile guest's region against the host's attach, validate, poll and
 * dispatch path, with the noop and blas plugins loaded in this process.
 *
 * The region is real: built once by vshm_region_create with the agent's kind of layout
 * (queue pairs and a small pool), its queue pairs formatted by vtr_qp_format. Each input
 * starts from a copy of it in heap memory, so that AddressSanitizer's redzones sit right
 * before and after the region and any access outside it is reported. The input is a
 * little program of guest actions (raw writes anywhere in the region, SQE pushes, requests
 * with argument tables, index changes, reaping) interleaved with poller passes that run
 * the host's real code: poller_pass (runtime/agent/poller.c) with this guest on its active
 * list, which checks the guest's epoch (a new one runs guest_reset), takes requests, serves
 * them (serve.c: the real validator and dispatch into vaccel_genop, and serve_ml.c for
 * the tensor records of the ML ops; routing by route.c; long ops on a worker thread of
 * work.c, waited for and drained as the poller does) and completes them.
 * The host attaches lazily, at the first action that is not a raw write, so inputs can
 * corrupt the ring indices or the header before it looks.
 *
 * Byte 0 of the input: bit 0 = attach from the shared header as an ivshmem BAR would be
 * attached (vshm_region_attach_mem: vshm_header_check on a possibly rewritten header),
 * else from the host's private layout like the agent; bit 1 = --allow-guest-code.
 *
 * Oracles besides the sanitizers: every request taken gets exactly one completion (the
 * CQ room reserved by vtr_qp_host_take must be there), and the harness never finds its
 * host state out of bounds. The exec plugin is not loaded and --exec-allow is unset, so no
 * guest-named path is ever opened or loaded.
 *
 * The same file builds as a libFuzzer target (tests/fuzz/build.sh) and, with
 * FUZZ_REPLAY_MAIN, as a plain program that replays files (the corpus and regressions).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vaccel.h>

#include "runtime/agent/agent.h"
#include "shm/pool.h"
#include "shm/region.h"
#include "transport/qp.h"

/* Small rings so that full, empty and wrap-around are a few bytes away; a CQ smaller than
 * its SQ so that the CQ's room limits what the host takes. */
#define FZ_QPS 2u
#define FZ_SQ 16u
#define FZ_CQ 8u
#define FZ_POOL "64:16,512:8,4k:4"
#define FZ_MAX_CMDS 512 /* bounded work per input whatever its length */

static struct {
	void *pristine;          /* the region as the agent leaves it after guest_create */
	uint64_t size;
	struct vshm_layout layout; /* the agent's private copy */
	void *mem;               /* per-input working copy (heap: redzones around it) */
	long log_sec;            /* serve.c's log rate limit, kept across inputs */
	uint32_t log_count, log_dropped;
	int trace;               /* FUZZ_TRACE: print every completion */
	struct poller poller;    /* the real poller's state, without its thread */
} fz;

struct fz_run {
	struct guest g;
	struct agent_opts o;
	struct vshm_region *attached; /* header mode: the borrowed attachment */
	int attached_ok;              /* host side attached (or refused: nothing to serve) */
	int serve;                    /* 1: the host accepted the region and serves it */
	uint64_t cursor;              /* where the next request's table goes in the pool */
};

/*
 * The agent logs about guests on stderr (refused requests, released sessions): at tens of
 * thousands of inputs a second that would be most of the work and bury libFuzzer's own
 * output. While the host code runs, the stdio stream stderr points at /dev/null (glibc
 * lets the variable be assigned); file descriptor 2, where the sanitizers and libFuzzer
 * report, is untouched. FUZZ_VERBOSE=1 keeps the messages.
 */
static FILE *quiet_sink, *loud;

static void quiet(void)
{
	if (quiet_sink) {
		loud = stderr;
		stderr = quiet_sink;
	}
}

static void loud_again(void)
{
	if (loud) {
		stderr = loud;
		loud = NULL;
	}
}

static void die(const char *what)
{
	loud_again();
	fprintf(stderr, "host_fuzz: %s\n", what);
	abort();
}

static char *plugin_path(const char *env, const char *name, char *buf, size_t n)
{
	const char *v = getenv(env);
	char exe[PATH_MAX];
	ssize_t len;

	if (v && *v) {
		snprintf(buf, n, "%s", v);
		return buf;
	}
	/* build.sh puts the plugins next to the fuzzer. */
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		die("cannot find myself");
	exe[len] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	snprintf(buf, n, "%s/%s", exe, name);
	return buf;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vshm_opts ro = {.backing = VSHM_BACK_MEMFD, .name = "fuzz", .numa_cpu = -1, .pow2 = 1};
	struct vshm_region *r;
	struct vshm_err err;
	char noop[PATH_MAX], blas[PATH_MAX];

	(void)argc;
	(void)argv;
	/* One OpenBLAS thread: set before the blas plugin pulls OpenBLAS in. Runtime errors
	 * about malformed requests are expected by the thousand: keep them off the terminal. */
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	setenv("VACCEL_BLAS_THREADS", "1", 1);
	fz.trace = getenv("FUZZ_TRACE") != NULL;
	if (!getenv("FUZZ_VERBOSE") && !fz.trace) {
		setenv("VACCEL_LOG_FILE", "/dev/null", 1);
		quiet_sink = fopen("/dev/null", "w");
	}
	unsetenv("VACCEL_PLUGINS");
	unsetenv("VACCEL_BACKENDS");
	vaccel_cleanup();
	if (vaccel_bootstrap())
		die("vaccel_bootstrap failed");
	if (vaccel_plugin_load(plugin_path("FUZZ_PLUGIN_NOOP", "libvaccel-noop.so", noop, sizeof(noop))) ||
	    vaccel_plugin_load(plugin_path("FUZZ_PLUGIN_BLAS", "libvaccel-blas.so", blas, sizeof(blas))))
		die("cannot load the noop and blas plugins (FUZZ_PLUGIN_NOOP, FUZZ_PLUGIN_BLAS)");
	/* The agent's routing table and one worker thread for long ops (route.c, work.c);
	 * the harness's pass waits for the worker, so each input stays deterministic. */
	static const struct agent_opts wo = {.nr_workers = 1, .max_queued = 64};
	if (route_init(&wo) || work_start(&wo))
		die("cannot start the routing table and the worker");

	/* The region the agent would build (runtime/agent/guest.c: _build_region). */
	vshm_layout_init(&fz.layout);
	for (uint32_t q = 0; q < FZ_QPS; q++)
		if (vshm_layout_add(&fz.layout, VSHM_AREA_QP, q, vtr_qp_bytes(FZ_SQ, FZ_CQ), FZ_SQ, FZ_CQ))
			die("layout");
	if (vshm_pool_layout_add(&fz.layout, FZ_POOL, &err))
		die(err.msg);
	if (vshm_region_create(&ro, &fz.layout, &r, &err))
		die(err.msg);
	for (uint32_t q = 0; q < FZ_QPS; q++) {
		const struct vshm_area *a;
		void *m = vshm_region_area(r, VSHM_AREA_QP, q, &a);
		if (vtr_qp_format(m, a->size, a->param0, a->param1))
			die("vtr_qp_format");
	}
	fz.layout = *vshm_region_layout(r);
	fz.size = vshm_region_size(r);
	fz.pristine = malloc(fz.size);
	fz.mem = aligned_alloc(4096, fz.size);
	if (!fz.pristine || !fz.mem)
		die("out of memory");
	memcpy(fz.pristine, vshm_region_base(r), fz.size);
	vshm_region_close(r);
	if (poller_init(&fz.poller, NULL, 0, -1, -1))
		die("poller_init");
	return 0;
}

/* ---- reading the input ---- */

struct in {
	const uint8_t *p;
	size_t n;
};

static int get8(struct in *in, uint8_t *v)
{
	if (in->n < 1)
		return -1;
	*v = *in->p++;
	in->n--;
	return 0;
}

static uint64_t getn(struct in *in, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes && in->n; i++, in->n--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

/* Copies up to len input bytes to region offset off, clamped to the region. */
static void put(struct in *in, uint64_t off, size_t len)
{
	if (off >= fz.size)
		return;
	if (len > in->n)
		len = in->n;
	size_t room = (size_t)(fz.size - off);
	size_t n = len < room ? len : room;
	memcpy((char *)fz.mem + off, in->p, n);
	in->p += len;
	in->n -= len;
}

/* ---- the host side, as the agent runs it ---- */

static const struct vshm_area *area(const struct vshm_layout *l, enum vshm_area_kind k, uint32_t i)
{
	return vshm_layout_find(l, k, i);
}

/* Host attach: what guest_create does after building the region, on the trusted layout or,
 * in header mode, on the layout a (possibly rewritten) header passes the check with. */
static void host_attach(struct fz_run *r, int from_header)
{
	const struct vshm_layout *l = &fz.layout;
	struct vshm_err err;

	r->attached_ok = 1;
	if (from_header) {
		if (vshm_region_attach_mem(fz.mem, fz.size, &r->attached, &err))
			return; /* refused: nothing is served */
		l = vshm_region_layout(r->attached);
		/* The guest side of the attach too: its allocator over the claimed classes. */
		struct vshm_pool *pool;
		if (vshm_pool_open(r->attached, &pool) == 0) {
			struct vshm_buf b;
			if (vshm_pool_alloc(pool, 100, 0, &b) == 0) {
				if (b.off < VSHM_HEADER_SIZE || b.off + b.cap > fz.size)
					die("pool buffer outside the region");
				vshm_pool_free(pool, b.ptr);
			}
			vshm_pool_close(pool);
		}
	}
	if (vshm_pool_ranges_init(&r->g.ranges, l))
		return;
	r->g.layout = l; /* guest_reset formats the queue pairs from it */
	for (uint32_t i = 0; i < r->g.ranges.n; i++)
		if (r->g.ranges.r[i].off < VSHM_HEADER_SIZE || r->g.ranges.r[i].end > fz.size)
			die("pool range outside the region");
	r->g.nr_qps = 0;
	for (uint32_t q = 0; q < AGENT_MAX_QPS; q++) {
		const struct vshm_area *a = area(l, VSHM_AREA_QP, q);
		if (!a)
			break;
		if (vtr_qp_attach(&r->g.qps[q], (char *)fz.mem + a->offset, a->size, a->param0,
				  a->param1, VTR_QP_HOST, -1, NULL))
			return; /* guest_create fails: the guest is never served */
		r->g.nr_qps++;
	}
	r->serve = 1;
	fz.poller.o = &r->o;
	if (poller_take_guest(&fz.poller, &r->g))
		die("poller_take_guest");
}

/*
 * One real poller pass (poller_pass) over this guest. Oracle: every request taken got
 * exactly one completion (unless the pass reset the guest, which starts its rings afresh).
 */
static void host_pass(struct fz_run *r)
{
	struct guest *g = &r->g;
	uint32_t sq0[AGENT_MAX_QPS], cq0[AGENT_MAX_QPS];
	uint64_t epoch = g->guest_epoch;

	if (!r->serve || g->broken)
		return;
	for (uint32_t q = 0; q < g->nr_qps; q++) {
		sq0[q] = g->qps[q].sq.head;
		cq0[q] = g->qps[q].cq.head;
	}
	(void)poller_pass(&fz.poller);
	/* The worker's results, completed as the poller would (whatever the pass found: a
	 * guest that broke still has its calls back); then none may be owed. */
	work_drain_all(&fz.poller);
	for (uint32_t q = 0; q < g->nr_qps; q++)
		if (g->owed[q] || g->inflight)
			die("a request on the worker did not get its completion");
	if (g->guest_epoch != epoch || g->broken)
		return;
	for (uint32_t q = 0; q < g->nr_qps; q++) {
		uint32_t took = g->qps[q].sq.head - sq0[q], posted = g->qps[q].cq.head - cq0[q];
		if (took > AGENT_TAKE_BUDGET)
			die("took more than the budget");
		if (took != posted)
			die("a taken request did not get its completion");
	}
}

/* The poller's sleep announcement (poller.c: _park) and its wake-up (_unpark). */
static void host_announce(struct fz_run *r)
{
	struct guest *g = &r->g;

	if (!r->serve)
		return;
	for (uint32_t q = 0; q < g->nr_qps && !g->broken; q++)
		(void)vtr_qp_host_announce_sleep(&g->qps[q]);
	for (uint32_t q = 0; q < g->nr_qps; q++)
		vtr_qp_wake_done(&g->qps[q].sq);
}

/* ---- guest actions ---- */

/* The shared ring header of queue pair q's SQ (cq = 0) or CQ (cq = 1) in the pristine
 * layout: guest writes always target where the rings really are. */
static struct vtr_ring_shared *ring_sh(uint32_t q, int cq)
{
	const struct vshm_area *a = area(&fz.layout, VSHM_AREA_QP, q % FZ_QPS);
	uint64_t off = a->offset + 64;

	if (cq)
		off += (vtr_ring_bytes(FZ_SQ, sizeof(struct vtr_sqe)) + 63) & ~63ull;
	return (struct vtr_ring_shared *)((char *)fz.mem + off);
}

/* A guest push: the SQE at the shared producer index, then the index moves. */
static void guest_push(uint32_t q, const struct vtr_sqe *sqe)
{
	struct vtr_ring_shared *sh = ring_sh(q, 0);
	uint32_t prod = sh->prod;

	memcpy((char *)(sh + 1) + (size_t)(prod & (FZ_SQ - 1)) * sizeof(*sqe), sqe, sizeof(*sqe));
	__atomic_store_n(&sh->prod, prod + 1, __ATOMIC_RELEASE);
}

/*
 * A request the way the transport plugin marshals one: an argument table in the pool
 * followed by the arguments' bytes. Layout of the command:
 *   q, opcode, sess_id, op (u32), nr (u8, may exceed the limit), user_data (u8), then per
 *   argument: flags, type, len (u16), and for inputs the bytes (as many as the input has).
 * Lengths beyond the pool are passed on as they are: refusing them is the validator's job.
 */
static void guest_request(struct fz_run *r, struct in *in)
{
	const struct vshm_area *big = area(&fz.layout, VSHM_AREA_POOL, 2); /* the 4k class */
	struct vtr_sqe sqe = {0};
	struct vtr_arg args[VTR_MAX_ARGS];
	uint8_t q, nr, ud;

	q = (uint8_t)getn(in, 1);
	sqe.opcode = (uint16_t)getn(in, 1);
	sqe.sess_id = (uint32_t)getn(in, 1);
	sqe.op = (uint32_t)getn(in, 4);
	if (get8(in, &nr) || get8(in, &ud))
		return;
	sqe.user_data = ud;
	sqe.nr_args = nr;
	uint32_t n = nr < VTR_MAX_ARGS ? nr : VTR_MAX_ARGS;
	uint64_t tbl = sizeof(struct vtr_arg) * n;
	/* The table, then the data, from a cursor that wraps around the class area. */
	if (r->cursor + tbl + 64 > big->size)
		r->cursor = 0;
	uint64_t t_off = big->offset + r->cursor;
	uint64_t d_off = t_off + ((tbl + 63) & ~63ull);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t flags = (uint8_t)getn(in, 1), type = (uint8_t)getn(in, 1);
		uint64_t len = getn(in, 2);

		args[i] = (struct vtr_arg){.off = d_off, .len = len, .type = type,
					   .flags = flags & 3u ? (flags & 3u) : flags};
		if (d_off + len > big->offset + big->size) {
			d_off = big->offset; /* out of room: start over at the class start */
			args[i].off = d_off;
		}
		if (args[i].flags == VTR_ARG_IN)
			put(in, d_off, (size_t)(len < 4096 ? len : 4096));
		d_off += (len + 7) & ~7ull;
	}
	memcpy((char *)fz.mem + t_off, args, tbl);
	r->cursor = d_off - big->offset;
	sqe.args_off = n ? t_off : 0;
	guest_push(q, &sqe);
}

static void run(struct fz_run *r, const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	uint8_t cfg = 0, cmd, v;
	int from_header;

	(void)get8(&in, &cfg);
	from_header = cfg & 1;
	r->o.allow_guest_code = (cfg >> 1) & 1;
	for (int k = 0; k < FZ_MAX_CMDS && !get8(&in, &cmd); k++) {
		if (cmd % 8 != 0 && !r->attached_ok)
			host_attach(r, from_header);
		switch (cmd % 8) {
		case 0: { /* raw write: anywhere in the region (header, rings, pool) */
			uint64_t off = getn(&in, 3) % fz.size;
			if (!get8(&in, &v))
				put(&in, off, v);
			break;
		}
		case 1: { /* push a raw SQE */
			struct vtr_sqe sqe = {0};
			uint8_t q = (uint8_t)getn(&in, 1);
			size_t len = in.n < sizeof(sqe) ? in.n : sizeof(sqe);
			memcpy(&sqe, in.p, len);
			in.p += len;
			in.n -= len;
			guest_push(q, &sqe);
			break;
		}
		case 2:
			guest_request(r, &in);
			break;
		case 3: { /* move the SQ producer index by a signed step (publish, or go back) */
			uint8_t q = (uint8_t)getn(&in, 1);
			int8_t step = (int8_t)getn(&in, 1);
			struct vtr_ring_shared *sh = ring_sh(q, 0);
			sh->prod += (uint32_t)(int32_t)step;
			break;
		}
		case 4:
			host_pass(r);
			break;
		case 5: { /* the guest reaps everything its CQ holds */
			struct vtr_ring_shared *sh = ring_sh((uint8_t)getn(&in, 1), 1);
			sh->cons = sh->prod;
			break;
		}
		case 6:
			host_announce(r);
			break;
		case 7: { /* set one ring index word to any value */
			uint8_t which = (uint8_t)getn(&in, 1);
			struct vtr_ring_shared *sh = ring_sh(which >> 2, (which >> 1) & 1);
			uint32_t val = (uint32_t)getn(&in, 4);
			if (which & 1)
				sh->cons = val;
			else
				sh->prod = val;
			break;
		}
		}
	}
	if (!r->attached_ok)
		host_attach(r, from_header);
	/* Whatever is still queued gets served, as the poller would before it sleeps. */
	for (int i = 0; i < 4; i++) {
		struct vtr_ring_shared *cq0 = ring_sh(0, 1), *cq1 = ring_sh(1, 1);
		host_pass(r);
		cq0->cons = cq0->prod; /* the guest keeps reaping */
		cq1->cons = cq1->prod;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_sess sess[4];
	static struct guest_res res[4];
	struct fz_run *r = calloc(1, sizeof(*r));

	if (!r)
		die("out of memory");
	memcpy(fz.mem, fz.pristine, fz.size);
	memset(sess, 0, sizeof(sess));
	memset(res, 0, sizeof(res));
	/* The agent's guest (guest.c: guest_create) without a socket. */
	r->g.id = 1;
	r->g.sock = -1;
	r->g.bell = -1;
	r->g.guest_epoch_word = &((struct vshm_header *)fz.mem)->guest_epoch;
	r->g.guest_epoch = *r->g.guest_epoch_word;
	r->g.base = fz.mem;
	r->g.max_sess = 4;
	r->g.max_res = 4;
	r->g.sess = sess;
	r->g.res = res;
	r->g.log_sec = fz.log_sec;
	r->g.log_count = fz.log_count;
	r->g.log_dropped = fz.log_dropped;
	r->o = (struct agent_opts){.qps = FZ_QPS, .sq_entries = FZ_SQ, .cq_entries = FZ_CQ,
				   .pool_spec = FZ_POOL, .max_guests = 1, .max_sessions = 4,
				   .max_resources = 4, .max_resource_bytes = 16384, .max_queued = 64};
	quiet();
	run(r, data, size);
	/* The poller's retirement of a guest: sessions and resources go. */
	guest_release_host_state(&r->g);
	loud_again();
	for (uint32_t i = 0; i < r->g.max_sess; i++)
		if (sess[i].used)
			die("a session outlived its guest");
	fz.log_sec = r->g.log_sec;
	fz.log_count = r->g.log_count;
	fz.log_dropped = r->g.log_dropped;
	fz.poller.guests = fz.poller.active = NULL;
	vshm_region_close(r->attached);
	free(r);
	return 0;
}

#ifdef FUZZ_REPLAY_MAIN
/* Replays files given as arguments (directories: every file in them). */
#include <dirent.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 20];
	size_t n;

	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, bad = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st)) {
			fprintf(stderr, "cannot stat %s\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= replay_file(argv[i]);
			files++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char p[PATH_MAX];
			size_t len = strlen(e->d_name);
			if (e->d_name[0] == '.' || (len > 3 && !strcmp(e->d_name + len - 3, ".md")))
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			bad |= replay_file(p);
			files++;
		}
		if (d)
			closedir(d);
	}
	printf("replayed %d input(s)\n", files);
	return bad || files == 0;
}
#endif
