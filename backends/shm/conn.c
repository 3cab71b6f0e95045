/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest side of the transport: connecting to the agent (ivshmem-server protocol), mapping
 * the region, the pool, and queue pairs for the process's threads.
 *
 * A thread claims a queue pair of its own with a CAS on the pair's owner word and keeps it
 * until it exits; threads beyond the number of queue pairs share them under a lock.
 */
#include "backends/shm/conn.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vaccel.h>

#include "shm/pool.h"
#include "shm/region.h"
#include "transport/qp.h"
#include "vmm-glue/ivshmem_proto.h"

#define CONNECT_TIMEOUT_MS 5000
#define WAIT_TIMEOUT_MS 1000 /* re-check the host's liveness this often while waiting */
#define SMALL_ARG 256u       /* arguments up to this size travel in the table's buffer */

struct gqp {
	struct vtr_qp qp;
	pthread_mutex_t lock; /* taken only when threads share this pair */
	uint32_t owner;       /* claimed by a thread (tid), 0 if shared */
	uint64_t next_ud;
};

static struct {
	pthread_mutex_t lock;
	int up;
	struct vivs_client cli;
	struct vshm_region *reg;
	struct vshm_pool *pool;
	uint32_t nr_qps;
	struct gqp *qps;
	pthread_key_t key;
	uint64_t gen; /* connection number: a thread's cached pair is valid for one connection */
	char path[256];
} g_conn = {.lock = PTHREAD_MUTEX_INITIALIZER};

static __thread struct gqp *t_qp;
static __thread uint64_t t_gen;

const char *shm_conn_socket_path(void)
{
	const char *p = getenv("VACCEL_SHM_SOCKET");
	return p && *p ? p : "/tmp/vaccel-agent.sock";
}

static void _thread_exit(void *arg)
{
	struct gqp *q = arg;

	if (q && q->owner) {
		uint32_t who = q->owner;
		q->owner = 0;
		vtr_qp_unclaim(q->qp.sh, who);
	}
}

static int _connect_locked(void)
{
	struct vshm_err err;
	const struct vshm_layout *l;
	int ret;

	snprintf(g_conn.path, sizeof(g_conn.path), "%s", shm_conn_socket_path());
	ret = vivs_client_open(g_conn.path, &g_conn.cli, CONNECT_TIMEOUT_MS);
	if (ret) {
		vaccel_error("[shm] cannot connect to the vAccel agent at %s: %s%s", g_conn.path,
			     strerror(-ret),
			     ret == -ENOENT || ret == -ECONNREFUSED
				     ? " (is vaccel-agent running? set VACCEL_SHM_SOCKET to its socket)"
				     : "");
		return ret;
	}
	ret = vshm_region_attach_fd(g_conn.cli.shm_fd, &g_conn.reg, &err);
	if (ret) {
		vaccel_error("[shm] agent at %s handed over an unusable region: %s", g_conn.path, err.msg);
		goto err;
	}
	l = vshm_region_layout(g_conn.reg);
	g_conn.nr_qps = 0;
	while (vshm_layout_find(l, VSHM_AREA_QP, g_conn.nr_qps))
		g_conn.nr_qps++;
	if (g_conn.nr_qps == 0 || g_conn.nr_qps > VIVS_MAX_VECTORS) {
		vaccel_error("[shm] region from %s has %u queue pairs", g_conn.path, g_conn.nr_qps);
		ret = -EPROTO;
		goto err;
	}
	ret = vivs_client_read_peers(&g_conn.cli, g_conn.nr_qps, CONNECT_TIMEOUT_MS);
	const struct vivs_peer *host = ret ? NULL : vivs_client_peer(&g_conn.cli, 0);
	if (!host) {
		vaccel_error("[shm] agent at %s did not send its doorbells: %s", g_conn.path,
			     strerror(ret ? -ret : EPROTO));
		ret = ret ? ret : -EPROTO;
		goto err;
	}
	ret = vshm_pool_open(g_conn.reg, &g_conn.pool);
	if (ret) {
		vaccel_error("[shm] region from %s has no usable buffer pool: %s", g_conn.path, strerror(-ret));
		goto err;
	}
	g_conn.qps = calloc(g_conn.nr_qps, sizeof(*g_conn.qps));
	if (!g_conn.qps) {
		ret = -ENOMEM;
		goto err;
	}
	for (uint32_t q = 0; q < g_conn.nr_qps; q++) {
		const struct vshm_area *a;
		void *mem = vshm_region_area(g_conn.reg, VSHM_AREA_QP, q, &a);
		struct vtr_doorbell db = {.fd = host->fds[q]};

		ret = vtr_qp_attach(&g_conn.qps[q].qp, mem, a->size, a->param0, a->param1, VTR_QP_GUEST,
				    g_conn.cli.own_fds[q], &db);
		if (ret) {
			vaccel_error("[shm] queue pair %u from %s is unusable: %s", q, g_conn.path, strerror(-ret));
			goto err;
		}
		pthread_mutex_init(&g_conn.qps[q].lock, NULL);
	}
	pthread_key_create(&g_conn.key, _thread_exit);
	g_conn.gen++;
	__atomic_store_n(&g_conn.up, 1, __ATOMIC_RELEASE);
	vaccel_debug("[shm] connected to %s as peer %u: %u queue pairs", g_conn.path, g_conn.cli.id,
		     g_conn.nr_qps);
	return 0;
err:
	free(g_conn.qps);
	g_conn.qps = NULL;
	vshm_pool_close(g_conn.pool);
	g_conn.pool = NULL;
	vshm_region_close(g_conn.reg);
	g_conn.reg = NULL;
	vivs_client_close(&g_conn.cli);
	return ret;
}

