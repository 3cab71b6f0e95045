// SPDX-License-Identifier: Apache-2.0
// TensorFlow Lite ops and their tensor helpers. No backend here implements
// them (Debian packages no TFLite): a plugin without them answers
// VACCEL_ENOTSUP, logged with the op's name.
#include "tensor_impl.h"
#include <string.h>

RT_DEFINE_TENSOR_HELPERS(vaccel_tflite, int32_t, enum vaccel_tflite_data_type)

typedef int (*rt_tflite_model_fn)(struct vaccel_session *sess,
				  struct vaccel_resource *model);
typedef int (*rt_tflite_run_fn)(struct vaccel_session *sess,
				struct vaccel_resource *model,
				struct vaccel_tflite_tensor *const *inputs,
				int nr_inputs,
				struct vaccel_tflite_tensor **outputs,
				int nr_outputs, uint8_t *status);

static int _load_unload(vaccel_op_type_t type, struct vaccel_session *sess,
			struct vaccel_resource *model)
{
	int ret;
	rt_tflite_model_fn fn =
		(rt_tflite_model_fn)rt_model_op_lookup(sess, model, type, &ret);
	if (!fn)
		return ret;
	vaccel_prof_region_start(&rt_op_prof[type]);
	ret = fn(sess, model);
	vaccel_prof_region_stop(&rt_op_prof[type]);
	return ret;
}

int vaccel_tflite_model_load(struct vaccel_session *sess,
			     struct vaccel_resource *model)
{
	return _load_unload(VACCEL_OP_TFLITE_MODEL_LOAD, sess, model);
}

int vaccel_tflite_model_unload(struct vaccel_session *sess,
			       struct vaccel_resource *model)
{
	return _load_unload(VACCEL_OP_TFLITE_MODEL_UNLOAD, sess, model);
}

int vaccel_tflite_model_run(struct vaccel_session *sess,
			    struct vaccel_resource *model,
			    struct vaccel_tflite_tensor *const *inputs,
			    int nr_inputs,
			    struct vaccel_tflite_tensor **outputs,
			    int nr_outputs, uint8_t *status)
{
	int ret;
	rt_tflite_run_fn fn = (rt_tflite_run_fn)rt_model_op_lookup(
		sess, model, VACCEL_OP_TFLITE_MODEL_RUN, &ret);
	if (!fn)
		return ret;
	vaccel_prof_region_start(&rt_op_prof[VACCEL_OP_TFLITE_MODEL_RUN]);
	ret = fn(sess, model, inputs, nr_inputs, outputs, nr_outputs, status);
	vaccel_prof_region_stop(&rt_op_prof[VACCEL_OP_TFLITE_MODEL_RUN]);
	return ret;
}
