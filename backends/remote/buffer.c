/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shm plugin's buffer hooks (vaccel/buffer.h): application buffers are pool buffers of
 * the current connection, so shm_call finds them with vshm_pool_find and sends only their
 * offsets.
 *
 * Every buffer handed out is recorded here with the connection generation it came from.
 * Free accepts only a recorded start address of the current generation, so a pointer from
 * malloc, into the middle of a buffer, freed already, or from a region that is gone
 * (before a reconnection: possibly unmapped) is refused without being dereferenced or
 * shown to the pool. The pool itself also refuses foreign pointers; this record is what
 * keeps an application from freeing a buffer shm_call is using for a copy.
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdint.h>
#include <stdlib.h>

#include <vaccel.h>

#include "backends/remote/conn.h"
#include "shm/pool.h"

/*
 * Buffers of the smallest class the application may not take: every call needs one for its
 * argument table, and a call waits (VSHM_POOL_WAIT) rather than fail, so an application
 * that held them all would block its own calls forever. Checked before allocating, so
 * threads racing for the last buffers may dip into it; calls then only wait for each other.
 */
#define SHM_BUF_RESERVE 4u

struct shm_rec {
	void *ptr;
	uint64_t gen;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static void *g_root; /* tsearch tree of struct shm_rec, keyed by ptr */

static int _cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct shm_rec *)a)->ptr;
	uintptr_t y = (uintptr_t)((const struct shm_rec *)b)->ptr;
	return x < y ? -1 : x > y;
}

/*
 * The request size to ask the pool for: size, or just above the smallest class when that
 * class is down to its reserve (the pool then takes a larger class). 0 when nothing fits.
 */
static uint64_t _request_size(struct vshm_pool *pool, size_t size)
{
	uint64_t c0;
	uint32_t nr_free;

	if (vshm_pool_class_info(pool, 0, &c0, NULL, &nr_free) || size > c0 || nr_free > SHM_BUF_RESERVE)
		return size;
	return vshm_pool_nr_classes(pool) > 1 ? c0 + 1 : 0;
}

static void _log_too_big(struct vshm_pool *pool, size_t size)
{
	uint64_t largest = 0;

	vshm_pool_class_info(pool, vshm_pool_nr_classes(pool) - 1, &largest, NULL, NULL);
	vaccel_error("[shm] vaccel_buffer_alloc: %zu bytes is larger than the largest pool buffer "
		     "(%llu bytes); start vaccel-agent with a larger --pool class",
		     size, (unsigned long long)largest);
}

static int shm_buffer_alloc(struct vaccel_session *sess, size_t size, void **ptr)
{
	struct vshm_pool *pool;
	struct vshm_buf b;
	struct shm_rec *rec;
	uint64_t gen, want;
	int ret;

	(void)sess;
	if (!size || !ptr)
		return VACCEL_EINVAL;
	pool = shm_conn_pool();
	/* Read after the acquire in shm_conn_pool, which orders it after the connect. */
	gen = shm_conn_generation();
	/*
	 * No shm_conn_ensure here: reconnecting tears the old region down, which only a session
	 * init may do (it waits until no call is inside the old region).
	 */
	if (!pool || !shm_conn_alive(gen)) {
		vaccel_error("[shm] vaccel_buffer_alloc: no live connection to %s "
			     "(lost or closed); a new session reconnects",
			     shm_conn_where());
		return VACCEL_ESESS;
	}
	want = _request_size(pool, size);
	ret = want ? vshm_pool_alloc(pool, want, 0, &b) : -ENOMEM;
	if (ret == -E2BIG && want == size) {
		_log_too_big(pool, size);
		return VACCEL_ENOMEM;
	}
	if (ret) {
		vaccel_error("[shm] vaccel_buffer_alloc: no free pool buffer for %zu bytes (the "
			     "application holds the rest; the agent's --pool sets the counts)",
			     size);
		return VACCEL_ENOMEM;
	}
	rec = malloc(sizeof(*rec));
	if (!rec)
		goto nomem;
	rec->ptr = b.ptr;
	rec->gen = gen;
	pthread_mutex_lock(&g_lock);
	struct shm_rec **node = tsearch(rec, &g_root, _cmp);
	if (node && *node != rec) {
		/* A record of an earlier region mapped at the same address: that buffer is gone. */
		free(*node);
		*node = rec;
	}
	pthread_mutex_unlock(&g_lock);
	if (!node) {
		free(rec);
		goto nomem;
	}
	*ptr = b.ptr;
	return VACCEL_OK;
nomem:
	vshm_pool_free(pool, b.ptr);
	return VACCEL_ENOMEM;
}

static int shm_buffer_free(struct vaccel_session *sess, void *ptr)
{
	struct shm_rec key = {.ptr = ptr}, *rec = NULL;
	struct vshm_pool *pool = shm_conn_pool();
	uint64_t gen = shm_conn_generation();
	int ret;

	(void)sess;
	pthread_mutex_lock(&g_lock);
	struct shm_rec **node = tfind(&key, &g_root, _cmp);
	if (node) {
		rec = *node;
		tdelete(&key, &g_root, _cmp);
	}
	pthread_mutex_unlock(&g_lock);
	if (!rec) {
		vaccel_error("[shm] vaccel_buffer_free(%p): not a live buffer of vaccel_buffer_alloc "
			     "(freed already, memory from elsewhere, or the middle of a buffer)",
			     ptr);
		return VACCEL_EINVAL;
	}
	uint64_t rgen = rec->gen;
	free(rec);
	if (!pool || rgen != gen) {
		vaccel_error("[shm] vaccel_buffer_free(%p): the buffer belongs to a connection "
			     "to the agent that is closed or was replaced; its region is gone",
			     ptr);
		return VACCEL_EINVAL;
	}
	ret = vshm_pool_free(pool, ptr);
	if (ret) {
		/* The record said it was ours: the pool disagreeing is a bug, not misuse. */
		vaccel_error("[shm] vaccel_buffer_free(%p): the pool refused it: %s", ptr,
			     vshm_pool_strerror(ret));
		return VACCEL_EINVAL;
	}
	return VACCEL_OK;
}

__attribute__((visibility("default"))) const struct vaccel_plugin_buffer_ops
	vaccel_plugin_buffer_ops = {
		.alloc = shm_buffer_alloc,
		.free = shm_buffer_free,
};
