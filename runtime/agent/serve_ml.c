/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tensor ops of a guest (torch, tf, tflite): tensor records copied once out of the pool and checked
 * (transport/tensor.c), tensors built over the guest's data in the pool (payload bytes may
 * change under the plugin; that spoils only this guest's result), and the outputs the host
 * plugin allocated copied once into the guest's output area, each within the area and no
 * more bytes than the plugin produced.
 */
#include "runtime/agent/serve_ml.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/tensor.h"

/* Element bytes of each vaccel_torch_data_type (0: not a type). */
static const uint8_t torch_esize[] = {
	[VACCEL_TORCH_BYTE] = 1, [VACCEL_TORCH_CHAR] = 1, [VACCEL_TORCH_SHORT] = 2,
	[VACCEL_TORCH_INT] = 4,  [VACCEL_TORCH_LONG] = 8, [VACCEL_TORCH_HALF] = 2,
	[VACCEL_TORCH_FLOAT] = 4,
};
/* TF_DataType: strings, resources and variants have no fixed size and do not cross. */
static const uint8_t tf_esize[] = {
	[VACCEL_TF_FLOAT] = 4,      [VACCEL_TF_DOUBLE] = 8,   [VACCEL_TF_INT32] = 4,
	[VACCEL_TF_UINT8] = 1,      [VACCEL_TF_INT16] = 2,    [VACCEL_TF_INT8] = 1,
	[VACCEL_TF_COMPLEX64] = 8,  [VACCEL_TF_INT64] = 8,    [VACCEL_TF_BOOL] = 1,
	[VACCEL_TF_QINT8] = 1,      [VACCEL_TF_QUINT8] = 1,   [VACCEL_TF_QINT32] = 4,
	[VACCEL_TF_BFLOAT16] = 2,   [VACCEL_TF_QINT16] = 2,   [VACCEL_TF_QUINT16] = 2,
	[VACCEL_TF_UINT16] = 2,     [VACCEL_TF_COMPLEX128] = 16, [VACCEL_TF_HALF] = 2,
	[VACCEL_TF_UINT32] = 4,     [VACCEL_TF_UINT64] = 8,
};
/* TfLiteType: likewise, and int4 (two to a byte) does not cross either. */
static const uint8_t tflite_esize[] = {
	[VACCEL_TFLITE_FLOAT32] = 4, [VACCEL_TFLITE_INT32] = 4,     [VACCEL_TFLITE_UINT8] = 1,
	[VACCEL_TFLITE_INT64] = 8,   [VACCEL_TFLITE_BOOL] = 1,      [VACCEL_TFLITE_INT16] = 2,
	[VACCEL_TFLITE_COMPLEX64] = 8, [VACCEL_TFLITE_INT8] = 1,    [VACCEL_TFLITE_FLOAT16] = 2,
	[VACCEL_TFLITE_FLOAT64] = 8, [VACCEL_TFLITE_COMPLEX128] = 16, [VACCEL_TFLITE_UINT64] = 8,
	[VACCEL_TFLITE_UINT32] = 4,  [VACCEL_TFLITE_UINT16] = 2,
};
#define NR(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* Input records (private copies) and their data in the guest's pool. */
struct ml_inputs {
	struct vtr_tensor rec[VTR_TENSOR_MAX];
	void *data[VTR_TENSOR_MAX];
	uint32_t n;
};

/* A plugin's output tensor, whatever its family: what goes back to the guest. */
struct ml_out {
	const void *data;
	uint64_t size;
	int64_t nr_dims;
	int64_t dims[VTR_TENSOR_MAX_DIMS];
	uint32_t dtype;
	int present;
};

static void *_at(const struct guest *g, const struct vtr_arg *a)
{
	return (char *)g->base + a->off;
}

int serve_ml_handles(int64_t op)
{
	return (op >= VACCEL_OP_TF_MODEL_LOAD && op <= VACCEL_OP_TFLITE_MODEL_RUN) ||
	       op == VACCEL_OP_TORCH_MODEL_LOAD || op == VACCEL_OP_TORCH_MODEL_RUN ||
	       op == VACCEL_OP_TORCH_SGEMM;
}

