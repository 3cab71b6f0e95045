/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The asynchronous ops (vaccel/async.h): genop submitted now and reaped later, on this
 * thread's own queue pair; a noop goes without arguments (transport/client.h's lean path).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <vaccel.h>

#include "backends/remote/ops.h"

_Static_assert(SHM_SUBMIT_WAIT == VACCEL_ASYNC_WAIT && SHM_SUBMIT_MORE == VACCEL_ASYNC_MORE,
	       "asynchronous flags pass to shm_submit unchanged");

/*
 * An integer argument of 1, 2, 4 or 8 bytes. Loads of the argument's own width: a wider
 * load over a narrower store cannot be forwarded and would wait for the store buffer, which
 * on this path holds request stores still waiting for their ring lines.
 */
static inline int _int_arg(const struct vaccel_arg *a, int64_t *v)
{
	switch (a->size) {
	case 1: { int8_t x; memcpy(&x, a->buf, 1); *v = x; return 0; }
	case 2: { int16_t x; memcpy(&x, a->buf, 2); *v = x; return 0; }
	case 4: { int32_t x; memcpy(&x, a->buf, 4); *v = x; return 0; }
	case 8: { int64_t x; memcpy(&x, a->buf, 8); *v = x; return 0; }
	}
	return -EINVAL;
}

static int _async_ret(int ret)
{
	return ret == -EAGAIN ? VACCEL_EAGAIN : shm_vret(ret);
}

/* The general case of shm_genop_async: arguments beyond the op type (out of line, so
 * that its argument arrays stay off the noop path). */
__attribute__((noinline)) static int _genop_async_args(struct vaccel_session *sess, int64_t op,
						       struct vaccel_arg *read, int nr_read,
						       struct vaccel_arg *write, int nr_write,
						       uint64_t user_data, unsigned flags)
{
	struct vtr_io in[VTR_MAX_ARGS], out[VTR_MAX_ARGS];
	uint32_t nr_in = 0;
	uint64_t handle;
	int first = 1;

	if (shm_gone(sess))
		return VACCEL_ESESS; /* before looking up its resources */
	if (op == VACCEL_OP_EXEC_WITH_RESOURCE && nr_read >= 2) {
		/* The guest names its own resource; the host knows it by the handle it returned. */
		struct vaccel_resource *res;
		int64_t id = 0;
		if (!read[1].buf || _int_arg(&read[1], &id))
			return VACCEL_EINVAL;
		if (vaccel_resource_get_by_id(&res, id) || !res->remote_id)
			return VACCEL_EINVAL;
		handle = (uint64_t)res->remote_id;
		in[nr_in++] = (struct vtr_io){&handle, sizeof(handle), VACCEL_ARG_UINT64};
		first = 2;
	}
	if ((size_t)nr_read - (size_t)first + nr_in + (size_t)nr_write > VTR_MAX_ARGS)
		return VACCEL_EINVAL;
	for (int i = first; i < nr_read; i++)
		in[nr_in++] = (struct vtr_io){read[i].buf, read[i].size, read[i].type};
	for (int i = 0; i < nr_write; i++)
		out[i] = (struct vtr_io){write[i].buf, write[i].size, write[i].type};
	return _async_ret(shm_submit(shm_sess_gen(sess), VTR_OP_VACCEL, shm_rsess(sess), (uint32_t)op, in,
				     nr_in, out, (uint32_t)nr_write, user_data, flags));
}

/*
 * Asynchronous genop: the same arguments as the synchronous path, tagged with user_data.
 * An op without arguments beyond its type (a noop) goes straight to shm_submit. A session
 * of a lost connection is refused there (VACCEL_ESESS).
 */
static int shm_genop_async(struct vaccel_session *sess, struct vaccel_arg *read, int nr_read,
			   struct vaccel_arg *write, int nr_write, uint64_t user_data, unsigned flags)
{
	int64_t op = 0;

	if (!read[0].buf || _int_arg(&read[0], &op) || op < 0 || op >= VACCEL_OP_MAX)
		return VACCEL_EINVAL;
	flags &= SHM_SUBMIT_WAIT | SHM_SUBMIT_MORE;
	if (__builtin_expect(nr_read == 1 && nr_write == 0, 1))
		return _async_ret(shm_submit0(shm_sess_gen(sess), VTR_OP_VACCEL, shm_rsess(sess), (uint32_t)op,
					      user_data, flags));
	return _genop_async_args(sess, op, read, nr_read, write, nr_write, user_data, flags);
}

/* vaccel_noop_async's own entry (VACCEL_PLUGIN_ASYNC_NOOP_SYMBOL): genop's noop case. */
__attribute__((visibility("default"))) int vaccel_plugin_async_noop(struct vaccel_session *sess,
								    uint64_t user_data,
								    unsigned int flags)
{
	return _async_ret(shm_submit0(shm_sess_gen(sess), VTR_OP_VACCEL, shm_rsess(sess), VACCEL_OP_NOOP,
				      user_data, flags));
}

static int shm_async_flush(struct vaccel_session *sess)
{
	(void)sess;
	int ret = shm_flush();
	return ret == -EAGAIN ? VACCEL_OK : shm_vret(ret); /* the rest goes out with the next reap */
}

static int shm_async_reap(struct vaccel_session *sess, struct vaccel_completion *out,
			  unsigned min_nr, unsigned max_nr, int timeout_ms, unsigned *nr)
{
	(void)sess;
	int ret = shm_reap(out, min_nr, max_nr, min_nr ? timeout_ms : 0, nr);

	if (ret == -ETIMEDOUT)
		return *nr >= min_nr ? VACCEL_OK : VACCEL_ETIMEDOUT;
	return shm_vret(ret);
}

static unsigned shm_async_inflight(struct vaccel_session *sess)
{
	(void)sess;
	return shm_inflight();
}

__attribute__((visibility("default"))) const struct vaccel_plugin_async_ops vaccel_plugin_async_ops = {
	.genop = shm_genop_async,
	.flush = shm_async_flush,
	.reap = shm_async_reap,
	.inflight = shm_async_inflight,
};
