// SPDX-License-Identifier: Apache-2.0
// The torch plugin: TORCH_MODEL_LOAD, TORCH_MODEL_RUN, TORCH_SGEMM and
// IMAGE_CLASSIFY on libtorch (libtorch.cc, behind a C boundary).
// Environment: VACCEL_TORCH_THREADS=N sets libtorch's intra-op threads at
// init; VACCEL_TORCH_LABELS names the labels file of IMAGE_CLASSIFY (one
// label per line, line i for class i); VACCEL_TORCH_ARENA_MB=N bounds the
// huge-page arena of big tensors (default 256; see
// ltorch_steady_allocator).
// Models are cached per (session, resource) and dropped when the resource
// is unregistered or the session released.
#include "classify.h"
#include "libtorch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vaccel.h>

static int torch_model_load(struct vaccel_session *sess,
			    struct vaccel_resource *model)
{
	return -ltorch_model_load(sess, model);
}

static int torch_model_run(struct vaccel_session *sess,
			   struct vaccel_resource *model,
			   const struct vaccel_torch_buffer *run_options,
			   struct vaccel_torch_tensor *const *inputs,
			   int nr_inputs, struct vaccel_torch_tensor **outputs,
			   int nr_outputs)
{
	/* Upstream defines no run option for TorchScript; none is used. */
	(void)run_options;
	return -ltorch_model_run(sess, model, inputs, nr_inputs, outputs,
				 nr_outputs);
}

static int torch_sgemm(struct vaccel_session *sess,
		       struct vaccel_torch_tensor **in_A,
		       struct vaccel_torch_tensor **in_B,
		       struct vaccel_torch_tensor **in_C, int M, int N, int K,
		       struct vaccel_torch_tensor **out)
{
	if (!in_A || !in_B || !in_C || !out) {
		vaccel_error("[torch] session:%" PRId64 " sgemm: NULL operand",
			     sess->id);
		return VACCEL_EINVAL;
	}
	return -ltorch_sgemm(*in_A, *in_B, *in_C, M, N, K, out);
}

/* Write s into a caller buffer of cap bytes (truncated, NUL-terminated). */
static void _put(unsigned char *dst, size_t cap, const char *s)
{
	if (!dst || !cap)
		return;
	size_t n = strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

/* The label goes to out_text and, for callers that pass only an image-name
 * buffer (genop's optional text), to out_imgname as well. */
static int torch_image_classify(struct vaccel_session *sess, const void *img,
				unsigned char *out_text,
				unsigned char *out_imgname, size_t len_img,
				size_t len_out_text, size_t len_out_imgname)
{
	struct vaccel_resource *model = NULL;
	float *x = NULL;
	int64_t top1 = -1;
	char label[256];

	if (vaccel_session_resource_by_type(sess, &model,
					    VACCEL_RESOURCE_MODEL) ||
	    !model) {
		vaccel_error("[torch] session:%" PRId64 " classify: no MODEL "
			     "resource registered with the session",
			     sess->id);
		return VACCEL_ENOENT;
	}
	int ret = torch_image_input(img, len_img, &x);
	if (ret) {
		vaccel_error("[torch] session:%" PRId64 " classify: %zu bytes "
			     "are not a decodable image (%s)",
			     sess->id, len_img,
			     ret == -EINVAL ? "JPEG/PNG/PNM/BMP up to 8192 "
					      "pixels a side" :
					      strerror(-ret));
		return -ret;
	}
	ret = ltorch_top1(sess, model, x, TORCH_IMG_CH, TORCH_IMG_H,
			  TORCH_IMG_W, &top1);
	free(x);
	if (ret)
		return -ret;

	const char *labels = getenv("VACCEL_TORCH_LABELS");
	if (labels && *labels) {
		ret = torch_label(labels, top1, label, sizeof(label));
		if (ret) {
			vaccel_error("[torch] classify: label %" PRId64
				     " of VACCEL_TORCH_LABELS=%s: %s",
				     top1, labels,
				     ret == -ERANGE ? "too few lines" :
						      strerror(-ret));
			return ret == -ERANGE ? VACCEL_EINVAL : -ret;
		}
	} else {
		vaccel_warn("[torch] classify: VACCEL_TORCH_LABELS is not set; "
			    "answering the class number");
		snprintf(label, sizeof(label), "class %" PRId64, top1);
	}
	vaccel_debug("[torch] session:%" PRId64 " classify: %" PRId64 " %s",
		     sess->id, top1, label);
	_put(out_text, len_out_text, label);
	_put(out_imgname, len_out_imgname, label);
	return VACCEL_OK;
}

static struct vaccel_op torch_ops[] = {
	VACCEL_OP_INIT(torch_ops[0], VACCEL_OP_TORCH_MODEL_LOAD,
		       torch_model_load),
	VACCEL_OP_INIT(torch_ops[1], VACCEL_OP_TORCH_MODEL_RUN,
		       torch_model_run),
	VACCEL_OP_INIT(torch_ops[2], VACCEL_OP_TORCH_SGEMM, torch_sgemm),
	VACCEL_OP_INIT(torch_ops[3], VACCEL_OP_IMAGE_CLASSIFY,
		       torch_image_classify),
};

static int torch_init(void)
{
	const char *t = getenv("VACCEL_TORCH_THREADS");
	if (t && *t) {
		char *end;
		long n = strtol(t, &end, 10);
		if (*end || n < 1 || n > 1024 || ltorch_set_threads((int)n)) {
			vaccel_error("[torch] VACCEL_TORCH_THREADS=%s: expected "
				     "a thread count from 1 to 1024",
				     t);
			return VACCEL_EINVAL;
		}
	}
	long mb = 256;
	const char *c = getenv("VACCEL_TORCH_ARENA_MB");
	if (c && *c) {
		char *end;
		mb = strtol(c, &end, 10);
		if (*end || mb < 0 || mb > 1L << 20) {
			vaccel_error("[torch] VACCEL_TORCH_ARENA_MB=%s: expected "
				     "a size in MiB from 0 to 1048576",
				     c);
			return VACCEL_EINVAL;
		}
	}
	ltorch_steady_allocator((size_t)mb << 20);
	vaccel_debug("[torch] libtorch with %d intra-op thread(s), up to "
		     "%ld MiB of huge-page arena for big tensors",
		     ltorch_threads(), mb);
	return vaccel_plugin_register_ops(torch_ops, sizeof(torch_ops) /
							     sizeof(torch_ops[0]));
}

static int torch_fini(void)
{
	ltorch_forget(-1, -1);
	return VACCEL_OK;
}

static int torch_session_release(struct vaccel_session *sess)
{
	ltorch_forget(sess->id, -1);
	return VACCEL_OK;
}

static int torch_resource_unregister(struct vaccel_resource *res,
				     struct vaccel_session *sess)
{
	ltorch_forget(sess->id, res->id);
	return VACCEL_OK;
}

VACCEL_PLUGIN(.name = "torch", .version = "0.1",
	      .vaccel_version = VACCEL_VERSION,
	      .type = VACCEL_PLUGIN_CPU | VACCEL_PLUGIN_TORCH,
	      .init = torch_init, .fini = torch_fini,
	      .session_release = torch_session_release,
	      .resource_unregister = torch_resource_unregister)