int serve_ml_uses_model(int64_t op)
{
	return serve_ml_handles(op) && op != VACCEL_OP_TORCH_SGEMM;
}

/*
 * The records at args[ri] and one data argument per record from args[ri + 1]; nr_data
 * data arguments follow. 0 or -EINVAL (with the reason logged at debug level).
 */
static int _inputs(struct guest *g, const struct vtr_req *rq, uint32_t ri, uint32_t nr_data,
		   const uint8_t *esize, uint32_t nr_dtypes, struct ml_inputs *in)
{
	const struct vtr_arg *ra = &rq->args[ri];
	int ret = vtr_tensors_copy(_at(g, ra), ra->len, in->rec, VTR_TENSOR_MAX, &in->n);

	if (ret || in->n != nr_data) {
		agent_dbg("guest %u: tensor records malformed (%u for %u data arguments)\n", g->id,
			  in->n, nr_data);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < in->n; i++) {
		const struct vtr_tensor *r = &in->rec[i];
		const struct vtr_arg *d = &rq->args[ri + 1 + i];

		ret = vtr_tensor_check(r, esize, nr_dtypes, 1);
		if (ret || r->size != d->len) {
			agent_dbg("guest %u: tensor %u refused: %s\n", g->id, i,
				  ret ? strerror(-ret) : "size differs from its data");
			return -EINVAL;
		}
		in->data[i] = _at(g, d);
	}
	return 0;
}

/* How many output records the guest asked for (its records argument's length). */
static int _nr_outputs(const struct vtr_req *rq, uint32_t *n)
{
	if (rq->nr_args - rq->nr_in != 2)
		return -EINVAL;
	uint64_t len = rq->args[rq->nr_in].len;
	if (len % sizeof(struct vtr_tensor) || len / sizeof(struct vtr_tensor) > VTR_TENSOR_MAX)
		return -EINVAL;
	*n = (uint32_t)(len / sizeof(struct vtr_tensor));
	return 0;
}

/*
 * One output as the guest will see it; -EINVAL for a tensor the transport cannot carry
 * (logged: it is the host plugin's doing, not the guest's).
 */
static int _out(struct guest *g, uint32_t i, const void *data, size_t size, int64_t nr_dims,
		const void *dims, int dims32, uint32_t dtype, struct ml_out *o)
{
	if (nr_dims < 1 || (uint64_t)nr_dims > VTR_TENSOR_MAX_DIMS || !dims || (size && !data)) {
		agent_log("guest %u: output %u has %lld dims (the transport carries 1 to %u)\n", g->id,
			  i, (long long)nr_dims, VTR_TENSOR_MAX_DIMS);
		return -EINVAL;
	}
	*o = (struct ml_out){.data = data, .size = size, .nr_dims = nr_dims, .dtype = dtype, .present = 1};
	for (int64_t d = 0; d < nr_dims; d++)
		o->dims[d] = dims32 ? ((const int32_t *)dims)[d] : ((const int64_t *)dims)[d];
	return 0;
}

/* The outputs into the guest's records and area; -ENOSPC when they do not fit. */
static int _pack(struct guest *g, const struct vtr_req *rq, const struct ml_out *o, uint32_t n)
{
	struct vtr_tensor rec[VTR_TENSOR_MAX];
	const struct vtr_arg *ra = &rq->args[rq->nr_in], *area = &rq->args[rq->nr_in + 1];
	uint64_t cursor = 0;

	memset(rec, 0, sizeof(rec));
	for (uint32_t i = 0; i < n; i++) {
		if (!o[i].present)
			continue; /* an all-zero record: the guest's output stays NULL */
		rec[i] = (struct vtr_tensor){.dtype = o[i].dtype, .nr_dims = (uint32_t)o[i].nr_dims,
					     .size = o[i].size};
		memcpy(rec[i].dims, o[i].dims, sizeof(rec[i].dims));
		if (vtr_tensor_place(&cursor, o[i].size, area->len, &rec[i].off))
			return -ENOSPC;
		if (o[i].size)
			memcpy((char *)_at(g, area) + rec[i].off, o[i].data, o[i].size);
	}
	memcpy(_at(g, ra), rec, n * sizeof(rec[0]));
	return 0;
}