struct vshm_pool *shm_conn_pool(void)
{
	return __atomic_load_n(&g_conn.up, __ATOMIC_ACQUIRE) ? g_conn.pool : NULL;
}

void *shm_conn_base(void)
{
	return __atomic_load_n(&g_conn.up, __ATOMIC_ACQUIRE) ? vshm_region_base(g_conn.reg) : NULL;
}

uint64_t shm_conn_generation(void)
{
	return g_conn.gen;
}

int shm_conn_ensure(void)
{
	int ret = 0;

	if (__atomic_load_n(&g_conn.up, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&g_conn.lock);
	if (!g_conn.up)
		ret = _connect_locked();
	pthread_mutex_unlock(&g_conn.lock);
	return ret;
}

void shm_conn_close(void)
{
	pthread_mutex_lock(&g_conn.lock);
	if (g_conn.up) {
		g_conn.up = 0;
		free(g_conn.qps);
		g_conn.qps = NULL;
		vshm_pool_close(g_conn.pool);
		vshm_region_close(g_conn.reg);
		vivs_client_close(&g_conn.cli);
		pthread_key_delete(g_conn.key);
	}
	pthread_mutex_unlock(&g_conn.lock);
}

/*
 * This thread's queue pair: one of its own (pairs 0 .. n-2, claimed with a CAS) while any is
 * free; otherwise the last pair, which is never claimed and is shared under its lock.
 */
static struct gqp *_qp_get(int *shared)
{
	if (!t_qp || t_gen != g_conn.gen) {
		uint32_t tid = (uint32_t)syscall(SYS_gettid);

		t_gen = g_conn.gen;
		t_qp = &g_conn.qps[g_conn.nr_qps - 1];
		for (uint32_t q = 0; q + 1 < g_conn.nr_qps; q++) {
			if (vtr_qp_claim(g_conn.qps[q].qp.sh, tid) == 0) {
				g_conn.qps[q].owner = tid;
				t_qp = &g_conn.qps[q];
				pthread_setspecific(g_conn.key, t_qp);
				break;
			}
		}
	}
	*shared = !t_qp->owner;
	if (*shared)
		pthread_mutex_lock(&t_qp->lock);
	return t_qp;
}

static void _qp_put(struct gqp *q, int shared)
{
	if (shared)
		pthread_mutex_unlock(&q->lock);
}

/* Bytes of pool memory a call needs in its table buffer (table + small arguments). */
static uint64_t _table_bytes(const struct shm_io *in, uint32_t nr_in, const struct shm_io *out,
			     uint32_t nr_out, uint64_t *off_small)
{
	uint64_t b = (uint64_t)(nr_in + nr_out) * sizeof(struct vtr_arg);

	*off_small = (b + 63) & ~63ull;
	b = *off_small;
	for (uint32_t i = 0; i < nr_in; i++)
		if (in[i].len <= SMALL_ARG)
			b += (in[i].len + 7) & ~7ull;
	for (uint32_t i = 0; i < nr_out; i++)
		if (out[i].len <= SMALL_ARG)
			b += (out[i].len + 7) & ~7ull;
	return b;
}

int64_t shm_call(uint16_t opcode, uint32_t sess_id, uint32_t op, const struct shm_io *in,
		 uint32_t nr_in, const struct shm_io *out, uint32_t nr_out)
{
	struct vtr_sqe sqe = {.opcode = opcode, .sess_id = sess_id, .op = op};
	struct vshm_buf table = {0}, big[VTR_MAX_ARGS];
	uint32_t nr_big = 0, nr = nr_in + nr_out;
	struct vtr_cqe cqe;
	int shared, ret;

	if (!g_conn.up)
		return -ENOTCONN;
	if (nr > VTR_MAX_ARGS)
		return -E2BIG;
	if (nr) {
		uint64_t small_off, need = _table_bytes(in, nr_in, out, nr_out, &small_off);
		struct vtr_arg *args;

		ret = vshm_pool_alloc(g_conn.pool, need, VSHM_POOL_WAIT, &table);
		if (ret)
			return ret;
		args = table.ptr;
		for (uint32_t i = 0; i < nr; i++) {
			const struct shm_io *io = i < nr_in ? &in[i] : &out[i - nr_in];
			uint64_t off;

			args[i].len = io->len;
			args[i].type = io->type;
			args[i].flags = i < nr_in ? VTR_ARG_IN : VTR_ARG_OUT;
			if (io->len && vshm_pool_find(g_conn.pool, io->buf, io->len, &off) == 0) {
				args[i].off = off; /* already in the pool: only the offset travels */
				continue;
			}
			if (io->len <= SMALL_ARG) {
				args[i].off = table.off + small_off;
				memcpy((char *)table.ptr + small_off, io->buf, io->len);
				small_off += (io->len + 7) & ~7ull;
				continue;
			}
			ret = vshm_pool_alloc(g_conn.pool, io->len, VSHM_POOL_WAIT, &big[nr_big]);
			if (ret) {
				vaccel_error("[shm] no pool buffer for a %llu-byte argument: %s",
					     (unsigned long long)io->len, vshm_pool_strerror(ret));
				goto out;
			}
			memcpy(big[nr_big].ptr, io->buf, io->len);
			args[i].off = big[nr_big].off;
			nr_big++;
		}
		sqe.args_off = table.off;
		sqe.nr_args = nr;
	}

	struct gqp *q = _qp_get(&shared);
	sqe.user_data = ++q->next_ud;
	while (vtr_qp_submit(&q->qp, &sqe, 1) == 0)
		vshm_cpu_relax(); /* only when other threads share this pair and filled it */
	for (;;) {
		ret = vtr_qp_wait(&q->qp, &cqe, 1, WAIT_TIMEOUT_MS);
		if (ret == 1 && cqe.user_data == sqe.user_data)
			break;
		if (ret == 1)
			continue; /* a stale completion of an abandoned request */
		if (ret != -ETIMEDOUT)
			break;
	}
	_qp_put(q, shared);
	if (ret != 1) {
		vaccel_error("[shm] waiting for the agent failed: %s", strerror(-ret));
		goto out;
	}
	ret = cqe.res;

	/* Outputs that were copied in are copied back out. */
	for (uint32_t i = 0; ret >= 0 && i < nr_out; i++) {
		const struct vtr_arg *a = &((struct vtr_arg *)table.ptr)[nr_in + i];
		void *src = (char *)vshm_region_base(g_conn.reg) + a->off;
		if (src != out[i].buf && out[i].len)
			memcpy(out[i].buf, src, out[i].len);
	}
out:
	for (uint32_t i = 0; i < nr_big; i++)
		vshm_pool_free(g_conn.pool, big[i].ptr);
	if (table.ptr)
		vshm_pool_free(g_conn.pool, table.ptr);
	return ret;
}
