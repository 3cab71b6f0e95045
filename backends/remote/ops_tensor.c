/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How a tensor crosses, for every family (torch, tf, tflite; transport/tensor.h): inputs as
 * records plus one data argument each (by offset when the data already lives in the pool,
 * else copied in once); outputs, which the host's plugin allocates, packed by the host into
 * one pool buffer (the output area) and described by the records it writes back. The
 * family's file turns those into its own tensors (one copy out of the area), which the
 * caller frees with the family's delete function.
 */
#include <string.h>

#include <vaccel.h>

#include "backends/remote/ops.h"

int shm_tensor_record(uint32_t dtype, int64_t nr_dims, const void *dims, int dims32, void *data,
		      size_t size, struct vtr_tensor *r, struct vtr_io *io)
{
	if (nr_dims < 1 || (uint64_t)nr_dims > VTR_TENSOR_MAX_DIMS || !dims || (size && !data)) {
		vaccel_error("[shm] a tensor needs 1 to %u dims and its data", VTR_TENSOR_MAX_DIMS);
		return VACCEL_EINVAL;
	}
	*r = (struct vtr_tensor){.dtype = dtype, .nr_dims = (uint32_t)nr_dims, .size = size};
	for (int64_t i = 0; i < nr_dims; i++)
		r->dims[i] = dims32 ? ((const int32_t *)dims)[i] : ((const int64_t *)dims)[i];
	*io = (struct vtr_io){data, size, VACCEL_ARG_RAW};
	return VACCEL_OK;
}

#define AREA_RESERVE 4u /* smallest-class buffers left for argument tables */

/*
 * The output area: the host cannot tell the outputs' size first, so the largest pool buffer
 * free now; when the application holds every buffer of a class (vaccel_buffer_alloc), a
 * smaller one (outputs that do not fit are the call's ENOSPC, not a wait that could last
 * forever). Only when no class has a free buffer does the call wait, for the largest. The
 * smallest class keeps a few buffers for the call's own argument table.
 */
static int _area(struct shm_tensor_call *tc)
{
	uint64_t size = 0;
	uint32_t nr_free = 0;
	int ret;

	tc->pool = shm_conn_pool();
	if (!tc->pool)
		return VACCEL_ESESS;
	for (uint32_t c = vshm_pool_nr_classes(tc->pool); c-- > 0;) {
		if (vshm_pool_class_info(tc->pool, c, &size, NULL, &nr_free) == 0 &&
		    nr_free > (c == 0 ? AREA_RESERVE : 0) &&
		    (ret = vshm_pool_alloc(tc->pool, size, 0, &tc->area)) == 0)
			return VACCEL_OK;
	}
	vshm_pool_class_info(tc->pool, vshm_pool_nr_classes(tc->pool) - 1, &size, NULL, NULL);
	ret = vshm_pool_alloc(tc->pool, size, VSHM_POOL_WAIT, &tc->area);
	if (ret) {
		vaccel_error("[shm] no pool buffer for the output tensors: %s", vshm_pool_strerror(ret));
		return VACCEL_ENOMEM;
	}
	return VACCEL_OK;
}

int shm_tensor_call(struct vaccel_session *sess, vaccel_op_type_t op, const struct vtr_io *in,
		    uint32_t nr_in, struct shm_tensor_call *tc, const struct vtr_io *status)
{
	int ret;

	if (shm_gone(sess))
		return VACCEL_ESESS;
	if ((ret = _area(tc)))
		return ret;
	memset(tc->rec, 0, sizeof(tc->rec[0]) * tc->nr_out);
	struct vtr_io out[3] = {
		{tc->rec, sizeof(tc->rec[0]) * (uint64_t)tc->nr_out, VACCEL_ARG_RAW},
		{tc->area.ptr, tc->area.cap, VACCEL_ARG_RAW},
		status ? *status : (struct vtr_io){0},
	};
	ret = shm_vret(shm_call(VTR_OP_VACCEL, shm_rsess(sess), op, in, nr_in, out, status ? 3 : 2));
	if (ret)
		shm_tensor_done(tc);
	return ret;
}

int shm_tensor_out(const struct shm_tensor_call *tc, uint32_t i, const struct vtr_tensor **r,
		   const void **data)
{
	const struct vtr_tensor *t = &tc->rec[i];

	*r = NULL;
	if (t->dtype == 0 && t->nr_dims == 0 && t->size == 0)
		return VACCEL_OK; /* the host's plugin left this output empty */
	if (t->nr_dims < 1 || t->nr_dims > VTR_TENSOR_MAX_DIMS || t->off > tc->area.cap ||
	    tc->area.cap - t->off < t->size) {
		vaccel_error("[shm] the agent returned a malformed output tensor %u", i);
		return VACCEL_EBACKEND;
	}
	*r = t;
	*data = (const char *)tc->area.ptr + t->off;
	return VACCEL_OK;
}

int shm_tensor_outputs(struct shm_tensor_call *tc, void *outs, const struct shm_tensor_family *f)
{
	uint32_t i;
	int ret = VACCEL_OK;

	for (i = 0; i < tc->nr_out; i++)
		f->clear(outs, i);
	for (i = 0; i < tc->nr_out && ret == VACCEL_OK; i++) {
		const struct vtr_tensor *r;
		const void *data;
		void *dst = NULL;
		ret = shm_tensor_out(tc, i, &r, &data);
		if (ret || !r)
			continue;
		ret = f->alloc(outs, i, r, &dst);
		if (ret == VACCEL_OK && r->size)
			memcpy(dst, data, r->size);
	}
	for (i = 0; ret && i < tc->nr_out; i++) {
		f->del(outs, i);
		f->clear(outs, i);
	}
	shm_tensor_done(tc);
	return ret;
}

void shm_tensor_done(struct shm_tensor_call *tc)
{
	if (tc->area.ptr)
		vshm_pool_free(tc->pool, tc->area.ptr);
	tc->area.ptr = NULL;
}
