/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How a tensor crosses: torch model load/run and torch sgemm in the records layout of
 * transport/tensor.h. An input's data travels by offset when it already lives in the pool
 * (vaccel_buffer_alloc), else it is copied in once. Outputs, which the host's plugin
 * allocates, come back packed into one pool buffer (the output area) and are copied once
 * into tensors of vaccel_torch_tensor_allocate, which the caller frees with
 * vaccel_torch_tensor_delete as upstream's plugins' outputs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vaccel.h>

#include "backends/shm/ops.h"
#include "shm/pool.h"
#include "transport/tensor.h"

/* Input record of a tensor: VACCEL_EINVAL for what the host would refuse anyway. */
static int _record(const struct vaccel_torch_tensor *t, struct vtr_tensor *r, struct vtr_io *data)
{
	if (!t || t->nr_dims < 1 || (uint64_t)t->nr_dims > VTR_TENSOR_MAX_DIMS || !t->dims ||
	    (t->size && !t->data)) {
		vaccel_error("[shm] torch: a tensor needs 1 to %u dims and its data",
			     VTR_TENSOR_MAX_DIMS);
		return VACCEL_EINVAL;
	}
	*r = (struct vtr_tensor){.dtype = (uint32_t)t->data_type, .nr_dims = (uint32_t)t->nr_dims,
				 .size = t->size};
	memcpy(r->dims, t->dims, (size_t)t->nr_dims * sizeof(r->dims[0]));
	*data = (struct vtr_io){t->data, t->size, VACCEL_ARG_RAW};
	return VACCEL_OK;
}

/* The output area: the largest pool buffer (the host cannot tell the outputs' size first). */
static int _area(struct vshm_pool **pool, struct vshm_buf *area)
{
	uint64_t largest = 0;

	*pool = shm_conn_pool();
	if (!*pool)
		return VACCEL_ESESS;
	vshm_pool_class_info(*pool, vshm_pool_nr_classes(*pool) - 1, &largest, NULL, NULL);
	int ret = vshm_pool_alloc(*pool, largest, VSHM_POOL_WAIT, area);
	if (ret) {
		vaccel_error("[shm] torch: no pool buffer for the outputs: %s", vshm_pool_strerror(ret));
		return VACCEL_ENOMEM;
	}
	return VACCEL_OK;
}

/*
 * Output tensors from the records the host wrote and the data it packed in the area; on
 * failure none is left allocated. A record that points outside the area is refused.
 */
static int _outputs(const struct vtr_tensor *rec, int nr, const struct vshm_buf *area,
		    struct vaccel_torch_tensor **out)
{
	int i, ret = VACCEL_OK;

	for (i = 0; i < nr; i++) {
		const struct vtr_tensor *r = &rec[i];
		out[i] = NULL;
		if (r->nr_dims == 0 && r->size == 0)
			continue; /* the host's plugin left this output empty */
		if (r->nr_dims < 1 || r->nr_dims > VTR_TENSOR_MAX_DIMS || r->off > area->cap ||
		    area->cap - r->off < r->size) {
			vaccel_error("[shm] torch: the agent returned a malformed output %d", i);
			ret = VACCEL_EBACKEND;
			break;
		}
		ret = vaccel_torch_tensor_allocate(&out[i], r->nr_dims, r->dims,
						   (enum vaccel_torch_data_type)r->dtype, r->size);
		if (ret)
			break;
		if (r->size)
			memcpy(out[i]->data, (const char *)area->ptr + r->off, r->size);
	}
	if (ret)
		for (int j = 0; j <= i && j < nr; j++) {
			vaccel_torch_tensor_delete(out[j]);
			out[j] = NULL;
		}
	return ret;
}

/* Runs a records-layout request: in[] ends with the input records and data, out[] gets the
 * output records and the area appended; nr_rec_out outputs come back into outs[]. */