/* Torch outputs to the guest. */
static int _torch_pack(struct guest *g, const struct vtr_req *rq, struct vaccel_torch_tensor **outs,
		       uint32_t n)
{
	struct ml_out o[VTR_TENSOR_MAX] = {{0}};
	int ret = 0;

	for (uint32_t i = 0; i < n && !ret; i++)
		if (outs[i])
			ret = _out(g, i, outs[i]->data, outs[i]->size, outs[i]->nr_dims, outs[i]->dims, 0,
				   (uint32_t)outs[i]->data_type, &o[i]);
	return ret ? ret : _pack(g, rq, o, n);
}

/* Torch tensors over the inputs' records and data (borrowed: never owned). */
static void _torch_in(struct ml_inputs *in, struct vaccel_torch_tensor *t, struct vaccel_torch_tensor **p)
{
	for (uint32_t i = 0; i < in->n; i++) {
		t[i] = (struct vaccel_torch_tensor){
			.data = in->data[i], .size = in->rec[i].size, .owned = false,
			.nr_dims = in->rec[i].nr_dims, .dims = in->rec[i].dims,
			.data_type = (enum vaccel_torch_data_type)in->rec[i].dtype};
		p[i] = &t[i];
	}
}

static int32_t _err(int vaccel_ret)
{
	return vaccel_ret > 0 ? -vaccel_ret : vaccel_ret;
}

static int32_t _torch_run(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq,
			 struct vaccel_resource *model)
{
	struct ml_inputs in;
	struct vaccel_torch_tensor t[VTR_TENSOR_MAX], *p[VTR_TENSOR_MAX];
	struct vaccel_torch_tensor *outs[VTR_TENSOR_MAX] = {0};
	uint32_t n_out;
	int32_t ret;

	if (rq->nr_in < 3 || _nr_outputs(rq, &n_out))
		return -EINVAL;
	if (!model)
		return -EINVAL;
	if ((ret = _inputs(g, rq, 2, rq->nr_in - 3, torch_esize, NR(torch_esize), &in)))
		return ret;
	_torch_in(&in, t, p);
	const struct vtr_arg *o = &rq->args[1];
	struct vaccel_torch_buffer opts = {.data = _at(g, o), .size = o->len};
	ret = _err(vaccel_torch_model_run(s, model, o->len ? &opts : NULL, p, (int)in.n, outs,
					  (int)n_out));
	if (ret == 0)
		ret = _torch_pack(g, rq, outs, n_out);
	for (uint32_t i = 0; i < n_out; i++)
		vaccel_torch_tensor_delete(outs[i]);
	return ret;
}

static int32_t _torch_sgemm(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq)
{
	struct ml_inputs in;
	struct vaccel_torch_tensor t[3], *p[3];
	struct vaccel_torch_tensor *out[1] = {NULL};
	int32_t mnk[3], ret;
	uint32_t n_out;

	if (rq->nr_in != 5 || _nr_outputs(rq, &n_out) || n_out != 1 || rq->args[4].len != sizeof(mnk))
		return -EINVAL;
	if ((ret = _inputs(g, rq, 0, 3, torch_esize, NR(torch_esize), &in)))
		return ret;
	_torch_in(&in, t, p);
	memcpy(mnk, _at(g, &rq->args[4]), sizeof(mnk));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	ret = _err(vaccel_torch_sgemm(s, &p[0], &p[1], &p[2], mnk[0], mnk[1], mnk[2], &out[0]));
#pragma GCC diagnostic pop
	if (ret == 0)
		ret = _torch_pack(g, rq, out, 1);
	vaccel_torch_tensor_delete(out[0]);
	return ret;
}

/* A TF status into the guest's status argument (256 bytes), message truncated. */
static int _tf_status(struct guest *g, const struct vtr_arg *a, const struct vaccel_tf_status *st)
{
	struct vtr_status out = {.code = st->code};

	if (a->len != sizeof(out))
		return -EINVAL;
	if (st->message)
		snprintf(out.message, sizeof(out.message), "%s", st->message);
	memcpy(_at(g, a), &out, sizeof(out));
	return 0;
}

