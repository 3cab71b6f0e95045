/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The torch ops of a guest: tensor records copied once out of the pool and checked
 * (transport/tensor.c), tensors built over the guest's data in the pool (payload bytes may
 * change under the plugin; that spoils only this guest's result), and the outputs the host
 * plugin allocated copied once into the guest's output area, each within the area and no
 * more bytes than the plugin produced.
 */
#include "runtime/agent/serve_ml.h"

#include <errno.h>
#include <string.h>

#include "transport/tensor.h"

/* Element bytes of each vaccel_torch_data_type (0: not a type). */
static const uint8_t torch_esize[] = {
	[VACCEL_TORCH_BYTE] = 1, [VACCEL_TORCH_CHAR] = 1, [VACCEL_TORCH_SHORT] = 2,
	[VACCEL_TORCH_INT] = 4,  [VACCEL_TORCH_LONG] = 8, [VACCEL_TORCH_HALF] = 2,
	[VACCEL_TORCH_FLOAT] = 4,
};
#define TORCH_NR_DTYPES (sizeof(torch_esize) / sizeof(torch_esize[0]))

/* Input tensors over the guest's pool, from private records. */
struct ml_inputs {
	struct vtr_tensor rec[VTR_TENSOR_MAX];
	struct vaccel_torch_tensor t[VTR_TENSOR_MAX];
	struct vaccel_torch_tensor *p[VTR_TENSOR_MAX];
	uint32_t n;
};

static void *_at(const struct guest *g, const struct vtr_arg *a)
{
	return (char *)g->base + a->off;
}

int serve_ml_handles(int64_t op)
{
	return op == VACCEL_OP_TORCH_MODEL_LOAD || op == VACCEL_OP_TORCH_MODEL_RUN ||
	       op == VACCEL_OP_TORCH_SGEMM;
}

/* The guest's model: a handle (8 bytes) of a resource registered with this session. */
static struct vaccel_resource *_model(struct guest *g, const struct vtr_req *rq,
				      const struct vtr_arg *a)
{
	uint64_t h;

	if (a->len != sizeof(h))
		return NULL;
	memcpy(&h, _at(g, a), sizeof(h));
	if (h == 0 || h > g->max_res || !g->res[h - 1].used || g->res[h - 1].sess_slot != rq->sqe.sess_id)
		return NULL;
	return &g->res[h - 1].res;
}

/*
 * The records at args[ri] and one data argument per record from args[ri + 1]; nr_data
 * data arguments follow. 0 or -EINVAL (with the reason logged at debug level).
 */
static int _inputs(struct guest *g, const struct vtr_req *rq, uint32_t ri, uint32_t nr_data,
		   struct ml_inputs *in)
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

		ret = vtr_tensor_check(r, torch_esize, TORCH_NR_DTYPES, 1);
		if (ret || r->size != d->len) {
			agent_dbg("guest %u: tensor %u refused: %s\n", g->id, i,
				  ret ? strerror(-ret) : "size differs from its data");
			return -EINVAL;
		}
		in->t[i] = (struct vaccel_torch_tensor){
			.data = _at(g, d), .size = r->size, .owned = false, .nr_dims = r->nr_dims,
			.dims = in->rec[i].dims, .data_type = (enum vaccel_torch_data_type)r->dtype};
		in->p[i] = &in->t[i];
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

