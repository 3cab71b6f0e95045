/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TensorFlow and TFLite model load/run/unload across the transport, in the records layout
 * of transport/tensor.h (ops_tensor.c does the crossing). Output tensors are made with the
 * family's allocate function, so the caller frees them with vaccel_tf_tensor_delete or
 * vaccel_tflite_tensor_delete; a TF status comes back as code and message.
 */
#include <stdint.h>
#include <string.h>

#include <vaccel.h>

#include "backends/remote/ops.h"

static void _tf_clear(void *outs, uint32_t i)
{
	((struct vaccel_tf_tensor **)outs)[i] = NULL;
}

static int _tf_alloc(void *outs, uint32_t i, const struct vtr_tensor *r, void **data)
{
	struct vaccel_tf_tensor **t = &((struct vaccel_tf_tensor **)outs)[i];
	int ret = vaccel_tf_tensor_allocate(t, (int)r->nr_dims, r->dims,
					    (enum vaccel_tf_data_type)r->dtype, r->size);
	if (ret == VACCEL_OK)
		*data = (*t)->data;
	return ret;
}

static void _tf_del(void *outs, uint32_t i)
{
	vaccel_tf_tensor_delete(((struct vaccel_tf_tensor **)outs)[i]);
}

static const struct shm_tensor_family tf_family = {.clear = _tf_clear, .alloc = _tf_alloc,
						   .del = _tf_del};

static void _tflite_clear(void *outs, uint32_t i)
{
	((struct vaccel_tflite_tensor **)outs)[i] = NULL;
}

/* TFLite's dims are int32: a record whose dims do not fit is the agent's error. */
static int _tflite_alloc(void *outs, uint32_t i, const struct vtr_tensor *r, void **data)
{
	struct vaccel_tflite_tensor **t = &((struct vaccel_tflite_tensor **)outs)[i];
	int32_t dims[VTR_TENSOR_MAX_DIMS];

	for (uint32_t d = 0; d < r->nr_dims; d++) {
		if (r->dims[d] < 0 || r->dims[d] > INT32_MAX)
			return VACCEL_EBACKEND;
		dims[d] = (int32_t)r->dims[d];
	}
	int ret = vaccel_tflite_tensor_allocate(t, (int)r->nr_dims, dims,
						(enum vaccel_tflite_data_type)r->dtype, r->size);
	if (ret == VACCEL_OK)
		*data = (*t)->data;
	return ret;
}

static void _tflite_del(void *outs, uint32_t i)
{
	vaccel_tflite_tensor_delete(((struct vaccel_tflite_tensor **)outs)[i]);
}

static const struct shm_tensor_family tflite_family = {.clear = _tflite_clear,
						       .alloc = _tflite_alloc,
						       .del = _tflite_del};

static int _handle(const struct vaccel_resource *model, uint64_t *h, struct vtr_io *io)
{
	if (!model || !model->remote_id)
		return VACCEL_EINVAL;
	*h = (uint64_t)model->remote_id;
	*io = (struct vtr_io){h, sizeof(*h), VACCEL_ARG_UINT64};
	return VACCEL_OK;
}

static int _counts(int nr_inputs, int nr_outputs, const void *in, const void *out)
{
	if (nr_inputs < 0 || nr_outputs < 0 || (nr_inputs && !in) || (nr_outputs && !out))
		return VACCEL_EINVAL;
	if ((uint32_t)nr_inputs > VTR_TENSOR_MAX || (uint32_t)nr_outputs > VTR_TENSOR_MAX) {
		vaccel_error("[shm] at most %u input and %u output tensors cross the transport",
			     VTR_TENSOR_MAX, VTR_TENSOR_MAX);
		return VACCEL_EINVAL;
	}
	return VACCEL_OK;
}

/* The host's status into the caller's (message copied), when the caller gave one. */
static void _status(struct vaccel_tf_status *status, struct vtr_status *s)
{
	s->message[sizeof(s->message) - 1] = 0;
	if (status)
		vaccel_tf_status_init(status, s->code, s->message);
}

static int _tf_simple(struct vaccel_session *sess, vaccel_op_type_t op,
		      struct vaccel_resource *model, struct vaccel_tf_status *status)
{
	uint64_t h;
	struct vtr_io in[1];
	struct vtr_status st = {0};
	struct vtr_io out[1] = {{&st, sizeof(st), VACCEL_ARG_RAW}};
	int ret = _handle(model, &h, &in[0]);

	if (ret)
		return ret;
	ret = shm_op_call(sess, op, in, 1, out, 1);
	if (ret == VACCEL_OK)
		_status(status, &st);
	return ret;
}

int shm_tf_model_load(struct vaccel_session *sess, struct vaccel_resource *model,
		      struct vaccel_tf_status *status)
{
	return _tf_simple(sess, VACCEL_OP_TF_MODEL_LOAD, model, status);
}

int shm_tf_model_unload(struct vaccel_session *sess, struct vaccel_resource *model,
			struct vaccel_tf_status *status)
{
	return _tf_simple(sess, VACCEL_OP_TF_MODEL_UNLOAD, model, status);
}

static int _nodes(const struct vaccel_tf_node *n, int nr, struct vtr_node *out)
{
	for (int i = 0; i < nr; i++) {
		if (!n[i].name || strlen(n[i].name) >= VTR_NODE_NAME) {
			vaccel_error("[shm] tf: node names of 1 to %u bytes cross the transport",
				     VTR_NODE_NAME - 1);
			return VACCEL_EINVAL;
		}
		memset(&out[i], 0, sizeof(out[i]));
		out[i].id = n[i].id;
		strcpy(out[i].name, n[i].name);
	}
	return VACCEL_OK;
}

