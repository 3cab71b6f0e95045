// SPDX-License-Identifier: Apache-2.0
// TensorFlow ops and their buffer, node, tensor and status helpers. No
// backend here implements them (Debian packages no TensorFlow): a plugin
// without them answers VACCEL_ENOTSUP, logged with the op's name.
#include "tensor_impl.h"
#include <string.h>

int vaccel_tf_buffer_init(struct vaccel_tf_buffer *buffer, void *data,
			  size_t size)
{
	if (!buffer)
		return VACCEL_EINVAL;
	buffer->data = data;
	buffer->size = size;
	return VACCEL_OK;
}

int vaccel_tf_buffer_release(struct vaccel_tf_buffer *buffer)
{
	if (!buffer)
		return VACCEL_EINVAL;
	free(buffer->data);
	buffer->data = NULL;
	buffer->size = 0;
	return VACCEL_OK;
}

int vaccel_tf_buffer_new(struct vaccel_tf_buffer **buffer, void *data,
			 size_t size)
{
	if (!buffer)
		return VACCEL_EINVAL;
	struct vaccel_tf_buffer *b = calloc(1, sizeof(*b));
	if (!b)
		return VACCEL_ENOMEM;
	vaccel_tf_buffer_init(b, data, size);
	*buffer = b;
	return VACCEL_OK;
}

int vaccel_tf_buffer_delete(struct vaccel_tf_buffer *buffer)
{
	int ret = vaccel_tf_buffer_release(buffer);
	if (ret)
		return ret;
	free(buffer);
	return VACCEL_OK;
}

int vaccel_tf_buffer_take_data(struct vaccel_tf_buffer *buffer, void **data,
			       size_t *size)
{
	if (!buffer || !data || !size)
		return VACCEL_EINVAL;
	*data = buffer->data;
	*size = buffer->size;
	buffer->data = NULL;
	buffer->size = 0;
	return VACCEL_OK;
}

int vaccel_tf_node_init(struct vaccel_tf_node *node, const char *name, int id)
{
	if (!node || !name)
		return VACCEL_EINVAL;
	node->name = strdup(name);
	if (!node->name)
		return VACCEL_ENOMEM;
	node->id = id;
	return VACCEL_OK;
}

int vaccel_tf_node_release(struct vaccel_tf_node *node)
{
	if (!node)
		return VACCEL_EINVAL;
	free(node->name);
	node->name = NULL;
	node->id = -1;
	return VACCEL_OK;
}

int vaccel_tf_node_new(struct vaccel_tf_node **node, const char *name, int id)
{
	if (!node)
		return VACCEL_EINVAL;
	struct vaccel_tf_node *n = malloc(sizeof(*n));
	if (!n)
		return VACCEL_ENOMEM;
	int ret = vaccel_tf_node_init(n, name, id);
	if (ret) {
		free(n);
		return ret;
	}
	*node = n;
	return VACCEL_OK;
}

int vaccel_tf_node_delete(struct vaccel_tf_node *node)
{
	int ret = vaccel_tf_node_release(node);
	if (ret)
		return ret;
	free(node);
	return VACCEL_OK;
}

RT_DEFINE_TENSOR_HELPERS(vaccel_tf, int64_t, enum vaccel_tf_data_type)

int vaccel_tf_status_init(struct vaccel_tf_status *status, uint8_t code,
			  const char *message)
{
	if (!status || !message)
		return VACCEL_EINVAL;
	status->message = strdup(message);
	if (!status->message)
		return VACCEL_ENOMEM;
	status->code = code;
	return VACCEL_OK;
}

int vaccel_tf_status_release(struct vaccel_tf_status *status)
{
	if (!status)
		return VACCEL_EINVAL;
	free(status->message);
	status->message = NULL;
	status->code = 0;
	return VACCEL_OK;
}

int vaccel_tf_status_new(struct vaccel_tf_status **status, uint8_t code,
			 const char *message)
{
	if (!status)
		return VACCEL_EINVAL;
	struct vaccel_tf_status *s = calloc(1, sizeof(*s));
	if (!s)
		return VACCEL_ENOMEM;
	int ret = vaccel_tf_status_init(s, code, message);
	if (ret) {
		free(s);
		return ret;
	}
	*status = s;
	return VACCEL_OK;
}

int vaccel_tf_status_delete(struct vaccel_tf_status *status)
{
	int ret = vaccel_tf_status_release(status);
	if (ret)
		return ret;
	free(status);
	return VACCEL_OK;
}

typedef int (*rt_tf_model_fn)(struct vaccel_session *sess,
			      struct vaccel_resource *model,
			      struct vaccel_tf_status *status);
typedef int (*rt_tf_run_fn)(struct vaccel_session *sess,
			    struct vaccel_resource *model,
			    const struct vaccel_tf_buffer *run_options,
			    const struct vaccel_tf_node *in_nodes,
			    struct vaccel_tf_tensor *const *in_tensors,
			    int nr_inputs, const struct vaccel_tf_node *out_nodes,
			    struct vaccel_tf_tensor **out_tensors,
			    int nr_outputs, struct vaccel_tf_status *status);

static int _load_unload(vaccel_op_type_t type, struct vaccel_session *sess,
			struct vaccel_resource *model,
			struct vaccel_tf_status *status)
{
	int ret;
	rt_tf_model_fn fn = (rt_tf_model_fn)rt_model_op_lookup(sess, model, type, &ret);
	if (!fn)
		return ret;
	vaccel_prof_region_start(&rt_op_prof[type]);
	ret = fn(sess, model, status);
	vaccel_prof_region_stop(&rt_op_prof[type]);
	return ret;
}

int vaccel_tf_model_load(struct vaccel_session *sess,
			 struct vaccel_resource *model,
			 struct vaccel_tf_status *status)
{
	return _load_unload(VACCEL_OP_TF_MODEL_LOAD, sess, model, status);
}

int vaccel_tf_model_unload(struct vaccel_session *sess,
			   struct vaccel_resource *model,
			   struct vaccel_tf_status *status)
{
	return _load_unload(VACCEL_OP_TF_MODEL_UNLOAD, sess, model, status);
}

int vaccel_tf_model_run(struct vaccel_session *sess,
			struct vaccel_resource *model,
			const struct vaccel_tf_buffer *run_options,
			const struct vaccel_tf_node *in_nodes,
			struct vaccel_tf_tensor *const *in_tensors,
			int nr_inputs, const struct vaccel_tf_node *out_nodes,
			struct vaccel_tf_tensor **out_tensors, int nr_outputs,
			struct vaccel_tf_status *status)
{
	int ret;
	rt_tf_run_fn fn = (rt_tf_run_fn)rt_model_op_lookup(
		sess, model, VACCEL_OP_TF_MODEL_RUN, &ret);
	if (!fn)
		return ret;
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_TF_MODEL_RUN]);
	ret = fn(sess, model, run_options, in_nodes, in_tensors, nr_inputs,
		 out_nodes, out_tensors, nr_outputs, status);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_TF_MODEL_RUN]);
	return ret;
}