/* The plugin's outputs into the guest's records and area; -ENOSPC when they do not fit. */
static int _outputs(struct guest *g, const struct vtr_req *rq, struct vaccel_torch_tensor **outs,
		    uint32_t n)
{
	struct vtr_tensor rec[VTR_TENSOR_MAX];
	const struct vtr_arg *ra = &rq->args[rq->nr_in], *area = &rq->args[rq->nr_in + 1];
	uint64_t cursor = 0;

	memset(rec, 0, sizeof(rec));
	for (uint32_t i = 0; i < n; i++) {
		const struct vaccel_torch_tensor *t = outs[i];
		if (!t)
			continue; /* an empty record: the guest's output stays NULL */
		if (t->nr_dims < 1 || (uint64_t)t->nr_dims > VTR_TENSOR_MAX_DIMS || !t->dims ||
		    (t->size && !t->data)) {
			agent_log("guest %u: torch output %u has %lld dims (the transport carries 1 to "
				  "%u)\n", g->id, i, (long long)t->nr_dims, VTR_TENSOR_MAX_DIMS);
			return -EINVAL;
		}
		rec[i] = (struct vtr_tensor){.dtype = (uint32_t)t->data_type,
					     .nr_dims = (uint32_t)t->nr_dims, .size = t->size};
		memcpy(rec[i].dims, t->dims, (size_t)t->nr_dims * sizeof(rec[i].dims[0]));
		if (vtr_tensor_place(&cursor, t->size, area->len, &rec[i].off))
			return -ENOSPC;
		if (t->size)
			memcpy((char *)_at(g, area) + rec[i].off, t->data, t->size);
	}
	memcpy(_at(g, ra), rec, n * sizeof(rec[0]));
	return 0;
}

static void _delete(struct vaccel_torch_tensor **outs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (outs[i])
			vaccel_torch_tensor_delete(outs[i]);
}

static int32_t _err(int vaccel_ret)
{
	return vaccel_ret > 0 ? -vaccel_ret : vaccel_ret;
}

static int32_t _torch_run(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq)
{
	struct ml_inputs in;
	struct vaccel_torch_tensor *outs[VTR_TENSOR_MAX] = {0};
	uint32_t n_out;
	int32_t ret;

	if (rq->nr_in < 3 || _nr_outputs(rq, &n_out))
		return -EINVAL;
	struct vaccel_resource *model = _model(g, rq, &rq->args[0]);
	if (!model)
		return -EINVAL;
	if ((ret = _inputs(g, rq, 2, rq->nr_in - 3, &in)))
		return ret;
	const struct vtr_arg *o = &rq->args[1];
	struct vaccel_torch_buffer opts = {.data = _at(g, o), .size = o->len};
	ret = _err(vaccel_torch_model_run(s, model, o->len ? &opts : NULL, in.p, (int)in.n, outs,
					  (int)n_out));
	if (ret == 0)
		ret = _outputs(g, rq, outs, n_out);
	_delete(outs, n_out);
	return ret;
}

static int32_t _torch_sgemm(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq)
{
	struct ml_inputs in;
	struct vaccel_torch_tensor *out[1] = {NULL};
	int32_t mnk[3], ret;
	uint32_t n_out;

	if (rq->nr_in != 5 || _nr_outputs(rq, &n_out) || n_out != 1 || rq->args[4].len != sizeof(mnk))
		return -EINVAL;
	if ((ret = _inputs(g, rq, 0, 3, &in)))
		return ret;
	memcpy(mnk, _at(g, &rq->args[4]), sizeof(mnk));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	ret = _err(vaccel_torch_sgemm(s, &in.p[0], &in.p[1], &in.p[2], mnk[0], mnk[1], mnk[2], &out[0]));
#pragma GCC diagnostic pop
	if (ret == 0)
		ret = _outputs(g, rq, out, 1);
	_delete(out, 1);
	return ret;
}

int32_t serve_ml(struct guest *g, struct vaccel_session *s, const struct vtr_req *rq)
{
	switch (rq->sqe.op) {
	case VACCEL_OP_TORCH_MODEL_LOAD: {
		struct vaccel_resource *model = rq->nr_args == 1 ? _model(g, rq, &rq->args[0]) : NULL;
		return model ? _err(vaccel_torch_model_load(s, model)) : -EINVAL;
	}
	case VACCEL_OP_TORCH_MODEL_RUN:
		return _torch_run(g, s, rq);
	case VACCEL_OP_TORCH_SGEMM:
		return _torch_sgemm(g, s, rq);
	}
	return -ENOTSUP;
}