int shm_tf_model_run(struct vaccel_session *sess, struct vaccel_resource *model,
		     const struct vaccel_tf_buffer *run_options, const struct vaccel_tf_node *in_nodes,
		     struct vaccel_tf_tensor *const *in_tensors, int nr_inputs,
		     const struct vaccel_tf_node *out_nodes, struct vaccel_tf_tensor **out_tensors,
		     int nr_outputs, struct vaccel_tf_status *status)
{
	struct vtr_node nin[VTR_TENSOR_MAX], nout[VTR_TENSOR_MAX];
	struct vtr_tensor rec[VTR_TENSOR_MAX];
	struct vtr_io in[5 + VTR_TENSOR_MAX];
	struct vtr_status st = {0};
	struct vtr_io sio = {&st, sizeof(st), VACCEL_ARG_RAW};
	struct shm_tensor_call tc = {.nr_out = (uint32_t)nr_outputs};
	uint64_t h;
	int ret;

	if ((ret = _handle(model, &h, &in[0])) || (ret = _counts(nr_inputs, nr_outputs, in_tensors, out_tensors)) ||
	    (nr_inputs && !in_nodes) || (nr_outputs && !out_nodes))
		return ret ? ret : VACCEL_EINVAL;
	if ((ret = _nodes(in_nodes, nr_inputs, nin)) || (ret = _nodes(out_nodes, nr_outputs, nout)))
		return ret;
	in[1] = (struct vtr_io){run_options ? run_options->data : NULL,
				run_options && run_options->data ? run_options->size : 0, VACCEL_ARG_RAW};
	in[2] = (struct vtr_io){nin, sizeof(nin[0]) * (uint64_t)nr_inputs, VACCEL_ARG_RAW};
	in[3] = (struct vtr_io){nout, sizeof(nout[0]) * (uint64_t)nr_outputs, VACCEL_ARG_RAW};
	in[4] = (struct vtr_io){rec, sizeof(rec[0]) * (uint64_t)nr_inputs, VACCEL_ARG_RAW};
	for (int i = 0; i < nr_inputs; i++) {
		const struct vaccel_tf_tensor *t = in_tensors[i];
		if (!t)
			return VACCEL_EINVAL;
		if ((ret = shm_tensor_record((uint32_t)t->data_type, t->nr_dims, t->dims, 0, t->data,
					     t->size, &rec[i], &in[5 + i])))
			return ret;
	}
	ret = shm_tensor_call(sess, VACCEL_OP_TF_MODEL_RUN, in, 5 + (uint32_t)nr_inputs, &tc, &sio);
	if (ret == VACCEL_OK)
		ret = shm_tensor_outputs(&tc, out_tensors, &tf_family);
	if (ret == VACCEL_OK)
		_status(status, &st);
	return ret;
}

static int _tflite_simple(struct vaccel_session *sess, vaccel_op_type_t op,
			  struct vaccel_resource *model)
{
	uint64_t h;
	struct vtr_io in[1];
	int ret = _handle(model, &h, &in[0]);

	return ret ? ret : shm_op_call(sess, op, in, 1, NULL, 0);
}

int shm_tflite_model_load(struct vaccel_session *sess, struct vaccel_resource *model)
{
	return _tflite_simple(sess, VACCEL_OP_TFLITE_MODEL_LOAD, model);
}

int shm_tflite_model_unload(struct vaccel_session *sess, struct vaccel_resource *model)
{
	return _tflite_simple(sess, VACCEL_OP_TFLITE_MODEL_UNLOAD, model);
}

int shm_tflite_model_run(struct vaccel_session *sess, struct vaccel_resource *model,
			 struct vaccel_tflite_tensor *const *inputs, int nr_inputs,
			 struct vaccel_tflite_tensor **outputs, int nr_outputs, uint8_t *status)
{
	struct vtr_tensor rec[VTR_TENSOR_MAX];
	struct vtr_io in[2 + VTR_TENSOR_MAX];
	uint8_t st = 0;
	struct vtr_io sio = {&st, 1, VACCEL_ARG_UINT8};
	struct shm_tensor_call tc = {.nr_out = (uint32_t)nr_outputs};
	uint64_t h;
	int ret;

	if ((ret = _handle(model, &h, &in[0])) || (ret = _counts(nr_inputs, nr_outputs, inputs, outputs)))
		return ret;
	in[1] = (struct vtr_io){rec, sizeof(rec[0]) * (uint64_t)nr_inputs, VACCEL_ARG_RAW};
	for (int i = 0; i < nr_inputs; i++) {
		const struct vaccel_tflite_tensor *t = inputs[i];
		if (!t)
			return VACCEL_EINVAL;
		if ((ret = shm_tensor_record((uint32_t)t->data_type, t->nr_dims, t->dims, 1, t->data,
					     t->size, &rec[i], &in[2 + i])))
			return ret;
	}
	ret = shm_tensor_call(sess, VACCEL_OP_TFLITE_MODEL_RUN, in, 2 + (uint32_t)nr_inputs, &tc, &sio);
	if (ret == VACCEL_OK)
		ret = shm_tensor_outputs(&tc, outputs, &tflite_family);
	if (ret == VACCEL_OK && status)
		*status = st;
	return ret;
}