static int32_t _tf_load_unload(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq,
			 struct vaccel_resource *model)
{
	struct vaccel_tf_status st = {0};

	if (rq->nr_in != 1 || !model || rq->nr_args != 2 || rq->args[1].len != sizeof(struct vtr_status))
		return -EINVAL;
	int32_t ret = _err(rq->sqe.op == VACCEL_OP_TF_MODEL_LOAD ? vaccel_tf_model_load(s, model, &st)
								 : vaccel_tf_model_unload(s, model, &st));
	if (ret == 0)
		ret = _tf_status(g, &rq->args[1], &st);
	free(st.message);
	return ret;
}

static int32_t _tf_run(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq,
			 struct vaccel_resource *model)
{
	struct vtr_node nin[VTR_TENSOR_MAX], nout[VTR_TENSOR_MAX];
	struct vaccel_tf_node in_nodes[VTR_TENSOR_MAX], out_nodes[VTR_TENSOR_MAX];
	struct vaccel_tf_tensor t[VTR_TENSOR_MAX], *p[VTR_TENSOR_MAX], *outs[VTR_TENSOR_MAX] = {0};
	struct ml_out o[VTR_TENSOR_MAX] = {{0}};
	struct vaccel_tf_status st = {0};
	struct ml_inputs in;
	uint32_t n_in, n_out;
	int32_t ret;

	/* in: handle, options, input nodes, output nodes, records, data; out: records, area, status */
	if (rq->nr_in < 5 || rq->nr_args - rq->nr_in != 3)
		return -EINVAL;
	const struct vtr_arg *na = &rq->args[2], *nb = &rq->args[3], *sa = &rq->args[rq->nr_in + 2];
	uint64_t rec_len = rq->args[rq->nr_in].len;
	if (!model || sa->len != sizeof(struct vtr_status) || rec_len % sizeof(struct vtr_tensor) ||
	    vtr_nodes_copy(_at(g, na), na->len, nin, VTR_TENSOR_MAX, &n_in) ||
	    vtr_nodes_copy(_at(g, nb), nb->len, nout, VTR_TENSOR_MAX, &n_out) || n_in != rq->nr_in - 5 ||
	    rec_len / sizeof(struct vtr_tensor) != n_out)
		return -EINVAL;
	if ((ret = _inputs(g, rq, 4, n_in, tf_esize, NR(tf_esize), &in)))
		return ret;
	for (uint32_t i = 0; i < n_in; i++) {
		t[i] = (struct vaccel_tf_tensor){.data = in.data[i], .size = in.rec[i].size,
						 .nr_dims = (int)in.rec[i].nr_dims, .dims = in.rec[i].dims,
						 .data_type = (enum vaccel_tf_data_type)in.rec[i].dtype};
		p[i] = &t[i];
		in_nodes[i] = (struct vaccel_tf_node){.name = nin[i].name, .id = nin[i].id};
	}
	for (uint32_t i = 0; i < n_out; i++)
		out_nodes[i] = (struct vaccel_tf_node){.name = nout[i].name, .id = nout[i].id};
	const struct vtr_arg *oa = &rq->args[1];
	struct vaccel_tf_buffer opts = {.data = _at(g, oa), .size = oa->len};
	ret = _err(vaccel_tf_model_run(s, model, oa->len ? &opts : NULL, in_nodes, p, (int)n_in,
				       out_nodes, outs, (int)n_out, &st));
	for (uint32_t i = 0; i < n_out && ret == 0; i++)
		if (outs[i])
			ret = _out(g, i, outs[i]->data, outs[i]->size, outs[i]->nr_dims, outs[i]->dims, 0,
				   (uint32_t)outs[i]->data_type, &o[i]);
	if (ret == 0)
		ret = _pack(g, rq, o, n_out);
	if (ret == 0)
		ret = _tf_status(g, sa, &st);
	for (uint32_t i = 0; i < n_out; i++)
		vaccel_tf_tensor_delete(outs[i]);
	free(st.message);
	return ret;
}

