// SPDX-License-Identifier: Apache-2.0
// The torch ops and their tensor and buffer helpers.
#include "../rt.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int vaccel_torch_buffer_init(struct vaccel_torch_buffer *buffer, char *data,
			     size_t size)
{
	if (!buffer)
		return VACCEL_EINVAL;
	buffer->data = data;
	buffer->size = size;
	return VACCEL_OK;
}

int vaccel_torch_buffer_release(struct vaccel_torch_buffer *buffer)
{
	if (!buffer)
		return VACCEL_EINVAL;
	free(buffer->data);
	buffer->data = NULL;
	buffer->size = 0;
	return VACCEL_OK;
}

int vaccel_torch_buffer_new(struct vaccel_torch_buffer **buffer, char *data,
			    size_t size)
{
	if (!buffer)
		return VACCEL_EINVAL;
	struct vaccel_torch_buffer *b = malloc(sizeof(*b));
	if (!b)
		return VACCEL_ENOMEM;
	vaccel_torch_buffer_init(b, data, size);
	*buffer = b;
	return VACCEL_OK;
}

int vaccel_torch_buffer_delete(struct vaccel_torch_buffer *buffer)
{
	int ret = vaccel_torch_buffer_release(buffer);
	if (ret)
		return ret;
	free(buffer);
	return VACCEL_OK;
}

int vaccel_torch_buffer_take_data(struct vaccel_torch_buffer *buffer,
				  void **data, size_t *size)
{
	if (!buffer || !data || !size)
		return VACCEL_EINVAL;
	*data = buffer->data;
	*size = buffer->size;
	buffer->data = NULL;
	buffer->size = 0;
	return VACCEL_OK;
}

int vaccel_torch_tensor_init(struct vaccel_torch_tensor *tensor,
			     int64_t nr_dims, const int64_t *dims,
			     enum vaccel_torch_data_type type)
{
	if (!tensor || nr_dims < 1)
		return VACCEL_EINVAL;
	if ((uint64_t)nr_dims > SIZE_MAX / sizeof(int64_t))
		return VACCEL_ENOMEM;

	int64_t *d = calloc((size_t)nr_dims, sizeof(*d));
	if (!d)
		return VACCEL_ENOMEM;
	if (dims)
		memcpy(d, dims, (size_t)nr_dims * sizeof(*d));

	tensor->data = NULL;
	tensor->size = 0;
	tensor->owned = false;
	tensor->nr_dims = nr_dims;
	tensor->dims = d;
	tensor->data_type = type;
	return VACCEL_OK;
}

int vaccel_torch_tensor_release(struct vaccel_torch_tensor *tensor)
{
	if (!tensor)
		return VACCEL_EINVAL;
	free(tensor->dims);
	if (tensor->owned)
		free(tensor->data);
	tensor->data = NULL;
	tensor->size = 0;
	tensor->owned = false;
	tensor->nr_dims = 0;
	tensor->dims = NULL;
	return VACCEL_OK;
}

int vaccel_torch_tensor_new(struct vaccel_torch_tensor **tensor,
			    int64_t nr_dims, const int64_t *dims,
			    enum vaccel_torch_data_type type)
{
	if (!tensor)
		return VACCEL_EINVAL;
	struct vaccel_torch_tensor *t = malloc(sizeof(*t));
	if (!t)
		return VACCEL_ENOMEM;
	int ret = vaccel_torch_tensor_init(t, nr_dims, dims, type);
	if (ret) {
		free(t);
		return ret;
	}
	*tensor = t;
	return VACCEL_OK;
}

int vaccel_torch_tensor_allocate(struct vaccel_torch_tensor **tensor,
				 int64_t nr_dims, const int64_t *dims,
				 enum vaccel_torch_data_type type,
				 size_t total_size)
{
	int ret = vaccel_torch_tensor_new(tensor, nr_dims, dims, type);
	if (ret || !total_size)
		return ret;

	void *data = calloc(1, total_size);
	if (!data) {
		vaccel_torch_tensor_delete(*tensor);
		*tensor = NULL;
		return VACCEL_ENOMEM;
	}
	(*tensor)->data = data;
	(*tensor)->size = total_size;
	(*tensor)->owned = true;
	return VACCEL_OK;
}

int vaccel_torch_tensor_delete(struct vaccel_torch_tensor *tensor)
{
	int ret = vaccel_torch_tensor_release(tensor);
	if (ret)
		return ret;
	free(tensor);
	return VACCEL_OK;
}

int vaccel_torch_tensor_set_data(struct vaccel_torch_tensor *tensor, void *data,
				 size_t size)
{
	if (!tensor)
		return VACCEL_EINVAL;
	if (tensor->owned && tensor->data)
		vaccel_warn("torch tensor: owned data replaced by set_data "
			    "will not be freed by release");
	tensor->data = data;
	tensor->size = size;
	tensor->owned = false;
	return VACCEL_OK;
}

