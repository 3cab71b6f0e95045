// SPDX-License-Identifier: Apache-2.0
// The noop plugin: serves every op type without an accelerator, as
// upstream's does. Each op checks its arguments (VACCEL_EINVAL) and writes
// fixed, documented outputs, so a program can be tested end to end:
//   exec*            copies read[0] to write[0] when there is one output of
//                    read[0]'s size, a whole number of ints
//   image_*          out_imgname "This is a dummy imgname!", classify's
//                    out_text "This is a dummy classification tag!"
//   tf/tflite/torch  run: output i is a copy of input i (dims, type, data);
//                    TF status {0, "Operation handled by noop plugin"}
//   fpga_arraycopy   out_a = a;   fpga_vadd c = a + b;   fpga_mmult c = 9.1
//   fpga_parallel    add = a + b, mult = 1
//   minmax           outdata = indata, min = -1, max = 10000
//   opencv           each output starts with its size in floats (a size_t)
//   sgemm            C left as it is
// Every call is logged at debug level.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vaccel.h>

/* Our own uses of the deprecated FPGA/minmax declarations are intended. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define noop_debug(fmt, ...) \
	vaccel_debug("[noop] session:%" PRId64 " " fmt, sess->id, ##__VA_ARGS__)
#define noop_error(fmt, ...) vaccel_error("[noop] " fmt, ##__VA_ARGS__)

static const char noop_imgname[] = "This is a dummy imgname!";
static const char noop_tag[] = "This is a dummy classification tag!";
static const char noop_tf_message[] = "Operation handled by noop plugin";

static int noop_noop(struct vaccel_session *sess)
{
	if (!sess)
		return VACCEL_EINVAL;
	noop_debug("noop");
	return VACCEL_OK;
}

/* exec's dummy output: the input, when it fits the one output exactly. */
static void noop_echo(const struct vaccel_arg *read, size_t nr_read,
		      struct vaccel_arg *write, size_t nr_write)
{
	if (nr_read < 1 || nr_write != 1 || !read[0].buf || !write[0].buf ||
	    write[0].size != read[0].size || write[0].size % sizeof(int))
		return;
	memcpy(write[0].buf, read[0].buf, write[0].size);
}

static int noop_exec(struct vaccel_session *sess, const char *library,
		     const char *fn_symbol, struct vaccel_arg *read,
		     size_t nr_read, struct vaccel_arg *write, size_t nr_write)
{
	if (!sess || !library || !fn_symbol) {
		noop_error("exec: missing session, library or symbol");
		return VACCEL_EINVAL;
	}
	noop_debug("exec %s:%s read %zu write %zu", library, fn_symbol,
		   nr_read, nr_write);
	noop_echo(read, nr_read, write, nr_write);
	return VACCEL_OK;
}

static int noop_exec_with_resource(struct vaccel_session *sess,
				   struct vaccel_resource *res,
				   const char *fn_symbol,
				   struct vaccel_arg *read, size_t nr_read,
				   struct vaccel_arg *write, size_t nr_write)
{
	if (!sess || !res || !fn_symbol || !res->nr_blobs || !res->blobs) {
		noop_error("exec_with_resource: missing session, resource "
			   "or symbol");
		return VACCEL_EINVAL;
	}
	/* upstream's order: dependencies first, the library last */
	for (size_t i = 0; i < res->nr_blobs; i++) {
		const struct vaccel_blob *b = res->blobs[i];
		if (!b) {
			noop_error("exec_with_resource: resource %" PRId64
				   " has no file %zu",
				   res->id, i);
			return VACCEL_EINVAL;
		}
		noop_debug("%s %s", i + 1 < res->nr_blobs ? "dep" : "library",
			   b->path ? b->path : b->name);
	}
	noop_debug("exec_with_resource %s read %zu write %zu", fn_symbol,
		   nr_read, nr_write);
	noop_echo(read, nr_read, write, nr_write);
	return VACCEL_OK;
}

