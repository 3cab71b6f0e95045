/* SPDX-License-Identifier: Apache-2.0 */
/*
 * torch model load/run and torch sgemm across the transport, in the records layout of
 * transport/tensor.h (ops_tensor.c does the crossing). Output tensors are made with
 * vaccel_torch_tensor_allocate, so the caller frees them with vaccel_torch_tensor_delete as
 * it would a local plugin's.
 */
#include <string.h>

#include <vaccel.h>

#include "backends/remote/ops.h"

static int _record(const struct vaccel_torch_tensor *t, struct vtr_tensor *r, struct vtr_io *io)
{
	if (!t)
		return VACCEL_EINVAL;
	return shm_tensor_record((uint32_t)t->data_type, t->nr_dims, t->dims, 0, t->data, t->size, r, io);
}

static void _clear(void *outs, uint32_t i)
{
	((struct vaccel_torch_tensor **)outs)[i] = NULL;
}

static int _alloc(void *outs, uint32_t i, const struct vtr_tensor *r, void **data)
{
	struct vaccel_torch_tensor **t = &((struct vaccel_torch_tensor **)outs)[i];
	int ret = vaccel_torch_tensor_allocate(t, r->nr_dims, r->dims,
					       (enum vaccel_torch_data_type)r->dtype, r->size);
	if (ret == VACCEL_OK)
		*data = (*t)->data;
	return ret;
}

static void _del(void *outs, uint32_t i)
{
	vaccel_torch_tensor_delete(((struct vaccel_torch_tensor **)outs)[i]);
}

static const struct shm_tensor_family torch_family = {.clear = _clear, .alloc = _alloc, .del = _del};

int shm_torch_model_load(struct vaccel_session *sess, struct vaccel_resource *model)
{
	uint64_t handle = (uint64_t)model->remote_id;
	struct vtr_io in[1] = {{&handle, sizeof(handle), VACCEL_ARG_UINT64}};

	if (!model->remote_id)
		return VACCEL_EINVAL;
	return shm_op_call(sess, VACCEL_OP_TORCH_MODEL_LOAD, in, 1, NULL, 0);
}

int shm_torch_model_run(struct vaccel_session *sess, struct vaccel_resource *model,
			const struct vaccel_torch_buffer *run_options,
			struct vaccel_torch_tensor *const *inputs, int nr_inputs,
			struct vaccel_torch_tensor **outputs, int nr_outputs)
{
	uint64_t handle = (uint64_t)model->remote_id;
	struct vtr_tensor rec[VTR_TENSOR_MAX];
	struct vtr_io in[3 + VTR_TENSOR_MAX];
	struct shm_tensor_call tc;
	int ret;

	if (!model->remote_id || nr_inputs < 0 || nr_outputs < 0 || (nr_inputs && !inputs) ||
	    (nr_outputs && !outputs))
		return VACCEL_EINVAL;
	if ((uint32_t)nr_inputs > VTR_TENSOR_MAX || (uint32_t)nr_outputs > VTR_TENSOR_MAX) {
		vaccel_error("[shm] at most %u input and %u output tensors cross the transport",
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
	tc.nr_out = (uint32_t)nr_outputs;
	ret = shm_tensor_call(sess, VACCEL_OP_TORCH_MODEL_RUN, in, 3 + (uint32_t)nr_inputs, &tc, NULL);
	return ret ? ret : shm_tensor_outputs(&tc, outputs, &torch_family);
}

int shm_torch_sgemm(struct vaccel_session *sess, struct vaccel_torch_tensor **in_A,
		    struct vaccel_torch_tensor **in_B, struct vaccel_torch_tensor **in_C, int M, int N,
		    int K, struct vaccel_torch_tensor **out)
{
	struct vtr_tensor rec[3];
	int32_t mnk[3] = {M, N, K};
	struct vtr_io in[5];
	struct shm_tensor_call tc = {.nr_out = 1};
	int ret;

	if (!in_A || !in_B || !in_C || !out)
		return VACCEL_EINVAL;
	in[0] = (struct vtr_io){rec, sizeof(rec), VACCEL_ARG_RAW};
	if ((ret = _record(*in_A, &rec[0], &in[1])) || (ret = _record(*in_B, &rec[1], &in[2])) ||
	    (ret = _record(*in_C, &rec[2], &in[3])))
		return ret;
	in[4] = (struct vtr_io){mnk, sizeof(mnk), VACCEL_ARG_INT32_ARRAY};
	ret = shm_tensor_call(sess, VACCEL_OP_TORCH_SGEMM, in, 5, &tc, NULL);
	return ret ? ret : shm_tensor_outputs(&tc, out, &torch_family);
}
