/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requests over this thread's queue pair: the connection checks (liveness.c) and the pair
 * (claim.c) here, the slots, pool buffers, submission and waiting in transport/client.h.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <vaccel.h>

#include "backends/remote/conn_state.h"

/* Completions are reaped straight into the caller's array and their res mapped in place. */
_Static_assert(sizeof(struct vtr_completion) == sizeof(struct vaccel_completion) &&
		       offsetof(struct vtr_completion, user_data) ==
			       offsetof(struct vaccel_completion, user_data) &&
		       offsetof(struct vtr_completion, res) == offsetof(struct vaccel_completion, ret) &&
		       sizeof(((struct vaccel_completion *)0)->ret) == sizeof(int32_t),
	       "struct vtr_completion is laid out as struct vaccel_completion");

int64_t shm_call(uint16_t opcode, uint32_t sess_id, uint32_t op, const struct vtr_io *in,
		 uint32_t nr_in, const struct vtr_io *out, uint32_t nr_out)
{
	int shared, ret;
	int32_t res = 0;

	if ((ret = shm_enter()))
		return ret;
	struct gqp *q = shm_qp_get(&shared);
	ret = vtr_client_call(&q->c, opcode, sess_id, op, in, nr_in, out, nr_out, &res);
	shm_qp_put(q, shared);
	if (ret == -ENOMEM || ret == -E2BIG)
		vaccel_error("[shm] no pool buffer for the arguments of a request: %s",
			     vshm_pool_strerror(ret));
	else if (ret && ret != -ECONNRESET)
		vaccel_error("[shm] waiting for the agent failed: %s", strerror(-ret));
	return ret ? ret : res;
}

/* This thread's pair for an asynchronous request of a session of connection gen. */
static inline int _async_qp(uint64_t gen, struct gqp **q)
{
	*q = shm_qp_own_fast();
	/* A session of an earlier connection is told so by shm_qp_async. */
	if (__builtin_expect(*q && gen == t_gen, 1))
		return 0;
	return shm_qp_async(gen, q);
}

int shm_submit0(uint64_t gen, uint16_t opcode, uint32_t sess_id, uint32_t op, uint64_t user_data,
		unsigned flags)
{
	struct gqp *q;
	struct vtr_sqe *sqe;
	uint32_t slot;
	int ret;

	if (__builtin_expect((ret = _async_qp(gen, &q)) != 0, 0))
		return ret;
	if (__builtin_expect((ret = vtr_client_stage(&q->c, flags, &slot, &sqe)) != 0, 0))
		return ret;
	return vtr_client_submit0(&q->c, slot, sqe, opcode, sess_id, op, user_data, flags);
}

int shm_submit(uint64_t gen, uint16_t opcode, uint32_t sess_id, uint32_t op, const struct vtr_io *in,
	       uint32_t nr_in, const struct vtr_io *out, uint32_t nr_out, uint64_t user_data,
	       unsigned flags)
{
	struct gqp *q;
	int ret = _async_qp(gen, &q);

	if (ret)
		return ret;
	return vtr_client_submit(&q->c, opcode, sess_id, op, in, nr_in, out, nr_out, user_data, flags);
}

int shm_flush(void)
{
	int shared;
	int ret = shm_enter();

	if (ret)
		return ret;
	struct gqp *q = shm_qp_get(&shared);
	ret = shared ? 0 : vtr_client_flush(&q->c);
	shm_qp_put(q, shared);
	return ret;
}

int shm_reap(struct vaccel_completion *out, unsigned min_nr, unsigned max_nr, int timeout_ms,
	     unsigned *nr)
{
	int shared = 0, ret;
	struct gqp *q = shm_qp_own_fast();

	*nr = 0;
	if (__builtin_expect(!q, 0)) {
		if ((ret = shm_enter()))
			return ret;
		q = shm_qp_get(&shared);
		if (shared) {
			shm_qp_put(q, shared);
			return max_nr ? -EBUSY : 0;
		}
	}
	ret = vtr_client_reap(&q->c, (struct vtr_completion *)out, min_nr, max_nr, timeout_ms, nr);
	/* Read back as the bytes the client stored (memcpy: no access through the other type). */
	for (unsigned i = 0; i < *nr; i++) {
		struct vtr_completion c;
		memcpy(&c, (const char *)out + i * sizeof(c), sizeof(c));
		out[i].user_data = c.user_data;
		out[i].ret = shm_vret(c.res);
	}
	return ret;
}

unsigned shm_inflight(void)
{
	int shared;

	if (!vshm_load_acquire(&g_conn.up)) /* C1 */
		return 0;
	struct gqp *q = shm_qp_get(&shared);
	unsigned n = shared ? 0 : vtr_client_pending(&q->c);
	shm_qp_put(q, shared);
	return n;
}