static int32_t _tflite_run(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq,
			 struct vaccel_resource *model)
{
	struct vaccel_tflite_tensor t[VTR_TENSOR_MAX], *p[VTR_TENSOR_MAX], *outs[VTR_TENSOR_MAX] = {0};
	int32_t dims[VTR_TENSOR_MAX][VTR_TENSOR_MAX_DIMS];
	struct ml_out o[VTR_TENSOR_MAX] = {{0}};
	struct ml_inputs in;
	uint32_t n_out;
	uint8_t status = 0;
	int32_t ret;

	/* in: handle, records, data; out: records, area, status (1 byte) */
	if (rq->nr_in < 2 || rq->nr_args - rq->nr_in != 3 || rq->args[rq->nr_in + 2].len != 1)
		return -EINVAL;
	uint64_t rec_len = rq->args[rq->nr_in].len;
	if (!model || rec_len % sizeof(struct vtr_tensor) || rec_len / sizeof(struct vtr_tensor) > VTR_TENSOR_MAX)
		return -EINVAL;
	n_out = (uint32_t)(rec_len / sizeof(struct vtr_tensor));
	if ((ret = _inputs(g, rq, 1, rq->nr_in - 2, tflite_esize, NR(tflite_esize), &in)))
		return ret;
	for (uint32_t i = 0; i < in.n; i++) {
		for (uint32_t d = 0; d < in.rec[i].nr_dims; d++) {
			if (in.rec[i].dims[d] > INT32_MAX)
				return -EINVAL; /* TFLite's dims are int32 */
			dims[i][d] = (int32_t)in.rec[i].dims[d];
		}
		t[i] = (struct vaccel_tflite_tensor){.data = in.data[i], .size = in.rec[i].size,
						     .nr_dims = (int)in.rec[i].nr_dims, .dims = dims[i],
						     .data_type = (enum vaccel_tflite_data_type)in.rec[i].dtype};
		p[i] = &t[i];
	}
	ret = _err(vaccel_tflite_model_run(s, model, p, (int)in.n, outs, (int)n_out, &status));
	for (uint32_t i = 0; i < n_out && ret == 0; i++)
		if (outs[i])
			ret = _out(g, i, outs[i]->data, outs[i]->size, outs[i]->nr_dims, outs[i]->dims, 1,
				   (uint32_t)outs[i]->data_type, &o[i]);
	if (ret == 0)
		ret = _pack(g, rq, o, n_out);
	if (ret == 0)
		memcpy(_at(g, &rq->args[rq->nr_in + 2]), &status, 1);
	for (uint32_t i = 0; i < n_out; i++)
		vaccel_tflite_tensor_delete(outs[i]);
	return ret;
}

int32_t serve_ml(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq,
		 struct vaccel_resource *model)
{

	switch (rq->sqe.op) {
	case VACCEL_OP_TORCH_MODEL_LOAD:
		return rq->nr_args == 1 && model ? _err(vaccel_torch_model_load(s, model)) : -EINVAL;
	case VACCEL_OP_TF_MODEL_LOAD:
	case VACCEL_OP_TF_MODEL_UNLOAD:
		return _tf_load_unload(g, s, rq, model);
	case VACCEL_OP_TF_MODEL_RUN:
		return _tf_run(g, s, rq, model);
	case VACCEL_OP_TFLITE_MODEL_LOAD:
	case VACCEL_OP_TFLITE_MODEL_UNLOAD:
		if (rq->nr_args != 1 || !model)
			return -EINVAL;
		return _err(rq->sqe.op == VACCEL_OP_TFLITE_MODEL_LOAD ? vaccel_tflite_model_load(s, model)
								       : vaccel_tflite_model_unload(s, model));
	case VACCEL_OP_TFLITE_MODEL_RUN:
		return _tflite_run(g, s, rq, model);
	case VACCEL_OP_TORCH_MODEL_RUN:
		return _torch_run(g, s, rq, model);
	case VACCEL_OP_TORCH_SGEMM:
		return _torch_sgemm(g, s, rq);
	}
	return -ENOTSUP;
}