/* The image ops' common part: check, log the model, write the name. */
static int noop_image(struct vaccel_session *sess, const char *op,
		      const void *img, size_t len_img,
		      unsigned char *out_imgname, size_t len_out_imgname)
{
	if (!sess || !img) {
		noop_error("%s: missing session or image", op);
		return VACCEL_EINVAL;
	}
	struct vaccel_resource *model = NULL;
	int ret = vaccel_session_resource_by_type(sess, &model,
						  VACCEL_RESOURCE_MODEL);
	if (ret && ret != VACCEL_ENOENT)
		return ret;
	noop_debug("%s: image %zu bytes, model %" PRId64 ", out_imgname %zu "
		   "bytes",
		   op, len_img, model ? model->id : 0, len_out_imgname);
	if (out_imgname && len_out_imgname)
		snprintf((char *)out_imgname, len_out_imgname, "%s",
			 noop_imgname);
	return VACCEL_OK;
}

static int noop_image_classify(struct vaccel_session *sess, const void *img,
			       unsigned char *out_text,
			       unsigned char *out_imgname, size_t len_img,
			       size_t len_out_text, size_t len_out_imgname)
{
	int ret = noop_image(sess, "image_classify", img, len_img, out_imgname,
			     len_out_imgname);
	if (ret)
		return ret;
	if (out_text && len_out_text)
		snprintf((char *)out_text, len_out_text, "%s", noop_tag);
	return VACCEL_OK;
}

#define NOOP_IMAGE_OP(NAME)                                                   \
	static int noop_image_##NAME(struct vaccel_session *sess,            \
				     const void *img,                         \
				     unsigned char *out_imgname,              \
				     size_t len_img, size_t len_out_imgname)  \
	{                                                                     \
		return noop_image(sess, "image_" #NAME, img, len_img,         \
				  out_imgname, len_out_imgname);              \
	}
NOOP_IMAGE_OP(detect)
NOOP_IMAGE_OP(segment)
NOOP_IMAGE_OP(pose)
NOOP_IMAGE_OP(depth)

static int noop_tf_status(struct vaccel_tf_status *status)
{
	if (!status)
		return VACCEL_OK;
	status->code = 0;
	status->message = strdup(noop_tf_message);
	return status->message ? VACCEL_OK : VACCEL_ENOMEM;
}

static int noop_tf_model_load(struct vaccel_session *sess,
			      struct vaccel_resource *model,
			      struct vaccel_tf_status *status)
{
	if (!sess || !model) {
		noop_error("tf_model_load: missing session or model");
		return VACCEL_EINVAL;
	}
	noop_debug("tf_model_load model %" PRId64, model->id);
	return noop_tf_status(status);
}

static int noop_tf_model_unload(struct vaccel_session *sess,
				struct vaccel_resource *model,
				struct vaccel_tf_status *status)
{
	if (!sess || !model) {
		noop_error("tf_model_unload: missing session or model");
		return VACCEL_EINVAL;
	}
	noop_debug("tf_model_unload model %" PRId64, model->id);
	return noop_tf_status(status);
}

