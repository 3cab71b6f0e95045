// SPDX-License-Identifier: Apache-2.0
// The tensor helpers of tf.h and tflite.h, which differ only in the type of
// dims: RT_DEFINE_TENSOR_HELPERS(vaccel_tf, int64_t, enum vaccel_tf_data_type)
// defines vaccel_tf_tensor_{init,release,new,allocate,delete,set_data,
// take_data}. Ownership (upstream's): dims is always the tensor's own copy;
// data is freed with the tensor only when owned (allocate, a plugin's
// output); set_data and take_data leave it unowned.
#pragma once

#include "../rt.h"
#include <stdlib.h>

#define RT_DEFINE_TENSOR_HELPERS(P, DIM_T, TYPE_T)                            \
	int P##_tensor_init(struct P##_tensor *tensor, int nr_dims,           \
			    const DIM_T *dims, TYPE_T type)                   \
	{                                                                     \
		if (!tensor || nr_dims < 1)                                   \
			return VACCEL_EINVAL;                                 \
		tensor->dims = calloc((size_t)nr_dims, sizeof(DIM_T));        \
		if (!tensor->dims)                                            \
			return VACCEL_ENOMEM;                                 \
		if (dims)                                                     \
			memcpy(tensor->dims, dims,                            \
			       (size_t)nr_dims * sizeof(DIM_T));              \
		tensor->nr_dims = nr_dims;                                    \
		tensor->data = NULL;                                          \
		tensor->size = 0;                                             \
		tensor->owned = false;                                        \
		tensor->data_type = type;                                     \
		return VACCEL_OK;                                             \
	}                                                                     \
	int P##_tensor_release(struct P##_tensor *tensor)                     \
	{                                                                     \
		if (!tensor)                                                  \
			return VACCEL_EINVAL;                                 \
		free(tensor->dims);                                           \
		if (tensor->owned)                                            \
			free(tensor->data);                                   \
		tensor->dims = NULL;                                          \
		tensor->nr_dims = 0;                                          \
		tensor->data = NULL;                                          \
		tensor->size = 0;                                             \
		tensor->owned = false;                                        \
		return VACCEL_OK;                                             \
	}                                                                     \
	int P##_tensor_new(struct P##_tensor **tensor, int nr_dims,           \
			   const DIM_T *dims, TYPE_T type)                    \
	{                                                                     \
		if (!tensor)                                                  \
			return VACCEL_EINVAL;                                 \
		struct P##_tensor *t = calloc(1, sizeof(*t));                 \
		if (!t)                                                       \
			return VACCEL_ENOMEM;                                 \
		int ret = P##_tensor_init(t, nr_dims, dims, type);            \
		if (ret) {                                                    \
			free(t);                                              \
			return ret;                                           \
		}                                                             \
		*tensor = t;                                                  \
		return VACCEL_OK;                                             \
	}                                                                     \
	int P##_tensor_delete(struct P##_tensor *tensor)                      \
	{                                                                     \
		int ret = P##_tensor_release(tensor);                         \
		if (ret)                                                      \
			return ret;                                           \
		free(tensor);                                                 \
		return VACCEL_OK;                                             \
	}                                                                     \
	int P##_tensor_allocate(struct P##_tensor **tensor, int nr_dims,      \
				const DIM_T *dims, TYPE_T type,               \
				size_t total_size)                            \
	{                                                                     \
		int ret = P##_tensor_new(tensor, nr_dims, dims, type);        \
		if (ret || !total_size)                                       \
			return ret;                                           \
		(*tensor)->data = calloc(1, total_size);                      \
		if (!(*tensor)->data) {                                       \
			P##_tensor_delete(*tensor);                           \
			*tensor = NULL;                                       \
			return VACCEL_ENOMEM;                                 \
		}                                                             \
		(*tensor)->size = total_size;                                 \
		(*tensor)->owned = true;                                      \
		return VACCEL_OK;                                             \
	}                                                                     \
	int P##_tensor_set_data(struct P##_tensor *tensor, void *data,        \
				size_t size)                                  \
	{                                                                     \
		if (!tensor)                                                  \
			return VACCEL_EINVAL;                                 \
		if (tensor->data && tensor->owned)                            \
			vaccel_warn("tensor data %p is owned and will not "   \
				    "be freed by release",                    \
				    tensor->data);                            \
		tensor->data = data;                                          \
		tensor->size = size;                                          \
		tensor->owned = false;                                        \
		return VACCEL_OK;                                             \
	}                                                                     \
	int P##_tensor_take_data(struct P##_tensor *tensor, void **data,      \
				 size_t *size)                                \
	{                                                                     \
		if (!tensor || !data || !size)                                \
			return VACCEL_EINVAL;                                 \
		*data = tensor->data;                                         \
		*size = tensor->size;                                         \
		tensor->data = NULL;                                          \
		tensor->size = 0;                                             \
		tensor->owned = false;                                        \
		return VACCEL_OK;                                             \
	}