int vaccel_torch_tensor_take_data(struct vaccel_torch_tensor *tensor,
				  void **data, size_t *size)
{
	if (!tensor || !data || !size)
		return VACCEL_EINVAL;
	*data = tensor->data;
	*size = tensor->size;
	tensor->data = NULL;
	tensor->size = 0;
	tensor->owned = false;
	return VACCEL_OK;
}

/* The checks load and run share: 0 or a positive VACCEL_E* code. */
static int _torch_model_check(struct vaccel_session *sess,
			      struct vaccel_resource *model, const char *what)
{
	if (!sess || !model)
		return VACCEL_EINVAL;
	if (model->type != VACCEL_RESOURCE_MODEL) {
		vaccel_error("session:%" PRId64 " %s needs a MODEL resource, "
			     "resource %" PRId64 " is %s",
			     sess->id, what, model->id,
			     vaccel_resource_type_to_str(model->type));
		return VACCEL_EINVAL;
	}
	if (!vaccel_session_has_resource(sess, model)) {
		vaccel_error("session:%" PRId64 " resource %" PRId64
			     " is not registered with the session",
			     sess->id, model->id);
		return VACCEL_EPERM;
	}
	return VACCEL_OK;
}

static void *_torch_op_func(struct vaccel_session *sess, vaccel_op_type_t op)
{
	void *fn = rt_op_func(sess, op);
	if (!fn)
		vaccel_debug("session:%" PRId64 " plugin %s has no %s",
			     sess->id, rt_plugin_name(sess->plugin),
			     vaccel_op_type_to_base_str(op));
	return fn;
}

typedef int (*rt_torch_load_fn)(struct vaccel_session *sess,
				struct vaccel_resource *model);
typedef int (*rt_torch_run_fn)(struct vaccel_session *sess,
			       struct vaccel_resource *model,
			       const struct vaccel_torch_buffer *run_options,
			       struct vaccel_torch_tensor *const *inputs,
			       int nr_inputs,
			       struct vaccel_torch_tensor **outputs,
			       int nr_outputs);
typedef int (*rt_torch_sgemm_fn)(struct vaccel_session *sess,
				 struct vaccel_torch_tensor **in_A,
				 struct vaccel_torch_tensor **in_B,
				 struct vaccel_torch_tensor **in_C, int M,
				 int N, int K,
				 struct vaccel_torch_tensor **out);

int vaccel_torch_model_load(struct vaccel_session *sess,
			    struct vaccel_resource *model)
{
	int ret = _torch_model_check(sess, model, "torch_model_load");
	if (ret)
		return ret;
	rt_torch_load_fn fn = (rt_torch_load_fn)_torch_op_func(
		sess, VACCEL_OP_TORCH_MODEL_LOAD);
	if (!fn)
		return VACCEL_ENOTSUP;
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_TORCH_MODEL_LOAD]);
	ret = fn(sess, model);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_TORCH_MODEL_LOAD]);
	return ret;
}

int vaccel_torch_model_run(struct vaccel_session *sess,
			   struct vaccel_resource *model,
			   const struct vaccel_torch_buffer *run_options,
			   struct vaccel_torch_tensor *const *inputs,
			   int nr_inputs, struct vaccel_torch_tensor **outputs,
			   int nr_outputs)
{
	int ret = _torch_model_check(sess, model, "torch_model_run");
	if (ret)
		return ret;
	rt_torch_run_fn fn = (rt_torch_run_fn)_torch_op_func(
		sess, VACCEL_OP_TORCH_MODEL_RUN);
	if (!fn)
		return VACCEL_ENOTSUP;
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_TORCH_MODEL_RUN]);
	ret = fn(sess, model, run_options, inputs, nr_inputs, outputs,
		 nr_outputs);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_TORCH_MODEL_RUN]);
	return ret;
}

int vaccel_torch_sgemm(struct vaccel_session *sess,
		       struct vaccel_torch_tensor **in_A,
		       struct vaccel_torch_tensor **in_B,
		       struct vaccel_torch_tensor **in_C, int M, int N, int K,
		       struct vaccel_torch_tensor **out)
{
	if (!sess)
		return VACCEL_EINVAL;
	rt_torch_sgemm_fn fn =
		(rt_torch_sgemm_fn)_torch_op_func(sess, VACCEL_OP_TORCH_SGEMM);
	if (!fn)
		return VACCEL_ENOTSUP;
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_TORCH_SGEMM]);
	int ret = fn(sess, in_A, in_B, in_C, M, N, K, out);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_TORCH_SGEMM]);
	return ret;
}