/* The run ops' outputs: output i is a new owned copy of input i. */
#define NOOP_COPY_TENSORS(P, in, nr_in, out, nr_out)                          \
	do {                                                                  \
		if (!(out) || (nr_out) < 0 || (nr_out) > (nr_in) ||           \
		    ((nr_in) > 0 && !(in))) {                                 \
			noop_error(#P " run: need inputs for every output");  \
			return VACCEL_EINVAL;                                 \
		}                                                             \
		for (int i = 0; i < (nr_out); i++) {                          \
			if (!(in)[i] || ((in)[i]->size && !(in)[i]->data)) {  \
				noop_error(#P " run: bad input %d", i);       \
				return VACCEL_EINVAL;                         \
			}                                                     \
		}                                                             \
		for (int i = 0; i < (nr_out); i++) {                          \
			int r = P##_tensor_allocate(                          \
				&(out)[i], (in)[i]->nr_dims, (in)[i]->dims,   \
				(in)[i]->data_type, (in)[i]->size);           \
			if (r) {                                              \
				while (i--)                                   \
					P##_tensor_delete((out)[i]);          \
				return r;                                     \
			}                                                     \
			if ((in)[i]->size)                                    \
				memcpy((out)[i]->data, (in)[i]->data,         \
				       (in)[i]->size);                        \
		}                                                             \
	} while (0)

static int noop_tf_model_run(struct vaccel_session *sess,
			     struct vaccel_resource *model,
			     const struct vaccel_tf_buffer *run_options,
			     const struct vaccel_tf_node *in_nodes,
			     struct vaccel_tf_tensor *const *in, int nr_inputs,
			     const struct vaccel_tf_node *out_nodes,
			     struct vaccel_tf_tensor **out, int nr_outputs,
			     struct vaccel_tf_status *status)
{
	(void)in_nodes;
	(void)out_nodes;
	if (!sess || !model) {
		noop_error("tf_model_run: missing session or model");
		return VACCEL_EINVAL;
	}
	noop_debug("tf_model_run model %" PRId64 " options %zu bytes, %d in "
		   "%d out",
		   model->id, run_options ? run_options->size : 0, nr_inputs,
		   nr_outputs);
	NOOP_COPY_TENSORS(vaccel_tf, in, nr_inputs, out, nr_outputs);
	int ret = noop_tf_status(status);
	if (ret)
		for (int i = 0; i < nr_outputs; i++)
			vaccel_tf_tensor_delete(out[i]);
	return ret;
}

static int noop_tflite_model_load(struct vaccel_session *sess,
				  struct vaccel_resource *model)
{
	if (!sess || !model) {
		noop_error("tflite_model_load: missing session or model");
		return VACCEL_EINVAL;
	}
	noop_debug("tflite_model_load model %" PRId64, model->id);
	return VACCEL_OK;
}

static int noop_tflite_model_unload(struct vaccel_session *sess,
				    struct vaccel_resource *model)
{
	if (!sess || !model) {
		noop_error("tflite_model_unload: missing session or model");
		return VACCEL_EINVAL;
	}
	noop_debug("tflite_model_unload model %" PRId64, model->id);
	return VACCEL_OK;
}

static int noop_tflite_model_run(struct vaccel_session *sess,
				 struct vaccel_resource *model,
				 struct vaccel_tflite_tensor *const *in,
				 int nr_inputs,
				 struct vaccel_tflite_tensor **out,
				 int nr_outputs, uint8_t *status)
{
	if (!sess || !model) {
		noop_error("tflite_model_run: missing session or model");
		return VACCEL_EINVAL;
	}
	noop_debug("tflite_model_run model %" PRId64 ", %d in %d out",
		   model->id, nr_inputs, nr_outputs);
	NOOP_COPY_TENSORS(vaccel_tflite, in, nr_inputs, out, nr_outputs);
	if (status)
		*status = 0;
	return VACCEL_OK;
}

static int noop_torch_model_load(struct vaccel_session *sess,
				 struct vaccel_resource *model)
{
	if (!sess || !model || !model->nr_blobs || !model->blobs ||
	    !model->blobs[0]) {
		noop_error("torch_model_load: missing session or model");
		return VACCEL_EINVAL;
	}
	const struct vaccel_blob *b = model->blobs[0];
	if ((unsigned)b->type >= VACCEL_BLOB_MAX) {
		noop_error("torch_model_load: model file of unknown type");
		return VACCEL_EINVAL;
	}
	noop_debug("torch_model_load model %" PRId64 " (%s, %zu bytes)",
		   model->id, vaccel_blob_type_to_str(b->type), b->size);
	return VACCEL_OK;
}

static int noop_torch_model_run(struct vaccel_session *sess,
				struct vaccel_resource *model,
				const struct vaccel_torch_buffer *run_options,
				struct vaccel_torch_tensor *const *in,
				int nr_inputs,
				struct vaccel_torch_tensor **out,
				int nr_outputs)
{
	(void)run_options;
	if (!sess || !model) {
		noop_error("torch_model_run: missing session or model");
		return VACCEL_EINVAL;
	}
	noop_debug("torch_model_run model %" PRId64 ", %d in %d out",
		   model->id, nr_inputs, nr_outputs);
	NOOP_COPY_TENSORS(vaccel_torch, in, nr_inputs, out, nr_outputs);
	return VACCEL_OK;
}

static int noop_torch_sgemm(struct vaccel_session *sess,
			    struct vaccel_torch_tensor **in_A,
			    struct vaccel_torch_tensor **in_B,
			    struct vaccel_torch_tensor **in_C, int M, int N,
			    int K, struct vaccel_torch_tensor **out)
{
	(void)in_A;
	(void)in_B;
	(void)in_C;
	(void)out;
	if (!sess)
		return VACCEL_EINVAL;
	noop_debug("torch_sgemm M %d N %d K %d", M, N, K);
	return VACCEL_OK;
}

static int noop_sgemm(struct vaccel_session *sess, long long int m,
		      long long int n, long long int k, float alpha, float *a,
		      long long int lda, float *b, long long int ldb,
		      float beta, float *c, long long int ldc)
{
	(void)a;
	(void)b;
	(void)c;
	if (!sess)
		return VACCEL_EINVAL;
	noop_debug("sgemm m %lld n %lld k %lld alpha %f lda %lld ldb %lld "
		   "beta %f ldc %lld",
		   m, n, k, (double)alpha, lda, ldb, (double)beta, ldc);
	return VACCEL_OK;
}

static int noop_fpga_arraycopy(struct vaccel_session *sess, int a[],
			       int out_a[], size_t len_a)
{
	if (!sess || (len_a && (!a || !out_a)))
		return VACCEL_EINVAL;
	noop_debug("fpga_arraycopy %zu", len_a);
	for (size_t i = 0; i < len_a; i++)
		out_a[i] = a[i];
	return VACCEL_OK;
}

static int noop_fpga_mmult(struct vaccel_session *sess, float a[], float b[],
			   float c[], size_t len_a)
{
	(void)a;
	(void)b;
	if (!sess || (len_a && !c))
		return VACCEL_EINVAL;
	noop_debug("fpga_mmult %zu", len_a);
	for (size_t i = 0; i < len_a; i++)
		c[i] = 9.1F;
	return VACCEL_OK;
}

static int noop_fpga_parallel(struct vaccel_session *sess, float a[],
			      float b[], float add_output[],
			      float mult_output[], size_t len_a)
{
	if (!sess || (len_a && (!a || !b || !add_output || !mult_output)))
		return VACCEL_EINVAL;
	noop_debug("fpga_parallel %zu", len_a);
	for (size_t i = 0; i < len_a; i++) {
		add_output[i] = a[i] + b[i];
		mult_output[i] = 1;
	}
	return VACCEL_OK;
}

static int noop_fpga_vadd(struct vaccel_session *sess, float a[], float b[],
			  float c[], size_t len_a, size_t len_b)
{
	if (!sess || (len_a && (!a || !b || !c)))
		return VACCEL_EINVAL;
	noop_debug("fpga_vadd %zu %zu", len_a, len_b);
	for (size_t i = 0; i < len_a; i++)
		c[i] = a[i] + b[i];
	return VACCEL_OK;
}

static int noop_minmax(struct vaccel_session *sess, const double *indata,
		       int ndata, int low_threshold, int high_threshold,
		       double *outdata, double *min, double *max)
{
	if (!sess || ndata < 0 || (ndata && (!indata || !outdata)) || !min ||
	    !max)
		return VACCEL_EINVAL;
	noop_debug("minmax %d values, thresholds %d %d", ndata, low_threshold,
		   high_threshold);
	if (ndata)
		memcpy(outdata, indata, (size_t)ndata * sizeof(double));
	*min = -1.0;
	*max = 10000.0;
	return VACCEL_OK;
}

static int noop_opencv(struct vaccel_session *sess, struct vaccel_arg *read,
		       size_t nr_read, struct vaccel_arg *write,
		       size_t nr_write)
{
	(void)read;
	if (!sess || (nr_write && !write))
		return VACCEL_EINVAL;
	for (size_t i = 0; i < nr_write; i++)
		if (!write[i].buf || write[i].size < sizeof(size_t))
			return VACCEL_EINVAL;
	noop_debug("opencv read %zu write %zu", nr_read, nr_write);
	for (size_t i = 0; i < nr_write; i++) {
		size_t floats = write[i].size / sizeof(float);
		memcpy(write[i].buf, &floats, sizeof(floats));
	}
	return VACCEL_OK;
}

static struct vaccel_op noop_ops[] = {
	VACCEL_OP_INIT(noop_ops[0], VACCEL_OP_NOOP, noop_noop),
	VACCEL_OP_INIT(noop_ops[1], VACCEL_OP_EXEC, noop_exec),
	VACCEL_OP_INIT(noop_ops[2], VACCEL_OP_EXEC_WITH_RESOURCE,
		       noop_exec_with_resource),
	VACCEL_OP_INIT(noop_ops[3], VACCEL_OP_IMAGE_CLASSIFY,
		       noop_image_classify),
	VACCEL_OP_INIT(noop_ops[4], VACCEL_OP_IMAGE_DETECT, noop_image_detect),
	VACCEL_OP_INIT(noop_ops[5], VACCEL_OP_IMAGE_SEGMENT,
		       noop_image_segment),
	VACCEL_OP_INIT(noop_ops[6], VACCEL_OP_IMAGE_POSE, noop_image_pose),
	VACCEL_OP_INIT(noop_ops[7], VACCEL_OP_IMAGE_DEPTH, noop_image_depth),
	VACCEL_OP_INIT(noop_ops[8], VACCEL_OP_TF_MODEL_LOAD,
		       noop_tf_model_load),
	VACCEL_OP_INIT(noop_ops[9], VACCEL_OP_TF_MODEL_UNLOAD,
		       noop_tf_model_unload),
	VACCEL_OP_INIT(noop_ops[10], VACCEL_OP_TF_MODEL_RUN, noop_tf_model_run),
	VACCEL_OP_INIT(noop_ops[11], VACCEL_OP_TFLITE_MODEL_LOAD,
		       noop_tflite_model_load),
	VACCEL_OP_INIT(noop_ops[12], VACCEL_OP_TFLITE_MODEL_UNLOAD,
		       noop_tflite_model_unload),
	VACCEL_OP_INIT(noop_ops[13], VACCEL_OP_TFLITE_MODEL_RUN,
		       noop_tflite_model_run),
	VACCEL_OP_INIT(noop_ops[14], VACCEL_OP_TORCH_MODEL_LOAD,
		       noop_torch_model_load),
	VACCEL_OP_INIT(noop_ops[15], VACCEL_OP_TORCH_MODEL_RUN,
		       noop_torch_model_run),
	VACCEL_OP_INIT(noop_ops[16], VACCEL_OP_TORCH_SGEMM, noop_torch_sgemm),
	VACCEL_OP_INIT(noop_ops[17], VACCEL_OP_BLAS_SGEMM, noop_sgemm),
	VACCEL_OP_INIT(noop_ops[18], VACCEL_OP_FPGA_ARRAYCOPY,
		       noop_fpga_arraycopy),
	VACCEL_OP_INIT(noop_ops[19], VACCEL_OP_FPGA_MMULT, noop_fpga_mmult),
	VACCEL_OP_INIT(noop_ops[20], VACCEL_OP_FPGA_PARALLEL,
		       noop_fpga_parallel),
	VACCEL_OP_INIT(noop_ops[21], VACCEL_OP_FPGA_VECTORADD, noop_fpga_vadd),
	VACCEL_OP_INIT(noop_ops[22], VACCEL_OP_MINMAX, noop_minmax),
	VACCEL_OP_INIT(noop_ops[23], VACCEL_OP_OPENCV, noop_opencv),
};

static int noop_init(void)
{
	return vaccel_plugin_register_ops(noop_ops,
					  sizeof(noop_ops) / sizeof(noop_ops[0]));
}

static int noop_fini(void)
{
	return VACCEL_OK;
}

VACCEL_PLUGIN(.name = "noop", .version = "0.2",
	      .vaccel_version = VACCEL_VERSION, .type = VACCEL_PLUGIN_DEBUG,
	      .init = noop_init, .fini = noop_fini)