static int _call_tensors(struct vaccel_session *sess, vaccel_op_type_t op, struct vtr_io *in,
			 uint32_t nr_in, struct vaccel_torch_tensor **outs, int nr_rec_out)
{
	struct vtr_tensor rec_out[VTR_TENSOR_MAX];
	struct vshm_pool *pool;
	struct vshm_buf area;
	int ret = _area(&pool, &area);

	if (ret)
		return ret;
	memset(rec_out, 0, sizeof(rec_out[0]) * (size_t)nr_rec_out);
	struct vtr_io out[2] = {
		{rec_out, sizeof(rec_out[0]) * (uint64_t)nr_rec_out, VACCEL_ARG_RAW},
		{area.ptr, area.cap, VACCEL_ARG_RAW},
	};
	ret = shm_vret(shm_call(VTR_OP_VACCEL, shm_rsess(sess), op, in, nr_in, out, 2));
	if (ret == VACCEL_OK)
		ret = _outputs(rec_out, nr_rec_out, &area, outs);
	vshm_pool_free(pool, area.ptr);
	return ret;
}

int shm_torch_model_load(struct vaccel_session *sess, struct vaccel_resource *model)
{
	uint64_t handle = (uint64_t)model->remote_id;
	struct vtr_io in[1] = {{&handle, sizeof(handle), VACCEL_ARG_UINT64}};

	if (shm_gone(sess))
		return VACCEL_ESESS;
	if (!model->remote_id)
		return VACCEL_EINVAL;
	return shm_vret(shm_call(VTR_OP_VACCEL, shm_rsess(sess), VACCEL_OP_TORCH_MODEL_LOAD, in, 1,
				 NULL, 0));
}

int shm_torch_model_run(struct vaccel_session *sess, struct vaccel_resource *model,
			const struct vaccel_torch_buffer *run_options,
			struct vaccel_torch_tensor *const *inputs, int nr_inputs,
			struct vaccel_torch_tensor **outputs, int nr_outputs)
{
	uint64_t handle = (uint64_t)model->remote_id;
	struct vtr_tensor rec[VTR_TENSOR_MAX];
	struct vtr_io in[3 + VTR_TENSOR_MAX];
	int ret;

	if (shm_gone(sess))
		return VACCEL_ESESS;
	if (!model->remote_id || nr_inputs < 0 || nr_outputs < 0 || (nr_inputs && !inputs) ||
	    (nr_outputs && !outputs))
		return VACCEL_EINVAL;
	if ((uint32_t)nr_inputs > VTR_TENSOR_MAX || (uint32_t)nr_outputs > VTR_TENSOR_MAX) {
		vaccel_error("[shm] torch: at most %u input and %u output tensors cross the transport",
			     VTR_TENSOR_MAX, VTR_TENSOR_MAX);
		return VACCEL_EINVAL;
	}
	in[0] = (struct vtr_io){&handle, sizeof(handle), VACCEL_ARG_UINT64};
	in[1] = (struct vtr_io){run_options ? run_options->data : NULL,
				run_options && run_options->data ? run_options->size : 0, VACCEL_ARG_RAW};
	in[2] = (struct vtr_io){rec, sizeof(rec[0]) * (uint64_t)nr_inputs, VACCEL_ARG_RAW};
	for (int i = 0; i < nr_inputs; i++)
		if ((ret = _record(inputs[i], &rec[i], &in[3 + i])))
			return ret;
	return _call_tensors(sess, VACCEL_OP_TORCH_MODEL_RUN, in, 3 + (uint32_t)nr_inputs, outputs,
			     nr_outputs);
}

int shm_torch_sgemm(struct vaccel_session *sess, struct vaccel_torch_tensor **in_A,
		    struct vaccel_torch_tensor **in_B, struct vaccel_torch_tensor **in_C, int M, int N,
		    int K, struct vaccel_torch_tensor **out)
{
	struct vtr_tensor rec[3];
	int32_t mnk[3] = {M, N, K};
	struct vtr_io in[5];
	int ret;

	if (shm_gone(sess))
		return VACCEL_ESESS;
	if (!in_A || !in_B || !in_C || !out)
		return VACCEL_EINVAL;
	in[0] = (struct vtr_io){rec, sizeof(rec), VACCEL_ARG_RAW};
	if ((ret = _record(*in_A, &rec[0], &in[1])) || (ret = _record(*in_B, &rec[1], &in[2])) ||
	    (ret = _record(*in_C, &rec[2], &in[3])))
		return ret;
	in[4] = (struct vtr_io){mnk, sizeof(mnk), VACCEL_ARG_INT32_ARRAY};
	return _call_tensors(sess, VACCEL_OP_TORCH_SGEMM, in, 5, out, 1);
}
